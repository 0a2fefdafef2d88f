#!/usr/bin/env python3
"""Score main-content extraction against the article extraction benchmark's ground truth.

    score.py PRED [--truth ground-truth.json] [--field text] [--per-doc] [--json]

PRED is JSON Lines, one record per page with "id" and the text field (--field, a dotted path
such as "text" or "metadata.x.y"; null counts as empty). Ids of the truth that PRED lacks count
as empty predictions; ids the truth lacks are ignored (both are counted and reported). PRED may
also be one of the benchmark's own output files (a .json object {id: {"articleBody": ...}},
optionally wrapped as {"version", "output"}), which is how this scorer was checked against it.

The metric is the one of scrapinghub/article-extraction-benchmark (evaluate.py), reproduced
exactly, edge cases included:
- tokens: re.findall(r"\\w+") on the text (Unicode \\w; case kept: its IGNORECASE flag has no
  effect on \\w), shingles: tuples of 4 consecutive tokens. A text of 1-3 tokens has one
  shingle, all its tokens; an empty (or tokenless) text has none.
- per document: tp, fp, fn over the shingle multisets (tp = sum of min counts), each then
  divided by tp+fp+fn so that every document weighs the same.
- precision = mean of tp/(tp+fp) over the documents whose prediction has shingles (an empty
  prediction does not lower precision; it costs recall); recall = mean of tp/(tp+fn) over the
  documents whose truth has shingles (all 181 here). F1 = 2PR/(P+R) of those means.
- accuracy: share of documents whose token lists are equal.
Bootstrap deviations of the original are left out (they are random; for 181 documents they are
about 0.005-0.02).
"""
import argparse
import json
import os
import re
import signal
import statistics
import sys
from collections import Counter

TOKEN_RE = re.compile(r"\w+")


def tokens(text):
    return TOKEN_RE.findall(text or "")


def shingles(toks, n=4):
    if not toks:
        return Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)))


def match(true, pred):
    """Normalised (tp, fp, fn) of two texts, as string_shingle_matching() of the benchmark."""
    t, p = shingles(tokens(true)), shingles(tokens(pred))
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def precision(tp, fp, fn):
    return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))


def recall(tp, fp, fn):
    return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))


def mean(xs):
    return statistics.mean(xs) if xs else 0.0  # exact, as the benchmark's


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def get_field(rec, path):
    for k in path.split("."):
        if not isinstance(rec, dict):
            return None
        rec = rec.get(k)
    return rec


def load_predictions(path, field):
    """{id: text}, plus the number of repeated ids (the last record wins)."""
    with open(path, encoding="utf-8") as f:
        data = f.read()
    if path.endswith(".json"):  # the benchmark's own format; else JSON Lines after all
        try:
            obj = json.loads(data)
            if isinstance(obj, dict) and set(obj) == {"version", "output"}:
                obj = obj["output"]
            return {k: (v or {}).get("articleBody") or "" for k, v in obj.items()}, 0
        except (ValueError, AttributeError):
            pass
    preds, dups = {}, 0
    for lineno, line in enumerate(data.split("\n"), 1):  # not splitlines(): U+2028 is no break
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.exit(f"{path}:{lineno}: not JSON: {e}")
        key = str(rec.get("id"))
        dups += key in preds
        text = get_field(rec, field)
        preds[key] = text if isinstance(text, str) else ""
    return preds, dups


def evaluate(truth, preds):
    docs = []
    for key in sorted(truth):
        true = truth[key].get("articleBody") or ""
        pred = preds.get(key, "")
        tp, fp, fn = match(true, pred)
        d = {"id": key, "url": truth[key].get("url", ""), "tp": tp, "fp": fp, "fn": fn,
             "pred_tokens": len(tokens(pred)), "true_tokens": len(tokens(true)),
             "exact": tokens(true) == tokens(pred)}
        d["precision"] = precision(tp, fp, fn) if tp + fp > 0 else None
        d["recall"] = recall(tp, fp, fn) if tp + fn > 0 else None
        d["f1"] = f1(d["precision"] or 0.0, d["recall"] or 0.0)
        docs.append(d)
    p = mean([d["precision"] for d in docs if d["precision"] is not None])
    r = mean([d["recall"] for d in docs if d["recall"] is not None])
    return {"precision": p, "recall": r, "f1": f1(p, r), "accuracy": mean([d["exact"] for d in docs]),
            "docs": len(docs), "empty": sum(d["pred_tokens"] == 0 for d in docs)}, docs


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    shared = os.environ.get("CRAWL2LM_SHARED_DATA", os.path.join(os.path.dirname(root), "shared", "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pred", help="predictions: JSON Lines with id and --field")
    ap.add_argument("--truth", default=os.path.join(shared, "aeb", "ground-truth.json"))
    ap.add_argument("--field", default="text", help="text field of PRED records (dotted path)")
    ap.add_argument("--per-doc", action="store_true", help="also print each document, worst F1 first")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under | head

    with open(args.truth, encoding="utf-8") as f:
        truth = json.load(f)
    preds, dups = load_predictions(args.pred, args.field)
    res, docs = evaluate(truth, preds)
    res["missing"] = sum(k not in preds for k in truth)
    res["unknown"] = sum(k not in truth for k in preds)
    res["duplicates"] = dups

    if args.json:
        if args.per_doc:
            res["per_doc"] = sorted(docs, key=lambda d: (d["f1"], d["id"]))
        print(json.dumps(res, indent=1))
        return
    print(f"P={res['precision']:.3f} R={res['recall']:.3f} F1={res['f1']:.3f} "
          f"accuracy={res['accuracy']:.3f} docs={res['docs']} empty={res['empty']} "
          f"missing={res['missing']} unknown={res['unknown']} duplicates={dups}")
    if args.per_doc:
        fmt = lambda x: "    -" if x is None else f"{x:.3f}"
        print(f"{'F1':>5} {'P':>5} {'R':>5} {'pred':>6} {'true':>6}  id url")
        for d in sorted(docs, key=lambda d: (d["f1"], d["id"])):
            print(f"{d['f1']:.3f} {fmt(d['precision'])} {fmt(d['recall'])} {d['pred_tokens']:6d} "
                  f"{d['true_tokens']:6d}  {d['id']} {d['url']}")
        print("(pred/true: tokens; P '-' = empty prediction, left out of the precision mean)")


if __name__ == "__main__":
    main()
