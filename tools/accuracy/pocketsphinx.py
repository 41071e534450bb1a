#!/usr/bin/python3
"""Reference accuracy of CMU PocketSphinx (Debian's GStreamer element) on DeepSpeech CSVs.

For each CSV row, runs
  filesrc location=WAV ! decodebin ! audioconvert ! audioresample ! pocketsphinx ! fakesink
with the element's defaults (Debian's pocketsphinx-en-us acoustic model, en-us.lm.bin
and cmudict-en-us.dict), and takes the hypothesis from the element's bus messages:
structure "pocketsphinx" with fields hypothesis (string), final (boolean), confidence,
timestamp. Every message with final=true is kept, in order, and joined with spaces (the
element's VAD may end several utterances in one file); final=false messages are partial
hypotheses and are ignored. One fresh pipeline per file: a pipeline taken back to READY
and replayed gives different (worse) hypotheses, so state is not reused.

Writes OUT_DIR/<set>.pocketsphinx.tsv (wav, reference, hypothesis) and .json (summary)
and prints WER/CER (tools/accuracy/wer.py). CPU seconds are the process's user+sys
(getrusage), model loading for every file included. PocketSphinx's own logging (its
configuration dump and INFO lines, on stderr) goes to --log (default: discarded).

Needs Debian's python3 with python3-gi and python3-gst-1.0, gstreamer1.0-pocketsphinx and
pocketsphinx-en-us (apt-get install python3-gi python3-gst-1.0 gstreamer1.0-pocketsphinx
pocketsphinx-en-us gstreamer1.0-plugins-base gstreamer1.0-plugins-good).

Usage:
  nice -n 10 /usr/bin/python3 tools/accuracy/pocketsphinx.py [--out-dir DIR] [--limit N] CSV...
"""

import argparse
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

PIPELINE = ("filesrc name=src ! decodebin ! audioconvert ! audioresample ! "
            "pocketsphinx name=asr ! fakesink")
TIMEOUT_NS = 600 * Gst.SECOND


def recognise(path, err):
    """Final hypotheses of the pocketsphinx element for one file, joined by spaces."""
    pipeline = Gst.parse_launch(PIPELINE)
    pipeline.get_by_name("src").set_property("location", path)
    bus = pipeline.get_bus()
    finals = []
    try:
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            print(f"warning: {path}: pipeline failed to start", file=err)
            return ""
        types = Gst.MessageType.ELEMENT | Gst.MessageType.EOS | Gst.MessageType.ERROR
        while True:
            msg = bus.timed_pop_filtered(TIMEOUT_NS, types)
            if msg is None:
                print(f"warning: {path}: no EOS after {TIMEOUT_NS // Gst.SECOND} s", file=err)
                break
            if msg.type == Gst.MessageType.EOS:
                break
            if msg.type == Gst.MessageType.ERROR:
                e, debug = msg.parse_error()
                print(f"warning: {path}: {e.message} ({debug})", file=err)
                break
            s = msg.get_structure()
            if s is not None and s.get_name() == "pocketsphinx" and s.get_value("final"):
                hyp = s.get_value("hypothesis") or ""
                if hyp.strip():
                    finals.append(hyp.strip())
    finally:
        pipeline.set_state(Gst.State.NULL)
    return " ".join(finals)


def main():
    ap = argparse.ArgumentParser(description="PocketSphinx reference WER/CER on DeepSpeech CSVs")
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out-dir", default="/tmp/refasr-results")
    ap.add_argument("--limit", type=int, default=0, help="first N rows of each CSV only")
    ap.add_argument("--log", default=os.devnull, help="where PocketSphinx's stderr goes")
    a = ap.parse_args()

    # PocketSphinx prints its configuration and INFO lines on fd 2 for every file.
    err = os.fdopen(os.dup(2), "w", buffering=1)
    log_fd = os.open(a.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 2)

    Gst.init(None)
    if Gst.ElementFactory.find("pocketsphinx") is None:
        print("error: no GStreamer element pocketsphinx (apt-get install gstreamer1.0-pocketsphinx)",
              file=err)
        return 1
    status = 0
    for csv_path in a.csv:
        start = resource.getrusage(resource.RUSAGE_SELF)
        rows = wer.read_csv(csv_path)
        if a.limit:
            rows = rows[:a.limit]
        results = []
        for i, (wav, ref) in enumerate(rows, 1):
            results.append((wav, ref, recognise(wav, err)))
            if i % 50 == 0:
                print(f"  {wer.set_name(csv_path)}: {i}/{len(rows)}", file=err)
        end = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
        if not results:
            print(f"warning: {csv_path}: no rows", file=err)
            status = 1
            continue
        wer.summarise(csv_path, "pocketsphinx", results, cpu, a.out_dir)
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
