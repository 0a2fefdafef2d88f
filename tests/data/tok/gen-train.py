#!/usr/bin/env python3
"""Reference merges for bpe-train: a slow, obviously correct byte-level BPE trainer.

Makes (from the repository root):
  tests/data/tok/tinyshakespeare.txt.zst
      /work/shared/data/text/tinyshakespeare.txt (1,115,394 bytes) as it is, zstd -19.
  tests/data/tok/train-shakespeare.merges
      the first 600 merges learnt from that text as one document, one a line, "A B": each
      token's bytes written with GPT-2's bytes_to_unicode mapping (as Hugging Face's
      tokenizer.json "merges" has them).
  tests/data/tok/train-shakespeare-max4.merges  (--merges 400 --max-token-length 4)
      the first 400 merges when no token may be longer than 4 bytes: a pair whose two tokens
      together are longer is not counted at all (bpe-train --max-token-length 4).

The training, step by step, with nothing clever:
  1. pre-tokenize with tiktoken's cl100k pat_str (the `regex` module, which is what tiktoken's
     pattern is written for) and count each piece's UTF-8 bytes;
  2. every step, recount every adjacent pair over all pieces (weighted by piece count) and take
     the maximum of (count, first token's bytes, second token's bytes): the highest count, ties
     to the lexicographically greater pair of byte strings;
     (with --max-token-length L, pairs of more than L bytes together are left out);
  3. stop when that count is below --min-frequency (2) or after --merges (600) merges;
     otherwise replace the pair in every piece, left to right, and go on.
There are no special-token texts in tinyshakespeare, so nothing is cut out.

    bench/.venv/bin/python tests/data/tok/gen-train.py [--merges N] [--trace FILE]
    bench/.venv/bin/python tests/data/tok/gen-train.py --check [--bin build/bin]
    bench/.venv/bin/python tests/data/tok/gen-train.py --merges 400 --max-token-length 4 --check

--trace writes one line a merge: step, count, the pair, and how many pairs had that same count
(the tie the rule had to break). --check also runs `bpe-train --raw TEXT --vocab-size
256+N+1 -o TMP.json` and compares its merges with the expected file, printing the first
difference with the counts this reference saw at that step.

Needs `regex` (bench/.venv/bin/pip install regex) and zstd on PATH. Deterministic.
"""
import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "tests" / "data" / "tok"
TEXT = Path("/work/shared/data/text/tinyshakespeare.txt")

# tiktoken_ext/openai_public.py, cl100k_base()'s pat_str, character for character.
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""


def bytes_to_unicode():
    """GPT-2's mapping of the 256 byte values to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()


def hf(token):
    return "".join(B2U[b] for b in token)


def train(text, merges, min_frequency, trace=None, max_len=None):
    pieces = collections.Counter(m.encode("utf-8") for m in regex.findall(CL100K, text))
    # each distinct piece as a list of tokens (bytes objects), with its count
    words = [([bytes([b]) for b in p], c) for p, c in pieces.items()]
    out = []
    while len(out) < merges:
        pairs = collections.Counter()
        for toks, c in words:
            for i in range(len(toks) - 1):
                if max_len is None or len(toks[i]) + len(toks[i + 1]) <= max_len:
                    pairs[(toks[i], toks[i + 1])] += c
        if not pairs:
            break
        (a, b), n = max(pairs.items(), key=lambda kv: (kv[1], kv[0][0], kv[0][1]))
        if n < min_frequency:
            break
        tied = sorted((p for p, k in pairs.items() if k == n), reverse=True)
        if trace is not None:
            trace.append((len(out), n, a, b, tied))
        out.append((a, b))
        ab = a + b
        for toks, _ in words:
            i = 0
            while i < len(toks) - 1:
                if toks[i] == a and toks[i + 1] == b:
                    toks[i:i + 2] = [ab]
                i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--merges", type=int, default=600)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--max-token-length", type=int, help="no token longer than this (bytes)")
    ap.add_argument("--trace", help="write each step's count and ties to this file")
    ap.add_argument("--check", action="store_true", help="also run bpe-train and compare")
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    a = ap.parse_args()
    try:  # the pattern must be tiktoken's own, if tiktoken is there to ask
        import tiktoken_ext.openai_public as op
        assert op.cl100k_base.__code__.co_consts.count(CL100K) == 1, "cl100k pattern differs"
    except ImportError:
        pass
    raw = TEXT.read_bytes()
    text = raw.decode("utf-8")
    zst = OUT / "tinyshakespeare.txt.zst"
    subprocess.run(["zstd", "-19", "-q", "-f", "--no-progress", str(TEXT), "-o", str(zst)], check=True)
    trace = []
    merges = train(text, a.merges, a.min_frequency, trace, a.max_token_length)
    lines = [f"{hf(x)} {hf(y)}" for x, y in merges]
    suffix = f"-max{a.max_token_length}" if a.max_token_length else ""
    dst = OUT / f"train-shakespeare{suffix}.merges"
    dst.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    print(f"{dst.relative_to(ROOT)}: {len(lines)} merges; last count {trace[-1][1]}; "
          f"steps with a tie: {sum(1 for t in trace if len(t[4]) > 1)}")
    if a.trace:
        with open(a.trace, "w", encoding="utf-8") as f:
            for step, n, x, y, tied in trace:
                f.write(f"{step}\t{n}\t{hf(x)} {hf(y)}\t{len(tied)} tied: "
                        + ", ".join(f"{hf(p)} {hf(q)}" for p, q in tied[:8]) + "\n")
    if a.check:
        with tempfile.TemporaryDirectory() as d:
            tj = Path(d) / "t.json"
            cap = ["--max-token-length", str(a.max_token_length)] if a.max_token_length else []
            subprocess.run([str(Path(a.bin) / "bpe-train"), "--raw", str(TEXT),
                            "--vocab-size", str(256 + len(lines) + 1), "-o", str(tj)] + cap,
                           check=True)
            got = [f"{x} {y}" for x, y in json.load(open(tj, encoding="utf-8"))["model"]["merges"]]
        if got == lines:
            print(f"bpe-train: the same {len(got)} merges")
            return
        i = next((k for k in range(min(len(got), len(lines))) if got[k] != lines[k]),
                 min(len(got), len(lines)))
        print(f"bpe-train DIFFERS: {len(got)} merges, first difference at merge {i}")
        if i < len(lines):
            step, n, x, y, tied = trace[i]
            print(f"  expected {lines[i]!r} (count {n}; {len(tied)} pairs with that count: "
                  + ", ".join(repr(f'{hf(p)} {hf(q)}') for p, q in tied[:8]) + ")")
        if i < len(got):
            print(f"  bpe-train {got[i]!r}")
        sys.exit(1)


if __name__ == "__main__":
    main()
