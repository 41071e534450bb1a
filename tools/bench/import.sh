#!/usr/bin/env bash
# Importer throughput: builds a synthetic Common Voice folder of N espeak-ng MP3 clips
# (train.tsv + clips/, the current layout; 48 kHz like Common Voice's own clips, RATE=22050 for
# espeak's native rate), times `ds-import cv` on it from scratch and once
# more resumed (every WAV reused), and prints audio hours imported per wall-clock hour.
#
#   tools/bench/import.sh [N]        # N clips, default 200; JOBS=2 sets --jobs
#
# The corpus is kept in ${BENCH_DIR:-/tmp/deepspeech-rs-import-bench}/source-N and reused by
# later runs; the import target is recreated every time.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200}
jobs=${JOBS:-$(nproc)}
rate=${RATE:-48000}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/deepspeech-rs-import-bench}
source_dir=$work/source-$n-$rate
target=$work/target-$n

cargo build -q --release -p deepspeech-importers
binary=${CARGO_TARGET_DIR:-target}/release/ds-import

words=(the quick brown fox jumps over a lazy dog while seven bright stars shine above
    quiet green hills and rivers run toward distant silver seas under morning light)
if [ ! -f "$source_dir/train.tsv" ]; then
    mkdir -p "$source_dir/clips"
    printf 'client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccent\n' >"$source_dir/train.tsv.partial"
    for i in $(seq 1 "$n"); do
        # 6 to 17 words, a different selection for every clip.
        len=$((6 + i % 12))
        sentence=""
        for j in $(seq 1 "$len"); do
            sentence+="${words[$(((i * 7 + j * 13) % ${#words[@]}))]} "
        done
        sentence=${sentence% }
        name=$(printf 'clip_%06d' "$i")
        espeak-ng -s 170 -w "$source_dir/clips/$name.wav" "$sentence"
        gst-launch-1.0 -q filesrc location="$source_dir/clips/$name.wav" ! wavparse ! audioconvert ! \
            audioresample ! "audio/x-raw,rate=$rate" ! lamemp3enc ! filesink location="$source_dir/clips/$name.mp3"
        rm "$source_dir/clips/$name.wav"
        printf 'c%d\t%s.mp3\t%s\t2\t0\t\t\t\n' "$i" "$name" "$sentence" >>"$source_dir/train.tsv.partial"
    done
    mv "$source_dir/train.tsv.partial" "$source_dir/train.tsv"
fi

audio_hours() { # sum of the CSV's WAV data sizes: 16-bit mono 16 kHz, 44-byte headers
    awk -F, 'NR > 1 { s += ($2 - 44) / 32000 } END { printf "%.6f", s / 3600 }' "$1"
}
run() { # prints wall seconds
    local start end
    start=$(date +%s.%N)
    "$binary" cv --quiet --jobs "$jobs" "$source_dir" "$target"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

rm -rf "$target"
fresh=$(run)
hours=$(audio_hours "$target/train.csv")
rows=$(($(wc -l <"$target/train.csv") - 1))
resumed=$(run)
printf 'clips: %d imported of %d (%d Hz MP3), %.4f h of audio, --jobs %d\n' "$rows" "$n" "$rate" "$hours" "$jobs"
per_hour() { awk -v h="$hours" -v s="$1" 'BEGIN { printf "%.0f", h * 3600 / s }'; }
printf 'fresh import:   %6.2f s wall, %7s audio hours per wall hour\n' "$fresh" "$(per_hour "$fresh")"
printf 'resumed import: %6.2f s wall, %7s audio hours per wall hour (all WAVs reused)\n' "$resumed" "$(per_hour "$resumed")"
