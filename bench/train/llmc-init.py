#!/usr/bin/env python3
"""llmc-init.py - write a randomly initialised GPT-2 124M checkpoint for llm.c.

Benchmark helper only. llm.c's CPU trainer (train_gpt2.c) starts from a
checkpoint file, gpt2_124M.bin, which llm.c normally makes with train_gpt2.py
from the Hugging Face GPT-2 weights. Those weights cannot be downloaded here,
so this script writes a checkpoint of the same shape and format with random
weights instead. It is meant for timing llm.c's training step as a peer of
crawl2lm's own trainer and for a loss sanity check (a fresh model should start
near ln(50257) ~ 10.8); it is not a usable language model.

Format (what gpt2_build_from_checkpoint in train_gpt2.c reads):
  header: 256 little-endian int32: magic 20240326, version 3, max_seq_len,
          vocab_size, num_layers, num_heads, channels, padded_vocab_size,
          the rest zero;
  then all parameters as little-endian float32, one tensor after another,
  in this order and shape (L layers, C channels, Vp padded vocab, maxT):
      wte (Vp, C)  wpe (maxT, C)
      ln1w (L, C)  ln1b (L, C)  qkvw (L, 3C, C)  qkvb (L, 3C)
      attprojw (L, C, C)  attprojb (L, C)  ln2w (L, C)  ln2b (L, C)
      fcw (L, 4C, C)  fcb (L, 4C)  fcprojw (L, C, 4C)  fcprojb (L, C)
      lnfw (C)  lnfb (C)
  Matrices are (out, in), as in PyTorch's nn.Linear. 124,475,904 parameters.

Initialisation (GPT-2 / llm.c train_gpt2.py style): normal std 0.02 for
wte, wpe, qkvw and fcw; std 0.02/sqrt(2*L) for the residual projections
attprojw and fcprojw; layernorm weights 1; biases 0. The padded vocabulary
rows of wte (vocab_size..padded_vocab_size-1) are zero, as llm.c writes them.

Usage: llmc-init.py OUT.bin [--seed N]
Needs numpy only.
"""

import argparse
import math
import os
import sys

import numpy as np

MAGIC = 20240326
VERSION = 3

MAX_SEQ_LEN = 1024
VOCAB_SIZE = 50257
NUM_LAYERS = 12
NUM_HEADS = 12
CHANNELS = 768
PADDED_VOCAB_SIZE = 50304

STD = 0.02


def tensor_specs(L, C, V, Vp, maxT):
    """(name, shape, init) in llm.c's parameter order.

    init is a float std for normal init, "ones", "zeros" or "wte"."""
    proj_std = STD / math.sqrt(2 * L)
    return [
        ("wte", (Vp, C), "wte"),
        ("wpe", (maxT, C), STD),
        ("ln1w", (L, C), "ones"),
        ("ln1b", (L, C), "zeros"),
        ("qkvw", (L, 3 * C, C), STD),
        ("qkvb", (L, 3 * C), "zeros"),
        ("attprojw", (L, C, C), proj_std),
        ("attprojb", (L, C), "zeros"),
        ("ln2w", (L, C), "ones"),
        ("ln2b", (L, C), "zeros"),
        ("fcw", (L, 4 * C, C), STD),
        ("fcb", (L, 4 * C), "zeros"),
        ("fcprojw", (L, C, 4 * C), proj_std),
        ("fcprojb", (L, C), "zeros"),
        ("lnfw", (C,), "ones"),
        ("lnfb", (C,), "zeros"),
    ]


def normal(rng, shape, std):
    a = rng.standard_normal(size=shape, dtype=np.float32)
    a *= np.float32(std)
    return a


def make_tensor(rng, shape, init, V):
    if init == "ones":
        return np.ones(shape, dtype=np.float32)
    if init == "zeros":
        return np.zeros(shape, dtype=np.float32)
    if init == "wte":
        a = np.zeros(shape, dtype=np.float32)
        a[:V] = normal(rng, (V, shape[1]), STD)
        return a
    return normal(rng, shape, init)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Write a randomly initialised GPT-2 124M checkpoint in "
                    "llm.c's train_gpt2.c format (benchmark helper).")
    ap.add_argument("out", metavar="OUT.bin", help="checkpoint file to write")
    ap.add_argument("--seed", type=int, default=0,
                    help="random seed (default: 0)")
    args = ap.parse_args(argv)

    L, NH, C = NUM_LAYERS, NUM_HEADS, CHANNELS
    V, Vp, maxT = VOCAB_SIZE, PADDED_VOCAB_SIZE, MAX_SEQ_LEN
    assert C % NH == 0

    header = np.zeros(256, dtype="<i4")
    header[:8] = [MAGIC, VERSION, maxT, V, L, NH, C, Vp]

    specs = tensor_specs(L, C, V, Vp, maxT)
    total = sum(int(np.prod(s)) for _, s, _ in specs)

    rng = np.random.default_rng(args.seed)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header.tobytes())
        for name, shape, init in specs:
            t = make_tensor(rng, shape, init, V)
            assert t.shape == shape and t.dtype == np.float32
            f.write(t.astype("<f4", copy=False).tobytes())
            del t
    expected = 256 * 4 + total * 4
    size = os.path.getsize(tmp)
    if size != expected:
        os.unlink(tmp)
        sys.exit("llmc-init.py: wrote %d bytes, expected %d" % (size, expected))
    os.replace(tmp, args.out)
    print("llmc-init.py: wrote %s: GPT-2 L=%d NH=%d C=%d V=%d Vp=%d maxT=%d, "
          "%d parameters, %d bytes, seed %d"
          % (args.out, L, NH, C, V, Vp, maxT, total, size, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
