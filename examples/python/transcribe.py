#!/usr/bin/python3
"""Read the `deepspeech` element's results from the bus with PyGObject.

    /usr/bin/python3 examples/python/transcribe.py AUDIO_FILE [MODEL.safetensors]

Without MODEL the element uses its embedded default English model and scorer.

Needs Debian's python3-gi, python3-gst-1.0 and gir1.2-gstreamer-1.0 (the pyenv python on
PATH does not have them), and the plugin on GST_PLUGIN_PATH. Prints one line per final result:

    [  0.00 -   2.92] she had your dark suit in greasy wash water all year (confidence -0.71)
"""

import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main(audio, model=None):
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "filesrc name=src ! decodebin ! audioconvert ! deepspeech name=asr ! fakesink"
    )
    pipeline.get_by_name("src").set_property("location", audio)
    if model:
        pipeline.get_by_name("asr").set_property("model", model)
    loop = GLib.MainLoop()
    status = {"code": 0}

    def on_message(_bus, message):
        if message.type == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            if s.get_name() == "deepspeech" and s.get_value("final"):
                start = s.get_value("timestamp") / Gst.SECOND
                end = start + s.get_value("duration") / Gst.SECOND
                print(
                    "[%6.2f - %6.2f] %s (confidence %.2f)"
                    % (start, end, s.get_value("text"), s.get_value("confidence")),
                    flush=True,
                )
        elif message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            print("error: %s (%s)" % (err.message, debug), file=sys.stderr)
            status["code"] = 1
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("error: the pipeline did not start", file=sys.stderr)
        return 1
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return status["code"]


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
