//! `ds-features` end to end: real recordings in, `.npy` out, clear errors for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn ds_features(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ds-features"))
        .args(args)
        .output()
        .expect("ds-features runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-features-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn writes_the_mfcc_matrix_of_a_44k_stereo_recording() {
    let dir = temp_dir("npy");
    let out = dir.join("ldc.npy");
    let wav = shared("ldc93s1/LDC93S1_pcms16le_2_44100.wav");
    let result = ds_features(&[wav.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("44100 Hz, 2 ch, 16-bit int") && stdout.contains("145 frames x 26"),
        "{stdout}"
    );

    let bytes = std::fs::read(&out).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[145, 26]);
    let values: Vec<f32> = npy.into_vec().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn context_windows_are_494_wide() {
    let dir = temp_dir("ctx");
    let wav = shared("ldc93s1/LDC93S1.wav");
    let result = ds_features(&[
        wav.as_os_str(),
        "--context".as_ref(),
        "--output-dir".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(dir.join("LDC93S1.mfcc.npy")).unwrap();
    assert_eq!(npyz::NpyFile::new(&bytes[..]).unwrap().shape(), &[145, 494]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_inputs_fail_with_the_file_and_the_reason() {
    let dir = temp_dir("bad");
    let cases: [(&str, &[u8], &str); 3] = [
        ("empty.wav", b"", "the file is empty"),
        (
            "text.wav",
            b"this is not audio, just some words in a file",
            "not a WAV file",
        ),
        ("cut.wav", &truncated_wav(), "truncated WAV file"),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let result = ds_features(&[path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{name} must fail");
        assert!(
            stderr.contains(name) && stderr.contains(reason),
            "{name}: {stderr}"
        );
        assert!(result.stdout.is_empty(), "nothing on stdout for {name}");
    }
    let missing = dir.join("missing.wav");
    let result = ds_features(&[missing.as_os_str()]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !result.status.success()
            && stderr.contains("missing.wav")
            && stderr.contains("cannot read"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A real recording cut in the middle of its data chunk.
fn truncated_wav() -> Vec<u8> {
    let bytes = std::fs::read(shared("ldc93s1/LDC93S1.wav")).unwrap();
    bytes[..bytes.len() / 2].to_vec()
}
