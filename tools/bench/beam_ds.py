#!/usr/bin/env python3
"""Times ds-ctcdecoder 0.9.3 (DeepSpeech 0.9's decoder, no LM) on the matrix of
core/benches/beam.rs and prints lines comparable with `cargo bench --bench beam`.

    /work/venv-ds39/bin/python tools/bench/beam_ds.py      # from the repository root
"""
import os
import tempfile
import time

import numpy as np
import ds_ctcdecoder
from ds_ctcdecoder import swigwrapper

FRAMES = 500
PARTS = ["peaky_t150", "peaky_t100", "peaky_t40", "lead_t30"]
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "core", "tests", "fixtures", "beam")


def matrix():
    parts = [np.load(os.path.join(FIXTURES, p + ".npy")) for p in PARTS]
    rows = []
    while sum(len(r) for r in rows) < FRAMES:
        rows.extend(parts)
    return np.concatenate(rows)[:FRAMES]


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(c + "\n" for c in " abcdefghijklmnopqrstuvwxyz'"))
    alphabet = ds_ctcdecoder.Alphabet(f.name)
    os.unlink(f.name)
    probs = np.exp(matrix().astype(np.float64))
    seconds = FRAMES / 50.0
    for beam in (100, 1024):
        runs = 5 if beam > 100 else 20
        best = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            out = swigwrapper.ctc_beam_search_decoder(probs, alphabet, beam, 1.0, 40, None, {}, 1)
            best = min(best, time.perf_counter() - t0)
        text = alphabet.Decode(out[0].tokens)
        print(f"ds-ctcdecoder  beam {beam:5}: {best * 1e3 / seconds:7.2f} ms per audio second "
              f"({best * 1e3:.1f} ms for {seconds} s), top: {text[:40]!r}")


if __name__ == "__main__":
    main()
