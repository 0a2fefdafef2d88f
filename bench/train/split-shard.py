#!/usr/bin/env python3
"""split-shard.py SHARD FRACTION TRAIN_OUT VAL_OUT - cut one llm.c shard (uint16, version 1)
into two at token floor(n * FRACTION), as nanoGPT's data scripts split a token stream
(int(n * 0.9)): the first part for training, the rest held out. Benchmark helper."""
import struct
import sys


def write(path, toks):
    with open(path, "wb") as f:
        f.write(struct.pack("<3i", 20240520, 1, len(toks) // 2) + b"\0" * 1012)
        f.write(toks)


def main():
    src, frac, tr, va = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    d = open(src, "rb").read()
    magic, version, n = struct.unpack("<3i", d[:12])
    if magic != 20240520 or version != 1 or len(d) != 1024 + 2 * n:
        sys.exit(f"split-shard.py: '{src}' is not a uint16 llm.c shard")
    cut = int(n * frac)
    write(tr, d[1024:1024 + 2 * cut])
    write(va, d[1024 + 2 * cut:])
    print(f"{n} tokens: {cut} train, {n - cut} val")


if __name__ == "__main__":
    main()
