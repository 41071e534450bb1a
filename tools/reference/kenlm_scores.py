#!/usr/bin/env python3
"""Reference fixtures for core/tests/lm_reference.rs: ARPA models built by KenLM's lmplz and
KenLM's own sentence scores.

    tools/build-kenlm.sh /work/kenlm
    /work/kenlm/venv/bin/python tools/reference/kenlm_scores.py [--kenlm /work/kenlm]

Writes into core/tests/fixtures/lm/:
  - order3.arpa        3-gram, unpruned, from the corpus's training lines
  - order5-pruned.arpa 5-gram with singleton 3/4/5-grams pruned (lmplz --prune 0 0 1): back-off
                       across pruned orders is exercised
  - order5.arpa        5-gram, unpruned, from the first 40 training lines: long n-gram hits
  - order2-nounk.arpa  2-gram with its <unk> line removed: KenLM then gives <unk> log10 -100
  - scores.json        per model, per sentence: KenLM's total score with bos/eos true and false,
                       and, for the 5-grams, its per-word scores (full_scores) with bos/eos true

The corpus is ../shared/data/text/ldc93s1-smoke-vocab.txt (500 lines, DeepSpeech's smoke-test LM
text). Every 5th line is held out; the
models are trained on the first 150 remaining lines (80 for the bigram) to keep the fixtures small. Test sentences: held-out lines, training lines, shuffled
words, lines with invented out-of-vocabulary words, single words, the empty sentence, and the
literal tokens <s>, </s>, <unk> inside a sentence.
"""

import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(REPO, "..", "shared", "data", "text", "ldc93s1-smoke-vocab.txt")
OUT = os.path.join(REPO, "core", "tests", "fixtures", "lm")


def lmplz(kenlm, order, text, extra=()):
    cmd = [os.path.join(kenlm, "bin", "lmplz"), "-o", str(order), "-S", "200M",
           "--discount_fallback", *extra]
    out = subprocess.run(cmd, input=text.encode(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    return out.stdout.decode()


def drop_unk(arpa):
    lines = arpa.split("\n")
    out = []
    for line in lines:
        if line.startswith("ngram 1="):
            line = "ngram 1=%d" % (int(line.split("=")[1]) - 1)
        fields = line.split("\t")
        if len(fields) >= 2 and fields[1] == "<unk>":
            continue
        out.append(line)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kenlm", default="/work/kenlm")
    args = ap.parse_args()
    import kenlm  # the venv's module, built by tools/build-kenlm.sh

    lines = [l.strip() for l in open(CORPUS, encoding="utf-8") if l.strip()]
    held = [l for i, l in enumerate(lines) if i % 5 == 0]
    train = [l for i, l in enumerate(lines) if i % 5 != 0]
    # Small models (the fixtures stay under 1 MB): the first 150 training lines, 80 for the bigram.
    text150 = "\n".join(train[:150]) + "\n"
    text80 = "\n".join(train[:80]) + "\n"

    os.makedirs(OUT, exist_ok=True)
    models = {
        "order3.arpa": lmplz(args.kenlm, 3, text150),
        "order5-pruned.arpa": lmplz(args.kenlm, 5, text150, ["--prune", "0", "0", "1"]),
        "order2-nounk.arpa": drop_unk(lmplz(args.kenlm, 2, text80)),
        "order5.arpa": lmplz(args.kenlm, 5, "\n".join(train[:40]) + "\n"),
    }
    for name, arpa in models.items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(arpa)

    rng = random.Random(20240611)
    train = train[:150]
    vocab = sorted({w for l in train for w in l.split()})
    sentences = []
    sentences += held[:100]                                   # held-out lines
    sentences += rng.sample(train, 30) + train[:20]           # seen lines: long n-gram hits
    for l in rng.sample(lines, 80):                           # shuffled words
        w = l.split()[:25]
        rng.shuffle(w)
        sentences.append(" ".join(w))
    for l in rng.sample(held, 50):                            # invented OOV words
        w = l.split()[:20]
        for _ in range(rng.randint(1, 3)):
            w.insert(rng.randint(0, len(w)), "zq%04dx" % rng.randint(0, 9999))
        sentences.append(" ".join(w))
    for _ in range(30):                                       # random vocabulary bags
        sentences.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12))))
    sentences += rng.sample(vocab, 10)                        # single words
    sentences += ["", "zzzunknown", "<unk>", "the <unk> of", "she had <s> your dark suit",
                  "all year </s> she had", "</s>", "<s>"]

    out = {"corpus": "ldc93s1-smoke-vocab.txt (every 5th line held out)",
           "kenlm": kenlm.__file__, "models": {}}
    for name in models:
        m = kenlm.Model(os.path.join(OUT, name))
        rows = []
        for s in sentences:
            rows.append({
                "sentence": s,
                "bos_eos": round(m.score(s, bos=True, eos=True), 6),
                "no_bos_eos": round(m.score(s, bos=False, eos=False), 6),
                "bos_only": round(m.score(s, bos=True, eos=False), 6),
            })
            if name.startswith("order5"):  # per-word scores, to locate a mismatch
                rows[-1]["words"] = [round(p, 6) for p, _, _ in m.full_scores(s)]
        out["models"][name] = {"order": m.order, "sentences": rows}
        print("%s: order %d, %d sentences, %d bytes" % (
            name, m.order, len(rows), os.path.getsize(os.path.join(OUT, name))), file=sys.stderr)
    with open(os.path.join(OUT, "scores.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
