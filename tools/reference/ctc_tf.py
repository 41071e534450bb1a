#!/usr/bin/env python3
"""TensorFlow reference CTC loss and gradient fixtures for deepspeech-rs.

For a few small deterministic cases (numpy seed fixed per case) it computes, with

    loss = tf.nn.ctc_loss(labels, logits, label_length, logit_length,
                          logits_time_major=True, blank_index=C - 1)
    grad = tf.GradientTape().gradient(loss, logits)        # d loss_b / d logits, per item

the per-example negative log-likelihood and its gradient with respect to the
time-major logits [T, B, C], C = 29 (DeepSpeech English: 28 symbols, blank last).
``tf.nn.ctc_loss`` applies log-softmax to the logits itself. ``GradientTape`` on
``loss`` (a [B] vector) gives the gradient of ``sum(loss)``, which is the
per-item gradient since item b's loss only depends on logits[:, b, :].

Each case is computed

* in float32 with dense labels, exactly as above (what a float32 model trains
  with): ``loss.npy``, ``grad.npy``;
* in float64 (same logits, cast exactly) by the same function with
  ``SparseTensor`` labels, which runs TensorFlow's C++ ``CTCLoss`` kernel (the
  dense path hard-codes float32 internally): ``loss64.npy``, ``grad64.npy``.
  That kernel rejects empty targets ("Labels length is zero"), so items with an
  empty target are NaN there and only the float32 reference covers them.

The float64 pair is the tight reference: TensorFlow's float32 log-space
recursions carry ~1e-5 relative rounding in the posteriors. The manifest records
how far float32 TF is from float64 TF, and how far DeepSpeech 0.9's own call
(``tf.compat.v1.nn.ctc_loss``, ``ignore_longer_outputs_than_inputs=True``) is,
as a cross-check, plus the largest gradient TF gives on padding frames.

Per case ``<name>`` it writes into the output folder

    <name>.logits.npy         float32 [T, B, C]
    <name>.labels.npy         int32   [B, max(1, Lmax)]  (padded with -1)
    <name>.label_lengths.npy  int32   [B]
    <name>.input_lengths.npy  int32   [B]
    <name>.loss.npy           float32 [B]
    <name>.grad.npy           float32 [T, B, C]
    <name>.loss64.npy         float64 [B]
    <name>.grad64.npy         float64 [T, B, C]

plus ``manifest.json`` (versions, cases, shapes, cross-check figures).

Setup (outside the repository):

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install tensorflow-cpu numpy    # tested: tensorflow-cpu 2.21.0, numpy 2.4.6

Regenerate the committed fixtures (from the repository root):

    /work/venv-ref/bin/python tools/reference/ctc_tf.py --out core/tests/fixtures/ctc
"""

import argparse
import json
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CLASSES = 29  # DeepSpeech English alphabet (28 symbols) + blank
BLANK = CLASSES - 1
ALPHABET = " abcdefghijklmnopqrstuvwxyz'"


def encode(text):
    """Labels of a text in DeepSpeech's English alphabet (space = 0, a = 1, ..., ' = 27)."""
    return [ALPHABET.index(ch) for ch in text]


def required_frames(labels):
    """Minimal input length: one frame per label plus a blank between equal neighbours."""
    repeats = sum(1 for a, b in zip(labels, labels[1:]) if a == b)
    return len(labels) + repeats


def random_target(rng, length):
    """Random labels with deliberate repeats (about one in four positions)."""
    labels = []
    for _ in range(length):
        if labels and rng.random() < 0.25:
            labels.append(labels[-1])
        else:
            labels.append(int(rng.integers(0, BLANK)))
    return labels


def make_cases():
    """The deterministic cases: (name, description, seed, T, logits scale, targets, input lengths)."""
    cases = [
        ("repeats", "repeated labels needing blanks ('aa', 'abba') and padding", 11, 12, 2.0,
         [encode("aa"), encode("abba"), encode("cat")], [12, 9, 11]),
        ("minimal", "input length == minimal required frames (T for the last item)", 12, 7, 2.0,
         [encode("abba"), encode("aab"), encode("abcdefg")], [5, 4, 7]),
        ("empty", "empty targets (one on a single frame), short targets, padding", 13, 8, 2.0,
         [[], encode("a"), encode("zz"), []], [8, 3, 6, 1]),
    ]
    rng = np.random.default_rng(14)
    lengths = [20, 15, 1, 25, 9]
    targets = [random_target(rng, n) for n in lengths]
    cases.append(("deepspeech", "random ~peaky logits, longer random targets with repeats", 14, 50, 4.0,
                  targets, [50, 45, 30, 48, 20]))
    return cases


def ctc_dense(logits, labels, label_lengths, input_lengths, dtype):
    """Loss and gradient from tf.nn.ctc_loss with dense labels, in `dtype`."""
    x = tf.constant(logits.astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.ctc_loss(
            labels=tf.constant(labels),
            logits=x,
            label_length=tf.constant(label_lengths),
            logit_length=tf.constant(input_lengths),
            logits_time_major=True,
            blank_index=BLANK,
        )
    grad = tape.gradient(loss, x)
    return loss.numpy(), grad.numpy()


def sparse_labels(targets):
    """The targets as a SparseTensor (what the C++ CTCLoss kernel takes)."""
    indices = [[b, i] for b, t in enumerate(targets) for i in range(len(t))]
    values = [v for t in targets for v in t]
    return tf.SparseTensor(
        indices=tf.constant(indices, dtype=tf.int64) if indices else tf.zeros([0, 2], tf.int64),
        values=tf.constant(values, dtype=tf.int32),
        dense_shape=[len(targets), max(1, max(len(t) for t in targets))],
    )


def ctc_sparse(logits, targets, input_lengths, dtype):
    """Loss and gradient from tf.nn.ctc_loss with SparseTensor labels (the C++ kernel), in `dtype`."""
    x = tf.constant(logits.astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.nn.ctc_loss(
            labels=sparse_labels(targets), logits=x, label_length=None,
            logit_length=tf.constant(input_lengths), logits_time_major=True, blank_index=BLANK,
        )
    return loss.numpy(), tape.gradient(loss, x).numpy()


def ctc_sparse_v1(logits, targets, input_lengths):
    """DeepSpeech 0.9's call: tf.compat.v1.nn.ctc_loss, C++ kernel, blank = C - 1."""
    sparse = sparse_labels(targets)
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.compat.v1.nn.ctc_loss(
            labels=sparse, inputs=x, sequence_length=tf.constant(input_lengths),
            time_major=True, ignore_longer_outputs_than_inputs=True,
        )
    return loss.numpy(), tape.gradient(loss, x).numpy()


def on_nonempty(kernel, logits, targets, input_lengths):
    """Runs a sparse-label kernel on the items with a non-empty target (the C++ CTCLoss kernel
    rejects empty ones: "Labels length is zero"); the other items get NaN."""
    keep = [b for b, t in enumerate(targets) if t]
    loss = np.full(len(targets), np.nan)
    grad = np.full(logits.shape, np.nan)
    sub_loss, sub_grad = kernel(logits[:, keep, :], [targets[b] for b in keep], input_lengths[keep])
    loss[keep] = sub_loss
    grad[:, keep, :] = sub_grad
    return loss, grad


def max_rel(a, b):
    """max |a - b| / max(|b|, 1e-3 * max|b|): the error measure the Rust test uses."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    keep = ~np.isnan(b)
    a, b = a[keep], b[keep]
    floor = 1e-3 * np.max(np.abs(b)) if b.size else 0.0
    denom = np.maximum(np.abs(b), max(floor, 1e-30))
    return float(np.max(np.abs(a - b) / denom)) if b.size else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    manifest = {
        "description": "CTC loss and gradient w.r.t. time-major logits from tf.nn.ctc_loss(labels, logits, "
                       "label_length, logit_length, logits_time_major=True, blank_index=C-1) + "
                       "tf.GradientTape; generated by tools/reference/ctc_tf.py. Labels padded with -1.",
        "tensorflow_version": tf.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "classes": CLASSES,
        "blank": BLANK,
        "error_measure": "max |a-b| / max(|b|, 1e-3 * max|b|) over the array",
        "cases": [],
    }
    for name, description, seed, frames, scale, targets, input_lengths in make_cases():
        batch = len(targets)
        for b, (t, n) in enumerate(zip(targets, input_lengths)):
            assert required_frames(t) <= n <= frames, (name, b)
        rng = np.random.default_rng(seed)
        logits = (rng.standard_normal((frames, batch, CLASSES)) * scale).astype(np.float32)
        lmax = max(1, max(len(t) for t in targets))
        labels = np.full((batch, lmax), -1, np.int32)
        for b, t in enumerate(targets):
            labels[b, : len(t)] = t
        label_lengths = np.array([len(t) for t in targets], np.int32)
        lengths = np.array(input_lengths, np.int32)

        loss32, grad32 = ctc_dense(logits, np.maximum(labels, 0), label_lengths, lengths, np.float32)
        loss64, grad64 = on_nonempty(lambda x, t, n: ctc_sparse(x, t, n, np.float64), logits, targets, lengths)
        loss_s32, grad_s32 = on_nonempty(lambda x, t, n: ctc_sparse(x, t, n, np.float32), logits, targets, lengths)
        loss_v1, grad_v1 = on_nonempty(ctc_sparse_v1, logits, targets, lengths)

        files = {
            "logits": logits, "labels": labels, "label_lengths": label_lengths, "input_lengths": lengths,
            "loss": loss32.astype(np.float32), "grad": grad32.astype(np.float32),
            "loss64": loss64.astype(np.float64), "grad64": grad64.astype(np.float64),
        }
        for key, value in files.items():
            np.save(os.path.join(args.out, f"{name}.{key}.npy"), value)
        manifest["cases"].append({
            "name": name,
            "description": description,
            "seed": seed,
            "logits_scale": scale,
            "shape_tbc": [frames, batch, CLASSES],
            "targets": targets,
            "input_lengths": input_lengths,
            "required_frames": [required_frames(t) for t in targets],
            "loss64": [None if np.isnan(v) else float(v) for v in loss64],
            "cross_check": {
                "tf_dense_f32_vs_sparse_f64_loss": max_rel(loss32, loss64),
                "tf_dense_f32_vs_sparse_f64_grad": max_rel(grad32, grad64),
                "tf_sparse_f32_vs_sparse_f64_loss": max_rel(loss_s32, loss64),
                "tf_sparse_f32_vs_sparse_f64_grad": max_rel(grad_s32, grad64),
                "tf_sparse_v1_vs_sparse_f64_loss": max_rel(loss_v1, loss64),
                "tf_sparse_v1_vs_sparse_f64_grad": max_rel(grad_v1, grad64),
                "grad_beyond_input_length_max_abs": float(max(
                    (np.max(np.abs(grad32[n:, b, :])) if n < frames else 0.0)
                    for b, n in enumerate(input_lengths))),
            },
        })
        print(name, manifest["cases"][-1]["cross_check"])

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
