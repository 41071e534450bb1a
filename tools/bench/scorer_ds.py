#!/usr/bin/env python3
"""ds_ctcdecoder 0.9.3 side of the `.scorer` benchmark (tools/bench/scorer-packages.sh); the
same measurements as core/benches/scorer_package.rs:

    python scorer_ds.py SCORER LOG_PROBS_DIR BEAM OUT.json

Opens the package (ds_ctcdecoder.Scorer with the package's own alpha and beta; wall-clock
milliseconds), decodes every .npy matrix of the folder one by one (exp() of the float32
log-probabilities in float64, as DeepSpeech's runtime gives them; the exp is outside the timed
part), cutoff_prob 1, cutoff_top_n 40, and writes the CPU seconds of decoding per second of
audio (50 frames), VmRSS after decoding and the best transcript of every file.
"""
import json
import os
import sys
import tempfile
import time

import numpy as np
import ds_ctcdecoder
from ds_ctcdecoder import swigwrapper

SYMBOLS = " abcdefghijklmnopqrstuvwxyz'"


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    scorer_path, folder, beam, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(c + "\n" for c in SYMBOLS))
        alphabet_path = f.name
    alphabet = ds_ctcdecoder.Alphabet(alphabet_path)
    os.unlink(alphabet_path)
    t0 = time.perf_counter()
    scorer = ds_ctcdecoder.Scorer()
    err = scorer.init(scorer_path.encode(), alphabet)
    assert err == 0, hex(err)
    open_ms = (time.perf_counter() - t0) * 1e3
    rss_open = rss_mb()
    names = sorted(n for n in os.listdir(folder) if n.endswith(".npy"))
    probs = [(n, np.exp(np.load(os.path.join(folder, n)).astype(np.float64))) for n in names]
    frames = sum(p.shape[0] for _, p in probs)
    transcripts = {}
    c0 = time.process_time()
    for name, p in probs:
        results = swigwrapper.ctc_beam_search_decoder(p, alphabet, beam, 1.0, 40, scorer, {}, 1)
        transcripts[name] = alphabet.Decode(results[0].tokens)
    cpu = time.process_time() - c0
    audio_s = frames / 50.0
    report = {
        "decoder": "ds_ctcdecoder " + ds_ctcdecoder.__version__,
        "beam": beam,
        "open_ms": open_ms,
        "rss_after_open_mb": rss_open,
        "rss_mb": rss_mb(),
        "audio_s": audio_s,
        "cpu_s_per_audio_s": cpu / audio_s,
        "transcripts": transcripts,
    }
    with open(out, "w") as f:
        json.dump(report, f)
    print(f"ds    beam {beam}: open {open_ms:.1f} ms, {cpu / audio_s:.4f} CPU s per audio s over "
          f"{audio_s:.0f} s, RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
