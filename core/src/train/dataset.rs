//! DeepSpeech dataset CSVs: `wav_filename,wav_filesize,transcript`, one sample per row, paths
//! relative to the CSV's own folder. Malformed rows are reported with file and line and
//! skipped, never fatal; a set with no usable row is an error.

use std::path::{Path, PathBuf};

use crate::alphabet::Alphabet;
use crate::error::DatasetError;

/// One usable row.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The audio file, resolved against the CSV's folder.
    pub wav: PathBuf,
    /// `wav_filesize` as given (used to sort by length, as DeepSpeech does).
    pub size: u64,
    /// The transcript.
    pub transcript: String,
    /// The transcript's labels.
    pub labels: Vec<u32>,
    /// Where the row came from, for messages: (CSV file, 1-based line).
    pub origin: (PathBuf, usize),
}

/// A row that was left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The CSV file.
    pub file: PathBuf,
    /// 1-based line number (0 when the problem is not tied to a row).
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

/// The usable rows of one or more CSVs and the rows that were skipped.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Usable samples, in file order.
    pub samples: Vec<Sample>,
    /// Skipped rows.
    pub skipped: Vec<Skipped>,
}

impl Dataset {
    /// Loads every CSV; `what` names the set in errors ("train", "dev", "test").
    pub fn load(csvs: &[PathBuf], alphabet: &Alphabet, what: &str) -> Result<Self, DatasetError> {
        let mut set = Dataset::default();
        for csv in csvs {
            set.read_csv(csv, alphabet)?;
        }
        if set.samples.is_empty() {
            let files: Vec<String> = csvs.iter().map(|p| p.display().to_string()).collect();
            return Err(DatasetError::Empty {
                what: what.to_owned(),
                detail: format!(
                    "no usable row in {} ({} row(s) skipped)",
                    files.join(", "),
                    set.skipped.len()
                ),
            });
        }
        Ok(set)
    }

    fn read_csv(&mut self, csv: &Path, alphabet: &Alphabet) -> Result<(), DatasetError> {
        let io = |reason| DatasetError::Io {
            path: csv.to_owned(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(csv)
            .map_err(|e| io(csv_io(e)))?;
        let headers = reader.headers().map_err(|e| io(csv_io(e)))?.clone();
        let column = |name: &'static str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or(DatasetError::MissingColumn {
                    path: csv.to_owned(),
                    column: name,
                })
        };
        let (wav_col, size_col, text_col) = (
            column("wav_filename")?,
            column("wav_filesize")?,
            column("transcript")?,
        );
        let base = csv.parent().unwrap_or(Path::new("."));
        for (index, record) in reader.byte_records().enumerate() {
            let line = record
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(index + 2, |p| p.line() as usize);
            let skip = |reason: String| Skipped {
                file: csv.to_owned(),
                line,
                reason,
            };
            let row = match record.map(csv::StringRecord::from_byte_record) {
                Ok(Ok(row)) => row,
                Ok(Err(e)) => {
                    // Shown as the text it is, invalid bytes as U+FFFD, not as Rust's byte list.
                    let text: Vec<String> = e
                        .into_byte_record()
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    self.skipped.push(skip(format!(
                        "the row is not UTF-8 text: {}",
                        text.join(",")
                    )));
                    continue;
                }
                Err(e) => {
                    self.skipped.push(skip(format!("unreadable row: {e}")));
                    continue;
                }
            };
            match parse_row(&row, (wav_col, size_col, text_col), base, alphabet) {
                Ok((wav, size, transcript, labels)) => self.samples.push(Sample {
                    wav,
                    size,
                    transcript,
                    labels,
                    origin: (csv.to_owned(), line),
                }),
                Err(reason) => self.skipped.push(skip(reason)),
            }
        }
        Ok(())
    }
}

type Row = (PathBuf, u64, String, Vec<u32>);

fn parse_row(
    row: &csv::StringRecord,
    (wav_col, size_col, text_col): (usize, usize, usize),
    base: &Path,
    alphabet: &Alphabet,
) -> Result<Row, String> {
    let field = |i: usize, name: &str| {
        row.get(i)
            .ok_or_else(|| format!("{} field(s), no {name}", row.len()))
    };
    let wav = field(wav_col, "wav_filename")?.trim();
    if wav.is_empty() {
        return Err("empty wav_filename".into());
    }
    let size_text = field(size_col, "wav_filesize")?.trim();
    let size: u64 = size_text
        .parse()
        .map_err(|_| format!("wav_filesize {size_text:?} is not a number"))?;
    let transcript = field(text_col, "transcript")?.trim().to_owned();
    if transcript.is_empty() {
        return Err("empty transcript".into());
    }
    let labels = alphabet
        .encode(&transcript)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|l| l as u32)
        .collect();
    let path = base.join(wav);
    if !path.is_file() {
        return Err(format!("audio file {} does not exist", path.display()));
    }
    Ok((path, size, transcript, labels))
}

fn csv_io(e: csv::Error) -> std::io::Error {
    if !matches!(e.kind(), csv::ErrorKind::Io(_)) {
        return std::io::Error::other(e.to_string());
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        _ => unreachable!("checked to be an I/O error just above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_good_rows_and_reports_bad_ones_with_their_line() {
        let dir = std::env::temp_dir().join(format!("ds-dataset-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("clips")).unwrap();
        std::fs::write(dir.join("clips/a.wav"), b"x").unwrap();
        let csv = write(
            &dir,
            "set.csv",
            "wav_filename,wav_filesize,transcript\n\
             clips/a.wav,100,hello world\n\
             clips/a.wav,abc,bad size\n\
             clips/missing.wav,5,no file\n\
             clips/a.wav,7,Capital\n\
             clips/a.wav,8\n\
             clips/a.wav,9,\"quoted, with comma\"\n",
        );
        let alphabet =
            Alphabet::parse(" \na\nb\nc\nd\ne\nf\nh\ni\nl\nm\nn\no\nq\nr\nt\nu\nw\n,\n").unwrap();
        let set = Dataset::load(std::slice::from_ref(&csv), &alphabet, "train").unwrap();
        assert_eq!(set.samples.len(), 2);
        assert_eq!(set.samples[0].wav, dir.join("clips/a.wav"));
        assert_eq!(set.samples[0].size, 100);
        assert_eq!(set.samples[0].origin.1, 2);
        assert_eq!(set.samples[1].transcript, "quoted, with comma");
        let reasons: Vec<String> = set.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(
            reasons[0].ends_with("set.csv:3: wav_filesize \"abc\" is not a number"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].contains(":4: audio file") && reasons[1].contains("does not exist"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains(":5: ") && reasons[2].contains("'C'"),
            "{reasons:?}"
        );
        assert!(
            reasons[3].contains(":6: ") && reasons[3].contains("no transcript"),
            "{reasons:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A row (or header) that is not UTF-8 is reported with its text, the invalid bytes as
    /// U+FFFD, not as the csv crate's debug output.
    #[test]
    fn non_utf8_rows_are_shown_as_text() {
        let dir = std::env::temp_dir().join(format!("ds-dataset-utf8-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("clips")).unwrap();
        std::fs::write(dir.join("clips/a.wav"), b"x").unwrap();
        let csv = dir.join("set.csv");
        std::fs::write(
            &csv,
            b"wav_filename,wav_filesize,transcript\nclips/a.wav,1,hello\nclips/a.wav,2,caf\xe9\n",
        )
        .unwrap();
        let set = Dataset::load(std::slice::from_ref(&csv), &Alphabet::english(), "train").unwrap();
        let reasons: Vec<String> = set.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].ends_with("set.csv:3: the row is not UTF-8 text: clips/a.wav,2,caf\u{fffd}"),
            "{reasons:?}"
        );
        let header = dir.join("header.csv");
        std::fs::write(&header, b"wav_filename,wav_filesize,transcr\xefpt\n").unwrap();
        let e = Dataset::load(&[header], &Alphabet::english(), "train")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid utf-8") && !e.contains("Utf8Error"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_sets_and_bad_headers_are_errors() {
        let dir = std::env::temp_dir().join(format!("ds-dataset-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let alphabet = Alphabet::english();
        let empty = write(&dir, "empty.csv", "wav_filename,wav_filesize,transcript\n");
        let e = Dataset::load(&[empty], &alphabet, "dev")
            .unwrap_err()
            .to_string();
        assert!(e.contains("the dev set is empty"), "{e}");
        let bad = write(&dir, "bad.csv", "file,size,text\nx.wav,1,a\n");
        let e = Dataset::load(&[bad], &alphabet, "dev")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `wav_filename` column"), "{e}");
        let e = Dataset::load(&[dir.join("nope.csv")], &alphabet, "dev")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.csv"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn shared_ldc93s1_csv_loads() {
        let csv =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ldc93s1/ldc93s1.csv");
        let set = Dataset::load(&[csv], &Alphabet::english(), "train").unwrap();
        assert_eq!(set.samples.len(), 1);
        assert_eq!(
            set.samples[0].transcript,
            "she had your dark suit in greasy wash water all year"
        );
        assert!(set.skipped.is_empty());
    }
}
