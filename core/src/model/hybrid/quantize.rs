//! TensorFlow Lite's on-the-fly input quantisation for its "hybrid" FULLY_CONNECTED kernel
//! (float input, int8 weights): each input row gets its own symmetric int8 scale.
//!
//! As libdeepspeech-tflite 0.9.3 computes it on x86-64 (TensorFlow Lite r2.3's
//! `NeonSymmetricQuantizeFloats` through NEON_2_SSE; `docs/deepspeech-tflite-runtime.md` §2):
//! `m = max |x|`, `scale = m / 127`, `inv = 127 / m` (float divisions), `q = clamp(round(x · inv),
//! −127, 127)`, where the rounding of the first `n & !7` values is the vector path's
//! `trunc(x · inv ± 0.5)` (the `± 0.5` itself a rounded float add) and the rest `std::round`
//! (half away from zero). An all-zero row gets `q = 0` and scale 1.

/// Quantises `x` into `q` (the same length) and returns the row's scale `max |x| / 127`.
pub fn symmetric_row(x: &[f32], q: &mut [i8]) -> f32 {
    debug_assert_eq!(x.len(), q.len());
    let range = x.iter().fold(0f32, |m, &v| {
        let a = v.abs();
        if a > m { a } else { m }
    });
    if range == 0.0 {
        q.fill(0);
        return 1.0;
    }
    let scale = range / 127.0;
    let inv = 127.0 / range;
    let vector_part = x.len() & !7;
    let clamp = |v: f32| v.clamp(-127.0, 127.0) as i8;
    for (q, &v) in q[..vector_part].iter_mut().zip(&x[..vector_part]) {
        let v = v * inv;
        let half = if v < 0.0 { -0.5 } else { 0.5 };
        *q = clamp((v + half).trunc());
    }
    for (q, &v) in q[vector_part..].iter_mut().zip(&x[vector_part..]) {
        *q = clamp((v * inv).round());
    }
    scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_scaled_to_127_and_rounded_half_away_from_zero() {
        // max |x| = 127 makes inv = 1, so q is x rounded; eight values take the vector path,
        // the last two the scalar tail.
        let x = [127f32, -3.5, 2.5, -2.5, 0.4, 0.6, 1.5, -126.6, 2.5, -2.5];
        let mut q = [0i8; 10];
        assert_eq!(symmetric_row(&x, &mut q), 1.0);
        assert_eq!(q, [127, -4, 3, -3, 0, 1, 2, -127, 3, -3]);
        // max 2: scale 2/127, x · 63.5 rounded (0.25 · 63.5 = 15.875, −0.3 · 63.5 = −19.05).
        let mut q = [0i8; 4];
        assert_eq!(symmetric_row(&[2.0, 0.25, -0.3, -2.0], &mut q), 2.0 / 127.0);
        assert_eq!(q, [127, 16, -19, -127]);
        let mut q = [1i8; 3];
        assert_eq!(symmetric_row(&[0.0, -0.0, 0.0], &mut q), 1.0);
        assert_eq!(q, [0, 0, 0]);
    }

    /// The vector path's `trunc(v + 0.5)` and `std::round` differ only at 0.49999997, where the
    /// float sum rounds up to 1: TFLite's x86 build gives 1 there in the first `n & !7` values.
    #[test]
    fn the_vector_and_scalar_roundings_differ_where_tflites_do() {
        let just_below_half = 0.5f32 - f32::EPSILON / 4.0; // 0.49999997
        // One row with the value at index 0 (vector part) and at index 8 (the scalar tail); the
        // row's maximum 127 makes inv = 1 exactly.
        let mut x = [0f32; 9];
        x[0] = just_below_half;
        x[8] = just_below_half;
        x[1] = 127.0;
        let mut q = [0i8; 9];
        assert_eq!(symmetric_row(&x, &mut q), 1.0);
        assert_eq!((q[0], q[8]), (1, 0));
    }
}
