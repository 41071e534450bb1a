#!/usr/bin/env bash
# Makes the n_hidden 2048 model files that tools/bench/deepspeech-models.sh measures (BENCHMARKS.md,
# "DeepSpeech's own models"), with DeepSpeech 0.9.3's own export: our English model widened to 2048
# units without changing its outputs, written as a DeepSpeech checkpoint by ds-convert, exported by
# DeepSpeech.py to .pb and .tflite (int8), and the .pb converted to .pbmm; plus the 16 kHz WAVs.
#
# Needs the release binaries (cargo build --release), the venvs and the DeepSpeech v0.9.3 checkout of
# tools/reference/deepspeech_fixtures.sh (VENVS holds tf115, ds093, dstfl and coqui: stt==1.4.0).
# Usage: DS_SRC=/path/to/DeepSpeech VENVS=/path/to/venvs tools/reference/release_geometry_models.sh OUT_DIR
# then:  tools/bench/deepspeech-models.sh OUT_DIR/export OUT_DIR/wavs "$VENVS"
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: release_geometry_models.sh OUT_DIR}
: "${DS_SRC:?set DS_SRC to a DeepSpeech v0.9.3 checkout}" "${VENVS:?set VENVS to the venvs folder}"
bin=$repo/target/release
shared=$repo/../shared/data
mkdir -p "$out/wavs"

"$bin/ds-train" --load_checkpoint_dir "$repo/models/en/model.safetensors" --widen_source \
    --n_hidden 2048 --epochs 0 --export_dir "$out/wide"
rm -rf "$out/ckpt"
"$bin/ds-convert" --model "$out/wide/model.safetensors" --output "$out/ckpt/"
export PATH=$VENVS/tf115/bin:$PATH # the TFLite converter runs toco_from_protos from here
flags=(--checkpoint_dir "$out/ckpt/" --alphabet_config_path "$out/ckpt/alphabet.txt" --n_hidden 2048
    --relu_clip 20 --audio_sample_rate 16000 --feature_win_len 32 --feature_win_step 20
    --export_dir "$out/export" --export_language en --export_beam_width 500)
(cd "$DS_SRC" && PYTHONPATH=training "$VENVS/tf115/bin/python" -u DeepSpeech.py "${flags[@]}")
(cd "$DS_SRC" && PYTHONPATH=training "$VENVS/tf115/bin/python" -u DeepSpeech.py "${flags[@]}" --export_tflite)
"$VENVS/tf115/bin/python" "$repo/tools/reference/pbmm_convert.py" \
    "$out/export/output_graph.pb" "$out/export/output_graph.pbmm"
cp "$out/wide/model.safetensors" "$out/export/model.safetensors"

to16k() { sox "$1" --bits 16 --channels 1 --rate 16000 --encoding signed-integer --no-dither "$2"; }
to16k "$shared/ldc93s1/LDC93S1.wav" "$out/wavs/LDC93S1.wav"
for i in 01 02 03 04 05 06 07 08 09 10; do
    to16k "$shared/ljspeech/wavs/LJ001-00$i.wav" "$out/wavs/LJ001-00$i.wav"
done
echo "models in $out/export, audio in $out/wavs"
