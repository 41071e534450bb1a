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

        Self {
            channels,
            start_index,
            end_index,
            band_mapper,
            weights,
        }
    }

    /// Number of output channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Applies the filterbank to one power spectrum, writing `channels` energies to `out`.
    pub fn apply(&self, power: &[f64], out: &mut [f64]) {
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
        let fb = MelFilterbank::new(257, 16_000.0, 40, 20.0, 8000.0);
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
}
