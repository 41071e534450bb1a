#!/usr/bin/env bash
# Builds everything the GPU check needs with `--features cuda` (no GPU needed here) and packs
# it into .gpu/ (git-ignored), ready to be carried to a machine with an NVIDIA GPU but no Rust
# toolchain, where `tools/cuda/check.sh` runs it. Needs tools/cuda/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/cuda/env.sh
source tools/cuda/env.sh
SHARED="${DS_SHARED_DATA:-../shared/data}"
BUNDLE=.gpu
# The embedded model stays out: the tests load models/en/model.safetensors by path, and the
# binaries stay small enough to carry.
FLAGS=(--release -p deepspeech-core --no-default-features --features cuda)
# A target folder of its own, so that the CPU build in target/ is not rebuilt afterwards.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/cuda}"

cargo build "${FLAGS[@]}" --bin deepspeech --example gpu_bench
cargo test "${FLAGS[@]}" --test cuda --no-run
test_bin=$(cargo test "${FLAGS[@]}" --test cuda --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cuda" and m.get("executable"):
        print(m["executable"])')
[ -n "$test_bin" ] || { echo "pack.sh: the cuda test binary was not built" >&2; exit 1; }

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/bin" "$BUNDLE/data/ldc93s1" "$BUNDLE/data/ljspeech/wavs"
cp "$CARGO_TARGET_DIR"/release/deepspeech "$CARGO_TARGET_DIR"/release/examples/gpu_bench "$BUNDLE/bin/"
cp "$test_bin" "$BUNDLE/bin/cuda-tests"
strip "$BUNDLE"/bin/*
cp "$SHARED/alphabet.txt" "$BUNDLE/data/"
cp "$SHARED"/ldc93s1/{LDC93S1.wav,ldc93s1.csv} "$BUNDLE/data/ldc93s1/"
for f in $(ls "$SHARED/ljspeech/wavs" | sort | head -n 3); do
    cp "$SHARED/ljspeech/wavs/$f" "$BUNDLE/data/ljspeech/wavs/"
done
# Compressed: the three binaries carry all of candle's PTX (about 50 MB each, 20 MB together
# packed), and a device call carries 64 MiB at most, the repository included.
XZ_OPT="-6 -T0" tar -C "$BUNDLE" -cJf "$BUNDLE/bin.tar.xz" bin
rm -rf "$BUNDLE/bin"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
du -sh "$BUNDLE"
echo "pack.sh: carry .gpu and run: bash tools/cuda/check.sh"
