#!/usr/bin/env bash
# Subtitles for the speech in a media file, as SRT or WebVTT.
#   examples/subtitles.sh MODEL.safetensors INPUT OUTPUT.srt|OUTPUT.vtt
set -euo pipefail
model=$1; input=$2; output=$3
case "$output" in
    *.vtt) encoder=webvttenc ;;
    *) encoder=srtenc ;;
esac
gst-launch-1.0 -q filesrc location="$input" ! decodebin ! audioconvert \
    ! deepspeech model="$model" ! "$encoder" ! filesink location="$output"
cat "$output"
