#!/usr/bin/env python3
"""Dragnet's extraction data (seomoz/dragnet_data: 1,381 news and blog pages of 2012 with the
text a person cut from each) in the layout of the other sets: OUT/html/<id>.html.gz and
OUT/ground-truth.json ({id: {"articleBody", "url"}}).

    dragnet.py SRC [OUT]     # OUT defaults to <shared data>/dragnet (sets.py shared())

SRC is a folder with input/<id>.html and GoldStandard/<id>.txt, as the copy in
github.com/j-szulc/html-cleaning-dataset-merged (dragnet_data/, plain files; the original
repository keeps them in Git LFS) has them. The truth is the text before Dragnet's separator
line "!@#$%^&*()  COMMENTS" (what follows it is the page's comments, which the other sets leave
out too). Files that start with a UTF-16 byte-order mark are read as UTF-16, other files that
are not valid UTF-8 as Windows-1252. Pages without a
truth, or whose truth is empty, are left out. The data's licence is Dragnet's (AGPL-3.0 in its
README); it is not committed here. Standard library only; deterministic.
"""
import gzip
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sets  # noqa: E402

# Dragnet's separator line, "!@#$%^&*()  COMMENTS", as its truths write it: some drop, blank,
# double or swap a character of it ("!@ $%^&*()", "  #$%^&*()", "!#@$%^&*()", "!@#$%^&**()"),
# misspell the word or leave it out
SEP = re.compile(r"^[ \t]*[!@#]*[ \t]*\$%\^&\*+\(\)[^\n]*$", re.M)


def text_of(path):
    b = path.read_bytes()
    if b[:2] in (b"\xff\xfe", b"\xfe\xff"):  # five truths are UTF-16 with a byte-order mark
        return b.decode("utf-16")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("cp1252", "replace")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip())
    src = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else sets.shared() / "dragnet"
    (out / "html").mkdir(parents=True, exist_ok=True)
    truth = {}
    for h in sorted((src / "input").glob("*.html")):
        i = h.name[: -len(".html")]
        g = src / "GoldStandard" / f"{i}.txt"
        if not g.exists():
            continue
        body = SEP.split(text_of(g).replace("\r\n", "\n"))[0].strip()
        if not body:
            continue
        truth[i] = {"articleBody": body, "url": ""}
        with gzip.GzipFile(out / "html" / f"{i}.html.gz", "wb", mtime=0) as f:
            f.write(text_of(h).encode("utf-8"))
    with open(out / "ground-truth.json", "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1, sort_keys=True)
    print(f"{out}: {len(truth)} pages", file=sys.stderr)


if __name__ == "__main__":
    main()
