#!/usr/bin/env python3
"""Regenerate data/stopwords/*.txt from jusText's stop lists (justext 3.0.2 on PyPI).

    make-stopwords.py [--wheel FILE] [--out DIR] [--check]

Without --wheel the pinned wheel is fetched with `python3 -m pip download` into a temporary
folder; either way its SHA-256 must match the pinned one, so the lists cannot change behind a
reviewer's back. DIR defaults to this script's folder. --check writes nothing and exits 1 when
a list in DIR differs from what would be written (for a test or a reviewer).

jusText splits text on white space and looks the lower-cased tokens up as they are, so its
lists hold tokens like "years," or "(the". Each entry is normalised the way data/stopwords/
README.md asks the extractor to normalise the words of a page, so that the two meet:
NFC, lower case (Python's str.lower, with the "i" + U+0307 that it makes of Turkish "İ" turned
back into "i"), leading and trailing punctuation and symbols (Unicode P* and S*) trimmed.
Entries with markup debris (<>_|=[]{}), with digits, or with any other character that is not a
letter or mark apart from an inner - ' ’ or . are dropped, and so is a single letter left
by trimming ("b." is an abbreviation, not the word "b"). An entry with an apostrophe is
written with both ' and ’. Output: UTF-8, one word a line, sorted by bytes, no duplicates
(what LC_ALL=C sort -u gives). Standard library only; the output is deterministic.
"""
import argparse
import hashlib
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = "justext-3.0.2-py2.py3-none-any.whl"
WHEEL_SHA256 = "62b1c562b15c3c6265e121cc070874243a443bfd53060e869393f09d6b6cc9a7"

# ISO 639-1 code -> jusText stop list (justext/stoplists/<name>.txt)
LANGS = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "sv": "Swedish",
    "da": "Danish", "no": "Norwegian_Bokmal", "fi": "Finnish", "hu": "Hungarian",
    "tr": "Turkish", "cs": "Czech", "ro": "Romanian", "id": "Indonesian",
}

DEBRIS = set("<>_|=[]{}")
INNER = set("-'’.")
APOSTROPHES = ("'", "’")


def fetch_wheel(tmp):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--dest", str(tmp), "justext==3.0.2"]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    return Path(tmp) / WHEEL


def trimmable(c):
    return unicodedata.category(c)[0] in "PS"


def normalise(raw):
    """The entry as the extractor will see the word, or None if it is no word."""
    w = unicodedata.normalize("NFC", raw.strip())
    if not w or any(c in DEBRIS for c in w):
        return None
    w = w.lower().replace("i\u0307", "i")
    i, j = 0, len(w)
    while i < j and trimmable(w[i]):
        i += 1
    while j > i and trimmable(w[j - 1]):
        j -= 1
    w = w[i:j]
    if not w or not any(unicodedata.category(c)[0] == "L" for c in w):
        return None
    for c in w:
        if unicodedata.category(c)[0] not in "LM" and c not in INNER:
            return None
    return w


def stop_list(text):
    lines = text.splitlines()
    bare = {unicodedata.normalize("NFC", l.strip()).lower() for l in lines}
    words = set()
    for line in lines:
        w = normalise(line)
        if w is None or (len(w) == 1 and w not in bare):
            continue
        if any(a in w for a in APOSTROPHES):
            for a in APOSTROPHES:
                words.add(w.replace("'", a).replace("’", a))
        else:
            words.add(w)
    # sorted by UTF-8 bytes = sorted by code point, as LC_ALL=C sort -u
    return "".join(w + "\n" for w in sorted(words))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"use this copy of {WHEEL}")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--check", action="store_true", help="compare, write nothing")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(tmp)
        data = wheel.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != WHEEL_SHA256:
            sys.exit(f"make-stopwords: error: '{wheel}' has sha256 {digest}, want {WHEEL_SHA256}")
        with zipfile.ZipFile(wheel) as z:
            lists = {code: z.read(f"justext/stoplists/{name}.txt").decode("utf-8")
                     for code, name in LANGS.items()}

    differ = 0
    for code, text in lists.items():
        out = stop_list(text)
        path = args.out / f"{code}.txt"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != out:
                print(f"make-stopwords: {path} differs", file=sys.stderr)
                differ += 1
            continue
        tmp_path = path.with_name(path.name + ".tmp")
        tmp_path.write_text(out, encoding="utf-8", newline="\n")
        tmp_path.replace(path)
        print(f"{path}: {out.count(chr(10))} words from {LANGS[code]}.txt", file=sys.stderr)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
