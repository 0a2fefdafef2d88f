#!/usr/bin/env python3
"""Check the format of the data files that boilerplate-strip embeds.

    check-data.py [DIR]

DIR defaults to this script's folder (data/). Checks data/stopwords/*.txt (one NFC lower-case
word a line, sorted by bytes, unique, no blanks) and data/boilerplate/*.txt (the syntax of
data/boilerplate/README.md: comments, ! and = prefixes where allowed, lower case, no
duplicates, the character set of each file). Prints one line per problem and exits 1 if there
is any, else prints a summary and exits 0. Standard library only.
"""
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# entry syntax per boilerplate file (after the comment and blank lines are skipped)
ENTRY = {
    "class-id.txt": re.compile(r"!?(=[a-z0-9]+|[a-z0-9-]+)"),
    "class-id-keep.txt": re.compile(r"=[a-z0-9]+|[a-z0-9-]+"),
    "class-id-ignore.txt": re.compile(r"[a-z0-9][a-z0-9-]*"),
    "tags-drop.txt": re.compile(r"!?[a-z][a-z0-9-]*"),
    "roles-drop.txt": re.compile(r"!?[a-z][a-z0-9-]*"),
    "phrases.txt": None,
}

problems = []


def problem(path, lineno, msg):
    problems.append(f"{path}:{lineno}: {msg}")


def lines_of(path):
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        problem(path, 0, f"not UTF-8: {e}")
        return []
    if "\r" in text:
        problem(path, 0, "CR in file (LF line ends only)")
    if text and not text.endswith("\n"):
        problem(path, 0, "no newline at end of file")
    return text.split("\n")[:-1] if text else []


def lowered(s):
    """Code point by code point lower case, as towlower does."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def check_stopwords(path):
    words = lines_of(path)
    for n, w in enumerate(words, 1):
        if not w or any(c.isspace() for c in w):
            problem(path, n, f"empty or has blanks: {w!r}")
        elif w != lowered(w) or unicodedata.normalize("NFC", w) != w:
            problem(path, n, f"not NFC lower case: {w!r}")
    enc = [w.encode("utf-8") for w in words]
    if enc != sorted(set(enc)):
        problem(path, 0, "not sorted by bytes or has duplicates (LC_ALL=C sort -u)")
    return len(words)


def check_phrase(path, n, p):
    if p != lowered(p) or unicodedata.normalize("NFC", p) != p:
        problem(path, n, f"not NFC lower case: {p!r}")
    if "  " in p or "\t" in p or "\u2019" in p or "\u2018" in p:
        problem(path, n, f"double blank, tab or curly quote: {p!r}")
    if unicodedata.category(p[0])[0] in "PSZ" or unicodedata.category(p[-1])[0] in "PSZ":
        problem(path, n, f"punctuation, symbol or blank at an end: {p!r}")


def check_boilerplate(path):
    syntax = ENTRY[path.name]
    seen = {}
    for n, line in enumerate(lines_of(path), 1):
        if not line or line.startswith("#"):
            continue
        if line != line.strip():
            problem(path, n, f"leading or trailing blank: {line!r}")
            continue
        if syntax is None:
            check_phrase(path, n, line)
        elif not syntax.fullmatch(line):
            problem(path, n, f"bad entry: {line!r}")
        key = line.lstrip("!")
        if key in seen:
            problem(path, n, f"'{key}' again (line {seen[key]})")
        seen[key] = n
    return seen


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    stop = sorted((root / "stopwords").glob("*.txt"))
    if not stop:
        problem(root / "stopwords", 0, "no stop-word lists")
    nstop = sum(check_stopwords(p) for p in stop)
    entries = {}
    for name in ENTRY:
        path = root / "boilerplate" / name
        if not path.exists():
            problem(path, 0, "missing")
            continue
        entries[name] = check_boilerplate(path)
    drop, keep = entries.get("class-id.txt", {}), entries.get("class-id-keep.txt", {})
    for k in sorted(set(drop) & set(keep)):
        problem(root / "boilerplate" / "class-id-keep.txt", keep[k], f"'{k}' is a drop marker too")
    for p in problems:
        print(f"check-data: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    counts = " ".join(f"{name}={len(e)}" for name, e in entries.items())
    print(f"check-data: ok: {len(stop)} stop-word lists ({nstop} words), {counts}")


if __name__ == "__main__":
    main()
