#!/usr/bin/env python3
"""make-spacy-sentences.py - write spacy-sentences.jsonl: lines and the sentences spaCy's
sentencizer finds in them (spacy.blank("en") with the "sentencizer" pipe, as datatrove's C4
filter counts them per kept line), the reference for tests/unit/3013-spacy-sentences.c
(quality-score --words spacy).

Each record: {"text": line, "sentences": [the sentences' texts]}; the count is what the test
compares, the texts say where spaCy cut. The lines: hand-made cases (lines without end marks,
runs of end marks, end marks of other scripts, abbreviations as spaCy's tokenizer keeps them,
white space that becomes a token of its own, quotes and brackets after an end mark) and the
texts of spacy-words.jsonl and lines of tests/data/golden/aeb-4.text.expect.

Usage: bench/.venv/bin/python tests/data/quality/make-spacy-sentences.py > tests/data/quality/spacy-sentences.jsonl
(needs spacy, as bench/quality/run.sh installs it).
"""
import json
import os

import spacy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

CASES = [
    # no end mark, one at the end, several
    "No end mark here at all", "One sentence.", "One. Two. Three.", "One. Two. Three", "a . b",
    # runs of end marks, ellipses, marks inside words
    "Wait... what? Yes!", "Really?! Yes.", "Really?!? Yes.", "!!! ok then", "Hi!!! Then. Done",
    "Hello.World is one", "end.Start here. And", "Hello world.Then more", "x..y. z", "Yes.. no",
    "Hm… fine. Ok", "3.14 is pi. Yes", "v1.2.3. Next", "Version 2.0. Released", "1. First item",
    "?", "...", ". . .", "!? !?", "a.b.c. d", "A. B. C.",
    # quotes and brackets after an end mark (punctuation: the sentence goes on to the next word)
    "\"Hi.\" Then he left.", "'Hi.' Then", "He said (yes.) and left.", "Done.) Next one", "«Oui.» Non.",
    "“Yes.” “No.”", "Stop. — Go on", "End. -- more", "End. ... more", "End. * more", "End. # more",
    "End. $5 more", "End. +1 more", "End. | more", "End. :) more", "End. 😀 more", "End. © more",
    # abbreviations and special cases as spaCy's tokenizer keeps them
    "Dr. Smith came. He sat.", "Mr. Smith and Mrs. Jones met.", "U.S. Army units. More", "e.g. this one",
    "i.e. that one. Then", "No. 5 is here.", "etc. and so on", "Jan. 5 was cold. Feb. too", "vs. them",
    "Inc. and Corp. merged.", "St. Louis. Then", "a.m. and p.m. times", "Ph.D. students. Yes",
    "u.s. lower. Then", "Co. Ltd. Then", "see example.com. Then more", "mail me@example.com. Ok",
    "https://example.org/a.b. Then", "It's done. Don't go. I'm here.", "cannot. gonna. wanna.",
    # white space that is a token of its own (runs, tabs, no-break spaces)
    "Hi.  !", "Hi. !", "Hi.\t!", "Hi.\u00a0!", "Hi.  Then", "Hi.\u2003Then", " lead. space",
    "  lead two. x", "trail.  ", "trail. ", "mid.   \t  end", "\u00a0.", "a\u3000。b",
    # other scripts' sentence ends
    "यह एक वाक्य है। यह दूसरा है।", "यह एक वाक्य है । यह दूसरा है ।", "पहला॥ दूसरा",
    "Բարեւ։ Ինչպես ես։", "هل أنت بخير؟ نعم", "یہ ایک جملہ ہے۔ دوسرا",
    "ሰላም። እንዴት ነህ፧ ደህና", "ꓐ꓿ ꓑ", "ဟုတ်ကဲ့။ ဟုတ်",
    "今天天气很好。我们去公园。", "今天天气很好 。 我们去公园 。", "今天 。我们", "好！ 是？ 对．", "好！是？对",
    "日本語です｡ はい", "Wow‼ ok", "Huh⁉ ok", "Why‽ ok", "a ⁇ b", "a﹒ b", "x︒ y",
    "Привет. Как дела? Хорошо!", "Γειά σου; Καλά. Ναι", "Ça va? Oui. Très bien!", "¿Qué? ¡Sí! Bueno.",
    "שלום. מה שלומך? טוב", "안녕하세요. 반갑습니다! 네",
    # citations already removed leave white space
    "Text here.  More text.", "Text here. [ More text.",
]


def lines():
    seen = set()

    def once(t):
        if t not in seen:
            seen.add(t)
            return True
        return False

    for t in CASES:
        if once(t):
            yield t
    path = os.path.join(HERE, "spacy-words.jsonl")
    if os.path.exists(path):
        for rec in open(path, encoding="utf-8"):
            t = json.loads(rec)["text"]
            if t.strip() and once(t):
                yield t
    path = os.path.join(ROOT, "tests", "data", "golden", "aeb-4.text.expect")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and once(line):
                yield line


nlp = spacy.blank("en")
nlp.add_pipe("sentencizer")
for text in lines():
    doc = nlp(text)
    print(json.dumps({"text": text, "sentences": [s.text for s in doc.sents]}, ensure_ascii=False))
