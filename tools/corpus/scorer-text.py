#!/usr/bin/env python3
"""A broader text for the scorer: the corpus's training sentences plus modern English prose from two
Debian packages, so that the language model knows everyday words the templates and the King James
Version lack.

- `fortunes` (Debian main): every fortune cookie of /usr/share/games/fortunes (the offensive set in
  `off/` is not read), cut into clauses of 3-14 words;
- `wordnet-base` (Debian main, WordNet 3.0 licence): the glosses and quoted usage examples of every
  synset in /usr/share/wordnet/data.{noun,verb,adj,adv}, cut the same way.

Every clause goes through sentences.py's normalisation and split: clauses that hash to the dev or test
split, and the transcripts of the real test sets, are left out, as for the training sentences.

Use (after sentences.py has written TEXT_DIR/train.txt):
  apt-get install -y fortunes wordnet-base
  python3 tools/corpus/scorer-text.py TEXT_DIR      # -> TEXT_DIR/scorer.txt
"""

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentences  # noqa: E402

FORTUNES = "/usr/share/games/fortunes"
WORDNET = "/usr/share/wordnet"


def fortune_texts():
    """Each fortune of every cookie file (files with a .dat index; `off/` is not read)."""
    for dat in sorted(glob.glob(os.path.join(FORTUNES, "*.dat"))):
        with open(dat[:-4], encoding="utf-8", errors="replace") as f:
            yield from f.read().split("\n%\n")


def wordnet_texts():
    """Every gloss and usage example of WordNet's four data files."""
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET, "data." + pos), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:  # the licence header
                    continue
                for part in line.split(" | ", 1)[1].split(";"):
                    yield part.strip().strip('"')


def main(text_dir):
    for path in (FORTUNES, WORDNET):
        if not os.path.isdir(path):
            print(f"error: {path} missing: apt-get install fortunes wordnet-base", file=sys.stderr)
            return 1
    with open(os.path.join(text_dir, "train.txt")) as f:
        out = [line.strip() for line in f if line.strip()]
    seen = set(out) | sentences.held_out_real()
    counts = {}
    for source, texts in (("fortunes", fortune_texts()), ("wordnet", wordnet_texts())):
        counts[source] = 0
        for text in texts:
            for clause in sentences.clauses(re.sub(r"\s+", " ", text)):
                if clause not in seen and sentences.split_of(clause) == "train":
                    seen.add(clause)
                    out.append(clause)
                    counts[source] += 1
    with open(os.path.join(text_dir, "scorer.txt"), "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"scorer.txt: {len(out)} lines ({counts['fortunes']} from fortunes, "
          f"{counts['wordnet']} from wordnet)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "corpus/text"))
