"""What the corpus scripts share: resuming finished WAVs and writing DeepSpeech CSVs (a split's with
its voice list)."""

import csv
import os
import wave


def complete_wav(path):
    """Whether `path` is a whole 16-bit WAV (sox fixes the header's sizes when it finishes)."""
    try:
        with wave.open(path) as w:
            return os.path.getsize(path) >= 44 + 2 * w.getnframes() > 44
    except (OSError, EOFError, wave.Error):
        return False


def write_csv(path, rows):
    """A DeepSpeech CSV of `rows` of (wav_filename, wav_filesize, transcript, ...): extra fields are
    left out."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["wav_filename", "wav_filesize", "transcript"])
        writer.writerows(r[:3] for r in rows)


def write_split(out_dir, name, rows, failures):
    """Writes `name`.csv and `name`-voices.tsv for `rows` of (wav, size, transcript, voice) and
    prints a summary. A voice already listed by an earlier run is kept (a resumed run only knows
    that the WAV exists)."""
    write_csv(os.path.join(out_dir, name + ".csv"), rows)
    voices_tsv = os.path.join(out_dir, name + "-voices.tsv")
    known = {}
    if os.path.exists(voices_tsv):
        with open(voices_tsv) as f:
            known = dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)
    with open(voices_tsv, "w") as f:
        f.writelines(f"{r[0]}\t{known.get(r[0], r[3])}\n" for r in rows)
    seconds = sum((r[1] - 44) / 32000 for r in rows)
    print(f"{name}: {len(rows)} utterances, {seconds / 3600:.2f} h, {failures} failed")
