//! The C API from C (issue 22): `tests/c/api_test.c`, compiled against our header and library,
//! checks error codes and messages, null pointers, freeing, odd and empty buffers, hot-word and
//! scorer semantics, streams and threads; it runs once as it is and once under valgrind (no
//! memory error, no definite leak), and its transcripts equal the Rust API's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use deepspeech_core::engine::Model;
use deepspeech_core::lm::Scorer;

#[path = "common/reference.rs"]
mod reference;

use reference::{deps_dir as library_dir, fixture, ldc93s1};

fn compile(dir: &Path) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join("api_test");
    let status = Command::new("cc")
        .args(["-O1", "-g", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(manifest.join("tests/c/api_test.c"))
        .arg("-I")
        .arg(manifest.join("include"))
        .arg("-L")
        .arg(library_dir())
        .args(["-ldeepspeech", "-lpthread", "-lm"])
        .status()
        .expect("cc runs");
    assert!(status.success(), "api_test.c does not compile");
    out
}

/// Runs the C test (under `wrapper` if given); its stdout.
fn run(program: &Path, wrapper: &[&str]) -> String {
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = command
        .arg(fixture("deepspeech/ldc93s1-64.pbmm"))
        .arg(fixture("scorer/word-order5-trie-q8-a255.scorer"))
        .arg(ldc93s1())
        .env("LD_LIBRARY_PATH", library_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{wrapper:?} api_test: {}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("FAILED"), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn line<'a>(out: &'a str, tag: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(tag).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {tag} line in {out}"))
}

#[test]
fn the_c_api_from_c_equals_the_rust_api() {
    let dir = tempfile::tempdir().unwrap();
    let program = compile(dir.path());
    let out = run(&program, &[]);

    let audio: Vec<i16> = hound::WavReader::open(ldc93s1())
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    let transcribe = |model: &Arc<Model>| {
        let mut stream = model.create_stream();
        stream.feed_audio_i16(&audio, 16_000, 1).unwrap();
        stream.finish().unwrap().decoded_text()
    };
    let mut model = Model::load(fixture("deepspeech/ldc93s1-64.pbmm")).unwrap();
    model.set_beam_width(100);
    let mut model = Arc::new(model);
    let plain = transcribe(&model);
    Arc::get_mut(&mut model).unwrap().set_scorer(Some(
        Scorer::from_file(fixture("scorer/word-order5-trie-q8-a255.scorer")).unwrap(),
    ));
    let scored = transcribe(&model);
    assert_eq!(line(&out, "TRANSCRIPT_NO_SCORER"), plain);
    assert_eq!(line(&out, "TRANSCRIPT"), scored);
}

#[test]
fn the_c_api_has_no_memory_error_or_leak_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        panic!("valgrind is not installed (tools/setup-debian.sh installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let program = compile(dir.path());
    // Definite leaks and memory errors fail; the thread pool's stacks, alive at exit, are
    // "possibly lost" and not counted.
    run(
        &program,
        &[
            "valgrind",
            "-q",
            "--leak-check=full",
            "--show-possibly-lost=no",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=99",
        ],
    );
}
