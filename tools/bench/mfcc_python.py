#!/usr/bin/env python3
"""Single-thread MFCC throughput of the Python reference implementations.

Usage (outside the repository's Rust toolchain; needs a venv with
``pip install tensorflow-cpu numpy python_speech_features``):

    /work/venv-ref/bin/python tools/bench/mfcc_python.py [--repeats 5] [--min-time 0.3] \\
        [--tools python_speech_features,tensorflow] A.wav [B.wav ...]

Inputs: 16 kHz mono 16-bit PCM WAVs.  For every (tool, file) one line is printed on
stdout, tab separated, no header:

    tool <TAB> file <TAB> audio_seconds <TAB> cpu_seconds <TAB> audio_s_per_cpu_s

``cpu_seconds`` is the CPU time (time.process_time: all threads of this process,
user + system) of ONE feature computation over the whole file, taken as the best of
``--repeats`` repeats.  Each repeat runs the computation enough times back to back
to last at least ``--min-time`` CPU seconds (calibrated once, after a warm-up) and
divides by that count, so short files are timed accurately.  File reading and WAV
decoding are excluded: both tools start from samples already in memory.

Tools:

* ``python_speech_features`` -- python_speech_features.mfcc, set as close to
  DeepSpeech/TensorFlow as its API allows: samplerate=16000, winlen=0.032 (512),
  winstep=0.02 (320), numcep=26, nfilt=40, nfft=512, lowfreq=20, highfreq=8000,
  preemph=0 (TF has none), ceplifter=0 (no liftering), appendEnergy=False
  (keep c0), winfunc=periodic Hann (TF's window; numpy.hanning is the symmetric
  one, same cost).  Input: float64 samples int16/32768.  It still differs from TF
  numerically (power spectrum /NFFT instead of magnitude into the filterbank,
  HTK-style integer bin edges, orthonormal DCT, log(eps) floor, and it zero-pads a
  trailing partial frame), so this is a speed comparison only.
* ``tensorflow`` -- tf.raw_ops.AudioSpectrogram(window_size=512, stride=320,
  magnitude_squared=True) + tf.raw_ops.Mfcc(sample_rate=16000, upper 8000, lower 20,
  40 channels, 26 coefficients), the ops DeepSpeech 0.9 uses, inside one
  tf.function (traced during the warm-up, so tracing is not timed) with
  intra_op/inter_op parallelism set to 1 thread.  Input: float32 [n, 1] tensor
  from tf.audio.decode_wav.  The .numpy() copy of the result is inside the timing.
"""

import argparse
import os
import sys
import time
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# keep BLAS / OpenMP pools single-threaded for the numpy path as well
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

SAMPLE_RATE = 16000


def periodic_hann(n):
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def read_wav(path):
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, SAMPLE_RATE):
            raise SystemExit("%s: need 16 kHz mono 16-bit PCM" % path)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm


def bench(fn, repeats, min_time):
    """Best-of-`repeats` CPU seconds of one call to fn (after a warm-up)."""
    fn()  # warm-up (and tf.function tracing)
    t0 = time.process_time()
    fn()
    one = max(time.process_time() - t0, 1e-6)
    iters = max(1, int(np.ceil(min_time / one)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(iters):
            fn()
        best = min(best, (time.process_time() - t0) / iters)
    return best


def make_psf(pcm):
    from python_speech_features import mfcc as psf_mfcc

    signal = pcm.astype(np.float64) / 32768.0

    def run():
        return psf_mfcc(signal, samplerate=SAMPLE_RATE, winlen=0.032, winstep=0.02, numcep=26,
                        nfilt=40, nfft=512, lowfreq=20, highfreq=8000, preemph=0.0,
                        ceplifter=0, appendEnergy=False, winfunc=periodic_hann)

    return run


_tf_fn = None


def make_tf(path):
    global _tf_fn
    import tensorflow as tf

    if _tf_fn is None:
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
        def features(samples):
            spec = tf.raw_ops.AudioSpectrogram(input=samples, window_size=512, stride=320,
                                               magnitude_squared=True)
            return tf.raw_ops.Mfcc(spectrogram=spec, sample_rate=SAMPLE_RATE,
                                   upper_frequency_limit=8000.0, lower_frequency_limit=20.0,
                                   filterbank_channel_count=40, dct_coefficient_count=26)

        _tf_fn = features
    samples = tf.audio.decode_wav(open(path, "rb").read()).audio

    def run():
        return _tf_fn(samples).numpy()

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description="Python MFCC throughput (see module docstring)")
    ap.add_argument("wavs", nargs="+")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.3,
                    help="minimum CPU seconds per repeat (default 0.3)")
    ap.add_argument("--tools", default="python_speech_features,tensorflow")
    args = ap.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]

    if "tensorflow" in tools:
        import tensorflow as tf

        # must happen before the first op runs
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)

    for tool in tools:
        for path in args.wavs:
            pcm = read_wav(path)
            audio_s = pcm.size / SAMPLE_RATE
            if tool == "python_speech_features":
                fn = make_psf(pcm)
            elif tool == "tensorflow":
                fn = make_tf(path)
            else:
                raise SystemExit("unknown tool %r" % tool)
            cpu = bench(fn, args.repeats, args.min_time)
            print("%s\t%s\t%.6f\t%.9f\t%.1f" % (tool, path, audio_s, cpu, audio_s / cpu), flush=True)


if __name__ == "__main__":
    main()
