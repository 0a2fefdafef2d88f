"""posttrain.py - dpo-check.py's helpers (sft-check.py and reward-check.py have tinybase.py's):
the paths and settings, running the tools, the tiny base model (a BPE tokenizer with the chat
tokens and a 2-layer GPT-2 pretrained 30 steps on ../shared/data/sft's texts), loading a checkpoint in transformers
(fp32, dropout off) and the relative difference of two tensors.

env: BIN (default build/bin), THREADS (default 2), CRAWL2LM_SHARED_DATA (default ../shared/data).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build", "bin"))
THREADS = int(os.environ.get("THREADS", "2"))
SHARED = os.environ.get("CRAWL2LM_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
SFT = os.path.join(SHARED, "sft", "dolly_hhrlhf_train_small.jsonl")
PREFS = os.path.join(SHARED, "prefs", "hh-rlhf-harmless-base-test.jsonl.gz")


def b(prog):
    return os.path.join(BIN, prog)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: {r.stderr}")
    return r


def sft_records():
    return [json.loads(l) for l in open(SFT)]


def build_base(recs, out="base", steps=30, extra=()):
    """text.jsonl (the SFT file's prompt + response, a document each), tok.json (1024 tokens
    with <|endoftext|>, <|im_start|>, <|im_end|>), model.json and the base run `out`; returns
    its latest checkpoint's directory."""
    with open("text.jsonl", "w") as f:
        for i, r in enumerate(recs):
            f.write(json.dumps({"id": str(i), "text": r["prompt"] + r["response"]}) + "\n")
    if not os.path.exists(os.path.join(out, "latest")):
        if not os.path.exists("tok.json"):
            run([b("bpe-train"), "-q", "--vocab-size", "1024", "--special", "<|endoftext|>", "--special",
                 "<|im_start|>", "--special", "<|im_end|>", "-o", "tok.json", "text.jsonl"])
            run([b("shard-pack"), "-q", "-t", "tok.json", "-o", "shards", "--val-fraction", "0", "text.jsonl"])
        with open("model.json", "w") as f:
            json.dump({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 512}, f)
        run([b("lm-train"), "--data", "shards/*.bin", "-t", "tok.json", "--model", "model.json", "--context",
             "256", "-b", "8", "-j", str(THREADS), "--steps", str(steps), "--lr", "3e-3", "-q", "-o", out]
            + list(extra))
    return os.path.join(out, open(os.path.join(out, "latest")).read().strip())


def hf_model(path):
    """a checkpoint in transformers, fp32, training mode with dropout off"""
    import torch
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32).train()
    m.config.use_cache = False
    for mod in m.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0
    return m


def rel(a, b):
    """||a - b|| / ||b|| (||a - b|| when b is 0)"""
    n = float(b.norm())
    return float((a - b).norm() / n) if n > 0 else float((a - b).norm())


def rel_scalar(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)
