"""DeepSpeech 0.9's Python API behaviours that applications rely on: the exceptions and status
codes of failed calls, finished streams, and the audio buffers accepted. Run on DeepSpeech's own
package and on deepspeech_rs (python/tests/python_module.rs): both must pass.

Usage: behaviour.py MODEL SCORER WAV   (module: $DEEPSPEECH_MODULE, default deepspeech)
"""
import array
import importlib
import os
import sys
import threading
import wave

import numpy as np

name = os.environ.get("DEEPSPEECH_MODULE", "deepspeech")
ds = importlib.import_module(name)
model_path, scorer_path, wav_path = sys.argv[1:4]
with wave.open(wav_path, "rb") as w:
    audio = np.frombuffer(w.readframes(w.getnframes()), np.int16)


def raises(call, text):
    try:
        call()
    except RuntimeError as e:
        assert str(e) == text, (str(e), text)
        return
    raise AssertionError("no RuntimeError: " + text)


raises(lambda: ds.Model(""), "CreateModel failed with 'Missing model information.' (0x1000)")
model = ds.Model(model_path)
assert model.sampleRate() == 16000
assert model.setBeamWidth(100) == 0 and model.beamWidth() == 100
not_enabled = "failed with 'External scorer is not enabled.' (0x2004)"
raises(lambda: model.addHotWord("she", 2.0), "AddHotWord " + not_enabled)
raises(lambda: model.eraseHotWord("she"), "EraseHotWord " + not_enabled)
raises(lambda: model.clearHotWords(), "ClearHotWords " + not_enabled)
assert model.disableExternalScorer() == 0x2004
assert model.setScorerAlphaBeta(1.0, 1.0) == 0x2004
raises(
    lambda: model.enableExternalScorer(wav_path),
    "EnableExternalScorer failed with 'Invalid scorer file.' (0x2002)",
)
model.enableExternalScorer(scorer_path)
model.addHotWord("she", 2.0)
raises(lambda: model.addHotWord("she", 3.0), "AddHotWord failed with 'Could not insert hot-word.' (0x3008)")
raises(lambda: model.eraseHotWord("nowhere"), "EraseHotWord failed with 'Could not erase hot-word.' (0x3010)")
model.eraseHotWord("she")
model.clearHotWords()
assert model.setScorerAlphaBeta(0.9, 1.2) == 0

text = model.stt(audio)
assert text
metadata = model.sttWithMetadata(audio, 3)
assert 1 <= len(metadata.transcripts) <= 3
best = metadata.transcripts[0]
assert "".join(t.text for t in best.tokens) == text
assert all(isinstance(t.timestep, int) and isinstance(t.start_time, float) for t in best.tokens)
assert isinstance(best.confidence, float)
assert model.stt(np.zeros(0, np.int16)) is not None

stream = model.createStream()
stream.feedAudioContent(audio)
assert stream.finishStream() == text
raises(lambda: stream.feedAudioContent(audio), "Stream object is not valid. Trying to feed an already finished stream?")
raises(lambda: stream.intermediateDecode(), "Stream object is not valid. Trying to decode an already finished stream?")
raises(lambda: stream.finishStream(), "Stream object is not valid. Trying to finish an already finished stream?")
raises(lambda: stream.freeStream(), "Stream object is not valid. Trying to free an already finished stream?")
stream = model.createStream()
stream.feedAudioContent(audio[:8000])
stream.freeStream()

# Strided numpy views are read correctly.
doubled = np.stack([audio, audio], axis=1)[:, 0]
assert not doubled.flags["C_CONTIGUOUS"] and model.stt(doubled) == text

if name == "deepspeech_rs":
    # Beyond DeepSpeech (whose SWIG binding takes numpy arrays only): any int16 buffer.
    assert model.stt(array.array("h", audio.tobytes())) == text
    assert model.stt(memoryview(audio)) == text
    for bad in (audio.astype(np.float32), audio.reshape(-1, 1), b"\x00\x01"):
        try:
            model.stt(bad)
        except TypeError:
            continue
        raise AssertionError("accepted %r" % type(bad))
    assert "deepspeech-rs" in ds.version()
    # One model, several threads at once (the GIL is released while the model runs).
    results = [None] * 4

    def work(i):
        results[i] = model.stt(audio)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [text] * 4, results

print("all checks passed")
