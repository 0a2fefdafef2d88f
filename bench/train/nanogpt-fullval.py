#!/usr/bin/env python3
"""Full-split validation loss of a nanoGPT checkpoint (written for crawl2lm; not nanoGPT code).

usage: nanogpt-fullval.py NANOGPT_SRC_DIR CKPT_PT VAL_BIN [BLOCK] [BATCH]

Imports model.py from NANOGPT_SRC_DIR, loads CKPT_PT (train.py's ckpt.pt),
and reports the mean cross-entropy (nats/token) over every non-overlapping
window of BLOCK (default 64) tokens of VAL_BIN (uint16):
  x = val[i:i+BLOCK], y = val[i+1:i+BLOCK+1], i = 0, BLOCK, 2*BLOCK, ...
  while i + BLOCK + 1 <= len(val).
Every position in each window is scored (position t sees x[0..t] only).
Float32, model.eval(), no autocast; losses summed in float64.
"""
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: nanogpt-fullval.py NANOGPT_SRC_DIR CKPT_PT VAL_BIN [BLOCK] [BATCH]")
    src, ckpt_path, val_path = sys.argv[1], sys.argv[2], sys.argv[3]
    block = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    sys.path.insert(0, os.path.abspath(src))
    from model import GPT, GPTConfig  # nanoGPT's model.py

    t0 = time.time()
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    model = GPT(GPTConfig(**ckpt["model_args"]))
    sd = ckpt["model"]
    for k in list(sd.keys()):
        if k.startswith("_orig_mod."):
            sd[k[len("_orig_mod."):]] = sd.pop(k)
    model.load_state_dict(sd)
    model.float().eval()
    if block > model.config.block_size:
        sys.exit(f"block {block} > model block_size {model.config.block_size}")

    val = np.fromfile(val_path, dtype="<u2").astype(np.int64)
    nwin = (len(val) - 1) // block  # count of i = k*block with i + block + 1 <= len
    starts = np.arange(nwin) * block
    total = 0.0
    ntok = 0
    with torch.no_grad():
        for b in range(0, nwin, batch):
            s = starts[b:b + batch]
            x = torch.from_numpy(np.stack([val[i:i + block] for i in s]))
            y = torch.from_numpy(np.stack([val[i + 1:i + block + 1] for i in s]))
            logits, _ = model(x, y)  # with targets, logits cover all positions
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)),
                                   y.view(-1), reduction="none")
            total += loss.double().sum().item()
            ntok += y.numel()
    mean = total / ntok
    print(f"fullval: iter_num={ckpt.get('iter_num')} val_tokens={len(val)} windows={nwin} "
          f"scored_tokens={ntok} block={block} val_loss_full={mean:.6f} "
          f"bits_per_token={mean / math.log(2):.6f} eval_s={time.time() - t0:.2f}")


if __name__ == "__main__":
    main()
