#!/usr/bin/env bash
# Regenerates core/tests/fixtures/deepspeech/ with DeepSpeech's and TensorFlow's own programs:
#
#  1. venvs: Python 3.7 + tensorflow==1.15.5 + ds_ctcdecoder==0.9.3 (DeepSpeech's training and
#     export code), Python 3.9 + deepspeech==0.9.3 and + deepspeech-tflite==0.9.3 (its runtimes);
#  2. DeepSpeech 0.9.3's own training (DeepSpeech.py, the smoke test's recipe at 64 units) on
#     LDC93S1 until it transcribes it, then its own export to .pb and to .tflite;
#  3. .pbmm from the .pb (tools/reference/pbmm_convert.py: TensorFlow's
#     convert_graphdef_memmapped_format, which no wheel ships), checked by libdeepspeech;
#  4. libdeepspeech's transcripts of 53 utterances with each format, TensorFlow's per-frame
#     probabilities, the TFLite variants and a foreign graph.
#
# Needs a checkout of github.com/mozilla/DeepSpeech at tag v0.9.3 (its training code is not on
# PyPI): DS_SRC=/path/to/DeepSpeech tools/reference/deepspeech_fixtures.sh [WORK_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/ds-reference}
: "${DS_SRC:?set DS_SRC to a DeepSpeech v0.9.3 checkout}"
out=$repo/core/tests/fixtures/deepspeech
shared=$repo/../shared/data
mkdir -p "$work" "$out"
cd "$work"

[ -x tf115/bin/python ] || {
    /root/.pyenv/versions/3.7.16/bin/python -m venv tf115
    tf115/bin/pip install -q tensorflow==1.15.5 'numpy<1.20' 'protobuf<3.21' ds_ctcdecoder==0.9.3 \
        absl-py pandas progressbar2 pyxdg attrdict semver opuslib==2.0.0 resampy librosa soundfile \
        bs4 requests numba==0.47.0 llvmlite==0.31.0
}
[ -x ds093/bin/python ] || {
    /root/.pyenv/versions/3.9.18/bin/python -m venv ds093
    ds093/bin/pip install -q deepspeech==0.9.3 'numpy<1.24'
}
[ -x dstfl/bin/python ] || {
    /root/.pyenv/versions/3.9.18/bin/python -m venv dstfl
    dstfl/bin/pip install -q deepspeech-tflite==0.9.3 'numpy<1.24'
}
export PATH=$work/tf115/bin:$PATH   # the TFLite converter runs toco_from_protos from here

ds() { (cd "$DS_SRC" && PYTHONPATH=training "$work/tf115/bin/python" -u DeepSpeech.py "$@"); }
common=(--n_hidden 64 --checkpoint_dir "$work/ckpt" --alphabet_config_path data/alphabet.txt)
# 400 epochs in two runs (the second resumes), as this fixture was made.
ds --noshow_progressbar --train_files "$shared/ldc93s1/ldc93s1.csv" --train_batch_size 1 \
    --epochs 250 --learning_rate 0.001 --random_seed 4568 "${common[@]}"
ds --noshow_progressbar --train_files "$shared/ldc93s1/ldc93s1.csv" --train_batch_size 1 \
    --epochs 150 --learning_rate 0.001 --random_seed 4568 "${common[@]}"
ds "${common[@]}" --export_dir "$work/export" --export_language en --export_beam_width 100
ds "${common[@]}" --export_dir "$work/export" --export_language en --export_beam_width 100 --export_tflite

# The training checkpoint itself (with its Adam slots), as DeepSpeech releases its checkpoints;
# the state file made relative, the flags without this machine's paths.
mkdir -p "$out/checkpoint"
cp "$work/ckpt/train-400.index" "$work/ckpt/train-400.data-00000-of-00001" "$out/checkpoint/"
printf 'model_checkpoint_path: "train-400"\nall_model_checkpoint_paths: "train-400"\n' > "$out/checkpoint/checkpoint"
grep -v '^--\(checkpoint_dir\|train_files\|export_dir\|summary_dir\|save_checkpoint_dir\|load_checkpoint_dir\)=' \
    "$work/ckpt/flags.txt" > "$out/checkpoint/flags.txt"
cp "$work/export/output_graph.pb" "$out/ldc93s1-64.pb"
cp "$work/export/output_graph.tflite" "$out/ldc93s1-64.tflite"
tf115/bin/python "$repo/tools/reference/pbmm_convert.py" "$out/ldc93s1-64.pb" "$out/ldc93s1-64.pbmm"
tf115/bin/python "$repo/tools/reference/tflite_variants.py" "$out"
tf115/bin/python "$repo/tools/reference/foreign_graphs.py" "$out"

cd "$out"
for f in pb pbmm; do
    "$work/ds093/bin/python" "$repo/tools/reference/deepspeech_transcripts.py" "ldc93s1-64.$f" "transcripts-$f.json"
done
"$work/dstfl/bin/python" "$repo/tools/reference/deepspeech_transcripts.py" ldc93s1-64.tflite transcripts-tflite.json
# With a DeepSpeech scorer package (tools/reference/scorer_packages.py makes it).
package="$repo/core/tests/fixtures/scorer/word-order5-trie-q8-a255.scorer"
"$work/ds093/bin/python" "$repo/tools/reference/deepspeech_transcripts.py" ldc93s1-64.pbmm \
    transcripts-pbmm-scorer.json "$package"
"$work/dstfl/bin/python" "$repo/tools/reference/deepspeech_transcripts.py" ldc93s1-64.tflite \
    transcripts-tflite-scorer.json "$package"
# With the package our own `ds-lm --scorer_out_deepspeech` wrote.
"$work/ds093/bin/python" "$repo/tools/reference/deepspeech_transcripts.py" ldc93s1-64.pbmm \
    transcripts-pbmm-ours-scorer.json "$repo/core/tests/fixtures/scorer/ours-order5-probing.scorer"
sox "$shared/ljspeech/wavs/LJ001-0001.wav" --bits 16 --channels 1 --rate 16000 \
    --encoding signed-integer --no-dither "$work/LJ001-0001.wav"
"$work/tf115/bin/python" "$repo/tools/reference/deepspeech_logits.py" ldc93s1-64.pb ldc93s1-64.tflite . \
    "$shared/ldc93s1/LDC93S1.wav" "$work/LJ001-0001.wav"
echo "fixtures written to $out"
