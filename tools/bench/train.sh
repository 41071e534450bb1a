#!/usr/bin/env bash
# Training throughput (issue 3), deepspeech-rs vs TensorFlow, in one run on the same machine:
# n_hidden 512, batch 16 × 300 frames (6 s utterances), 2 threads, dropout 0.05, CTC, Adam.
# Prints a Markdown table for BENCHMARKS.md (the Rust bench's own tables, with the per-phase
# breakdown, go to stderr).
#
#   tools/bench/train.sh [STEPS N_HIDDEN BATCH FRAMES]    # default 7 512 16 300
#
# The FLOP floor is 3 × the model's forward matmul FLOPs / the best matmul rate measured on the
# dominant shape (candle's and TensorFlow's; each side measures its own).
# The Python side runs in a venv (default ~/.cache/deepspeech-rs/venv-ref, created on first use
# with tensorflow-cpu and numpy from PyPI; set VENV to reuse another).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${VENV:-$HOME/.cache/deepspeech-rs/venv-ref}

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q tensorflow-cpu numpy
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT

rust=$(cargo bench -q -p deepspeech-core --bench train -- "$@" 2>/dev/null)
echo "$rust" >&2
grep -P '\t' <<<"$rust" >>"$results"
"$venv/bin/python" tools/bench/train_tf.py "$@" >>"$results"

awk -F'\t' '
    { ms[$1] = $2; rate[$1] = $3; flops = $4; if ($5 > best) best = $5; params[$1] = $6 }
    END {
        floor = 3 * flops / best * 1e3
        tf = ms["tensorflow"]
        printf "| implementation | parameters | ms per batch | audio s / wall s | vs TensorFlow | vs FLOP floor |\n"
        printf "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        printf "| deepspeech-rs (candle) | %d | %.0f | %.1f | %.2fx faster | %.1fx |\n", params["deepspeech-rs"],
            ms["deepspeech-rs"], rate["deepspeech-rs"], tf / ms["deepspeech-rs"], ms["deepspeech-rs"] / floor
        printf "| TensorFlow (Keras) | %d | %.0f | %.1f | 1.00x | %.1fx |\n", params["tensorflow"],
            tf, rate["tensorflow"], tf / floor
        printf "| FLOP floor (%.1f GFLOP at %.0f GFLOP/s) | | %.0f | %.1f | | 1.0x |\n", 3 * flops, best,
            floor, rate["deepspeech-rs"] * ms["deepspeech-rs"] / floor
    }' "$results"
