#!/usr/bin/python3
"""Delay from the end of an utterance to its final `deepspeech` message, for a live source.

Plays a recording in real time (`identity sync=true` paces buffers on the pipeline clock, as a
microphone delivers them), followed by silence, through `audioconvert ! deepspeech`. For every final
message: delay = running time when the message reached the application - end of the utterance's
last word (the message's running-time + duration, from the model's word timings). The delay is
about `silence-length` (the silence that proves the utterance is over) plus decoding.

    GST_PLUGIN_PATH=... /usr/bin/python3 tools/bench/end-of-utterance-delay.py WAV [RUNS] [SILENCE_MS]

Prints one line per run and the median, as a markdown table row.
"""

import statistics
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def one_run(wav, silence_ms):
    # The file, then 2 s of silence, paced in real time.
    pipeline = Gst.parse_launch(
        "concat name=c ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 "
        "! identity sync=true ! deepspeech name=asr ! fakesink "
        f"filesrc location={wav} ! decodebin ! audioconvert ! audioresample "
        "! audio/x-raw,rate=16000,channels=1 ! c. "
        "audiotestsrc wave=silence num-buffers=20 samplesperbuffer=1600 "
        "! audio/x-raw,rate=16000,channels=1 ! c."
    )
    pipeline.get_by_name("asr").set_property("silence-length", silence_ms)
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
            end = s.get_value("running-time") + s.get_value("duration")
            delays.append((now - end) / Gst.MSECOND)
    pipeline.set_state(Gst.State.NULL)
    return delays


def main():
    wav = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    silence_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 800
    Gst.init(None)
    all_delays = []
    for i in range(runs):
        delays = one_run(wav, silence_ms)
        print(f"run {i + 1}: " + ", ".join(f"{d:.0f} ms" for d in delays), file=sys.stderr)
        all_delays += delays
    if not all_delays:
        raise SystemExit("no final message")
    print(f"| silence-length {silence_ms} ms | {len(all_delays)} utterances | "
          f"median {statistics.median(all_delays):.0f} ms | max {max(all_delays):.0f} ms |")


if __name__ == "__main__":
    main()
