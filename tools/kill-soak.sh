#!/usr/bin/env bash
# Issue 24's kill runs: ds-train and ds-import killed with SIGKILL at the 7 and 15 fixed moments CI
# uses plus pseudo-random ones; every checkpoint must load with its step never going back, every
# file under a final name must be whole, and the reruns must reach the uninterrupted results
# (core/tests/train_resume.rs, importers/tests/kill.rs). An import that finishes before its kill
# is checked whole and started again, so not every kill of ds-import lands: 130 extra give about
# 100 that do. Each test prints how many landed.
#
# Usage: tools/kill-soak.sh [TRAIN_KILLS] [IMPORT_KILLS]   (defaults 100 and 130)
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-100} cargo test --release -p deepspeech-core --test train_resume sigkill -- --nocapture
KILLS=${2:-130} cargo test --release -p deepspeech-importers --test kill -- --nocapture
