#!/usr/bin/env bash
# Live subtitles burned into a video: textoverlay draws each utterance while it is spoken.
#   examples/burn-in.sh MODEL.safetensors INPUT_VIDEO [SINK]
# SINK defaults to autovideosink; tests use "fakesink sync=false".
set -euo pipefail
model=$1; input=$2; sink=${3:-autovideosink}
gst-launch-1.0 filesrc location="$input" ! decodebin name=d \
    d. ! queue ! videoconvert ! textoverlay name=o valignment=bottom ! videoconvert ! $sink \
    d. ! queue ! audioconvert ! deepspeech model="$model" ! o.text_sink
