//! The import itself: list the corpus, normalise transcripts, decode each distinct clip once
//! (in parallel, reusing complete WAVs from an earlier run), filter, write CSVs and
//! `skipped.tsv`.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use deepspeech_core::Alphabet;
use deepspeech_core::ctc::required_frames;
use deepspeech_core::features::FeatureConfig;
use deepspeech_core::features::spectrogram::frame_count;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::corpus::{Corpus, Item, ListError};
use crate::decode::{self, SAMPLE_RATE, SourceFormat};
use crate::normalise::{Normaliser, TranscriptError};
use crate::report::{CsvSummary, SkipReason, SkippedRow, Summary, write_skipped};
use crate::writer::{complete_wav, remove_partials, write_atomically, write_wav};

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Clips longer than this are skipped (DeepSpeech's Common Voice importer: 10 s).
    pub max_secs: f64,
    /// Clips decoded at once (default: the number of cores).
    pub jobs: usize,
    /// Spell numbers out in English instead of skipping rows with digits.
    pub spell_numbers: bool,
    /// Only these CSVs (split names without `.csv`); all when `None`.
    pub splits: Option<Vec<String>>,
    /// The alphabet transcripts must fit (default: DeepSpeech's English one).
    pub alphabet: Alphabet,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_secs: 10.0,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            spell_numbers: false,
            splits: None,
            alphabet: Alphabet::english(),
            progress: false,
        }
    }
}

/// An import that could not run (as opposed to rows that were skipped).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The corpus cannot be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// An output file cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Bad arguments (source missing, target inside the source's CSV names, ...).
    #[error("{0}")]
    Usage(String),
    /// GStreamer or its base plugins are missing.
    #[error("{0}")]
    GStreamer(String),
}

/// A row bound for a CSV: the item, its normalised transcript, the WAV's size and samples.
type Row<'a> = (&'a Item, String, u64, u64);

/// What became of one distinct clip.
#[derive(Debug, Clone)]
struct Clip {
    samples: u64,
    size: u64,
    reused: bool,
}

/// Imports the corpus at `source` into `target`: `<split>.csv` files, `clips/`, `skipped.tsv`.
pub fn import(
    corpus: Corpus,
    source: &Path,
    target: &Path,
    options: &Options,
) -> Result<Summary, ImportError> {
    if !source.is_dir() {
        return Err(ImportError::Usage(format!(
            "{} is not a folder",
            source.display()
        )));
    }
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ImportError::Write { path, source }
    };
    std::fs::create_dir_all(target).map_err(write_error(target))?;
    if source.canonicalize().ok() == target.canonicalize().ok() {
        return Err(ImportError::Usage(
            "the target folder must differ from the source folder".into(),
        ));
    }
    decode::init().map_err(ImportError::GStreamer)?;
    let listing = corpus.list(source, options.splits.as_deref())?;
    remove_partials(target);

    let normaliser = Normaliser::new(options.alphabet.clone()).spell_numbers(options.spell_numbers);
    // Skipped rows with their position: listing skips first, then rows in corpus order.
    let mut skipped: Vec<(usize, SkippedRow)> =
        listing.skipped.into_iter().map(|r| (0, r)).collect();
    let shown = |audio: &Path| {
        audio
            .strip_prefix(source)
            .unwrap_or(audio)
            .display()
            .to_string()
    };
    let skip = |index: usize, item: &Item, reason: SkipReason, detail: String| {
        let row = SkippedRow {
            split: item.split.clone(),
            origin: item.origin.clone(),
            audio: shown(&item.audio),
            transcript: item.transcript.clone(),
            reason,
            detail,
        };
        (index + 1, row)
    };

    // Transcripts first: rows that cannot be used are not decoded.
    let mut rows: Vec<(usize, &Item, String, Vec<u32>)> = Vec::new();
    let mut owner: HashMap<&Path, &Item> = HashMap::new();
    for (index, item) in listing.items.iter().enumerate() {
        let text = match normaliser.normalise(&item.transcript) {
            Ok(text) => text,
            Err(e) => {
                let (reason, detail) = match e {
                    TranscriptError::Empty => (SkipReason::EmptyTranscript, String::new()),
                    TranscriptError::Digits => (SkipReason::Digits, String::new()),
                    TranscriptError::OutsideAlphabet(chars) => (
                        SkipReason::OutsideAlphabet,
                        chars
                            .iter()
                            .map(|c| format!("{c:?}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                };
                skipped.push(skip(index, item, reason, detail));
                continue;
            }
        };
        let first = *owner.entry(&item.clip).or_insert(item);
        if first.audio != item.audio {
            let detail = format!("{} is also {}", shown(&first.audio), item.clip.display());
            skipped.push(skip(index, item, SkipReason::DuplicateClip, detail));
            continue;
        }
        let labels = options
            .alphabet
            .encode(&text)
            .map(|l| l.into_iter().map(|l| l as u32).collect())
            .unwrap_or_default();
        rows.push((index, item, text, labels));
    }

    // Each distinct clip once, on `jobs` threads.
    // (Only rows with a usable transcript claimed a clip name.)
    let mut clips: Vec<(&Path, &Item)> = owner.into_iter().collect();
    clips.sort_by_key(|&(clip, _)| clip);
    let progress = if options.progress && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(clips.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} clips {elapsed_precise} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .map_err(|e| ImportError::Usage(format!("cannot start {} threads: {e}", options.jobs)))?;
    let write_failure: Mutex<Option<ImportError>> = Mutex::new(None);
    let results: HashMap<&Path, Result<Clip, (SkipReason, String)>> = pool.install(|| {
        clips
            .par_iter()
            .map(|&(clip, item)| {
                let result = convert(
                    &item.audio,
                    item.format,
                    &target.join(clip),
                    options.max_secs,
                );
                progress.inc(1);
                let result = result.unwrap_or_else(|e| {
                    if let Ok(mut slot) = write_failure.lock() {
                        slot.get_or_insert(e);
                    }
                    Err((SkipReason::UnreadableAudio, "not written".into()))
                });
                (clip, result)
            })
            .collect()
    });
    progress.finish_and_clear();
    if let Some(e) = write_failure.into_inner().ok().flatten() {
        return Err(e);
    }

    // Per row: the transcript-dependent check, then the CSVs in corpus order.
    let features = FeatureConfig::default();
    let mut splits: Vec<(String, Vec<Row>)> = Vec::new();
    for item in &listing.items {
        if !splits.iter().any(|(s, _)| *s == item.split) {
            splits.push((item.split.clone(), Vec::new()));
        }
    }
    for (index, item, text, labels) in rows {
        let clip = match &results[item.clip.as_path()] {
            Ok(clip) => clip,
            Err((reason, detail)) => {
                skipped.push(skip(index, item, *reason, detail.clone()));
                continue;
            }
        };
        let frames = frame_count(clip.samples as usize, features.window, features.step);
        let needed = required_frames(&labels);
        if frames < needed {
            let detail = format!(
                "{frames} frames of {:.0} ms, {needed} needed for {} characters",
                features.frame_secs() * 1000.0,
                labels.len()
            );
            skipped.push(skip(index, item, SkipReason::TooShort, detail));
            continue;
        }
        if let Some((_, list)) = splits.iter_mut().find(|(s, _)| *s == item.split) {
            list.push((item, text, clip.size, clip.samples));
        }
    }

    // A clip whose every row was skipped after decoding (too short for its transcript) is in
    // no CSV: its WAV is removed, and it does not count as written.
    let in_csv: HashSet<&Path> = splits
        .iter()
        .flat_map(|(_, list)| list.iter().map(|(item, ..)| item.clip.as_path()))
        .collect();
    for (clip, result) in &results {
        if result.is_ok() && !in_csv.contains(clip) {
            let wav = target.join(clip);
            std::fs::remove_file(&wav).map_err(write_error(&wav))?;
        }
    }
    let kept = |reused: bool| {
        results
            .iter()
            .filter(|(clip, r)| in_csv.contains(*clip) && matches!(r, Ok(c) if c.reused == reused))
            .count()
    };
    let mut summary = Summary {
        reused: kept(true),
        decoded: kept(false),
        skipped_tsv: target.join("skipped.tsv"),
        ..Summary::default()
    };
    for (split, list) in splits {
        let path = target.join(format!("{split}.csv"));
        write_atomically(&path, |out| {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(["wav_filename", "wav_filesize", "transcript"])?;
            for (item, text, size, _) in &list {
                let name = item.clip.to_string_lossy().replace('\\', "/");
                csv.write_record([name.as_str(), &size.to_string(), text.as_str()])?;
            }
            csv.flush()
        })
        .map_err(write_error(&path))?;
        summary.csvs.push(CsvSummary {
            path,
            rows: list.len(),
            seconds: list.iter().map(|r| r.3 as f64).sum::<f64>() / f64::from(SAMPLE_RATE),
        });
    }
    skipped.sort_by_key(|(index, _)| *index);
    summary.skipped = skipped.into_iter().map(|(_, row)| row).collect();
    write_skipped(&summary.skipped_tsv, &summary.skipped)
        .map_err(write_error(&summary.skipped_tsv))?;
    Ok(summary)
}

/// Makes sure `wav` holds `audio` (stored as `format`) as 16 kHz mono WAV: reuses it when
/// complete, else decodes and writes it. `Ok(Err(..))` is a skipped clip, `Err` a failure to
/// write the output.
fn convert(
    audio: &Path,
    format: SourceFormat,
    wav: &Path,
    max_secs: f64,
) -> Result<Result<Clip, (SkipReason, String)>, ImportError> {
    let too_long = |samples: u64| {
        let secs = samples as f64 / f64::from(SAMPLE_RATE);
        (secs > max_secs).then(|| (SkipReason::TooLong, format!("{secs:.2} s > {max_secs} s")))
    };
    if let Some((size, samples)) = complete_wav(wav) {
        return Ok(match too_long(samples) {
            Some(skip) => Err(skip),
            None => Ok(Clip {
                samples,
                size,
                reused: true,
            }),
        });
    }
    if !audio.is_file() {
        return Ok(Err((SkipReason::MissingAudio, String::new())));
    }
    let samples = match decode::decode_file(audio, format) {
        Ok(samples) => samples,
        Err(message) => return Ok(Err((SkipReason::UnreadableAudio, message))),
    };
    if let Some(skip) = too_long(samples.len() as u64) {
        return Ok(Err(skip));
    }
    let size = write_wav(wav, &samples).map_err(|source| ImportError::Write {
        path: wav.to_owned(),
        source,
    })?;
    Ok(Ok(Clip {
        samples: samples.len() as u64,
        size,
        reused: false,
    }))
}
