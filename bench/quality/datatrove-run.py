#!/usr/bin/env python3
"""Run datatrove's heuristic quality filters on JSON Lines records, each filter on its own.

    datatrove-run.py IN.jsonl OUT.jsonl [--no-all-reasons | --verdicts-only] [--text-field text] [--id-field id]

Filters (datatrove's own classes, default parameters, language English):
  gopher_repetition  GopherRepetitionFilter()
  gopher_quality     GopherQualityFilter()
  c4                 C4QualityFilter(filter_no_terminal_punct=False): C4's defaults except that
                     lines without terminal punctuation are kept, as FineWeb's pipeline runs it
  fineweb            FineWebQualityFilter()

Every filter sees the document's original text (C4QualityFilter rewrites doc.text, so each
filter gets its own Document). The filters' filter(doc) method is called directly: it is the
call BaseFilter.run makes in a pipeline, whose result (True, False or (False, reason)) is read
with datatrove's own get_filter_result.

Output, one line per input record, in input order:
  {"id", "pass": {family: bool}, "reasons": {family: reason or null},
   "all_reasons": {family: [reason, ...]}}
"reasons" is what the filter returns: only the FIRST failing check (datatrove stops there).
"all_reasons" (left out with --no-all-reasons; computed after the timed loops, untimed) lists
every check that fails on its own: for each check, the same filter class is built with that
check alone enabled (the others disabled through their parameters) and run on the original
text. A check that raises on its own (e.g. a ratio over zero words when the word-count check
that normally guards it is disabled) is left out.

Timing (single thread; after imports, reading, Document creation and one untimed warm-up call
per filter; before writing): one loop per filter over all documents, with datatrove's
word-split cache (an lru_cache(5) on split_into_parts) cleared before each, so each filter
pays for its own spaCy tokenization; then one loop that runs all four on each document in turn,
as a pipeline would, where the three filters that split the same text into words share one
tokenization through that cache. The last line is machine-readable:
  TIMING docs=N bytes=B per_doc_s=S sum_filters_s=S gopher_repetition_s=S ... cpu_s=S
MB/s are of UTF-8 text bytes (10^6 bytes per MB). --verdicts-only leaves out the all-four loop
(its time reads 0) and all_reasons: the verdicts alone, in about half the time.
"""
import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # nothing here needs the network

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.filters.base_filter import get_filter_result  # noqa: E402
from datatrove.utils.text import split_into_parts  # noqa: E402

FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
INF = float("inf")


def make_filters():
    return {
        "gopher_repetition": GopherRepetitionFilter(),
        "gopher_quality": GopherQualityFilter(),
        # FineWeb's pipeline: C4QualityFilter(filter_no_terminal_punct=False); everything else default
        "c4": C4QualityFilter(filter_no_terminal_punct=False),
        "fineweb": FineWebQualityFilter(),
    }


def isolated_filters():
    """{family: [(reason, filter with only the check behind `reason` enabled)]}, in datatrove's order."""
    rep_off = dict(dup_line_frac=None, dup_para_frac=None, dup_line_char_frac=None, dup_para_char_frac=None,
                   top_n_grams=(), dup_n_grams=())
    rep = [("dup_para_frac", {"dup_para_frac": 0.3}), ("dup_para_char_frac", {"dup_para_char_frac": 0.2}),
           ("dup_line_frac", {"dup_line_frac": 0.3}), ("dup_line_char_frac", {"dup_line_char_frac": 0.2})]
    rep += [(f"top_{n}_gram", {"top_n_grams": ((n, f),)}) for n, f in ((2, 0.2), (3, 0.18), (4, 0.16))]
    rep += [(f"duplicated_{n}_n_grams", {"dup_n_grams": ((n, f),)})
            for n, f in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))]
    q_off = dict(min_doc_words=None, max_doc_words=None, min_avg_word_length=None, max_avg_word_length=None,
                 max_symbol_word_ratio=None, max_bullet_lines_ratio=None, max_ellipsis_lines_ratio=None,
                 max_non_alpha_words_ratio=None, min_stop_words=None)
    q = [("gopher_short_doc", {"min_doc_words": 50}), ("gopher_long_doc", {"max_doc_words": 100000}),
         ("gopher_below_avg_threshold", {"min_avg_word_length": 3}),
         ("gopher_above_avg_threshold", {"max_avg_word_length": 10}),
         # one parameter drives both the '#' and the ellipsis ratio: both reasons come from this run
         ("gopher_too_many_hashes|gopher_too_many_ellipsis", {"max_symbol_word_ratio": 0.1}),
         ("gopher_too_many_bullets", {"max_bullet_lines_ratio": 0.9}),
         ("gopher_too_many_end_ellipsis", {"max_ellipsis_lines_ratio": 0.3}),
         ("gopher_below_alpha_threshold", {"max_non_alpha_words_ratio": 0.8}),
         ("gopher_enough_stop_words", {"min_stop_words": 2})]
    c4_off = dict(filter_no_terminal_punct=False, filter_lorem_ipsum=False, filter_curly_bracket=False,
                  min_num_sentences=-1)
    c4 = [("lorem_ipsum", {"filter_lorem_ipsum": True}), ("curly_bracket", {"filter_curly_bracket": True}),
          ("too_few_sentences", {"min_num_sentences": 5})]
    fw_off = dict(line_punct_thr=-INF, short_line_thr=INF, char_duplicates_ratio=INF, new_line_ratio=INF)
    fw = [("line_punct_ratio", {"line_punct_thr": 0.12}), ("short_line_ratio", {"short_line_thr": 0.67}),
          ("char_dup_ratio", {"char_duplicates_ratio": 0.01}), ("list_ratio", {"new_line_ratio": 0.3})]
    return {
        "gopher_repetition": [(r, GopherRepetitionFilter(**{**rep_off, **kw})) for r, kw in rep],
        "gopher_quality": [(r, GopherQualityFilter(**{**q_off, **kw})) for r, kw in q],
        "c4": [(r, C4QualityFilter(**{**c4_off, **kw})) for r, kw in c4],
        "fineweb": [(r, FineWebQualityFilter(**{**fw_off, **kw})) for r, kw in fw],
    }


def all_reasons(iso, text):
    out = {}
    for fam, checks in iso.items():
        reasons = []
        for _, f in checks:
            try:
                ok, reason = get_filter_result(f.filter(Document(text=text, id="")))
            except (ZeroDivisionError, ValueError, IndexError):
                continue
            if not ok and reason and reason not in reasons:
                reasons.append(reason)
        out[fam] = reasons
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--no-all-reasons", action="store_true", help="skip the untimed per-check runs")
    ap.add_argument("--verdicts-only", action="store_true",
                    help="only the verdicts: no pipeline-like timing loop, no per-check runs")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--id-field", default="id")
    args = ap.parse_args()

    ids, texts = [], []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ids.append(rec.get(args.id_field))
            texts.append(rec.get(args.text_field) or "")
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    n = len(texts)

    filters = make_filters()
    # one Document per (filter, document), made before timing: C4 rewrites doc.text
    docs = {fam: [Document(text=t, id=str(i)) for i, t in zip(ids, texts)] for fam in FAMILIES}
    docs_pd = {fam: [Document(text=t, id=str(i)) for i, t in zip(ids, texts)] for fam in FAMILIES}
    warm = "The house is near the river. It has a garden with old trees and a wooden gate.\n" * 3
    for f in filters.values():             # untimed warm-up: builds spaCy's English tokenizer
        f.filter(Document(text=warm, id="warm-up"))

    results = {fam: [None] * n for fam in FAMILIES}
    secs, cpus = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fam in FAMILIES:
            flt, dl, res = filters[fam].filter, docs[fam], results[fam]
            split_into_parts.cache_clear()
            c0, t0 = time.process_time(), time.perf_counter()
            for i in range(n):
                res[i] = flt(dl[i])
            secs[fam], cpus[fam] = time.perf_counter() - t0, time.process_time() - c0

        # all four per document, as a pipeline runs them (word splits shared through the cache)
        split_into_parts.cache_clear()
        if args.verdicts_only:
            n_timed = 0
            args.no_all_reasons = True
        else:
            n_timed = n
        fl = [filters[fam].filter for fam in FAMILIES]
        dl = [docs_pd[fam] for fam in FAMILIES]
        c0, t0 = time.process_time(), time.perf_counter()
        for i in range(n_timed):
            for k in range(4):
                fl[k](dl[k][i])
        per_doc, per_doc_cpu = time.perf_counter() - t0, time.process_time() - c0

    iso = None if args.no_all_reasons else isolated_filters()
    passes = {fam: 0 for fam in FAMILIES}
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            rec = {"id": ids[i], "pass": {}, "reasons": {}}
            for fam in FAMILIES:
                ok, reason = get_filter_result(results[fam][i])
                rec["pass"][fam] = bool(ok)
                rec["reasons"][fam] = None if ok else reason
                passes[fam] += bool(ok)
            if iso is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rec["all_reasons"] = all_reasons(iso, texts[i])
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")

    mb = nbytes / 1e6
    from importlib.metadata import version
    print(f"datatrove {version('datatrove')}, spacy {version('spacy')}: {n} documents, {nbytes} text bytes, "
          f"single thread")
    for fam in FAMILIES:
        print(f"  {fam:18s} {secs[fam]:8.3f} s  {mb / secs[fam]:7.2f} MB/s  pass {passes[fam]}/{n}"
              f" ({100 * passes[fam] / max(n, 1):.1f}%)")
    tot = sum(secs.values())
    print(f"  {'sum of the four':18s} {tot:8.3f} s  {mb / tot:7.2f} MB/s  (each filter tokenizes on its own)")
    print(f"  {'all four per doc':18s} {per_doc:8.3f} s  {mb / max(per_doc, 1e-9):7.2f} MB/s  (pipeline-like: one word split "
          f"shared by three filters)")
    print(f"TIMING docs={n} bytes={nbytes} per_doc_s={per_doc:.4f} per_doc_cpu_s={per_doc_cpu:.4f} "
          f"sum_filters_s={tot:.4f} "
          + " ".join(f"{fam}_s={secs[fam]:.4f}" for fam in FAMILIES))


if __name__ == "__main__":
    main()
