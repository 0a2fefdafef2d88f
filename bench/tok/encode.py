#!/usr/bin/env python3
"""bpe-encode against tiktoken: encoding speed, MB/s of UTF-8 text, same documents, same run.

    bench/.venv/bin/python bench/tok/encode.py [--mb 50] [--runs 3] [--threads 1,2] [--bin DIR]
                                               [--only r50k_base,cl100k_base,o200k_base]

Text: the documents of bench/data/corpus-en.jsonl (bench/corpus/make-corpus.sh en makes it;
if it is missing, tests/data/tok/mix.jsonl.zst), in file order, until --mb MB (10^6 bytes of
UTF-8 text) are reached; written as {"id","text"} JSONL to bench/data/tok-encode.jsonl.
Tokenizers: r50k_base, cl100k_base, o200k_base from the shared rank files
($CRAWL2LM_SHARED_DATA/tokenizers/*.tiktoken; default: ../shared/data beside the repository),
with tiktoken's own patterns and special tokens (tiktoken_ext.openai_public's constructors). Special-token texts are ordinary text on both sides.

- tiktoken: 1 thread `[enc.encode_ordinary(t) for t in texts]`, T threads
  `enc.encode_ordinary_batch(texts, num_threads=T)`; the loop alone is timed (no reading, no
  Encoding construction).
- ours: the whole process `bpe-encode -t RANKFILE -j T FILE -o /dev/null`, timed from outside:
  start-up, loading the ranks, reading and parsing JSON, writing the binary stream all count.
Runs are interleaved (tiktoken, ours, tiktoken, ours, ...); medians of --runs. Then, once per
tokenizer, our ids (`bpe-encode --jsonl --drop-text`) are compared document by document with
tiktoken's. Last, for each thread count T > 1, MB/s with T threads over MB/s with 1 thread.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read the shared rank files, cache nothing

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiktoken_local import NAMES, SHARED_TOK, load_encoding  # noqa: E402
import tiktoken  # noqa: E402

def read_texts(mb):
    src = ROOT / "bench" / "data" / "corpus-en.jsonl"
    if src.exists():
        lines = open(src, encoding="utf-8")
    else:
        src = ROOT / "tests" / "data" / "tok" / "mix.jsonl.zst"
        print(f"bench/data/corpus-en.jsonl missing (bench/corpus/make-corpus.sh en); using {src.name}")
        data = subprocess.run(["zstd", "-dc", str(src)], check=True, capture_output=True).stdout
        lines = [l for l in data.decode("utf-8").split("\n") if l]
    texts, n = [], 0
    for line in lines:
        t = json.loads(line)["text"]
        texts.append(t)
        n += len(t.encode("utf-8"))
        if n >= mb * 1e6:
            break
    return src, texts, n

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", default=",".join(NAMES))
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    a = ap.parse_args()
    threads = [int(x) for x in a.threads.split(",")]
    src, texts, nbytes = read_texts(a.mb)
    path = ROOT / "bench" / "data" / "tok-encode.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
    mb = nbytes / 1e6
    binary = str(Path(a.bin) / "bpe-encode")
    print(f"text: {len(texts)} documents of {src.name}, {mb:.1f} MB; tiktoken {tiktoken.__version__}; "
          f"{os.cpu_count()} CPUs; medians of {a.runs}")
    print(f"  {'tokenizer':12} {'threads':>7} {'tiktoken MB/s':>14} {'ours MB/s':>10} {'ours/tiktoken':>14}")
    rows = []
    for name in a.only.split(","):
        enc = load_encoding(name)
        rank = str(SHARED_TOK / f"{name}.tiktoken")
        expected = None
        for T in threads:
            tt, to = [], []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                if T == 1:
                    ids = [enc.encode_ordinary(t) for t in texts]
                else:
                    ids = enc.encode_ordinary_batch(texts, num_threads=T)
                tt.append(time.perf_counter() - t0)
                if expected is None:
                    expected = ids
                del ids
                t0 = time.perf_counter()
                subprocess.run([binary, "-t", rank, "-j", str(T), str(path), "-o", "/dev/null"],
                               check=True)
                to.append(time.perf_counter() - t0)
            mt, mo = mb / statistics.median(tt), mb / statistics.median(to)
            rows.append((name, T, mt, mo))
            print(f"  {name:12} {T:7} {mt:14.1f} {mo:10.1f} {mo / mt:13.2f}x", flush=True)
        # ids, once: ours as JSONL, compared document by document
        out = subprocess.run([binary, "-t", rank, "--jsonl", "--drop-text", str(path)],
                             check=True, capture_output=True).stdout.decode("utf-8").split("\n")
        out = [l for l in out if l]
        same, first = 0, None
        for i, line in enumerate(out):
            r = json.loads(line)
            if r["ids"] == expected[int(r["id"])]:
                same += 1
            elif first is None:
                first = r["id"]
        ntok = sum(len(x) for x in expected)
        if same == len(texts) == len(out):
            print(f"  {name:12} ids: all {len(texts)} documents identical ({ntok} tokens)")
        else:
            print(f"  {name:12} ids: {same} of {len(texts)} documents identical, {len(out)} records "
                  f"out; first differing document id {first}")
        del expected
    path.unlink()
    # scaling: MB/s with T threads over MB/s with 1 thread, for both
    one = {name: (mt, mo) for name, T, mt, mo in rows if T == 1}
    for name, T, mt, mo in rows:
        if T != 1 and name in one:
            print(f"  {name:12} {T} threads / 1 thread: tiktoken {mt / one[name][0]:.2f}x, "
                  f"ours {mo / one[name][1]:.2f}x")

if __name__ == "__main__":
    main()
