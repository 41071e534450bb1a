#!/usr/bin/env bash
# Live subtitles on a video that plays with its sound (issue 25): a 60 s Matroska file (LJSpeech
# sentences 1.5 s apart over a black 160x120 25 fps video, raw, as tests/tests/subtitle_playback.rs
# makes it) played to synced fakesinks, (a) through a plain `deepspeech ! textoverlay` player, (b)
# through `deepspeechoverlay`. Prints frames on time and peak RSS for each.
#   tools/bench/subtitle-playback.sh        (after cargo build --release -p gst-plugin-deepspeech)
set -euo pipefail
cd "$(dirname "$0")/../.."
export GST_PLUGIN_PATH=$PWD/target/release
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$dir" <<'PY'
import sys, wave
dir = sys.argv[1]
rate = 22050
out = wave.open(f"{dir}/speech.wav", "wb")
out.setnchannels(1); out.setsampwidth(2); out.setframerate(rate)
silence = lambda s: out.writeframes(b"\0\0" * int(s * rate))
t = 1.0; silence(t)
for i in range(1, 100):
    w = wave.open(f"../shared/data/ljspeech/wavs/LJ001-{i:04d}.wav")
    secs = w.getnframes() / rate
    if t + secs + 1.5 > 60: break
    out.writeframes(w.readframes(w.getnframes())); silence(1.5); t += secs + 1.5
silence(60 - t); out.close()
PY
gst-launch-1.0 -q matroskamux name=m ! filesink location="$dir/talk.mkv" \
    videotestsrc pattern=black num-buffers=1500 ! \
    video/x-raw,width=160,height=120,framerate=25/1,format=I420 ! m. \
    filesrc location="$dir/speech.wav" ! wavparse ! audioconvert ! m.
sinks="fakesink name=vs sync=true signal-handoffs=true"
plain="filesrc location=$dir/talk.mkv ! decodebin name=d \
  d. ! queue ! videoconvert ! textoverlay name=o valignment=bottom ! videoconvert ! $sinks \
  d. ! queue ! audioconvert ! tee name=t ! queue ! fakesink sync=true \
  t. ! queue ! audioconvert ! deepspeech ! o.text_sink"
bin="filesrc location=$dir/talk.mkv ! decodebin name=d deepspeechoverlay name=s \
  d. ! queue ! videoconvert ! s.sink_video s.src_video ! videoconvert ! $sinks \
  d. ! queue ! audioconvert ! s.sink_audio s.src_audio ! fakesink sync=true"
for name in plain bin; do
    echo "== $name"
    /usr/bin/time -f "peak RSS %M KB, CPU %U s user %S s sys" \
        /usr/bin/python3 tools/bench/playback_frames.py "${!name}"
done
