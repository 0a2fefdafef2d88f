#!/usr/bin/env python3
"""make-terminal-punctuation.py - write terminal-punctuation.txt: the characters that end a
sentence in FineWeb's line-punctuation rule (datatrove's TERMINAL_PUNCTUATION, 159 marks
from many scripts), one a line with its code point, sorted.

Usage: bench/.venv/bin/python data/quality/make-terminal-punctuation.py > data/quality/terminal-punctuation.txt
(needs datatrove, as bench/quality/run.sh installs it).
"""
import unicodedata

from datatrove.utils.text import TERMINAL_PUNCTUATION

print("# Characters that end a sentence (FineWeb's line-punctuation rule): datatrove's")
print("# TERMINAL_PUNCTUATION. One a line: the character, a tab, U+code, name. Made by")
print("# make-terminal-punctuation.py.")
for c in sorted(TERMINAL_PUNCTUATION):
    print(f"{c}\tU+{ord(c):04X}\t{unicodedata.name(c, '?')}")
