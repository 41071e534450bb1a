#!/usr/bin/env python3
"""Word and character error rates with one text normalisation for every system.

WER = word edit distance summed over the set / reference words summed over the set;
CER = the same over characters (spaces included) of the normalised texts.

Normalisation (applied to references and hypotheses alike, see `normalise`):
NFKD and drop accents, lower-case, curly apostrophes to "'", drop bracketed
annotations ("[BLANK_AUDIO]", "<sil>", "(music)"), spell out numbers as words
("7" -> "seven", "1,000" -> "one thousand", "3rd" -> "third", "2.5" -> "two point
five", "1990" -> "nineteen ninety", "%" -> "percent", "&" -> "and"), replace
every character other than a-z, apostrophe and space by a space, strip apostrophes
at word edges, collapse spaces.

Also holds the helpers the reference scripts share (CSV reading, WAV durations,
TSV writing, summaries). Standard library only: runs with Debian's python3 and
with any venv.

Usage:
  tools/accuracy/wer.py RESULTS.tsv [...]     # TSV with header wav, reference, hypothesis
  tools/accuracy/wer.py --ref "TEXT" --hyp "TEXT"
  tools/accuracy/wer.py --normalise "TEXT"
  tools/accuracy/wer.py --self-test
As a module: `from wer import normalise, score` (score(pairs) -> dict).
"""

import argparse
import csv
import json
import os
import re
import sys
import unicodedata
import wave

# --- numbers to words -------------------------------------------------------

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")]
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def _below_1000(n):
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_to_words(n, year=False):
    """Cardinal English words for a non-negative int, without "and" or hyphens.

    With year=True, 1100..1999 that are not whole hundreds read as years:
    1990 -> "nineteen ninety", 1905 -> "nineteen oh five"; 1500 -> "fifteen hundred".
    """
    if year and 1100 <= n <= 1999:
        hi, lo = divmod(n, 100)
        if lo == 0:
            return " ".join(_below_1000(hi) + ["hundred"])
        if lo < 10:
            return " ".join(_below_1000(hi) + ["oh", _ONES[lo]])
        return " ".join(_below_1000(hi) + _below_1000(lo))
    if n < 1000:
        return " ".join(_below_1000(n))
    words = []
    for value, name in _SCALES:
        if n >= value:
            words += _below_1000_or_more(n // value) + [name]
            n %= value
    if n:
        words += _below_1000(n)
    return " ".join(words)


def _below_1000_or_more(n):
    return number_to_words(n).split() if n >= 1000 else _below_1000(n)


def ordinal_words(n):
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _digits_words(s):
    return " ".join(_ONES[int(c)] for c in s)


_NUMBER_RE = re.compile(
    r"(?<![0-9])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|s)?(?![0-9])")


def _number_sub(m):
    whole, frac, suffix = m.group(1), m.group(2), m.group(3)
    n = int(whole.replace(",", ""))
    if suffix in ("st", "nd", "rd", "th") and frac is None:
        return " " + ordinal_words(n) + " "
    if len(whole) > 1 and whole.startswith("0") and "," not in whole:
        text = _digits_words(whole)  # "007", "0800": read digit by digit
    else:
        text = number_to_words(n, year=("," not in whole and frac is None))
    if frac is not None:
        text += " point " + _digits_words(frac)
    if suffix == "s":  # "1990s" -> "nineteen nineties", "70s" -> "seventies"
        text = text[:-1] + "ies" if text.endswith("y") else text + "s"
    return " " + text + " "


# --- normalisation -----------------------------------------------------------

_BRACKETS_RE = re.compile(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)")
_NOT_KEPT_RE = re.compile(r"[^a-z' ]+")
_EDGE_APOS_RE = re.compile(r"(?:(?<=\s)|^)'+|'+(?=\s|$)")


def normalise(text):
    """The one normalisation applied to every reference and hypothesis."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _BRACKETS_RE.sub(" ", text)
    text = text.replace("%", " percent ").replace("&", " and ")
    text = _NUMBER_RE.sub(_number_sub, text)
    text = _NOT_KEPT_RE.sub(" ", text)
    text = " ".join(text.split())
    text = _EDGE_APOS_RE.sub("", text)
    return " ".join(text.split())


# --- scoring ------------------------------------------------------------------

def edit_distance(ref, hyp):
    """Levenshtein distance between two sequences (lists of words or strings)."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def score(pairs):
    """pairs: iterable of (reference, hypothesis) raw texts. Returns a dict with
    wer, cer (fractions), word/char edits and reference lengths, and rows."""
    w_err = w_ref = c_err = c_ref = rows = 0
    for ref, hyp in pairs:
        r, h = normalise(ref), normalise(hyp)
        w_err += edit_distance(r.split(), h.split())
        w_ref += len(r.split())
        c_err += edit_distance(r, h)
        c_ref += len(r)
        rows += 1
    return {
        "rows": rows,
        "wer": w_err / w_ref if w_ref else 0.0,
        "cer": c_err / c_ref if c_ref else 0.0,
        "word_edits": w_err, "ref_words": w_ref,
        "char_edits": c_err, "ref_chars": c_ref,
    }


# --- shared helpers for the reference scripts ----------------------------------

def read_csv(path):
    """Rows of a DeepSpeech CSV as (absolute wav path, transcript); relative paths
    resolve against the CSV's folder, as DeepSpeech does."""
    base = os.path.dirname(os.path.abspath(path))
    with open(path, newline="", encoding="utf-8") as f:
        return [(os.path.normpath(os.path.join(base, row["wav_filename"])), row["transcript"])
                for row in csv.DictReader(f)]


def wav_seconds(path):
    """Duration of a WAV file from its header (None if `wave` cannot read it)."""
    try:
        with wave.open(path, "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError, OSError):
        return None


def set_name(csv_path):
    """'fsdd/dev' for .../fsdd/dev.csv: the CSV's folder and stem."""
    p = os.path.abspath(csv_path)
    return os.path.basename(os.path.dirname(p)) + "/" + os.path.splitext(os.path.basename(p))[0]


def write_tsv(path, rows):
    """rows: (wav, reference, hypothesis). Tabs and newlines in texts become spaces."""
    def clean(s):
        return " ".join(str(s).split())
    with open(path, "w", encoding="utf-8") as f:
        f.write("wav\treference\thypothesis\n")
        for wav, ref, hyp in rows:
            f.write(f"{clean(wav)}\t{clean(ref)}\t{clean(hyp)}\n")


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    for line in lines[1:]:
        parts = line.split("\t")
        parts += [""] * (3 - len(parts))
        out.append((parts[0], parts[1], parts[2]))
    return out


def summarise(csv_path, system, results, cpu_seconds, out_dir):
    """Write OUT_DIR/<set>.<system>.tsv and .json, print a one-line summary,
    return the summary dict. results: list of (wav, reference, hypothesis)."""
    s = score((r, h) for _, r, h in results)
    durations = [wav_seconds(w) for w, _, _ in results]
    s.update({
        "set": set_name(csv_path), "csv": os.path.abspath(csv_path), "system": system,
        "audio_seconds": sum(d for d in durations if d is not None),
        "audio_unknown": sum(d is None for d in durations),
        "cpu_seconds": cpu_seconds,
    })
    stem = os.path.join(out_dir, s["set"].replace("/", "_") + "." + system)
    os.makedirs(out_dir, exist_ok=True)
    write_tsv(stem + ".tsv", results)
    with open(stem + ".json", "w", encoding="utf-8") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    print(f"{s['set']}\t{system}\trows {s['rows']}\taudio {s['audio_seconds'] / 60:.2f} min\t"
          f"WER {100 * s['wer']:.2f}%\tCER {100 * s['cer']:.2f}%\tCPU {cpu_seconds:.1f} s\t"
          f"-> {stem}.tsv")
    return s


# --- CLI ----------------------------------------------------------------------

def _self_test():
    cases = {
        "Seven.": "seven",
        "I have 7 cats and 12 dogs": "i have seven cats and twelve dogs",
        "1,000 men; 2.5% of 21": "one thousand men two point five percent of twenty one",
        "In 1990, on the 3rd of May, at 0800": "in nineteen ninety on the third of may at zero eight zero zero",
        "In 1905 and 1500 and 2024 and 1000000": "in nineteen oh five and fifteen hundred and two thousand twenty four and one million",
        "the 1990s and the 70s": "the nineteen nineties and the seventies",
        "Don\u2019t  'quote' me [BLANK_AUDIO] <sil>": "don't quote me",
        "Caf\u00e9 twenty-one": "cafe twenty one",
        "21st 22nd 40th 101st": "twenty first twenty second fortieth one hundred first",
    }
    bad = 0
    for raw, want in cases.items():
        got = normalise(raw)
        if got != want:
            bad += 1
            print(f"FAIL normalise({raw!r}) = {got!r}, want {want!r}")
    s = score([("she had your dark suit", "she had dark suit in"), ("zero", "0")])
    if (s["word_edits"], s["ref_words"]) != (2, 6):
        bad += 1
        print(f"FAIL score: {s}")
    print(f"{len(cases) + 1 - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tsv", nargs="*", help="result TSVs (header wav, reference, hypothesis)")
    ap.add_argument("--ref")
    ap.add_argument("--hyp")
    ap.add_argument("--normalise", metavar="TEXT")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return _self_test()
    if a.normalise is not None:
        print(normalise(a.normalise))
        return 0
    if a.ref is not None or a.hyp is not None:
        s = score([(a.ref or "", a.hyp or "")])
        print(f"WER {100 * s['wer']:.2f}% ({s['word_edits']}/{s['ref_words']})  "
              f"CER {100 * s['cer']:.2f}% ({s['char_edits']}/{s['ref_chars']})")
        return 0
    if not a.tsv:
        ap.error("give result TSVs, --ref/--hyp, --normalise or --self-test")
    for path in a.tsv:
        s = score((r, h) for _, r, h in read_tsv(path))
        print(f"{path}\trows {s['rows']}\tWER {100 * s['wer']:.2f}% ({s['word_edits']}/{s['ref_words']})\t"
              f"CER {100 * s['cer']:.2f}% ({s['char_edits']}/{s['ref_chars']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
