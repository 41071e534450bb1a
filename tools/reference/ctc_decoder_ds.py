#!/usr/bin/env python3
"""ds-ctcdecoder reference fixtures for the CTC prefix beam search of deepspeech-rs.

Runs DeepSpeech 0.9's own decoder (the ``ds-ctcdecoder`` wheel, built from
``native_client/ctcdecode``) without a language model on deterministic
probability matrices and records its N-best lists.

Matrices (C = 29: DeepSpeech's English alphabet, space, a-z, apostrophe, blank
last) are stored as float32 *log*-probabilities ``<name>.npy`` of shape
``[T, 29]``; the decoder is fed ``exp(logprobs)`` in float64, exactly what the
Rust decoder computes from the same file.  Kinds:

  random_*   log-softmax of N(0, scale) logits, fixed seeds
  peaky_*    acoustic-model-like: mostly blank, short character peaks that spell
             a sentence, with noise and a confusable runner-up per peak
  lead_*     leading frames with P(blank) > 0.999 (DeepSpeech delays expansion)

For every matrix and every configuration (beam size, cutoff_prob,
cutoff_top_n, optional hot-words), ``manifest.json`` holds the top-5
candidates: text, score (``Output.confidence``, float32 promoted to double)
and per-character timesteps (``Output.timesteps``).

Setup (outside the repository):

    /root/.pyenv/versions/3.9.18/bin/python -m venv /work/venv-ds39
    /work/venv-ds39/bin/pip install ds-ctcdecoder==0.9.3 'numpy<2'

(the 0.9.3 wheel is built against numpy 1.x).  Regenerate the committed
fixtures from the repository root:

    /work/venv-ds39/bin/python tools/reference/ctc_decoder_ds.py core/tests/fixtures/beam
"""

import json
import os
import sys
import tempfile

import numpy as np
import ds_ctcdecoder
from ds_ctcdecoder import swigwrapper

SYMBOLS = " abcdefghijklmnopqrstuvwxyz'"
CLASSES = len(SYMBOLS) + 1
BLANK = CLASSES - 1
TOP = 5


def log_softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def random_matrix(seed, frames, scale):
    rng = np.random.default_rng(seed)
    return log_softmax(rng.normal(0.0, scale, size=(frames, CLASSES)))


def peaky_matrix(seed, text, blank_run=(1, 4), char_run=(1, 3), lead=0):
    """Spells `text` with CTC-like peaks: a few blank frames, then 1-3 frames of
    the character, the next most likely class a random confusable one."""
    rng = np.random.default_rng(seed)
    rows = []

    def frame(winner, winner_logit, runner_up=None, runner_logit=0.0):
        logits = rng.normal(0.0, 1.0, size=CLASSES)
        logits[BLANK] += 3.0
        if runner_up is not None:
            logits[runner_up] = runner_logit + rng.normal(0.0, 0.5)
        logits[winner] = winner_logit + rng.normal(0.0, 0.5)
        rows.append(logits)

    for _ in range(lead):
        frame(BLANK, 14.0)
    for ch in text:
        for _ in range(rng.integers(blank_run[0], blank_run[1] + 1)):
            frame(BLANK, 9.0, int(rng.integers(0, BLANK)), 4.0)
        label = SYMBOLS.index(ch)
        other = int(rng.integers(0, BLANK))
        for _ in range(rng.integers(char_run[0], char_run[1] + 1)):
            frame(label, 8.0, other, 6.5)
    for _ in range(2):
        frame(BLANK, 9.0)
    return log_softmax(np.array(rows))


def matrices():
    return {
        "random_t1": random_matrix(1, 1, 1.0),
        "random_t2": random_matrix(2, 2, 1.5),
        "random_t5": random_matrix(5, 5, 1.0),
        "random_t20": random_matrix(20, 20, 2.0),
        "random_t60": random_matrix(60, 60, 3.0),
        "peaky_t40": peaky_matrix(40, "she had"),
        "peaky_t100": peaky_matrix(100, "your dark suit in"),
        "peaky_t150": peaky_matrix(150, "greasy wash water all year",
                                   blank_run=(1, 3), char_run=(1, 2)),
        "lead_t30": peaky_matrix(30, "it's a", lead=6),
    }


def configs(name, frames):
    out = []
    for beam in (1, 16, 100):
        out.append({"beam": beam, "cutoff_prob": 1.0, "cutoff_top_n": 40})
    if name in ("random_t2", "random_t5", "peaky_t40"):
        out.append({"beam": 1024, "cutoff_prob": 1.0, "cutoff_top_n": 40})
    if name in ("random_t20", "peaky_t100", "lead_t30"):
        out.append({"beam": 16, "cutoff_prob": 0.99, "cutoff_top_n": 40})
        out.append({"beam": 16, "cutoff_prob": 0.99, "cutoff_top_n": 5})
        # cutoff_prob 1.0 with a smaller top_n: DeepSpeech sorts the classes but keeps them all
        out.append({"beam": 16, "cutoff_prob": 1.0, "cutoff_top_n": 10})
    if name == "peaky_t40":
        # without a scorer DeepSpeech ignores hot-words
        out.append({"beam": 16, "cutoff_prob": 1.0, "cutoff_top_n": 40,
                    "hot_words": {"she": 10.0}})
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "core/tests/fixtures/beam"
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(c + "\n" for c in SYMBOLS))
        alphabet_path = f.name
    alphabet = ds_ctcdecoder.Alphabet(alphabet_path)
    os.unlink(alphabet_path)
    assert alphabet.GetSize() == CLASSES - 1

    cases = []
    for name, logp in matrices().items():
        logp = logp.astype(np.float32)
        np.save(os.path.join(out_dir, name + ".npy"), logp)
        probs = np.exp(logp.astype(np.float64))
        for cfg in configs(name, logp.shape[0]):
            results = swigwrapper.ctc_beam_search_decoder(
                probs, alphabet, cfg["beam"], cfg["cutoff_prob"], cfg["cutoff_top_n"],
                None, {k.encode(): v for k, v in cfg.get("hot_words", {}).items()}, TOP)
            expected = [{
                "text": alphabet.Decode(r.tokens),
                "score": float(r.confidence),
                "timesteps": [int(t) for t in r.timesteps],
            } for r in results]
            cases.append({"matrix": name + ".npy", **cfg, "expected": expected})
            print(f"{name:12} beam {cfg['beam']:5} cutoff {cfg['cutoff_prob']}/"
                  f"{cfg['cutoff_top_n']}: {expected[0]['text']!r} {expected[0]['score']:.4f}")

    manifest = {
        "generator": "tools/reference/ctc_decoder_ds.py",
        "ds_ctcdecoder": ds_ctcdecoder.__version__,
        "numpy": np.__version__,
        "alphabet": SYMBOLS,
        "input": "float32 log-probabilities [T, 29], blank last; the decoder got exp() in float64",
        "top": TOP,
        "cases": cases,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
