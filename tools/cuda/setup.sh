#!/usr/bin/env bash
# Installs the CUDA 13 compiler (nvcc, ptxas, cicc), its headers and CCCL, and the CUDA runtime
# from NVIDIA's PyPI wheels into a prefix outside the repository (default /opt/deepspeech-cuda),
# so that `cargo build --release --features cuda` works on a machine with no GPU and no system
# CUDA. Then source tools/cuda/env.sh (it prints the line) before building.
#
# CUDA 13, not 12: the H200 machines run driver 580 (CUDA 13), whose PyTorch wheels carry the
# CUDA 13 libraries (libcublas.so.13, libnvrtc.so.13, ...), and cudarc opens the libraries of
# the major version it was built against.
set -euo pipefail

PREFIX="${DEEPSPEECH_CUDA:-/opt/deepspeech-cuda}"
CUDA_VERSION="13.0.*"
WHEELS=(nvidia-cuda-nvcc nvidia-nvvm nvidia-cuda-crt nvidia-cuda-runtime nvidia-cuda-cccl)
SUDO="${SUDO:-}"
if [ -z "$SUDO" ] && [ "$(id -u)" -ne 0 ] && ! [ -w "$(dirname "$PREFIX")" ]; then
    SUDO="sudo"
fi

if [ -x "$PREFIX/nvidia/cu13/bin/nvcc" ]; then
    echo "setup.sh: CUDA already in $PREFIX"
else
    $SUDO rm -rf "$PREFIX.partial"
    specs=()
    for w in "${WHEELS[@]}"; do specs+=("$w==$CUDA_VERSION"); done
    # One pip call: with --target, a second call would replace the shared `nvidia` folder.
    $SUDO python3 -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$PREFIX.partial" "${specs[@]}"
    $SUDO rm -rf "$PREFIX"
    $SUDO mv "$PREFIX.partial" "$PREFIX"
fi
"$PREFIX/nvidia/cu13/bin/nvcc" --version | tail -n 1
echo "setup.sh: CUDA 13 compiler in $PREFIX; before building: source tools/cuda/env.sh"
