#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, clippy, the meson build and install of the
# plugin (checked with gst-inspect-1.0) and of the command-line tools, every cargo test in release mode, and the distributed-training
# test (deepspeech-core rebuilt with the `distributed` feature, under mpirun), and a compile check
# of the `cuda` feature (no GPU here: tools/cuda/check.sh runs its tests on one).
# One cargo target directory serves cargo and meson, so everything is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --release --workspace --all-targets -- -D warnings

step "meson: build, test and install the plugin"
rm -rf build-ci
meson setup build-ci -Dcargo-target-dir="$root/target" --prefix="$root/build-ci/prefix" >/dev/null
meson compile -C build-ci
meson test -C build-ci --print-errorlogs
meson install -C build-ci --quiet
plugin_dir=$(dirname "$(find "$root/build-ci/prefix" -name libgstdeepspeech.so | head -n1)")
for element in deepspeech deepspeechoverlay; do
    GST_PLUGIN_PATH="$plugin_dir" GST_REGISTRY="$root/build-ci/registry.bin" \
        gst-inspect-1.0 "$element" | grep -E '^\s+(Filename|Klass)'
done
# The C API: a program compiled with pkg-config against the installed header and library runs.
printf '#include <deepspeech.h>\n#include <stdio.h>\nint main(void) { char* v = DS_Version(); puts(v); DS_FreeString(v); return 0; }\n' \
    > build-ci/version.c
pc_dir=$(dirname "$(find "$root/build-ci/prefix" -name deepspeech.pc | head -n1)")
# shellcheck disable=SC2046 # pkg-config prints several flags
cc -o build-ci/version build-ci/version.c $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs deepspeech)
LD_LIBRARY_PATH="$(PKG_CONFIG_PATH="$pc_dir" pkg-config --variable=libdir deepspeech)" build-ci/version
# The command-line tools are installed too, and run from the prefix.
for tool in deepspeech ds-train ds-lm ds-tune ds-convert ds-features ds-import; do
    "$root/build-ci/prefix/bin/$tool" --version
done

step "cargo test --release --workspace"
cargo test --release --workspace

step "cargo test: distributed training (mpirun -np 2)"
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    cargo test --release -p deepspeech-core --features distributed --test train_distributed

step "cargo clippy --features cuda: the GPU build compiles (nvcc from tools/cuda/setup.sh)"
# A compile check: candle's statically linked MoE/GGUF kernels (twenty minutes of nvcc here) are
# skipped, since nothing is linked; tools/cuda/pack.sh builds and links everything.
(
    # shellcheck source=tools/cuda/env.sh
    source tools/cuda/env.sh
    CANDLE_KERNELS_CHECK_ONLY=1 cargo clippy --release -p deepspeech-core --features cuda \
        --all-targets -- -D warnings
)
