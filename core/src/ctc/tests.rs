//! Unit tests of the CTC loss: brute force over all paths, finite differences, the
//! impossible-alignment policy, repeated labels, bad inputs, backward through candle.

use candle::{DType, Device, Tensor};

use super::kernel::{ItemLogits, Workspace};
use super::*;
use crate::Error;

/// Deterministic pseudo-random values in [-scale, scale) (xorshift64*).
fn values(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            (bits as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// `[T, B, C]` f32 logits from [`values`].
fn logits(t: usize, b: usize, c: usize, seed: u64) -> Tensor {
    let v: Vec<f32> = values(t * b * c, seed, 3.0)
        .iter()
        .map(|&x| x as f32)
        .collect();
    Tensor::from_vec(v, (t, b, c), &Device::Cpu).unwrap()
}

fn options(blank: usize, impossible: Impossible) -> CtcOptions {
    CtcOptions { blank, impossible }
}

/// Loss `[B]` and gradient `[T, B, C]` (of the sum of the losses) as plain vectors.
fn loss_and_grad(
    x: &Tensor,
    targets: &[Vec<u32>],
    lengths: &[usize],
    opts: &CtcOptions,
) -> (Vec<f32>, Vec<f32>) {
    let var = candle::Var::from_tensor(x).unwrap();
    let loss = ctc_loss(var.as_tensor(), targets, lengths, opts).unwrap();
    let grads = loss.sum_all().unwrap().backward().unwrap();
    let grad = grads.get(var.as_tensor()).unwrap();
    (
        loss.to_vec1().unwrap(),
        grad.flatten_all().unwrap().to_vec1().unwrap(),
    )
}

/// Collapses a path: merge repeats, then drop blanks.
fn collapse(path: &[usize], blank: usize) -> Vec<u32> {
    let mut out = Vec::new();
    let mut prev = None;
    for &c in path {
        if Some(c) != prev && c != blank {
            out.push(c as u32);
        }
        prev = Some(c);
    }
    out
}

/// log p(target | x) by summing, in log space, the probability of every path of length `t`
/// over `c` classes.
fn brute_force_log_probability(x: &[f64], t: usize, c: usize, target: &[u32], blank: usize) -> f64 {
    let log_probs: Vec<Vec<f64>> = x
        .chunks(c)
        .take(t)
        .map(|row| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            row.iter().map(|v| v - z).collect()
        })
        .collect();
    let mut matching = Vec::new();
    let mut path = vec![0usize; t];
    for code in 0..c.pow(t as u32) {
        let mut rest = code;
        for p in path.iter_mut() {
            *p = rest % c;
            rest /= c;
        }
        if collapse(&path, blank) == target {
            matching.push(
                path.iter()
                    .enumerate()
                    .map(|(i, &k)| log_probs[i][k])
                    .sum::<f64>(),
            );
        }
    }
    let max = matching.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + matching.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// p(target | x) from [`brute_force_log_probability`].
fn brute_force_probability(x: &[f64], t: usize, c: usize, target: &[u32], blank: usize) -> f64 {
    brute_force_log_probability(x, t, c, target, blank).exp()
}

/// Negative log-likelihood and gradient of one item from f64 logits `[t, c]`.
fn item_nll(x: &[f64], t: usize, c: usize, target: &[u32], blank: usize) -> (f64, Vec<f32>) {
    let mut grad = vec![0f32; t * c];
    let item = ItemLogits {
        data: x,
        stride: c,
        frames: t,
        classes: c,
    };
    let nll = Workspace::default().nll(&item, target, blank, Some((&mut grad, c)));
    (nll, grad)
}

#[test]
fn brute_force_sum_over_alignments_equals_exp_minus_loss() {
    let (c, blank) = (3, 2);
    let targets: [&[u32]; 6] = [&[], &[0], &[0, 0], &[0, 1], &[1, 0, 1], &[0, 0, 1]];
    for t in 1..=5 {
        for (k, target) in targets.iter().enumerate() {
            if required_frames(target) > t {
                continue;
            }
            let x = values(t * c, (t * 10 + k) as u64, 2.0);
            let expected = brute_force_probability(&x, t, c, target, blank);
            let (nll, _) = item_nll(&x, t, c, target, blank);
            let rel = ((-nll).exp() - expected).abs() / expected;
            assert!(rel < 1e-12, "T={t} target {target:?}: rel error {rel}");
        }
    }
}

#[test]
fn brute_force_through_the_op_with_padding() {
    // T = 5 frames of logits, item 0 uses 4 of them, item 1 all 5; blank is class 0 here.
    let (t, b, c) = (5, 2, 3);
    let x = logits(t, b, c, 7);
    let targets = vec![vec![1, 1], vec![2, 1, 2]];
    let (loss, _) = loss_and_grad(&x, &targets, &[4, 5], &options(0, Impossible::Error));
    let all: Vec<f64> = x
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    for (item, (target, len)) in targets.iter().zip([4, 5]).enumerate() {
        let rows: Vec<f64> = (0..len)
            .flat_map(|f| all[(f * b + item) * c..(f * b + item + 1) * c].to_vec())
            .collect();
        let expected = brute_force_probability(&rows, len, c, target, 0);
        let got = (-(loss[item] as f64)).exp();
        assert!(
            (got - expected).abs() / expected < 1e-5,
            "item {item}: {got} vs {expected}"
        );
    }
}

#[test]
fn gradient_matches_central_finite_differences() {
    let (t, c, blank) = (6, 4, 3);
    for (seed, target) in [(1u64, vec![1u32, 1, 0]), (2, vec![0, 2]), (3, vec![])] {
        let x = values(t * c, seed, 2.0);
        let (_, grad) = item_nll(&x, t, c, &target, blank);
        let h = 1e-5;
        for i in 0..t * c {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[i] += h;
            minus[i] -= h;
            let numeric = (item_nll(&plus, t, c, &target, blank).0
                - item_nll(&minus, t, c, &target, blank).0)
                / (2.0 * h);
            let err = (grad[i] as f64 - numeric).abs();
            assert!(
                err < 2e-6,
                "target {target:?}, logit {i}: {} vs {numeric}",
                grad[i]
            );
        }
    }
}

#[test]
fn backward_scales_by_the_upstream_gradient_and_zeroes_padding() {
    let (t, b, c) = (7, 3, 5);
    let x = logits(t, b, c, 11);
    let targets = vec![vec![0, 1], vec![2, 2], vec![3]];
    let lengths = [7, 5, 3];
    let opts = options(4, Impossible::Error);
    let (_, plain) = loss_and_grad(&x, &targets, &lengths, &opts);

    let var = candle::Var::from_tensor(&x).unwrap();
    let loss = ctc_loss(var.as_tensor(), &targets, &lengths, &opts).unwrap();
    let weights = Tensor::new(&[2.0f32, -0.5, 3.0], &Device::Cpu).unwrap();
    let grads = loss
        .mul(&weights)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let weighted: Vec<f32> = grads
        .get(var.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    for f in 0..t {
        for item in 0..b {
            for k in 0..c {
                let i = (f * b + item) * c + k;
                let w = [2.0, -0.5, 3.0][item];
                assert!((weighted[i] - w * plain[i]).abs() < 1e-6);
                if f >= lengths[item] {
                    assert_eq!(plain[i], 0.0, "padding frame {f} of item {item}");
                }
            }
        }
    }
}

#[test]
fn gradient_rows_sum_to_zero_on_valid_frames() {
    // softmax and the occupancy posterior are both distributions over the classes.
    let (t, b, c) = (9, 2, 6);
    let x = logits(t, b, c, 5);
    let (_, grad) = loss_and_grad(
        &x,
        &[vec![1, 2, 2, 1], vec![]],
        &[9, 4],
        &options(5, Impossible::Error),
    );
    for row in grad.chunks(c) {
        assert!(row.iter().sum::<f32>().abs() < 1e-5);
    }
}

#[test]
fn repeated_labels_need_a_blank_between_them() {
    let (c, blank) = (3, 2);
    assert_eq!(required_frames(&[0, 0]), 3);
    assert_eq!(required_frames(&[0, 1, 1, 0]), 5);
    assert_eq!(required_frames(&[0, 1, 0]), 3);
    // "aa" in exactly 3 frames has a single alignment: a, blank, a.
    let x = values(3 * c, 9, 2.0);
    let (nll, _) = item_nll(&x, 3, c, &[0, 0], blank);
    let log_softmax = |row: &[f64], k: usize| {
        let z: f64 = row.iter().map(|v| v.exp()).sum();
        row[k] - z.ln()
    };
    let single = log_softmax(&x[0..3], 0) + log_softmax(&x[3..6], blank) + log_softmax(&x[6..9], 0);
    assert!((nll + single).abs() < 1e-12);
    // "ab" in 2 frames is possible, "aa" in 2 frames is not.
    let x2 = logits(2, 2, c, 3);
    let err = ctc_loss(
        &x2,
        &[vec![0, 1], vec![0, 0]],
        &[2, 2],
        &options(blank, Impossible::Error),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::Ctc(CtcError::Impossible {
            item: 1,
            target_len: 2,
            required: 3,
            available: 2
        })
    ));
}

#[test]
fn impossible_alignment_is_an_error_naming_the_item() {
    let x = logits(4, 3, 5, 1);
    let err = ctc_loss(
        &x,
        &[vec![0], vec![1, 2], vec![1, 1, 2]],
        &[4, 4, 3],
        &options(4, Impossible::Error),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CTC batch item 2: a target of 3 labels needs at least 4 frames (one per label plus a \
         blank between repeated labels) but only 3 are available"
    );
}

#[test]
fn zero_loss_policy_zeroes_only_the_impossible_items() {
    let (t, b, c) = (6, 3, 5);
    let x = logits(t, b, c, 21);
    let targets = vec![vec![0, 1], vec![2, 2, 2], vec![3, 0, 3]];
    let lengths = [6, 4, 5]; // item 1 needs 5 frames
    let opts = options(4, Impossible::ZeroLoss);
    let out = ctc_loss_with_report(&x, &targets, &lengths, &opts).unwrap();
    assert_eq!(out.impossible, vec![1]);
    let (loss, grad) = loss_and_grad(&x, &targets, &lengths, &opts);
    assert_eq!(loss[1], 0.0);
    assert_eq!(out.loss.to_vec1::<f32>().unwrap(), loss);
    // The other items are what they are in a batch of their own.
    for item in [0, 2] {
        let alone = x.narrow(1, item, 1).unwrap();
        let (l, g) = loss_and_grad(&alone, &targets[item..=item], &lengths[item..=item], &opts);
        assert_eq!(l[0], loss[item]);
        for f in 0..t {
            assert_eq!(
                g[f * c..(f + 1) * c],
                grad[(f * b + item) * c..(f * b + item + 1) * c]
            );
        }
    }
    for f in 0..t {
        assert!(
            grad[(f * b + 1) * c..(f * b + 2) * c]
                .iter()
                .all(|&v| v == 0.0)
        );
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let x = logits(4, 2, 5, 2);
    let ok_targets = vec![vec![0], vec![1]];
    let opts = options(4, Impossible::Error);
    let ctc = |x: &Tensor, targets: &[Vec<u32>], lengths: &[usize], opts: &CtcOptions| {
        ctc_loss(x, targets, lengths, opts).unwrap_err()
    };
    let flat = x.flatten_to(1).unwrap();
    assert!(matches!(
        ctc(&flat, &ok_targets, &[4, 4], &opts),
        Error::Ctc(CtcError::Shape { .. })
    ));
    let f64_logits = x.to_dtype(DType::F64).unwrap();
    let msg = ctc(&f64_logits, &ok_targets, &[4, 4], &opts).to_string();
    assert!(msg.contains("f32 logits on the CPU only, got F64"), "{msg}");
    assert!(matches!(
        ctc(&x, &ok_targets[..1], &[4, 4], &opts),
        Error::Ctc(CtcError::BatchMismatch {
            what: "targets",
            len: 1,
            batch: 2
        })
    ));
    assert!(matches!(
        ctc(&x, &ok_targets, &[4], &opts),
        Error::Ctc(CtcError::BatchMismatch {
            what: "input_lengths",
            ..
        })
    ));
    assert!(matches!(
        ctc(&x, &[vec![0], vec![1, 5]], &[4, 4], &opts),
        Error::Ctc(CtcError::InvalidLabel {
            item: 1,
            position: 1,
            label: 5,
            ..
        })
    ));
    assert!(matches!(
        ctc(&x, &[vec![4], vec![1]], &[4, 4], &opts),
        Error::Ctc(CtcError::InvalidLabel {
            item: 0,
            label: 4,
            ..
        })
    ));
    assert!(matches!(
        ctc(&x, &ok_targets, &[4, 5], &opts),
        Error::Ctc(CtcError::InputTooLong {
            item: 1,
            length: 5,
            frames: 4
        })
    ));
    assert!(matches!(
        ctc(&x, &ok_targets, &[4, 4], &options(5, Impossible::Error)),
        Error::Ctc(CtcError::BlankOutOfRange {
            blank: 5,
            classes: 5
        })
    ));
    let empty_classes = Tensor::zeros((4, 2, 0), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        ctc(
            &empty_classes,
            &[vec![], vec![]],
            &[4, 4],
            &options(0, Impossible::Error)
        ),
        Error::Ctc(CtcError::BlankOutOfRange { .. })
    ));
}

#[test]
fn degenerate_shapes_work() {
    let opts = options(2, Impossible::Error);
    // Empty batch.
    let x = Tensor::zeros((3, 0, 3), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(ctc_loss(&x, &[], &[], &opts).unwrap().dims(), [0]);
    // Zero frames, empty target: p = 1.
    let x = Tensor::zeros((0, 1, 3), DType::F32, &Device::Cpu).unwrap();
    let (loss, grad) = loss_and_grad(&x, &[vec![]], &[0], &opts);
    assert_eq!((loss, grad.len()), (vec![0.0], 0));
    // Uniform logits, empty target over 4 frames: -log (1/3)^4.
    let x = Tensor::zeros((4, 1, 3), DType::F32, &Device::Cpu).unwrap();
    let (loss, _) = loss_and_grad(&x, &[vec![]], &[4], &opts);
    assert!((loss[0] as f64 - 4.0 * 3f64.ln()).abs() < 1e-5);
}

#[test]
fn non_contiguous_logits_give_the_same_result() {
    let (t, b, c) = (6, 3, 4);
    let batch_major = logits(b, t, c, 17); // [B, T, C]
    let time_major = batch_major.transpose(0, 1).unwrap(); // a strided view
    let targets = vec![vec![0, 1], vec![2], vec![1, 1]];
    let opts = options(3, Impossible::Error);
    let (l1, g1) = loss_and_grad(&time_major, &targets, &[6, 4, 5], &opts);
    let (l2, g2) = loss_and_grad(
        &time_major.contiguous().unwrap(),
        &targets,
        &[6, 4, 5],
        &opts,
    );
    assert_eq!((l1, g1), (l2, g2));
}

#[test]
fn extreme_logits_stay_finite() {
    // Confident wrong predictions: log-space keeps the loss finite and the gradient bounded.
    let (t, c) = (40, 4);
    let mut x = vec![0f64; t * c];
    for row in x.chunks_mut(c) {
        row[3] = 400.0; // blank certain everywhere
    }
    let (nll, grad) = item_nll(&x, t, c, &[0, 1, 2, 0, 1, 2], 3);
    assert!(nll.is_finite() && nll > 2000.0, "{nll}");
    assert!(grad.iter().all(|g| g.is_finite() && g.abs() <= 1.0 + 1e-6));
}

#[test]
fn extreme_logits_match_brute_force_in_log_space() {
    // Logit gaps of ~1000 make the linear fast path underflow; the exact fallback takes over.
    let (c, blank) = (3, 2);
    for (seed, target) in [
        (31u64, vec![0u32, 1]),
        (32, vec![0, 0]),
        (33, vec![1]),
        (34, vec![]),
    ] {
        let x = values(5 * c, seed, 500.0);
        let expected = -brute_force_log_probability(&x, 5, c, &target, blank);
        let (nll, grad) = item_nll(&x, 5, c, &target, blank);
        assert!(
            (nll - expected).abs() <= 1e-9 * expected.abs(),
            "{target:?}: {nll} vs {expected}"
        );
        assert!(grad.iter().all(|g| g.is_finite()));
    }
}
