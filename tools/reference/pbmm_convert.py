#!/usr/bin/env python3
"""Converts a frozen TensorFlow graph (.pb) into TensorFlow's memory-mapped package (.pbmm), as
TensorFlow's `convert_graphdef_memmapped_format` tool does for DeepSpeech's released models.

That tool is a Bazel-built binary that no wheel ships, so this script does the same conversion
with TensorFlow's own protobuf classes (TF 1.15): every `Const` of a plain-old-data type holding
at least `--min_conversion_size_bytes` (the tool's default 10000) becomes an `ImmutableConst` whose
data lives in a 64-byte-aligned region named `memmapped_package://<sanitised node name>`; the
rewritten GraphDef is the region `memmapped_package://.`; the directory
(`MemmappedFileSystemDirectory`) follows, then its offset as a little-endian uint64.

The result is checked by loading it in DeepSpeech 0.9.3's own runtime (libdeepspeech reads .pbmm
through TensorFlow's MemmappedEnv): see tools/reference/deepspeech_fixtures.sh.

Usage: tf115/bin/python pbmm_convert.py IN.pb OUT.pbmm
"""
import re
import struct
import sys

import numpy as np
import tensorflow as tf
from tensorflow.core.util import memmapped_file_system_pb2

PREFIX = "memmapped_package://"
ALIGNMENT = 64  # Allocator::kAllocatorAlignment
POD = {tf.float32, tf.float64, tf.int32, tf.int64, tf.int16, tf.int8, tf.uint8, tf.bool, tf.float16}


def convert(src, dst, min_size=10000):
    graph = tf.compat.v1.GraphDef()
    with open(src, "rb") as f:
        graph.ParseFromString(f.read())
    out = bytearray()
    directory = memmapped_file_system_pb2.MemmappedFileSystemDirectory()
    used = set()

    def add(name, data, align):
        if align and len(out) % ALIGNMENT:
            out.extend(b"\0" * (ALIGNMENT - len(out) % ALIGNMENT))
        element = directory.element.add()
        element.offset = len(out)
        element.name = name
        element.length = len(data)
        out.extend(data)

    converted = 0
    for node in graph.node:
        if node.op != "Const":
            continue
        proto = node.attr["value"].tensor
        dtype = tf.dtypes.as_dtype(proto.dtype)
        if dtype not in POD:
            continue
        array = tf.make_ndarray(proto)
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        if len(data) < min_size:
            continue
        region = re.sub(r"[^A-Za-z0-9_.]", "_", node.name)
        while region in used:
            region += "_"
        used.add(region)
        add(PREFIX + region, data, align=True)
        shape = type(proto.tensor_shape)()
        shape.CopyFrom(proto.tensor_shape)
        dtype_enum = proto.dtype
        node.op = "ImmutableConst"
        node.attr.clear()
        node.attr["dtype"].type = dtype_enum
        node.attr["shape"].shape.CopyFrom(shape)
        node.attr["memory_region_name"].s = (PREFIX + region).encode()
        converted += 1
    add(PREFIX + ".", graph.SerializeToString(), align=False)
    directory_offset = len(out)
    out.extend(directory.SerializeToString())
    out.extend(struct.pack("<Q", directory_offset))
    with open(dst, "wb") as f:
        f.write(out)
    print("converted %d nodes" % converted)


if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
