//! Shared helpers for the end-to-end tests in `tests/tests/`: paths to the shared data and a
//! runner for `gst-launch-1.0` pipelines.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// A fresh temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deepspeech-it-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
}

/// Runs `gst-launch-1.0 -q` with the given pipeline elements; panics with its stderr on failure.
pub fn gst_launch(pipeline: &[&str]) {
    let out = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline)
        .output()
        .expect("gst-launch-1.0 runs (apt-get install gstreamer1.0-tools)");
    assert!(
        out.status.success(),
        "gst-launch-1.0 {}: {}",
        pipeline.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
