#!/usr/bin/env python3
"""DeepSpeech .tflite models in several weight encodings, as fixtures for deepspeech-rs's TFLite
reader (core/src/model/formats/tflite/).

Runs DeepSpeech 0.9.3's own ``export()`` (training/deepspeech_training/train.py) on a trained
checkpoint with ``--export_tflite``, with ``tf.lite.TFLiteConverter`` replaced by a subclass that,
when ``export()`` calls ``convert()``, converts the very same frozen graph (the static_rnn
inference graph DeepSpeech builds for TF Lite) several times:

- what ``export()`` itself asks for, ``optimizations=[Optimize.DEFAULT]`` (dynamic-range int8
  weights, per tensor in TF 1.15): not kept, only compared with ``--reference`` (the file
  DeepSpeech's own export wrote, committed as ``ldc93s1-64.tflite``): byte for byte, or where
  TOCO wrote the custom ops' options with their keys in another (hash) order, tensor by tensor;
- ``PREFIX-f32.tflite``: no optimisation (float32 weights);
- ``PREFIX-f16.tflite``: ``Optimize.DEFAULT`` with ``target_spec.supported_types =
  [tf.float16]`` (float16 weights, biases and constants behind DEQUANTIZE ops);
- ``add.tflite``: a foreign model (a single ADD of two float inputs), for the refusal test.

It also tries full-integer quantisation (a representative data set) only to report what TF 1.15
does with FULLY_CONNECTED weights (per-tensor or per-channel scales); that model is not kept.
Found with TF 1.15.5: dynamic-range quantisation (``Optimize.DEFAULT``, DeepSpeech's and Coqui
STT's export) gives int8 FULLY_CONNECTED weights with ONE scale per tensor (zero point 0), read
directly by hybrid FULLY_CONNECTED ops, biases left float32; full-integer calibration fails on
this graph ("Node number 0 (RESHAPE) failed to invoke": the AudioSpectrogram/Mfcc branch has
dynamic shapes), so TF 1.15 cannot make a per-channel (or fully int8) DeepSpeech model. Per-
channel int8 FULLY_CONNECTED weights come from newer (MLIR) converters, TF 2.x.

Next to them it writes ``PREFIX-checkpoint.json``: for each of DeepSpeech's variables, as the
checkpoint holds them ([in, out] for dense layers, [in + hidden, 4 * hidden] for the LSTM
kernel), the shape, the float64 sum of the values and a few sampled values (index, IEEE-754
bits), so that a reader can check names, layouts and exact values without a copy of every weight.

Setup (outside the repository): a Python 3.7 environment with ``tensorflow==1.15.5`` and the
DeepSpeech 0.9.3 source tree (its training package and data/alphabet.txt). Regenerate the
committed fixtures (from the repository root):

    /work/ref/tf115/bin/python tools/reference/tflite_variants.py \\
        --deepspeech /work/ref/DeepSpeech --checkpoint_dir /work/ref/tiny/ckpt \\
        --reference core/tests/fixtures/deepspeech/ldc93s1-64.tflite \\
        --out core/tests/fixtures/deepspeech

The checkpoint there is DeepSpeech 0.9.3 trained with ``--n_hidden 64`` on LDC93S1; the export
flags used are ``--n_hidden 64 --export_beam_width 100 --export_language en`` (everything else at
DeepSpeech's defaults: 16 kHz, 32 ms windows, 20 ms steps, n_steps 16).
"""

import argparse
import json
import os
import shutil
import struct
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TF 1.15's converter runs the `toco_from_protos` script installed next to this Python.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def same_tensors(tf, path_a, path_b):
    """Whether two .tflite files have the same tensors (names, types, shapes, quantisation) and,
    run on the same random inputs, the same values in every tensor (constants and results)."""
    import numpy as np

    interps = [tf.lite.Interpreter(model_path=p) for p in (path_a, path_b)]
    details = [i.get_tensor_details() for i in interps]
    if len(details[0]) != len(details[1]):
        return False
    for a, b in zip(*details):
        if (a["name"], a["dtype"], list(a["shape"])) != (b["name"], b["dtype"], list(b["shape"])):
            return False
        if a["quantization"] != b["quantization"]:
            return False
    rng = np.random.RandomState(0)
    inputs = [rng.uniform(-1, 1, d["shape"]).astype(d["dtype"])
              for d in interps[0].get_input_details()]
    for interp in interps:
        interp.allocate_tensors()
        for d, value in zip(interp.get_input_details(), inputs):
            interp.set_tensor(d["index"], value)
        interp.invoke()
    for a, b in zip(*details):
        try:
            va, vb = interps[0].get_tensor(a["index"]), interps[1].get_tensor(b["index"])
        except ValueError:  # not allocated
            continue
        if not np.array_equal(va, vb):
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deepspeech", required=True, help="DeepSpeech 0.9.3 source tree")
    parser.add_argument("--checkpoint_dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--reference", help="the .tflite DeepSpeech's export wrote, to compare")
    parser.add_argument("--n_hidden", type=int, default=64)
    parser.add_argument("--prefix", default="ldc93s1-64", help="file name prefix")
    parser.add_argument("--keep_int8", help="also write the regenerated int8 model here")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(args.deepspeech, "training"))
    import numpy as np
    import tensorflow as tf
    import tensorflow.compat.v1 as tfv1
    from deepspeech_training import train as ds_train
    from deepspeech_training.util.config import initialize_globals
    from deepspeech_training.util.flags import create_flags, FLAGS

    os.makedirs(args.out, exist_ok=True)
    export_dir = tempfile.mkdtemp(prefix="ds_export_")
    create_flags()
    FLAGS([
        "tflite_variants",
        "--alphabet_config_path", os.path.join(args.deepspeech, "data", "alphabet.txt"),
        "--checkpoint_dir", os.path.abspath(args.checkpoint_dir),
        "--export_dir", export_dir,
        "--export_tflite",
        "--n_hidden", str(args.n_hidden),
        "--export_beam_width", "100",
        "--export_language", "en",
    ])
    initialize_globals()

    report = {}
    real_converter = tf.lite.TFLiteConverter

    class VariantConverter(real_converter):
        """Converts the graph export() hands over in every variant, returns the DEFAULT one."""

        def __init__(self, graph_def, input_tensors, output_tensors, **kwargs):
            self._ds_args = (graph_def, list(input_tensors), list(output_tensors))
            super().__init__(graph_def, self._ds_args[1], self._ds_args[2], **kwargs)

        def _fresh(self):
            c = real_converter(*self._ds_args)
            c.allow_custom_ops = True
            return c

        def convert(self):
            c = self._fresh()
            c.optimizations = [tf.lite.Optimize.DEFAULT]
            variants = {"int8": c.convert()}
            variants["f32"] = self._fresh().convert()
            c = self._fresh()
            c.optimizations = [tf.lite.Optimize.DEFAULT]
            c.target_spec.supported_types = [tf.float16]
            variants["f16"] = c.convert()
            for name, data in variants.items():
                folder = export_dir if name == "int8" else args.out
                with open(os.path.join(folder, "%s-%s.tflite" % (args.prefix, name)), "wb") as f:
                    f.write(data)
            report["full_integer"] = self._try_full_integer()
            # What export() itself configured must be what the first variant used.
            assert self.optimizations == [tf.lite.Optimize.DEFAULT], self.optimizations
            return variants["int8"]

        def _try_full_integer(self):
            c = self._fresh()
            c.optimizations = [tf.lite.Optimize.DEFAULT]
            shapes = [tuple(t.shape.as_list()) for t in self._ds_args[1]]

            def representative():
                rng = np.random.RandomState(0)
                for _ in range(4):
                    yield [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]

            c.representative_dataset = representative
            try:
                model = c.convert()
            except Exception as e:  # noqa: BLE001 - reported, not fatal
                return "conversion failed: %s" % str(e).splitlines()[0][:300]
            path = os.path.join(export_dir, "full_integer.tflite")
            with open(path, "wb") as f:
                f.write(model)
            interp = tf.lite.Interpreter(model_path=path)
            found = {}
            for t in interp.get_tensor_details():
                if "weights" in t["name"] or "kernel" in t["name"]:
                    q = t.get("quantization_parameters", {})
                    scales = q.get("scales", np.zeros(0))
                    found[t["name"]] = "%s, %d scale(s)" % (t["dtype"].__name__, len(scales))
            return found

    tf.lite.TFLiteConverter = VariantConverter
    try:
        ds_train.export()
    finally:
        tf.lite.TFLiteConverter = real_converter

    if args.reference:
        with open(args.reference, "rb") as f:
            ref = f.read()
        int8_path = os.path.join(export_dir, "%s-int8.tflite" % args.prefix)
        with open(int8_path, "rb") as f:
            ours = f.read()
        if args.keep_int8:
            shutil.copyfile(int8_path, args.keep_int8)
        report["int8_equals_reference"] = ours == ref
        if ours != ref:
            # TOCO writes the custom ops' options (flexbuffer maps) with their keys in hash order,
            # which changes from run to run: compare every tensor instead.
            report["int8_bytes_differing"] = sum(x != y for x, y in zip(ours, ref))
            report["int8_tensors_equal_reference"] = same_tensors(
                tf, int8_path, args.reference)

    # The foreign model: out = a + b.
    tfv1.reset_default_graph()
    with tfv1.Session() as session:
        a = tfv1.placeholder(tf.float32, [1, 4], name="a")
        b = tfv1.placeholder(tf.float32, [1, 4], name="b")
        out = tf.add(a, b, name="out")
        model = real_converter.from_session(session, [a, b], [out]).convert()
    with open(os.path.join(args.out, "add.tflite"), "wb") as f:
        f.write(model)

    # The checkpoint's values.
    reader = tfv1.train.load_checkpoint(os.path.abspath(args.checkpoint_dir))
    names = ["layer_%d/%s" % (n, k) for n in (1, 2, 3, 5, 6) for k in ("weights", "bias")]
    lstm = "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell"
    names += [lstm + "/kernel", lstm + "/bias"]
    values = {}
    for name in names:
        v = reader.get_tensor(name).astype(np.float32)
        flat = v.reshape(-1)
        idx = sorted(set(np.linspace(0, flat.size - 1, 16).astype(int).tolist()))
        values[name] = {
            "shape": list(v.shape),
            "sum": float(flat.astype(np.float64).sum()),
            "samples": [[i, struct.unpack("<I", struct.pack("<f", flat[i]))[0]] for i in idx],
        }
    with open(os.path.join(args.out, "%s-checkpoint.json" % args.prefix), "w") as f:
        json.dump({"tensorflow": tf.__version__, "variables": values}, f, indent=1)
        f.write("\n")

    shutil.rmtree(export_dir, ignore_errors=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
