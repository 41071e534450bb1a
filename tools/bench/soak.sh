#!/usr/bin/env bash
# The element's memory over a 60-minute input (issue 24): one gst-launch-1.0 process transcribes
# 3600 s of real speech (the 10-minute WAV of make-long-wav.sh, six times) as fast as it can,
#   gst-launch-1.0 -q filesrc location=F ! wavparse ! audioconvert ! audioresample ! deepspeech ! fakesink
# while its resident set size (VmRSS) is sampled every second. Processing runs at a steady pace, so
# the first sixtieth of the run is the first minute of audio; the script prints RSS then, its
# minimum and maximum afterwards, and the growth from the end of the first minute to the end.
#
# Usage: tools/bench/soak.sh [MINUTES] (default 60)
# Environment: PLUGIN_DIR (default target/release, built with cargo build --release),
#   ELEMENT_PROPS (extra deepspeech properties, e.g. "model=x.pbmm scorer=x.scorer").
# Needs: sox, gstreamer1.0-tools, gstreamer1.0-plugins-base.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-60}
plugin_dir=${PLUGIN_DIR:-${CARGO_TARGET_DIR:-target}/release}
[ -f "$plugin_dir/libgstdeepspeech.so" ] ||
    { echo "no $plugin_dir/libgstdeepspeech.so (cargo build --release)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
ten=${TMPDIR:-/tmp}/deepspeech-rs-long600.wav
[ -f "$ten" ] || tools/bench/make-long-wav.sh "$ten"
set --
for _ in $(seq $(( (minutes + 9) / 10 ))); do set -- "$@" "$ten"; done
sox -V1 "$@" "$tmp/long.wav" trim 0 $((minutes * 60))
echo "input: $(soxi -D "$tmp/long.wav") s of 16 kHz speech" >&2

# shellcheck disable=SC2086 # ELEMENT_PROPS is a list of properties
GST_PLUGIN_PATH=$plugin_dir gst-launch-1.0 -q filesrc location="$tmp/long.wav" ! wavparse ! \
    audioconvert ! audioresample ! deepspeech ${ELEMENT_PROPS:-} ! fakesink &
pid=$!
start=$(date +%s.%N)
: > "$tmp/rss"
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(echo "$(date +%s.%N) - $start" | bc) $rss" >> "$tmp/rss"
    sleep 1
done
wait "$pid"
awk -v minutes="$minutes" '
    { t[NR] = $1; r[NR] = $2 / 1024 }
    END {
        total = t[NR]; first = total / minutes
        for (i = 1; i <= NR; i++) if (t[i] <= first) at_first = r[i]
        lo = 1e18; hi = 0
        for (i = 1; i <= NR; i++) if (t[i] > first) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
        printf "| %d min of audio in %.0f s wall | RSS after the first minute %.1f MB | afterwards min %.1f MB, max %.1f MB | end %.1f MB | growth after the first minute %+.1f MB | %d samples |\n",
            minutes, total, at_first, lo, hi, r[NR], hi - at_first, NR
    }' "$tmp/rss"
