#!/usr/bin/env bash
# Transcribe any audio file GStreamer can play; prints the `deepspeech` bus messages.
#   [MODEL=model.safetensors] examples/transcribe-file.sh AUDIO_FILE
# Without MODEL the element uses its embedded default English model (and scorer).
set -euo pipefail
audio=$1
exec gst-launch-1.0 -m filesrc location="$audio" ! decodebin ! audioconvert \
    ! deepspeech ${MODEL:+model="$MODEL"} ! fakesink 2>&1 | grep --line-buffered 'deepspeech,'
