#!/usr/bin/env bash
# Subtitles for the speech in a media file, as SRT or WebVTT.
#   [MODEL=model.safetensors] examples/subtitles.sh INPUT OUTPUT.srt|OUTPUT.vtt
# Without MODEL the element uses its embedded default English model (and scorer).
set -euo pipefail
input=$1; output=$2
case "$output" in
    *.vtt) encoder=webvttenc ;;
    *) encoder=srtenc ;;
esac
gst-launch-1.0 -q filesrc location="$input" ! decodebin ! audioconvert \
    ! deepspeech ${MODEL:+model="$MODEL"} ! "$encoder" ! filesink location="$output"
cat "$output"
