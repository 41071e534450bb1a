#!/usr/bin/python3
"""Accuracy of our `deepspeech` element on DeepSpeech CSVs, in the same kind of pipeline as
pocketsphinx.py (no audioresample: the element resamples itself):

  filesrc location=WAV ! decodebin ! audioconvert ! deepspeech ! fakesink

with the embedded default model and scorer unless --model / --scorer say otherwise
(--scorer none: no language model). Final `deepspeech` messages are joined per file. Writes
OUT_DIR/<set>.<system>.tsv and .json and prints WER/CER (tools/accuracy/wer.py).

The plugin must be on GST_PLUGIN_PATH (e.g. a folder holding target/release/libgstdeepspeech.so).

Usage:
  /usr/bin/python3 tools/accuracy/deepspeech.py [--model M] [--scorer S|none] [--system NAME] CSV...
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gst_asr  # noqa: E402

PIPELINE = "filesrc name=src ! decodebin ! audioconvert ! deepspeech name=asr ! fakesink"


def main():
    ap = argparse.ArgumentParser(description="deepspeech element WER/CER on DeepSpeech CSVs")
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out-dir", default="/tmp/refasr-results")
    ap.add_argument("--limit", type=int, default=0, help="first N rows of each CSV only")
    ap.add_argument("--model", help="exported model (default: the embedded one)")
    ap.add_argument("--scorer", help="scorer file, or none (default: the embedded one)")
    ap.add_argument("--beam-width", type=int)
    ap.add_argument("--system", help="name in the results (default: deepspeech[-noscorer])")
    a = ap.parse_args()
    props = {}
    if a.model:
        props["model"] = a.model
    if a.scorer:
        props["scorer"] = a.scorer
    if a.beam_width:
        props["beam-width"] = a.beam_width
    system = a.system or ("deepspeech-noscorer" if a.scorer == "none" else "deepspeech")
    return gst_asr.run(system, "deepspeech", PIPELINE, props, "deepspeech", "text", a.csv,
                       a.out_dir, a.limit, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
