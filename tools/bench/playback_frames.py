#!/usr/bin/python3
"""Plays a gst-launch description whose video sink is `fakesink name=vs sync=true
signal-handoffs=true` and reports how many frames reached it on time (under 40 ms late against
the pipeline clock), and the latest one. Debian's /usr/bin/python3 with PyGObject.

  playback_frames.py "PIPELINE"
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)
pipeline = Gst.parse_launch(sys.argv[1])
late = []


def handoff(_sink, buf, pad):
    clock = pipeline.get_clock()
    if clock is None:
        return
    now = clock.get_time() - pipeline.get_base_time()
    segment = pad.get_sticky_event(Gst.EventType.SEGMENT, 0).parse_segment()
    late.append((now - segment.to_running_time(Gst.Format.TIME, buf.pts)) / 1e9)


pipeline.get_by_name("vs").connect("handoff", handoff)
pipeline.set_state(Gst.State.PLAYING)
started = time.time()
msg = pipeline.get_bus().timed_pop_filtered(300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
if msg is None or msg.type == Gst.MessageType.ERROR:
    sys.exit(f"playback failed: {msg.parse_error() if msg else 'timeout'}")
on_time = sum(1 for x in late if x < 0.040)
print(f"frames {len(late)}, on time {on_time} ({100 * on_time / max(len(late), 1):.1f} %), "
      f"latest {max(late):.2f} s late, wall {time.time() - started:.1f} s")
