//! The MFCC front-end against TensorFlow's own ops, as DeepSpeech 0.9 runs them.
//!
//! Fixtures in `tests/fixtures/mfcc/` were produced by `tools/reference/mfcc_tf.py` with
//! TensorFlow 2.21.0 (`tensorflow-cpu` from PyPI): `tf.audio.decode_wav` →
//! `tf.raw_ops.AudioSpectrogram(window_size=512, stride=320, magnitude_squared=True)` →
//! `tf.raw_ops.Mfcc(sample_rate=16000, upper_frequency_limit=8000, lower_frequency_limit=20,
//! filterbank_channel_count=40, dct_coefficient_count=26)`. `manifest.json` records versions.

use std::path::{Path, PathBuf};

use deepspeech_core::audio::{load_wav_16k, read_wav};
use deepspeech_core::features::{FeatureConfig, FeatureMatrix, MfccExtractor, PowerSpectrum, mfcc};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mfcc")
}

/// Reads a float32 `.npy` fixture as (shape, values).
fn read_npy(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

/// Largest absolute and relative differences; the relative one is taken where the reference
/// is at least 1e-2 in magnitude (the coefficients of digital silence are ~1e-14 in TensorFlow
/// and would make any relative figure meaningless).
fn differences(ours: &[f32], reference: &[f32]) -> (f32, f32) {
    assert_eq!(ours.len(), reference.len());
    let mut max_abs = 0.0f32;
    let mut max_rel = 0.0f32;
    for (a, b) in ours.iter().zip(reference) {
        let d = (a - b).abs();
        max_abs = max_abs.max(d);
        if b.abs() >= 1e-2 {
            max_rel = max_rel.max(d / b.abs());
        }
    }
    (max_abs, max_rel)
}

struct Case {
    name: &'static str,
    wav: PathBuf,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "LDC93S1",
            wav: repo_root().join("../shared/data/ldc93s1/LDC93S1.wav"),
        },
        Case {
            name: "synthetic",
            wav: fixtures().join("synthetic.wav"),
        },
        Case {
            name: "short511",
            wav: fixtures().join("short511.wav"),
        },
        Case {
            name: "short512",
            wav: fixtures().join("short512.wav"),
        },
    ]
}

#[test]
fn mfcc_matches_tensorflow() {
    for case in cases() {
        let (samples, info) = load_wav_16k(&case.wav).unwrap();
        assert_eq!(
            info.sample_rate, 16_000,
            "{}: fixtures are 16 kHz",
            case.name
        );
        let ours = mfcc(&samples);
        let (shape, reference) = read_npy(&fixtures().join(format!("{}.mfcc.npy", case.name)));
        let frames = shape.iter().rev().nth(1).copied().unwrap_or(0) as usize;
        assert_eq!(ours.frames, frames, "{}: frame count", case.name);
        assert_eq!(ours.width, 26);
        let (max_abs, max_rel) = differences(&ours.data, &reference);
        println!(
            "{}: {} frames, max abs diff {max_abs:e}, max rel diff {max_rel:e}",
            case.name, frames
        );
        assert!(
            max_rel <= 1e-3,
            "{}: max relative error {max_rel}",
            case.name
        );
        assert!(
            max_abs <= 1e-3,
            "{}: max absolute error {max_abs}",
            case.name
        );
    }
}

#[test]
fn spectrogram_matches_tensorflow() {
    for case in cases() {
        let (samples, _) = load_wav_16k(&case.wav).unwrap();
        let (shape, reference) = read_npy(&fixtures().join(format!("{}.spec.npy", case.name)));
        let frames = shape.iter().rev().nth(1).copied().unwrap_or(0) as usize;
        let mut spectrum = PowerSpectrum::new(512);
        let mut power = vec![0.0f64; 257];
        let mut worst = 0.0f64;
        for t in 0..frames {
            spectrum.compute(&samples[t * 320..t * 320 + 512], &mut power);
            let row = &reference[t * 257..(t + 1) * 257];
            let peak = row.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
            for (a, b) in power.iter().zip(row) {
                // Relative to the frame's peak bin: FFT round-off is relative to the largest value.
                worst = worst.max((a - f64::from(*b)).abs() / peak.max(1e-30));
            }
        }
        println!(
            "{}: spectrogram max error relative to frame peak {worst:e}",
            case.name
        );
        assert!(worst <= 1e-5, "{}: {worst}", case.name);
    }
}

fn features_of(path: &Path) -> (FeatureMatrix, Vec<Vec<f64>>) {
    let (samples, _) = load_wav_16k(path).unwrap();
    let mut extractor = MfccExtractor::new(FeatureConfig::default());
    let mfcc = extractor.compute(&samples);
    let log_mel = (0..mfcc.frames)
        .map(|t| {
            extractor
                .log_mel_frame(&samples[t * 320..t * 320 + 512])
                .to_vec()
        })
        .collect();
    (mfcc, log_mel)
}

/// Mel channels 0..=28 lie wholly below 3.9 kHz, where an 8 kHz recording still has content.
const NARROWBAND_CHANNELS: usize = 29;

/// How far two analyses of the same utterance are apart, after removing the overall level
/// difference (a gain shifts every log-mel energy by ln(gain) and c0 by sqrt(80) ln(gain)):
/// (mean |Δc1..25| / mean |c1..25|, mean |Δ log-mel| over channels below 3.9 kHz, gain in dB).
fn distance(
    a: &(FeatureMatrix, Vec<Vec<f64>>),
    b: &(FeatureMatrix, Vec<Vec<f64>>),
) -> (f64, f64, f64) {
    let frames = a.0.frames.min(b.0.frames);
    let (mut diff, mut magnitude) = (0.0f64, 0.0f64);
    for t in 0..frames {
        for (x, y) in a.0.row(t)[1..].iter().zip(&b.0.row(t)[1..]) {
            diff += f64::from((x - y).abs());
            magnitude += f64::from(x.abs());
        }
    }
    let n = (frames * NARROWBAND_CHANNELS) as f64;
    let pairs = || (0..frames).flat_map(|t| (0..NARROWBAND_CHANNELS).map(move |c| (t, c)));
    let offset = pairs().map(|(t, c)| b.1[t][c] - a.1[t][c]).sum::<f64>() / n;
    let mel = pairs()
        .map(|(t, c)| (b.1[t][c] - a.1[t][c] - offset).abs())
        .sum::<f64>()
        / n;
    (diff / magnitude, mel, 20.0 * offset.exp().log10())
}

#[test]
fn resampled_variants_give_near_identical_features() {
    let data = repo_root().join("../shared/data/ldc93s1");
    let native = features_of(&data.join("LDC93S1.wav"));
    let stereo_44k = features_of(&data.join("LDC93S1_pcms16le_2_44100.wav"));
    let phone_8k = features_of(&data.join("LDC93S1_pcms16le_1_8000.wav"));
    let unrelated = features_of(&repo_root().join("../shared/data/ljspeech/wavs/LJ001-0001.wav"));

    let (_, info) = read_wav(data.join("LDC93S1_pcms16le_2_44100.wav")).unwrap();
    assert_eq!((info.sample_rate, info.channels), (44_100, 2));

    let mut report = Vec::new();
    for (name, m) in [
        ("44.1 kHz stereo", &stereo_44k),
        ("8 kHz mono", &phone_8k),
        ("unrelated speech", &unrelated),
    ] {
        let (mfcc, mel, gain) = distance(&native, m);
        println!(
            "{name:>16} vs LDC93S1 16 kHz: frames {} vs {}, MFCC c1..25 mean |Δ|/|c| {:.1}%, \
             log-mel < 3.9 kHz mean |Δ| {mel:.3} (ln units), level {gain:+.2} dB",
            m.0.frames,
            native.0.frames,
            mfcc * 100.0
        );
        report.push((mfcc, mel));
    }
    for m in [&stereo_44k, &phone_8k] {
        assert!(m.0.frames.abs_diff(native.0.frames) <= 1);
    }
    // The 44.1 kHz copy (stored 3 dB lower, which only shifts the level) is near-identical.
    assert!(
        report[0].0 < 0.1 && report[0].1 < 0.1,
        "44.1 kHz: {:?}",
        report[0]
    );
    // The 8 kHz copy has nothing above 4 kHz, which moves every MFCC; below 3.9 kHz its
    // filterbank energies must still match far better than a different sentence's.
    assert!(report[1].1 < 0.25, "8 kHz: {:?}", report[1]);
    assert!(
        report[1].1 * 4.0 < report[2].1,
        "8 kHz {:?} vs unrelated {:?}",
        report[1],
        report[2]
    );
}
