#!/usr/bin/env python3
"""Run one peer main-content extractor on every page of a JSON Lines file.

    peers.py NAME IN.jsonl OUT.jsonl [--no-warmup]

NAME is one of:
  trafilatura  trafilatura.extract(html, include_comments=False), as the article extraction
               benchmark ran it (trafilatura 2.0.0: F1 0.958 there)
  resiliparse  extract_plain_text(HTMLTree.parse(html), main_content=True)
  readability  readability-lxml Document(html).summary(html_partial=True), then the text of that
               HTML with html_text.extract_text, as the benchmark ran it
  justext      jusText with the benchmark's settings (English stop list, its 8 parameters),
               non-boilerplate paragraphs joined with spaces
  htmltext     html_text.extract_text(html): the whole page's text, no boilerplate removal
               (accuracy floor)
  htmlparse    lxml.html.fromstring(html) only, text left empty (parse-cost floor)

IN records need "id" and "html" ("url" is passed to peers that take one); OUT gets
{"id", "text"} per page in input order. A page on which the peer throws gets an empty text and
is counted as a failure. Everything runs in this one thread.

Timing covers only the extraction loop: modules are imported, IN is read, and one untimed
warm-up extraction of the first page runs before it (lazy initialisation; --no-warmup to skip);
OUT is written after it. The last line on stdout is machine-readable:
  peer=NAME docs=N failures=F wall_s=.. cpu_s=.. docs_per_s=.. mb_per_s=.. html_bytes=..
(cpu_s = process CPU time of the loop; MB/s = UTF-8 html bytes / 1e6 / wall_s).
"""
import argparse
import json
import sys
import time


def peer_trafilatura():
    import trafilatura

    return lambda html, url: trafilatura.extract(html, include_comments=False)


def peer_resiliparse():
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    return lambda html, url: extract_plain_text(HTMLTree.parse(html), main_content=True)


def peer_readability():
    import html_text
    from readability import Document

    return lambda html, url: html_text.extract_text(Document(html, url=url).summary(html_partial=True))


def peer_justext():
    import justext

    stoplist = justext.get_stoplist("English")  # the benchmark reloads it per page; not timed here

    def run(html, url):
        paragraphs = justext.justext(html, stoplist, 50, 200, 0.1, 0.2, 0.2, 200, True)
        return " ".join(p.text for p in paragraphs if not p.is_boilerplate)

    return run


def peer_htmltext():
    import html_text

    return lambda html, url: html_text.extract_text(html)


def peer_htmlparse():
    import lxml.html

    def run(html, url):
        lxml.html.fromstring(html)
        return ""

    return run


PEERS = {n[len("peer_"):]: f for n, f in globals().items() if n.startswith("peer_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", choices=sorted(PEERS))
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--no-warmup", action="store_true")
    args = ap.parse_args()

    extract = PEERS[args.name]()
    with open(args.input, encoding="utf-8") as f:
        pages = [json.loads(line) for line in f if line.strip()]
    html_bytes = sum(len((p.get("html") or "").encode("utf-8")) for p in pages)
    if pages and not args.no_warmup:
        try:
            extract(pages[0].get("html"), pages[0].get("url"))
        except Exception:
            pass

    texts, failures = [], []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for p in pages:
        try:
            texts.append(extract(p.get("html"), p.get("url")) or "")
        except Exception as e:  # the page scores as an empty prediction
            texts.append("")
            failures.append((p["id"], e))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    with open(args.output, "w", encoding="utf-8") as out:
        for p, text in zip(pages, texts):
            out.write(json.dumps({"id": p["id"], "text": text}, ensure_ascii=False) + "\n")
    for pid, e in failures[:5]:
        print(f"{args.name}: failed on {pid}: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
    n = len(pages)
    print(f"peer={args.name} docs={n} failures={len(failures)} wall_s={wall:.3f} cpu_s={cpu:.3f} "
          f"docs_per_s={n / wall:.1f} mb_per_s={html_bytes / 1e6 / wall:.2f} html_bytes={html_bytes}")


if __name__ == "__main__":
    main()
