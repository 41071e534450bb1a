//! KenLM's bit-level primitives (`util/bit_packing.hh`, `util/murmur_hash.cc`): little-endian
//! fields of up to 57 bits at arbitrary bit offsets, the 31-bit non-positive floats of
//! unquantised tries, and the MurmurHash64A that turns words into vocabulary keys.

/// The 8 bytes at `byte` (zero past the end of `bytes`: a field never reads them in a valid
/// file, whose arrays carry 8 bytes of padding, and a damaged one must not crash us).
#[inline]
fn word_at(bytes: &[u8], byte: usize) -> u64 {
    match bytes.get(byte..byte.saturating_add(8)) {
        Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
        None => {
            let mut padded = [0u8; 8];
            if let Some(tail) = bytes.get(byte..) {
                padded[..tail.len()].copy_from_slice(tail);
            }
            u64::from_le_bytes(padded)
        }
    }
}

/// KenLM's `ReadInt57`: the `mask`-wide field at bit `bit` of `bytes`.
#[inline]
pub fn read_int(bytes: &[u8], bit: u64, mask: u64) -> u64 {
    let byte = usize::try_from(bit >> 3).unwrap_or(usize::MAX);
    (word_at(bytes, byte) >> (bit & 7)) & mask
}

/// KenLM's `ReadNonPositiveFloat31`: 31 bits of an `f32` whose sign bit is set on reading.
#[inline]
pub fn read_non_positive_float31(bytes: &[u8], bit: u64) -> f32 {
    f32::from_bits(read_int(bytes, bit, 0x7fff_ffff) as u32 | 0x8000_0000)
}

/// KenLM's `ReadFloat32`: a whole `f32` at bit `bit`.
#[inline]
pub fn read_float32(bytes: &[u8], bit: u64) -> f32 {
    f32::from_bits(read_int(bytes, bit, 0xffff_ffff) as u32)
}

/// KenLM's `RequiredBits`: bits needed to hold every value up to `max` (0 for 0).
pub fn required_bits(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// `(1 << bits) - 1`.
pub fn mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// KenLM's `MurmurHash64A` with seed 0 (little-endian), the key of a vocabulary word.
pub fn murmur_hash64a(key: &[u8]) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// KenLM's `HasExtension`: a back-off that is not exactly `-0.0` (KenLM's mark for an n-gram
/// that no longer n-gram extends).
#[inline]
pub fn has_extension(backoff: f32) -> bool {
    backoff.to_bits() != (-0.0f32).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_straddle_bytes() {
        // 0b1011_0110 0b0000_0001: 5 bits from bit 3 are 0b10110; 6 bits from bit 5 are 0b001101.
        let bytes = [0b1011_0110u8, 0b0000_0001];
        assert_eq!(read_int(&bytes, 3, mask(5)), 0b10110);
        assert_eq!(read_int(&bytes, 5, mask(6)), 0b001101);
        assert_eq!(read_int(&bytes, 64, mask(8)), 0, "past the end reads zeros");
    }

    #[test]
    fn required_bits_as_kenlm() {
        assert_eq!(required_bits(0), 0);
        assert_eq!(required_bits(1), 1);
        assert_eq!(required_bits(255), 8);
        assert_eq!(required_bits(256), 9);
    }

    #[test]
    fn murmur_of_the_empty_key_is_zero_and_keys_differ() {
        // h starts at len × m = 0 and every later step maps 0 to 0. Real words are checked in
        // core/tests/kenlm_reference.rs, where each one must be found in KenLM's own files.
        assert_eq!(murmur_hash64a(b""), 0);
        assert_ne!(murmur_hash64a(b"<s>"), murmur_hash64a(b"</s>"));
        assert_ne!(murmur_hash64a(b"abcdefgh"), murmur_hash64a(b"abcdefgi"));
    }

    #[test]
    fn extension_is_the_sign_of_zero() {
        assert!(!has_extension(-0.0));
        assert!(has_extension(0.0));
        assert!(has_extension(-0.5));
    }
}
