#!/usr/bin/env python3
"""Make a per-language set of texts for the c4_badwords family: every list's words where C4's
filter must find them and where it must not.

    make-badwords.py LISTS_DIR [--per-lang N] [--seed S] > badwords-docs.jsonl

LISTS_DIR is data/ldnoobw (the 28 LDNOOBW lists datatrove names). For each language, N texts
(default 40, seed 24) of these kinds, each with a word of that language's list: alone; at the
start, the end, in the middle between spaces; after or before punctuation, a digit, an
underscore, a letter of the word's own script (where the boundary rule must refuse it), a
combining mark; in capitals (the text is lower-cased first; U+0130 for Turkish i, whose lower
case is two characters); at the end before a final newline; the allow-listed words (sm, グロ,
女の子, 性); and texts without any listed word. Output: {"id": "LANG:k:KIND", "lang": LANG,
"text": ...}. Standard library only; the same set for the same seed.
"""
import argparse
import json
import random
from pathlib import Path

LANGS = ["ar", "cs", "da", "de", "en", "eo", "es", "fa", "fi", "fil", "fr", "fr-CA-u-sd-caqc", "hi", "hu", "it",
         "ja", "kab", "ko", "nl", "no", "pl", "pt", "ru", "sv", "th", "tlh", "tr", "zh"]
FILLER = "the quick brown fox jumps over the lazy dog while the river runs by".split()
KINDS = ["alone", "start", "end", "middle", "punct_before", "punct_after", "digit_after", "underscore_before",
         "letter_before", "letter_after", "own_letter_after", "mark_after", "upper", "final_newline", "quotes",
         "clean", "allowed", "dotted_i", "hyphen", "nbsp"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("lists", type=Path)
    ap.add_argument("--per-lang", type=int, default=40)
    ap.add_argument("--seed", type=int, default=24)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for lang in LANGS:
        words = [w.strip() for w in (a.lists / f"{lang}.txt").read_text(encoding="utf-8").split("\n") if w.strip()]
        for k in range(a.per_lang):
            kind = KINDS[k % len(KINDS)]
            w = rng.choice(words)
            fill = " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 8)))
            own = rng.choice([c for c in "".join(words) if c.isalpha()] or ["x"])
            t = {
                "alone": w,
                "start": f"{w} {fill}.",
                "end": f"{fill} {w}",
                "middle": f"{fill} {w} {fill}.",
                "punct_before": f"{fill}, ({w}) {fill}",
                "punct_after": f"{fill} {w}! {fill}",
                "digit_after": f"{fill} {w}7 {fill}",
                "underscore_before": f"{fill} _{w} {fill}",
                "letter_before": f"{fill} x{w} {fill}",
                "letter_after": f"{fill} {w}s {fill}",
                "own_letter_after": f"{fill} {w}{own} {fill}",
                "mark_after": f"{fill} {w}\u0301 {fill}",
                "upper": f"{fill} {w.upper()} {fill}",
                "final_newline": f"{fill} {w}\n",
                "quotes": f'{fill} "{w}" \u00ab{w}\u00bb',
                "clean": f"{fill}. {fill}.",
                "allowed": f"{fill} {rng.choice(['sm', 'グロ', '女の子', '性'])} {fill}",
                "dotted_i": f"{fill} {w.replace('i', 'İ')} {fill}",
                "hyphen": f"{fill}-{w}-{fill}",
                "nbsp": f"{fill}\u00a0{w}\u00a0{fill}",
            }[kind]
            print(json.dumps({"id": f"{lang}:{k}:{kind}", "lang": lang, "text": t}, ensure_ascii=False))


if __name__ == "__main__":
    main()
