"""tinybase.py - what the post-training checks share (sft-check.py, reward-check.py): where the
programs and ../shared/data are, running a program, the tiny base model every check starts
from, relative differences, CPU time of the programs run.

The base: a 1024-token BPE with <|endoftext|>, <|im_start|> and <|im_end|> (bpe-train) and a
2-layer GPT-2 (width 64, 512 positions) pretrained 30 steps on the texts of ../shared/data/sft
(prompt + response, one document each), in WORK/base.
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
    """the path of one of our programs"""
    return os.path.join(BIN, prog)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: {r.stderr}")
    return r


def rel(a, b):
    """||a - b|| / ||b|| (the difference itself where b is 0)"""
    return float((a - b).norm() / b.norm()) if float(b.norm()) > 0 else float((a - b).norm())


def children_cpu():
    """CPU seconds (user + system) of the programs run so far"""
    t = os.times()
    return t.children_user + t.children_system


def latest(run_dir):
    """the latest checkpoint of a run directory"""
    return os.path.join(run_dir, open(os.path.join(run_dir, "latest")).read().strip())


def base():
    """the tiny base model in the current directory's base/ (made once): its checkpoint. Writes
    text.jsonl (the SFT texts), tok.json, model.json, shards/."""
    recs = [json.loads(l) for l in open(SFT)]
    with open("text.jsonl", "w") as f:
        for i, r in enumerate(recs):
            f.write(json.dumps({"id": str(i), "text": r["prompt"] + r["response"]}) + "\n")
    if not os.path.exists("base/latest"):
        run([b("bpe-train"), "-q", "--vocab-size", "1024", "--special", "<|endoftext|>", "--special",
             "<|im_start|>", "--special", "<|im_end|>", "-o", "tok.json", "text.jsonl"])
        run([b("shard-pack"), "-q", "-t", "tok.json", "-o", "shards", "--val-fraction", "0", "text.jsonl"])
        with open("model.json", "w") as f:
            json.dump({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 512}, f)
        run([b("lm-train"), "--data", "shards/*.bin", "-t", "tok.json", "--model", "model.json", "--context",
             "256", "-b", "8", "-j", str(THREADS), "--steps", "30", "--lr", "3e-3", "-q", "-o", "base"])
    return latest("base")
