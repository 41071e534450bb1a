//! MFCC features exactly as DeepSpeech 0.9 computes them with TensorFlow's `AudioSpectrogram`
//! and `Mfcc` ops, and DeepSpeech's overlapping context windows.
//!
//! Everything is a plain function or a small reusable struct over `&[f32]`; arithmetic is in
//! `f64` as in TensorFlow's kernels, and the result is `f32`.

pub mod context;
pub mod dct;
pub mod mel;
pub mod spectrogram;

use serde::{Deserialize, Serialize};

pub use context::{context_windows, window_width};
pub use dct::Dct;
pub use mel::MelFilterbank;
pub use spectrogram::{PowerSpectrum, frame_count};

/// Filterbank energies below this are clamped before the logarithm (TensorFlow's
/// `kFilterbankFloor` in `mfcc.cc`), so silence gives `ln(1e-12)`, not `-inf`.
pub const LOG_FLOOR: f64 = 1e-12;

/// The feature geometry. [`FeatureConfig::default`] is DeepSpeech 0.9's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Sample rate the features are computed at (Hz).
    pub sample_rate: u32,
    /// Analysis window in samples (32 ms).
    pub window: usize,
    /// Hop between windows in samples (20 ms).
    pub step: usize,
    /// Mel filterbank channels.
    pub mel_channels: usize,
    /// Cepstral coefficients kept per frame.
    pub coefficients: usize,
    /// Lowest filterbank frequency (Hz).
    pub lower_hz: f64,
    /// Highest filterbank frequency (Hz).
    pub upper_hz: f64,
    /// Frames of context on each side of a time step.
    pub n_context: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            window: 512,
            step: 320,
            mel_channels: 40,
            coefficients: 26,
            lower_hz: 20.0,
            upper_hz: 8000.0,
            n_context: 9,
        }
    }
}

impl FeatureConfig {
    /// Inputs per time step once context windows are built (494 for DeepSpeech).
    pub fn input_width(&self) -> usize {
        window_width(self.coefficients, self.n_context)
    }

    /// Checks that a model's feature geometry is one this engine can compute: 16 kHz (audio is
    /// always resampled to it), a window of 2 to 65,536 samples, a hop of at least one sample
    /// and at most the window, no more coefficients than mel channels, a band inside Nyquist and
    /// at most 1,000 frames of context. Says what was found otherwise.
    pub fn validate(&self) -> Result<(), String> {
        if self.sample_rate != crate::audio::MODEL_SAMPLE_RATE {
            return Err(format!(
                "the model's features are at {} Hz; this engine runs models at {} Hz only",
                self.sample_rate,
                crate::audio::MODEL_SAMPLE_RATE
            ));
        }
        if !(2..=65_536).contains(&self.window) || self.step == 0 || self.step > self.window {
            return Err(format!(
                "a window of {} samples with a hop of {}: expected 2 to 65536 samples and a hop \
                 from 1 to the window",
                self.window, self.step
            ));
        }
        if self.mel_channels > 1024 {
            return Err(format!("{} mel channels (at most 1024)", self.mel_channels));
        }
        if self.coefficients == 0 || self.coefficients > self.mel_channels {
            return Err(format!(
                "{} MFCC coefficients from {} mel channels",
                self.coefficients, self.mel_channels
            ));
        }
        let nyquist = f64::from(self.sample_rate) / 2.0;
        if !(self.lower_hz >= 0.0 && self.lower_hz < self.upper_hz && self.upper_hz <= nyquist) {
            return Err(format!(
                "a mel band of {} to {} Hz at {} Hz",
                self.lower_hz, self.upper_hz, self.sample_rate
            ));
        }
        if self.n_context > 1000 {
            return Err(format!(
                "{} frames of context (at most 1000)",
                self.n_context
            ));
        }
        Ok(())
    }

    /// Seconds between two feature frames.
    pub fn frame_secs(&self) -> f64 {
        self.step as f64 / f64::from(self.sample_rate)
    }
}

/// A row-major `[frames, width]` matrix of features.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Number of rows (time steps).
    pub frames: usize,
    /// Number of columns.
    pub width: usize,
    /// `frames × width` values, row by row.
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// One row.
    pub fn row(&self, t: usize) -> &[f32] {
        &self.data[t * self.width..(t + 1) * self.width]
    }

    /// The context windows of this MFCC matrix (`n_context` frames each side).
    pub fn with_context(&self, n_context: usize) -> FeatureMatrix {
        FeatureMatrix {
            frames: self.frames,
            width: window_width(self.width, n_context),
            data: context_windows(&self.data, self.width, n_context),
        }
    }
}

/// Computes MFCC frames; holds the FFT plan and scratch buffers so that no frame allocates.
#[derive(Debug)]
pub struct MfccExtractor {
    config: FeatureConfig,
    spectrum: PowerSpectrum,
    filterbank: MelFilterbank,
    dct: Dct,
    power: Vec<f64>,
    energies: Vec<f64>,
}

impl MfccExtractor {
    /// An extractor for `config`.
    pub fn new(config: FeatureConfig) -> Self {
        let spectrum = PowerSpectrum::new(config.window);
        let bins = spectrum.bins();
        let filterbank = MelFilterbank::new(
            bins,
            f64::from(config.sample_rate),
            config.mel_channels,
            config.lower_hz,
            config.upper_hz,
        );
        Self {
            dct: Dct::new(config.mel_channels, config.coefficients),
            power: vec![0.0; bins],
            energies: vec![0.0; config.mel_channels],
            spectrum,
            filterbank,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Computes the coefficients of one analysis window (`config.window` samples) into `out`
    /// (`config.coefficients` values).
    pub fn frame(&mut self, window: &[f32], out: &mut [f32]) {
        self.log_mel_frame(window);
        self.dct.apply(&self.energies, out);
    }

    /// The natural-log mel filterbank energies of one analysis window (before the DCT).
    pub fn log_mel_frame(&mut self, window: &[f32]) -> &[f64] {
        self.spectrum.compute(window, &mut self.power);
        self.filterbank.apply(&self.power, &mut self.energies);
        for e in &mut self.energies {
            *e = e.max(LOG_FLOOR).ln();
        }
        &self.energies
    }

    /// The MFCC matrix `[frames, coefficients]` of 16 kHz mono samples in [-1, 1].
    pub fn compute(&mut self, samples: &[f32]) -> FeatureMatrix {
        let (window, step, width) = (
            self.config.window,
            self.config.step,
            self.config.coefficients,
        );
        let frames = frame_count(samples.len(), window, step);
        let mut data = vec![0.0f32; frames * width];
        for (t, out) in data.chunks_exact_mut(width).enumerate() {
            self.frame(&samples[t * step..t * step + window], out);
        }
        FeatureMatrix {
            frames,
            width,
            data,
        }
    }

    /// The MFCC matrix of a whole utterance as DeepSpeech's runtime (libdeepspeech) frames it:
    /// [`compute`](Self::compute)'s frames, then one more of the samples after the last whole
    /// window (fewer than a window, possibly none), zero-padded. [`crate::engine::Stream`]
    /// frames audio this way.
    pub fn compute_utterance(&mut self, samples: &[f32]) -> FeatureMatrix {
        let mut m = self.compute(samples);
        let rest = &samples[(m.frames * self.config.step).min(samples.len())..];
        let mut frame = vec![0f32; m.width];
        self.padded_frame(rest, &mut frame);
        m.data.extend_from_slice(&frame);
        m.frames += 1;
        m
    }

    /// [`frame`](Self::frame) of the first `window` samples of `samples`, zero-padded when
    /// there are fewer (DeepSpeech's runtime's last frame of an utterance).
    pub fn padded_frame(&mut self, samples: &[f32], out: &mut [f32]) {
        let mut padded = vec![0f32; self.config.window];
        let n = samples.len().min(padded.len());
        padded[..n].copy_from_slice(&samples[..n]);
        self.frame(&padded, out);
    }
}

/// DeepSpeech's MFCC matrix `[frames, 26]` of 16 kHz mono samples in [-1, 1].
pub fn mfcc(samples: &[f32]) -> FeatureMatrix {
    MfccExtractor::new(FeatureConfig::default()).compute(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_the_log_floor_in_the_zeroth_coefficient_only() {
        let m = mfcc(&[0.0; 16_000]);
        assert_eq!(m.frames, 49);
        assert_eq!(m.width, 26);
        // DCT of a constant ln(1e-12) over 40 channels: sqrt(2/40) × 40 × ln(1e-12).
        let c0 = (2.0f64 / 40.0).sqrt() * 40.0 * LOG_FLOOR.ln();
        for t in 0..m.frames {
            assert!((f64::from(m.row(t)[0]) - c0).abs() < 1e-3);
            assert!(m.row(t)[1..].iter().all(|v| v.abs() < 1e-3));
        }
    }

    #[test]
    fn louder_audio_raises_only_the_zeroth_coefficient() {
        let tone: Vec<f32> = (0..8000)
            .map(|i| (i as f32 * 0.3).sin() * 0.1 + (i as f32 * 0.05).sin() * 0.05)
            .collect();
        let loud: Vec<f32> = tone.iter().map(|v| v * 4.0).collect();
        let (a, b) = (mfcc(&tone), mfcc(&loud));
        // Scaling by 4 scales magnitudes by 4: ln(4) × sqrt(2/40) × 40 on c0, nothing else.
        let shift = 4f32.ln() * (2.0f32 / 40.0).sqrt() * 40.0;
        for t in 0..a.frames {
            assert!((b.row(t)[0] - a.row(t)[0] - shift).abs() < 1e-3);
            for c in 1..26 {
                assert!((b.row(t)[c] - a.row(t)[c]).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn deepspeech_input_width() {
        let config = FeatureConfig::default();
        assert_eq!(config.input_width(), 494);
        assert!((config.frame_secs() - 0.02).abs() < 1e-12);
        let m = mfcc(&[0.01; 4000]).with_context(config.n_context);
        assert_eq!(m.width, 494);
    }
}
