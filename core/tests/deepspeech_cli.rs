//! The `deepspeech` command end to end on real recordings, with a model trained in the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use deepspeech_core::Alphabet;
use deepspeech_core::train::{TrainOptions, run};

const SENTENCE: &str = "she had your dark suit in greasy wash water all year";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ds-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The seed's smoke-test model, trained once per test binary.
fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut o = TrainOptions::new(Alphabet::english());
        o.train_files = vec![shared("ldc93s1/ldc93s1.csv")];
        o.n_hidden = 100;
        o.epochs = 250;
        o.dropout_rate = 0.0;
        o.es_epochs = 0;
        o.export_dir = Some(work_dir().join("model"));
        o.progress = false;
        run(&o).unwrap().exported.unwrap()
    })
}

fn deepspeech(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepspeech"))
        .args(args)
        .output()
        .expect("deepspeech runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn transcribes_every_format_of_the_recording() {
    let model = model().to_str().unwrap();
    for file in [
        "LDC93S1.wav",
        "LDC93S1_pcms16le_2_44100.wav",
        "LDC93S1_pcms16le_1_8000.wav",
    ] {
        let wav = shared(&format!("ldc93s1/{file}"));
        let out = stdout(&deepspeech(&[
            "--model",
            model,
            "--audio",
            wav.to_str().unwrap(),
        ]));
        if file == "LDC93S1.wav" || file.contains("44100") {
            assert_eq!(out.trim(), SENTENCE, "{file}");
        } else {
            assert!(!out.trim().is_empty(), "{file}");
        }
    }
}

#[test]
fn json_word_timings_lie_inside_the_audio_and_are_in_order() {
    let wav = shared("ldc93s1/LDC93S1.wav");
    let out = stdout(&deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        wav.to_str().unwrap(),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // DeepSpeech's client prints 3 candidates in JSON unless told otherwise.
    assert_eq!(v["transcripts"].as_array().unwrap().len(), 3, "{out}");
    let t = &v["transcripts"][0];
    assert_eq!(t["text"], SENTENCE);
    let words = t["words"].as_array().unwrap();
    assert_eq!(words.len(), 11);
    let mut previous_end = 0.0;
    for w in words {
        let (start, duration) = (
            w["start_time"].as_f64().unwrap(),
            w["duration"].as_f64().unwrap(),
        );
        assert!(start >= previous_end - 1e-9 && duration > 0.0, "{w}");
        assert!(start + duration <= 2.925 + 1e-9, "{w} ends after the audio");
        previous_end = start + duration;
    }
    let joined: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
    assert_eq!(joined.join(" "), SENTENCE);
}

#[test]
fn streaming_prints_growing_partials_and_ends_with_the_final_transcript() {
    let wav = shared("ldc93s1/LDC93S1_pcms16le_2_44100.wav");
    let out = stdout(&deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        wav.to_str().unwrap(),
        "--stream",
        "200",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 3, "{out}");
    assert_eq!(*lines.last().unwrap(), SENTENCE);

    // Streamed with --json, the candidates are those of a whole-file run.
    let model_path = model();
    let (model, wav) = (model_path.to_str().unwrap(), wav.to_str().unwrap());
    let args = |stream: Option<&'static str>| {
        let mut a = vec![
            "--model",
            model,
            "--audio",
            wav,
            "--json",
            "--beam_width",
            "16",
            "--candidate_transcripts",
            "3",
        ];
        if let Some(ms) = stream {
            a.extend(["--stream", ms]);
        }
        a
    };
    let streamed = stdout(&deepspeech(&args(Some("20"))));
    let json: serde_json::Value = serde_json::from_str(streamed.trim()).unwrap();
    assert_eq!(
        json["transcripts"].as_array().unwrap().len(),
        3,
        "{streamed}"
    );
    assert_eq!(streamed, stdout(&deepspeech(&args(None))));

    let o = deepspeech(&args(Some("0")));
    assert!(!o.status.success(), "a chunk of 0 ms is refused");
}

#[test]
fn folders_and_several_files_print_one_line_each() {
    let dir = work_dir().join("folder");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["LDC93S1.wav", "LDC93S1_pcms16le_2_44100.wav"] {
        std::fs::copy(shared(&format!("ldc93s1/{f}")), dir.join(f)).unwrap();
    }
    let out = stdout(&deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        dir.to_str().unwrap(),
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines.iter().all(|l| l.ends_with(&format!(": {SENTENCE}"))),
        "{out}"
    );

    // A bad file among good ones: the others are still transcribed, the status says it failed.
    std::fs::write(dir.join("broken.wav"), b"RIFF....not a wave").unwrap();
    let o = deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        dir.to_str().unwrap(),
    ]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(!o.status.success());
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        err.contains("broken.wav") && err.contains("1 of 3 files could not be transcribed"),
        "{err}"
    );
}

#[test]
fn corrupt_models_and_bad_audio_fail_with_a_reason() {
    let wav = shared("ldc93s1/LDC93S1.wav");
    let bytes = std::fs::read(model()).unwrap();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "truncated.safetensors",
            bytes[..bytes.len() / 2].to_vec(),
            "not a valid deepspeech-rs model",
        ),
        (
            "empty.safetensors",
            Vec::new(),
            "not a model format this program reads",
        ),
        (
            "text.safetensors",
            b"hello".to_vec(),
            "it is only 5 bytes long",
        ),
    ];
    for (name, content, reason) in cases {
        let path = work_dir().join(name);
        std::fs::write(&path, content).unwrap();
        let o = deepspeech(&[
            "--model",
            path.to_str().unwrap(),
            "--audio",
            wav.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && o.stdout.is_empty(), "{name}");
        assert!(err.contains(name) && err.contains(reason), "{name}: {err}");
    }
    let missing = deepspeech(&[
        "--model",
        "/nonexistent/model.safetensors",
        "--audio",
        wav.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No such file"));

    let bad = work_dir().join("bad.wav");
    std::fs::write(&bad, b"definitely not a wav file").unwrap();
    let o = deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        bad.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("bad.wav") && err.contains("not a WAV file"),
        "{err}"
    );
}

#[test]
fn a_scorer_and_hot_words_steer_the_decode() {
    use deepspeech_core::lm::binary::ScorerContents;
    use deepspeech_core::lm::kneser_ney::{Corpus, KnConfig, Normalizer, estimate};
    // A trigram scorer from DeepSpeech's smoke-test corpus, written as a binary scorer file.
    let text = std::fs::read_to_string(shared("text/ldc93s1-smoke-vocab.txt")).unwrap();
    let mut corpus = Corpus::new();
    corpus.add_text(&text, &Normalizer::new(Alphabet::english()));
    let lm = estimate(
        &corpus,
        &KnConfig {
            order: 3,
            discount_fallback: Some([0.5, 1.0, 1.5]),
            ..KnConfig::default()
        },
    )
    .unwrap();
    let scorer = work_dir().join("smoke.scorer");
    ScorerContents::from_estimated(&lm, 0.931289, 1.183414)
        .write(&scorer)
        .unwrap();

    let wav = shared("ldc93s1/LDC93S1.wav");
    let args = [
        "--model",
        model().to_str().unwrap(),
        "--audio",
        wav.to_str().unwrap(),
        "--scorer",
        scorer.to_str().unwrap(),
        "--beam_width",
        "64",
    ];
    let with_lm = stdout(&deepspeech(&args));
    assert_eq!(with_lm.trim(), SENTENCE);
    let mut hot = args.to_vec();
    hot.extend(["--hot_words", "dark:-30"]);
    let steered = stdout(&deepspeech(&hot));
    assert!(
        !steered.contains("dark"),
        "a strongly negative hot-word removes the word: {steered}"
    );

    // Without a scorer, the LM weights and hot-words have nothing to act on.
    for flag in [["--lm_alpha", "1"], ["--hot_words", "dark:-30"]] {
        let mut args = vec![
            "--model",
            model().to_str().unwrap(),
            "--audio",
            wav.to_str().unwrap(),
        ];
        args.extend(flag);
        let o = deepspeech(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("need --scorer"),
            "{err}"
        );
    }
}
