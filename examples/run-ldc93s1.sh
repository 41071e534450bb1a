#!/usr/bin/env bash
# The seed's smoke test (DeepSpeech's bin/run-ldc93s1.sh): train a small model on the single
# LDC93S1 sentence until it overfits, then evaluate it on the same sentence and export it.
#
#   examples/run-ldc93s1.sh [checkpoint_dir]      (default: /tmp/ldc93s1)
#
# Takes about 10 s on 2 cores. Re-running resumes from the checkpoint (and stops at once when
# the 200 epochs are done): delete the folder to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/ldc93s1}
csv=../shared/data/ldc93s1/ldc93s1.csv

cargo run --release --bin ds-train -- \
    --train_files "$csv" --test_files "$csv" \
    --alphabet_config_path ../shared/data/alphabet.txt \
    --train_batch_size 1 --test_batch_size 1 \
    --n_hidden 100 --epochs 200 --learning_rate 0.001 --dropout_rate 0 \
    --checkpoint_dir "$dir/checkpoints" --export_dir "$dir/export" \
    --report_count 1 "${@:2}"
