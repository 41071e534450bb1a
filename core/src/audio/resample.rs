//! Band-limited sample-rate conversion with `rubato`'s synchronous FFT resampler.
//!
//! rubato is the maintained pure-Rust resampler (used by cpal's ecosystem and by
//! gst-plugins-rs' audio elements); its `Fft` resampler is fast and of full quality for a fixed
//! ratio. [`StreamResampler`] processes input in fixed-size chunks only, so its output does not
//! depend on how the input was split: feeding a file in one call or one sample at a time gives
//! identical samples, which the streaming API relies on.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::AudioError;

/// The sample rate the acoustic model works at.
pub const MODEL_SAMPLE_RATE: u32 = 16_000;

/// A chunked, mono resampler whose output is independent of how input is split.
pub struct StreamResampler {
    from: u32,
    to: u32,
    inner: Option<Box<Fft<f32>>>,
    chunk_in: usize,
    pending: Vec<f32>,
    chunk_out: Vec<f32>,
    delay_left: usize,
    consumed: u64,
    produced: u64,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("chunk_in", &self.chunk_in)
            .finish_non_exhaustive()
    }
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz (a pass-through when they are equal).
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        let err = |detail: String| AudioError::Resample { from, to, detail };
        if from == 0 || to == 0 {
            return Err(err("sample rates must be positive".into()));
        }
        let inner = if from == to {
            None
        } else {
            let fft = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
                .map_err(|e| err(e.to_string()))?;
            Some(Box::new(fft))
        };
        let (chunk_in, chunk_out, delay) = match &inner {
            Some(r) => (
                r.input_frames_next(),
                r.output_frames_next(),
                r.output_delay(),
            ),
            None => (0, 0, 0),
        };
        Ok(Self {
            from,
            to,
            inner,
            chunk_in,
            pending: Vec::with_capacity(chunk_in),
            chunk_out: vec![0.0; chunk_out],
            delay_left: delay,
            consumed: 0,
            produced: 0,
        })
    }

    /// Input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.from
    }

    /// Output rate in Hz.
    pub fn output_rate(&self) -> u32 {
        self.to
    }

    /// Resamples `input` and appends every output sample that is ready to `out`.
    pub fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.consumed += input.len() as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return Ok(());
        }
        while !input.is_empty() {
            let take = (self.chunk_in - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == self.chunk_in {
                self.process_pending(out, u64::MAX)?;
            }
        }
        Ok(())
    }

    /// Flushes the resampler's delay line: after this, `out` has received exactly
    /// `ceil(input_len × to / from)` samples in total. The resampler is then ready for a new
    /// stream.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let expected = (self.consumed * u64::from(self.to)).div_ceil(u64::from(self.from));
        while self.inner.is_some() && self.produced < expected {
            self.pending.resize(self.chunk_in, 0.0);
            self.process_pending(out, expected)?;
        }
        self.reset();
        Ok(())
    }

    /// Drops all buffered audio and starts a new stream.
    pub fn reset(&mut self) {
        if let Some(r) = self.inner.as_mut() {
            r.reset();
            self.delay_left = r.output_delay();
        }
        self.pending.clear();
        self.consumed = 0;
        self.produced = 0;
    }

    fn process_pending(&mut self, out: &mut Vec<f32>, limit: u64) -> Result<(), AudioError> {
        let (from, to) = (self.from, self.to);
        let r = self.inner.as_mut().expect("only called with a resampler");
        let input = InterleavedSlice::new(&self.pending[..], 1, self.chunk_in).map_err(|e| {
            AudioError::Resample {
                from,
                to,
                detail: e.to_string(),
            }
        })?;
        let frames_out = self.chunk_out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.chunk_out[..], 1, frames_out)
            .map_err(|e| AudioError::Resample {
                from,
                to,
                detail: e.to_string(),
            })?;
        let (_, written) = r
            .process_into_buffer(&input, &mut output, None)
            .map_err(|e| AudioError::Resample {
                from,
                to,
                detail: e.to_string(),
            })?;
        self.pending.clear();
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        let ready = &self.chunk_out[skip..written];
        let room = (limit - self.produced).min(ready.len() as u64) as usize;
        out.extend_from_slice(&ready[..room]);
        self.produced += room as u64;
        Ok(())
    }
}

/// Resamples a whole mono signal from `from` Hz to `to` Hz.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    let mut r = StreamResampler::new(from, to)?;
    let mut out = Vec::with_capacity(
        (samples.len() as u64 * u64::from(to) / u64::from(from.max(1))) as usize + 1,
    );
    r.push(samples, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn output_length_is_the_exact_ratio() {
        for (from, n) in [
            (8000u32, 8000usize),
            (44_100, 44_101),
            (22_050, 1),
            (48_000, 47_999),
        ] {
            let out = resample(&vec![0.1; n], from, 16_000).unwrap();
            let expected = (n as u64 * 16_000).div_ceil(u64::from(from)) as usize;
            assert_eq!(out.len(), expected, "{from} Hz, {n} samples");
        }
    }

    /// Least-squares fit of `a sin + b cos` at `freq` over `samples[skip..len-skip]`:
    /// returns (amplitude, delay in samples, rms residual).
    fn fit_tone(samples: &[f32], freq: f64, rate: f64, skip: usize) -> (f64, f64, f64) {
        let w = 2.0 * std::f64::consts::PI * freq / rate;
        let range = skip..samples.len() - skip;
        let n = range.len() as f64;
        let (mut ss, mut sc) = (0.0, 0.0);
        for i in range.clone() {
            ss += f64::from(samples[i]) * (w * i as f64).sin();
            sc += f64::from(samples[i]) * (w * i as f64).cos();
        }
        let (a, b) = (2.0 * ss / n, 2.0 * sc / n);
        let residual = range
            .map(|i| f64::from(samples[i]) - a * (w * i as f64).sin() - b * (w * i as f64).cos())
            .map(|r| r * r)
            .sum::<f64>();
        (
            (a * a + b * b).sqrt(),
            -b.atan2(a) / w,
            (residual / n).sqrt(),
        )
    }

    #[test]
    fn a_tone_keeps_its_frequency_level_and_timing() {
        for from in [8000u32, 22_050, 44_100, 48_000] {
            let out = resample(&sine(440.0, from, 1.0), from, 16_000).unwrap();
            let (amplitude, delay, residual) = fit_tone(&out, 440.0, 16_000.0, 800);
            assert!(
                (amplitude - 0.5).abs() < 1e-3,
                "{from} Hz: amplitude {amplitude}"
            );
            assert!(residual < 1e-3, "{from} Hz: residual {residual}");
            // Aligned to within one input sample (rubato's FFT resampler lands half an input
            // sample early at odd chunk sizes).
            let one_input_sample = 16_000.0 / f64::from(from);
            assert!(
                delay.abs() < one_input_sample,
                "{from} Hz: delay {delay} samples"
            );
        }
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        // 10 kHz cannot exist at 16 kHz: it must be filtered, not aliased to 6 kHz.
        let out = resample(&sine(10_000.0, 44_100, 1.0), 44_100, 16_000).unwrap();
        let rms = (out[1000..15_000].iter().map(|v| v * v).sum::<f32>() / 14_000.0).sqrt();
        assert!(rms < 1e-3, "aliased energy, rms {rms}");
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = sine(300.0, 8000, 0.7);
        let whole = resample(&input, 8000, 16_000).unwrap();
        let mut r = StreamResampler::new(8000, 16_000).unwrap();
        let mut out = Vec::new();
        let mut rest = &input[..];
        let mut size = 1;
        while !rest.is_empty() {
            let n = size.min(rest.len());
            r.push(&rest[..n], &mut out).unwrap();
            rest = &rest[n..];
            size = size * 7 % 1013 + 1;
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out, whole);
        // The resampler is reusable after finish().
        let mut again = Vec::new();
        r.push(&input, &mut again).unwrap();
        r.finish(&mut again).unwrap();
        assert_eq!(again, whole);
    }

    #[test]
    fn same_rate_is_a_pass_through_and_zero_rate_an_error() {
        let input = sine(100.0, 16_000, 0.1);
        assert_eq!(resample(&input, 16_000, 16_000).unwrap(), input);
        let e = StreamResampler::new(0, 16_000).unwrap_err().to_string();
        assert!(e.contains("sample rates must be positive"), "{e}");
    }
}
