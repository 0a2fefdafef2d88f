#!/usr/bin/env python3
"""Byte-level data prep for a nanoGPT peer run (written for crawl2lm; not nanoGPT code).

usage: nanogpt-prep.py TEXT_FILE OUT_DIR

Writes OUT_DIR/train.bin, OUT_DIR/val.bin (uint16, native little-endian, as
nanoGPT's get_batch() memmaps them) and OUT_DIR/meta.pkl ({'vocab_size': 257}).

Token stream: ids = [256] + list(bytes of TEXT_FILE)   (256 = <|endoftext|>)
n = len(ids)  (counts the leading 256)
split = int(n * 0.9)   # IEEE-754 double multiply, truncated == floor for n >= 0
train = ids[:split], val = ids[split:]
This is nanoGPT's shakespeare_char rule (train = data[:int(n*0.9)]) applied to
the token stream instead of the character string.
"""
import os
import pickle
import sys

import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: nanogpt-prep.py TEXT_FILE OUT_DIR")
    text_path, out_dir = sys.argv[1], sys.argv[2]
    with open(text_path, "rb") as f:
        raw = f.read()
    ids = np.empty(len(raw) + 1, dtype=np.uint16)
    ids[0] = 256
    ids[1:] = np.frombuffer(raw, dtype=np.uint8)
    n = len(ids)
    split = int(n * 0.9)
    # sanity: the double-precision rule agrees with exact integer floor(9n/10) here
    if split != (9 * n) // 10:
        print(f"warning: int(n*0.9)={split} != floor(9n/10)={(9*n)//10}", file=sys.stderr)
    os.makedirs(out_dir, exist_ok=True)
    ids[:split].astype("<u2").tofile(os.path.join(out_dir, "train.bin"))
    ids[split:].astype("<u2").tofile(os.path.join(out_dir, "val.bin"))
    with open(os.path.join(out_dir, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": 257}, f)
    print(f"prep: bytes={len(raw)} n_tokens={n} split={split} "
          f"train={split} val={n - split} vocab_size=257")


if __name__ == "__main__":
    main()
