#!/usr/bin/env python3
"""dpo-check.py - lm-train --dpo against TRL's DPOTrainer and a plain PyTorch loss, on the same
tiny GPT-2 exported to Hugging Face and the same batch; its speed against TRL's; what DPO does
to the implicit reward accuracy on held-out pairs.

usage: bench/posttrain/dpo-check.py [WORK_DIR]   (bench/.venv's python; trl pinned in
       bench/posttrain/requirements.txt)

Builds (posttrain.py): the tokenizer with the chat tokens and a 2-layer GPT-2
(width 64, 512 positions) pretrained on ../shared/data/sft's texts, its checkpoints at steps
20 (the reference) and 30 (the policy), so that the rewards are not all 0.

exactness  N pairs (default 8) in two forms: HH-RLHF transcripts from ../shared/data/prefs
           (lm-train reads the transcripts; TRL their turns as {"chosen": [messages],
           "rejected": [messages]}, the chat template from the checkpoint's
           tokenizer_config.json) and {"prompt", "chosen", "rejected"} strings from
           ../shared/data/sft (two responses to the same prompt). For each form and loss
           (sigmoid, ipo, hinge, and sigmoid with --label-smoothing 0.1): lm-train --dpo
           --init POLICY --ref REF -b R --steps 1 --dump-grads (R: the rows the N pairs pack
           into, so the step is all of them) against DPOTrainer's compute_loss on its collated
           batch of the same N pairs (ref_model REF, no precomputation, no truncation, fp32
           CPU: bf16=False, since DPOConfig's default runs the reference under bf16 autocast)
           and backward(): the loss, every gradient tensor and rewards/chosen,
           rewards/rejected, rewards/margins, rewards/accuracies, logps/chosen,
           logps/rejected within 1e-4 relative (absolute where TRL's is 0). TRL 1.16's sigmoid
           loss has no label smoothing (its label_smoothing is the robust and EXO losses'):
           there the third column, plain PyTorch on TRL's batch (the sequences'
           log-probabilities summed over the completion mask, conservative DPO's formula), is
           the check.
speed      one epoch over 64 short HH-RLHF pairs (under 1200 bytes: each whole in a row of
           512, none skipped or cut; 8 a step), lr 1e-6, CPU time (user + sys) of the whole
           lm-train run (the reference pass included) and of DPOTrainer's
           construction (tokenizing, its reference pass with precompute_ref_log_probs) and
           train(), in tokens (prompt + chosen + prompt + rejected) per CPU second.
outcome    (OUTCOME=1) lm-train --dpo on 2,000 HH-RLHF pairs, 10% held out, from the
           pretrained model: the held-out implicit reward accuracy at the end against the
           starting point's (every reward 0: accuracy 0; the reference's own ranking of
           chosen over rejected: eval_ref_accuracy).
env: BIN, THREADS, CRAWL2LM_SHARED_DATA (posttrain.py), N (default 8), OUTCOME (default 0).
"""
import gzip
import json
import os
import re
import shutil
import sys
import time

import torch

from posttrain import PREFS, THREADS, b, build_base, hf_model, rel, rel_scalar, run, sft_records

N = int(os.environ.get("N", "8"))
NAMES = ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen",
         "logps/rejected"]


def hh_messages(t):
    """an HH-RLHF transcript's turns as messages, as lm-train reads them"""
    marks = re.compile(r"\n\nHuman:|\n\nAssistant:")
    ms = list(marks.finditer(t))
    if not ms or ms[0].start() != 0:
        return None
    out = []
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(t)
        text = t[m.end():end]
        if text.startswith(" "):
            text = text[1:]
        out.append({"role": "user" if "Human" in m.group() else "assistant", "content": text})
    return out


def ours(args, tag):
    """lm-train --dpo's first step over all the pairs: loss, metrics, gradients"""
    from safetensors.torch import load_file
    for d in ("r1-" + tag, "r2-" + tag):
        shutil.rmtree(d, ignore_errors=True)
    r = run([b("lm-train")] + args + ["-b", "1", "--steps", "1", "--dump-grads", "g1.safetensors", "-o", "r1-" + tag])
    rows = int(re.search(r"in (\d+) rows", r.stderr).group(1))
    r = run([b("lm-train")] + args + ["-b", str(rows), "--steps", "1", "--dump-grads", "g.safetensors", "-o",
                                      "r2-" + tag])
    loss = float(re.search(r"loss ([0-9.eE+-]+) over (\d+) pairs", r.stderr).group(1))
    metrics = json.loads(re.search(r"metrics (\{.*\})", r.stderr).group(1))
    return loss, metrics, load_file("g.safetensors"), rows


def trl_step(policy, ref, tok, rows, loss_type, beta):
    """DPOTrainer's compute_loss on its collated batch of all the pairs, and backward()"""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer
    cfg = DPOConfig(output_dir="trl-out", per_device_train_batch_size=len(rows), loss_type=[loss_type], beta=beta,
                    max_length=None, report_to=[], use_cpu=True, dataloader_num_workers=0, learning_rate=1e-6,
                    num_train_epochs=1, logging_steps=1000, save_strategy="no", weight_decay=0.0, max_grad_norm=0.0,
                    precompute_ref_log_probs=False, bf16=False)
    tm, rm = hf_model(policy), hf_model(ref)
    rm.eval()
    tr = DPOTrainer(model=tm, ref_model=rm, args=cfg, train_dataset=Dataset.from_list(rows), processing_class=tok)
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(rows))])
    tm.zero_grad()
    loss = tr.compute_loss(tm, batch)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in tm.named_parameters()}
    metrics = {k: tr._metrics["train"][k][-1] for k in NAMES}
    return float(loss), metrics, grads, batch


def plain(policy, ref, batch, beta, smoothing):
    """plain PyTorch on TRL's batch: the completion's log-probabilities summed, conservative DPO"""
    def logps(m, grad):
        with torch.set_grad_enabled(grad):
            lg = m(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
            lp = torch.log_softmax(lg.float(), -1).gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
            return (lp * batch["completion_mask"][:, 1:]).sum(1)
    pm, rm = hf_model(policy), hf_model(ref)
    p, q = logps(pm, True), logps(rm, False)
    n = p.shape[0] // 2
    z = beta * ((p[:n] - q[:n]) - (p[n:] - q[n:]))
    loss = (-(1 - smoothing) * torch.nn.functional.logsigmoid(z)
            - smoothing * torch.nn.functional.logsigmoid(-z)).mean()
    loss.backward()
    c, r = beta * (p[:n] - q[:n]).detach(), beta * (p[n:] - q[n:]).detach()
    metrics = {"rewards/chosen": float(c.mean()), "rewards/rejected": float(r.mean()),
               "rewards/margins": float((c - r).mean()), "rewards/accuracies": float((c > r).float().mean()),
               "logps/chosen": float(p[:n].mean()), "logps/rejected": float(p[n:].mean())}
    return float(loss), metrics, {k: v.grad.detach().clone() for k, v in pm.named_parameters()}


def compare(label, mine, theirs):
    l1, m1, g1 = mine[:3]
    l2, m2, g2 = theirs[:3]
    worst = max(rel(g1[k], g2[k]) for k in g1)
    # the margin, a difference of two near-equal rewards, relative to the rewards' size
    size = max(abs(m2["rewards/chosen"]), abs(m2["rewards/rejected"]))
    mw = max(abs(m1[k] - m2[k]) / max(abs(m2[k]), size) if k == "rewards/margins" and size > 0 else
             rel_scalar(m1[k], m2[k]) for k in NAMES)
    lr = rel_scalar(l1, l2)
    ok = lr < 1e-4 and worst < 1e-4 and mw < 1e-4
    print(f"  {label}: loss {l1:.9g} vs {l2:.9g} (relative {lr:.3g}); gradients' worst relative difference "
          f"{worst:.3g}; metrics' worst {mw:.3g}: {'PASS' if ok else 'FAIL'}")
    return ok


def exactness(policy, ref, tok):
    from transformers import AutoTokenizer
    hf = AutoTokenizer.from_pretrained(policy)
    with gzip.open(PREFS, "rt") as f:
        prefs = [json.loads(l) for l in f]
    hh = [p for p in prefs if len(p["chosen"]) + len(p["rejected"]) < 1200 and p["chosen"] != p["rejected"]][:N]
    with open("hh.jsonl", "w") as f:
        for p in hh:
            f.write(json.dumps(p) + "\n")
    hh_trl = [{"chosen": hh_messages(p["chosen"]), "rejected": hh_messages(p["rejected"])} for p in hh]
    recs = [r for r in sft_records() if len((r["prompt"] + r["response"]).encode()) < 600]
    plain_rows = [{"prompt": recs[i]["prompt"], "chosen": recs[i]["response"], "rejected": recs[i + 1]["response"]}
                  for i in range(0, 2 * N, 2)]
    with open("plain.jsonl", "w") as f:
        for p in plain_rows:
            f.write(json.dumps(p) + "\n")
    ok = True
    for form, path, rows in (("HH-RLHF transcripts (chat template)", "hh.jsonl", hh_trl),
                             ("prompt/chosen/rejected strings", "plain.jsonl", plain_rows)):
        print(f"{form}: {N} pairs")
        for loss_type, smoothing in (("sigmoid", 0.0), ("ipo", 0.0), ("hinge", 0.0), ("sigmoid", 0.1)):
            beta = 0.1
            args = ["--dpo", path, "--init", policy, "--ref", ref, "--context", "512", "-j", str(THREADS),
                    "--weight-decay", "0", "--clip", "0", "--dpo-loss", loss_type, "--beta", str(beta)]
            if smoothing:
                args += ["--label-smoothing", str(smoothing)]
            mine = ours(args, f"{loss_type}{smoothing}")
            trl = trl_step(policy, ref, hf, rows, loss_type, beta)
            tag = f"{loss_type}{', label smoothing ' + str(smoothing) if smoothing else ''}"
            if not smoothing:
                ok = compare(f"{tag}, lm-train vs TRL (batch {len(rows)} pairs, {mine[3]} rows)", mine, trl) and ok
            if loss_type == "sigmoid":
                ref_ = plain(policy, ref, trl[3], beta, smoothing)
                ok = compare(f"{tag}, lm-train vs plain PyTorch on TRL's batch", mine, ref_) and ok
    return ok


def speed(policy, ref):
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer
    with gzip.open(PREFS, "rt") as f:
        prefs = [json.loads(l) for l in f]
    # pairs that fit a row of 512 whole: lm-train skips or cuts none, TRL truncates none
    pairs = [p for p in prefs if len(p["chosen"]) + len(p["rejected"]) < 1200 and p["chosen"] != p["rejected"]
             and hh_messages(p["chosen"])[-1]["content"] and hh_messages(p["rejected"])[-1]["content"]][:64]
    with open("speed.jsonl", "w") as f:
        for p in pairs:
            f.write(json.dumps(p) + "\n")
    shutil.rmtree("speed-ours", ignore_errors=True)
    common = ["--dpo", "speed.jsonl", "--init", policy, "--ref", ref, "--context", "512", "-j", str(THREADS)]
    shutil.rmtree("speed-probe", ignore_errors=True)
    r = run([b("lm-train")] + common + ["-b", "1", "--steps", "1", "-o", "speed-probe"])
    shutil.rmtree("speed-probe", ignore_errors=True)
    rows = int(re.search(r"in (\d+) rows", r.stderr).group(1))
    if "skipped" in r.stderr or "cut" in r.stderr:
        sys.exit(f"speed: lm-train skips or cuts some of the pairs: {r.stderr}")
    B = max(1, round(8 * rows / len(pairs)))	# about 8 pairs a step
    t0 = os.times()
    run([b("lm-train")] + common + ["-b", str(B), "--epochs", "1", "--lr", "1e-6", "-q", "-o", "speed-ours"])
    t1 = os.times()
    ours_cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    hf = AutoTokenizer.from_pretrained(policy)
    ds = Dataset.from_list([{"chosen": hh_messages(p["chosen"]), "rejected": hh_messages(p["rejected"])}
                            for p in pairs])
    cfg = DPOConfig(output_dir="trl-out", per_device_train_batch_size=8, max_length=None, report_to=[], use_cpu=True,
                    dataloader_num_workers=0, learning_rate=1e-6, num_train_epochs=1, logging_steps=1000,
                    save_strategy="no", precompute_ref_log_probs=True, bf16=False)
    c0 = time.process_time()
    tr = DPOTrainer(model=hf_model(policy), ref_model=hf_model(ref), args=cfg, train_dataset=ds, processing_class=hf)
    tr.train()
    trl_cpu = time.process_time() - c0
    toks = sum(2 * len(e["prompt_ids"]) + len(e["chosen_ids"]) + len(e["rejected_ids"]) for e in tr.train_dataset)
    print(f"speed, one epoch of {len(pairs)} HH-RLHF pairs ({toks} tokens), about 8 pairs a step (lm-train -b {B} "
          f"rows of 512), {THREADS} threads: lm-train {ours_cpu:.2f} CPU s ({toks / ours_cpu:.0f} tokens/CPU s), "
          f"TRL {trl_cpu:.2f} CPU s ({toks / trl_cpu:.0f} tokens/CPU s): {trl_cpu / ours_cpu:.2f}x")


def outcome(policy):
    with gzip.open(PREFS, "rt") as f:
        prefs = [json.loads(l) for l in f][:2000]
    with open("outcome.jsonl", "w") as f:
        for p in prefs:
            f.write(json.dumps(p) + "\n")
    shutil.rmtree("outcome", ignore_errors=True)
    c0 = os.times()
    r = run([b("lm-train"), "--dpo", "outcome.jsonl", "--init", policy, "--context", "512", "-j", str(THREADS),
             "-b", "4", "--epochs", "1", "--lr", "1e-4", "--warmup", "10", "--val-fraction", "0.1", "--eval-every",
             "100", "-o", "outcome"])
    c1 = os.times()
    skipped = re.search(r"(\d+) of (\d+) records skipped", r.stderr)
    ev = [json.loads(l) for l in open("outcome/metrics.jsonl") if "eval_loss" in l]
    print(f"outcome: {ev[-1]['eval_pairs']:.0f} held-out pairs ({skipped.group(0) if skipped else 'none skipped'}); "
          f"{c1.children_user + c1.children_system - c0.children_user - c0.children_system:.0f} CPU s")
    print(f"  at the start every implicit reward is 0 (accuracy 0); the reference ranks chosen over rejected in "
          f"{ev[-1]['eval_ref_accuracy']:.4f} of them")
    for e in ev:
        print(f"  step {e['step']}: eval_loss {e['eval_loss']:.4f}, eval_rewards/accuracies "
              f"{e['eval_rewards/accuracies']:.4f}, eval_rewards/margins {e['eval_rewards/margins']:.4f}")


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/dpo-check"
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    torch.set_num_threads(THREADS)
    import trl
    import transformers
    print(f"trl {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}")
    # sft-check.py's base, with its checkpoints at steps 10, 20 and 30 kept (its own directory:
    # the two scripts may share WORK_DIR)
    build_base(sft_records(), out="base-steps", extra=["--save-every", "10", "--keep", "5"])
    ref, policy = "base-steps/step-0000020", "base-steps/step-0000030"
    ok = exactness(policy, ref, None)
    print("exactness:", "PASS" if ok else "FAIL")
    speed(policy, ref)
    if os.environ.get("OUTCOME", "0") != "0":
        outcome(policy)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
