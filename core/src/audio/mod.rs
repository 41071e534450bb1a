//! Audio input: WAV files and raw PCM in, 16 kHz mono `f32` in [-1, 1] out.

pub mod pcm;
pub mod resample;
pub mod wav;

use std::path::Path;

pub use pcm::{RawFormat, Sample, downmix, downmix_bytes_into, downmix_into};
pub use resample::{MODEL_SAMPLE_RATE, StreamResampler, resample};
pub use wav::{Encoding, MonoAudio, WavInfo, decode_wav, read_wav};

use crate::error::AudioError;

/// Reads a WAV file of any supported encoding, rate and channel count, and returns it as
/// 16 kHz mono, ready for feature extraction, together with the file's original header.
pub fn load_wav_16k(path: impl AsRef<Path>) -> Result<(Vec<f32>, WavInfo), AudioError> {
    let (audio, info) = read_wav(path)?;
    let samples = to_model_rate(audio)?;
    Ok((samples, info))
}

/// Resamples mono audio to the model's 16 kHz (no copy when it already is).
pub fn to_model_rate(audio: MonoAudio) -> Result<Vec<f32>, AudioError> {
    if audio.sample_rate == MODEL_SAMPLE_RATE {
        Ok(audio.samples)
    } else {
        resample(&audio.samples, audio.sample_rate, MODEL_SAMPLE_RATE)
    }
}
