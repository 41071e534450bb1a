#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, CUDA 13 libraries and PyTorch (no Rust
# needed), runs the CUDA tests and the GPU benchmark from the binaries tools/cuda/pack.sh put
# in .gpu/, then PyTorch + cuDNN on the same batches, and prints one table. Under 8 minutes on
# an H200. Results also go to $OUT (default /tmp/ds-gpu-check).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUNDLE="${BUNDLE:-.gpu}"
OUT="${OUT:-/tmp/ds-gpu-check}"
mkdir -p "$OUT"
[ -f "$BUNDLE/bin.tar.xz" ] || { echo "check.sh: no $BUNDLE/bin.tar.xz: run tools/cuda/pack.sh where Rust is" >&2; exit 1; }
BIN=/tmp/ds-gpu-bin
rm -rf "$BIN" && mkdir -p "$BIN"
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$BUNDLE/bin.tar.xz" "$BIN"
BIN="$BIN/bin"

# The CUDA 13 libraries: the system's, else those PyTorch's wheels carry.
libs=$(python3 - <<'PY'
import glob, os, site
dirs = []
for base in site.getsitepackages():
    dirs += glob.glob(os.path.join(base, "nvidia", "*", "lib")) + glob.glob(os.path.join(base, "nvidia", "cu13", "lib"))
print(":".join(sorted(set(dirs))))
PY
)
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$libs"
export DS_REPO_ROOT="$PWD" DS_SHARED_DATA="$PWD/$BUNDLE/data" DS_CLI="$BIN/deepspeech"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== CUDA tests"
"$BIN/cuda-tests" --test-threads 1 --nocapture 2>&1 | tee "$OUT/tests.log"
tests_rc=${PIPESTATUS[0]}

echo "== deepspeech-rs benchmark"
"$BIN/gpu_bench" --device cuda ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench-rs.jsonl"
echo "== PyTorch + cuDNN reference"
python3 tools/reference/deepspeech_torch.py ${TORCH_ARGS:-} 2>&1 | tee "$OUT/bench-torch.jsonl"

python3 - "$OUT" "$tests_rc" <<'PY'
import json, os, re, sys
out, rc = sys.argv[1], int(sys.argv[2])
log = open(os.path.join(out, "tests.log")).read()
m = re.search(r"test result: (\w+)\. (\d+) passed; (\d+) failed", log)
print(f"\nCUDA tests: {m.group(0) if m else 'no result'} (exit {rc})")
rows = {}
rate = {}
for name in ("bench-rs.jsonl", "bench-torch.jsonl"):
    for line in open(os.path.join(out, name)):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("impl") == "matrix-rate":
            rate = r["tflops"]
            continue
        key = (r["mode"], r["n_hidden"], r["precision"], r["batch"])
        rows.setdefault(key, {})[r["impl"]] = r
print(f"matrix rate (TFLOP/s): {rate}")
print(f"{'mode':6} {'hidden':>6} {'prec':5} {'batch':>5} {'ours audio s/s':>15} {'torch audio s/s':>16} {'ours/torch':>10} {'ours TFLOP/s':>12} {'floor ms':>9} {'ours ms':>8}")
for key in sorted(rows):
    ours, torch = rows[key].get("deepspeech-rs"), rows[key].get("pytorch-cudnn")
    o = ours["audio_s_per_s"] if ours else float("nan")
    t = torch["audio_s_per_s"] if torch else float("nan")
    print(f"{key[0]:6} {key[1]:>6} {key[2]:5} {key[3]:>5} {o:>15.0f} {t:>16.0f} {o / t if torch and ours else float('nan'):>10.2f} "
          f"{ours['tflops'] if ours else float('nan'):>12.1f} {torch['floor_ms'] if torch else float('nan'):>9.1f} {ours['step_ms'] if ours else float('nan'):>8.1f}")
PY
exit "$tests_rc"
