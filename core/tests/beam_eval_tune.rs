//! Beam-search evaluation in `ds-train` and language-model tuning in `ds-tune`, on a real model:
//! a small network overfit on LDC93S1 (as the seed's smoke test) and a trigram model estimated
//! from DeepSpeech's smoke-test LM corpus. The model is trained once and shared by the tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::HotWords;
use deepspeech_core::lm::kneser_ney::{Corpus, DEFAULT_FALLBACK, KnConfig, Normalizer, estimate};
use deepspeech_core::train::evaluate::{DecodeOptions, Report, load_scorer};
use deepspeech_core::train::tune::{self, TuneOptions};
use deepspeech_core::train::{TrainOptions, run};

const SENTENCE: &str = "she had your dark suit in greasy wash water all year";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn csv() -> PathBuf {
    shared("ldc93s1/ldc93s1.csv")
}

/// Tests in this file; the last one to pass removes the shared folder (a failure keeps it).
const TESTS: usize = 7;

/// What every test needs: the exported model, its greedy test report, and an ARPA file.
struct Fixture {
    dir: PathBuf,
    model: PathBuf,
    greedy: Report,
    arpa: PathBuf,
}

/// Trains the model (about 10 s) and writes the LM, once per test binary.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ds-beam-eval-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut options = TrainOptions::new(Alphabet::from_file(shared("alphabet.txt")).unwrap());
        options.train_files = vec![csv()];
        options.test_files = vec![csv()];
        options.n_hidden = 100;
        options.epochs = 250;
        options.dropout_rate = 0.0;
        options.es_epochs = 0;
        options.export_dir = Some(dir.join("export"));
        options.progress = false;
        options.decoder = DecodeOptions::greedy();
        let summary = run(&options).unwrap();
        let greedy = summary.test.expect("test report");
        assert!(greedy.decoder.starts_with("greedy"), "{}", greedy.decoder);
        Fixture {
            dir: dir.clone(),
            model: summary.exported.expect("exported model"),
            greedy,
            arpa: write_lm(&dir),
        }
    })
}

/// Marks a test as passed; the last one removes the fixture's folder.
fn passed() {
    static PASSED: AtomicUsize = AtomicUsize::new(0);
    if PASSED.fetch_add(1, Ordering::SeqCst) + 1 == TESTS {
        let _ = std::fs::remove_dir_all(&fixture().dir);
    }
}

/// A trigram model of DeepSpeech's smoke-test LM corpus (500 lines, the sentence among them).
fn write_lm(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(shared("text/ldc93s1-smoke-vocab.txt")).unwrap();
    let mut corpus = Corpus::new();
    corpus.add_text(&text, &Normalizer::new(Alphabet::english()));
    let config = KnConfig {
        order: 3,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..KnConfig::default()
    };
    let path = dir.join("smoke.arpa");
    std::fs::write(&path, estimate(&corpus, &config).unwrap().to_arpa_string()).unwrap();
    path
}

/// Options that evaluate the exported model on LDC93S1 with `decoder`.
fn evaluation(decoder: DecodeOptions) -> TrainOptions {
    let mut options = TrainOptions::new(Alphabet::english());
    options.test_files = vec![csv()];
    options.load_checkpoint_dir = Some(fixture().model.clone());
    options.n_hidden = 100;
    options.progress = false;
    options.decoder = decoder;
    options
}

/// Evaluates the exported model on LDC93S1 with `decoder`.
fn evaluate(decoder: DecodeOptions) -> Report {
    run(&evaluation(decoder))
        .unwrap()
        .test
        .expect("test report")
}

fn beam(width: usize) -> DecodeOptions {
    let mut d = DecodeOptions::default();
    d.beam.beam_width = width;
    d
}

fn with_scorer(width: usize, hot_words: &str) -> DecodeOptions {
    let mut d = beam(width);
    d.scorer = Some(load_scorer(&fixture().arpa).unwrap());
    d.hot_words = HotWords::parse(hot_words).unwrap();
    d
}

#[test]
fn a_widened_model_computes_what_the_narrow_one_did() {
    let f = fixture();
    let mut options = evaluation(DecodeOptions::greedy());
    options.n_hidden = 140;
    let refused = run(&options).expect_err("a narrower model needs --widen_source");
    assert!(
        refused
            .to_string()
            .contains("has shape [100, 494] but the model needs [140, 494]"),
        "{refused}"
    );

    options.widen_source = true;
    // Only the width may grow: an alphabet with one more letter (one more output class) is not
    // widened into the output layer, where the source's blank would become that letter.
    let mut other_alphabet = options.clone();
    let symbols: String = " abcdefghijklmnopqrstuvwxyz'-"
        .chars()
        .map(|c| format!("{c}\n"))
        .collect();
    other_alphabet.alphabet = Alphabet::parse(&symbols).unwrap();
    let refused = run(&other_alphabet).expect_err("another alphabet is not a wider model");
    assert!(
        refused
            .to_string()
            .contains("`layer_6.weight` has shape [29, 100] but the model needs [30, 140]"),
        "{refused}"
    );

    let widened = run(&options).unwrap().test.expect("test report");
    assert_eq!(
        widened.samples[0].hypothesis,
        f.greedy.samples[0].hypothesis
    );
    assert!(
        (widened.loss - f.greedy.loss).abs() < 1e-3 * f.greedy.loss.max(1.0),
        "loss {} after widening, {} before",
        widened.loss,
        f.greedy.loss
    );
    passed();
}

#[test]
fn beam_without_scorer_agrees_with_greedy_on_peaky_output() {
    let f = fixture();
    assert_eq!(f.greedy.samples[0].hypothesis, SENTENCE);
    let report = evaluate(beam(16));
    assert_eq!(report.decoder, "beam search, width 16, no scorer");
    assert_eq!(report.samples[0].hypothesis, f.greedy.samples[0].hypothesis);
    assert_eq!(report.wer, f.greedy.wer);
    assert!(
        (report.loss - f.greedy.loss).abs() < 1e-9,
        "{}",
        report.loss
    );
    assert!(
        report
            .render("ldc93s1.csv", 1)
            .contains("\nDecoder: beam search, width 16")
    );
    // Width 1 without a scorer is greedy.
    assert!(evaluate(beam(1)).decoder.starts_with("greedy"));
    passed();
}

#[test]
fn scorer_evaluation_reports_wer_and_hot_words_change_the_decode() {
    let report = evaluate(with_scorer(16, ""));
    assert!(
        report
            .decoder
            .contains("scorer (order 3, alpha 0.931289, beta 1.183414)"),
        "{}",
        report.decoder
    );
    assert_eq!(report.samples[0].hypothesis, SENTENCE);
    assert_eq!(report.wer, 0.0);

    // A strongly negative boost on a word in the middle makes the beam avoid it.
    let avoided = evaluate(with_scorer(16, "dark:-30"));
    assert!(
        avoided.decoder.contains("1 hot-word(s)"),
        "{}",
        avoided.decoder
    );
    let text = &avoided.samples[0].hypothesis;
    assert!(!text.split(' ').any(|w| w == "dark"), "{text}");
    assert!(avoided.wer > 0.0, "{text}");
    passed();
}

#[test]
fn bad_decoder_settings_are_refused_before_training() {
    let mut options = TrainOptions::new(Alphabet::english());
    options.train_files = vec![csv()];
    options.test_files = vec![csv()];
    let mut decoder = with_scorer(0, "");
    decoder.beam.beam_width = 0;
    options.decoder = decoder;
    let e = run(&options).unwrap_err().to_string();
    assert!(e.contains("beam_width must be at least 1"), "{e}");
    passed();
}

#[test]
fn tune_library_finds_the_best_trial() {
    let f = fixture();
    let scorer = load_scorer(&f.arpa).unwrap();
    let mut options = TuneOptions::new(vec![csv()], f.model.clone(), scorer);
    options.n_trials = 4;
    options.beam.beam_width = 16;
    options.progress = false;
    let mut seen = Vec::new();
    let summary = tune::run(&options, |i, t| seen.push((i, *t))).unwrap();
    assert_eq!(summary.samples, 1);
    assert_eq!(summary.trials.len(), 4);
    assert_eq!(seen.len(), 4);
    let points: Vec<(f32, f32)> = summary.trials.iter().map(|t| (t.alpha, t.beta)).collect();
    assert_eq!(points, [(0.0, 0.0), (0.0, 5.0), (5.0, 0.0), (5.0, 5.0)]);
    assert!(summary.trials.iter().all(|t| summary.best.wer <= t.wer));
    assert!(summary.trials.contains(&summary.best));
    // alpha = beta = 0 keeps only the vocabulary restriction: the sentence is in it.
    assert_eq!(summary.trials[0].wer, 0.0);
    // An LM weight of 5 without insertion bonus drops words: the trials do differ.
    assert!(summary.trials[2].wer > 0.0, "{:?}", summary.trials);
    passed();
}

/// `Trial i/n: lm_alpha=A, lm_beta=B - WER: W, CER: C` → W.
fn wer_of(line: &str) -> f64 {
    let after = line.split("WER: ").nth(1).unwrap();
    after.split(',').next().unwrap().parse().unwrap()
}

#[test]
fn ds_tune_cli_prints_every_trial_and_the_best() {
    let f = fixture();
    let out = Command::new(env!("CARGO_BIN_EXE_ds-tune"))
        .arg("--test_files")
        .arg(csv())
        .arg("--model")
        .arg(&f.model)
        .arg("--scorer")
        .arg(&f.arpa)
        .args([
            "--n_trials",
            "4",
            "--beam_width",
            "16",
            "--search",
            "random",
        ])
        .args(["--seed", "3", "--lm_alpha_max", "3", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trials: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Trial ")).collect();
    assert_eq!(trials.len(), 4, "{stdout}");
    let best = stdout
        .lines()
        .find(|l| l.starts_with("Best params: lm_alpha="))
        .unwrap_or_else(|| panic!("{stdout}"));
    let best_wer: f64 = best
        .split("WER=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(trials.iter().all(|t| best_wer <= wer_of(t)), "{stdout}");
    passed();
}

#[test]
fn ds_train_cli_decodes_the_test_set_with_the_scorer() {
    let f = fixture();
    let out = Command::new(env!("CARGO_BIN_EXE_ds-train"))
        .arg("--test_files")
        .arg(csv())
        .arg("--load_checkpoint_dir")
        .arg(&f.model)
        .arg("--scorer")
        .arg(&f.arpa)
        // No --n_hidden: the width (100) is read from the model's header.
        .args(["--beam_width", "16", "--lm_alpha", "0.5"])
        .args(["--lm_beta", "1", "--hot_words", "year:2", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "Decoder: beam search, width 16, scorer (order 3, alpha 0.5, beta 1), 1 hot-word(s)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(" - res: \"{SENTENCE}\"")),
        "{stdout}"
    );

    // Widening has no width to read: it must be told the wider one, except when resuming.
    let ckpt = f.dir.join("widened-ckpt");
    let widen = |width: Option<&str>, epochs: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ds-train"));
        command
            .arg("--train_files")
            .arg(csv())
            .arg("--load_checkpoint_dir")
            .arg(&f.model)
            .arg("--checkpoint_dir")
            .arg(&ckpt)
            .args(["--widen_source", "--epochs", epochs, "--quiet"]);
        if let Some(width) = width {
            command.args(["--n_hidden", width]);
        }
        command.output().unwrap()
    };
    let out = widen(None, "1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--widen_source needs --n_hidden"),
        "{stderr}"
    );
    let out = widen(Some("120"), "1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = widen(None, "2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let history = std::fs::read_to_string(ckpt.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    passed();
}
