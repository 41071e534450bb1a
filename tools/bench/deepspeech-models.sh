#!/usr/bin/env bash
# Speed and memory of the same DeepSpeech model in every runtime and format (BENCHMARKS.md,
# "DeepSpeech's own models"): libdeepspeech 0.9.3 (.pbmm, TensorFlow), libdeepspeech-tflite 0.9.3
# (.tflite), Coqui STT 1.4.0 (.tflite), and our `deepspeech` CLI on each format and on the
# safetensors ds-convert makes of it. Every run transcribes the same 16 kHz WAVs with the model's
# own beam width and no scorer, one process per runtime, under `taskset` (1 core, then all).
#
# Usage: tools/bench/deepspeech-models.sh MODEL_DIR WAV_DIR VENV_DIR
#   MODEL_DIR holds output_graph.{pb,pbmm,tflite} (DeepSpeech's export; tools/reference/release_geometry_models.sh) and
#   model.safetensors; VENV_DIR holds the venvs ds093 (deepspeech), dstfl (deepspeech-tflite) and
#   coqui (stt==1.4.0), each with numpy<1.24.
set -euo pipefail
models=$1 wavs=$2 venvs=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
ours=$repo/target/release/deepspeech
out=$(mktemp -d)

ref() { # cores venv package model
    taskset -c "$1" "$venvs/$2/bin/python" "$repo/tools/bench/reference_runtime.py" "$3" "$4" "$wavs" \
        2>/dev/null | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
json.dump(r["transcripts"], open(sys.argv[1], "w"))
print("%-26s %-14s load %6.3f s  CPU/audio %.4f  peak RSS %5d MB" % (
    r["runtime"], r["model"], r["load_s"], r["cpu_per_audio_s"], r["peak_rss_mb"]))' "$out/$2-$(basename "$4")-$1.json"
}

mine() { # cores model
    local log=$out/ours.log
    taskset -c "$1" /usr/bin/time -f "%U %S %M" "$ours" --model "$2" --audio "$wavs" --beam_width 500 --json -t \
        >"$out/ours-$(basename "$2")-$1.json" 2>"$log"
    local audio
    audio=$(python3 -c 'import sys,wave,os; d=sys.argv[1]; print(sum(wave.open(os.path.join(d,f)).getnframes() for f in os.listdir(d) if f.endswith(".wav"))/16000)' "$wavs")
    python3 - "$log" "$audio" "$2" <<'PY'
import re, sys
log = open(sys.argv[1]).read().split("\n")
user, sys_, rss = map(float, [l for l in log if l.strip()][-1].split())
load = float(re.search(r"Loaded model in ([0-9.]+)s", "\n".join(log)).group(1))
inference = re.search(r"Inference took ([0-9.]+)s", "\n".join(log))
print("%-26s %-14s load %6.3f s  CPU/audio %.4f  peak RSS %5d MB (CPU includes load)" % (
    "deepspeech-rs", sys.argv[3].split("/")[-1], load, (user + sys_) / float(sys.argv[2]), rss / 1024))
PY
}

for cores in 0 0-$(($(nproc) - 1)); do
    echo "== cores $cores"
    ref "$cores" ds093 deepspeech "$models/output_graph.pbmm"
    ref "$cores" dstfl deepspeech "$models/output_graph.tflite"
    ref "$cores" coqui stt "$models/output_graph.tflite"
    for m in output_graph.pbmm output_graph.tflite model.safetensors; do
        mine "$cores" "$models/$m"
    done
done
echo "transcripts in $out"
