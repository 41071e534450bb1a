#!/usr/bin/env python3
"""A small TensorFlow 1.15 training checkpoint, as a fixture for deepspeech-rs's checkpoint reader.

Creates, in a fresh graph, a few hundred variables and saves them with the very code DeepSpeech
0.9 saves its checkpoints with, ``tf.compat.v1.train.Saver`` (format V2: the "tensor bundle"
``PREFIX.index`` + ``PREFIX.data-00000-of-00001`` and the ``checkpoint`` state file):

- DeepSpeech's own variable names (``layer_1/weights``, their ``/Adam`` and ``/Adam_1`` slots,
  the LSTM's ``kernel``/``bias``) with small shapes, ``learning_rate``, ``beta1_power``;
- ~200 float32 variables with long, shared-prefix names and shapes [], [3], [2, 3], [2, 2, 2],
  so that the index's data block has many restart points (one every 16 keys);
- one float32 variable holding -0.0, +-inf, NaN, the smallest subnormal and the largest float;
- one float32 variable with a zero-sized dimension ([0, 3]);
- a float64 and an int32 variable (a reader for float32 weights skips them);
- the int64 ``global_step``, set past 2^32.

TensorFlow 1.15 writes the index with 256 KiB data blocks, so a small fixture has a single data
block; ``--entries N`` makes a larger, multi-block checkpoint for a local check (not committed):
12000 entries give an index of 3 blocks.

Next to the checkpoint it writes ``values.json``: for every variable its name, dtype, shape and
values (float32 and float64 as their IEEE-754 bit patterns, so that NaN, infinities and -0.0
compare exactly; integers as they are), plus the TensorFlow/numpy/Python versions.

Setup (outside the repository): a Python 3.7 environment with ``tensorflow==1.15.5`` (here
/work/ref/tf115). Regenerate the committed fixture (from the repository root):

    /work/ref/tf115/bin/python tools/reference/tf_checkpoint_fixture.py \\
        --out core/tests/fixtures/tf_checkpoint
"""

import argparse
import json
import os
import platform
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SEED = 20251204
GLOBAL_STEP = 2 ** 32 + 12345
PREFIX_NAME = "model"
LSTM_SCOPE = "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell"
SMALL_SHAPES = [(), (3,), (2, 3), (2, 2, 2)]


def deepspeech_variables(rng):
    """DeepSpeech's variable names (n_input 4, n_hidden 2, 3 classes), with Adam slots."""
    n_input, n_hidden, n_classes = 4, 2, 3
    shapes = {
        "layer_1/weights": (n_input, n_hidden),
        "layer_1/bias": (n_hidden,),
        "layer_2/weights": (n_hidden, n_hidden),
        "layer_2/bias": (n_hidden,),
        "layer_3/weights": (n_hidden, n_hidden),
        "layer_3/bias": (n_hidden,),
        LSTM_SCOPE + "/kernel": (2 * n_hidden, 4 * n_hidden),
        LSTM_SCOPE + "/bias": (4 * n_hidden,),
        "layer_5/weights": (n_hidden, n_hidden),
        "layer_5/bias": (n_hidden,),
        "layer_6/weights": (n_hidden, n_classes),
        "layer_6/bias": (n_classes,),
    }
    out = []
    for name, shape in shapes.items():
        for suffix in ("", "/Adam", "/Adam_1"):
            out.append((name + suffix, rng.standard_normal(shape).astype(np.float32)))
    out.append(("learning_rate", np.float32(0.001)))
    out.append(("beta1_power", np.float32(0.9 ** 7)))
    out.append(("beta2_power", np.float32(0.999 ** 7)))
    return out


def filler_variables(rng, count):
    """`count` float32 variables with long names sharing prefixes, in small shapes."""
    out = []
    for i in range(count):
        shape = SMALL_SHAPES[i % len(SMALL_SHAPES)]
        name = "fixture/encoder/block_%03d/sublayer_%d/projection_%s" % (
            i // 8, i % 8, ["kernel", "bias", "scale", "offset"][i % 4])
        out.append((name, rng.standard_normal(shape).astype(np.float32)))
    return out


def special_variables():
    specials = np.array([-0.0, np.inf, -np.inf, np.nan, np.finfo(np.float32).tiny / 2 ** 23,
                         np.finfo(np.float32).max, 1.0, -1.5], dtype=np.float32)
    return [
        ("specials/float32", specials.reshape(2, 4)),
        ("specials/empty", np.zeros((0, 3), dtype=np.float32)),
        ("specials/float64", np.array([np.pi, -1e300], dtype=np.float64)),
        ("specials/int32", np.array([[-7, 2 ** 31 - 1, 0]], dtype=np.int32)),
    ]


def describe(name, value):
    value = np.asarray(value)
    entry = {"name": name, "dtype": value.dtype.name, "shape": list(value.shape)}
    flat = value.reshape(-1)
    if value.dtype == np.float32:
        entry["bits"] = [int(b) for b in flat.view(np.uint32)]
    elif value.dtype == np.float64:
        entry["bits"] = [int(b) for b in flat.view(np.uint64)]
    else:
        entry["values"] = [int(v) for v in flat]
    return entry


def to_json(manifest):
    """The manifest as JSON with one variable per line (compact, yet diffable)."""
    head = {k: v for k, v in manifest.items() if k != "variables"}
    lines = [json.dumps(v) for v in manifest["variables"]]
    return (json.dumps(head, indent=1)[:-2] + ',\n "variables": [\n'
            + ",\n".join(lines) + "\n ]\n}\n")


def build(out_dir, entries):
    import tensorflow as tf

    rng = np.random.default_rng(SEED)

    values = deepspeech_variables(rng) + special_variables()
    values += filler_variables(rng, max(entries - len(values) - 1, 0))

    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(v, name=n, trainable=False) for n, v in values]
        global_step = tf.compat.v1.train.get_or_create_global_step()
        assign_step = tf.compat.v1.assign(global_step, GLOBAL_STEP)
        saver = tf.compat.v1.train.Saver(save_relative_paths=True, max_to_keep=1)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(assign_step)
            if os.path.isdir(out_dir):
                shutil.rmtree(out_dir)
            os.makedirs(out_dir)
            prefix = saver.save(session, os.path.join(out_dir, PREFIX_NAME),
                                global_step=global_step, write_meta_graph=False)
            saved = session.run(variables + [global_step])
    for (name, value), v, got in zip(values, variables, saved):
        assert v.op.name == name, (v.op.name, name)
        assert np.asarray(value).tobytes() == np.asarray(got).tobytes(), name

    manifest = {
        "description": "Variables saved by tf.compat.v1.train.Saver (V2 tensor bundle) in "
                       "tools/reference/tf_checkpoint_fixture.py; float32/float64 values as "
                       "IEEE-754 bit patterns, row-major.",
        "tensorflow_version": tf.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "prefix": os.path.basename(prefix),
        "global_step": GLOBAL_STEP,
        "variables": [describe(n, v) for n, v in values]
                     + [describe("global_step", np.int64(GLOBAL_STEP))],
    }
    with open(os.path.join(out_dir, "values.json"), "w") as f:
        f.write(to_json(manifest))
    index_size = os.path.getsize(prefix + ".index")
    data_size = os.path.getsize(prefix + ".data-00000-of-00001")
    print("%s: %d variables, index %d bytes, data %d bytes" % (
        prefix, len(manifest["variables"]), index_size, data_size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (replaced)")
    parser.add_argument("--entries", type=int, default=256,
                        help="total number of variables (default 256)")
    args = parser.parse_args()
    build(args.out, args.entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
