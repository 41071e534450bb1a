#!/usr/bin/env python3
"""Transcribes the reference utterances with DeepSpeech 0.9.3's own runtime (libdeepspeech, through
its Python package) and writes what it printed as JSON, the fixture that
core/tests/deepspeech_models.rs compares our transcripts with.

Run it with the Python of a venv holding `deepspeech==0.9.3` (for .pb / .pbmm) or
`deepspeech-tflite==0.9.3` (for .tflite); see tools/reference/deepspeech_fixtures.sh.

The utterances are every file `utterances()` lists, converted to 16 kHz mono 16-bit exactly as
DeepSpeech's own client converts (`sox ... --rate 16000 --no-dither`); the Rust test converts them
with the same command and checks the samples' SHA-256 recorded here, so both engines hear the same
samples.

Usage: python deepspeech_transcripts.py MODEL OUT.json [SCORER]
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
from deepspeech import Model

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")


def utterances():
    """LDC93S1, the 32 LJSpeech clips and the first 20 FSDD dev recordings (53 files)."""
    files = [os.path.join("ldc93s1", "LDC93S1.wav")]
    lj = os.path.join(SHARED, "ljspeech", "wavs")
    files += sorted(os.path.join("ljspeech", "wavs", f) for f in os.listdir(lj) if f.endswith(".wav"))
    with open(os.path.join(SHARED, "fsdd", "dev.csv")) as f:
        rows = [line.split(",")[0] for line in f.read().splitlines()[1:]]
    files += [os.path.join("fsdd", r) for r in rows[:20]]
    return files


def to_16k(path):
    """DeepSpeech's client's `convert_samplerate`, to 16-bit little-endian samples."""
    raw = subprocess.check_output([
        "sox", path, "--type", "raw", "--bits", "16", "--channels", "1", "--rate", "16000",
        "--encoding", "signed-integer", "--endian", "little", "--compression", "0.0",
        "--no-dither", "-",
    ])
    return np.frombuffer(raw, np.int16)


def main():
    model_path, out = sys.argv[1], sys.argv[2]
    model = Model(model_path)
    if len(sys.argv) > 3:
        model.enableExternalScorer(sys.argv[3])
    results = []
    for rel in utterances():
        audio = to_16k(os.path.join(SHARED, rel))
        results.append({
            "file": rel,
            "sha256": hashlib.sha256(audio.tobytes()).hexdigest(),
            "transcript": model.stt(audio),
        })
    with open(out, "w") as f:
        meta = {"model": os.path.basename(model_path), "beam_width": model.beamWidth()}
        if len(sys.argv) > 3:
            meta["scorer"] = os.path.basename(sys.argv[3])
        json.dump({**meta, "utterances": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
