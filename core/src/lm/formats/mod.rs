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

use std::path::Path;

/// The bytes of a file, memory-mapped, or owned (tests, and files built in memory).
pub enum FileBytes {
    /// A read-only mapping of the whole file.
    Mapped(memmap2::Mmap),
    /// Bytes in memory.
    Owned(Vec<u8>),
}

impl FileBytes {
    /// Maps `path` read-only.
    pub fn map(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        // SAFETY: a read-only mapping of a file we only read. A file truncated by another
        // process while mapped would fault, as with any mmap reader (KenLM's own included).
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        // Lookups land anywhere: no read-ahead around them, so that a search keeps resident only
        // the pages it reads (a hint; without it the kernel maps whole neighbourhoods).
        let _ = map.advise(memmap2::Advice::Random);
        Ok(Self::Mapped(map))
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            Self::Owned(bytes) => bytes,
        }
    }
}

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
