#!/usr/bin/env bash
# Issue 22's benchmark: the same transcription loop through the Rust API
# (capi/examples/rust_api_timing.rs), the C API (tools/bench/api_timing.c on libdeepspeech.so)
# and the Python module (tools/bench/api_timing.py on deepspeech_rs, Python 3.12): the 32
# LJSpeech sentences and LDC93S1 at 16 kHz (sox), ROUNDS times over, one core (taskset), process
# CPU seconds of the loop (model load excluded), each variant run RUNS times interleaved; prints
# the medians, the ratios to the Rust API, and whether all three gave the same transcripts.
#
# Usage: tools/bench/api-overhead.sh [MODEL [SCORER]]   (default: the shipped models/en)
# Environment: ROUNDS (default 3), RUNS (default 5), CORE (default 0), PY312 (a Python 3.12 with
#   numpy; default target/py312-venv, made with pyenv's 3.12 when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
model=${1:-models/en/model.safetensors}
scorer=${2:-models/en/en.scorer}
rounds=${ROUNDS:-3} runs=${RUNS:-5} core=${CORE:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cargo build -q --release -p deepspeech-capi -p deepspeech-python --example rust_api_timing
cargo build -q --release -p deepspeech-capi -p deepspeech-python
cc -O2 -o "$tmp/api_timing" tools/bench/api_timing.c -Icapi/include -Ltarget/release -ldeepspeech
mkdir "$tmp/py"
cp target/release/libdeepspeech_rs.so "$tmp/py/deepspeech_rs.abi3.so"
py=${PY312:-target/py312-venv/bin/python}
if [ ! -x "$py" ]; then
    /root/.pyenv/versions/3.12*/bin/python3.12 -m venv target/py312-venv
    target/py312-venv/bin/pip install -q numpy
fi
data=../shared/data
mkdir "$tmp/wavs"
for f in "$data"/ljspeech/wavs/*.wav "$data"/ldc93s1/LDC93S1.wav; do
    sox -D -V1 "$f" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/wavs/$(basename "$f")"
done
wavs=("$tmp"/wavs/*.wav)
audio_s=$(soxi -D "${wavs[@]}" | awk '{s += $1} END {printf "%.1f", s}')

run() { # variant -> prints cpu seconds, keeps transcripts
    local out="$tmp/$1.out"
    case $1 in
        rust) taskset -c "$core" target/release/examples/rust_api_timing "$model" "$scorer" "$rounds" "${wavs[@]}" ;;
        c) LD_LIBRARY_PATH=target/release taskset -c "$core" "$tmp/api_timing" "$model" "$scorer" "$rounds" "${wavs[@]}" ;;
        python) PYTHONPATH="$tmp/py" taskset -c "$core" "$py" tools/bench/api_timing.py "$model" "$scorer" "$rounds" "${wavs[@]}" ;;
    esac > "$out" 2>/dev/null
    awk '/^cpu_seconds/ {print $2}' "$out"
}
declare -A times
for _ in $(seq "$runs"); do
    for v in rust c python; do times[$v]+="$(run $v) "; done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
rust=$(echo "${times[rust]}" | median)
echo "model $model, scorer $scorer; ${#wavs[@]} files, $audio_s s of audio, $rounds rounds, $runs runs, core $core"
printf '| API | CPU s (median of %s) | runs | ratio to Rust |\n|---|---|---|---|\n' "$runs"
for v in rust c python; do
    m=$(echo "${times[$v]}" | median)
    printf '| %s | %s | %s| %.4f |\n' "$v" "$m" "${times[$v]}" "$(echo "$m / $rust" | bc -l)"
done
for v in c python; do
    if diff -q <(tail -n +2 "$tmp/rust.out") <(tail -n +2 "$tmp/$v.out") >/dev/null; then
        echo "$v: same transcripts as the Rust API"
    else
        echo "$v: TRANSCRIPTS DIFFER from the Rust API"
    fi
done
