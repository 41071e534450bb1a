#!/usr/bin/env bash
# Add a subtitle track with the transcript to a video: Matroska out (VP8 + Vorbis + subtitles),
# from any input GStreamer can decode.
#   examples/mux-subtitles.sh MODEL.safetensors INPUT_VIDEO OUTPUT.mkv
# An utterance's text is only known once it has ended, so the muxer waits for it while video
# and audio keep arriving: the queues must hold at least the element's latency
# (max-utterance-length + silence-length, about 11 s by default); here up to 30 s.
set -euo pipefail
model=$1; input=$2; output=$3
q="queue max-size-buffers=0 max-size-bytes=0 max-size-time=30000000000"
gst-launch-1.0 -q filesrc location="$input" ! decodebin name=d \
    matroskamux name=m ! filesink location="$output" \
    d. ! $q ! videoconvert ! vp8enc deadline=1 ! m. \
    d. ! audioconvert ! tee name=t \
        t. ! $q ! vorbisenc ! m. \
        t. ! queue ! deepspeech model="$model" ! m.subtitle_0
echo "wrote $output"
