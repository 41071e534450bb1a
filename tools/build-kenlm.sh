#!/usr/bin/env bash
# Builds KenLM's `lmplz` and `build_binary` and its Python module, the reference the language-model
# code is checked against (tools/reference/kenlm_scores.py). GitHub is not reachable on the build
# machines, so the source comes from the `kenlm` source distribution on PyPI, which ships the whole
# C++ tree (CMakeLists.txt, lm/builder, util).
#
#   tools/build-kenlm.sh [PREFIX]        # default /work/kenlm
#
# Result: PREFIX/bin/{lmplz,build_binary,query}, PREFIX/venv (Python with `import kenlm`),
# PREFIX/src (the unpacked source). Runs as root or with sudo (apt-get). Builds with -j2.
set -euo pipefail

PREFIX=${1:-/work/kenlm}
JOBS=${JOBS:-2}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    cmake g++ make python3-venv \
    libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
    zlib1g-dev libbz2-dev liblzma-dev >/dev/null

# The venv first: its pip downloads the sdist. `--no-binary :all:` would also apply to the build
# dependencies pip resolves to read the metadata (it then compiles CMake itself from source, for
# many minutes), so the metadata step runs without build isolation, on the venv's setuptools+wheel.
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    python3 -m venv "$PREFIX/venv"
fi
"$PREFIX/venv/bin/pip" install -q --upgrade pip setuptools wheel

mkdir -p "$PREFIX/dist"
"$PREFIX/venv/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation kenlm -d "$PREFIX/dist"
SDIST=$(ls -t "$PREFIX"/dist/kenlm-*.tar.gz | head -n 1)
echo "build-kenlm.sh: source $SDIST"

rm -rf "$PREFIX/src"
mkdir -p "$PREFIX/src"
tar xzf "$SDIST" -C "$PREFIX/src" --strip-components=1
# setup.py builds its CMake part with a hard-coded -j4; these machines have two cores.
sed -i "s/\"-j4\"/\"-j$JOBS\"/" "$PREFIX/src/setup.py"

# lmplz, build_binary, query (KENLM_MAX_ORDER 6, KenLM's default).
cmake -S "$PREFIX/src" -B "$PREFIX/src/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DENABLE_PYTHON=OFF >/dev/null
cmake --build "$PREFIX/src/build" -j"$JOBS" --target lmplz build_binary query
mkdir -p "$PREFIX/bin"
for exe in lmplz build_binary query; do
    install -m 755 "$PREFIX/src/build/bin/$exe" "$PREFIX/bin/$exe"
done

# The Python module, from the same source (setup.py compiles it with the system cmake).
"$PREFIX/venv/bin/pip" install -q --no-build-isolation "$PREFIX/src"
"$PREFIX/venv/bin/python" -c 'import kenlm; print("build-kenlm.sh: python kenlm", kenlm.__file__)'

"$PREFIX/bin/lmplz" --help >/dev/null 2>&1 || true
echo "build-kenlm.sh: done: $PREFIX/bin/lmplz, $PREFIX/bin/build_binary, $PREFIX/venv/bin/python"
