#!/usr/bin/env bash
# Add a subtitle track with the transcript to a video: Matroska out, video copied as is.
#   examples/mux-subtitles.sh MODEL.safetensors INPUT.mkv OUTPUT.mkv
set -euo pipefail
model=$1; input=$2; output=$3
gst-launch-1.0 -q filesrc location="$input" ! matroskademux name=d \
    matroskamux name=m ! filesink location="$output" \
    d.video_0 ! queue ! m. \
    d.audio_0 ! queue ! tee name=t \
        t. ! queue ! m. \
        t. ! queue ! decodebin ! audioconvert ! deepspeech model="$model" ! m.subtitle_0
echo "wrote $output"
