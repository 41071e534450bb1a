//! What the tests of the C API and of the Python module share: the repository's fixtures, and
//! DeepSpeech 0.9.3's own runtime (the PyPI `deepspeech==0.9.3` wheel, installed with pip into
//! `target/deepspeech-0.9.3-venv` once, on Python 3.9 from pyenv or `$DS_PYTHON39`).
//! Included with `#[path]` by `capi/tests/*.rs` and `python/tests/*.rs`.

#![allow(dead_code)] // each test file uses its part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file under core/tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    repo().join("core/tests/fixtures").join(rel)
}

/// LDC93S1, 16 kHz mono.
pub fn ldc93s1() -> PathBuf {
    repo().join("../shared/data/ldc93s1/LDC93S1.wav")
}

/// The folder of the running test: where `cargo test` put the libraries it built (`deps/`;
/// cargo copies them up to target/release only on `cargo build`).
pub fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_owned()
}

/// target/release (or target/debug): the binaries.
pub fn target_dir() -> PathBuf {
    deps_dir().parent().unwrap().to_owned()
}

/// Runs `command`; its stdout, or a panic with its stderr.
pub fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Python `minor` (3.9, 3.12…) from pyenv, or `$DS_PYTHON3<minor>`.
pub fn python(minor: u32) -> PathBuf {
    if let Some(p) = std::env::var_os(format!("DS_PYTHON3{minor}")) {
        return p.into();
    }
    let name = format!("bin/python3.{minor}");
    let mut found: Vec<PathBuf> = std::fs::read_dir("/root/.pyenv/versions")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(&name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("no Python 3.{minor}: set DS_PYTHON3{minor} or install it with pyenv")
    })
}

/// A venv under target/ on Python 3.`minor` with `packages` (pip, once): its Python.
pub fn venv(name: &str, minor: u32, packages: &[&str], ready: &str) -> PathBuf {
    let venv = target_dir().join("..").join(name);
    let python_in = venv.join("bin/python");
    if !venv.join(ready).exists() {
        run(Command::new(python(minor)).args(["-m", "venv"]).arg(&venv));
        run(Command::new(&python_in)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(packages));
    }
    python_in
}

/// DeepSpeech 0.9.3's runtime: the venv's Python, and the installed package folder.
pub fn deepspeech_venv() -> &'static (PathBuf, PathBuf) {
    static VENV: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    VENV.get_or_init(|| {
        let package = "lib/python3.9/site-packages/deepspeech";
        // The wheel's extension was built against NumPy 1.
        let python = venv(
            "deepspeech-0.9.3-venv",
            9,
            &["deepspeech==0.9.3", "numpy<2"],
            &format!("{package}/lib/libdeepspeech.so"),
        );
        let package = python.parent().unwrap().parent().unwrap().join(package);
        (python, package)
    })
}
