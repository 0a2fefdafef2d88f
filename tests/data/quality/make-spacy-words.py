#!/usr/bin/env python3
"""make-spacy-words.py - write spacy-words.jsonl: texts and the words spaCy's English tokenizer
cuts them into (as datatrove's filters strip them: white space dropped), the reference for
tests/unit/3010-spacy-words.c (quality-score --words spacy).

The texts: hand-made cases for every rule (prefixes, suffixes, infixes, special cases, URLs,
units, CJK, ...) and lines of real text from the bundled test data.

Usage: bench/.venv/bin/python tests/data/quality/make-spacy-words.py > tests/data/quality/spacy-words.jsonl
(needs spacy, as bench/quality/run.sh installs it).
"""
import gzip
import json
import os

import spacy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

CASES = [
    "$100", "US$5", "5US$", "100km", "20°C.", "5+", "10:30", "1-2", "3/library", "a/b/c", "ab=cd",
    "<b>", "x,y", "a.B", "end.Start", "well-known", "e-mail", "a--b", "--a", "a--", "hello...",
    "...hello", "«a»", "(a)", "(x);", "[1]", "e.g.,", "i.e.:", "(e.g.", "U.S.", "Mr. Smith",
    "don't", "can't", "I'm", "x's", "O'Neil", "gonna", ":)", "<3", "x):", "a):b", "(:(:", "[=[=",
    "id.::", "{id.}", "AB.", "Ab.", "a.", "A.", "##", "#hash", "--", "...", ".x", "x.y.z", "1.2.3",
    "http://x.com/a", "https://example.org/path?q=1#f", "example.com/path", "www.example.com.",
    "(http://x.com/a)", "user@example.com", "192.168.1.1", "8.8.8.8:53", "file.txt", "a.b",
    "Compress::Raw::Bzip2(3perl)", "NAME(名称)", "先日、不正に。報道", "「脱獄」とは、iPhoneの",
    "======== Freescale", "=" * 70, "*" * 20, "'" * 6, "’s", "naïve café", "Straße.", "ĲSSEL-meer",
    "Москва-река", "10кг", "emoji 😀x", "©2020", "x©", "1+2-3*4^5", "3.14", "1,000,000",
    "tab\tsep\nnew line  two spaces", "\u00a0nbsp\u2003em", "",
]


def lines():
    yield from CASES
    for name in ("aeb-4.text.expect",):
        path = os.path.join(ROOT, "tests", "data", "golden", name)
        if os.path.exists(path):
            for line in open(path, encoding="utf-8"):
                if line.strip():
                    yield line.rstrip("\n")[:400]
    path = os.path.join(ROOT, "tests", "data", "html", "aeb-4.jsonl.gz")
    if os.path.exists(path):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for rec in f:
                html = json.loads(rec).get("html", "")
                for part in html.split("\n")[:60]:
                    if part.strip():
                        yield part[:300]


nlp = spacy.blank("en")
for text in lines():
    words = [t.text.strip() for t in nlp(text)]
    print(json.dumps({"text": text, "words": [w for w in words if w]}, ensure_ascii=False))
