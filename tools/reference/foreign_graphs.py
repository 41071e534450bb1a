#!/usr/bin/env python3
"""A graph that is not a DeepSpeech model, for the refusal tests (core/tests/deepspeech_models.rs):
`foreign.pb`, a small two-layer classifier made by TensorFlow 1.15. (The test makes its
"DeepSpeech 0.6" graph by patching `metadata_version` in the real fixture; `old_version` here
does the same with TensorFlow, to check that patch once.)

Usage: tf115/bin/python foreign_graphs.py FIXTURE_DIR
"""
import os
import sys

import numpy as np
import tensorflow as tf

tfv1 = tf.compat.v1


def foreign(path):
    graph = tf.Graph()
    with graph.as_default():
        x = tfv1.placeholder(tf.float32, [None, 8], name="features")
        w1 = tf.constant(np.random.RandomState(1).randn(8, 16).astype(np.float32), name="dense/kernel")
        h = tf.nn.relu(tf.matmul(x, w1))
        w2 = tf.constant(np.random.RandomState(2).randn(16, 4).astype(np.float32), name="out/kernel")
        tf.nn.softmax(tf.matmul(h, w2), name="probabilities")
    with open(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())


def old_version(src, dst):
    graph_def = tfv1.GraphDef()
    with open(src, "rb") as f:
        graph_def.ParseFromString(f.read())
    for node in graph_def.node:
        if node.name == "metadata_version":
            node.attr["value"].tensor.int_val[0] = 5
    with open(dst, "wb") as f:
        f.write(graph_def.SerializeToString())


if __name__ == "__main__":
    out = sys.argv[1]
    foreign(os.path.join(out, "foreign.pb"))
    if len(sys.argv) > 2:
        old_version(os.path.join(out, "ldc93s1-64.pb"), sys.argv[2])
