//! The seed's smoke test: DeepSpeech overfits its one LDC93S1 sentence (`bin/run-ldc93s1.sh`).
//! Real training steps on the real recording until greedy decoding returns the sentence
//! exactly; then export, reload, and decode identically.

use std::path::{Path, PathBuf};

use candle::{D, Device, Tensor};
use deepspeech_core::Alphabet;
use deepspeech_core::audio::load_wav_16k;
use deepspeech_core::decoder::greedy_decode;
use deepspeech_core::features::mfcc;
use deepspeech_core::model::load_model;
use deepspeech_core::train::{TrainOptions, run};

const SENTENCE: &str = "she had your dark suit in greasy wash water all year";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Greedy transcript and logits of a WAV with an exported model.
fn transcribe(model_path: &Path, wav: &Path) -> (String, Vec<f32>) {
    let model = load_model(model_path, &Device::Cpu).unwrap();
    let config = model.config().clone();
    let (samples, _) = load_wav_16k(wav).unwrap();
    let x = mfcc(&samples).with_context(config.features.n_context);
    let x = Tensor::from_vec(x.data, (x.frames, 1, x.width), &Device::Cpu).unwrap();
    let logits = model.forward(&x, None).unwrap();
    let lp = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
    let flat: Vec<f32> = lp.flatten_all().unwrap().to_vec1().unwrap();
    let alphabet = config.alphabet();
    let labels: Vec<usize> = greedy_decode(&flat, config.n_classes(), alphabet.blank())
        .into_iter()
        .map(|t| t.label)
        .collect();
    (alphabet.decode(&labels).unwrap(), flat)
}

fn read_tensor(path: &Path, name: &str) -> Tensor {
    deepspeech_core::model::io::read(path).unwrap().tensors[name].clone()
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn overfits_ldc93s1_then_exports_and_reloads_identically() {
    let dir = temp_dir("ldc93s1");
    let csv = shared("ldc93s1/ldc93s1.csv");
    let mut options = TrainOptions::new(Alphabet::from_file(shared("alphabet.txt")).unwrap());
    options.train_files = vec![csv.clone()];
    options.test_files = vec![csv];
    options.n_hidden = 100;
    options.epochs = 250;
    options.learning_rate = 0.001;
    options.dropout_rate = 0.0;
    options.es_epochs = 0;
    options.checkpoint_dir = Some(dir.join("ckpt"));
    options.export_dir = Some(dir.join("export"));
    options.progress = false;
    let summary = run(&options).unwrap();

    let history = &summary.history;
    assert_eq!(history.len(), 250);
    assert!(
        history.last().unwrap().train_loss < history[0].train_loss / 20.0,
        "loss {} → {}",
        history[0].train_loss,
        history.last().unwrap().train_loss
    );
    let report = summary.test.expect("test report");
    assert_eq!(
        report.samples[0].hypothesis, SENTENCE,
        "greedy decode after training"
    );
    assert_eq!(report.wer, 0.0);

    let exported = summary.exported.expect("exported model");
    let (text, logits) = transcribe(&exported, &shared("ldc93s1/LDC93S1.wav"));
    assert_eq!(text, SENTENCE, "decode with the reloaded export");
    let (again, logits_again) = transcribe(&exported, &shared("ldc93s1/LDC93S1.wav"));
    assert_eq!((text, &logits), (again, &logits_again));

    // Half-precision export: half the size, same transcript, log-probabilities close.
    let model = load_model(&exported, &Device::Cpu).unwrap();
    let weights: std::collections::HashMap<String, Tensor> = model
        .config()
        .tensor_shapes()
        .into_iter()
        .map(|(name, _)| (name.clone(), read_tensor(&exported, &name)))
        .collect();
    let half = dir.join("model-f16.safetensors");
    deepspeech_core::model::export(&half, model.config(), &weights, candle::DType::F16).unwrap();
    let (full_size, half_size) = (file_len(&exported), file_len(&half));
    assert!(half_size < full_size * 6 / 10, "{half_size} vs {full_size}");
    let (half_text, half_logits) = transcribe(&half, &shared("ldc93s1/LDC93S1.wav"));
    assert_eq!(half_text, SENTENCE, "decode with the f16 export");
    let worst = logits
        .iter()
        .zip(&half_logits)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 0.1, "f16 log-probabilities differ by {worst}");
    std::fs::remove_dir_all(dir).unwrap();
}
