#!/usr/bin/env python3
"""Do Hugging Face tokenizers read our tokenizer.json files and encode as we do?

    bench/.venv/bin/python bench/tok/hf-json.py [--train-mb 4] [--held-mb 2] [--bin DIR]

1. For r50k_base, cl100k_base, o200k_base: `bpe-encode -t RANKFILE --write-tokenizer X.json`
   (rank files: ../shared/data/tokenizers/ beside the repository),
   `tokenizers.Tokenizer.from_file(X.json)`, then
   every document of tests/data/tok/mix.jsonl.zst encoded with
   `encode_batch(texts, add_special_tokens=False)` and compared with tiktoken's
   `encode_ordinary` (tiktoken's own patterns and specials, ranks from the same files).
   Hugging Face always matches added (special) tokens inside the text, so documents
   containing "<|" are counted apart and compared with `encode(t, allowed_special="all")`.
2. bpe-train on the first --train-mb MB of bench/data/corpus-en.jsonl (or of mix.jsonl.zst if
   that is missing), --vocab-size 4096; then held-out text (the next --held-mb MB of the
   same file, plus all of mix.jsonl.zst when training on corpus-en) encoded by Hugging Face
   with that tokenizer.json and by `bpe-encode -t that.json --jsonl --allow-special`,
   compared document by document (here too "<|" documents apart).
Prints, for each, the identical and different documents and the first difference, and the
special tokens' ids when Hugging Face's differ from tiktoken's. The files are tested as
bpe-encode and bpe-train write them.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["TIKTOKEN_CACHE_DIR"] = ""

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiktoken_local import NAMES, SHARED_TOK, load_encoding  # noqa: E402
import tiktoken  # noqa: E402
MIX = ROOT / "tests" / "data" / "tok" / "mix.jsonl.zst"
CORPUS = ROOT / "bench" / "data" / "corpus-en.jsonl"

def read_jsonl(path):
    if path.suffix == ".zst":
        data = subprocess.run(["zstd", "-dc", str(path)], check=True, capture_output=True).stdout
        return [json.loads(l)["text"] for l in data.decode("utf-8").split("\n") if l]
    return [json.loads(l)["text"] for l in open(path, encoding="utf-8")]

def take(texts, mb):
    out, n = [], 0
    while texts and n < mb * 1e6:
        t = texts.pop(0)
        out.append(t)
        n += len(t.encode("utf-8"))
    return out

def first_diff(a, b):
    return next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))

def compare(label, texts, ours, theirs, decode, ours_name, theirs_name):
    """ours, theirs: lists of id lists, one per text; decode: a pair of id -> token string"""
    counts = {False: [0, 0], True: [0, 0]}  # has "<|" -> [identical, different]
    first = None
    for i, (t, a, b) in enumerate(zip(texts, ours, theirs)):
        sp = "<|" in t
        if a == b:
            counts[sp][0] += 1
        else:
            counts[sp][1] += 1
            if first is None and not sp:
                first = i
    n0, n1 = counts[False], counts[True]
    print(f"  {label}: {n0[0]} identical, {n0[1]} different"
          + (f"; with \"<|\" (special tokens matched on both sides): {n1[0]} identical, "
             f"{n1[1]} different" if sum(n1) else ""))
    if first is None and n1[1]:
        first = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
    if first is not None:
        a, b = ours[first], theirs[first]
        k = first_diff(a, b)
        lo = max(0, k - 3)
        show = lambda ids, d: " ".join(f"{x}:{d(x)!r}" for x in ids[lo:k + 4])
        print(f"    first difference: document {first} ({len(texts[first])} chars), token {k}:\n"
              f"      {ours_name:10} {show(a, decode[0])}\n      {theirs_name:10} {show(b, decode[1])}")

def main():
    tmp = Path(tempfile.mkdtemp(prefix="tok-hf-", dir=ROOT / "bench" / "data"))
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)

def run(tmp):
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-mb", type=float, default=4)
    ap.add_argument("--held-mb", type=float, default=2)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    a = ap.parse_args()
    enc_bin = str(Path(a.bin) / "bpe-encode")
    mix = read_jsonl(MIX)
    print(f"tokenizers {tokenizers.__version__}, tiktoken {tiktoken.__version__}; "
          f"{MIX.name}: {len(mix)} documents, {sum(len(t.encode()) for t in mix) / 1e6:.1f} MB, "
          f"{sum('<|' in t for t in mix)} with \"<|\"")
    print("1. our tokenizer.json from the rank files, read by Hugging Face, against tiktoken:")
    for name in NAMES:
        js = tmp / f"{name}.json"
        subprocess.run([enc_bin, "-t", str(SHARED_TOK / f"{name}.tiktoken"), "--write-tokenizer",
                        str(js)], check=True)
        enc = load_encoding(name)
        theirs = [enc.encode(t, allowed_special="all") if "<|" in t else enc.encode_ordinary(t)
                  for t in mix]
        hf = Tokenizer.from_file(str(js))
        ours = [e.ids for e in hf.encode_batch(mix, add_special_tokens=False)]
        compare(f"{name} ({hf.get_vocab_size()} tokens)", mix, ours, theirs,
                (hf.id_to_token, enc.decode_single_token_bytes), "HF", "tiktoken")
        specials = {v.content: k for k, v in hf.get_added_tokens_decoder().items()}
        want = {t: enc.encode_single_token(t) for t in enc.special_tokens_set}
        if specials != want:
            print(f"    special tokens: Hugging Face gives {specials}, tiktoken {want}")
    print("2. a tokenizer from bpe-train, Hugging Face against bpe-encode on held-out text:")
    src = CORPUS if CORPUS.exists() else MIX
    if src is MIX:
        print(f"  (bench/data/corpus-en.jsonl missing: training on {MIX.name})")
    texts = read_jsonl(src) if src is CORPUS else list(mix)
    train = take(texts, a.train_mb)
    held = take(texts, a.held_mb) + (mix if src is CORPUS else [])
    for path, docs in ((tmp / "train.jsonl", train), (tmp / "held.jsonl", held)):
        with open(path, "w", encoding="utf-8") as f:
            for i, t in enumerate(docs):
                f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
    js = tmp / "trained.json"
    subprocess.run([str(Path(a.bin) / "bpe-train"), "--vocab-size", "4096", "-o", str(js),
                    str(tmp / "train.jsonl")], check=True)
    out = subprocess.run([enc_bin, "-t", str(js), "--jsonl", "--drop-text", "--allow-special",
                          str(tmp / "held.jsonl")],
                         check=True, capture_output=True).stdout.decode("utf-8").split("\n")
    ours = [None] * len(held)
    for line in filter(None, out):
        r = json.loads(line)
        ours[int(r["id"])] = r["ids"]
    print(f"  trained on {len(train)} documents ({sum(len(t.encode()) for t in train) / 1e6:.1f} MB of "
          f"{src.name}), vocabulary 4096; held out: {len(held)} documents, "
          f"{sum(len(t.encode()) for t in held) / 1e6:.1f} MB")
    hf = Tokenizer.from_file(str(js))
    theirs = [e.ids for e in hf.encode_batch(held, add_special_tokens=False)]
    compare("held-out", held, ours, theirs, (hf.id_to_token, hf.id_to_token), "bpe-encode", "HF")

if __name__ == "__main__":
    main()
