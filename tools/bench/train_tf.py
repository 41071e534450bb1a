#!/usr/bin/env python3
"""Training throughput of the DeepSpeech model in TensorFlow, the reference for issue 3.

The same model, loss, optimiser and batch shapes as `cargo bench -p deepspeech-core --bench train`:
Keras Dense(H, clipped ReLU at 20) x 3 with dropout 0.05, LSTM(H, return_sequences=True),
Dense(H, clipped ReLU) with dropout 0.05, Dense(29); `tf.nn.ctc_loss` on batch-major logits with
sparse labels (as DeepSpeech passes them, which selects TensorFlow's fused C++ CTC kernel) and
blank_index=28, mean over the batch; Adam (lr 1e-3). One training step is one
`tf.function` call; 2 intra-op and 1 inter-op threads (the machine's 2 cores).

    python tools/bench/train_tf.py [--dense-labels] [STEPS N_HIDDEN BATCH FRAMES]   # default 7 512 16 300

`--dense-labels` passes padded dense labels instead, which makes `tf.nn.ctc_loss` use its pure-TF
`ctc_loss_dense` (a `tf.scan` forward-backward that TensorFlow documents as much slower on CPU).

Warm-up 2 steps (tracing included), then the median of STEPS steps. Also measures TensorFlow's
matmul rate on the dominant shape (T*B x H by H x 4H). Prints a human summary on stderr and one
tab-separated line on stdout, in the Rust bench's format:
`tensorflow  ms/batch  audio-s/s  forward-GFLOP  matmul-GFLOP/s  parameters`.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

THREADS = 2
tf.config.threading.set_intra_op_parallelism_threads(THREADS)
tf.config.threading.set_inter_op_parallelism_threads(1)

N_INPUT = 494  # 19 context frames x 26 MFCCs
N_CLASSES = 29  # 28 English symbols + blank
FRAME_SECONDS = 0.02
LABELS_PER_SECOND = 12.5
RELU_CLIP = 20.0
DROPOUT = 0.05


def clipped_relu(x):
    return tf.minimum(tf.nn.relu(x), RELU_CLIP)


def build_model(n_hidden):
    """DeepSpeech 0.9's acoustic model, batch-major: [B, T, 494] -> logits [B, T, 29]."""
    dense = tf.keras.layers.Dense
    x = inputs = tf.keras.Input(shape=(None, N_INPUT))
    for i in (1, 2, 3):
        x = dense(n_hidden, activation=clipped_relu, name=f"layer_{i}")(x)
        x = tf.keras.layers.Dropout(DROPOUT)(x)
    x = tf.keras.layers.LSTM(n_hidden, return_sequences=True, name="lstm")(x)
    x = dense(n_hidden, activation=clipped_relu, name="layer_5")(x)
    x = tf.keras.layers.Dropout(DROPOUT)(x)
    logits = dense(N_CLASSES, name="layer_6")(x)
    return tf.keras.Model(inputs, logits)


def forward_flops(n_hidden, rows):
    """2*m*n*k for every dense layer and the LSTM's input and recurrent matmuls."""
    h = n_hidden
    mk = lambda i, o: 2.0 * rows * i * o  # noqa: E731
    return mk(N_INPUT, h) + 2 * mk(h, h) + 2 * mk(h, 4 * h) + mk(h, h) + mk(h, N_CLASSES)


def matmul_gflops(m, k, n):
    a = tf.random.normal((m, k))
    b = tf.random.normal((k, n))
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)[0, 0]))
    f()
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        f().numpy()
        times.append(time.perf_counter() - t0)
    return 2.0 * m * k * n / float(np.median(times)) * 1e-9


def main():
    dense_labels = "--dense-labels" in sys.argv[1:]
    args = [int(a) for a in sys.argv[1:] if a != "--dense-labels"]
    steps, n_hidden, batch, frames = (args + [7, 512, 16, 300][len(args):])[:4]
    warmup = 2

    rng = np.random.default_rng(3)
    model = build_model(n_hidden)
    params = model.count_params()
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)

    mean_labels = frames * FRAME_SECONDS * LABELS_PER_SECOND
    batches = []
    for _ in range(4):
        x = rng.standard_normal((batch, frames, N_INPUT), dtype=np.float32)
        lens = np.round(mean_labels * (0.9 + 0.2 * rng.random(batch))).astype(np.int32)
        # Padded to one width for all batches, so that the step is traced once.
        labels = np.zeros((batch, int(np.ceil(mean_labels * 1.1))), np.int32)
        for j, n in enumerate(lens):
            labels[j, :n] = rng.integers(0, N_CLASSES - 1, n)
        if not dense_labels:
            mask = np.arange(labels.shape[1])[None, :] < lens[:, None]
            labels = tf.SparseTensor(np.argwhere(mask), labels[mask], labels.shape)
        batches.append((tf.constant(x), labels, tf.constant(lens)))
    logit_length = tf.fill([batch], frames)

    @tf.function
    def train_step(x, labels, label_length):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            losses = tf.nn.ctc_loss(
                labels=labels,
                logits=logits,
                label_length=label_length if dense_labels else None,
                logit_length=logit_length,
                logits_time_major=False,
                blank_index=N_CLASSES - 1,
            )
            loss = tf.reduce_mean(losses)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    times = []
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        loss = float(train_step(*batches[step % len(batches)]).numpy())
        dt = time.perf_counter() - t0
        assert np.isfinite(loss), loss
        if step >= warmup:
            times.append(dt)
    total = float(np.median(times))

    rows = batch * frames
    fwd = forward_flops(n_hidden, rows)
    rate = matmul_gflops(rows, n_hidden, 4 * n_hidden)
    audio = rows * FRAME_SECONDS
    print(
        f"TensorFlow {tf.__version__} (Keras {tf.keras.__version__}), n_hidden {n_hidden}, "
        f"batch {batch} x {frames} frames, {'dense' if dense_labels else 'sparse'} labels, "
        f"{params} parameters, {THREADS} threads: "
        f"{total * 1e3:.0f} ms per batch (median of {steps}), {audio / total:.1f} audio s / s; "
        f"matmul {rate:.1f} GFLOP/s",
        file=sys.stderr,
    )
    name = "tensorflow-dense-labels" if dense_labels else "tensorflow"
    print(f"{name}\t{total * 1e3:.1f}\t{audio / total:.2f}\t{fwd * 1e-9:.4f}\t{rate:.1f}\t{params}")


if __name__ == "__main__":
    main()
