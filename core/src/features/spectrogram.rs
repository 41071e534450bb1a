//! Power spectrogram exactly as TensorFlow's `AudioSpectrogram` op computes it
//! (`tensorflow/core/kernels/spectrogram.cc`): a periodic Hann window of `window` samples,
//! zero-padded to the next power of two, a real FFT in double precision, and
//! `re² + im²` per bin (`magnitude_squared=True`), rounded to `f32` as the op's output is. Only whole windows
//! produce frames.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Number of frames TensorFlow's spectrogram yields for `n_samples` samples: one per whole
/// window, windows `step` apart.
pub fn frame_count(n_samples: usize, window: usize, step: usize) -> usize {
    if n_samples < window {
        0
    } else {
        (n_samples - window) / step + 1
    }
}

/// TensorFlow's periodic Hann window: `0.5 - 0.5 cos(2π i / n)`.
pub fn periodic_hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

/// A reusable power-spectrum computer for one window size (no allocation per frame).
pub struct PowerSpectrum {
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    input: Vec<f64>,
    output: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for PowerSpectrum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerSpectrum")
            .field("window", &self.window.len())
            .field("fft_length", &self.input.len())
            .finish()
    }
}

impl PowerSpectrum {
    /// A spectrum computer for windows of `window` samples.
    pub fn new(window: usize) -> Self {
        let fft_length = window.next_power_of_two();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(fft_length);
        let output = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            window: periodic_hann(window),
            input: vec![0.0; fft_length],
            fft,
            output,
            scratch,
        }
    }

    /// Number of frequency bins produced per frame (`fft_length / 2 + 1`).
    pub fn bins(&self) -> usize {
        self.output.len()
    }

    /// Writes the magnitude-squared spectrum of one window of samples into `power`.
    ///
    /// `frame` must hold exactly the window's length; `power` must hold [`bins`](Self::bins).
    pub fn compute(&mut self, frame: &[f32], power: &mut [f64]) {
        debug_assert_eq!(frame.len(), self.window.len());
        debug_assert_eq!(power.len(), self.output.len());
        for ((dst, &s), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *dst = f64::from(s) * w;
        }
        self.input[self.window.len()..].fill(0.0);
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("buffer sizes come from the plan");
        // TensorFlow's op outputs f32; its Mfcc op then reads those f32 values.
        for (p, c) in power.iter_mut().zip(&self.output) {
            *p = f64::from((c.re * c.re + c.im * c.im) as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_matches_tensorflow() {
        // 46797 samples (LDC93S1) → 145 frames, as tf.raw_ops.AudioSpectrogram gives.
        assert_eq!(frame_count(46_797, 512, 320), 145);
        assert_eq!(frame_count(511, 512, 320), 0);
        assert_eq!(frame_count(512, 512, 320), 1);
        assert_eq!(frame_count(832, 512, 320), 2);
    }

    #[test]
    fn a_bin_centred_sine_puts_its_energy_in_its_bin() {
        let mut spec = PowerSpectrum::new(512);
        let frame: Vec<f32> = (0..512)
            .map(|i| (2.0 * std::f64::consts::PI * 32.0 * i as f64 / 512.0).cos() as f32)
            .collect();
        let mut power = vec![0.0; spec.bins()];
        spec.compute(&frame, &mut power);
        let peak = (0..power.len())
            .max_by(|&a, &b| power[a].total_cmp(&power[b]))
            .unwrap();
        assert_eq!(peak, 32);
        // Hann window: the sine's amplitude sum is N/2 × 0.5 in the centre bin.
        assert!(
            (power[32].sqrt() - 128.0).abs() < 1e-3,
            "{}",
            power[32].sqrt()
        );
        assert!((power[31].sqrt() - 64.0).abs() < 1e-3);
        assert!(power[40] < 1e-12);
    }
}
