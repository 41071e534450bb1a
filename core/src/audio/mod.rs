//! Audio input: WAV files, compressed audio (MP3, FLAC, Ogg Vorbis, AAC, ...) and raw PCM in,
//! 16 kHz mono `f32` in [-1, 1] out.

pub mod compressed;
pub mod pcm;
pub mod resample;
pub mod wav;

use std::io::{Read, Seek};
use std::path::Path;

pub use pcm::{RawFormat, Sample, downmix, downmix_bytes_into, downmix_into};
pub use resample::{MODEL_SAMPLE_RATE, StreamResampler, resample};
pub use wav::{Encoding, MonoAudio, WavInfo, decode_wav, read_wav};

use crate::error::AudioError;

/// The most audio [`read_audio`] takes into memory, in seconds: four hours (about 1 GB of
/// samples at 16 kHz). A longer file, or a header that claims one, is refused before it is read,
/// so that no single input can take the host's memory.
pub const DEFAULT_MAX_AUDIO_SECS: f64 = 4.0 * 3600.0;

/// Reads an audio file: WAV of any supported encoding (read exactly, with its header checked),
/// else any format [`compressed::decode`] reads; mono at the file's own rate. A file that is
/// not audio is refused with an error naming what it is; one longer than
/// [`DEFAULT_MAX_AUDIO_SECS`] with [`AudioError::TooLong`].
pub fn read_audio(path: impl AsRef<Path>) -> Result<MonoAudio, AudioError> {
    read_audio_limited(path, DEFAULT_MAX_AUDIO_SECS)
}

/// [`read_audio`] with another limit on the audio's duration, in seconds: a WAV whose header
/// announces more is refused before its data is read, a compressed file as soon as its decoded
/// samples pass the limit.
pub fn read_audio_limited(path: impl AsRef<Path>, max_secs: f64) -> Result<MonoAudio, AudioError> {
    let path = path.as_ref();
    if path.is_dir() {
        return Err(AudioError::NotAudio {
            path: path.to_owned(),
            what: "a folder".into(),
        });
    }
    let io = |reason| AudioError::Io {
        path: path.to_owned(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    // The first bytes decide what the file is before anything else is read.
    let mut head = Vec::with_capacity(4096);
    std::io::Read::by_ref(&mut file)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.is_empty() {
        return Err(AudioError::EmptyFile {
            path: path.to_owned(),
        });
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        if let Some(secs) = wav::announced_secs(&head)
            && secs > max_secs
        {
            return Err(AudioError::TooLong {
                path: path.to_owned(),
                secs,
                limit_secs: max_secs,
            });
        }
        let mut bytes = head;
        file.read_to_end(&mut bytes).map_err(io)?;
        return decode_wav(&bytes, path).map(|(audio, _)| audio);
    }
    file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    compressed::decode_limited(Box::new(file), &head, path, max_secs)
}

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
