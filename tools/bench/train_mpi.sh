#!/usr/bin/env bash
# Data-parallel training throughput: one process with 1 and with 2 threads against 2 MPI ranks of
# 1 thread each, all training on the same global batches (GLOBAL samples: the ranks take
# GLOBAL/2 each) of FSDD recordings with n_hidden HIDDEN, no dropout noise in the comparison.
# Each configuration runs twice, for FEW and for FEW + STEPS optimiser steps, from a warm feature
# cache; the difference of wall times over STEPS is the time per step, without start-up
# (process and MPI start, reading the CSV, features).
#
#   tools/bench/train_mpi.sh            # GLOBAL=16 HIDDEN=512 STEPS=20 FEW=2 ROWS=256
#
# Needs ds-train built with the `distributed` feature and Open MPI's mpirun; as root, set
# OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
global=${GLOBAL:-16}
hidden=${HIDDEN:-512}
steps=${STEPS:-20}
few=${FEW:-2}
rows=${ROWS:-256}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/deepspeech-rs-train-mpi-bench}
mkdir -p "$work"

cargo build -q --release -p deepspeech-core --features distributed --bin ds-train
binary=$(realpath "${CARGO_TARGET_DIR:-target}/release/ds-train")

# The first ROWS rows of FSDD's training CSV, with absolute paths.
fsdd=$(realpath ../shared/data/fsdd)
csv=$work/fsdd-$rows.csv
{
    echo "wav_filename,wav_filesize,transcript"
    sed -n "2,$((rows + 1))s|^|$fsdd/|p" "$fsdd/train.csv"
} >"$csv"

common=(--train_files "$csv" --n_hidden "$hidden" --dropout_rate 0.05 --epochs 1000
    --learning_rate 0.0001 --feature_cache "$work/features" --quiet)

# seconds <command...>: wall seconds of one run.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

# per_step <label> <launcher...>: prints the time per step and the samples per second.
per_step() {
    local label=$1
    shift
    local short long
    short=$(seconds "$@" --max_steps "$few")
    long=$(seconds "$@" --max_steps $((few + steps)))
    local ms
    ms=$(echo "($long - $short) * 1000 / $steps" | bc -l)
    printf '| %s | %.0f | %.1f |\n' "$label" "$ms" "$(echo "$global * 1000 / $ms" | bc -l)"
}

# Warm the feature cache.
RAYON_NUM_THREADS=2 "$binary" "${common[@]}" --train_batch_size "$global" --max_steps 0 >/dev/null 2>&1

echo "| configuration (global batch $global, n_hidden $hidden) | ms per step | samples / s |"
echo "| --- | ---: | ---: |"
per_step "1 process, 1 thread" env RAYON_NUM_THREADS=1 "$binary" "${common[@]}" \
    --train_batch_size "$global"
per_step "1 process, 2 threads" env RAYON_NUM_THREADS=2 "$binary" "${common[@]}" \
    --train_batch_size "$global"
per_step "1 MPI rank, 1 thread" env RAYON_NUM_THREADS=1 mpirun -np 1 --bind-to none \
    -x RAYON_NUM_THREADS "$binary" "${common[@]}" --train_batch_size "$global"
per_step "2 MPI ranks, 1 thread each" env RAYON_NUM_THREADS=1 mpirun -np 2 --bind-to core \
    -x RAYON_NUM_THREADS "$binary" "${common[@]}" --train_batch_size $((global / 2))
