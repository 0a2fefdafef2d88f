#!/usr/bin/env python3
"""hf-check.py - transformers reads lm-train's checkpoints and computes the same model.

Builds a tiny data set (tinyshakespeare, byte-level tokenizer), trains small
GPT-2, Llama and tied-embedding Llama models briefly with lm-train (200 steps
by default: after 30 the greedy continuations are one token repeated, which
tells little), then loads each run's
latest checkpoint with transformers.AutoModelForCausalLM (float32, eval mode;
no missing, unexpected or mismatched tensors allowed) and the tokenizer with
tokenizers.Tokenizer, and checks:

  greedy  the token ids lm-sample generates greedily
          (lm-sample --temperature 0 --ids --no-stop -n 60 RUN PROMPT), for
          three prompts, equal
          those of a greedy decode with transformers from the same prompt ids,
          [<|endoftext|>] + encode(PROMPT). The transformers decode is a plain
          argmax loop over full forward passes (no end-of-text stop, no
          min_new_tokens logit masking); model.generate(do_sample=False) is
          run too and must agree with that loop. On a mismatch the first
          differing position is printed with transformers' two top logits
          there (a near-tie or a real difference); "min gap" in the table is
          the smallest top-1 minus top-2 logit along transformers' greedy paths.
  loss    the mean next-token cross-entropy transformers computes on the first
          window of the shard (tokens [0,T) as inputs, [1,T+1) as targets)
          equals the val_loss lm-train reports when it evaluates that window:
          lm-train --init RUN --data SHARD --val SHARD --steps 1 --lr 0
          --eval-batches 1 -b 1 --context T (with --lr 0 the AdamW update,
          weight decay included, leaves the weights as they are; the final
          evaluation reads val windows in order, non-overlapping, so one
          batch of one row is window 0). Relative difference < 1e-4.

Usage: hf-check.py [--keep DIR] [--steps N] [--device D] [-j N] [-v]
  --keep DIR   work in DIR (made, kept) instead of a temporary directory
  -v           print every prompt's continuation and ids
Prints a table; exits 0 when every check passes, 1 otherwise (2: setup error).
Needs torch, transformers, tokenizers (bench/.venv) and the built tools
(make -C crawl2lm).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.path.join(ROOT, "build", "bin")
TEXT = os.path.join(ROOT, "tests", "data", "tok", "tinyshakespeare.txt.zst")

# The first prompt is the brief's; the longer ones give the tiny models more context to
# condition on, so their greedy continuations differ more than one repeated token.
PROMPTS = ["ROMEO:",
           "First Citizen:\nWe are accounted poor citizens, the patricians good.",
           "KING RICHARD III:\nNow is the winter of our discontent"]
NEW_TOKENS = 60
CONTEXT = 64
REL_TOL = 1e-4

MODELS = [
    ("gpt2", {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
              "n_positions": 128}),
    ("llama", {"model_type": "llama", "hidden_size": 64, "intermediate_size": 160,
               "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": 128,
               "tie_word_embeddings": False}),
    ("llama-tied", {"model_type": "llama", "hidden_size": 64, "intermediate_size": 160,
                    "num_hidden_layers": 2, "num_attention_heads": 4,
                    "num_key_value_heads": 2, "max_position_embeddings": 128,
                    "tie_word_embeddings": True}),
]


def run(cmd, **kw):
    """Run a command; on failure print it with its output and raise."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write("hf-check: command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        raise SystemExit(2)
    return p.stdout


def tool(name):
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        sys.stderr.write("hf-check: %s missing: run make -C %s\n" % (path, ROOT))
        raise SystemExit(2)
    return path


def make_data(work, threads):
    text = run(["zstd", "-dc", TEXT])
    jsonl = os.path.join(work, "docs.jsonl")
    with open(jsonl, "w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "tinyshakespeare", "text": text}) + "\n")
    tok = os.path.join(work, "bytes.json")
    run([tool("bpe-train"), "--vocab-size", "257", "-j", str(threads), "-o", tok, jsonl])
    shards = os.path.join(work, "shards")
    run([tool("shard-pack"), "-t", tok, "-o", shards, "--val-fraction", "0",
         "-j", str(threads), jsonl])
    names = sorted(n for n in os.listdir(shards) if n.endswith(".bin") and "_train_" in n)
    if not names:
        sys.stderr.write("hf-check: shard-pack wrote no train shard in %s\n" % shards)
        raise SystemExit(2)
    return tok, os.path.join(shards, names[0])


def read_shard(path, n):
    """The first n tokens of an llm.c shard (uint16 or uint32 tokens)."""
    with open(path, "rb") as f:
        hdr = struct.unpack("<256i", f.read(1024))
        magic, version, ntok = hdr[0], hdr[1], hdr[2]
        if magic == 20240520 and version == 1:
            width, fmt = 2, "H"
        elif magic == 20240801 and version == 7:
            width, fmt = 4, "I"
        else:
            sys.stderr.write("hf-check: %s: not an llm.c shard (magic %d, version %d)\n" %
                             (path, magic, version))
            raise SystemExit(2)
        if ntok < n:
            sys.stderr.write("hf-check: %s holds %d tokens, need %d\n" % (path, ntok, n))
            raise SystemExit(2)
        return list(struct.unpack("<%d%s" % (n, fmt), f.read(n * width)))


def checkpoint_dir(rundir):
    with open(os.path.join(rundir, "latest")) as f:
        name = f.read().strip()
    return name if os.path.isabs(name) else os.path.join(rundir, name)


def last_val_loss(metrics):
    vl = None
    with open(metrics) as f:
        for line in f:
            line = line.strip()
            if line:
                rec = json.loads(line)
                if "val_loss" in rec:
                    vl = rec
    return vl


def greedy_check(prompt_text, rundir, model, tk, eot, common, torch, transformers):
    g = {"prompt": prompt_text}
    prompt = [eot] + tk.encode(prompt_text).ids
    out = run([tool("lm-sample"), "--temperature", "0", "--ids", "--no-stop",
               "-n", str(NEW_TOKENS)] + common + [rundir, prompt_text])
    ours = [int(t) for t in out.split()]
    ids = torch.tensor([prompt], dtype=torch.long)
    theirs, steps_logits = [], []
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            logits = model(ids).logits[0, -1].float()
            nxt = int(torch.argmax(logits))
            steps_logits.append(logits)
            theirs.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
        gc = transformers.GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS,
                                           eos_token_id=None, pad_token_id=eot)
        out = model.generate(torch.tensor([prompt], dtype=torch.long), generation_config=gc,
                             attention_mask=torch.ones(1, len(prompt), dtype=torch.long))
        gen = [int(t) for t in out[0, len(prompt):]]
    # the smallest gap between transformers' two top logits along its greedy path: how
    # close the decode came to a tie that rounding could break either way
    g["min_gap"] = min(float(v[0] - v[1]) for v in (torch.topk(lg, 2).values
                                                  for lg in steps_logits))
    g["generate_agrees"] = gen == theirs
    if not g["generate_agrees"]:
        k = next((i for i in range(min(len(gen), len(theirs))) if gen[i] != theirs[i]),
                 min(len(gen), len(theirs)))
        g["generate_note"] = ("model.generate differs from the argmax loop at new token %d "
                              "(%d tokens from generate)" % (k, len(gen)))
    g["n_ours"] = len(ours)
    g["same"] = ours == theirs
    if not g["same"]:
        n = min(len(ours), len(theirs))
        k = next((i for i in range(n) if ours[i] != theirs[i]), n)
        note = "first mismatch at new token %d of %d/%d: lm-sample %s, transformers %s" % (
            k, len(ours), len(theirs), ours[k] if k < len(ours) else "-",
            theirs[k] if k < len(theirs) else "-")
        if k < len(steps_logits):
            lg = steps_logits[k]
            top = torch.topk(lg, 2)
            note += "; transformers' top logits there: id %d %.6f, id %d %.6f (gap %.3g)" % (
                int(top.indices[0]), float(top.values[0]), int(top.indices[1]),
                float(top.values[1]), float(top.values[0] - top.values[1]))
            if k < len(ours) and 0 <= ours[k] < lg.numel():
                note += "; logit of lm-sample's id %d: %.6f" % (ours[k], float(lg[ours[k]]))
        g["note"] = note
    g["ours_ids"] = ours
    g["theirs_ids"] = theirs
    g["text"] = tk.decode(theirs, skip_special_tokens=False)
    return g


def check_model(style, cfg, work, tok_path, shard, args, torch, transformers, tokenizers):
    res = {"style": style}
    cfgfile = os.path.join(work, style + ".config.json")
    with open(cfgfile, "w") as f:
        json.dump(cfg, f)
    rundir = os.path.join(work, "run-" + style)
    common = ["--device", args.device, "-j", str(args.threads), "-q"]
    run([tool("lm-train"), "--data", shard, "-t", tok_path, "--model", cfgfile,
         "-o", rundir, "--steps", str(args.steps), "--context", str(CONTEXT), "-b", "8",
         "--lr", "3e-3", "--eval-every", "0", "--save-every", str(args.steps)] + common)
    ckpt = checkpoint_dir(rundir)

    # transformers must read the checkpoint as it is: any error here is a bug in
    # config.json or the tensor names, reported as is.
    try:
        model, info = transformers.AutoModelForCausalLM.from_pretrained(
            ckpt, dtype=torch.float32, output_loading_info=True)
    except Exception as e:  # report, do not work around
        res["error"] = "from_pretrained: %s: %s" % (type(e).__name__, e)
        return res
    # a tensor transformers expects and does not find is initialised at random, one it
    # does not know is dropped: both without an exception, so check the report
    bad = {k: sorted(map(str, v)) for k, v in info.items() if v}
    if bad:
        res["error"] = "from_pretrained loading info: %s" % json.dumps(bad)
        return res
    model.eval()
    tk = tokenizers.Tokenizer.from_file(os.path.join(ckpt, "tokenizer.json"))
    eot = tk.token_to_id("<|endoftext|>")
    if eot is None:
        res["error"] = "tokenizer.json has no <|endoftext|>"
        return res
    res["arch"] = type(model).__name__
    res["tied"] = bool(getattr(model.config, "tie_word_embeddings", False))

    # Greedy generation, one prompt after another.
    res["greedy"] = []
    for prompt_text in PROMPTS:
        res["greedy"].append(greedy_check(prompt_text, rundir, model, tk, eot, common,
                                          torch, transformers))
    res["greedy_same"] = all(g["same"] for g in res["greedy"])
    res["generate_agrees"] = all(g["generate_agrees"] for g in res["greedy"])
    res["min_gap"] = min(g["min_gap"] for g in res["greedy"])
    res["n_ours"] = sum(g["n_ours"] for g in res["greedy"])

    # Loss over the shard's first window.
    win = read_shard(shard, CONTEXT + 1)
    x = torch.tensor([win[:CONTEXT]], dtype=torch.long)
    y = torch.tensor(win[1:CONTEXT + 1], dtype=torch.long)
    with torch.no_grad():
        logits = model(x).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    res["loss_hf"] = float(-logp[torch.arange(CONTEXT), y].mean())

    evaldir = os.path.join(work, "eval-" + style)
    run([tool("lm-train"), "--init", rundir, "--data", shard, "--val", shard,
         "-o", evaldir, "--steps", "1", "--lr", "0", "--eval-every", "1",
         "--eval-batches", "1", "-b", "1", "--context", str(CONTEXT)] + common)
    rec = last_val_loss(os.path.join(evaldir, "metrics.jsonl"))
    if rec is None:
        res["error"] = "no val_loss in %s/metrics.jsonl" % evaldir
        return res
    res["loss_ours"] = float(rec["val_loss"])
    res["val_tokens"] = rec.get("val_tokens")
    res["rel"] = abs(res["loss_ours"] - res["loss_hf"]) / abs(res["loss_hf"])
    res["loss_ok"] = res["rel"] < REL_TOL and res["val_tokens"] == CONTEXT
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    ap.add_argument("--steps", type=int, default=200, help="training steps (default: 200)")
    ap.add_argument("--device", default="auto", help="lm-train/lm-sample --device (default: auto)")
    ap.add_argument("-j", "--threads", type=int, default=2, help="CPU threads (default: 2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the generated ids")
    args = ap.parse_args()

    import torch
    import tokenizers
    import transformers
    torch.manual_seed(0)
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)

    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
        for n in os.listdir(work):  # runs are created afresh
            if n.startswith(("run-", "eval-", "shards")):
                shutil.rmtree(os.path.join(work, n))
    else:
        work = tempfile.mkdtemp(prefix="hf-check.")
    try:
        tok_path, shard = make_data(work, args.threads)
        results = [check_model(style, cfg, work, tok_path, shard, args, torch,
                               transformers, tokenizers) for style, cfg in MODELS]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ok = True
    print("transformers %s, torch %s; %d training steps; greedy: %d prompts x %d new tokens; "
          "loss: window of %d tokens" % (transformers.__version__, torch.__version__,
                                        args.steps, len(PROMPTS), NEW_TOKENS, CONTEXT))
    print("%-11s %-17s %-5s %-13s %-8s %-10s %-10s %-9s %s" % (
        "model", "transformers", "tied", "greedy same", "min gap", "loss ours", "loss hf",
        "rel diff", "result"))
    for r in results:
        if "error" in r:
            ok = False
            print("%-11s ERROR %s" % (r["style"], r["error"]))
            continue
        good = r["greedy_same"] and r["loss_ok"] and r["generate_agrees"]
        ok = ok and good
        print("%-11s %-17s %-5s %-13s %-8.3f %-10.6f %-10.6f %-9.2e %s" % (
            r["style"], r["arch"], "yes" if r["tied"] else "no",
            "%s (%d)" % ("yes" if r["greedy_same"] else "no", r["n_ours"]), r["min_gap"],
            r["loss_ours"], r["loss_hf"], r["rel"], "ok" if good else "FAIL"))
        if r["val_tokens"] != CONTEXT:
            print("  lm-train evaluated %s tokens, expected %d" % (r["val_tokens"], CONTEXT))
        for g in r["greedy"]:
            for key in ("note", "generate_note"):
                if key in g:
                    print("  prompt %r: %s" % (g["prompt"], g[key]))
            if args.verbose or not g["same"]:
                print("  prompt %r -> %r" % (g["prompt"], g["text"]))
                print("    lm-sample:    %s" % " ".join(map(str, g["ours_ids"])))
                print("    transformers: %s" % " ".join(map(str, g["theirs_ids"])))
    if args.keep:
        print("work directory kept: %s" % work)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
