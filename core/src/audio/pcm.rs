//! Raw interleaved PCM: sample formats, conversion to `f32` in [-1, 1], and downmixing.
//!
//! Integer samples are scaled by 2^(bits-1) as `tf.audio.decode_wav` does (so a 16-bit sample
//! `s` becomes `s / 32768`); unsigned 8-bit samples are centred first. Float samples pass through.

use crate::error::AudioError;

/// A sample type that can be converted to a float in [-1, 1].
pub trait Sample: Copy {
    /// The sample as a float in [-1, 1].
    fn to_f32(self) -> f32;
}

impl Sample for i16 {
    #[inline]
    fn to_f32(self) -> f32 {
        f32::from(self) / 32_768.0
    }
}

impl Sample for i32 {
    #[inline]
    fn to_f32(self) -> f32 {
        (self as f64 / 2_147_483_648.0) as f32
    }
}

impl Sample for u8 {
    #[inline]
    fn to_f32(self) -> f32 {
        (f32::from(self) - 128.0) / 128.0
    }
}

impl Sample for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
}

impl Sample for f64 {
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// The byte layouts of raw PCM the front-end accepts (all little-endian, interleaved).
///
/// These cover what GStreamer's `audioconvert` and common WAV files produce; the names follow
/// GStreamer's `audio/x-raw` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// Unsigned 8-bit.
    U8,
    /// Signed 16-bit.
    S16LE,
    /// Signed 24-bit packed in 3 bytes.
    S24LE,
    /// Signed 24-bit in the low bits of a 32-bit word.
    S24_32LE,
    /// Signed 32-bit.
    S32LE,
    /// 32-bit IEEE float.
    F32LE,
    /// 64-bit IEEE float.
    F64LE,
}

impl RawFormat {
    /// Bytes per sample of one channel.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            RawFormat::U8 => 1,
            RawFormat::S16LE => 2,
            RawFormat::S24LE => 3,
            RawFormat::S24_32LE | RawFormat::S32LE | RawFormat::F32LE => 4,
            RawFormat::F64LE => 8,
        }
    }

    /// Decodes one sample from exactly [`bytes_per_sample`](Self::bytes_per_sample) bytes.
    #[inline]
    fn decode(self, b: &[u8]) -> f32 {
        match self {
            RawFormat::U8 => b[0].to_f32(),
            RawFormat::S16LE => i16::from_le_bytes([b[0], b[1]]).to_f32(),
            RawFormat::S24LE => (i32::from_le_bytes([0, b[0], b[1], b[2]])).to_f32(),
            RawFormat::S24_32LE => {
                // Move the low 24 bits to the top: the sign lands in bit 31.
                (i32::from_le_bytes([b[0], b[1], b[2], b[3]]) << 8).to_f32()
            }
            RawFormat::S32LE => i32::from_le_bytes([b[0], b[1], b[2], b[3]]).to_f32(),
            RawFormat::F32LE => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            RawFormat::F64LE => {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
        }
    }
}

fn check_channels(len: usize, channels: usize) -> Result<(), AudioError> {
    if channels == 0 {
        return Err(AudioError::InvalidPcm("channel count is 0".into()));
    }
    if !len.is_multiple_of(channels) {
        return Err(AudioError::InvalidPcm(format!(
            "{len} samples do not divide into {channels} channels"
        )));
    }
    Ok(())
}

/// Appends the mono mix (mean of the channels) of interleaved `samples` to `out`.
///
/// Averaging is what `sox -c 1` and GStreamer's `audioconvert` do when downmixing to mono.
pub fn downmix_into<T: Sample>(
    samples: &[T],
    channels: usize,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    check_channels(samples.len(), channels)?;
    out.reserve(samples.len() / channels);
    if channels == 1 {
        out.extend(samples.iter().map(|s| s.to_f32()));
    } else {
        let scale = 1.0 / channels as f32;
        out.extend(
            samples
                .chunks_exact(channels)
                .map(|frame| frame.iter().map(|s| s.to_f32()).sum::<f32>() * scale),
        );
    }
    Ok(())
}

/// The mono mix of interleaved `samples`, as floats in [-1, 1].
pub fn downmix<T: Sample>(samples: &[T], channels: usize) -> Result<Vec<f32>, AudioError> {
    let mut out = Vec::new();
    downmix_into(samples, channels, &mut out)?;
    Ok(out)
}

/// Appends the mono mix of raw interleaved little-endian PCM bytes to `out`.
///
/// `bytes` must hold whole frames (`channels × bytes_per_sample` bytes each).
pub fn downmix_bytes_into(
    bytes: &[u8],
    format: RawFormat,
    channels: usize,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    let width = format.bytes_per_sample();
    if channels == 0 {
        return Err(AudioError::InvalidPcm("channel count is 0".into()));
    }
    let frame_bytes = width * channels;
    if !bytes.len().is_multiple_of(frame_bytes) {
        return Err(AudioError::InvalidPcm(format!(
            "{} bytes are not a whole number of {format:?} frames of {channels} channel(s)",
            bytes.len()
        )));
    }
    let scale = 1.0 / channels as f32;
    out.reserve(bytes.len() / frame_bytes);
    out.extend(bytes.chunks_exact(frame_bytes).map(|frame| {
        frame
            .chunks_exact(width)
            .map(|b| format.decode(b))
            .sum::<f32>()
            * scale
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_scaling_matches_tensorflow_decode_wav() {
        assert_eq!(i16::MIN.to_f32(), -1.0);
        assert_eq!(16_384i16.to_f32(), 0.5);
        assert_eq!(128u8.to_f32(), 0.0);
        assert_eq!(0u8.to_f32(), -1.0);
        assert_eq!(i32::MIN.to_f32(), -1.0);
    }

    #[test]
    fn stereo_downmix_is_the_mean() {
        let mono = downmix(&[16_384i16, 0, -32_768, 32_767], 2).unwrap();
        assert_eq!(mono.len(), 2);
        assert!((mono[0] - 0.25).abs() < 1e-7);
        assert!((mono[1] - (-0.5 + 32_767.0 / 65_536.0)).abs() < 1e-7);
    }

    #[test]
    fn ragged_and_zero_channel_buffers_are_errors() {
        let err = downmix(&[1i16, 2, 3], 2).unwrap_err().to_string();
        assert!(err.contains("do not divide into 2 channels"), "{err}");
        let err = downmix(&[1i16], 0).unwrap_err().to_string();
        assert!(err.contains("channel count is 0"), "{err}");
        let err = downmix_bytes_into(&[0u8; 5], RawFormat::S16LE, 1, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a whole number"), "{err}");
    }

    #[test]
    fn byte_formats_agree_with_typed_samples() {
        let values: [i16; 4] = [0, 1000, -20_000, 32_767];
        let s16: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let s24: Vec<u8> = values
            .iter()
            .flat_map(|v| {
                let w = i32::from(*v) << 8;
                [w.to_le_bytes()[0], w.to_le_bytes()[1], w.to_le_bytes()[2]]
            })
            .collect();
        let s24_32: Vec<u8> = values
            .iter()
            .flat_map(|v| (i32::from(*v) << 8).to_le_bytes())
            .collect();
        let s32: Vec<u8> = values
            .iter()
            .flat_map(|v| (i32::from(*v) << 16).to_le_bytes())
            .collect();
        let f32le: Vec<u8> = values
            .iter()
            .flat_map(|v| v.to_f32().to_le_bytes())
            .collect();
        let f64le: Vec<u8> = values
            .iter()
            .flat_map(|v| f64::from(v.to_f32()).to_le_bytes())
            .collect();
        let expected = downmix(&values, 1).unwrap();
        for (bytes, format) in [
            (s16, RawFormat::S16LE),
            (s24, RawFormat::S24LE),
            (s24_32, RawFormat::S24_32LE),
            (s32, RawFormat::S32LE),
            (f32le, RawFormat::F32LE),
            (f64le, RawFormat::F64LE),
        ] {
            let mut got = Vec::new();
            downmix_bytes_into(&bytes, format, 1, &mut got).unwrap();
            assert_eq!(got, expected, "{format:?}");
        }
    }
}
