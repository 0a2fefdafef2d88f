#!/usr/bin/env python3
"""Near-duplicate accuracy: real documents with planted copies of known 5-gram Jaccard.

    bench/.venv/bin/python bench/dedup/accuracy.py [--bin DIR] [--copies N] [--seed N]

Originals: the AEB articles (ground truth texts, $CRAWL2LM_SHARED_DATA/aeb) and the text of the
shared WARC files' pages (warc-extract --text), those of 60 words or more. For each of --copies
(default 3000) planted copies, an original is picked and edited at a random strength: words
inserted, deleted or substituted at random places, boilerplate appended, or the text cut short
(one edit kind per copy, strength drawn so the Jaccard similarities spread over 0..1). The true
Jaccard of the copy with its original is computed on the word 5-gram sets of the normalised
texts (the same normalisation as ours, in Python).

Each tool sees the originals, then the copies (shuffled), streaming: query, then insert (every
document, as ours remembers every document's keys). Detection by bucket: the copy's earliest
match is its own original (originals come first, so it is whenever the two share a band): the
rate against the theoretical 1 - (1 - J^8)^14 averaged over the bucket, with two standard
errors. Pairs at true Jaccard >= 0.8: recall (copies of J >= 0.8 paired with their family),
precision (paired copies whose J with their original is >= 0.8; a copy may also be paired
through a sibling copy it is closer to), and originals paired with another original (false
pairs between real documents).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
NONWORD = re.compile(r"[^\w]+|_")
DIGITS = re.compile(r"\d+")
BOILER = ("Share this article on Facebook Twitter and email. Subscribe to our newsletter for the "
          "latest updates. Copyright all rights reserved. Terms of use and privacy policy apply.")


def normalise(t):
    t = unicodedata.normalize("NFD", t.casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = DIGITS.sub("0", t)
    return " ".join(NONWORD.sub(" ", t).split())


def grams(t):
    w = normalise(t).split()
    return {" ".join(w[i:i + 5]) for i in range(len(w) - 4)} if len(w) >= 5 else ({" ".join(w)} if w else set())


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


def edit(r, text, vocab):
    w = text.split()
    kind = r.choice(["insert", "delete", "substitute", "append", "truncate"])
    s = r.random() ** 1.5  # more light edits than heavy ones
    n = max(1, int(len(w) * s * 0.6))
    if kind == "insert":
        for _ in range(n):
            w.insert(r.randrange(len(w) + 1), r.choice(vocab))
    elif kind == "delete":
        for _ in range(min(n, len(w) - 5)):
            del w[r.randrange(len(w))]
    elif kind == "substitute":
        for _ in range(n):
            w[r.randrange(len(w))] = r.choice(vocab)
    elif kind == "append":
        w += (BOILER.split() * (1 + int(s * 10)))
    else:
        w = w[:max(5, int(len(w) * (1 - s)))]
    return kind, " ".join(w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--copies", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-peer", action="store_true")
    a = ap.parse_args()
    shared = Path(os.environ.get("CRAWL2LM_SHARED_DATA", ROOT.parent / "shared" / "data"))
    gt = json.load(open(shared / "aeb" / "ground-truth.json", encoding="utf-8"))
    origs = [gt[k]["articleBody"] for k in sorted(gt)]
    for w in sorted((shared / "warc").glob("*.warc*")):
        if w.name.endswith((".wet", ".wet.gz", ".wat.gz", ".txt")):
            continue
        out = subprocess.run([str(Path(a.bin) / "warc-extract"), "--text", "--allow-truncated", "-q", str(w)],
                             capture_output=True, text=True).stdout
        origs += [json.loads(l)["text"] for l in out.splitlines() if l.strip()]
    seen, uniq = set(), []
    for t in origs:
        if len(t.split()) >= 60 and normalise(t) not in seen:
            seen.add(normalise(t))
            uniq.append(t)
    origs = uniq
    r = random.Random(a.seed)
    vocab = [x for t in origs[:50] for x in t.split()][:20000]
    copies = []
    for i in range(a.copies):
        o = r.randrange(len(origs))
        kind, t = edit(r, origs[o], vocab)
        copies.append((o, kind, t, jaccard(grams(origs[o]), grams(t))))
    r.shuffle(copies)
    # documents: originals first (family = own index), then the copies
    docs = [(i, t) for i, t in enumerate(origs)] + [(o, t) for o, _, t, _ in copies]
    fam = [f for f, _ in docs]
    path = ROOT / "bench" / "data" / "dedup-accuracy.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i, (_, t) in enumerate(docs):
            f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
    print(f"{len(origs)} originals, {len(copies)} copies ({', '.join(f'{k} {sum(c[1] == k for c in copies)}' for k in ('insert', 'delete', 'substitute', 'append', 'truncate'))})")

    res = subprocess.run([str(Path(a.bin) / "dedup-minhash"), "--annotate-only", "--no-exact", str(path)],
                         capture_output=True, text=True, check=True).stdout
    ours = [json.loads(l)["metadata"]["dedup"].get("duplicate_of") for l in res.splitlines()]
    results = {"dedup-minhash (ours)": ours}
    if not a.no_peer:
        import datasketch
        lsh = datasketch.MinHashLSH(num_perm=112, params=(14, 8))
        dsr = []
        for i, (_, t) in enumerate(docs):
            m = datasketch.MinHash(num_perm=112, seed=1)
            m.update_batch([g.encode() for g in grams(t)])
            hit = lsh.query(m)
            dsr.append(min(int(h) for h in hit) if hit else None)
            lsh.insert(str(i), m)  # every document, as ours remembers every document's keys
        results["datasketch " + datasketch.__version__] = dsr

    n0 = len(origs)
    buckets = [(0, .2), (.2, .4), (.4, .5), (.5, .6), (.6, .7), (.7, .8), (.8, .9), (.9, 1.01)]
    for name, dup in results.items():
        print(f"\n{name}")
        print(f"  {'Jaccard':>10} {'copies':>7} {'detected':>9} {'rate':>6} {'theory':>7} {'2 s.e.':>7}")
        for lo, hi in buckets:
            idx = [k for k, c in enumerate(copies) if lo <= c[3] < hi]
            if not idx:
                continue
            det = sum(1 for k in idx if dup[n0 + k] == copies[k][0])
            mj = sum(copies[k][3] for k in idx) / len(idx)
            th = sum(1 - (1 - copies[k][3] ** 8) ** 14 for k in idx) / len(idx)
            se = (th * (1 - th) / len(idx)) ** 0.5
            print(f"  {lo:4.1f}-{min(hi, 1):3.1f} {len(idx):7d} {det:9d} {det / len(idx):6.3f} {th:7.3f} {2 * se:7.3f}")
        hi_idx = [k for k, c in enumerate(copies) if c[3] >= 0.8]
        found = [k for k in range(len(copies)) if dup[n0 + k] is not None]
        right = sum(1 for k in found if fam[dup[n0 + k]] == copies[k][0] and copies[k][3] >= 0.8)
        rec = sum(1 for k in hi_idx if dup[n0 + k] is not None and fam[dup[n0 + k]] == copies[k][0]) / len(hi_idx)
        lowj = sum(1 for k in found if copies[k][3] < 0.5)
        wrong_orig = sum(1 for i in range(n0) if dup[i] is not None)
        prec = right / (len(found) + wrong_orig) if found else 0
        print(f"  pairs at J >= 0.8: recall {rec:.3f}, precision {prec:.3f} "
              f"({len(found)} copies paired, {lowj} of them below J 0.5 with their original; "
              f"{wrong_orig} originals paired with another original)")


if __name__ == "__main__":
    main()
