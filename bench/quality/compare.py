#!/usr/bin/env python3
"""Compare quality-score's verdicts with datatrove's, document by document.

    compare.py OURS.jsonl DATATROVE.jsonl [--show N] [--family F] [--input DOCS.jsonl] [--json]
               [--by-set] [--tuning-only] [--extra DATATROVE-BADWORDS.jsonl]

OURS.jsonl: quality-score's output (`quality-score --annotate-only --preset fineweb`): every input
record with metadata.quality = {"pass": {family: bool}, "failed": [reason, ...], ...}.
DATATROVE.jsonl: datatrove-run.py's output: {"id", "pass", "reasons", "all_reasons"?}.
Records are matched by id. Families: gopher_repetition, gopher_quality, c4, fineweb, and with
--extra (datatrove-badwords.py's output, its families merged into datatrove's records)
c4_badwords, which "all four" leaves out.

Prints, per family, the share of documents whose pass/fail verdicts agree, with the confusion
counts, and the share where all four agree. Then, where both fail a family, how often
datatrove's reason (the first failing check: datatrove stops there) is among our reasons. If
DATATROVE.jsonl has all_reasons (every check that fails on its own), a table per reason: how
many documents each side flags with it. That table assumes our "failed" lists every failing
check; if ours stops at the first one per family too, read only its first-check rows.
--show N lists N disagreeing documents (id, family, our reasons, datatrove's reason(s), and an
excerpt of the text, taken from OURS.jsonl or from --input); --family limits them to one family.
--by-set adds the agreement per family for each set of documents (the id up to its first ':'),
its tuning part and its held-out part (about 30%, by a hash of the id: held_out()) apart;
--tuning-only leaves the held-out documents out of everything, the listed disagreements
included (what to look at while tuning). The exit status is 0 whatever the agreement (it is a report); bad files are reported, not fatal.
"""
import argparse
import hashlib
import json
import sys

FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
# datatrove 0.10.1's reason strings, in the order its filters check them
REASONS = {
    "gopher_repetition": ["empty", "dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac",
                          "top_2_gram", "top_3_gram", "top_4_gram"]
                         + [f"duplicated_{n}_n_grams" for n in range(5, 11)],
    "gopher_quality": ["gopher_short_doc", "gopher_long_doc", "gopher_below_avg_threshold",
                       "gopher_above_avg_threshold", "gopher_too_many_hashes", "gopher_too_many_ellipsis",
                       "gopher_too_many_bullets", "gopher_too_many_end_ellipsis", "gopher_below_alpha_threshold",
                       "gopher_enough_stop_words"],
    "c4": ["lorem_ipsum", "curly_bracket", "too_few_sentences"],
    "fineweb": ["empty", "line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio"],
    "c4_badwords": ["document_removed_with_badwords"],
}
ALL_KNOWN = {r for rs in REASONS.values() for r in rs}


def held_out(doc_id):
    """Whether a document is in the held-out part (about 30%, by a hash of its id): no tuning
    decision looks at those documents; --by-set reports them apart."""
    return int(hashlib.sha1(str(doc_id).encode("utf-8")).hexdigest(), 16) % 10 < 3


def doc_set(doc_id):
    """The set a document comes from: its id up to the first ':' (aeb, warc, readability, ...)."""
    return str(doc_id).split(":", 1)[0]


def read_jsonl(path, what):
    recs, bad = {}, 0
    order = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    bad += 1
                    continue
                i = rec.get("id")
                if i in recs:
                    print(f"{what}: id {i!r} repeated (line {n}); the first is used", file=sys.stderr)
                    continue
                recs[i] = rec
                order.append(i)
    except OSError as e:
        print(f"{what}: {e}", file=sys.stderr)
    if bad:
        print(f"{what}: {bad} line(s) are not JSON and were skipped", file=sys.stderr)
    return recs, order


def our_verdict(rec):
    """(pass dict or None, failed list) from metadata.quality."""
    q = (rec.get("metadata") or {}).get("quality")
    if not isinstance(q, dict) or not isinstance(q.get("pass"), dict):
        return None, []
    failed = q.get("failed") or []
    if not isinstance(failed, list):
        failed = [failed]
    return q["pass"], [str(x) for x in failed]


def excerpt(text, n=110):
    t = " ".join((text or "").split())
    return (t[:n] + "…") if len(t) > n else t


def pct(a, b):
    return f"{100 * a / b:6.2f}%" if b else "     -"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ours")
    ap.add_argument("datatrove")
    ap.add_argument("--show", type=int, default=0, metavar="N", help="list N disagreeing documents")
    ap.add_argument("--family", choices=FAMILIES + ("c4_badwords",), help="only list disagreements of this family")
    ap.add_argument("--input", help="the documents (for excerpts when OURS.jsonl has no text)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON instead")
    ap.add_argument("--by-set", action="store_true",
                    help="agreement per family for each set (id prefix), its tuning and held-out parts apart")
    ap.add_argument("--extra", help="datatrove-badwords.py's output: its families added to datatrove's")
    ap.add_argument("--tuning-only", action="store_true",
                    help="leave the held-out documents out of everything (the disagreements listed too)")
    args = ap.parse_args()

    ours, _ = read_jsonl(args.ours, "ours")
    dt, order = read_jsonl(args.datatrove, "datatrove")
    fams = FAMILIES
    if args.extra:
        extra_dt, _ = read_jsonl(args.extra, "extra")
        for i, r in extra_dt.items():
            if i in dt:
                dt[i]["pass"].update(r["pass"])
                dt[i]["reasons"].update(r["reasons"])
        fams = FAMILIES + tuple(f for f in ("c4_badwords",) if any(f in r["pass"] for r in extra_dt.values()))
    texts = {}
    if args.input:
        inp, _ = read_jsonl(args.input, "input")
        texts = {i: r.get("text", "") for i, r in inp.items()}

    missing = [i for i in order if i not in ours]
    extra = [i for i in ours if i not in dt]
    unannotated = []
    conf = {f: {"pp": 0, "ff": 0, "fp": 0, "pf": 0} for f in fams}   # ours, datatrove
    reason_hit = {f: [0, 0] for f in fams}
    all_agree = n = 0
    disagreements = []
    per_reason = {}          # reason -> [both, dt only, ours only]
    by_set = {}              # (set, held out) -> [documents, agree per family..., all four agree]
    have_all = False
    unknown_reasons = {}
    for i in order:
        if i not in ours or (args.tuning_only and held_out(i)):
            continue
        d = dt[i]
        p, failed = our_verdict(ours[i])
        if p is None:
            unannotated.append(i)
            continue
        n += 1
        for r in failed:
            if r not in ALL_KNOWN:
                unknown_reasons[r] = unknown_reasons.get(r, 0) + 1
        agree_all = True
        srow = by_set.setdefault((doc_set(i), held_out(i)), [0] * (len(fams) + 2))
        srow[0] += 1
        for k, f in enumerate(fams):
            o, t = bool(p.get(f, True)), bool(d["pass"].get(f, True))
            srow[1 + k] += o == t
            conf[f][("p" if o else "f") + ("p" if t else "f")] += 1
            if o != t:
                agree_all = agree_all and f not in FAMILIES
                disagreements.append((i, f))
            elif not o:
                reason_hit[f][1] += 1
                reason_hit[f][0] += d["reasons"][f] in failed
            if "all_reasons" in d and f in d["all_reasons"]:
                have_all = True
                dts = set(d["all_reasons"][f])
                for r in REASONS[f]:
                    a, b = r in dts, r in failed
                    if r == "empty":            # shared by two families: count it once per document
                        if f != "fineweb":
                            continue
                        a = a or "empty" in d["all_reasons"]["gopher_repetition"]
                    if a or b:
                        row = per_reason.setdefault(r, [0, 0, 0])
                        row[0 if a and b else 1 if a else 2] += 1
        all_agree += agree_all
        srow[-1] += agree_all

    summary = {
        "documents": n, "missing_in_ours": len(missing), "extra_in_ours": len(extra),
        "not_annotated": len(unannotated),
        "families": {f: {"agree": (conf[f]["pp"] + conf[f]["ff"]) / n if n else None, **conf[f],
                         "reason_match": reason_hit[f][0] / reason_hit[f][1] if reason_hit[f][1] else None}
                     for f in fams},
        "all_four_agree": all_agree / n if n else None,
        "per_reason": per_reason if have_all else None,
        "unknown_reasons": unknown_reasons,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0

    print(f"documents compared: {n}   (in datatrove's file: {len(order)}; missing from ours: {len(missing)}; "
          f"not in datatrove's: {len(extra)}; without metadata.quality.pass: {len(unannotated)})")
    for what, ids in (("missing from ours", missing), ("without metadata.quality", unannotated)):
        if ids:
            print(f"  {what}: {', '.join(map(str, ids[:5]))}{' ...' if len(ids) > 5 else ''}")
    print()
    print(f"{'family':18s} {'agree':>8s} {'both pass':>10s} {'both fail':>10s} {'only ours fails':>16s} "
          f"{'only dt fails':>14s} {'same reason':>12s}")
    for f in fams:
        c = conf[f]
        rh = reason_hit[f]
        print(f"{f:18s} {pct(c['pp'] + c['ff'], n):>8s} {c['pp']:10d} {c['ff']:10d} {c['fp']:16d} {c['pf']:14d} "
              f"{pct(rh[0], rh[1]):>12s}")
    print(f"{'all four':18s} {pct(all_agree, n):>8s}")
    print("(same reason: of the documents both fail, the share whose datatrove reason - its first failing check - "
          "is among ours)")
    if args.by_set:
        print()
        print("agreement per set (id prefix); tuning part and held-out part (compare.held_out) apart:")
        print(f"  {'set':24s} {'docs':>5s} " + " ".join(f"{f:>17s}" for f in fams) + f" {'all four':>9s}")
        tot = {h: [0] * (len(fams) + 2) for h in (False, True)}
        for (name, h), r in sorted(by_set.items()):
            tot[h] = [a + b for a, b in zip(tot[h], r)]
        rows = sorted(by_set.items()) + [(("all sets", False), tot[False]), (("all sets", True), tot[True])]
        for (name, h), r in rows:
            label = f"{name} ({'held out' if h else 'tuning'})"
            print(f"  {label:24s} {r[0]:5d} " + " ".join(f"{pct(a, r[0]):>17s}" for a in r[1:-1])
                  + f" {pct(r[-1], r[0]):>9s}")
    if unknown_reasons:
        print("reasons of ours that datatrove does not have: "
              + ", ".join(f"{r} ({c})" for r, c in sorted(unknown_reasons.items())))

    if have_all:
        print()
        print("per check (datatrove: fails on its own, all_reasons; ours: in metadata.quality.failed)")
        print(f"  {'reason':30s} {'both':>6s} {'only dt':>8s} {'only ours':>10s}")
        for f in FAMILIES:
            for r in REASONS[f]:
                if r == "empty" and f != "fineweb":
                    continue
                row = per_reason.get(r)
                if row:
                    print(f"  {r:30s} {row[0]:6d} {row[1]:8d} {row[2]:10d}")

    if args.show:
        shown = [(i, f) for i, f in disagreements if not args.family or f == args.family]
        print()
        print(f"disagreements: {len(shown)}" + (f" in {args.family}" if args.family else "")
              + (f", the first {min(args.show, len(shown))}:" if shown else ""))
        for i, f in shown[:args.show]:
            d = dt[i]
            p, failed = our_verdict(ours[i])
            mine = [r for r in failed if r in REASONS[f] or r not in ALL_KNOWN]
            text = ours[i].get("text")
            if text is None:
                text = texts.get(i, "")
            print(f"- {i}  [{f}]  ours: {'pass' if p.get(f, True) else 'FAIL'} {mine or ''}  "
                  f"datatrove: {'pass' if d['pass'].get(f, True) else 'FAIL ' + str(d['reasons'][f])}"
                  + (f" (all: {d['all_reasons'][f]})" if d.get("all_reasons", {}).get(f) else ""))
            print(f"    {len(text)} chars: {excerpt(text)!r}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a report: say what went wrong, exit 0
        print(f"compare.py: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(0)
