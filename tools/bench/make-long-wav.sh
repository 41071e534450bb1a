#!/bin/sh
# Build a 10-minute (exactly 600 s = 9,600,000 samples) 16 kHz mono 16-bit PCM WAV
# for MFCC benchmarks, by concatenating real recordings from ../shared/data:
# the 32 LJSpeech sentences (22.05 kHz, resampled) and LDC93S1 (16 kHz), in that
# order, repeated until 600 s are reached, then trimmed.  Deterministic: sox runs
# without dither (-D) and with its default high-quality `rate` resampler (which
# clips 1 sample of one LJSpeech file; sox's warning is silenced by -V1).
#
# Usage: tools/bench/make-long-wav.sh OUT.wav
# Needs: sox (apt-get install sox).  Run from anywhere; data is found relative to
# this script (repository root/../shared/data), or set SHARED_DATA.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT.wav" >&2
    exit 2
fi
out=$1

here=$(cd "$(dirname "$0")" && pwd)
data=${SHARED_DATA:-$here/../../../shared/data}
command -v sox >/dev/null 2>&1 || { echo "sox not found (apt-get install sox)" >&2; exit 1; }
[ -d "$data/ljspeech/wavs" ] || { echo "no $data/ljspeech/wavs (set SHARED_DATA)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. one 16 kHz mono 16-bit pass over the sources
i=0
for f in "$data"/ljspeech/wavs/*.wav "$data"/ldc93s1/LDC93S1.wav; do
    i=$((i + 1))
    sox -D -V1 "$f" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/$(printf '%03d' "$i").wav"
done
sox -V1 "$tmp"/[0-9]*.wav "$tmp/pass.wav"

# 2. repeat the pass enough times, trim to exactly 600 s
total=9600000
pass=$(soxi -s "$tmp/pass.wav")
reps=$(( (total + pass - 1) / pass ))
set --
r=0
while [ "$r" -lt "$reps" ]; do
    set -- "$@" "$tmp/pass.wav"
    r=$((r + 1))
done
sox -V1 "$@" -b 16 -e signed-integer "$out" trim 0 "${total}s"

n=$(soxi -s "$out")
if [ "$n" -ne "$total" ]; then
    echo "error: $out has $n samples, expected $total" >&2
    exit 1
fi
echo "$out: $n samples, $(soxi -r "$out") Hz, $(soxi -c "$out") channel(s), $(soxi -b "$out") bit" >&2
