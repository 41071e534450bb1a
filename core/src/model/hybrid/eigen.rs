//! The logistic and tanh functions TensorFlow Lite's float kernels compute on x86-64: Eigen's
//! rational approximations (`scalar_logistic_op<float>` and `generic_fast_tanh_float`, Eigen
//! 386d809 as pinned by TensorFlow 2.3), in the variant compiled without FMA, which is how
//! libdeepspeech-tflite 0.9.3 was built (`-mavx`, no `-mfma`). Every multiply and add rounds on
//! its own, as it does there: Rust never contracts `a * b + c` into an FMA.
//!
//! Source and constants: `docs/deepspeech-tflite-runtime.md`, section 3. The constants are
//! written as Eigen writes them, more digits than an `f32` holds.
#![allow(clippy::excessive_precision)]

/// Eigen's `generic_fast_tanh_float` without FMA: a degree-13 odd over degree-6 even rational
/// fit on `[-7.90531110763549805, 7.90531110763549805]`, and `x` itself when `|x| < 0.0004`.
#[inline(always)]
pub fn tanh(a: f32) -> f32 {
    const CLAMP: f32 = 7.905_311_107_635_498_05;
    const ALPHA_1: f32 = 4.893_524_558_917_86e-3;
    const ALPHA_3: f32 = 6.372_619_288_754_36e-4;
    const ALPHA_5: f32 = 1.485_722_357_179_79e-5;
    const ALPHA_7: f32 = 5.122_297_090_371_14e-8;
    const ALPHA_9: f32 = -8.604_671_522_137_35e-11;
    const ALPHA_11: f32 = 2.000_187_904_824_77e-13;
    const ALPHA_13: f32 = -2.760_768_477_423_55e-16;
    const BETA_0: f32 = 4.893_525_185_543_85e-3;
    const BETA_2: f32 = 2.268_434_632_439_00e-3;
    const BETA_4: f32 = 1.185_347_056_866_54e-4;
    const BETA_6: f32 = 1.198_258_394_667_02e-6;
    // pmax(pmin(a, +c), −c): NaN comes out as Eigen's SSE min/max give it (the clamp value).
    let x = {
        let m = if a < CLAMP { a } else { CLAMP };
        if m > -CLAMP { m } else { -CLAMP }
    };
    let x2 = x * x;
    let mut p = x2 * ALPHA_13 + ALPHA_11;
    p = x2 * p + ALPHA_9;
    p = x2 * p + ALPHA_7;
    p = x2 * p + ALPHA_5;
    p = x2 * p + ALPHA_3;
    p = x2 * p + ALPHA_1;
    p *= x;
    let mut q = x2 * BETA_6 + BETA_4;
    q = x2 * q + BETA_2;
    q = x2 * q + BETA_0;
    if a.abs() < 0.0004 { a } else { p / q }
}

/// Eigen's `scalar_logistic_op<float>` without FMA: `x` clamped above at 15.6437711715698242
/// (where the fit reaches 1), an odd degree-9 over even degree-10 rational plus ½, and `exp(x)`
/// for `x < −9`, where σ(x) and eˣ agree to float precision.
#[inline(always)]
pub fn logistic(a: f32) -> f32 {
    const CUTOFF_UPPER: f32 = 15.643_771_171_569_824_2;
    const ALPHA_1: f32 = 2.482_879_470_615_29e-1;
    const ALPHA_3: f32 = 8.513_771_333_047_01e-3;
    const ALPHA_5: f32 = 6.085_748_646_001_43e-5;
    const ALPHA_7: f32 = 1.156_273_244_599_42e-7;
    const ALPHA_9: f32 = 4.370_310_125_798_01e-11;
    const BETA_0: f32 = 9.931_519_210_231_80e-1;
    const BETA_2: f32 = 1.168_176_569_044_53e-1;
    const BETA_4: f32 = 1.701_988_173_740_94e-3;
    const BETA_6: f32 = 6.291_067_850_170_40e-6;
    const BETA_8: f32 = 5.761_021_369_934_27e-9;
    const BETA_10: f32 = 6.102_473_897_556_81e-13;
    if a < -9.0 {
        return a.exp();
    }
    let x = if a < CUTOFF_UPPER { a } else { CUTOFF_UPPER };
    let x2 = x * x;
    let mut p = x2 * ALPHA_9 + ALPHA_7;
    p = x2 * p + ALPHA_5;
    p = x2 * p + ALPHA_3;
    p = x2 * p + ALPHA_1;
    p *= x;
    let mut q = x2 * BETA_10 + BETA_8;
    q = x2 * q + BETA_6;
    q = x2 * q + BETA_4;
    q = x2 * q + BETA_2;
    q = x2 * q + BETA_0;
    p / q + 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both fits are within a few float ulps of the exact functions (checked in f64): they are
    /// the functions, not something else, whatever rounding they reproduce.
    #[test]
    fn the_fits_are_close_to_the_exact_functions() {
        let (mut tanh_err, mut logistic_err) = (0f64, 0f64);
        for i in -40_000..=40_000 {
            let x = i as f32 * 5e-4;
            tanh_err = tanh_err.max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            logistic_err = logistic_err.max((f64::from(logistic(x)) - exact).abs());
        }
        assert!(tanh_err < 2e-6, "tanh: {tanh_err}");
        assert!(logistic_err < 2e-6, "logistic: {logistic_err}");
        assert_eq!(tanh(1e-5), 1e-5);
        assert_eq!(tanh(100.0), tanh(7.905_311));
        assert_eq!(logistic(-20.0), (-20f32).exp());
        assert!((logistic(40.0) - 1.0).abs() < 1e-6);
    }
}
