#!/usr/bin/python3
"""Delay from the end of an utterance to its final `deepspeech` message, for a live source.

Plays a recording followed by 2 s of silence in real time (`identity sync=true` paces buffers on
the pipeline clock, as a microphone delivers them), through `audioconvert ! deepspeech`. The recording
must hold one utterance. Delay = running time when its final message reached the application -
end of the speech, taken from the audio itself: the end of the last 10 ms frame at or above the
element's default silence threshold (-50 dBFS). (The message's own end time is no use here: the
last word's duration runs on to the end of the decoded audio, into the trailing silence.) The
delay is about `silence-length` (the silence that proves the utterance is over) plus decoding.

    GST_PLUGIN_PATH=... /usr/bin/python3 tools/bench/end-of-utterance-delay.py WAV [RUNS] [SILENCE_MS] [MODEL [SCORER]]

Without MODEL the element's embedded default model and scorer are used.

Prints one line per run and the median, as a markdown table row.
"""

import array
import math
import os
import statistics
import sys
import tempfile
import wave

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def speech_end_ns(wav, threshold_db=-50.0):
    """End of the last 10 ms frame whose RMS is at or above `threshold_db` dBFS (16-bit mono or
    the first channel)."""
    with wave.open(wav) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise SystemExit("16-bit WAV expected")
    samples = array.array("h", frames)[::channels]
    step = rate // 100
    last = 0
    for start in range(0, len(samples) - step + 1, step):
        chunk = samples[start:start + step]
        rms = math.sqrt(sum(x * x for x in chunk) / step) / 32768.0
        if rms > 0 and 20 * math.log10(rms) >= threshold_db:
            last = start + step
    return last * Gst.SECOND // rate


def with_trailing_silence(wav, seconds, out):
    """Copies `wav` to `out` with `seconds` of digital silence appended, in one continuous stream
    (a concat of two sources would start a new segment, which ends the utterance at once)."""
    with wave.open(wav) as r:
        params, frames = r.getparams(), r.readframes(r.getnframes())
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(frames + bytes(int(seconds * params.framerate) * params.sampwidth
                                     * params.nchannels))


def one_run(wav, silence_ms, props, end_ns):
    # Paced in real time, as a live source delivers it.
    pipeline = Gst.parse_launch(
        f"filesrc location={wav} ! decodebin ! identity sync=true ! audioconvert "
        "! deepspeech name=asr ! fakesink"
    )
    pipeline.get_by_name("asr").set_property("silence-length", silence_ms)
    for name, value in props.items():
        pipeline.get_by_name("asr").set_property(name, value)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    delays = []
    types = Gst.MessageType.ELEMENT | Gst.MessageType.EOS | Gst.MessageType.ERROR
    while True:
        msg = bus.timed_pop_filtered(30 * Gst.SECOND, types)
        if msg is None or msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ERROR:
            raise SystemExit(f"error: {msg.parse_error()[0].message}")
        s = msg.get_structure()
        if s.get_name() == "deepspeech" and s.get_value("final"):
            now = pipeline.get_clock().get_time() - pipeline.get_base_time()
            delays.append((now - end_ns) / Gst.MSECOND)
    pipeline.set_state(Gst.State.NULL)
    return delays


def main():
    wav = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    silence_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 800
    props = dict(zip(("model", "scorer"), sys.argv[4:6]))
    Gst.init(None)
    end_ns = speech_end_ns(wav)
    padded = os.path.join(tempfile.mkdtemp(), "padded.wav")
    with_trailing_silence(wav, 2.0, padded)
    print(f"speech ends at {end_ns / Gst.SECOND:.2f} s", file=sys.stderr)
    all_delays = []
    for i in range(runs):
        delays = one_run(padded, silence_ms, props, end_ns)
        print(f"run {i + 1}: " + ", ".join(f"{d:.0f} ms" for d in delays), file=sys.stderr)
        all_delays += delays
    if not all_delays:
        raise SystemExit("no final message")
    print(f"| silence-length {silence_ms} ms | {len(all_delays)} utterances | "
          f"median {statistics.median(all_delays):.0f} ms | max {max(all_delays):.0f} ms |")


if __name__ == "__main__":
    main()
