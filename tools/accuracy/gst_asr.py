"""Runs a GStreamer speech element over DeepSpeech CSVs and scores it (shared by
pocketsphinx.py and deepspeech.py): one fresh pipeline per file, every final result joined.

A pipeline taken back to READY and replayed gave PocketSphinx different (worse) hypotheses, so
state is never reused. CPU seconds are the process's user+sys (getrusage), element set-up for
every file included.
"""

import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

TIMEOUT_NS = 600 * Gst.SECOND


def recognise(pipeline_desc, props, message, field, path, err):
    """Final results of the element named `asr` for one file, joined by spaces: element
    messages named `message` with `final` true, text in `field`."""
    pipeline = Gst.parse_launch(pipeline_desc)
    pipeline.get_by_name("src").set_property("location", path)
    for name, value in props.items():
        pipeline.get_by_name("asr").set_property(name, value)
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
            if s is not None and s.get_name() == message and s.get_value("final"):
                text = s.get_value(field) or ""
                if text.strip():
                    finals.append(text.strip())
    finally:
        pipeline.set_state(Gst.State.NULL)
    return " ".join(finals)


def run(system, element, pipeline_desc, props, message, field, csvs, out_dir, limit, err):
    """Scores `system` on every CSV (wer.summarise writes TSV + JSON); returns an exit code."""
    Gst.init(None)
    if Gst.ElementFactory.find(element) is None:
        print(f"error: no GStreamer element {element}", file=err)
        return 1
    status = 0
    for csv_path in csvs:
        start = resource.getrusage(resource.RUSAGE_SELF)
        rows = wer.read_csv(csv_path)
        if limit:
            rows = rows[:limit]
        results = []
        for i, (wav, ref) in enumerate(rows, 1):
            results.append((wav, ref, recognise(pipeline_desc, props, message, field, wav, err)))
            if i % 50 == 0:
                print(f"  {wer.set_name(csv_path)}: {i}/{len(rows)}", file=err)
        end = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
        if not results:
            print(f"warning: {csv_path}: no rows", file=err)
            status = 1
            continue
        wer.summarise(csv_path, system, results, cpu, out_dir)
        sys.stdout.flush()
    return status
