#!/usr/bin/env python3
"""Times a DeepSpeech-API runtime (DeepSpeech 0.9.3's `deepspeech` / `deepspeech-tflite`, or Coqui's
`stt`) on a folder of 16 kHz mono 16-bit WAVs: model load time, CPU seconds per audio second,
peak RSS, and the transcripts (for the equality check against ours). One JSON line on stdout.

Usage: python reference_runtime.py deepspeech|stt MODEL WAV_DIR
"""
import json
import os
import resource
import sys
import time
import wave

import numpy as np


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    package, model_path, wav_dir = sys.argv[1:4]
    Model = __import__(package).Model
    files = sorted(f for f in os.listdir(wav_dir) if f.endswith(".wav"))
    audio = []
    for f in files:
        with wave.open(os.path.join(wav_dir, f)) as w:
            audio.append(np.frombuffer(w.readframes(w.getnframes()), np.int16))
    wall, c = time.perf_counter(), cpu()
    model = Model(model_path)
    load_s, load_cpu = time.perf_counter() - wall, cpu() - c
    wall, c = time.perf_counter(), cpu()
    texts = {f: model.stt(a) for f, a in zip(files, audio)}
    run_wall, run_cpu = time.perf_counter() - wall, cpu() - c
    secs = sum(len(a) for a in audio) / 16000
    print(json.dumps({
        "runtime": package, "model": os.path.basename(model_path), "load_s": round(load_s, 3),
        "load_cpu_s": round(load_cpu, 3), "audio_s": round(secs, 1), "cpu_s": round(run_cpu, 2),
        "wall_s": round(run_wall, 2), "cpu_per_audio_s": round(run_cpu / secs, 4),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "transcripts": texts,
    }))


if __name__ == "__main__":
    main()
