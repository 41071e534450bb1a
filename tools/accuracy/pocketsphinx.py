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
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gst_asr  # noqa: E402

PIPELINE = ("filesrc name=src ! decodebin ! audioconvert ! audioresample ! "
            "pocketsphinx name=asr ! fakesink")


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
    return gst_asr.run("pocketsphinx", "pocketsphinx", PIPELINE, {}, "pocketsphinx",
                       "hypothesis", a.csv, a.out_dir, a.limit, err)


if __name__ == "__main__":
    sys.exit(main())
