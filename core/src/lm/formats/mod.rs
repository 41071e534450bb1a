//! Readers of the language-model files that other programs write, each turning bytes into our
//! types so that the decoder never knows where a scorer came from:
//!
//! - [`kenlm`]: KenLM's binary models (`build_binary`: probing hash tables, or the bit-packed
//!   trie with or without quantisation and array-compressed pointers);
//! - [`openfst`]: OpenFST's `ConstFst` over standard arcs (DeepSpeech's vocabulary dictionary);
//! - [`deepspeech_scorer`]: DeepSpeech's and Coqui STT's `.scorer` packages, a KenLM binary
//!   followed by DeepSpeech's header and dictionary FST.
//!
//! All of them read memory-mapped bytes in place ([`FileBytes`]): opening costs a few header
//! reads, and only the pages a search touches become resident.

pub mod deepspeech_scorer;
pub mod kenlm;
pub mod openfst;

pub use crate::mapped_file::FileBytes;

/// Little-endian reads that return `None` instead of panicking past the end.
pub(crate) trait LeBytes {
    /// The `N` bytes at `at`.
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]>;
    /// `u32` at `at`.
    fn u32_at(&self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_le_bytes)
    }
    /// `i32` at `at`.
    fn i32_at(&self, at: usize) -> Option<i32> {
        self.array(at).map(i32::from_le_bytes)
    }
    /// `u64` at `at`.
    fn u64_at(&self, at: usize) -> Option<u64> {
        self.array(at).map(u64::from_le_bytes)
    }
    /// `i64` at `at`.
    fn i64_at(&self, at: usize) -> Option<i64> {
        self.array(at).map(i64::from_le_bytes)
    }
    /// `f32` at `at`.
    fn f32_at(&self, at: usize) -> Option<f32> {
        self.u32_at(at).map(f32::from_bits)
    }
    /// `f64` at `at`.
    fn f64_at(&self, at: usize) -> Option<f64> {
        self.u64_at(at).map(f64::from_bits)
    }
}

impl LeBytes for [u8] {
    #[inline]
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.get(at..at.checked_add(N)?)?.try_into().ok()
    }
}
