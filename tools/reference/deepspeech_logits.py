#!/usr/bin/env python3
"""Per-frame probabilities of DeepSpeech exported models, computed by TensorFlow 1.15 itself, the
way DeepSpeech 0.9's runtime (native_client/deepspeech.cc) feeds them: MFCC of every whole 32 ms
window from the graph's own `mfccs` output, one more of the zero-padded rest, 9 zero frames of
context on each side, then `input_node` in chunks of `n_steps` windows with the LSTM state carried
from `new_state_c/h` to `previous_state_c/h` (a short last chunk zero-padded, as the runtime
pads it).

Writes `<stem>.probs-<format>.npy` (float32 [frames, classes], softmax as the graph outputs
it) for each WAV, for the frozen graph (run with tf.Session) and the TFLite model (run with
tf.lite.Interpreter, TensorFlow's own hybrid int8 kernels, with libdeepspeech-tflite's stale last
window: see mfcc_frames).

Usage: tf115/bin/python deepspeech_logits.py MODEL.pb MODEL.tflite OUT_DIR WAV...
(WAVs must be 16 kHz mono 16-bit.)
"""
import os
import sys
import wave

import numpy as np
import tensorflow as tf

tfv1 = tf.compat.v1


def read_wav(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0


def load_graph(pb):
    graph_def = tfv1.GraphDef()
    with open(pb, "rb") as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    return graph


def mfcc_frames(session, samples, stale_tail=False, win=512, step=320):
    """The runtime's framing: whole windows, then the rest, zero-padded (libdeepspeech's
    TensorFlow runtime) or, with `stale_tail`, padded as libdeepspeech-tflite pads it: its input
    tensor keeps the previous window's samples past the k remaining ones
    (tflitemodelstate.cc's copy_vector_to_tensor copies only k values)."""
    frames = []
    start = 0
    while start + win <= len(samples):
        frames.append(session.run("mfccs:0", {"input_samples:0": samples[start:start + win]}))
        start += step
    rest = np.zeros(win, np.float32)
    tail = samples[start:start + win]
    if stale_tail and start > 0:
        rest[:] = samples[start - step:start - step + win]
    rest[:len(tail)] = tail
    frames.append(session.run("mfccs:0", {"input_samples:0": rest}))
    return np.concatenate([f.reshape(1, -1) for f in frames])


def windows(mfcc, n_context=9):
    padded = np.concatenate([np.zeros((n_context, mfcc.shape[1]), np.float32), mfcc,
                             np.zeros((n_context, mfcc.shape[1]), np.float32)])
    width = 2 * n_context + 1
    return np.stack([padded[t:t + width] for t in range(len(mfcc))])


def run_chunks(step_fn, x, n_steps, n_cell):
    c = np.zeros((1, n_cell), np.float32)
    h = np.zeros((1, n_cell), np.float32)
    out = []
    for start in range(0, len(x), n_steps):
        chunk = x[start:start + n_steps]
        n = len(chunk)
        batch = np.zeros((1, n_steps) + x.shape[1:], np.float32)
        batch[0, :n] = chunk
        probs, c, h = step_fn(batch, n, c, h)
        out.append(probs.reshape(n_steps, -1)[:n])
    return np.concatenate(out)


def main():
    pb, tflite, out_dir = sys.argv[1:4]
    graph = load_graph(pb)
    with tfv1.Session(graph=graph) as session:
        shape = graph.get_tensor_by_name("input_node:0").shape.as_list()
        n_steps, n_cell = shape[1], graph.get_tensor_by_name("previous_state_c:0").shape.as_list()[1]
        interpreter = tf.lite.Interpreter(model_path=tflite)
        interpreter.allocate_tensors()
        detail = {d["name"]: d["index"] for d in interpreter.get_input_details()}
        outputs = {d["name"]: d["index"] for d in interpreter.get_output_details()}

        def frozen(batch, n, c, h):
            return session.run(["logits:0", "new_state_c:0", "new_state_h:0"], {
                "input_node:0": batch, "input_lengths:0": [n],
                "previous_state_c:0": c, "previous_state_h:0": h})

        def lite(batch, n, c, h):
            interpreter.set_tensor(detail["input_node"], batch)
            interpreter.set_tensor(detail["previous_state_c"], c)
            interpreter.set_tensor(detail["previous_state_h"], h)
            interpreter.invoke()
            return (interpreter.get_tensor(outputs["logits"]),
                    interpreter.get_tensor(outputs["new_state_c"]),
                    interpreter.get_tensor(outputs["new_state_h"]))

        for wav in sys.argv[4:]:
            samples = read_wav(wav)
            stem = os.path.splitext(os.path.basename(wav))[0]
            for name, fn in [("pb", frozen), ("tflite", lite)]:
                x = windows(mfcc_frames(session, samples, stale_tail=name == "tflite"),
                            (shape[2] - 1) // 2)
                probs = run_chunks(fn, x, n_steps, n_cell).astype(np.float32)
                np.save(os.path.join(out_dir, "%s.probs-%s.npy" % (stem, name)), probs)
                print(stem, name, probs.shape)


if __name__ == "__main__":
    main()
