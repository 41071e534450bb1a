//! Every parser of outside input, fuzzed (issue 24): WAV, compressed audio, models in every
//! format we read (safetensors, `.pb`, `.pbmm`, `.tflite`), scorers (ours, DeepSpeech
//! packages), ARPA, alphabets and dataset CSVs. Each mutated input must give a value or a clean
//! error: no panic, no input taking more than a few seconds.
//!
//! In CI each target runs for `FUZZ_SECS` seconds (default 10); `tools/fuzz.sh` runs them for an
//! hour each. Seeds are real files of each format from the repository and `../shared`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::beam::{BeamConfig, beam_search};
use deepspeech_core::engine::Model;
use deepspeech_core::lm::{ArpaModel, Scorer};
use deepspeech_integration_tests::fuzz::{Report, Target, fuzz};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn shared(rel: &str) -> PathBuf {
    repo("../shared/data").join(rel)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scratch folder of this test process.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// LDC93S1 encoded by GStreamer's own encoder.
fn encoded(encoder: &str, name: &str) -> Vec<u8> {
    let out = scratch().join(name);
    let pipeline = format!(
        "filesrc location={} ! wavparse ! audioconvert ! {encoder} ! filesink location={}",
        shared("ldc93s1/LDC93S1.wav").display(),
        out.display()
    );
    let ok = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{pipeline}");
    read(&out)
}

/// Our model format, from DeepSpeech's 64-unit fixture.
fn safetensors_seed() -> Vec<u8> {
    use deepspeech_core::model::io;
    let path = repo("core/tests/fixtures/deepspeech/ldc93s1-64.pb");
    let file = io::read(&path).unwrap();
    let config = io::config_from_metadata(&path, &file.metadata, io::MODEL_FORMAT).unwrap();
    let out = scratch().join("seed.safetensors");
    io::export(&out, &config, &file.tensors, candle::DType::F32).unwrap();
    read(&out)
}

/// Peaky log-probabilities over the English alphabet for the scorer target's decodes.
fn log_probs() -> Vec<f32> {
    let classes = Alphabet::english().len() + 1;
    let text = [8, 5, 12, 12, 15, 0, 23, 15, 18, 12, 4]; // "hello world" as alphabet labels
    let mut out = Vec::new();
    for (t, &label) in text.iter().chain(&[28, 28]).enumerate() {
        for c in 0..classes {
            let p: f32 = if c == label {
                0.7
            } else {
                0.3 / (classes - 1) as f32
            };
            out.push((p + 1e-4 * ((t * 31 + c * 7) % 13) as f32).ln());
        }
    }
    out
}

fn targets() -> Vec<Target> {
    let english = Alphabet::english();
    let dir = scratch();
    let fixture = |name: &str| read(&repo(&format!("core/tests/fixtures/{name}")));
    let arpa_seed = fixture("lm/order2-nounk.arpa");
    let our_scorer = {
        let model = ArpaModel::parse(std::str::from_utf8(&arpa_seed).unwrap()).unwrap();
        let path = dir.join("seed.dsscorer");
        deepspeech_core::lm::binary::ScorerContents::from_arpa(&model, 0.9, 1.2)
            .write(&path)
            .unwrap();
        read(&path)
    };
    let wav = shared("ldc93s1/LDC93S1.wav");
    let csv_seed = format!(
        "wav_filename,wav_filesize,transcript\n{},93638,she had your dark suit in greasy wash water all year\n",
        wav.display()
    )
    .into_bytes();
    let scorer_file = dir.join("input.scorer");
    let csv_file = dir.join("input.csv");
    let log_probs = log_probs();
    let alphabet = english.clone();
    vec![
        Target {
            name: "wav",
            seeds: vec![
                read(&wav),
                read(&shared("ldc93s1/LDC93S1_pcms16le_1_8000.wav")),
                read(&shared("ldc93s1/LDC93S1_pcms16le_2_44100.wav")),
            ],
            run: Box::new(|b| deepspeech_core::audio::decode_wav(b, Path::new("fuzz.wav")).is_ok()),
        },
        Target {
            name: "compressed-audio",
            seeds: vec![
                encoded("lamemp3enc", "seed.mp3"),
                encoded("flacenc", "seed.flac"),
                encoded("vorbisenc ! oggmux", "seed.ogg"),
            ],
            run: Box::new(|b| {
                let head = &b[..b.len().min(4096)];
                let source = Box::new(std::io::Cursor::new(b.to_vec()));
                deepspeech_core::audio::compressed::decode(source, head, Path::new("fuzz")).is_ok()
            }),
        },
        Target {
            name: "model",
            seeds: vec![
                safetensors_seed(),
                fixture("deepspeech/ldc93s1-64.pb"),
                fixture("deepspeech/ldc93s1-64.pbmm"),
                fixture("deepspeech/ldc93s1-64.tflite"),
                fixture("deepspeech/ldc93s1-64-f16.tflite"),
            ],
            run: Box::new(|b| {
                let Ok(model) = Model::from_bytes(b, "fuzz") else {
                    return false;
                };
                // Accepted: it must also run, or refuse to, cleanly.
                let mut stream = Arc::new(model).create_stream();
                let tone: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
                stream.feed_audio(&tone, 16_000, 1).is_ok() && stream.finish().is_ok()
            }),
        },
        Target {
            name: "scorer",
            seeds: vec![
                our_scorer,
                fixture("scorer/word-order2-nounk-trie-q8-a255.scorer"),
                fixture("scorer/word-order5-trie.scorer"),
                fixture("scorer/word-order5-probing.scorer"),
                fixture("scorer/word-order5-trie-q4-a32.scorer"),
            ],
            run: Box::new(move |b| {
                std::fs::write(&scorer_file, b).unwrap();
                let Ok(scorer) = Scorer::from_file(&scorer_file) else {
                    return false;
                };
                // Accepted: decoding with it must work or fail cleanly.
                let config = BeamConfig {
                    beam_width: 16,
                    ..BeamConfig::default()
                };
                let classes = alphabet.len() + 1;
                beam_search(&log_probs, classes, &alphabet, &config, Some(&scorer), None).is_ok()
            }),
        },
        Target {
            name: "arpa",
            seeds: vec![arpa_seed],
            run: Box::new(|b| ArpaModel::parse(&String::from_utf8_lossy(b)).is_ok()),
        },
        Target {
            name: "alphabet",
            seeds: vec![
                english
                    .symbols()
                    .iter()
                    .map(|c| format!("{c}\n"))
                    .collect::<String>()
                    .into_bytes(),
            ],
            run: Box::new(|b| match Alphabet::parse(&String::from_utf8_lossy(b)) {
                Ok(a) => {
                    let _ = a.encode("hello world");
                    true
                }
                Err(_) => false,
            }),
        },
        Target {
            name: "dataset-csv",
            seeds: vec![csv_seed],
            run: Box::new(move |b| {
                std::fs::write(&csv_file, b).unwrap();
                deepspeech_core::train::dataset::Dataset::load(
                    std::slice::from_ref(&csv_file),
                    &english,
                    "train",
                )
                .is_ok()
            }),
        },
    ]
}

fn table(reports: &[Report]) -> String {
    let mut out =
        String::from("target             inputs   accepted    refused  panics  slowest\n");
    for r in reports {
        out += &format!(
            "{:<16} {:>8} {:>10} {:>10} {:>7}  {:.3} s\n",
            r.name,
            r.inputs,
            r.accepted,
            r.refused,
            r.panics.len(),
            r.slowest.as_secs_f64()
        );
    }
    out
}

#[test]
fn no_mutated_input_panics_or_hangs_any_parser() {
    let secs: f64 = std::env::var("FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let crashes = repo("target/fuzz-crashes");
    let mut reports = Vec::new();
    for target in targets() {
        for (i, seed) in target.seeds.iter().enumerate() {
            assert!((target.run)(seed), "{}: seed {i} is refused", target.name);
        }
        let report = fuzz(
            &target,
            Duration::from_secs_f64(secs),
            u64::MAX,
            seed,
            &crashes,
        );
        reports.push(report);
    }
    let table = table(&reports);
    eprintln!("{table}");
    for r in &reports {
        assert!(r.panics.is_empty(), "{}: {:#?}\n{table}", r.name, r.panics);
        assert!(
            r.slowest < Duration::from_secs(10),
            "{}: one input took {:?}\n{table}",
            r.name,
            r.slowest
        );
    }
}
