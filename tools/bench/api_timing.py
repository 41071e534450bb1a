"""The Python side of tools/bench/api-overhead.sh: the same loop as
capi/examples/rust_api_timing.rs, through deepspeech_rs's DeepSpeech API (Model.stt on numpy int16
arrays). Usage: api_timing.py MODEL SCORER ROUNDS WAV... Prints the loop's process CPU seconds and
the transcripts."""
import sys
import time
import wave

import numpy as np
import deepspeech_rs as deepspeech

model_path, scorer_path, rounds, *wavs = sys.argv[1:]
model = deepspeech.Model(model_path)
model.enableExternalScorer(scorer_path)
audio = []
for path in wavs:
    with wave.open(path, "rb") as w:
        audio.append(np.frombuffer(w.readframes(w.getnframes()), np.int16))
start = time.process_time()
for _ in range(int(rounds)):
    texts = [model.stt(a) for a in audio]
print("cpu_seconds %.3f" % (time.process_time() - start))
print("\n".join(texts))
