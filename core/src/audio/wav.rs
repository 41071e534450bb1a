//! WAV files in any PCM or 32-bit float encoding, any rate and channel count, via `hound`.
//!
//! hound is the de-facto WAV crate of the Rust audio ecosystem: it handles `WAVE_FORMAT_PCM`,
//! `WAVE_FORMAT_IEEE_FLOAT` and `WAVE_FORMAT_EXTENSIBLE` headers. This module adds what a
//! speech front-end needs on top: a mono mix as `f32` in [-1, 1], and errors that name the file
//! and say whether it is empty, not a WAV, cut short, or in an encoding we cannot decode.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::audio::pcm::downmix_into;
use crate::error::AudioError;

/// How the samples of a WAV file are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Signed (or, at 8 bits, unsigned) integer PCM.
    Int,
    /// IEEE float.
    Float,
}

/// What a WAV file's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Bits per sample of one channel.
    pub bits_per_sample: u16,
    /// Integer or float samples.
    pub encoding: Encoding,
    /// Frames (samples per channel) in the file.
    pub frames: u64,
}

impl WavInfo {
    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }
}

/// Mono audio as floats in [-1, 1] at its own sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// The samples.
    pub samples: Vec<f32>,
    /// Frames per second.
    pub sample_rate: u32,
}

impl MonoAudio {
    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Reads a WAV file and mixes it down to mono, keeping its sample rate.
pub fn read_wav(path: impl AsRef<Path>) -> Result<(MonoAudio, WavInfo), AudioError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|reason| AudioError::Io {
        path: path.to_owned(),
        reason,
    })?;
    decode_wav(&bytes, path)
}

/// The duration a WAV header announces, in seconds, read from the file's first bytes alone;
/// `None` when they do not hold the whole header (a long chunk before the data) or it is not a
/// WAV header this reader understands (the full read then says why).
pub fn announced_secs(head: &[u8]) -> Option<f64> {
    let reader = hound::WavReader::new(head).ok()?;
    let rate = reader.spec().sample_rate;
    (rate > 0).then(|| f64::from(reader.duration()) / f64::from(rate))
}

/// Sample rates a file may claim: beyond them a header is damaged or hostile, and resampling it
/// would cost hours of audio (1 Hz) or gigabytes of filter (2^31 Hz).
pub const PLAUSIBLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// Decodes a WAV file held in memory; `name` is used in error messages.
pub fn decode_wav(bytes: &[u8], name: &Path) -> Result<(MonoAudio, WavInfo), AudioError> {
    let path = || name.to_path_buf();
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile { path: path() });
    }
    let reader =
        hound::WavReader::new(bytes).map_err(|e| header_error(e, bytes, name.to_owned()))?;
    let spec = reader.spec();
    let info = WavInfo {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        bits_per_sample: spec.bits_per_sample,
        encoding: match spec.sample_format {
            hound::SampleFormat::Int => Encoding::Int,
            hound::SampleFormat::Float => Encoding::Float,
        },
        frames: u64::from(reader.duration()),
    };
    if !PLAUSIBLE_RATES.contains(&spec.sample_rate) || spec.channels == 0 {
        return Err(AudioError::UnsupportedEncoding {
            path: path(),
            detail: format!(
                "{} Hz with {} channel(s); expected 1 kHz to 384 kHz and at least one channel",
                spec.sample_rate, spec.channels
            ),
        });
    }
    let expected = info.frames * u64::from(spec.channels);
    if expected == 0 {
        return Err(AudioError::NoSamples { path: path() });
    }
    let interleaved = read_samples(reader, &info, name)?;
    let mut mono = Vec::with_capacity(interleaved.len() / usize::from(spec.channels));
    downmix_into(&interleaved, usize::from(spec.channels), &mut mono)?;
    Ok((
        MonoAudio {
            samples: mono,
            sample_rate: spec.sample_rate,
        },
        info,
    ))
}

fn read_samples<R: Read>(
    mut reader: hound::WavReader<R>,
    info: &WavInfo,
    name: &Path,
) -> Result<Vec<f32>, AudioError> {
    let expected = info.frames * u64::from(info.channels);
    let mut out = Vec::with_capacity(expected.min(1 << 28) as usize);
    let truncated = |got: usize| AudioError::Truncated {
        path: name.to_owned(),
        detail: format!("the header announces {expected} samples but the data ends after {got}"),
    };
    let sample_error = |e: hound::Error, got: usize| match e {
        hound::Error::IoError(_) | hound::Error::UnfinishedSample => truncated(got),
        other => AudioError::UnsupportedEncoding {
            path: name.to_owned(),
            detail: other.to_string(),
        },
    };
    match info.encoding {
        Encoding::Float => {
            for s in reader.samples::<f32>() {
                out.push(s.map_err(|e| sample_error(e, out.len()))?);
            }
        }
        Encoding::Int => {
            let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f64;
            for s in reader.samples::<i32>() {
                let s = s.map_err(|e| sample_error(e, out.len()))?;
                out.push((f64::from(s) * scale) as f32);
            }
        }
    }
    if (out.len() as u64) < expected {
        return Err(truncated(out.len()));
    }
    Ok(out)
}

/// Turns a header-parsing failure into the error a user can act on.
fn header_error(e: hound::Error, bytes: &[u8], path: PathBuf) -> AudioError {
    match e {
        hound::Error::FormatError(msg) if msg.contains("RIFF") || msg.contains("WAVE") => {
            AudioError::NotWav {
                path,
                detail: describe_magic(bytes),
            }
        }
        hound::Error::IoError(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            if bytes.len() < 12 || !bytes.starts_with(b"RIFF") {
                AudioError::NotWav {
                    path,
                    detail: describe_magic(bytes),
                }
            } else {
                AudioError::Truncated {
                    path,
                    detail: format!("the headers end early, after {} bytes", bytes.len()),
                }
            }
        }
        hound::Error::Unsupported | hound::Error::TooWide | hound::Error::InvalidSampleFormat => {
            AudioError::UnsupportedEncoding {
                path,
                detail: fmt_tag_description(bytes).unwrap_or_else(|| e.to_string()),
            }
        }
        hound::Error::FormatError(msg) => AudioError::NotWav {
            path,
            detail: format!("malformed WAV header: {msg}"),
        },
        other => AudioError::NotWav {
            path,
            detail: other.to_string(),
        },
    }
}

/// A short description of what a non-WAV file starts with.
fn describe_magic(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(4)];
    let known = [
        (&b"fLaC"[..], "a FLAC file"),
        (b"OggS", "an Ogg file"),
        (b"ID3", "an MP3 file"),
        (b"RIFX", "a big-endian RIFX file"),
        (b"RF64", "an RF64 file"),
    ];
    for (magic, what) in known {
        if bytes.starts_with(magic) {
            return format!("it is {what}");
        }
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") {
        return format!(
            "RIFF form type is {:?}, not \"WAVE\"",
            String::from_utf8_lossy(&bytes[8..12])
        );
    }
    format!("no RIFF/WAVE header; it starts with {head:02x?}")
}

/// Names the `fmt ` chunk's format tag, for unsupported-encoding messages.
fn fmt_tag_description(bytes: &[u8]) -> Option<String> {
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        if id == b"fmt " {
            let body = bytes.get(pos + 8..pos + 8 + len.min(40))?;
            let tag = u16::from_le_bytes(body.get(0..2)?.try_into().ok()?);
            let bits = u16::from_le_bytes(body.get(14..16)?.try_into().ok()?);
            let name = match tag {
                0x0001 => "integer PCM",
                0x0002 => "Microsoft ADPCM",
                0x0003 => "IEEE float",
                0x0006 => "A-law",
                0x0007 => "µ-law",
                0x0011 => "IMA ADPCM",
                0x0055 => "MPEG layer 3",
                0xFFFE => "WAVE_FORMAT_EXTENSIBLE",
                _ => "unknown",
            };
            return Some(format!(
                "{name} (format tag 0x{tag:04x}), {bits} bits per sample"
            ));
        }
        pos += 8 + len + (len & 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut std::io::Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        cursor.into_inner()
    }

    fn spec(channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 8000,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn implausible_sample_rates_are_refused_before_anything_is_resampled() {
        for rate in [1u32, 7, 999, 384_001, 2_147_483_647] {
            let spec = hound::WavSpec {
                sample_rate: rate,
                ..spec(1, 16, hound::SampleFormat::Int)
            };
            let bytes = wav_bytes(spec, |w| {
                for _ in 0..16_000 {
                    w.write_sample(1000i16).unwrap();
                }
            });
            let err = decode_wav(&bytes, Path::new("odd.wav"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("odd.wav")
                    && err.contains(&format!("{rate} Hz"))
                    && err.contains("1 kHz to 384 kHz"),
                "{err}"
            );
        }
    }

    #[test]
    fn every_pcm_width_and_float_decode_to_the_same_signal() {
        let name = Path::new("mem.wav");
        let reference = [0.0f32, 0.5, -0.25, -1.0];
        for bits in [8u16, 16, 24, 32] {
            let bytes = wav_bytes(spec(1, bits, hound::SampleFormat::Int), |w| {
                for v in reference {
                    let scaled = (f64::from(v) * (1u64 << (bits - 1)) as f64) as i32;
                    w.write_sample(scaled).unwrap();
                }
            });
            let (audio, info) = decode_wav(&bytes, name).unwrap();
            assert_eq!(info.bits_per_sample, bits);
            assert_eq!(audio.samples, reference, "{bits}-bit");
        }
        let bytes = wav_bytes(spec(1, 32, hound::SampleFormat::Float), |w| {
            for v in reference {
                w.write_sample(v).unwrap();
            }
        });
        assert_eq!(decode_wav(&bytes, name).unwrap().0.samples, reference);
    }

    #[test]
    fn multichannel_files_are_averaged() {
        let bytes = wav_bytes(spec(3, 16, hound::SampleFormat::Int), |w| {
            for v in [3000i16, 6000, 9000] {
                w.write_sample(v).unwrap();
            }
        });
        let (audio, info) = decode_wav(&bytes, Path::new("three.wav")).unwrap();
        assert_eq!(info.channels, 3);
        assert_eq!(audio.samples, vec![6000.0 / 32768.0]);
    }

    #[test]
    fn bad_files_say_what_is_wrong_and_name_the_file() {
        let name = Path::new("bad/input.wav");
        let msg = |bytes: &[u8]| decode_wav(bytes, name).unwrap_err().to_string();

        let m = msg(b"");
        assert!(m.contains("bad/input.wav") && m.contains("empty"), "{m}");

        let m = msg(b"fLaC\0\0\0\x22 not really a flac file at all");
        assert!(m.contains("not a WAV file") && m.contains("FLAC"), "{m}");

        let m = msg(b"hello, this is plain text and not audio");
        assert!(m.contains("not a WAV file"), "{m}");

        let good = wav_bytes(spec(2, 16, hound::SampleFormat::Int), |w| {
            for i in 0..200 {
                w.write_sample(i as i16).unwrap();
            }
        });
        let m = msg(&good[..good.len() - 51]);
        assert!(
            m.contains("truncated") && m.contains("announces 200 samples"),
            "{m}"
        );
        let m = msg(&good[..30]);
        assert!(m.contains("truncated") || m.contains("not a WAV"), "{m}");

        let empty_data = wav_bytes(spec(1, 16, hound::SampleFormat::Int), |_| {});
        let m = msg(&empty_data);
        assert!(m.contains("holds no audio samples"), "{m}");

        // A µ-law header: format tag 7.
        let mut mulaw = good.clone();
        mulaw[20..22].copy_from_slice(&7u16.to_le_bytes());
        let m = msg(&mulaw);
        assert!(
            m.contains("unsupported WAV encoding") && m.contains("µ-law"),
            "{m}"
        );
    }
}
