#!/usr/bin/env bash
# Add a subtitle track with the transcript to a video: Matroska out (VP8 + Vorbis + subtitles),
# from any input GStreamer can decode.
#   [MODEL=model.safetensors] examples/mux-subtitles.sh INPUT_VIDEO OUTPUT.mkv
# Without MODEL the element uses its embedded default English model (and scorer).
# An utterance's text is only known once it has ended, so the muxer waits for it while video
# and audio keep arriving: the queues must hold at least the element's latency
# (max-utterance-length plus processing, about 10.3 s by default); here up to 30 s.
set -euo pipefail
input=$1; output=$2
q="queue max-size-buffers=0 max-size-bytes=0 max-size-time=30000000000"
gst-launch-1.0 -q filesrc location="$input" ! decodebin name=d \
    matroskamux name=m ! filesink location="$output" \
    d. ! $q ! videoconvert ! vp8enc deadline=1 ! m. \
    d. ! audioconvert ! tee name=t \
        t. ! $q ! vorbisenc ! m. \
        t. ! queue ! deepspeech ${MODEL:+model="$MODEL"} ! m.subtitle_0
echo "wrote $output"
