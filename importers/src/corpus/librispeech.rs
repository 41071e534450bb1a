//! LibriSpeech: `<split>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`, one line
//! `<speaker>-<chapter>-<utterance> TRANSCRIPT` per utterance, audio in `<id>.flac` beside it.
//! One CSV per split folder (`train-clean-100.csv`, `dev-clean.csv`, ...). `source` is the folder
//! holding the split folders (the archives' `LibriSpeech/`), or one split folder itself.

use std::path::Path;

use super::{Item, ListError, Listing, clip_path, listing_skip, walk};
use crate::decode::SourceFormat;
use crate::report::SkipReason;

const SUFFIX: &str = ".trans.txt";

/// Lists every utterance of every `*.trans.txt` under `source`.
pub fn list(source: &Path) -> Result<Listing, ListError> {
    let own_name = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "librispeech".to_owned());
    let mut listing = Listing::default();
    let transcripts: Vec<_> = walk(source)?
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(SUFFIX))
        .collect();
    if transcripts.is_empty() {
        return Err(ListError::Layout(format!(
            "{} is not a LibriSpeech folder: no *{SUFFIX} file under it",
            source.display()
        )));
    }
    for file in transcripts {
        let relative = file.strip_prefix(source).unwrap_or(&file);
        // split/speaker/chapter/file, or speaker/chapter/file when `source` is one split.
        let components: Vec<_> = relative.components().collect();
        let split = if components.len() >= 4 {
            components[0].as_os_str().to_string_lossy().into_owned()
        } else {
            own_name.clone()
        };
        let folder = file.parent().unwrap_or(source);
        let folder_relative = relative.parent().unwrap_or(Path::new(""));
        let text = std::fs::read(&file).map_err(ListError::io(&file))?;
        let text = String::from_utf8_lossy(&text);
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let origin = format!("{}:{}", relative.display(), index + 1);
            let (id, transcript) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let audio_relative = folder_relative.join(format!("{id}.flac"));
            let Some(clip) = clip_path(&audio_relative) else {
                listing.skipped.push(listing_skip(
                    &split,
                    origin,
                    id,
                    transcript,
                    SkipReason::BadRow,
                    "the utterance id is not a file name",
                ));
                continue;
            };
            listing.items.push(Item {
                split: split.clone(),
                origin,
                audio: folder.join(format!("{id}.flac")),
                format: SourceFormat::Detect,
                clip,
                transcript: transcript.trim().to_owned(),
            });
        }
    }
    Ok(listing)
}
