//! The Python module on today's Python (issue 22): DeepSpeech 0.9.3's own client (`client.py`
//! from its wheel) with only its import line changed to `deepspeech_rs`, run on Python 3.12,
//! prints what DeepSpeech's runtime prints on Python 3.9; the streaming script through the same
//! API gives the same; and the module's own behaviours (errors, finished streams, buffer types)
//! are DeepSpeech's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[path = "../../capi/tests/common/reference.rs"]
mod reference;

use reference::{deepspeech_venv, deps_dir, fixture, ldc93s1, run, venv};

/// A folder holding our extension as `deepspeech_rs.abi3.so` (what the wheel installs), for
/// `PYTHONPATH`.
fn module_dir(dir: &Path) -> PathBuf {
    let built = deps_dir().join("libdeepspeech_rs.so");
    assert!(built.is_file(), "no {}", built.display());
    std::fs::copy(&built, dir.join("deepspeech_rs.abi3.so")).unwrap();
    dir.to_owned()
}

/// Python 3.12 with numpy (made once, whichever test asks first).
fn python312() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv("py312-venv", 12, &["numpy"], "bin/f2py"))
}

#[test]
fn deepspeechs_client_with_its_import_changed_runs_on_python_3_12_as_deepspeech_does() {
    let dir = tempfile::tempdir().unwrap();
    let modules = module_dir(dir.path());
    let (python39, package) = deepspeech_venv();
    let original = std::fs::read_to_string(package.join("client.py")).unwrap();
    let import = "from deepspeech import Model, version";
    assert_eq!(original.matches(import).count(), 1, "client.py changed");
    let client = dir.path().join("client.py");
    std::fs::write(
        &client,
        original.replace(import, "from deepspeech_rs import Model, version"),
    )
    .unwrap();
    let model = fixture("deepspeech/ldc93s1-64.pbmm");
    let scorer = fixture("scorer/word-order5-trie-q8-a255.scorer");
    let mut cases: Vec<Vec<String>> = Vec::new();
    for extra in [
        &[][..],
        &["--extended"],
        &["--json", "--candidate_transcripts", "5"],
        &["--hot_words", "she:5.0,water:-3.5"],
        &["--beam_width", "10", "--lm_alpha", "0.5", "--lm_beta", "2"],
    ] {
        let mut args = vec![
            "--model".into(),
            model.display().to_string(),
            "--scorer".into(),
            scorer.display().to_string(),
            "--audio".into(),
            ldc93s1().display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        cases.push(args);
    }
    for args in &cases {
        let reference = run(Command::new(python39)
            .args(["-m", "deepspeech.client"])
            .args(args));
        let ours = run(Command::new(python312())
            .env("PYTHONPATH", &modules)
            .arg(&client)
            .args(args));
        assert!(!reference.trim().is_empty());
        assert_eq!(ours, reference, "{args:?}");
    }
}

#[test]
fn streaming_through_the_module_equals_deepspeech() {
    let dir = tempfile::tempdir().unwrap();
    let modules = module_dir(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../capi/tests/python/stream.py");
    let args = [
        fixture("deepspeech/ldc93s1-64.pbmm"),
        fixture("scorer/word-order5-trie-q8-a255.scorer"),
        ldc93s1(),
    ];
    let (python39, _) = deepspeech_venv();
    let reference = run(Command::new(python39).arg(&script).args(&args));
    let ours = run(Command::new(python312())
        .env("PYTHONPATH", &modules)
        .env("DEEPSPEECH_MODULE", "deepspeech_rs")
        .arg(&script)
        .args(&args));
    assert!(reference.lines().count() > 10);
    assert_eq!(ours, reference);
}

#[test]
fn errors_finished_streams_and_buffers_behave_as_in_deepspeech() {
    let dir = tempfile::tempdir().unwrap();
    let modules = module_dir(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/behaviour.py");
    let args = [
        fixture("deepspeech/ldc93s1-64.pbmm"),
        fixture("scorer/word-order5-trie-q8-a255.scorer"),
        ldc93s1(),
    ];
    // The checks hold for DeepSpeech's own package...
    let (python39, _) = deepspeech_venv();
    let theirs = run(Command::new(python39).arg(&script).args(&args));
    assert!(theirs.contains("all checks passed"), "{theirs}");
    // ...and for ours, with the extra ones (other buffer types, threads).
    let ours = run(Command::new(python312())
        .env("PYTHONPATH", &modules)
        .env("DEEPSPEECH_MODULE", "deepspeech_rs")
        .arg(&script)
        .args(&args));
    assert!(ours.contains("all checks passed"), "{ours}");
}
