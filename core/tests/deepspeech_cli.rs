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
    // Streamed with --json, the partials are JSON lines too, in time order, and the final
    // object is that of a whole-file run.
    let streamed = stdout(&deepspeech(&args(Some("20"))));
    let (last, partials) = streamed
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, p)| (*l, p.to_vec()))
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(
        json["transcripts"].as_array().unwrap().len(),
        3,
        "{streamed}"
    );
    assert_eq!(format!("{last}\n"), stdout(&deepspeech(&args(None))));
    assert!(partials.len() >= 3, "{streamed}");
    let mut previous = 0.0;
    for line in partials {
        let p: serde_json::Value = serde_json::from_str(line).unwrap();
        let time = p["time"].as_f64().unwrap();
        assert!(time > previous && time <= 2.925 + 1e-9, "{line}");
        assert!(
            p["partial"].is_string() && p["file"].as_str() == Some(wav),
            "{line}"
        );
        previous = time;
    }

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
        ("text.safetensors", b"hello".to_vec(), "it is plain text"),
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
        !o.status.success()
            && err.contains("bad.wav")
            && err.contains("not an audio file")
            && err.contains("it is plain text"),
        "{err}"
    );
}

#[test]
fn a_wav_holding_nan_is_named_among_several_files() {
    let nan = work_dir().join("nan.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&nan, spec).unwrap();
    for i in 0..16_000 {
        w.write_sample(if i == 5 { f32::NAN } else { 0.0 }).unwrap();
    }
    w.finalize().unwrap();
    let wav = shared("ldc93s1/LDC93S1.wav");
    let o = deepspeech(&[
        "--model",
        model().to_str().unwrap(),
        "--audio",
        nan.to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains("nan.wav") && l.contains("NaN")),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains(SENTENCE));
}

/// `gst-launch-1.0` encodes LDC93S1 into `name` with `encoder` (CI installs GStreamer).
fn encode(encoder: &str, name: &str) -> PathBuf {
    let dir = work_dir().join("compressed");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(name);
    let pipeline = format!(
        "filesrc location={} ! wavparse ! audioconvert ! {encoder} ! filesink location={}",
        shared("ldc93s1/LDC93S1.wav").display(),
        out.display()
    );
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success(), "{pipeline}");
    out
}

#[test]
fn compressed_audio_is_decoded_and_other_files_are_named() {
    let model = model().to_str().unwrap();
    let wav = deepspeech_core::audio::read_audio(shared("ldc93s1/LDC93S1.wav")).unwrap();
    // Each decodes to the recording: FLAC exactly; MP3 (after LAME's 1105 samples of encoder
    // delay, kept as GStreamer keeps it) and Vorbis nearly; the FLAC gives the WAV's transcript
    // (this model, overfitted to the exact WAV, mishears a letter or more through lossy codecs).
    for (encoder, name, delay, min_correlation) in [
        ("flacenc", "ldc.flac", 0, 1.0),
        ("lamemp3enc ! id3v2mux", "ldc.mp3", 1105, 0.99),
        ("vorbisenc ! oggmux", "ldc.ogg", 0, 0.99),
    ] {
        let file = encode(encoder, name);
        let decoded = deepspeech_core::audio::read_audio(&file).unwrap();
        assert_eq!(decoded.sample_rate, 16_000, "{name}");
        assert!(decoded.samples.len() >= wav.samples.len(), "{name}");
        let (offset, correlation) = best_alignment(&wav.samples, &decoded.samples);
        assert_eq!(offset, delay, "{name}");
        assert!(
            correlation >= min_correlation - 1e-6,
            "{name}: {correlation}"
        );
        if name == "ldc.flac" {
            assert_eq!(decoded.samples, wav.samples);
            let out = stdout(&deepspeech(&[
                "--model",
                model,
                "--audio",
                file.to_str().unwrap(),
            ]));
            assert_eq!(out.trim(), SENTENCE, "{name}");
        }
    }
    // A folder picks up every audio file, not only .wav ones.
    let dir = work_dir().join("compressed");
    let out = stdout(&deepspeech(&[
        "--model",
        model,
        "--audio",
        dir.to_str().unwrap(),
    ]));
    assert!(out.contains(&format!("ldc.flac: {SENTENCE}")), "{out}");
    assert!(
        out.contains("ldc.mp3: ") && out.contains("ldc.ogg: "),
        "{out}"
    );

    let png = work_dir().join("picture.mp3");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
    let pbmm = work_dir().join("speech.wav");
    std::fs::copy(model, &pbmm).unwrap();
    for (file, what) in [(&png, "a PNG image"), (&pbmm, "pass it with --model")] {
        let o = deepspeech(&["--model", model, "--audio", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(what), "{err}");
    }
    std::fs::remove_file(png).unwrap();
    std::fs::remove_file(pbmm).unwrap();
}

/// The delay (samples) of `decoded` against `original` within 2000 samples, and their
/// normalised correlation there.
fn best_alignment(original: &[f32], decoded: &[f32]) -> (usize, f64) {
    let mut best = (0, f64::MIN);
    for delay in 0..2000 {
        let (mut dot, mut a, mut b) = (0f64, 0f64, 0f64);
        for (x, y) in original.iter().zip(&decoded[delay.min(decoded.len())..]) {
            let (x, y) = (f64::from(*x), f64::from(*y));
            dot += x * y;
            a += x * x;
            b += y * y;
        }
        let correlation = dot / (a * b).sqrt().max(1e-30);
        if correlation > best.1 {
            best = (delay, correlation);
        }
    }
    best
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepspeech"))
        .args([
            "--model",
            model().to_str().unwrap(),
            "--extended",
            "--audio",
        ])
        .arg(shared("ldc93s1/LDC93S1.wav"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first line is written, as `| head -0` would.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {err}",
        o.status
    );
    assert!(err.is_empty(), "{err}");
}

#[test]
fn version_help_and_argument_checks_speak_for_the_tool() {
    let version = stdout(&deepspeech(&["--version"]));
    assert!(version.starts_with("deepspeech "), "{version}");
    let help = stdout(&deepspeech(&["--help"]));
    assert!(help.starts_with("Speech-to-text on audio files"), "{help}");
    let wav = shared("ldc93s1/LDC93S1.wav");
    let o = deepspeech(&["--audio", wav.to_str().unwrap(), "--beam_width", "0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--beam_width"));
    // A device that cannot be used falls back to the CPU with a warning, as in the element.
    if deepspeech_core::device::select(Some("cuda")).is_err() {
        let o = deepspeech(&[
            "--model",
            model().to_str().unwrap(),
            "--audio",
            wav.to_str().unwrap(),
            "--device",
            "cuda",
        ]);
        assert_eq!(stdout(&o).trim(), SENTENCE);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("warning") && err.contains("using the CPU"),
            "{err}"
        );
    }
}

#[test]
fn folders_and_training_checkpoints_given_as_models_say_what_to_do() {
    let wav = shared("ldc93s1/LDC93S1.wav");
    let wav = wav.to_str().unwrap();
    // An export folder holds model.safetensors: it is the model.
    let export = model().parent().unwrap();
    let out = stdout(&deepspeech(&[
        "--model",
        export.to_str().unwrap(),
        "--audio",
        wav,
    ]));
    assert_eq!(out.trim(), SENTENCE);

    let mut o = TrainOptions::new(Alphabet::english());
    o.train_files = vec![shared("ldc93s1/ldc93s1.csv")];
    o.n_hidden = 8;
    o.epochs = 1;
    o.checkpoint_dir = Some(work_dir().join("checkpoints"));
    o.progress = false;
    run(&o).unwrap();
    let dir = o.checkpoint_dir.unwrap();
    for (model, expected) in [
        (dir.clone(), "ds-train checkpoint folder"),
        (dir.join("last.safetensors"), "ds-train training checkpoint"),
        (work_dir().join("nothing-here"), "holds no model"),
    ] {
        std::fs::create_dir_all(work_dir().join("nothing-here")).unwrap();
        let o = deepspeech(&["--model", model.to_str().unwrap(), "--audio", wav]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(expected), "{err}");
        if expected.starts_with("ds-train") {
            assert!(err.contains("--export_dir"), "{err}");
        }
    }
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

/// No input may take the host's memory: a 3 GB WAV (26 hours at 16 kHz, its header says) is
/// refused from its header before its data is read, and `--max_audio_secs` caps WAV and
/// compressed files alike.
#[test]
fn audio_longer_than_the_limit_is_refused_before_it_is_read() {
    let model = model().to_str().unwrap();
    let dir = work_dir().join("too-long");
    std::fs::create_dir_all(&dir).unwrap();
    let huge = dir.join("huge.wav");
    let data: u32 = 3_000_000_000;
    let mut header = Vec::new();
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&1u16.to_le_bytes()); // mono
    header.extend_from_slice(&16_000u32.to_le_bytes());
    header.extend_from_slice(&32_000u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data.to_le_bytes());
    std::fs::write(&huge, &header).unwrap();
    // Sparse: the 3 GB cost no disk, and reading them would cost 3 GB of memory.
    std::fs::File::options()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(u64::from(data) + header.len() as u64)
        .unwrap();
    let o = deepspeech(&["--model", model, "--audio", huge.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("huge.wav: 93750 s of audio, more than the limit of 14400 s"),
        "{err}"
    );
    // The limit applies to WAV and compressed files; above it, they decode as usual.
    let mp3 = encode("lamemp3enc", "limit.mp3");
    for file in [shared("ldc93s1/LDC93S1.wav"), mp3] {
        let file = file.to_str().unwrap();
        let o = deepspeech(&["--model", model, "--audio", file, "--max_audio_secs", "1"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("more than the limit of 1 s"),
            "{err}"
        );
        let o = deepspeech(&["--model", model, "--audio", file, "--max_audio_secs", "5"]);
        assert!(!stdout(&o).trim().is_empty(), "{file}");
    }
    let o = deepspeech(&[
        "--model",
        model,
        "--audio",
        huge.to_str().unwrap(),
        "--max_audio_secs",
        "0",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a number of seconds above 0"));
}
