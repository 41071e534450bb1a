//! A generic folder: every audio file (by extension) under `source`, recursively, whose
//! transcript is a `.txt` file of the same stem beside it (`a/b.mp3` + `a/b.txt`). The
//! transcript's lines are joined with spaces. One CSV, named after the folder.

use std::path::Path;

use super::{Item, ListError, Listing, clip_path, listing_skip, walk};
use crate::decode::SourceFormat;
use crate::report::SkipReason;

/// File extensions taken as audio (any format GStreamer decodes would do; these are the
/// common ones, so that unrelated files are not tried).
pub const AUDIO_EXTENSIONS: [&str; 13] = [
    "wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac", "wma", "webm", "mka", "aiff", "spx",
];

/// The largest `.txt` read as a transcript: a clip's transcript is a few hundred bytes, and a
/// larger file (a book, a log) is not one, however long the clip.
pub const MAX_TRANSCRIPT_BYTES: u64 = 1 << 20;

/// The transcript in `text_file`, its lines joined with spaces; or why there is none: missing,
/// unreadable (naming the error), too large (checked before reading), not UTF-8.
fn read_transcript(text_file: &Path) -> Result<String, (SkipReason, String)> {
    use std::io::Read;
    let name = text_file.display();
    let unreadable = |e: std::io::Error| {
        (
            SkipReason::UnreadableTranscript,
            format!("cannot read {name}: {e}"),
        )
    };
    let file = match std::fs::File::open(text_file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let base = text_file.file_name().unwrap_or_default().to_string_lossy();
            return Err((SkipReason::NoTranscript, format!("no {base}")));
        }
        Err(e) => return Err(unreadable(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_TRANSCRIPT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_TRANSCRIPT_BYTES {
        return Err((
            SkipReason::UnreadableTranscript,
            format!("{name} is larger than {MAX_TRANSCRIPT_BYTES} bytes: not a clip's transcript"),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text.split_whitespace().collect::<Vec<_>>().join(" ")),
        Err(_) => Err((
            SkipReason::UnreadableTranscript,
            format!("{name} is not UTF-8 text"),
        )),
    }
}

/// Lists the audio files of `source` and their transcripts.
pub fn list(source: &Path) -> Result<Listing, ListError> {
    let split = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "folder".to_owned());
    let mut listing = Listing::default();
    for file in walk(source)? {
        let is_audio = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if !is_audio {
            continue;
        }
        let relative = file.strip_prefix(source).unwrap_or(&file).to_owned();
        let origin = relative.display().to_string();
        let Some(clip) = clip_path(&relative) else {
            continue;
        };
        let text_file = file.with_extension("txt");
        let transcript = match read_transcript(&text_file) {
            Ok(text) => text,
            Err((reason, detail)) => {
                listing.skipped.push(listing_skip(
                    &split,
                    origin.clone(),
                    &origin,
                    "",
                    reason,
                    detail,
                ));
                continue;
            }
        };
        listing.items.push(Item {
            split: split.clone(),
            origin,
            audio: file,
            format: SourceFormat::Detect,
            clip,
            transcript,
        });
    }
    if listing.items.is_empty() && listing.skipped.is_empty() {
        return Err(ListError::Layout(format!(
            "no audio file ({}) under {}",
            AUDIO_EXTENSIONS.join(", "),
            source.display()
        )));
    }
    Ok(listing)
}
