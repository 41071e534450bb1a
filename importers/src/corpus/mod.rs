//! Corpus layouts: each module lists the rows of one kind of corpus (audio file, raw
//! transcript, the CSV it belongs to) without touching the audio.

pub mod common_voice;
pub mod drascula;
pub mod folder;
pub mod librispeech;

use std::path::{Component, Path, PathBuf};

use crate::decode::SourceFormat;
use crate::report::{SkipReason, SkippedRow};

/// The corpus layouts `ds-import` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    /// Common Voice: `{train,dev,test,validated,other}.tsv` + `clips/*.mp3`, or the older
    /// `cv-valid-*.csv` / `cv-other-*.csv` layout.
    CommonVoice,
    /// LibriSpeech: `<split>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt` + FLAC.
    LibriSpeech,
    /// Any folder: every audio file with a `.txt` transcript of the same stem.
    Folder,
    /// The English speech of the game Drascula: `drascula.dat` (ScummVM's text tables) and the
    /// `*.ALS` clips (raw 8-bit 11025 Hz), paired as the game pairs them.
    Drascula,
}

impl Corpus {
    /// Lists the rows of the corpus at `source`; `splits`, when given, keeps only those CSVs.
    pub fn list(self, source: &Path, splits: Option<&[String]>) -> Result<Listing, ListError> {
        let mut listing = match self {
            Corpus::CommonVoice => common_voice::list(source)?,
            Corpus::LibriSpeech => librispeech::list(source)?,
            Corpus::Folder => folder::list(source)?,
            Corpus::Drascula => drascula::list(source)?,
        };
        if let Some(splits) = splits {
            listing.items.retain(|i| splits.contains(&i.split));
            listing.skipped.retain(|s| splits.contains(&s.split));
            if listing.items.is_empty() && listing.skipped.is_empty() {
                return Err(ListError::Layout(format!(
                    "none of the splits {} is in {}",
                    splits.join(", "),
                    source.display()
                )));
            }
        }
        Ok(listing)
    }
}

/// One row of a corpus, before its audio is looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The output CSV's name without `.csv` (`train`, `dev-clean`, ...).
    pub split: String,
    /// Where the row comes from, for reports: `train.tsv:4`, `19/198/19-198.trans.txt:2`.
    pub origin: String,
    /// The source audio file.
    pub audio: PathBuf,
    /// How [`Item::audio`] is stored ([`SourceFormat::Detect`] for ordinary audio files).
    pub format: SourceFormat,
    /// The WAV to write, relative to the target folder (`clips/....wav`).
    pub clip: PathBuf,
    /// The transcript as the corpus gives it.
    pub transcript: String,
}

/// The rows of a corpus and the rows that could not even be listed.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Usable rows, in corpus order.
    pub items: Vec<Item>,
    /// Rows left out while listing (no transcript, unreadable row, unsafe path).
    pub skipped: Vec<SkippedRow>,
}

/// A corpus that cannot be listed at all.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A file or folder of the corpus cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The source does not look like the corpus.
    #[error("{0}")]
    Layout(String),
}

impl ListError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ListError + '_ {
        move |source| ListError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// `clips/<relative path>.wav`, if `relative` stays inside its folder (no `..`, not absolute).
pub(crate) fn clip_path(relative: &Path) -> Option<PathBuf> {
    if relative.as_os_str().is_empty()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(Path::new("clips").join(relative).with_extension("wav"))
}

/// A skipped row found while listing.
pub(crate) fn listing_skip(
    split: &str,
    origin: String,
    audio: &str,
    transcript: &str,
    reason: SkipReason,
    detail: impl Into<String>,
) -> SkippedRow {
    SkippedRow {
        split: split.to_owned(),
        origin,
        audio: audio.to_owned(),
        transcript: transcript.to_owned(),
        reason,
        detail: detail.into(),
    }
}

/// Every file under `dir`, recursively, sorted by path (so listings are reproducible). Each
/// folder is read once, however many symbolic links lead to it, so a link loop
/// (`sub/loop -> ..`) ends instead of listing every file again at every depth.
pub(crate) fn walk(dir: &Path) -> Result<Vec<PathBuf>, ListError> {
    let mut files = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        if !seen.insert(d.canonicalize().unwrap_or_else(|_| d.clone())) {
            continue;
        }
        for entry in std::fs::read_dir(&d).map_err(ListError::io(&d))? {
            let entry = entry.map_err(ListError::io(&d))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_loop_lists_each_file_once() {
        let dir = std::env::temp_dir().join(format!("ds-walk-loop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.wav"), b"").unwrap();
        std::fs::write(dir.join("sub/b.wav"), b"").unwrap();
        std::os::unix::fs::symlink("..", dir.join("sub/loop")).unwrap();
        let files = walk(&dir).unwrap();
        assert_eq!(files, vec![dir.join("a.wav"), dir.join("sub/b.wav")]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn clip_paths_stay_inside_the_target() {
        assert_eq!(
            clip_path(Path::new("a/b.mp3")),
            Some(PathBuf::from("clips/a/b.wav"))
        );
        assert_eq!(clip_path(Path::new("../b.mp3")), None);
        assert_eq!(clip_path(Path::new("/etc/b.mp3")), None);
        assert_eq!(clip_path(Path::new("")), None);
    }
}
