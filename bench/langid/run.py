#!/usr/bin/env python3
"""run.py - language identification accuracy of quality-score (CLD2) on Debian's translated
man pages (bench/data/corpus-lang.jsonl, made by bench/corpus/make-corpus.sh), per language
and per text length: each page's text from its second paragraph on (past the header line,
which names the command), whitespace collapsed, cut at LENGTHS characters.

Usage: bench/.venv/bin/python bench/langid/run.py [corpus-lang.jsonl]   (BIN= to pick the build)
"""
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.path.join(os.environ.get("BIN", os.path.join(root, "build/bin")), "quality-score")
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "bench/data/corpus-lang.jsonl")
lengths = [50, 100, 200, 500, 2000]

docs = []
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    m = r.get("metadata", {})
    loc = m.get("locale") or m.get("lang")
    want = "zh-Hant" if loc == "zh_TW" else m.get("lang")
    t = r["text"]
    i = t.find("\n\n")
    t = re.sub(r"\s+", " ", t[i:] if i >= 0 else t).strip()
    docs.append((r["id"], want, t))

acc = defaultdict(lambda: defaultdict(lambda: [0, 0]))
for n in lengths:
    batch = [(i, w, t[:n]) for i, w, t in docs if len(t) >= n]
    inp = "".join(json.dumps({"id": i, "text": t, "want": w}, ensure_ascii=False) + "\n" for i, w, t in batch)
    out = subprocess.run([binary, "--preset", "none", "--annotate-only"], input=inp.encode(),
                         capture_output=True, check=True).stdout.decode()
    for line in out.splitlines():
        r = json.loads(line)
        a = acc[r["want"]][n]
        a[0] += 1
        a[1] += r["metadata"]["lang"]["code"] == r["want"]

print(f"{'lang':8}" + "".join(f"{n:>8}" for n in lengths) + f"{'pages':>8}")
tot = defaultdict(lambda: [0, 0])
for lang in sorted(acc):
    row = f"{lang:8}"
    for n in lengths:
        k, ok = acc[lang][n]
        tot[n][0] += k
        tot[n][1] += ok
        row += f"{ok / k:8.3f}" if k else f"{'-':>8}"
    print(row + f"{acc[lang][lengths[0]][0]:8d}")
print(f"{'all':8}" + "".join(f"{tot[n][1] / tot[n][0]:8.3f}" for n in lengths))
print("(accuracy: share of pages whose identified language is the label; columns: characters)")
