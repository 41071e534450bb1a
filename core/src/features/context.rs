//! DeepSpeech's overlapping context windows: each time step sees its own MFCC frame and
//! `n_context` frames on each side, zero-padded at the edges, flattened frame-major
//! (`window[t][k × n_coeffs + c] = mfcc[t + k − n_context][c]`), as DeepSpeech 0.9's
//! `create_overlapping_windows` builds them with an identity convolution.

/// Width of one context window for `n_coeffs` coefficients and `n_context` frames each side.
pub fn window_width(n_coeffs: usize, n_context: usize) -> usize {
    (2 * n_context + 1) * n_coeffs
}

/// Builds the context windows of a row-major `[n_frames, n_coeffs]` MFCC matrix.
pub fn context_windows(mfcc: &[f32], n_coeffs: usize, n_context: usize) -> Vec<f32> {
    let n_frames = mfcc.len() / n_coeffs;
    let width = window_width(n_coeffs, n_context);
    let mut out = vec![0.0f32; n_frames * width];
    for (t, window) in out.chunks_exact_mut(width).enumerate() {
        for (k, slot) in window.chunks_exact_mut(n_coeffs).enumerate() {
            let source = t as isize + k as isize - n_context as isize;
            if (0..n_frames as isize).contains(&source) {
                let s = source as usize * n_coeffs;
                slot.copy_from_slice(&mfcc[s..s + n_coeffs]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_frame_major_and_zero_padded() {
        // 3 frames of 2 coefficients, 1 frame of context.
        let mfcc = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let w = context_windows(&mfcc, 2, 1);
        assert_eq!(window_width(2, 1), 6);
        assert_eq!(
            w,
            vec![
                0.0, 0.0, 1.0, 2.0, 3.0, 4.0, //
                1.0, 2.0, 3.0, 4.0, 5.0, 6.0, //
                3.0, 4.0, 5.0, 6.0, 0.0, 0.0,
            ]
        );
    }

    #[test]
    fn deepspeech_width_is_494() {
        assert_eq!(window_width(26, 9), 494);
        assert!(context_windows(&[], 26, 9).is_empty());
    }
}
