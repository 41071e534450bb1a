#!/bin/sh
# Accuracy of our element (SYSTEMS=deepspeech / deepspeech-noscorer: the embedded model with and
# without its scorer; tools/accuracy/deepspeech.py, plugin on GST_PLUGIN_PATH) and of two other
# recognisers on DeepSpeech CSVs, as a markdown table:
# PocketSphinx (Debian's GStreamer element, en-us model and LM; tools/accuracy/pocketsphinx.py)
# and Whisper tiny.en (faster-whisper, int8, beam 5; tools/accuracy/whisper.py), scored by
# tools/accuracy/wer.py with one normalisation for both. Each system runs once per CSV;
# CPU seconds are that run's user+sys (model loading included, Python start-up not).
# Per-row hypotheses go to $OUT_DIR/<set>.<system>.tsv, summaries to .json.
#
# Usage: tools/accuracy/run-references.sh CSV...
#   e.g. tools/accuracy/run-references.sh ../shared/data/ldc93s1/ldc93s1.csv \
#            ../shared/data/fsdd/dev.csv ../shared/data/ljspeech/ljspeech.csv
# Environment (defaults): OUT_DIR (/tmp/refasr-results), PS_PYTHON (/usr/bin/python3),
#   WHISPER_PYTHON ($HOME/venv-whisper/bin/python), SYSTEMS ("pocketsphinx whisper"),
#   NICE ("nice -n 10": the machine is shared), LIMIT (0 = every row).
# Needs: see the header of pocketsphinx.py and whisper.py for their installs.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 CSV..." >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${OUT_DIR:-/tmp/refasr-results}
PS_PYTHON=${PS_PYTHON:-/usr/bin/python3}
WHISPER_PYTHON=${WHISPER_PYTHON:-$HOME/venv-whisper/bin/python}
SYSTEMS=${SYSTEMS:-deepspeech deepspeech-noscorer pocketsphinx whisper}
NICE=${NICE-nice -n 10}
LIMIT=${LIMIT:-0}
mkdir -p "$OUT_DIR"

jsons=
for csv in "$@"; do
    [ -f "$csv" ] || { echo "no such CSV: $csv" >&2; exit 1; }
    set_file=$("$PS_PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import wer; print(wer.set_name(sys.argv[2]).replace("/", "_"))' "$here" "$csv")
    for system in $SYSTEMS; do
        case $system in
            pocketsphinx)
                $NICE "$PS_PYTHON" "$here/pocketsphinx.py" --out-dir "$OUT_DIR" --limit "$LIMIT" \
                    --log "$OUT_DIR/$set_file.pocketsphinx.log" "$csv" >&2
                jsons="$jsons $OUT_DIR/$set_file.pocketsphinx.json" ;;
            deepspeech|deepspeech-noscorer)
                extra=
                [ "$system" = deepspeech-noscorer ] && extra="--scorer none"
                # shellcheck disable=SC2086
                $NICE "$PS_PYTHON" "$here/deepspeech.py" --out-dir "$OUT_DIR" --limit "$LIMIT" \
                    $extra "$csv" >&2
                jsons="$jsons $OUT_DIR/$set_file.$system.json" ;;
            whisper)
                $NICE "$WHISPER_PYTHON" "$here/whisper.py" --out-dir "$OUT_DIR" --limit "$LIMIT" "$csv" >&2
                jsons="$jsons $OUT_DIR/$set_file.whisper-tiny.en.json" ;;
            *) echo "unknown system: $system" >&2; exit 2 ;;
        esac
    done
done

# shellcheck disable=SC2086
"$PS_PYTHON" - $jsons <<'EOF'
import json, sys
print("| set | rows | audio min | system | WER % | CER % | CPU s | CPU s / audio s |")
print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
for path in sys.argv[1:]:
    with open(path) as f:
        s = json.load(f)
    per = s["cpu_seconds"] / s["audio_seconds"] if s["audio_seconds"] else float("nan")
    print(f"| {s['set']} | {s['rows']} | {s['audio_seconds'] / 60:.2f} | {s['system']} | "
          f"{100 * s['wer']:.1f} | {100 * s['cer']:.1f} | {s['cpu_seconds']:.1f} | {per:.3f} |")
EOF
