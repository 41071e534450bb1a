//! Common Voice. Two layouts:
//! - since 2019: `train.tsv`, `dev.tsv`, `test.tsv`, `validated.tsv`, `other.tsv` (tab-separated,
//!   unquoted, with `path` and `sentence` columns) and the clips in `clips/`;
//! - the first release (the one DeepSpeech's `bin/import_cv.py` read): `cv-valid-{train,dev,test}.csv`
//!   and `cv-other-{train,dev,test}.csv` (comma-separated, `filename,text,...`), clips relative to
//!   the source folder.
//!
//! `invalidated.tsv` and `reported.tsv` hold clips the community rejected; they are not imported.

use std::path::Path;

use super::{Item, ListError, Listing, clip_path, listing_skip};
use crate::decode::SourceFormat;
use crate::report::SkipReason;

/// The TSVs of the current layout, in the order their CSVs are written.
pub const TSV_SPLITS: [&str; 5] = ["train", "dev", "test", "validated", "other"];

/// The CSVs of the first release's layout.
pub const OLD_SPLITS: [&str; 6] = [
    "cv-valid-train",
    "cv-valid-dev",
    "cv-valid-test",
    "cv-other-train",
    "cv-other-dev",
    "cv-other-test",
];

/// Lists the rows of every split present at `source`.
pub fn list(source: &Path) -> Result<Listing, ListError> {
    let mut listing = Listing::default();
    let mut found = false;
    for split in TSV_SPLITS {
        let tsv = source.join(format!("{split}.tsv"));
        if tsv.is_file() {
            found = true;
            read_table(
                &tsv,
                split,
                b'\t',
                ("path", "sentence"),
                &source.join("clips"),
                &mut listing,
            )?;
        }
    }
    if !found {
        for split in OLD_SPLITS {
            let csv = source.join(format!("{split}.csv"));
            if csv.is_file() {
                found = true;
                read_table(
                    &csv,
                    split,
                    b',',
                    ("filename", "text"),
                    source,
                    &mut listing,
                )?;
            }
        }
    }
    if !found {
        return Err(ListError::Layout(format!(
            "{} is not a Common Voice folder: none of {} nor {} is there",
            source.display(),
            TSV_SPLITS.map(|s| format!("{s}.tsv")).join(", "),
            OLD_SPLITS.map(|s| format!("{s}.csv")).join(", "),
        )));
    }
    Ok(listing)
}

fn read_table(
    table: &Path,
    split: &str,
    delimiter: u8,
    (audio_column, text_column): (&str, &str),
    audio_root: &Path,
    listing: &mut Listing,
) -> Result<(), ListError> {
    let name = table
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        // Common Voice TSVs are not quoted: a sentence may start with `"`.
        .quoting(delimiter != b'\t')
        .flexible(true)
        .from_path(table)
        .map_err(|e| csv_error(table, e))?;
    let headers = reader.headers().map_err(|e| csv_error(table, e))?.clone();
    let column = |wanted: &str| {
        headers
            .iter()
            .position(|h| h.trim() == wanted)
            .ok_or_else(|| {
                ListError::Layout(format!("{} has no `{wanted}` column", table.display()))
            })
    };
    let (audio_col, text_col) = (column(audio_column)?, column(text_column)?);
    for (index, record) in reader.records().enumerate() {
        let origin = format!("{name}:{}", index + 2);
        let row = match record {
            Ok(row) => row,
            Err(e) => {
                listing.skipped.push(listing_skip(
                    split,
                    origin,
                    "",
                    "",
                    SkipReason::BadRow,
                    e.to_string(),
                ));
                continue;
            }
        };
        let audio = row.get(audio_col).unwrap_or_default().trim();
        let transcript = row.get(text_col).unwrap_or_default().trim();
        let relative = Path::new(audio);
        let Some(clip) = clip_path(relative) else {
            listing.skipped.push(listing_skip(
                split,
                origin,
                audio,
                transcript,
                SkipReason::BadRow,
                "the audio path is empty or leaves the corpus folder",
            ));
            continue;
        };
        // Some releases list clips without their `.mp3` extension.
        let mut path = audio_root.join(relative);
        if !path.exists() && relative.extension().is_none() {
            path = path.with_extension("mp3");
        }
        listing.items.push(Item {
            split: split.to_owned(),
            origin,
            audio: path,
            format: SourceFormat::Detect,
            clip,
            transcript: transcript.to_owned(),
        });
    }
    Ok(())
}

fn csv_error(path: &Path, e: csv::Error) -> ListError {
    match e.into_kind() {
        csv::ErrorKind::Io(source) => ListError::Io {
            path: path.to_owned(),
            source,
        },
        other => ListError::Layout(format!("{}: {other:?}", path.display())),
    }
}
