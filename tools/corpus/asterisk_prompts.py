#!/usr/bin/env python3
"""A real-speech dev set from Asterisk's English voice prompts (Debian main, CC-BY-SA 3.0).

`asterisk-core-sounds-en-wav` holds 568 prompts read by one professional voice (Allison Smith),
8 kHz 16-bit WAV; `asterisk-core-sounds-en` holds their exact text, one `name: text` line per file, in
`core-sounds-en.txt.gz`. This writes a DeepSpeech CSV of the prompts of at least `--min_words` words
(tones, effects and spelled symbols, written in brackets, are left out), pointing at the WAV files
where they are: nothing is copied. It is never trained on; it tunes the scorer's alpha/beta on real
speech (docs/model.md, "Scorer").

Use:
  mkdir -p PKG && cd PKG && apt-get download asterisk-core-sounds-en asterisk-core-sounds-en-wav
  for d in *.deb; do dpkg -x "$d" .; done
  python3 tools/corpus/asterisk_prompts.py PKG OUT.csv
"""

import argparse
import gzip
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_io  # noqa: E402
import sentences  # noqa: E402

TEXT = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"


def prompts(root):
    """(name, text) for every line of the prompt list; comments and blank lines skipped."""
    path = os.path.join(root, TEXT)
    if not os.path.exists(path):
        raise ValueError(f"{path} missing: extract asterisk-core-sounds-en into {root}")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            name, sep, text = line.partition(":")
            if not sep:
                raise ValueError(f"{path}:{number}: expected `name: text`, got {line!r}")
            yield name.strip(), text.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="directory the two .deb files were extracted into")
    parser.add_argument("out", help="CSV to write")
    parser.add_argument("--min_words", type=int, default=3)
    args = parser.parse_args()
    sounds = os.path.join(os.path.abspath(args.root), SOUNDS)
    rows, missing, seen = [], 0, set()
    for name, text in prompts(args.root):
        transcript = sentences.normalise(text)
        if "[" in text or len(transcript.split()) < args.min_words or transcript in seen:
            continue
        wav = os.path.join(sounds, name + ".wav")
        if not os.path.exists(wav):
            missing += 1
            continue
        seen.add(transcript)
        rows.append((wav, os.path.getsize(wav), transcript))
    corpus_io.write_csv(args.out, rows)
    print(f"{args.out}: {len(rows)} prompts ({missing} listed without a WAV file)")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
