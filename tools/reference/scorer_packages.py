#!/usr/bin/env python3
"""DeepSpeech `.scorer` packages made by the real tools, and KenLM's own scores on them, for
core/tests/scorer_packages.rs.

    tools/build-kenlm.sh /work/kenlm                                  # lmplz, build_binary, kenlm
    tools/reference/build_generate_scorer_package.sh DS_SRC /work/gsp # DeepSpeech 0.9.3's packager
    /work/kenlm/venv/bin/python tools/reference/scorer_packages.py [--kenlm /work/kenlm] \
        [--gsp /work/gsp/generate_scorer_package]

Writes into core/tests/fixtures/scorer/:
  - word-<arpa>-<kind>.scorer: the ARPA models of core/tests/fixtures/lm (KenLM's lmplz, made by
    tools/reference/kenlm_scores.py) turned into KenLM binaries by `build_binary -v KIND` and
    packaged by `generate_scorer_package` with DeepSpeech's English alphabet
    (../shared/data/alphabet.txt) and the model's words as vocabulary. Kinds:
      trie-q8-a255  `-a 255 -q 8 trie`, DeepSpeech's generate_lm.py default
      trie          unquantised trie, inline pointers
      trie-q4-a32   4-bit quantisation, at most 32 bits of array-compressed pointers
      probing       probing hash tables
  - utf8-order4-trie-q8-a255.scorer: a bytes-output ("UTF-8 mode") package: a 4-gram over the
    characters of the corpus lines plus a few non-ASCII lines, packaged with
    --force_bytes_output_mode true (the FST spells bytes).
  - ours-order5-probing.scorer: the 5-gram written by our own `ds-lm --arpa_in order5.arpa
    --scorer_out_deepspeech` (KenLM probing binary + our dictionary FST), scored here by KenLM
    itself like the others (and decoded by ds_ctcdecoder in scorer_decoder_ds.py).
  - scores.json: per package, per sentence, KenLM's Model.score with bos/eos true and false and
    its full_scores (per-word log10 probabilities, bos and eos true); the sentences are those
    of core/tests/fixtures/lm/scores.json (characters separated by spaces for the UTF-8
    package). The packages are read by the PyPI `kenlm` module itself: KenLM ignores the bytes
    DeepSpeech appends after its search data.
"""

import argparse
import json
import os
import subprocess
import tempfile

import kenlm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(REPO, "..", "shared")
CORPUS = os.path.join(SHARED, "data", "text", "ldc93s1-smoke-vocab.txt")
ALPHABET = os.path.join(SHARED, "data", "alphabet.txt")
LM_FIXTURES = os.path.join(REPO, "core", "tests", "fixtures", "lm")
OUT = os.path.join(REPO, "core", "tests", "fixtures", "scorer")

KINDS = {
    "trie-q8-a255": ["-a", "255", "-q", "8", "trie"],
    "trie": ["trie"],
    "trie-q4-a32": ["-a", "32", "-q", "4", "trie"],
    "probing": ["probing"],
}
# (ARPA fixture, kinds): every kind on the 5-gram (all middle orders), DeepSpeech's kind on the
# others (the bigram has no middle order at all).
PACKAGES = [
    ("order5.arpa", list(KINDS)),
    ("order3.arpa", ["trie-q8-a255", "probing"]),
    ("order2-nounk.arpa", ["trie-q8-a255", "trie"]),
    ("order5-pruned.arpa", ["trie-q8-a255"]),
]
NON_ASCII = [
    "café au lait", "naïve façade", "smörgåsbord über alles", "señor niño",
    "crème brûlée", "déjà vu", "straße", "œuvre", "ça va", "el niño es", "über",
]
ALPHA, BETA = 0.931289, 1.183414


def arpa_words(path):
    """The unigrams of an ARPA file."""
    words, in_unigrams = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "\\1-grams:":
                in_unigrams = True
                continue
            if in_unigrams:
                if not line or line.startswith("\\"):
                    break
                words.append(line.split("\t")[1])
    return words


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def package(args, arpa, kind_args, vocab_words, out, utf8=False):
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "lm.binary")
        vocab = os.path.join(tmp, "vocab.txt")
        run([os.path.join(args.kenlm, "bin", "build_binary"), "-v", *kind_args, arpa, binary])
        with open(vocab, "w", encoding="utf-8") as f:
            f.write(" ".join(vocab_words) + "\n")
        cmd = [args.gsp, "--lm", binary, "--vocab", vocab, "--package", out,
               "--default_alpha", str(ALPHA), "--default_beta", str(BETA)]
        if utf8:
            cmd += ["--force_bytes_output_mode", "true"]
        else:
            cmd += ["--alphabet", ALPHABET, "--force_bytes_output_mode", "false"]
        run(cmd)


def scores(path, sentences):
    m = kenlm.Model(path)
    rows = []
    for s in sentences:
        rows.append({
            "sentence": s,
            "bos_eos": m.score(s, bos=True, eos=True),
            "no_bos_eos": m.score(s, bos=False, eos=False),
            "bos_only": m.score(s, bos=True, eos=False),
            "words": [p for p, _, _ in m.full_scores(s, bos=True, eos=True)],
        })
    return {"order": m.order, "sentences": rows}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kenlm", default="/work/kenlm")
    p.add_argument("--gsp", default="/work/gsp/generate_scorer_package")
    p.add_argument("--ds-lm", default=os.path.join(REPO, "target", "release", "ds-lm"))
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(LM_FIXTURES, "scores.json")) as f:
        sentences = [r["sentence"] for r in json.load(f)["models"]["order3.arpa"]["sentences"]]
    # Every third sentence (held-out, seen, shuffled, with invented words, random words) and
    # the special ones at the end (empty, <unk>, <s> and </s> inside a sentence).
    sentences = sentences[:-8:3] + sentences[-8:]

    out = {"generator": "tools/reference/scorer_packages.py", "kenlm": kenlm.__file__,
           "packages": {}}
    for arpa_name, kinds in PACKAGES:
        arpa = os.path.join(LM_FIXTURES, arpa_name)
        words = arpa_words(arpa)
        for kind in kinds:
            name = "word-%s-%s.scorer" % (arpa_name[:-len(".arpa")], kind)
            path = os.path.join(OUT, name)
            package(args, arpa, KINDS[kind], words, path)
            out["packages"][name] = {"utf8": False, **scores(path, sentences)}
            print("%s: %d bytes" % (name, os.path.getsize(path)))

    name = "ours-order5-probing.scorer"
    path = os.path.join(OUT, name)
    run([args.ds_lm, "--arpa_in", os.path.join(LM_FIXTURES, "order5.arpa"),
         "--scorer_out_deepspeech", path])
    out["packages"][name] = {"utf8": False, **scores(path, sentences)}
    print("%s: %d bytes" % (name, os.path.getsize(path)))

    # Bytes output mode: a character 4-gram, trained as DeepSpeech's docs train one for a
    # language without spaces: every character is a word (the corpus's spaces dropped).
    with open(CORPUS, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip()][:150] + NON_ASCII
    char_text = "\n".join(" ".join(c for c in l if c != " ") for l in lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        arpa = os.path.join(tmp, "chars.arpa")
        with open(arpa, "w", encoding="utf-8") as f:
            subprocess.run([os.path.join(args.kenlm, "bin", "lmplz"), "-o", "4", "-S", "200M",
                            "--discount_fallback"], input=char_text.encode(), stdout=f,
                           stderr=subprocess.DEVNULL, check=True)
        name = "utf8-order4-trie-q8-a255.scorer"
        path = os.path.join(OUT, name)
        package(args, arpa, KINDS["trie-q8-a255"], arpa_words(arpa), path, utf8=True)
    char_sentences = [" ".join(c for c in s if c != " ") for s in sentences[:30]] + [
        " ".join(c for c in l if c != " ") for l in NON_ASCII] + ["ö é", "z z z"]
    out["packages"][name] = {"utf8": True, **scores(path, char_sentences)}
    print("%s: %d bytes" % (name, os.path.getsize(path)))

    with open(os.path.join(OUT, "scores.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
