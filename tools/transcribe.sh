#!/usr/bin/env bash
# The main job: build the GStreamer plugin and transcribe a real recording through
#   filesrc ! decodebin ! audioconvert ! deepspeech ! fakesink
# with the embedded default English model and scorer; prints the element's final `deepspeech`
# bus messages (text, timings, confidence, words).
#   tools/transcribe.sh [AUDIO_FILE]     (default: a real LJ Speech recording from ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
audio=${1:-../shared/data/ljspeech/wavs/LJ001-0002.wav}
cargo build --release -p gst-plugin-deepspeech
export GST_PLUGIN_PATH="$PWD/target/release"
examples/transcribe-file.sh "$audio" | grep --line-buffered 'final=(boolean)true'
