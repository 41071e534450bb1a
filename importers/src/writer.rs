//! Atomic output: every WAV and CSV is written to a temporary file beside its destination and
//! renamed into place, so an interrupted import never leaves a half-written file under a final
//! name. A WAV found complete at its destination is reused by the next run.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::decode::SAMPLE_RATE;

/// Size of the RIFF header hound writes for 16-bit mono PCM.
const WAV_HEADER_BYTES: u64 = 44;

/// The temporary name a file is written under before being renamed to `path`.
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes a file through `write`, atomically: to a temporary file, flushed and synced, then
/// renamed onto `path`. On error the temporary file is removed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = temporary(path);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&tmp)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes 16 kHz mono 16-bit samples as a WAV file, atomically; returns the file's size.
pub fn write_wav(path: &Path, samples: &[i16]) -> std::io::Result<u64> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_atomically(path, |out| {
        let mut wav = hound::WavWriter::new(out, spec).map_err(hound_io)?;
        let mut writer = wav.get_i16_writer(samples.len() as u32);
        for &s in samples {
            writer.write_sample(s);
        }
        writer.flush().map_err(hound_io)?;
        wav.finalize().map_err(hound_io)
    })?;
    Ok(WAV_HEADER_BYTES + 2 * samples.len() as u64)
}

/// If `path` is a complete WAV as [`write_wav`] writes them (16 kHz mono 16-bit, header
/// readable, file size equal to header plus the samples it announces), its size in bytes and
/// number of samples.
pub fn complete_wav(path: &Path) -> Option<(u64, u64)> {
    let size = std::fs::metadata(path).ok()?.len();
    let reader = hound::WavReader::open(path).ok()?;
    let spec = reader.spec();
    let samples = u64::from(reader.len());
    let fits = spec.channels == 1
        && spec.sample_rate == SAMPLE_RATE
        && spec.bits_per_sample == 16
        && spec.sample_format == hound::SampleFormat::Int
        && size == WAV_HEADER_BYTES + 2 * samples;
    fits.then_some((size, samples))
}

/// Removes temporary files an interrupted run left in `dir` (recursively).
pub fn remove_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_partials(&path);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".partial-"))
        {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn hound_io(e: hound::Error) -> std::io::Error {
    match e {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_wavs_are_complete_and_truncated_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.wav");
        let samples: Vec<i16> = (0..1600).map(|i| (i * 7) as i16).collect();
        let size = write_wav(&path, &samples).unwrap();
        assert_eq!(complete_wav(&path), Some((size, 1600)));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert_eq!(complete_wav(&path), None);
        std::fs::write(&path, b"RIFF").unwrap();
        assert_eq!(complete_wav(&path), None);
        assert_eq!(complete_wav(&dir.path().join("missing.wav")), None);
    }
}
