#!/usr/bin/env python3
"""datatrove's URLFilter on a list of URLs: its decision for each, its load time and its speed.

    datatrove-run.py URLS OUT [--repeat N]

Runs datatrove 0.10.1's URLFilter() (its integrated lists: UT1's adult domains and URLs, the
banned, sub- and soft-banned words; soft_word_threshold 2) on every URL of URLS (one a line)
as a document's metadata url, calling filter(doc) as BaseFilter.run does, and writes one line
per URL to OUT: "keep" or "drop REASON" (datatrove's reason). tldextract reads the Public
Suffix List snapshot it ships (suffix_list_urls=(): no network, as on a machine without one;
with a network it would fetch the list of the day). Prints to stderr the CPU seconds of
loading the lists (the tar already extracted into datatrove's cache, as on every run after
the first) and the CPU microseconds per URL over N passes (default 3), single-threaded.
"""
import argparse
import time
import warnings

from datatrove.data import Document
from datatrove.pipeline.filters.url_filter import URLFilter
from tldextract import TLDExtract

warnings.simplefilter("ignore", DeprecationWarning)     # tldextract's registered_domain


def make_filter():
    f = URLFilter()
    f.tldextractor = TLDExtract(suffix_list_urls=())
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("urls")
    ap.add_argument("out")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    urls = open(a.urls, encoding="utf-8").read().split("\n")
    if urls and urls[-1] == "":
        urls.pop()
    make_filter().download_data()        # the first run extracts the tar into the cache
    f = make_filter()
    t0 = time.process_time()
    f.download_data()
    f.tldextractor("http://example.com/")  # tldextract reads its snapshot on first use
    load = time.process_time() - t0
    docs = [Document(text="", id=str(i), metadata={"url": u}) for i, u in enumerate(urls)]
    with open(a.out, "w", encoding="utf-8") as out:
        for d in docs:
            r = f.filter(d)
            out.write("keep\n" if r is True else f"drop {r[1]}\n")
    t0 = time.process_time()
    for _ in range(a.repeat):
        for d in docs:
            f.filter(d)
    per = (time.process_time() - t0) / max(1, a.repeat * len(docs))
    print(f"load_cpu_s {load:.3f}", flush=True, file=__import__("sys").stderr)
    print(f"lookup_us_per_url {per * 1e6:.2f} ({len(docs)} urls x {a.repeat})", file=__import__("sys").stderr)


if __name__ == "__main__":
    main()
