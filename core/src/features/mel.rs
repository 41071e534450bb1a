//! The mel filterbank of TensorFlow's `Mfcc` op (`mfcc_mel_filterbank.cc`), reproduced
//! operation for operation so that features match DeepSpeech's exactly.
//!
//! It differs from textbook (HTK / librosa) filterbanks in three ways that matter: it works
//! on the *magnitude* (the square root of the power spectrum), it maps each FFT bin to the
//! channel whose centre lies at or above it and splits the bin between that channel and the
//! next with a linear mel weight, and it skips DC and every bin outside the frequency limits.

/// TensorFlow's mel scale: `1127 ln(1 + f / 700)`.
pub fn hz_to_mel(freq: f64) -> f64 {
    1127.0 * (freq / 700.0).ln_1p()
}

/// A triangular mel filterbank over `bins` FFT bins.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    channels: usize,
    start_index: usize,
    end_index: usize,
    band_mapper: Vec<i64>,
    weights: Vec<f64>,
    /// Per channel, the bins on its rising side (`left`) and falling side (`right`): two
    /// contiguous ranges, rising first, so that gathering them in order adds the same terms in
    /// the same order as TensorFlow's scatter loop.
    spans: Vec<ChannelSpan>,
    magnitude: Vec<f64>,
    falling: Vec<f64>,
    rising: Vec<f64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ChannelSpan {
    rising: (usize, usize),
    falling: (usize, usize),
}

impl MelFilterbank {
    /// A filterbank of `channels` channels between `lower_hz` and `upper_hz`, for spectra of
    /// `bins` bins at `sample_rate` Hz.
    pub fn new(
        bins: usize,
        sample_rate: f64,
        channels: usize,
        lower_hz: f64,
        upper_hz: f64,
    ) -> Self {
        let mel_low = hz_to_mel(lower_hz);
        let mel_hi = hz_to_mel(upper_hz);
        let mel_spacing = (mel_hi - mel_low) / (channels + 1) as f64;
        // One extra centre at the top bounds the last triangle's high side.
        let centres: Vec<f64> = (0..=channels)
            .map(|i| mel_low + mel_spacing * (i + 1) as f64)
            .collect();

        // Always exclude DC, as HTK does.
        let hz_per_bin = 0.5 * sample_rate / (bins - 1) as f64;
        let start_index = (1.5 + lower_hz / hz_per_bin) as usize;
        let end_index = ((upper_hz / hz_per_bin) as usize).min(bins - 1);

        let mut band_mapper = vec![-2i64; bins];
        let mut channel = 0usize;
        for (i, band) in band_mapper.iter_mut().enumerate() {
            if i < start_index || i > end_index {
                continue;
            }
            let mel = hz_to_mel(i as f64 * hz_per_bin);
            while channel < channels && centres[channel] < mel {
                channel += 1;
            }
            *band = channel as i64 - 1;
        }

        let weights = (0..bins)
            .map(|i| {
                if i < start_index || i > end_index {
                    return 0.0;
                }
                let mel = hz_to_mel(i as f64 * hz_per_bin);
                match usize::try_from(band_mapper[i]) {
                    Ok(c) => (centres[c + 1] - mel) / (centres[c + 1] - centres[c]),
                    Err(_) => (centres[0] - mel) / (centres[0] - mel_low),
                }
            })
            .collect();

        let mut spans = vec![ChannelSpan::default(); channels];
        for (c, span) in spans.iter_mut().enumerate() {
            let bins_of = |mapped: i64| {
                let first = band_mapper.iter().position(|&b| b == mapped);
                let last = band_mapper.iter().rposition(|&b| b == mapped);
                match (first, last) {
                    (Some(f), Some(l)) => (f, l + 1),
                    _ => (0, 0),
                }
            };
            span.rising = bins_of(c as i64 - 1);
            span.falling = bins_of(c as i64);
        }
        Self {
            channels,
            start_index,
            end_index,
            band_mapper,
            weights,
            spans,
            magnitude: vec![0.0; bins],
            falling: vec![0.0; bins],
            rising: vec![0.0; bins],
        }
    }

    /// Number of output channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Applies the filterbank to one power spectrum, writing `channels` energies to `out`.
    ///
    /// Bit-identical to TensorFlow's loop (see [`apply_scatter`](Self::apply_scatter)), but
    /// computed in vectorisable passes: magnitudes, the two triangle sides, then per-channel sums.
    pub fn apply(&mut self, power: &[f64], out: &mut [f64]) {
        let used = self.start_index..=self.end_index;
        for i in used {
            let m = power[i].sqrt();
            let w = m * self.weights[i];
            self.magnitude[i] = m;
            self.falling[i] = w;
            self.rising[i] = m - w;
        }
        for (o, span) in out.iter_mut().zip(&self.spans) {
            let mut sum = 0.0;
            for &v in &self.rising[span.rising.0..span.rising.1] {
                sum += v;
            }
            for &v in &self.falling[span.falling.0..span.falling.1] {
                sum += v;
            }
            *o = sum;
        }
    }

    /// TensorFlow's own scatter loop (`MfccMelFilterbank::Compute`), kept as the reference
    /// that [`apply`](Self::apply) is tested against.
    #[allow(clippy::needless_range_loop)] // kept index-for-index with TensorFlow's C++
    pub fn apply_scatter(&self, power: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in self.start_index..=self.end_index {
            let magnitude = power[i].sqrt();
            let weighted = magnitude * self.weights[i];
            let channel = self.band_mapper[i];
            if channel >= 0 {
                // Right side of this channel's triangle, downward slope.
                out[channel as usize] += weighted;
            }
            let next = (channel + 1) as usize;
            if next < self.channels {
                // Left side of the next channel's triangle.
                out[next] += magnitude - weighted;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepspeech_geometry_uses_bins_2_to_256() {
        let fb = MelFilterbank::new(257, 16_000.0, 40, 20.0, 8000.0);
        assert_eq!(fb.start_index, 2);
        assert_eq!(fb.end_index, 256);
        assert_eq!(fb.channels(), 40);
    }

    #[test]
    fn each_used_bin_contributes_its_full_magnitude_once_inside_the_bank() {
        // Inside the bank (not in the first or last half-triangle) the two weights of a bin
        // sum to one, so a flat spectrum's total energy equals the number of such bins.
        let mut fb = MelFilterbank::new(257, 16_000.0, 40, 20.0, 8000.0);
        let power = vec![4.0; 257]; // magnitude 2
        let mut out = vec![0.0; 40];
        fb.apply(&power, &mut out);
        let inner_bins = (fb.start_index..=fb.end_index)
            .filter(|&i| fb.band_mapper[i] >= 0 && (fb.band_mapper[i] + 1) < 40)
            .count();
        let partial: f64 = (fb.start_index..=fb.end_index)
            .filter(|&i| fb.band_mapper[i] < 0 || (fb.band_mapper[i] + 1) >= 40)
            .map(|i| {
                if fb.band_mapper[i] < 0 {
                    2.0 * (1.0 - fb.weights[i])
                } else {
                    2.0 * fb.weights[i]
                }
            })
            .sum();
        let total: f64 = out.iter().sum();
        assert!((total - (2.0 * inner_bins as f64 + partial)).abs() < 1e-9);
        assert!(
            out.iter().all(|&v| v > 0.0),
            "every channel receives energy"
        );
    }

    #[test]
    fn gather_form_is_bit_identical_to_tensorflows_scatter_loop() {
        let mut fb = MelFilterbank::new(257, 16_000.0, 40, 20.0, 8000.0);
        let mut state = 12345u64;
        for _ in 0..50 {
            let power: Vec<f64> = (0..257)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 11) as f64 / (1u64 << 53) as f64).powi(4) * 1e3
                })
                .collect();
            let (mut a, mut b) = (vec![0.0; 40], vec![0.0; 40]);
            fb.apply(&power, &mut a);
            fb.apply_scatter(&power, &mut b);
            assert_eq!(a, b);
        }
    }
}
