#!/usr/bin/env bash
# Transcribe any audio file GStreamer can play; prints the `deepspeech` bus messages.
#   examples/transcribe-file.sh MODEL.safetensors AUDIO_FILE
set -euo pipefail
model=$1; audio=$2
exec gst-launch-1.0 -m filesrc location="$audio" ! decodebin ! audioconvert \
    ! deepspeech model="$model" ! fakesink 2>&1 | grep --line-buffered 'deepspeech,'
