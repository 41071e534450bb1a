#!/usr/bin/env python3
"""Checks that TensorFlow 1.15 reads the training checkpoints deepspeech-rs writes.

1. Runs the ignored Rust test ``write_checkpoints_for_tensorflow``
   (``core/src/model/formats/checkpoint/tests.rs``), which writes with
   ``deepspeech_core::model::formats::checkpoint::write_checkpoint`` into ``--out``:

   - ``synthetic/``: ``train-7`` (12 000+ float32 variables of shapes [], [3], [2, 3], [0, 3],
     [5, 1, 2], NaN/inf/-0.0/subnormal values, so an index of several 256 KiB blocks, plus the
     int64 scalars ``global_step`` = 2^40 + 7 and ``counter`` = -5), recorded in ``checkpoint``;
     and ``best/best_dev-3``, recorded in ``best_dev_checkpoint``; each with a ``values.json``
     (the format of ``tf_checkpoint_fixture.py``'s);
   - ``deepspeech/`` (with ``--deepspeech PREFIX``): the variables of a checkpoint DeepSpeech's
     training wrote, read by deepspeech-rs and written back.

2. Reads them with TensorFlow:

   - ``tf.train.latest_checkpoint`` / ``get_checkpoint_state`` find them through our state files;
   - ``tf.train.load_checkpoint(prefix)`` lists exactly the variables, dtypes and shapes written,
     and ``get_tensor`` returns every value bit for bit;
   - ``tf.compat.v1.train.Saver(var_list).restore`` restores a sample of them into variables of
     a graph (the path training takes);
   - for ``deepspeech/``: ``import_meta_graph`` of DeepSpeech's own training graph (the
     ``.meta`` beside ``--deepspeech``) and its Saver restore our file; every variable of the
     graph then equals the original checkpoint's.

Exits non-zero on the first mismatch. Run from the repository root with TensorFlow 1.15 (here
/work/ref/tf115):

    /work/ref/tf115/bin/python tools/reference/check_tf_reads_our_checkpoint.py \\
        --out /tmp/ds-checkpoints --deepspeech /path/to/ckpt/train-400

``--skip-cargo`` checks what an earlier run left in ``--out``.
"""

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUST_TEST = "model::formats::checkpoint::tests::write_checkpoints_for_tensorflow"


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run_cargo(out, deepspeech):
    env = dict(os.environ, DEEPSPEECH_CHECKPOINT_OUT=out)
    if deepspeech:
        env["DEEPSPEECH_REAL_CHECKPOINT"] = deepspeech
    cmd = ["cargo", "test", "--release", "-p", "deepspeech-core", "--lib", RUST_TEST,
           "--", "--ignored", "--exact", "--nocapture"]
    print("$ " + " ".join(cmd))
    subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True)


def load_manifest(folder):
    with open(os.path.join(folder, "values.json")) as f:
        return json.load(f)


def expected_array(v):
    """The manifest entry's values as a numpy array of its dtype and shape."""
    if v["dtype"] == "float32":
        flat = np.array(v["bits"], dtype=np.uint32).view(np.float32)
    elif v["dtype"] == "int64":
        flat = np.array(v["values"], dtype=np.int64)
    else:
        fail("unexpected dtype %s" % v["dtype"])
    return flat.reshape(v["shape"])


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def check_state(tf, folder, prefix_name, latest_filename):
    state = tf.compat.v1.train.get_checkpoint_state(folder, latest_filename)
    if state is None:
        fail("%s: TensorFlow finds no %s" % (folder, latest_filename))
    latest = tf.train.latest_checkpoint(folder, latest_filename)
    expected = os.path.join(folder, prefix_name)
    if latest != expected:
        fail("%s: latest_checkpoint is %r, expected %r" % (folder, latest, expected))
    return latest


def check_load_checkpoint(tf, prefix, manifest):
    """tf.train.load_checkpoint: names, dtypes, shapes, values."""
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    variables = manifest["variables"]
    if sorted(dtypes) != sorted(v["name"] for v in variables):
        fail("%s: TensorFlow lists other variables than were written" % prefix)
    for v in variables:
        name = v["name"]
        if dtypes[name].name != v["dtype"] or list(shapes[name]) != v["shape"]:
            fail("%s: %s is %s %s, expected %s %s" % (
                prefix, name, dtypes[name].name, shapes[name], v["dtype"], v["shape"]))
        if not same_bits(reader.get_tensor(name), expected_array(v)):
            fail("%s: %s differs" % (prefix, name))
    print("  load_checkpoint: %d variables, every dtype, shape and value equal" % len(variables))


def check_saver_restore(tf, prefix, manifest, every=1):
    """Saver.restore into fresh variables (every `every`-th one, all non-float32 ones)."""
    variables = [v for i, v in enumerate(manifest["variables"])
                 if i % every == 0 or v["dtype"] != "float32" or "/" not in v["name"]]
    graph = tf.Graph()
    with graph.as_default():
        created = {}
        for i, v in enumerate(variables):
            dtype = tf.float32 if v["dtype"] == "float32" else tf.int64
            created[v["name"]] = tf.compat.v1.Variable(
                tf.zeros(v["shape"], dtype=dtype), name="restored_%d" % i)
        saver = tf.compat.v1.train.Saver(var_list=created)
        with tf.compat.v1.Session() as session:
            saver.restore(session, prefix)
            values = session.run(created)
    for v in variables:
        if not same_bits(values[v["name"]], expected_array(v)):
            fail("%s: %s restored differently" % (prefix, v["name"]))
    print("  Saver.restore: %d variables restored, all equal" % len(variables))


def check_synthetic(tf, out):
    folder = os.path.join(out, "synthetic")
    print(folder)
    prefix = check_state(tf, folder, "train-7", None)
    manifest = load_manifest(folder)
    check_load_checkpoint(tf, prefix, manifest)
    check_saver_restore(tf, prefix, manifest, every=97)

    best = os.path.join(folder, "best")
    print(best)
    if os.path.exists(os.path.join(best, "checkpoint")):
        fail("best_dev-3 was recorded in `checkpoint`")
    prefix = check_state(tf, best, "best_dev-3", "best_dev_checkpoint")
    manifest = load_manifest(best)
    check_load_checkpoint(tf, prefix, manifest)
    check_saver_restore(tf, prefix, manifest)


def check_deepspeech(tf, out, source):
    """DeepSpeech's own training graph and Saver restore the checkpoint we wrote back."""
    import tensorflow.contrib.rnn  # noqa: F401  (registers LSTMBlockFusedCell's ops)

    folder = os.path.join(out, "deepspeech")
    print(folder)
    name = os.path.basename(source)
    prefix = check_state(tf, folder, name, None)
    manifest = load_manifest(folder)
    check_load_checkpoint(tf, prefix, manifest)
    original = tf.train.load_checkpoint(source)
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(source + ".meta", clear_devices=True)
        variables = tf.compat.v1.global_variables()
        with tf.compat.v1.Session() as session:
            saver.restore(session, prefix)
            values = session.run(variables)
    for var, value in zip(variables, values):
        if not same_bits(value, original.get_tensor(var.op.name)):
            fail("%s: %s restored into DeepSpeech's graph differs from %s" % (
                prefix, var.op.name, source))
    print("  DeepSpeech's graph (%s.meta) and Saver restored all %d variables, equal to %s" % (
        source, len(variables), source))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the checkpoints we write")
    parser.add_argument("--deepspeech", help="prefix of a DeepSpeech training checkpoint "
                                             "(with its .meta) to read, rewrite and restore")
    parser.add_argument("--skip-cargo", action="store_true",
                        help="check what an earlier run wrote into --out")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    source = os.path.abspath(args.deepspeech) if args.deepspeech else None
    if not args.skip_cargo:
        run_cargo(out, source)

    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    print("TensorFlow %s" % tf.__version__)
    check_synthetic(tf, out)
    if source:
        check_deepspeech(tf, out, source)
    print("OK: TensorFlow reads every checkpoint deepspeech-rs wrote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
