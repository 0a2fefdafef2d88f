#!/usr/bin/env python3
"""boilerplate-strip on several extraction benchmarks at once, each split into a tuning part and a
held-out part fixed up front.

    sets.py inputs                     # write data/bp-<set>.jsonl for every set found
    sets.py score [--bin DIR] [--args "..."] [--worst N] [--json]
    sets.py score-file SET PRED.jsonl  # score one output file (a peer's) the same way

Sets (../shared/data beside the repository, or $CRAWL2LM_SHARED_DATA): `aeb` (the article
extraction benchmark, 181 news pages), `readability` (Mozilla Readability's 130 test pages,
many sites and languages) and `dragnet` (Dragnet's 1,381 news and blog pages, made by
dragnet.py); each has ground-truth.json in the AEB layout. A page is held out
when the SHA-1 of "<set>:<id>" taken mod 10 is below 3 (about 30%): the same function as
bench/quality/compare.py, chosen before any tuning; no tuning decision looks at those pages
(`--worst` lists tuning pages only). Scores: the AEB metric of score.py (word 4-gram shingles,
per-page tp/fp/fn), per set for the tuning part, the held-out part and all pages, with the
pages whose output is empty although their truth is not.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(HERE))
import score  # noqa: E402

SETS = ("aeb", "readability", "dragnet")


def shared():
    if "CRAWL2LM_SHARED_DATA" in os.environ:
        return Path(os.environ["CRAWL2LM_SHARED_DATA"])
    for up in ROOT.parents:  # beside the repository, or beside a worktree's parent
        if (up / "shared" / "data").is_dir():
            return up / "shared" / "data"
    return ROOT.parent / "shared" / "data"


def held_out(set_name, doc_id):
    return int(hashlib.sha1(f"{set_name}:{doc_id}".encode("utf-8")).hexdigest(), 16) % 10 < 3


def input_path(s):
    return BENCH / "data" / f"bp-{s}.jsonl"


def truth_of(s):
    with open(shared() / s / "ground-truth.json", encoding="utf-8") as f:
        return json.load(f)


def make_inputs():
    import gzip
    for s in SETS:
        d = shared() / s
        if not (d / "ground-truth.json").exists():
            print(f"{s}: {d} not found, skipped", file=sys.stderr)
            continue
        truth = truth_of(s)
        ids = sorted(p.name[: -len(".html.gz")] for p in (d / "html").glob("*.html.gz"))
        out = input_path(s)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            for i in ids:
                with gzip.open(d / "html" / f"{i}.html.gz", "rb") as g:
                    html = g.read().decode("utf-8", "replace")
                f.write(json.dumps({"id": i, "url": truth.get(i, {}).get("url", ""), "html": html},
                                   ensure_ascii=False) + "\n")
        print(f"{out}: {len(ids)} pages", file=sys.stderr)


def summarise(s, truth, preds):
    rows = {}
    _, docs = score.evaluate(truth, preds)
    for part in ("tuning", "held-out", "all"):
        ds = [d for d in docs if part == "all" or (held_out(s, d["id"]) == (part == "held-out"))]
        p = score.mean([d["precision"] for d in ds if d["precision"] is not None])
        r = score.mean([d["recall"] for d in ds if d["recall"] is not None])
        empty = [d["id"] for d in ds if d["pred_tokens"] == 0 and d["true_tokens"] > 0]
        rows[part] = {"pages": len(ds), "precision": p, "recall": r, "f1": score.f1(p, r), "empty": empty}
    return rows, docs


def print_rows(name, rows, tuning_only=False):
    for part, v in rows.items():
        if tuning_only and part != "tuning":
            continue
        print(f"{name:12s} {part:9s} {v['pages']:5d} {v['precision']:.3f} {v['recall']:.3f} {v['f1']:.3f} "
              f"{len(v['empty']):3d}  {' '.join(i[:16] for i in v['empty'][:6])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=("inputs", "score", "score-file"))
    ap.add_argument("rest", nargs="*")
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--args", default="", help="extra boilerplate-strip arguments")
    ap.add_argument("--worst", type=int, default=0, help="list the N tuning pages of lowest recall")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--tuning-only", action="store_true", help="print the tuning parts only")
    a = ap.parse_args()
    if a.cmd == "inputs":
        make_inputs()
        return
    print(f"{'set':12s} {'part':9s} {'pages':>5s} {'P':>5s} {'R':>5s} {'F1':>5s} {'empty':>3s}")
    if a.cmd == "score-file":
        s, pred = a.rest
        preds, _ = score.load_predictions(pred, "text")
        rows, _ = summarise(s, truth_of(s), preds)
        print_rows(s, rows)
        return
    out = {}
    worst = []
    for s in SETS:
        if not input_path(s).exists():
            continue
        r = subprocess.run([os.path.join(a.bin, "boilerplate-strip"), "-q", *a.args.split(), str(input_path(s))],
                           capture_output=True, check=True)
        preds = {}
        for line in r.stdout.decode("utf-8").split("\n"):
            if line.strip():
                rec = json.loads(line)
                preds[str(rec["id"])] = rec.get("text") or ""
        rows, docs = summarise(s, truth_of(s), preds)
        out[s] = rows
        print_rows(s, rows, a.tuning_only)
        worst += [(d["recall"] if d["recall"] is not None else 1, d["precision"], s, d["id"], d["pred_tokens"], d["true_tokens"])
                  for d in docs if not held_out(s, d["id"])]
    if a.worst:
        print("\nworst tuning pages by recall (R P set id pred true):")
        for r_, p_, s, i, pt, tt in sorted(worst, key=lambda x: x[0])[:a.worst]:
            print(f"  {r_:.3f} {p_ if p_ is None else round(p_, 3)!s:>5} {s:12s} {i} {pt} {tt}")
        print("worst tuning pages by precision:")
        for r_, p_, s, i, pt, tt in sorted([w for w in worst if w[1] is not None], key=lambda x: x[1])[:a.worst]:
            print(f"  {r_:.3f} {p_:.3f} {s:12s} {i} {pt} {tt}")
    if a.json:
        print(json.dumps({s: {k: v for k, v in r.items() if not a.tuning_only or k == "tuning"}
                          for s, r in out.items()}))


if __name__ == "__main__":
    main()
