"""Streams a WAV through DeepSpeech 0.9's Python API in pieces of several sizes, printing every
intermediate result and the final metadata; run against DeepSpeech's library and ours, the output
must be the same (capi/tests/deepspeech_clients.rs).

Usage: stream.py MODEL SCORER WAV
The module is `deepspeech`, or the one named by $DEEPSPEECH_MODULE (`deepspeech_rs`).
"""
import importlib
import os
import sys
import wave

import numpy as np

deepspeech = importlib.import_module(os.environ.get("DEEPSPEECH_MODULE", "deepspeech"))


def metadata(m):
    return [
        (
            round(t.confidence, 3),
            "".join(tok.text for tok in t.tokens),
            [(tok.text, tok.timestep, round(tok.start_time, 3)) for tok in t.tokens],
        )
        for t in m.transcripts
    ]


model_path, scorer_path, wav_path = sys.argv[1:4]
with wave.open(wav_path, "rb") as w:
    audio = np.frombuffer(w.readframes(w.getnframes()), np.int16)

model = deepspeech.Model(model_path)
print("sample rate", model.sampleRate(), "beam width", model.beamWidth())
print("no scorer:", model.stt(audio))
model.enableExternalScorer(scorer_path)
model.setBeamWidth(64)
print("scorer:", model.stt(audio))
print("empty:", repr(model.stt(np.zeros(0, np.int16))))
model.addHotWord("water", 4.0)
print("hot-word:", metadata(model.sttWithMetadata(audio, 2)))
model.clearHotWords()
model.setScorerAlphaBeta(0.5, 1.5)
for piece in (160, 333, 1600):
    stream = model.createStream()
    for at in range(0, len(audio), piece):
        stream.feedAudioContent(audio[at:at + piece])
        if (at // piece) % 10 == 0:
            print(piece, at, stream.intermediateDecode())
    print(piece, "intermediate:", metadata(stream.intermediateDecodeWithMetadata(3)))
    print(piece, "final:", metadata(stream.finishStreamWithMetadata(3)))
stream = model.createStream()
stream.feedAudioContent(audio[:8000])
stream.freeStream()
model.disableExternalScorer()
print("scorer off:", model.stt(audio))
