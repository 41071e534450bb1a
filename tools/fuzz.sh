#!/usr/bin/env bash
# The long fuzzing run of issue 24: every parser of outside input (WAV, compressed audio, models in
# every format, scorers, ARPA, alphabets, dataset CSVs) on mutated real files, an hour per target by
# default. CI runs the same test for 10 s per target. A panicking input is saved in
# target/fuzz-crashes/ and fails the run; turn it into a regression test.
#
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECS=${1:-3600} FUZZ_SEED=${2:-$(date +%s)}
echo "fuzzing each target for $FUZZ_SECS s, seed $FUZZ_SEED"
cargo test --release -p deepspeech-integration-tests --test fuzz -- --nocapture
