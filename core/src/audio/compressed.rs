//! Compressed and container audio (MP3, FLAC, Ogg Vorbis, AAC in MP4/M4A, Matroska/WebM with
//! Vorbis or FLAC) through symphonia, a pure-Rust decoder: the first decodable audio track,
//! downmixed to mono at its own rate.

use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::pcm::downmix_into;
use super::wav::MonoAudio;
use crate::error::AudioError;
use crate::sniff;

/// The formats [`decode`] reads, for messages.
pub const FORMATS: &str =
    "WAV, MP3, FLAC, Ogg Vorbis, AAC (MP4/M4A), Matroska/WebM with Vorbis or FLAC";

/// Decodes the first audio track of a compressed or container file, read as it decodes (a
/// large file that is not audio is refused from its first bytes, not read whole); `head` holds
/// the file's first bytes, `name` names it in errors (and its extension hints the container).
pub fn decode(
    source: Box<dyn MediaSource>,
    head: &[u8],
    name: &Path,
) -> Result<MonoAudio, AudioError> {
    decode_limited(source, head, name, super::DEFAULT_MAX_AUDIO_SECS)
}

/// [`decode`], stopping with [`AudioError::TooLong`] as soon as more than `max_secs` seconds
/// have been decoded.
pub fn decode_limited(
    source: Box<dyn MediaSource>,
    head: &[u8],
    name: &Path,
    max_secs: f64,
) -> Result<MonoAudio, AudioError> {
    let not_audio = || AudioError::NotAudio {
        path: name.to_owned(),
        what: sniff::describe(head),
    };
    let failed = |detail: String| AudioError::Decode {
        path: name.to_owned(),
        detail,
    };
    let mut hint = Hint::new();
    if let Some(ext) = name.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let source = MediaSourceStream::new(source, Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            // Not gapless: encoder delay and padding are kept, as GStreamer's decoders keep
            // them, so that the CLI and the element hear the same samples (symphonia's trimming
            // also cut the end of MP3s without a LAME tag).
            &FormatOptions {
                enable_gapless: false,
                ..FormatOptions::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|_| not_audio())?;
    let mut format = probed.format;
    let codecs = symphonia::default::get_codecs();
    let mut found = None;
    let mut unsupported = None;
    for track in format.tracks() {
        if track.codec_params.codec == CODEC_TYPE_NULL {
            continue;
        }
        match codecs.make(&track.codec_params, &DecoderOptions::default()) {
            Ok(decoder) => {
                found = Some((track.id, decoder));
                break;
            }
            Err(e) => unsupported = Some(e.to_string()),
        }
    }
    let Some((track_id, mut decoder)) = found else {
        let what = sniff::describe(head);
        if what.contains("does not decode") {
            return Err(AudioError::NotAudio {
                path: name.to_owned(),
                what,
            });
        }
        return Err(failed(match unsupported {
            Some(e) => format!("its audio codec is not one this program decodes ({e})"),
            None => "it holds no audio track".into(),
        }));
    };
    let mut samples = Vec::new();
    let mut rate = 0;
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(failed(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged packet is skipped, as players do; the rest of the file still counts.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(failed(e.to_string())),
        };
        let spec = *decoded.spec();
        if rate != 0 && spec.rate != rate {
            return Err(failed(format!(
                "the sample rate changes from {rate} Hz to {} Hz mid-stream",
                spec.rate
            )));
        }
        if !super::wav::PLAUSIBLE_RATES.contains(&spec.rate) {
            return Err(failed(format!(
                "a sample rate of {} Hz (expected 1 kHz to 384 kHz)",
                spec.rate
            )));
        }
        rate = spec.rate;
        let needed = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some(b) if b.capacity() as u64 >= needed * spec.channels.count() as u64 => b,
            _ => buffer.insert(SampleBuffer::new(needed, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        downmix_into(buf.samples(), spec.channels.count(), &mut samples)?;
        let secs = samples.len() as f64 / f64::from(rate);
        if secs > max_secs {
            return Err(AudioError::TooLong {
                path: name.to_owned(),
                secs,
                limit_secs: max_secs,
            });
        }
    }
    if samples.is_empty() || rate == 0 {
        return Err(AudioError::NoSamples {
            path: name.to_owned(),
        });
    }
    Ok(MonoAudio {
        samples,
        sample_rate: rate,
    })
}
