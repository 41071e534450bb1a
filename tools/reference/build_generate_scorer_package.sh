#!/usr/bin/env bash
# Builds DeepSpeech 0.9.3's `generate_scorer_package` from the DeepSpeech source tree, without
# Bazel: one C++ program, the KenLM and OpenFST 1.6.7 sources the repository carries
# (native_client/kenlm, native_client/ctcdecode/third_party/openfst-1.6.7) and the decoder's
# scorer code (native_client/ctcdecode). It is the reference writer of `.scorer` packages that
# the readers in core/src/lm/formats are checked against (tools/reference/scorer_fixtures.sh).
#
#   tools/reference/build_generate_scorer_package.sh DEEPSPEECH_SRC [OUT]
#
# DEEPSPEECH_SRC: a checkout of github:mozilla/DeepSpeech at v0.9.3 (the `fetch` tool brings it);
# OUT (default /work/gsp): OUT/generate_scorer_package. Needs g++ and libboost-program-options-dev
# (tools/build-kenlm.sh installs both). Compiles with -j${JOBS:-2}; about 6 minutes on 2 cores.
#
# The only change to the sources: `absl/types/optional.h` (from TensorFlow, which Bazel would
# provide) is replaced by a two-line shim over C++17's std::optional.
set -euo pipefail

SRC=$(cd "${1:?usage: $0 DEEPSPEECH_SRC [OUT]}" && pwd)
OUT=${2:-/work/gsp}
JOBS=${JOBS:-2}
mkdir -p "$OUT/obj" "$OUT/shim/absl/types"
OUT=$(cd "$OUT" && pwd)
NC="$SRC/native_client"
FST="$NC/ctcdecode/third_party/openfst-1.6.7/src"

cat > "$OUT/shim/absl/types/optional.h" <<'EOF'
#include <optional>
namespace absl { using std::optional; using std::nullopt; }
EOF

INCLUDES=(-I"$NC" -I"$NC/kenlm" -I"$FST/include" -I"$NC/ctcdecode/third_party/ThreadPool"
    -I"$NC/ctcdecode/third_party/object_pool" -I"$OUT/shim")
# The flags of native_client/ctcdecode/build_archive.py (the ds_ctcdecoder wheel's build).
FLAGS=(-O3 -DNDEBUG -fPIC -DKENLM_MAX_ORDER=6 -Wno-unused-local-typedefs -Wno-sign-compare -w)

sources=()
for f in "$NC"/kenlm/util/*.cc "$NC"/kenlm/lm/*.cc "$NC"/kenlm/util/double-conversion/*.cc "$FST"/lib/*.cc; do
    case "$f" in *main.cc | *test.cc | *unittest.cc) continue ;; esac
    sources+=("$f")
done
sources+=("$NC/ctcdecode/scorer.cpp" "$NC/ctcdecode/path_trie.cpp" "$NC/ctcdecode/decoder_utils.cpp"
    "$NC/alphabet.cc" "$NC/deepspeech_errors.cc")

compile() {
    local src=$1 obj
    obj="$OUT/obj/$(echo "${src#"$SRC"/}" | tr '/' '_').o"
    [ -s "$obj" ] && return 0
    g++ -std=c++17 "${FLAGS[@]}" "${INCLUDES[@]}" -c "$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj"
}
export -f compile
export SRC OUT
export FLAGS_STR="${FLAGS[*]}" INCLUDES_STR="${INCLUDES[*]}"
printf '%s\n' "${sources[@]}" "$NC/generate_scorer_package.cpp" |
    xargs -P "$JOBS" -I{} bash -c 'FLAGS=($FLAGS_STR); INCLUDES=($INCLUDES_STR); compile "$@"' _ {}

g++ -o "$OUT/generate_scorer_package.tmp" "$OUT"/obj/*.o -lboost_program_options -lpthread -ldl
mv "$OUT/generate_scorer_package.tmp" "$OUT/generate_scorer_package"
echo "build_generate_scorer_package.sh: $OUT/generate_scorer_package"
