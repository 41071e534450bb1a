#!/usr/bin/env python3
"""Pure-numpy re-implementation of TensorFlow's AudioSpectrogram + Mfcc ops
with DeepSpeech 0.9's parameters, as documentation and a cross-check for the
Rust implementation.  It follows tensorflow/core/kernels/{spectrogram,
spectrogram_op, mfcc_op, mfcc, mfcc_mel_filterbank, mfcc_dct}.cc line by line
(precision included: float32 samples in, float64 arithmetic, float32 spectrogram
out; float64 MFCC arithmetic on the float32 spectrogram, float32 MFCC out).

Usage (needs only numpy; pip install numpy):

    python tools/reference/mfcc_numpy.py core/tests/fixtures/mfcc/manifest.json

compares against every fixture listed in the manifest (paths resolved as the
manifest says) and prints max abs / max relative differences.  Or, with WAV
paths instead of a manifest, prints the feature shapes.
"""

import json
import math
import os
import sys
import wave

import numpy as np

SAMPLE_RATE = 16000
WINDOW_SIZE = 512
STRIDE = 320
N_CEP = 26
N_FILTERS = 40
LOWER_HZ = 20.0
UPPER_HZ = 8000.0
LOG_FLOOR = 1e-12  # kFilterbankFloor in mfcc.cc


def read_wav_int16_mono(path):
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2), path
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2"), rate


def decode_like_tf(pcm_i16):
    """tf.audio.decode_wav: float32 sample = int16 * (1.0f / 32768)."""
    return pcm_i16.astype(np.float32) * np.float32(1.0 / 32768.0)


# ----------------------------------------------------------------- spectrogram
def periodic_hann(n):
    """spectrogram.cc GetPeriodicHann: 0.5 - 0.5*cos(2*pi*i/n), i = 0..n-1 (double)."""
    i = np.arange(n, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * math.pi * i / n)


def next_power_of_two(n):
    p = 1
    while p < n:
        p <<= 1
    return p


def audio_spectrogram(samples_f32, window_size=WINDOW_SIZE, stride=STRIDE):
    """AudioSpectrogram(magnitude_squared=True) for one channel -> float32 [frames, fft/2+1].

    frames = 0 if n < window_size else 1 + (n - window_size) // stride   (no padding,
    the trailing partial window is dropped).  Frame t covers samples
    [t*stride, t*stride + window_size).  fft_length = next power of two >= window_size
    (512 here, so no zero padding), bins = fft_length/2 + 1 = 257.
    """
    x = np.asarray(samples_f32, dtype=np.float32)
    n = x.size
    fft_len = next_power_of_two(window_size)
    bins = fft_len // 2 + 1
    frames = 0 if n < window_size else 1 + (n - window_size) // stride
    if frames == 0:
        return np.zeros((0, bins), dtype=np.float32)
    win = periodic_hann(window_size)
    idx = np.arange(frames)[:, None] * stride + np.arange(window_size)[None, :]
    framed = x[idx].astype(np.float64) * win  # double, like fft_input_output_
    spec = np.fft.rfft(framed, n=fft_len, axis=1)  # unnormalised forward DFT (Ooura rdft in TF)
    power = spec.real * spec.real + spec.imag * spec.imag  # re*re + im*im in double
    return power.astype(np.float32)


# ----------------------------------------------------------------------- MFCC
def freq_to_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def mel_filterbank_matrix(input_length=WINDOW_SIZE // 2 + 1, sample_rate=SAMPLE_RATE,
                          num_channels=N_FILTERS, lower=LOWER_HZ, upper=UPPER_HZ):
    """mfcc_mel_filterbank.cc Initialize(), returned as a dense [input_length, channels]
    matrix W so that mel = sqrt(power_spectrum) @ W.  Also returns (start, end) bins."""
    mel_low = float(freq_to_mel(lower))
    mel_hi = float(freq_to_mel(upper))
    mel_spacing = (mel_hi - mel_low) / (num_channels + 1)
    centers = np.array([mel_low + mel_spacing * (i + 1) for i in range(num_channels + 1)])
    hz_per_sbin = 0.5 * sample_rate / (input_length - 1)
    start = int(1.5 + lower / hz_per_sbin)  # C++ static_cast<int> truncation
    end = int(upper / hz_per_sbin)
    band_mapper = np.full(input_length, -2, dtype=np.int64)
    channel = 0
    for i in range(input_length):
        melf = float(freq_to_mel(i * hz_per_sbin))
        if i < start or i > end:
            continue
        while channel < num_channels and centers[channel] < melf:
            channel += 1
        band_mapper[i] = channel - 1  # may be -1
    weights = np.zeros(input_length)
    for i in range(start, end + 1):
        c = band_mapper[i]
        melf = float(freq_to_mel(i * hz_per_sbin))
        if c >= 0:
            weights[i] = (centers[c + 1] - melf) / (centers[c + 1] - centers[c])
        else:
            weights[i] = (centers[0] - melf) / (centers[0] - mel_low)
    W = np.zeros((input_length, num_channels))
    for i in range(start, end + 1):
        c = band_mapper[i]
        if c >= 0:
            W[i, c] += weights[i]  # right (falling) side of channel c
        if c + 1 < num_channels:
            W[i, c + 1] += 1.0 - weights[i]  # left (rising) side of channel c+1
    return W, start, end


def dct_matrix(input_length=N_FILTERS, coefficient_count=N_CEP):
    """mfcc_dct.cc: cos[i][j] = sqrt(2/N) * cos(pi/N * i * (j + 0.5)) (no special i=0 scale)."""
    fnorm = math.sqrt(2.0 / input_length)
    arg = math.pi / input_length
    i = np.arange(coefficient_count)[:, None]
    j = np.arange(input_length)[None, :]
    return fnorm * np.cos(i * arg * (j + 0.5))


def mfcc_from_spectrogram(spec_f32):
    """Mfcc op: float32 [frames, 257] power spectrogram -> float32 [frames, 26]."""
    spec = np.asarray(spec_f32, dtype=np.float32).astype(np.float64)
    W, _, _ = mel_filterbank_matrix(spec.shape[1])
    mel = np.sqrt(spec) @ W  # filterbank on the MAGNITUDE (sqrt of power)
    logmel = np.log(np.maximum(mel, LOG_FLOOR))
    return (logmel @ dct_matrix().T).astype(np.float32)


def deepspeech_features(pcm_i16):
    spec = audio_spectrogram(decode_like_tf(pcm_i16))
    return spec, mfcc_from_spectrogram(spec)


# ---------------------------------------------------------------- cross-check
def diff_report(label, ours, ref):
    if ref.size == 0:
        return "%-22s shapes %s vs %s (empty)" % (label, ours.shape, ref.shape)
    d = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    scale = np.abs(ref.astype(np.float64))
    # relative difference where the reference is not tiny relative to its own range
    mask = scale > 1e-6 * scale.max()
    rel = (d[mask] / scale[mask]).max() if mask.any() else 0.0
    return "%-22s shapes %s vs %s  max|d|=%.3g  max rel=%.3g  (rel over |ref|>1e-6*max|ref|)" % (
        label, ours.shape, ref.shape, d.max(), rel)


def main(argv):
    if len(argv) == 1 and argv[0].endswith(".json"):
        manifest_path = argv[0]
        here = os.path.dirname(os.path.abspath(manifest_path))
        repo_root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        manifest = json.load(open(manifest_path))
        for f in manifest["files"]:
            pcm, rate = read_wav_int16_mono(os.path.join(repo_root, f["wav"]))
            assert rate == SAMPLE_RATE
            spec, mfcc = deepspeech_features(pcm)
            if f.get("frames") is None:
                print("%s: no TF reference (%s)" % (f["name"], f.get("tf_error")))
                continue
            ref_spec = np.load(os.path.join(here, f["spec"]))
            ref_mfcc = np.load(os.path.join(here, f["mfcc"]))
            print(diff_report(f["name"] + " spec", spec, ref_spec))
            print(diff_report(f["name"] + " mfcc", mfcc, ref_mfcc))
    else:
        for p in argv:
            pcm, rate = read_wav_int16_mono(p)
            spec, mfcc = deepspeech_features(pcm)
            print(p, rate, spec.shape, mfcc.shape)


if __name__ == "__main__":
    main(sys.argv[1:])
