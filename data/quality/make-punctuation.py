#!/usr/bin/env python3
"""make-punctuation.py - write punctuation.txt: the characters datatrove's Gopher quality filter
takes for punctuation when it tells symbol-only words (PUNCTUATION_SET: its PUNCTUATION string,
control characters included, and TERMINAL_PUNCTUATION), one a line as U+code and name, sorted.
quality-score --words spacy uses it, as datatrove does.

Usage: bench/.venv/bin/python data/quality/make-punctuation.py > data/quality/punctuation.txt
(needs datatrove, as bench/quality/run.sh installs it).
"""
import unicodedata

from datatrove.utils.text import PUNCTUATION_SET

print("# Punctuation for symbol-only words (datatrove's PUNCTUATION_SET). One a line: U+code,")
print("# a tab, the name. Made by make-punctuation.py.")
for c in sorted(PUNCTUATION_SET):
    print(f"U+{ord(c):04X}\t{unicodedata.name(c, 'control')}")
