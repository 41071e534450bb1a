//! Helpers shared by the training tests (`mod common;` in each test file that needs them).

use std::path::{Path, PathBuf};

/// A file under `../shared/data` beside the repository.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// A CSV of six real FSDD recordings ("zero" … "five", absolute paths) in `dir`: 3 batches of 2
/// per epoch.
pub fn fsdd_csv(dir: &Path) -> PathBuf {
    let words = ["zero", "one", "two", "three", "four", "five"];
    let mut text = String::from("wav_filename,wav_filesize,transcript\n");
    for (digit, word) in words.iter().enumerate() {
        let wav = shared(&format!("fsdd/recordings/{digit}_jackson_10.wav"));
        let size = std::fs::metadata(&wav).unwrap().len();
        text.push_str(&format!("{},{size},{word}\n", wav.display()));
    }
    let csv = dir.join("fsdd6.csv");
    std::fs::write(&csv, text).unwrap();
    csv
}
