#!/usr/bin/env bash
# A video playing with its sound and live subtitles burned in, through `deepspeechoverlay` (which
# holds enough audio and video in its queues for each subtitle to show while its words are spoken,
# with every frame on time).
#   [MODEL=model.safetensors] examples/burn-in.sh INPUT_VIDEO [VIDEO_SINK] [AUDIO_SINK]
# Without MODEL the element uses its embedded default English model (and scorer). The sinks
# default to autovideosink and autoaudiosink; tests use "fakesink sync=false".
set -euo pipefail
input=$1; video_sink=${2:-autovideosink}; audio_sink=${3:-autoaudiosink}
gst-launch-1.0 filesrc location="$input" ! decodebin name=d \
    deepspeechoverlay name=s ${MODEL:+model="$MODEL"} \
    d. ! queue ! videoconvert ! s.sink_video  s.src_video ! videoconvert ! $video_sink \
    d. ! queue ! audioconvert ! s.sink_audio  s.src_audio ! audioconvert ! audioresample ! $audio_sink
