#!/usr/bin/env python3
"""Write the article extraction benchmark's pages as JSON Lines for boilerplate-strip.

    make-input.py [OUT] [--aeb DIR]

OUT defaults to bench/data/aeb.jsonl; DIR to $CRAWL2LM_SHARED_DATA/aeb (default: ../shared/data/aeb
beside the repository).
One record per page, sorted by id: {"id": <aeb id>, "url": <page url>, "html": <page text>}.
The pages are UTF-8 (gzip-compressed in html/<id>.html.gz); the url comes from
ground-truth.json. Standard library only; the output is deterministic.
"""
import argparse
import gzip
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent


def main():
    shared = Path(os.environ.get("CRAWL2LM_SHARED_DATA", BENCH.parent.parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", type=Path, default=BENCH / "data" / "aeb.jsonl")
    ap.add_argument("--aeb", type=Path, default=shared / "aeb")
    args = ap.parse_args()

    truth = json.loads((args.aeb / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(p.name[: -len(".html.gz")] for p in (args.aeb / "html").glob("*.html.gz"))
    if set(ids) != set(truth):
        sys.exit(f"html/ and ground-truth.json disagree: {len(ids)} pages, {len(truth)} truths")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    nbytes = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for i in ids:
            with gzip.open(args.aeb / "html" / f"{i}.html.gz", "rt", encoding="utf-8", newline="") as f:
                html = f.read()
            nbytes += len(html.encode("utf-8"))
            rec = {"id": i, "url": truth[i].get("url", ""), "html": html}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(ids)} records, {nbytes} html bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
