#!/usr/bin/env python3
"""TensorFlow reference MFCC fixtures for deepspeech-rs.

Computes DeepSpeech 0.9's acoustic features with the very TensorFlow ops
DeepSpeech uses (``training/deepspeech_training/util/feeding.py``,
``audio_to_features``):

    samples = tf.audio.decode_wav(file_bytes).audio          # float32 [n, 1], int16 / 32768
    spec    = tf.raw_ops.AudioSpectrogram(input=samples, window_size=512, stride=320,
                                          magnitude_squared=True)         # [1, frames, 257]
    mfcc    = tf.raw_ops.Mfcc(spectrogram=spec, sample_rate=16000,
                              upper_frequency_limit=8000, lower_frequency_limit=20,
                              filterbank_channel_count=40, dct_coefficient_count=26)  # [1, frames, 26]

For every input WAV ``<dir>/<name>.wav`` it writes, into the output folder,

    <name>.mfcc.npy   float32 [frames, 26]
    <name>.spec.npy   float32 [frames, 257]   (the magnitude-squared spectrogram)

plus ``manifest.json`` (TensorFlow/numpy versions, parameters, and per file: the
WAV path relative to the repository root, its SHA-256, sample count, frame count
and any TensorFlow error).  Inputs must be 16 kHz mono 16-bit PCM WAV.

With ``--generate`` the script also (re)creates, deterministically, three
synthetic inputs in the output folder and includes them:

    synthetic.wav  1.2 s: 0.3 s digital silence, 0.4 s linear chirp 100->7900 Hz
                   (amplitude 0.5), 0.3 s uniform white noise (peak 0.1),
                   0.2 s 1 kHz sine (amplitude 0.9)
    short511.wav   511 samples of low-level noise  -> 0 frames
    short512.wav   512 samples of low-level noise  -> 1 frame

Setup (outside the repository):

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install tensorflow-cpu numpy    # tested: tensorflow-cpu 2.21.0, numpy 2.4.6

Regenerate the committed fixtures (from the repository root):

    /work/venv-ref/bin/python tools/reference/mfcc_tf.py --generate \\
        --out core/tests/fixtures/mfcc ../shared/data/ldc93s1/LDC93S1.wav
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SAMPLE_RATE = 16000
WINDOW_SIZE = 512  # 0.032 s
STRIDE = 320  # 0.020 s
N_CEP = 26
N_FILTERS = 40
LOWER_HZ = 20.0
UPPER_HZ = 8000.0

SYNTH_SEED = 20240601
SHORT_SEED = 511512

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def float_to_int16(x):
    """Map float samples in [-1, 1] to int16 as round(x * 32767), clipped."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")


def write_wav16(path, samples_i16, rate=SAMPLE_RATE):
    """Plain 44-byte-header PCM WAV, mono, 16-bit little endian."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples_i16, dtype="<i2").tobytes())


def make_synthetic():
    """The 1.2 s synthetic test signal (float64, before quantisation)."""
    fs = SAMPLE_RATE
    rng = np.random.default_rng(SYNTH_SEED)
    silence = np.zeros(int(0.3 * fs))
    n = int(0.4 * fs)
    t = np.arange(n) / fs
    f0, f1, dur = 100.0, 7900.0, 0.4
    chirp = 0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * dur) * t * t))
    noise = rng.uniform(-0.1, 0.1, int(0.3 * fs))
    t = np.arange(int(0.2 * fs)) / fs
    sine = 0.9 * np.sin(2 * np.pi * 1000.0 * t)
    x = np.concatenate([silence, chirp, noise, sine])
    assert x.size == int(1.2 * fs)
    return x


def make_short(n):
    rng = np.random.default_rng(SHORT_SEED + n)
    return rng.uniform(-0.01, 0.01, n)


def generate_inputs(out_dir):
    specs = {
        "synthetic.wav": (make_synthetic(),
                          "0.3 s zeros; 0.4 s linear chirp 100->7900 Hz amp 0.5 "
                          "(phase 2*pi*(f0*t + (f1-f0)/(2*0.4)*t^2)); 0.3 s uniform noise "
                          "in [-0.1, 0.1] (numpy default_rng(%d)); 0.2 s 1 kHz sine amp 0.9; "
                          "int16 = round(x*32767)" % SYNTH_SEED),
        "short511.wav": (make_short(511),
                         "511 samples uniform noise in [-0.01, 0.01] (default_rng(%d)); "
                         "int16 = round(x*32767)" % (SHORT_SEED + 511)),
        "short512.wav": (make_short(512),
                         "512 samples uniform noise in [-0.01, 0.01] (default_rng(%d)); "
                         "int16 = round(x*32767)" % (SHORT_SEED + 512)),
    }
    notes = {
        "synthetic.wav": "Frames 0-13 are digital silence: every mel channel is at the log floor "
                         "1e-12, so mfcc[0] = sqrt(2/40)*40*ln(1e-12) = -247.139 and the rest ~1e-14. "
                         "Frames 50-58 (1 kHz sine = exactly 32 periods per 512-sample window) have "
                         "28 of 40 mel channels at the floor too: their raw value is <= 2e-14 with a "
                         "float64 FFT, but ~1e-7 with a float32 FFT, which changes those MFCCs by up "
                         "to 87. Compute the FFT in float64 to match.",
        "short511.wav": "Shorter than one window: TensorFlow returns an empty [1, 0, 257] "
                        "spectrogram and [1, 0, 26] MFCC, without error.",
        "short512.wav": "Exactly one window: one frame.",
    }
    paths = []
    descriptions = {}
    for name, (x, desc) in specs.items():
        p = os.path.join(out_dir, name)
        write_wav16(p, float_to_int16(x))
        paths.append(p)
        descriptions[os.path.abspath(p)] = (desc, notes[name])
    return paths, descriptions


def check_format(path):
    with wave.open(path, "rb") as w:
        ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    if (ch, width, rate) != (1, 2, SAMPLE_RATE):
        raise SystemExit("%s: need 16 kHz mono 16-bit PCM, got %d Hz, %d ch, %d bytes/sample"
                         % (path, rate, ch, width))
    return n


def compute(tf, wav_bytes):
    """Returns (samples [n,1], spec [frames,257], mfcc [frames,26]) as numpy."""
    decoded = tf.audio.decode_wav(wav_bytes)
    if int(decoded.sample_rate) != SAMPLE_RATE:
        raise ValueError("sample rate %d" % int(decoded.sample_rate))
    samples = decoded.audio
    spec = tf.raw_ops.AudioSpectrogram(input=samples, window_size=WINDOW_SIZE, stride=STRIDE,
                                       magnitude_squared=True)
    mfcc = tf.raw_ops.Mfcc(spectrogram=spec, sample_rate=SAMPLE_RATE,
                           upper_frequency_limit=UPPER_HZ, lower_frequency_limit=LOWER_HZ,
                           filterbank_channel_count=N_FILTERS, dct_coefficient_count=N_CEP)
    return samples.numpy(), spec.numpy()[0], mfcc.numpy()[0]


def rel_to_repo(path):
    return os.path.relpath(os.path.abspath(path), REPO_ROOT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wavs", nargs="*", help="16 kHz mono 16-bit WAV files")
    ap.add_argument("--out", required=True, help="output folder for .npy files and manifest.json")
    ap.add_argument("--generate", action="store_true",
                    help="also generate synthetic.wav, short511.wav, short512.wav in --out")
    args = ap.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    import tensorflow as tf

    inputs = list(args.wavs)
    descriptions = {}
    if args.generate:
        gen, descriptions = generate_inputs(args.out)
        inputs += gen
    if not inputs:
        ap.error("no input WAVs (give paths and/or --generate)")

    files = []
    for path in inputs:
        n = check_format(path)
        name = os.path.splitext(os.path.basename(path))[0]
        data = open(path, "rb").read()
        entry = {
            "name": name,
            "wav": rel_to_repo(path),
            "wav_sha256": hashlib.sha256(data).hexdigest(),
            "wav_bytes": len(data),
            "samples": n,
            "expected_frames": 0 if n < WINDOW_SIZE else 1 + (n - WINDOW_SIZE) // STRIDE,
        }
        if os.path.abspath(path) in descriptions:
            entry["generated"], entry["note"] = descriptions[os.path.abspath(path)]
        try:
            samples, spec, mfcc = compute(tf, data)
        except Exception as e:  # record, keep going
            entry["frames"] = None
            entry["tf_error"] = "%s: %s" % (type(e).__name__, e)
            print("%s: TensorFlow error: %s" % (path, entry["tf_error"]), file=sys.stderr)
            files.append(entry)
            continue
        assert samples.shape == (n, 1), samples.shape
        spec = np.ascontiguousarray(spec.reshape(-1, WINDOW_SIZE // 2 + 1), dtype=np.float32)
        mfcc = np.ascontiguousarray(mfcc.reshape(-1, N_CEP), dtype=np.float32)
        np.save(os.path.join(args.out, name + ".mfcc.npy"), mfcc)
        np.save(os.path.join(args.out, name + ".spec.npy"), spec)
        entry.update({
            "frames": int(mfcc.shape[0]),
            "mfcc": name + ".mfcc.npy",
            "mfcc_shape": list(mfcc.shape),
            "spec": name + ".spec.npy",
            "spec_shape": list(spec.shape),
            "tf_error": None,
        })
        print("%s: %d samples -> mfcc %s, spec %s" % (path, n, mfcc.shape, spec.shape),
              file=sys.stderr)
        files.append(entry)

    manifest = {
        "description": "DeepSpeech 0.9 features computed with TensorFlow's AudioSpectrogram + Mfcc ops; "
                       "generated by tools/reference/mfcc_tf.py. WAV paths are relative to the "
                       "repository root; .npy names are relative to this folder.",
        "tensorflow_version": tf.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "decode": "tf.audio.decode_wav: float32 = int16 / 32768",
        "params": {
            "sample_rate": SAMPLE_RATE,
            "window_size": WINDOW_SIZE,
            "stride": STRIDE,
            "magnitude_squared": True,
            "upper_frequency_limit": UPPER_HZ,
            "lower_frequency_limit": LOWER_HZ,
            "filterbank_channel_count": N_FILTERS,
            "dct_coefficient_count": N_CEP,
        },
        "files": files,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
