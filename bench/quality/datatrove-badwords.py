#!/usr/bin/env python3
"""Run datatrove's C4BadWordsFilter on JSON Lines records, each in the language ours gave it.

    datatrove-badwords.py IN.jsonl OURS.jsonl OUT.jsonl --lists DIR [--text-field text]

C4BadWordsFilter(keep_fraction=0.0, fail_on_missing_language=False) - datatrove 0.10.1's
defaults but the second: a language without a list passes instead of stopping the run - on the
original text of every record of IN, with doc.metadata["language"] set to the list language
that quality-score applied (OURS: its output, metadata.quality.c4_badwords_lang; where that
is null, ours found no list: then its metadata.lang.code, which datatrove has no list for
either; "en", datatrove's default_language, for a record OURS lacks). The LDNOOBW lists are
read from DIR (data/ldnoobw/: LANG.txt) instead of datatrove's download from GitHub, after
checking that each file is the git blob of the commit datatrove names (README.md there lists
their hashes): the same bytes, without a network. keep_fraction 0 drops every page with a bad
word, so no random draw is made.

Output, one line per input record: {"id", "pass": {"c4_badwords": bool}, "reasons":
{"c4_badwords": reason or null}, "language": code}, for compare.py --extra. Prints the time of
the filter's loop (single thread, lists compiled before it).
"""
import argparse
import hashlib
import json
import os
import re
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters import c4_filters  # noqa: E402
from datatrove.pipeline.filters.base_filter import get_filter_result  # noqa: E402


def git_blob(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("ours")
    ap.add_argument("output")
    ap.add_argument("--lists", required=True, help="data/ldnoobw")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--id-field", default="id")
    a = ap.parse_args()

    readme = open(os.path.join(a.lists, "README.md"), encoding="utf-8").read()
    blobs = dict(re.findall(r"^\| `([A-Za-z-]+)\.txt` \| `([0-9a-f]{40})` \|", readme, re.M))
    for lang in c4_filters._BADWORDS_LANGS:
        data = open(os.path.join(a.lists, lang + ".txt"), "rb").read()
        if blobs.get(lang) != git_blob(data):
            sys.exit(f"{a.lists}/{lang}.txt is not the LDNOOBW blob {blobs.get(lang)}")

    def local(remote_path, **kw):          # datatrove's URL: .../COMMIT/LANG
        return os.path.join(a.lists, remote_path.rsplit("/", 1)[1] + ".txt")
    c4_filters.cached_asset_path_or_download = local

    langs = {}
    with open(a.ours, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            m = r.get("metadata") or {}
            q = m.get("quality") or {}
            langs[r.get(a.id_field)] = q.get("c4_badwords_lang") or (m.get("lang") or {}).get("code") or "en"
    docs = []
    with open(a.input, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            i = r.get(a.id_field)
            docs.append(Document(text=r.get(a.text_field) or "", id=str(i),
                                 metadata={"language": langs.get(i, "en")}))
    flt = c4_filters.C4BadWordsFilter(keep_fraction=0.0, fail_on_missing_language=False)
    for lang in set(d.metadata["language"] for d in docs):
        flt._get_badwords(lang)             # compile before timing
    t0 = time.process_time()
    res = [flt.filter(d) for d in docs]
    cpu = time.process_time() - t0
    with open(a.output, "w", encoding="utf-8") as out:
        for d, r in zip(docs, res):
            ok, reason = get_filter_result(r)
            out.write(json.dumps({"id": d.id, "pass": {"c4_badwords": bool(ok)},
                                  "reasons": {"c4_badwords": None if ok else reason},
                                  "language": d.metadata["language"]}, ensure_ascii=False) + "\n")
    nb = sum(len(d.text.encode()) for d in docs)
    print(f"c4_badwords: {len(docs)} documents, {sum(not get_filter_result(r)[0] for r in res)} fail; "
          f"{cpu:.3f} s CPU ({nb / 1e6 / max(cpu, 1e-9):.2f} MB/s)")


if __name__ == "__main__":
    main()
