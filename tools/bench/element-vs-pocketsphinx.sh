#!/usr/bin/env bash
# CPU time per audio second and peak RSS of the deepspeech element against Debian's pocketsphinx
# element, each transcribing the same 10-minute 16 kHz real-speech WAV in its own gst-launch-1.0
# process under /usr/bin/time -v:
#   gst-launch-1.0 -q filesrc location=F ! decodebin ! audioconvert ! ELEMENT ! fakesink
# CPU s = user + sys of the whole process (every thread, plugin loading and model loading
# included); peak RSS = "Maximum resident set size". Prints a Markdown table for BENCHMARKS.md.
#
# Usage:
#   tools/bench/element-vs-pocketsphinx.sh [MODEL.safetensors|embedded [SCORER]]
#     no MODEL: pocketsphinx only; with MODEL: both, and the ratio deepspeech / pocketsphinx;
#     "embedded": the element's built-in default model and scorer.
# Environment:
#   LONG_WAV    the audio (default ${TMPDIR:-/tmp}/deepspeech-rs-long600.wav, made by
#               tools/bench/make-long-wav.sh when missing; must be 16 kHz mono for pocketsphinx)
#   PLUGIN_DIR  folder holding libgstdeepspeech.so (default: a temporary copy of
#               ${CARGO_TARGET_DIR:-target}/release/libgstdeepspeech.so; build it with cargo build --release)
#   NICE        prefix for the measured commands (default "nice -n 10"; the machine is shared)
#   ELEMENT_PROPS  extra deepspeech properties, e.g. "beam-width=100"
# Needs: gstreamer1.0-tools, gstreamer1.0-pocketsphinx, pocketsphinx-en-us, sox (for the WAV),
#   /usr/bin/time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
model=${1:-}
scorer=${2:-}
long=${LONG_WAV:-${TMPDIR:-/tmp}/deepspeech-rs-long600.wav}
NICE=${NICE-nice -n 10}

[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 1; }
gst-inspect-1.0 pocketsphinx >/dev/null 2>&1 ||
    { echo "no pocketsphinx element (apt-get install gstreamer1.0-pocketsphinx pocketsphinx-en-us)" >&2; exit 1; }
[ -f "$long" ] || tools/bench/make-long-wav.sh "$long"
audio_s=$(printf %.1f "$(soxi -D "$long")")
rate=$(soxi -r "$long")
[ "$rate" = 16000 ] || { echo "$long is $rate Hz; pocketsphinx needs 16000 (no resampler in the pipeline)" >&2; exit 1; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -n "$model" ]; then
    [ "$model" = embedded ] || [ -f "$model" ] || { echo "no model file $model" >&2; exit 1; }
    plugin_dir=${PLUGIN_DIR:-}
    if [ -z "$plugin_dir" ]; then
        so=${CARGO_TARGET_DIR:-$root/target}/release/libgstdeepspeech.so
        [ -f "$so" ] || { echo "no $so (cargo build --release, or set PLUGIN_DIR)" >&2; exit 1; }
        plugin_dir=$tmp/plugin
        mkdir -p "$plugin_dir"
        cp "$so" "$plugin_dir/"
    fi
fi

# run NAME ELEMENT-DESCRIPTION [ENV...]: one measured gst-launch-1.0; "NAME cpu_s rss_mb wall_s" to results
run() {
    local name=$1 element=$2
    shift 2
    # shellcheck disable=SC2086
    env "$@" /usr/bin/time -v -o "$tmp/$name.time" $NICE \
        gst-launch-1.0 -q filesrc location="$long" ! decodebin ! audioconvert ! $element ! fakesink \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || {
        echo "$name failed; its stderr:" >&2
        tail -20 "$tmp/$name.err" >&2
        exit 1
    }
    awk -v name="$name" -F': ' '
        /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { r = $2 }
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        END { printf "%s %.2f %.1f %.2f\n", name, u + s, r / 1024, w }' "$tmp/$name.time" >>"$tmp/results"
}

run pocketsphinx pocketsphinx
if [ -n "$model" ]; then
    props=
    [ "$model" = embedded ] || props="model=$model"
    [ -n "$scorer" ] && props="$props scorer=$scorer"
    [ -n "${ELEMENT_PROPS:-}" ] && props="$props $ELEMENT_PROPS"
    run deepspeech "deepspeech $props" GST_PLUGIN_PATH="$plugin_dir"
fi

echo "Audio: $long, $audio_s s at $rate Hz; $(date -u +%Y-%m-%d), load average before: $load_before"
echo
echo "| element | CPU s (user+sys) | CPU s per audio s | wall s | peak RSS MB | vs pocketsphinx (CPU) | vs pocketsphinx (RSS) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -v audio="$audio_s" '
    { name[NR] = $1; cpu[NR] = $2; rss[NR] = $3; wall[NR] = $4; if ($1 == "pocketsphinx") { pc = $2; pr = $3 } }
    END {
        for (i = 1; i <= NR; i++)
            printf "| %s | %.1f | %.4f | %.1f | %.0f | %.2fx | %.2fx |\n", name[i], cpu[i], cpu[i] / audio,
                wall[i], rss[i], cpu[i] / pc, rss[i] / pr
    }' "$tmp/results"
