//! The CTC loss and its gradient against TensorFlow.
//!
//! Fixtures in `tests/fixtures/ctc/` were produced by `tools/reference/ctc_tf.py` with
//! TensorFlow 2.21.0 (`tensorflow-cpu` from PyPI; `manifest.json` records the versions):
//! `tf.nn.ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True,
//! blank_index=C-1)` and `tf.GradientTape` in float32 (`<case>.loss.npy`, `<case>.grad.npy`),
//! and the same function with sparse labels (TensorFlow's C++ `CTCLoss` kernel) in float64
//! (`<case>.loss64.npy`, `<case>.grad64.npy`; NaN for items with an empty target, which that
//! kernel rejects). C = 29 (DeepSpeech English: 28 symbols, blank last).
//!
//! **Relative error** of an array `a` against a reference `b` (NaN entries of `b` skipped):
//! `max_i |a_i − b_i| / max(|b_i|, 1e-3 · max_j |b_j|)`. The floor keeps gradient entries that
//! are zero up to rounding (softmax ≈ posterior) from dividing by ~0; it is the same measure the
//! script writes into the manifest. Both references must be matched to 1e-4.

use std::path::{Path, PathBuf};

use candle::{Device, Tensor, Var};
use deepspeech_core::ctc::{CtcOptions, Impossible, ctc_loss};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ctc")
}

/// Reads a `.npy` fixture as (shape, values).
fn read_npy<T: npyz::Deserialize>(name: &str) -> (Vec<u64>, Vec<T>) {
    let path = fixtures().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<T>().unwrap())
}

/// The error measure described in the module documentation.
fn relative_error(ours: &[f32], reference: &[f64]) -> f64 {
    assert_eq!(ours.len(), reference.len());
    let scale = reference
        .iter()
        .filter(|b| !b.is_nan())
        .fold(0.0f64, |m, b| m.max(b.abs()));
    let floor = (1e-3 * scale).max(f64::MIN_POSITIVE);
    ours.iter()
        .zip(reference)
        .filter(|(_, b)| !b.is_nan())
        .map(|(&a, &b)| (a as f64 - b).abs() / b.abs().max(floor))
        .fold(0.0, f64::max)
}

/// Our loss `[B]` and gradient of their sum `[T, B, C]` for one fixture case.
fn ours(case: &str) -> (Vec<f32>, Vec<f32>) {
    let (shape, logits) = read_npy::<f32>(&format!("{case}.logits.npy"));
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let (label_shape, labels) = read_npy::<i32>(&format!("{case}.labels.npy"));
    let (_, label_lengths) = read_npy::<i32>(&format!("{case}.label_lengths.npy"));
    let (_, input_lengths) = read_npy::<i32>(&format!("{case}.input_lengths.npy"));
    let width = label_shape[1] as usize;
    let targets: Vec<Vec<u32>> = label_lengths
        .iter()
        .enumerate()
        .map(|(b, &n)| {
            labels[b * width..b * width + n as usize]
                .iter()
                .map(|&l| l as u32)
                .collect()
        })
        .collect();
    let lengths: Vec<usize> = input_lengths.iter().map(|&n| n as usize).collect();

    let x = Var::from_tensor(&Tensor::from_vec(logits, dims.as_slice(), &Device::Cpu).unwrap())
        .unwrap();
    let options = CtcOptions {
        blank: dims[2] - 1,
        impossible: Impossible::Error,
    };
    let loss = ctc_loss(x.as_tensor(), &targets, &lengths, &options).unwrap();
    let grads = loss.sum_all().unwrap().backward().unwrap();
    let grad = grads.get(x.as_tensor()).unwrap().flatten_all().unwrap();
    (loss.to_vec1().unwrap(), grad.to_vec1().unwrap())
}

fn widen(v: Vec<f32>) -> Vec<f64> {
    v.into_iter().map(f64::from).collect()
}

#[test]
fn loss_and_gradient_match_tensorflow() {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["classes"], 29);
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    let mut worst = [0.0f64; 4];
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (loss, grad) = ours(name);
        let errors = [
            relative_error(
                &loss,
                &widen(read_npy::<f32>(&format!("{name}.loss.npy")).1),
            ),
            relative_error(
                &grad,
                &widen(read_npy::<f32>(&format!("{name}.grad.npy")).1),
            ),
            relative_error(&loss, &read_npy::<f64>(&format!("{name}.loss64.npy")).1),
            relative_error(&grad, &read_npy::<f64>(&format!("{name}.grad64.npy")).1),
        ];
        println!(
            "{name}: vs TF f32 loss {:.2e} grad {:.2e}; vs TF f64 loss {:.2e} grad {:.2e}",
            errors[0], errors[1], errors[2], errors[3]
        );
        for (w, e) in worst.iter_mut().zip(errors) {
            assert!(
                e <= TOLERANCE,
                "{name}: relative error {e:e} > {TOLERANCE:e} ({errors:?})"
            );
            *w = w.max(e);
        }
    }
    println!(
        "worst: vs TF {} f32 loss {:.2e} grad {:.2e}; f64 loss {:.2e} grad {:.2e}",
        manifest["tensorflow_version"], worst[0], worst[1], worst[2], worst[3]
    );
}
