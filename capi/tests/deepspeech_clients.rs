//! Real clients that nobody here wrote, run on our `libdeepspeech.so` and on DeepSpeech's own
//! (issue 22), expecting the same output byte for byte:
//!
//! - DeepSpeech 0.9.3's C++ command-line client (`third_party/deepspeech-0.9.3-client`,
//!   unmodified), compiled once against our header, run with either library;
//! - the PyPI `deepspeech==0.9.3` wheel on Python 3.9: its SWIG extension and its own client
//!   (`python -m deepspeech.client`), with our library put in place of the one it bundles, and a
//!   streaming script through the same Python API.
//!
//! DeepSpeech's runtime comes from that wheel (pip, into `target/deepspeech-0.9.3-venv`, once);
//! Python 3.9 from pyenv (`/root/.pyenv/versions/3.9*`) or `$DS_PYTHON39`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/reference.rs"]
mod reference;

use reference::{deepspeech_venv, fixture, ldc93s1, repo, run, target_dir};

/// Where `cargo test` built our `libdeepspeech.so`.
fn our_library_dir() -> PathBuf {
    let deps = reference::deps_dir();
    assert!(
        deps.join("libdeepspeech.so").is_file(),
        "no libdeepspeech.so in {}",
        deps.display()
    );
    deps
}

/// A copy of the wheel's package with our library in place of DeepSpeech's; the folder to put
/// first on `PYTHONPATH`.
fn package_with_our_library(dir: &Path) -> PathBuf {
    let (_, package) = deepspeech_venv();
    let root = dir.join("ours");
    let copy = root.join("deepspeech");
    std::fs::create_dir_all(copy.join("lib")).unwrap();
    for entry in std::fs::read_dir(package).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    std::fs::copy(
        our_library_dir().join("libdeepspeech.so"),
        copy.join("lib/libdeepspeech.so"),
    )
    .unwrap();
    root
}

/// The argument sets both clients are run with: model and scorer fixtures, then options.
fn cases() -> Vec<Vec<String>> {
    let model = fixture("deepspeech/ldc93s1-64.pbmm");
    let scorer = fixture("scorer/word-order5-trie-q8-a255.scorer");
    let audio = ldc93s1();
    let base = |with_scorer: bool| {
        let mut a = vec![
            "--model".to_string(),
            model.display().to_string(),
            "--audio".to_string(),
            audio.display().to_string(),
        ];
        if with_scorer {
            a.extend(["--scorer".to_string(), scorer.display().to_string()]);
        }
        a
    };
    let with = |scorer: bool, extra: &[&str]| {
        let mut a = base(scorer);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    vec![
        with(false, &[]),
        with(true, &[]),
        with(true, &["--extended"]),
        with(true, &["--json"]),
        with(true, &["--json", "--candidate_transcripts", "5"]),
        with(true, &["--hot_words", "she:5.0,water:-3.5"]),
        with(
            true,
            &["--beam_width", "10", "--lm_alpha", "0.5", "--lm_beta", "2"],
        ),
        with(false, &["--beam_width", "1"]),
    ]
}

#[test]
fn deepspeechs_python_client_prints_the_same_with_our_library() {
    let dir = tempfile::tempdir().unwrap();
    let ours = package_with_our_library(dir.path());
    let (python, _) = deepspeech_venv();
    let client = |args: &[String], pythonpath: Option<&Path>| {
        let mut c = Command::new(python);
        c.args(["-m", "deepspeech.client"]).args(args);
        if let Some(p) = pythonpath {
            c.env("PYTHONPATH", p);
        }
        run(&mut c)
    };
    for args in cases() {
        let reference = client(&args, None);
        let with_ours = client(&args, Some(&ours));
        assert!(!reference.trim().is_empty(), "{args:?}");
        assert_eq!(with_ours, reference, "python client {args:?}");
    }
    // The library really is ours.
    let version = run(Command::new(python)
        .env("PYTHONPATH", &ours)
        .args(["-c", "import deepspeech; print(deepspeech.version())"]));
    assert!(version.contains("deepspeech-rs"), "{version}");
}

#[test]
fn streaming_through_deepspeechs_python_api_gives_the_same_with_our_library() {
    let dir = tempfile::tempdir().unwrap();
    let ours = package_with_our_library(dir.path());
    let (python, _) = deepspeech_venv();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/stream.py");
    let stream = |pythonpath: Option<&Path>| {
        let mut c = Command::new(python);
        c.arg(&script)
            .arg(fixture("deepspeech/ldc93s1-64.pbmm"))
            .arg(fixture("scorer/word-order5-trie-q8-a255.scorer"))
            .arg(ldc93s1());
        if let Some(p) = pythonpath {
            c.env("PYTHONPATH", p);
        }
        run(&mut c)
    };
    let reference = stream(None);
    assert!(reference.lines().count() > 10, "{reference}");
    assert_eq!(stream(Some(&ours)), reference);
}

/// DeepSpeech's C++ client, compiled unmodified against our header.
fn deepspeech_cpp_client(dir: &Path) -> PathBuf {
    let source = repo().join("third_party/deepspeech-0.9.3-client");
    let out = dir.join("deepspeech-client");
    run(Command::new("g++")
        .args(["-O2", "-std=c++11", "-o"])
        .arg(&out)
        .arg(source.join("client.cc"))
        .arg("-I")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("include"))
        .arg("-L")
        .arg(our_library_dir())
        .args(["-ldeepspeech", "-lsox"]));
    out
}

#[test]
fn deepspeechs_cpp_client_prints_the_same_with_our_library_and_as_our_cli() {
    let dir = tempfile::tempdir().unwrap();
    let client = deepspeech_cpp_client(dir.path());
    let (_, package) = deepspeech_venv();
    let theirs = package.join("lib");
    let with = |library: &Path, args: &[String]| {
        run(Command::new(&client)
            .env("LD_LIBRARY_PATH", library)
            .args(args))
    };
    let mut cases = cases();
    cases.push({
        let mut a = cases[1].clone();
        a.extend(["--stream".to_string(), "320".to_string()]);
        a
    });
    cases.push({
        let mut a = cases[1].clone();
        a.extend(["--extended_stream".to_string(), "1600".to_string()]);
        a
    });
    for args in &cases {
        let reference = with(&theirs, args);
        assert!(!reference.trim().is_empty(), "{args:?}");
        assert_eq!(
            with(&our_library_dir(), args),
            reference,
            "C++ client {args:?}"
        );
    }
    // Our own CLI prints the same for the plain and the streaming output (its --stream counts
    // milliseconds where DeepSpeech's client counts samples: 320 samples at 16 kHz are 20 ms).
    let cli = target_dir().join("deepspeech");
    assert!(
        cli.is_file(),
        "no {} (cargo build --release)",
        cli.display()
    );
    let streamed = &cases[cases.len() - 2];
    let mut in_ms = streamed.clone();
    *in_ms.last_mut().unwrap() = "20".into();
    for (ours, theirs_args) in [
        (&cases[0], &cases[0]),
        (&cases[1], &cases[1]),
        (&in_ms, streamed),
    ] {
        let printed = run(Command::new(&cli).args(ours));
        assert_eq!(printed, with(&theirs, theirs_args), "our CLI {ours:?}");
    }
    // -t: the timing line follows the transcript.
    let mut timed = cases[1].clone();
    timed.push("-t".into());
    let out = with(&our_library_dir(), &timed);
    assert!(out.contains("cpu_time_overall="), "{out}");
    assert_eq!(out.lines().next(), with(&theirs, &cases[1]).lines().next());
}
