#!/usr/bin/env bash
# Installs everything deepspeech-rs needs on a fresh Debian 12 machine (as root, or with sudo).
# The Rust toolchain (>= 1.92) must already be installed (rustup); Debian's own rustc is too old.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

PACKAGES=(
    # build
    pkg-config build-essential meson ninja-build python3
    # the font ds-train draws its loss plot with
    fonts-dejavu-core
    # GStreamer headers for gstreamer-rs, and the runtime the tests drive
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    # textoverlay (the pango plugin), which the burn-in subtitles example draws with
    gstreamer1.0-x
    # the live-microphone example's test: a PulseAudio daemon with a null sink
    pulseaudio pulseaudio-utils gstreamer1.0-pulseaudio
    # ds-train's `distributed` feature (rsmpi over Open MPI; bindgen needs libclang) and its test
    libopenmpi-dev openmpi-bin libclang-dev
    # ds-import's tests: speech from espeak-ng, encoded by lamemp3enc/flacenc (plugins-good) and
    # vorbisenc (plugins-base)
    espeak-ng
    # DeepSpeech-model tests: 16 kHz conversion exactly as DeepSpeech's client does it
    sox
    # the Python client example (Debian's /usr/bin/python3 with PyGObject)
    python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0
    # tools/cuda/setup.sh installs CUDA's compiler from PyPI wheels with pip
    python3-pip
    # the C API's tests: DeepSpeech's own C++ client reads audio with libsox; valgrind checks the
    # library for memory errors and leaks
    libsox-dev valgrind
)

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup-debian.sh: cargo not found: install Rust >= 1.92 with rustup first" >&2
    exit 1
fi
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rustc_minor" -lt 92 ]; then
    echo "setup-debian.sh: $(rustc --version) is too old: deepspeech-rs needs Rust >= 1.92" >&2
    exit 1
fi
# tools/test.sh checks formatting and lints, and a minimal rustup profile lacks both components;
# the main job needs neither, so this only warns.
for component in fmt clippy; do
    if ! cargo "$component" --version >/dev/null 2>&1; then
        echo "setup-debian.sh: warning: cargo $component not found; tools/test.sh needs it:" \
            "rustup component add rustfmt clippy" >&2
    fi
done
# nvcc and the CUDA headers for `--features cuda` (PyPI wheels, into /opt/deepspeech-cuda): no GPU
# is needed to build, and CI checks that the feature compiles.
SUDO="$SUDO" "$(dirname "$0")/cuda/setup.sh"
echo "setup-debian.sh: system packages installed; $(cargo --version)"
