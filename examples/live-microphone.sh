#!/usr/bin/env bash
# The design's own pipeline: live speech from the default PulseAudio source, results as bus
# messages. No audioresample: the element mixes down and resamples whatever the source gives.
#   examples/live-microphone.sh MODEL.safetensors
set -euo pipefail
model=$1
exec gst-launch-1.0 -m pulsesrc ! audioconvert ! deepspeech model="$model" ! fakesink
