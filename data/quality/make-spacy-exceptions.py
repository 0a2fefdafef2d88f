#!/usr/bin/env python3
"""make-spacy-exceptions.py - write spacy-en-exceptions.txt: the special cases of spaCy's English
tokenizer (what datatrove's English word splitting uses), for quality-score --words spacy.

Each line: the string, a tab, then its tokens separated by tabs (they join back to the string).
Entries holding white space are left out (white space always separates). spaCy is MIT-licensed
(see NOTICE).

Usage: bench/.venv/bin/python data/quality/make-spacy-exceptions.py > data/quality/spacy-en-exceptions.txt
(needs spacy, as bench/quality/run.sh installs it).
"""
import spacy
from spacy.attrs import ORTH

nlp = spacy.blank("en")
print("# spaCy %s English tokenizer special cases (string, then its tokens; tab-separated)." % spacy.__version__)
print("# Made by make-spacy-exceptions.py.")
for orth, toks in sorted(nlp.tokenizer.rules.items()):
    pieces = [t[ORTH] for t in toks]
    if any(c.isspace() for c in orth) or "".join(pieces) != orth:
        continue
    print("\t".join([orth] + pieces))
