//! Shared helpers for the end-to-end tests in `tests/tests/`: paths to the shared data, the
//! built plugin on a private `GST_PLUGIN_PATH`, a model trained for the tests, and runners for
//! `gst-launch-1.0` pipelines and the example scripts.

pub mod fuzz;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deepspeech-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
}

/// A folder holding only `libgstdeepspeech.so`, as cargo built it for this test run (the
/// plugin crate is a dependency of this one), to put on `GST_PLUGIN_PATH`.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let deps = exe.parent().expect("deps folder");
        let built = [
            deps.join("libgstdeepspeech.so"),
            deps.join("../libgstdeepspeech.so"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .expect("libgstdeepspeech.so built by cargo next to the test executable");
        let dir = temp_dir("plugin");
        std::fs::copy(&built, dir.join("libgstdeepspeech.so")).expect("copy the plugin");
        dir
    })
}

/// A command with the plugin (and only it, besides the system's) visible to GStreamer.
pub fn with_plugin(mut command: Command) -> Command {
    command
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", plugin_dir().join("registry.bin"));
    command
}

/// The seed's smoke-test model (LDC93S1, n_hidden 100), trained once per test binary.
pub fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        use deepspeech_core::Alphabet;
        use deepspeech_core::train::{TrainOptions, run};
        let mut o = TrainOptions::new(Alphabet::english());
        o.train_files = vec![shared_data().join("ldc93s1/ldc93s1.csv")];
        o.n_hidden = 100;
        o.epochs = 250;
        o.dropout_rate = 0.0;
        o.es_epochs = 0;
        o.export_dir = Some(temp_dir("model"));
        o.progress = false;
        run(&o)
            .expect("training the test model")
            .exported
            .expect("exported")
    })
}

/// Runs a command to completion and returns its output, panicking with stderr on failure.
pub fn run_ok(mut command: Command) -> Output {
    let out = command.output().expect("command runs");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `gst-launch-1.0 -q` with the plugin visible; panics with its stderr on failure.
pub fn gst_launch(pipeline: &[&str]) -> Output {
    let mut c = with_plugin(Command::new("gst-launch-1.0"));
    c.arg("-q").args(pipeline);
    run_ok(c)
}

/// What `deepspeech --audio FILE` prints with `model`: the whole file, read as the CLI reads it,
/// in one stream (the CLI's own code path, without the process).
pub fn cli_transcript(
    model: &std::sync::Arc<deepspeech_core::engine::Model>,
    path: &Path,
) -> String {
    let audio = deepspeech_core::audio::read_audio(path).expect("readable audio");
    model
        .transcribe(&audio.samples, audio.sample_rate, 1)
        .expect("transcribed")
        .text
        .trim()
        .to_owned()
}

/// Character error rate of `text` against `reference`.
pub fn cer(reference: &str, text: &str) -> f64 {
    let (e, n) = deepspeech_core::metrics::char_errors(reference, text);
    e as f64 / n.max(1) as f64
}

/// The LDC93S1 sentence.
pub const SENTENCE: &str = "she had your dark suit in greasy wash water all year";
