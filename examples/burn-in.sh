#!/usr/bin/env bash
# Live subtitles burned into a video: textoverlay draws each utterance while it is spoken.
#   [MODEL=model.safetensors] examples/burn-in.sh INPUT_VIDEO [SINK]
# Without MODEL the element uses its embedded default English model (and scorer).
# SINK defaults to autovideosink; tests use "fakesink sync=false".
set -euo pipefail
input=$1; sink=${2:-autovideosink}
gst-launch-1.0 filesrc location="$input" ! decodebin name=d \
    d. ! queue ! videoconvert ! textoverlay name=o valignment=bottom ! videoconvert ! $sink \
    d. ! queue ! audioconvert ! deepspeech ${MODEL:+model="$MODEL"} ! o.text_sink
