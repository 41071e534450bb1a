#!/usr/bin/env bash
# The design's own pipeline: live speech from the default PulseAudio source, results as bus
# messages. No audioresample: the element mixes down and resamples whatever the source gives.
#   [MODEL=model.safetensors] examples/live-microphone.sh
# Without MODEL the element uses its embedded default English model (and scorer).
set -euo pipefail
exec gst-launch-1.0 -m pulsesrc ! audioconvert ! deepspeech ${MODEL:+model="$MODEL"} ! fakesink
