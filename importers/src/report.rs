//! What an import produced and what it left out: the summary printed at the end and
//! `skipped.tsv`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::writer::write_atomically;

/// Why a row was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// Nothing left of the transcript after normalisation.
    EmptyTranscript,
    /// Digits in the transcript (without `--spell_numbers`).
    Digits,
    /// Characters outside the alphabet after normalisation.
    OutsideAlphabet,
    /// No transcript for an audio file (folder corpus: no `.txt`; Drascula: a clip the game
    /// pairs with no text, or a sound effect).
    NoTranscript,
    /// The transcript file exists but cannot be used: unreadable (permissions, an I/O error),
    /// not UTF-8, or larger than any transcript.
    UnreadableTranscript,
    /// The corpus pairs the audio with two different texts (or with a text it does not say),
    /// so neither can be trusted.
    AmbiguousTranscript,
    /// The audio file the row names does not exist.
    MissingAudio,
    /// GStreamer could not decode the audio (corrupt, unknown format, no audio stream).
    UnreadableAudio,
    /// Longer than `--max_secs`.
    TooLong,
    /// Fewer feature frames than CTC needs for the transcript.
    TooShort,
    /// Another row's audio file maps to the same WAV name.
    DuplicateClip,
    /// The corpus row itself could not be used (malformed line, unsafe path).
    BadRow,
}

impl SkipReason {
    /// The reason as written in `skipped.tsv` and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::EmptyTranscript => "empty transcript",
            SkipReason::Digits => "digits in transcript",
            SkipReason::OutsideAlphabet => "characters outside the alphabet",
            SkipReason::NoTranscript => "no transcript",
            SkipReason::UnreadableTranscript => "unreadable transcript",
            SkipReason::AmbiguousTranscript => "ambiguous transcript",
            SkipReason::MissingAudio => "missing audio file",
            SkipReason::UnreadableAudio => "unreadable audio",
            SkipReason::TooLong => "too long",
            SkipReason::TooShort => "too short for its transcript",
            SkipReason::DuplicateClip => "duplicate clip name",
            SkipReason::BadRow => "unreadable row",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row left out of the CSVs.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedRow {
    /// The CSV the row would have gone to (without `.csv`).
    pub split: String,
    /// Where the row comes from (`train.tsv:4`).
    pub origin: String,
    /// The audio file, relative to the source folder.
    pub audio: String,
    /// The transcript as the corpus gives it.
    pub transcript: String,
    /// Why it was left out.
    pub reason: SkipReason,
    /// Details: the characters, the durations, GStreamer's error.
    pub detail: String,
}

/// One CSV written.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvSummary {
    /// The CSV file.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: usize,
    /// Total audio duration of its rows, in seconds.
    pub seconds: f64,
}

/// The outcome of one import.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The CSVs written, in corpus order.
    pub csvs: Vec<CsvSummary>,
    /// Every row left out.
    pub skipped: Vec<SkippedRow>,
    /// WAVs found complete from an earlier run and reused.
    pub reused: usize,
    /// WAVs decoded and written by this run.
    pub decoded: usize,
    /// Where the skipped rows were written.
    pub skipped_tsv: PathBuf,
}

impl Summary {
    /// Skipped rows counted per reason.
    pub fn skipped_by_reason(&self) -> BTreeMap<SkipReason, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.skipped {
            *counts.entry(row.reason).or_insert(0) += 1;
        }
        counts
    }

    /// Audio seconds over all CSVs (a clip listed in two CSVs counts twice).
    pub fn seconds(&self) -> f64 {
        self.csvs.iter().map(|c| c.seconds).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "imported:")?;
        for csv in &self.csvs {
            writeln!(
                f,
                "  {:<40} {:>8} clips {:>9.3} h",
                csv.path.display(),
                csv.rows,
                csv.seconds / 3600.0
            )?;
        }
        writeln!(
            f,
            "WAVs: {} written, {} reused from an earlier run",
            self.decoded, self.reused
        )?;
        if self.skipped.is_empty() {
            writeln!(f, "skipped: none")
        } else {
            writeln!(f, "skipped {} row(s):", self.skipped.len())?;
            for (reason, count) in self.skipped_by_reason() {
                writeln!(f, "  {:<32} {count:>8}", reason.as_str())?;
            }
            writeln!(f, "details in {}", self.skipped_tsv.display())
        }
    }
}

/// Writes `skipped.tsv` (`split, origin, audio, transcript, reason, detail`), atomically.
/// Tabs and line breaks inside fields become spaces.
pub fn write_skipped(path: &Path, rows: &[SkippedRow]) -> std::io::Result<()> {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    write_atomically(path, |out| {
        writeln!(out, "split\torigin\taudio\ttranscript\treason\tdetail")?;
        for r in rows {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}",
                clean(&r.split),
                clean(&r.origin),
                clean(&r.audio),
                clean(&r.transcript),
                r.reason,
                clean(&r.detail)
            )?;
        }
        Ok(())
    })
}
