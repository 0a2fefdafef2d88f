#!/usr/bin/env python3
"""The quality classifier's data, in the GPT-3/DCLM manner: reference text against raw crawl.

  make-data.py SHARED CORPUS_EN CORPUS_HTML WARC_PAGES OUT_DIR

hq (positives): the article bodies of the two shared extraction benchmarks (SHARED/aeb,
SHARED/readability: real web articles, their ground truth) and chunks of Debian documentation
(CORPUS_EN, bench/corpus's corpus-en.jsonl: Perl's documentation and the man pages; not its
Python and Linux documents, whose HTML pages are negatives).
web (negatives): raw web pages as text, without boilerplate removal (lxml's text of <body>,
scripts and styles left out): the shared WARC files' pages (WARC_PAGES: warc-extract's
records) and the Python and Linux HTML documentation pages (CORPUS_HTML, bench/corpus's
corpus-html.jsonl), as many as the positives. The split is fixed by a hash of the id (30% held out):
OUT_DIR/train.jsonl and OUT_DIR/test.jsonl, records {"id", "label", "text"}.
"""
import hashlib, json, os, random, re, sys

import lxml.html

shared, corpus_en, corpus_html, warc_pages, out = sys.argv[1:6]
rng = random.Random(1)
recs = []


def raw_text(html):
    try:
        doc = lxml.html.fromstring(html)
    except Exception:
        return ""
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    body = doc.find("body")
    t = (body if body is not None else doc).text_content()
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n", t)).strip()


for bench in ("aeb", "readability"):
    gt = json.load(open(os.path.join(shared, bench, "ground-truth.json"), encoding="utf-8"))
    for k in sorted(gt):
        body = gt[k].get("articleBody") or ""
        if len(body) >= 200:
            recs.append({"id": f"{bench}:{k}", "label": "hq", "text": body})

seen = set()
for line in open(warc_pages, encoding="utf-8"):
    r = json.loads(line)
    if r["id"] in seen:  # the shared files hold some pages twice (a .warc and its .warc.gz)
        continue
    seen.add(r["id"])
    t = raw_text(r.get("html", "").encode("utf-8", "surrogatepass")) if r.get("html") else ""
    if len(t) >= 200:
        recs.append({"id": "warc:" + r["id"], "label": "web", "text": t})

# documentation: chunks of 1,000 - 6,000 characters at paragraph ends, from as many documents
docs = [json.loads(l) for l in open(corpus_en, encoding="utf-8")]
docs = [d for d in docs if d.get("source", "").startswith(("perl-doc", "manpages"))]
rng.shuffle(docs)
for d in docs[:1000]:
    cur = ""
    for p in d["text"].split("\n\n"):
        cur = cur + "\n\n" + p if cur else p
        if len(cur) >= 1000 + 5000 * rng.random():
            break
    if len(cur) >= 200:
        recs.append({"id": "doc:" + d["id"], "label": "hq", "text": cur[:20000]})

# raw documentation pages, as many as the positives less the WARC pages
nhq = sum(r["label"] == "hq" for r in recs)
pages = [json.loads(l) for l in open(corpus_html, encoding="utf-8")]
rng.shuffle(pages)
for pg in pages:
    if sum(r["label"] == "web" for r in recs) >= nhq:
        break
    t = raw_text(pg["html"].encode("utf-8", "surrogatepass"))
    if len(t) >= 200:
        recs.append({"id": "html:" + pg["id"], "label": "web", "text": t[:50000]})

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "train.jsonl"), "w", encoding="utf-8") as tr, \
        open(os.path.join(out, "test.jsonl"), "w", encoding="utf-8") as te:
    for r in recs:
        h = int(hashlib.sha256(r["id"].encode()).hexdigest()[:8], 16) / 2**32
        (te if h < 0.3 else tr).write(json.dumps(r, ensure_ascii=False) + "\n")
for name in ("train", "test"):
    n = {"hq": 0, "web": 0}
    for l in open(os.path.join(out, name + ".jsonl"), encoding="utf-8"):
        n[json.loads(l)["label"]] += 1
    print(f"{name}: {n['hq']} hq, {n['web']} web", file=sys.stderr)
