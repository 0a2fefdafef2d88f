#!/usr/bin/env python3
"""dedup-minhash against datasketch and rensa: documents per second, one core, same documents,
same parameters (word 5-grams of datatrove-style normalised text, 112 hashes as 14 bands x 8
rows, streaming: each document queried against the kept ones, then inserted if new).

    bench/.venv/bin/python bench/dedup/speed.py [--docs N] [--peer-docs N] [--bin DIR] [--million]

Documents: paragraphs (over 20 characters) of bench/data/corpus-en.jsonl and
bench/data/quality-docs.jsonl (real Debian text and web pages; bench/corpus and
bench/quality/make-input.py make them), the first --docs (default 200000), written to
bench/data/dedup-speed.jsonl. Ours: the whole process (`dedup-minhash --no-exact`), pinned to
one core, median of 3. The peers run their loop (normalise, shingle, MinHash, LSH query and
insert) on the first --peer-docs (default 20000) in this process; ours runs on those too, for
the ratio.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
NONWORD = re.compile(r"[^\w]+|_")
DIGITS = re.compile(r"\d+")


def normalise(t):
    t = unicodedata.normalize("NFD", t.casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = DIGITS.sub("0", t)
    return " ".join(NONWORD.sub(" ", t).split())


def shingles(t, n=5):
    w = t.split()
    if len(w) < n:
        return [" ".join(w)] if w else []
    return [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]


def run_ours(binary, path, runs, pin):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(pin + [binary, "--no-exact", path], check=True, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200000)
    ap.add_argument("--peer-docs", type=int, default=20000)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--million", action="store_true",
                    help="also: all paragraphs plus planted copies up to 1,000,000 documents, "
                         "through ours once, with time and peak memory (/usr/bin/time)")
    a = ap.parse_args()
    out = ROOT / "bench" / "data" / "dedup-speed.jsonl"
    part = ROOT / "bench" / "data" / "dedup-speed-part.jsonl"
    docs = []
    for src in ("corpus-en.jsonl", "quality-docs.jsonl"):
        p = ROOT / "bench" / "data" / src
        if not p.exists():
            continue
        for line in open(p, encoding="utf-8"):
            for para in json.loads(line)["text"].split("\n\n"):
                para = para.strip()
                if len(para) > 20:
                    docs.append(para)
                    if len(docs) >= a.docs:
                        break
            if len(docs) >= a.docs:
                break
    if not docs:
        sys.exit("no documents: make bench/data/corpus-en.jsonl or quality-docs.jsonl first")
    for path, n in ((out, len(docs)), (part, min(a.peer_docs, len(docs)))):
        with open(path, "w", encoding="utf-8") as f:
            for i, t in enumerate(docs[:n]):
                f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
    pin = ["taskset", "-c", "0"] if subprocess.run(["which", "taskset"], capture_output=True).returncode == 0 else []
    binary = str(Path(a.bin) / "dedup-minhash")
    np = min(a.peer_docs, len(docs))
    print(f"documents: {len(docs)} paragraphs ({sum(len(t.encode()) for t in docs) / 1e6:.1f} MB); peers on the first {np}")
    t_all = run_ours(binary, str(out), a.runs, pin)
    t_part = run_ours(binary, str(part), a.runs, pin)
    print(f"  {'dedup-minhash (whole process)':34} {t_all:8.3f} s {len(docs) / t_all:10.0f} docs/s  (all)")
    label = "dedup-minhash, the peers' part"
    print(f"  {label:34} {t_part:8.3f} s {np / t_part:10.0f} docs/s")
    import datasketch
    import rensa
    peers = {}

    def ds_run():
        lsh = datasketch.MinHashLSH(num_perm=112, params=(14, 8))
        dups = 0
        for i, t in enumerate(docs[:np]):
            m = datasketch.MinHash(num_perm=112, seed=1)
            m.update_batch([s.encode() for s in shingles(normalise(t))])
            if lsh.query(m):
                dups += 1
            else:
                lsh.insert(str(i), m)
        return dups

    def rensa_run():
        lsh = rensa.RMinHashLSH(threshold=0.8, num_perm=112, num_bands=14)
        dups = 0
        for i, t in enumerate(docs[:np]):
            m = rensa.RMinHash(num_perm=112, seed=1)
            m.update(shingles(normalise(t)))
            if lsh.query(m):
                dups += 1
            else:
                lsh.insert(i, m)
        return dups

    peers["datasketch " + datasketch.__version__] = ds_run
    peers["rensa"] = rensa_run
    for name, fn in peers.items():
        t0 = time.process_time()
        d = fn()
        dt = time.process_time() - t0
        print(f"  {name:34} {dt:8.3f} s {np / dt:10.0f} docs/s  ({d} near duplicates); ours is {dt / t_part:.1f}x faster")
    part.unlink()
    if a.million:
        import random
        r = random.Random(1)
        allp = []
        for src in ("corpus-en.jsonl", "quality-docs.jsonl"):
            p = ROOT / "bench" / "data" / src
            if p.exists():
                for line in open(p, encoding="utf-8"):
                    allp += [x.strip() for x in json.loads(line)["text"].split("\n\n") if len(x.strip()) > 20]
        big = ROOT / "bench" / "data" / "dedup-million.jsonl"
        with open(big, "w", encoding="utf-8") as f:
            n = 0
            for t in allp:
                f.write(json.dumps({"id": str(n), "text": t}, ensure_ascii=False) + "\n")
                n += 1
            while n < 1000000:  # planted copies: a word or two changed, or the same
                w = r.choice(allp).split()
                for _ in range(r.randrange(3)):
                    w[r.randrange(len(w))] = "edited"
                f.write(json.dumps({"id": str(n), "text": " ".join(w)}, ensure_ascii=False) + "\n")
                n += 1
        def timed(cmd, out=subprocess.DEVNULL):
            """(seconds, peak KiB) of one command, pinned like the rest"""
            res = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + pin + cmd, stdout=out,
                                 stderr=subprocess.PIPE, text=True, check=True)
            sec, kb = res.stderr.strip().splitlines()[-1].split()
            return float(sec), int(kb)

        stream_out = str(big) + ".out"
        with open(stream_out, "w") as o:
            sec, kb = timed([binary, "--stats", str(big) + ".stats", str(big)], o)
        st = json.load(open(str(big) + ".stats"))["dedup"]
        print(f"1,000,000 documents ({len(allp)} paragraphs + planted copies): {sec:.1f} s, "
              f"{1e6 / sec:.0f} docs/s, peak memory {kb / 1024:.0f} MiB "
              f"({kb * 1024 / 1e6:.0f} bytes a document, the whole process); tables "
              f"{st['table_bytes_per_document']} bytes a document (limit 256); {st['exact_duplicates']} exact, "
              f"{st['near_duplicates']} near duplicates")
        sec, kb = timed([binary, "--verify", "--stats", str(big) + ".stats", str(big)])
        st = json.load(open(str(big) + ".stats"))["dedup"]
        print(f"  --verify: {sec:.1f} s, peak memory {kb / 1024:.0f} MiB ({kb * 1024 / 1e6:.0f} bytes a document); "
              f"tables and signatures {st['table_bytes_per_document']} bytes a document; "
              f"{st['near_duplicates']} near duplicates")
        # the multi-step mode on 8 shards of the same file: the same output, and its costs
        lines = open(big, encoding="utf-8").readlines()
        shards = []
        for k in range(8):
            sp = ROOT / "bench" / "data" / f"dedup-million-{k}.jsonl"
            with open(sp, "w", encoding="utf-8") as f:
                f.writelines(lines[k * len(lines) // 8:(k + 1) * len(lines) // 8])
            shards.append(sp)
        del lines
        sign = [timed([binary, "sign", "-o", str(sp)[:-6] + ".sig", str(sp)]) for sp in shards]
        csec, ckb = timed([binary, "cluster", "--stats", str(big) + ".cstats"] + [str(sp)[:-6] + ".sig" for sp in shards])
        with open(str(big) + ".steps", "w") as o:
            filt = [timed([binary, "filter", "--list", str(sp)[:-6] + ".dups", str(sp)], o) for sp in shards]
        same = subprocess.run(["cmp", "-s", stream_out, str(big) + ".steps"]).returncode == 0
        cst = json.load(open(str(big) + ".cstats"))["dedup"]
        sig_bytes = sum((Path(str(sp)[:-6] + ".sig")).stat().st_size for sp in shards)
        print(f"  multi-step, 8 shards: sign {sum(x[0] for x in sign):.1f} s in all (max {max(x[1] for x in sign) / 1024:.0f} MiB; "
              f"signature files {sig_bytes / 1e6:.0f} bytes a document), cluster {csec:.1f} s "
              f"({ckb / 1024:.0f} MiB, {cst['sort_runs']} runs spilled), filter {sum(x[0] for x in filt):.1f} s in all; "
              f"output {'the same as' if same else 'DIFFERENT from'} the streaming run's")
        for sp in shards:
            for suf in (".jsonl", ".sig", ".dups"):
                Path(str(sp)[:-6] + suf).unlink(missing_ok=True)
        for suf in (".out", ".steps", ".cstats"):
            Path(str(big) + suf).unlink(missing_ok=True)

if __name__ == "__main__":
    main()
