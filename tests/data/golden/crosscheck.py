#!/usr/bin/env python3
"""crosscheck.py - check warc-extract's output on the real test WARCs against warcio.

An independent reading of the same files: for every record warc-extract kept, warcio must
find the same record (id, url, date; url and date in ARC files, whose records have no id) and, after its own de-chunking and decompression, the
same payload decoded with the charset warc-extract reports. Needs warcio (bench/.venv).
Usage: bench/.venv/bin/python tests/data/golden/crosscheck.py [build/bin/warc-extract]
"""
import codecs
import glob
import json
import os
import subprocess
import sys

from warcio.archiveiterator import ArchiveIterator

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/bin/warc-extract")
PY = {"windows-1252": "cp1252", "gb18030": "gb18030", "utf-8": "utf-8"}

def payloads(path):
    out = {}
    with open(path, "rb") as f:
        try:
            for rec in ArchiveIterator(f, arc2warc=False):
                h = rec.rec_headers
                if rec.format == "arc":  # no ids: matched by date and URL
                    d = h.get_header("archive-date") or ""
                    rid = ("arc", f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z",
                           h.get_header("uri") or "")
                else:
                    rid = (h.get_header("WARC-Record-ID") or "", h.get_header("WARC-Date") or "",
                           (h.get_header("WARC-Target-URI") or "").strip("<>"))
                try:
                    out[rid] = rec.content_stream().read()
                except Exception as e:  # warcio gives up on damaged bodies
                    out[rid] = e
        except Exception as e:
            out["__error__"] = e
    return out

agree = differ = unread = 0
for path in sorted(glob.glob(os.path.join(root, "tests/data/warc/*.warc*")) +
                   glob.glob(os.path.join(root, "tests/data/warc/*.arc*"))):
    res = subprocess.run([tool, "--allow-truncated", "-q", path], capture_output=True)
    ours = [json.loads(l) for l in res.stdout.splitlines()]
    if not ours:
        continue
    theirs = payloads(path)
    for r in ours:
        w = r["metadata"]["warc"]
        arc = ".arc" in os.path.basename(path)
        body = theirs.get(("arc" if arc else r["id"], r["created"], r["url"]))
        if body is None or isinstance(body, Exception) or body == b"":
            # warcio stops at LF-only records and at many records in one gzip member, and
            # gives nothing for a body that says chunked but is not: not comparable
            why = theirs.get("__error__", body)
            print(f"{os.path.basename(path)}: {r['id']}: warcio could not read it ({str(why).strip()[:60]!r})")
            unread += 1
            continue
        if w["type"] == "conversion":
            text = body.decode("utf-8", "replace")
            got = r["text"]
        else:
            cs = w["charset"]
            if body.startswith(codecs.BOM_UTF8):
                body = body[3:]
            try:
                text = body.decode(PY.get(cs, cs), "replace")
            except LookupError:
                text = body.decode("utf-8", "replace")
            got = r["html"]
        if text == got:
            agree += 1
        else:
            n = next((i for i, (a, b) in enumerate(zip(text, got)) if a != b), min(len(text), len(got)))
            print(f"{os.path.basename(path)}: {r['id']} ({w['charset']}): differs at char {n}: "
                  f"warcio {text[n:n+40]!r} ours {got[n:n+40]!r} (lengths {len(text)} {len(got)})")
            differ += 1
print(f"{agree} records agree with warcio, {differ} differ, {unread} warcio could not read")
sys.exit(1 if differ else 0)
