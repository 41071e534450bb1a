#!/usr/bin/env python3
"""ds-ctcdecoder reference fixtures for the beam search *with* DeepSpeech `.scorer` packages.

Runs DeepSpeech 0.9.3's own decoder (the ``ds-ctcdecoder`` wheel: ``ctc_beam_search_decoder``
with its ``Scorer``) on deterministic log-probability matrices, with the packages of
core/tests/fixtures/scorer (tools/reference/scorer_packages.py), and records its N-best lists
for core/tests/scorer_decoding.rs.

Matrices (DeepSpeech's English alphabet, blank last; float32 log-probabilities; the decoder
gets exp() in float64, as in tools/reference/ctc_decoder_ds.py, whose generators are reused):

  peaky_*  CTC-like peaks spelling corpus sentences (seen and held-out), one with an invented
           word, with a random runner-up letter at every peak
  close_*  the same with runner-ups nearly as likely as the letter, so the LM decides
  random_* log-softmax of N(0, scale) logits
  lead_*   leading frames with P(blank) > 0.999

For every matrix and configuration (package, alpha, beta, beam, cutoff, hot-words),
``manifest.json`` holds the top-5 candidates: text, score (``Output.confidence``) and
per-character timesteps.

    /root/.pyenv/versions/3.9.18/bin/python -m venv /work/ref/ds093
    /work/ref/ds093/bin/pip install ds-ctcdecoder==0.9.3 'numpy<1.24'
    /work/ref/ds093/bin/python tools/reference/scorer_decoder_ds.py
"""

import json
import os
import sys
import tempfile

import numpy as np
import ds_ctcdecoder
from ds_ctcdecoder import swigwrapper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ctc_decoder_ds import SYMBOLS, CLASSES, TOP, peaky_matrix, random_matrix  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGES = os.path.join(REPO, "core", "tests", "fixtures", "scorer")
OUT = os.path.join(PACKAGES, "decoding")
DEFAULT = "word-order5-trie-q8-a255.scorer"
ALPHA, BETA = 0.931289, 1.183414


def matrices():
    return {
        "peaky_she": peaky_matrix(11, "she had your dark suit in greasy wash water all year",
                                  blank_run=(1, 3), char_run=(1, 2)),
        "peaky_seen": peaky_matrix(12, "i know what it is to suffer"),
        "peaky_held": peaky_matrix(13, "today because of all the women"),
        "peaky_oov": peaky_matrix(14, "the museum is gorgeous zorbly did"),
        "close_seen": close_matrix(15, "and then she was nervous"),
        "close_held": close_matrix(16, "had to address the first"),
        "close_words": close_matrix(17, "so i finished and i"),
        "random_t20": random_matrix(18, 20, 3.0),
        "random_t40": random_matrix(19, 40, 2.0),
        "lead_t30": peaky_matrix(20, "it is a", lead=6),
    }


def close_matrix(seed, text):
    """Peaks whose runner-up letter is almost as likely as the letter itself."""
    rng = np.random.default_rng(seed)
    rows = []
    for ch in text:
        for _ in range(rng.integers(1, 3)):
            logits = rng.normal(0.0, 1.0, size=CLASSES)
            logits[CLASSES - 1] += 9.0
            rows.append(logits)
        label = SYMBOLS.index(ch)
        other = int(rng.integers(1, CLASSES - 2))
        for _ in range(rng.integers(1, 3)):
            logits = rng.normal(0.0, 1.0, size=CLASSES)
            logits[label] = 8.0 + rng.normal(0.0, 0.3)
            logits[other] = 7.6 + rng.normal(0.0, 0.3)
            rows.append(logits)
    logits = rng.normal(0.0, 1.0, size=(2, CLASSES))
    logits[:, CLASSES - 1] += 9.0
    rows.extend(logits)
    rows = np.array(rows)
    rows = rows - rows.max(axis=1, keepdims=True)
    return rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))


def configs(name):
    base = {"package": DEFAULT, "alpha": ALPHA, "beta": BETA, "cutoff_prob": 1.0,
            "cutoff_top_n": 40}
    out = [dict(base, beam=b) for b in (1, 16, 64, 256)]
    if name in ("peaky_she", "close_seen", "random_t20"):
        out.append(dict(base, beam=1024))
    if name.startswith(("peaky", "close")):
        for alpha, beta in ((0.0, 0.0), (2.0, -1.0), (0.5, 3.0)):
            out.append(dict(base, beam=64, alpha=alpha, beta=beta))
        for package in ("word-order3-probing.scorer", "word-order2-nounk-trie.scorer",
                        "word-order5-pruned-trie-q8-a255.scorer",
                        "word-order5-trie-q4-a32.scorer", "ours-order5-probing.scorer"):
            out.append(dict(base, beam=64, package=package))
        out.append(dict(base, beam=64, hot_words={"she": 4.0, "dark": 2.5, "the": -3.0}))
        out.append(dict(base, beam=16, cutoff_prob=0.99, cutoff_top_n=10))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(c + "\n" for c in SYMBOLS))
        alphabet_path = f.name
    alphabet = ds_ctcdecoder.Alphabet(alphabet_path)
    os.unlink(alphabet_path)

    scorers = {}

    def scorer(package, alpha, beta):
        if package not in scorers:
            scorers[package] = ds_ctcdecoder.Scorer(
                ALPHA, BETA, os.path.join(PACKAGES, package), alphabet)
        s = scorers[package]
        s.reset_params(alpha, beta)
        return s

    cases = []
    for name, logp in matrices().items():
        logp = logp.astype(np.float32)
        np.save(os.path.join(OUT, name + ".npy"), logp)
        probs = np.exp(logp.astype(np.float64))
        for cfg in configs(name):
            results = swigwrapper.ctc_beam_search_decoder(
                probs, alphabet, cfg["beam"], cfg["cutoff_prob"], cfg["cutoff_top_n"],
                scorer(cfg["package"], cfg["alpha"], cfg["beta"]),
                {k.encode(): v for k, v in cfg.get("hot_words", {}).items()}, TOP)
            expected = [{
                "text": alphabet.Decode(r.tokens),
                "score": float(r.confidence),
                "timesteps": [int(t) for t in r.timesteps],
            } for r in results]
            cases.append({"matrix": name + ".npy", **cfg, "expected": expected})
            print(f"{name:11} {cfg['package'][:22]:22} a{cfg['alpha']} b{cfg['beta']} "
                  f"beam {cfg['beam']:4}: {expected[0]['text']!r} {expected[0]['score']:.4f}")

    manifest = {
        "generator": "tools/reference/scorer_decoder_ds.py",
        "ds_ctcdecoder": ds_ctcdecoder.__version__,
        "numpy": np.__version__,
        "alphabet": SYMBOLS,
        "input": "float32 log-probabilities [T, 29], blank last; the decoder got exp() in float64",
        "top": TOP,
        "cases": cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
