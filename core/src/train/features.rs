//! MFCC features of a dataset, computed once on all cores and kept in memory for every epoch;
//! optionally cached on disk (`--feature_cache`) so that later runs skip the audio front-end.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::audio::load_wav_16k;
use crate::features::{FeatureConfig, FeatureMatrix, MfccExtractor};
use crate::train::dataset::{Sample, Skipped};

const CACHE_MAGIC: &[u8; 8] = b"DSMFCC01";

/// Frames CTC needs to emit a transcript (the CTC loss's own rule, re-exported here because
/// samples too short for it are skipped when features are computed).
pub use crate::ctc::required_frames;

/// Computes (or reads from `cache`) the MFCC matrix of every sample, in parallel. Samples whose
/// audio cannot be read, or is too short for its transcript, are returned as skipped.
pub fn compute(
    samples: &[Sample],
    config: &FeatureConfig,
    cache: Option<&Path>,
    progress: &(dyn Fn() + Sync),
) -> (Vec<Option<FeatureMatrix>>, Vec<Skipped>) {
    let results: Vec<Result<FeatureMatrix, String>> = samples
        .par_iter()
        .map_init(
            || MfccExtractor::new(config.clone()),
            |extractor, sample| {
                let result = features_of(sample, extractor, cache);
                progress();
                result
            },
        )
        .collect();
    let mut skipped = Vec::new();
    let features = results
        .into_iter()
        .zip(samples)
        .map(|(result, sample)| {
            let checked = result.and_then(|m| {
                let needed = required_frames(&sample.labels);
                if m.frames < needed {
                    Err(format!(
                        "audio too short for its transcript: {} frames, {} needed for {} characters",
                        m.frames,
                        needed,
                        sample.labels.len()
                    ))
                } else {
                    Ok(m)
                }
            });
            checked
                .map_err(|reason| {
                    skipped.push(Skipped {
                        file: sample.origin.0.clone(),
                        line: sample.origin.1,
                        reason,
                    })
                })
                .ok()
        })
        .collect();
    (features, skipped)
}

/// The 16 kHz audio of the samples marked in `keep`, as i16, decoded in parallel (kept in
/// memory for signal augmentation; `None` where not kept or unreadable).
pub fn load_audio(
    wavs: &[PathBuf],
    keep: &[bool],
    progress: &(dyn Fn() + Sync),
) -> Vec<Option<Vec<i16>>> {
    wavs.par_iter()
        .zip(keep)
        .map(|(wav, &keep)| {
            let audio = keep
                .then(|| load_wav_16k(wav).ok())
                .flatten()
                .map(|(s, _)| crate::train::augment::to_i16(&s));
            progress();
            audio
        })
        .collect()
}

fn features_of(
    sample: &Sample,
    extractor: &mut MfccExtractor,
    cache: Option<&Path>,
) -> Result<FeatureMatrix, String> {
    let cached = cache.map(|dir| cache_path(dir, &sample.wav, extractor.config()));
    if let Some(m) = cached.as_deref().and_then(read_cached) {
        return Ok(m);
    }
    let (samples, _) = load_wav_16k(&sample.wav).map_err(|e| e.to_string())?;
    let m = extractor.compute(&samples);
    if let Some(path) = cached {
        // A cache that cannot be written only costs time: the features are still used.
        let _ = write_cached(&path, &m);
    }
    Ok(m)
}

/// The cache file of one WAV: keyed by its absolute path, size, modification time and the
/// feature geometry, so an edited file or a different geometry never reads stale features.
fn cache_path(dir: &Path, wav: &Path, config: &FeatureConfig) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(wav)
        .unwrap_or_else(|_| wav.to_owned())
        .hash(&mut hasher);
    if let Ok(meta) = std::fs::metadata(wav) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    serde_json::to_string(config)
        .unwrap_or_default()
        .hash(&mut hasher);
    dir.join(format!("{:016x}.mfcc", hasher.finish()))
}

fn read_cached(path: &Path) -> Option<FeatureMatrix> {
    let bytes = std::fs::read(path).ok()?;
    let header = bytes.get(..16)?;
    if &header[..8] != CACHE_MAGIC {
        return None;
    }
    let frames = u32::from_le_bytes(header[8..12].try_into().ok()?) as usize;
    let width = u32::from_le_bytes(header[12..16].try_into().ok()?) as usize;
    let body = bytes.get(16..)?;
    if body.len() != frames * width * 4 {
        return None;
    }
    let data = body
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(FeatureMatrix {
        frames,
        width,
        data,
    })
}

fn write_cached(path: &Path, m: &FeatureMatrix) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        file.write_all(CACHE_MAGIC)?;
        file.write_all(&(m.frames as u32).to_le_bytes())?;
        file.write_all(&(m.width as u32).to_le_bytes())?;
        for v in &m.data {
            file.write_all(&v.to_le_bytes())?;
        }
        file.flush()?;
    }
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_frames_count_blanks_between_repeats() {
        assert_eq!(required_frames(&[]), 0);
        assert_eq!(required_frames(&[1, 2, 3]), 3);
        assert_eq!(required_frames(&[1, 1, 2, 2, 2]), 8);
    }

    #[test]
    fn cache_round_trips_and_rejects_torn_files() {
        let dir = std::env::temp_dir().join(format!("ds-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = FeatureMatrix {
            frames: 2,
            width: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5],
        };
        let path = dir.join("x.mfcc");
        write_cached(&path, &m).unwrap();
        assert_eq!(read_cached(&path), Some(m));
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(read_cached(&path), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
