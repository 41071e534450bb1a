//! Number formats shared by the readers.

/// IEEE-754 half precision to single.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        // Subnormal: mantissa · 2^-24, exact in f32.
        (0, m) => {
            let v = m as f32 * f32::powi(2.0, -24);
            return if sign == 0 { v } else { -v };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Little-endian float32 values (a trailing partial value is ignored; callers check lengths),
/// in a huge-page-backed buffer: weight matrices are the bulk of a model's load.
pub fn le_f32s(bytes: &[u8]) -> Vec<f32> {
    crate::model::weight_buffer::f32_from_le_bytes(&bytes[..bytes.len() / 4 * 4]).0
}

/// Little-endian float16 values as `f32` (a trailing odd byte is ignored; callers check lengths).
pub fn le_f16s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
        .collect()
}
