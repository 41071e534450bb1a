#!/usr/bin/env bash
# MFCC throughput on one thread, deepspeech-rs vs python_speech_features vs TensorFlow's ops,
# in one run on the same audio. Prints a Markdown table for BENCHMARKS.md.
#
#   tools/bench/mfcc.sh            # LDC93S1 and a 10-minute file built by make-long-wav.sh
#
# The Python side runs in a venv (default ~/.cache/deepspeech-rs/venv-ref, created on first use
# with tensorflow-cpu, numpy and python_speech_features from PyPI; set VENV to reuse another).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv=${VENV:-$HOME/.cache/deepspeech-rs/venv-ref}
long=${LONG_WAV:-${TMPDIR:-/tmp}/deepspeech-rs-long600.wav}

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q tensorflow-cpu numpy python_speech_features
fi
[ -f "$long" ] || tools/bench/make-long-wav.sh "$long"

files=("$root/../shared/data/ldc93s1/LDC93S1.wav" "$long")
results=$(mktemp)
trap 'rm -f "$results"' EXIT

taskset -c 0 cargo bench -q -p deepspeech-core --bench mfcc -- "${files[@]}" 2>/dev/null | grep -P '\t' >>"$results"
taskset -c 0 "$venv/bin/python" tools/bench/mfcc_python.py "${files[@]}" >>"$results"

echo "| file | audio s | deepspeech-rs (audio s / CPU s) | python_speech_features | TensorFlow ops | vs psf | vs TF |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in "${files[@]}"; do
    awk -F'\t' -v f="$f" '
        $2 == f { rate[$1] = $5; secs = $3 }
        END {
            n = f; sub(".*/", "", n)
            printf "| %s | %.1f | %.0f | %.0f | %.0f | %.1fx | %.1fx |\n", n, secs,
                rate["deepspeech-rs"], rate["python_speech_features"], rate["tensorflow"],
                rate["deepspeech-rs"] / rate["python_speech_features"], rate["deepspeech-rs"] / rate["tensorflow"]
        }' "$results"
done
