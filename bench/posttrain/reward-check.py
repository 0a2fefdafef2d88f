#!/usr/bin/env python3
"""reward-check.py - lm-train --reward against TRL's RewardTrainer and a plain PyTorch reference,
on the same tiny GPT-2 exported to Hugging Face and the same batch; lm-eval --pairs against
transformers' AutoModelForSequenceClassification; speed; held-out accuracy on HH-RLHF.

usage: bench/posttrain/reward-check.py [WORK_DIR]   (bench/.venv's python; trl pinned in
       bench/posttrain/requirements.txt)

Builds the tiny base of tinybase.py (a 1024-token BPE with the chat tokens, a 2-layer GPT-2
pretrained 30 steps on ../shared/data/sft's texts) and a reward model from it: `lm-train
--reward --steps 1 --lr 0` adds the score head (normal, standard deviation 0.02, from the seed)
and changes nothing else; that checkpoint is what every side starts from, as transformers loads
it (GPT2ForSequenceClassification).

exactness  the first N pairs of ../shared/data/prefs (HH-RLHF harmless-base test) whose
           transcripts are under 800 bytes (nothing cut at 512 tokens), in two forms: prompt
           strings ({"prompt": the shared transcript up to its last "\\n\\nAssistant:",
           "chosen", "rejected": the rests}; TRL appends end-of-text and pads with it) and
           message lists (the transcripts' turns as user and assistant messages; TRL renders
           them with the checkpoint's chat template, lm-train reads the transcripts and maps
           them itself). lm-train --reward --dump-grads on a batch of the N pairs against
           TRL 1.16's RewardTrainer (compute_loss on its collated batch of the N pairs, then
           backward; fp32 CPU) and a plain PyTorch loop (each sequence scored alone, the mean
           of -log sigmoid(chosen - rejected)): loss, accuracy, margin and the gradient of
           every tensor, relative difference < 1e-4 passes.
scores     lm-eval --pairs --log-samples against transformers' scores of the same sequences.
speed      one epoch over the first 64 pairs under 512 tokens, batch 8, lr 1e-5, CPU time
           (user + sys) of lm-train -j THREADS and of TRL's trainer.train() (torch threads
           THREADS), in tokens (chosen + rejected, no padding) per CPU second.
accuracy   (ACCURACY=1) every fifth pair of the file held out, the rest trained on for EPOCHS
           (default 1) at batch 8, lr 3e-4 (10 warmup steps, cosine), transcripts through the
           chat template, --context 512 (longer sequences keep their end); lm-eval --pairs on
           the held-out pairs before and after.
env: BIN (default build/bin), THREADS (default 2), N (default 8), ACCURACY, EPOCHS.
"""
import gzip
import json
import os
import re
import shutil
import sys
import time

import torch

from tinybase import PREFS, THREADS, b, base as tiny_base, children_cpu, latest, rel, run

N = int(os.environ.get("N", "8"))
A = "\n\nAssistant:"


def hh_messages(t):
    """an HH-RLHF transcript's turns as lm-train maps them (sft.c): a space after the colon
    dropped"""
    parts = re.split(r"(\n\nHuman:|\n\nAssistant:)", t)
    msgs = []
    for i in range(1, len(parts), 2):
        c = parts[i + 1]
        msgs.append({"role": "user" if parts[i] == "\n\nHuman:" else "assistant",
                     "content": c[1:] if c.startswith(" ") else c})
    return msgs


def prompt_form(p):
    """the shared transcript up to its last "\\n\\nAssistant:" as the prompt"""
    c, r = p["chosen"], p["rejected"]
    k = 0
    while k < min(len(c), len(r)) and c[k] == r[k]:
        k += 1
    cut = c.rfind(A, 0, k)
    cut = cut + len(A) if cut >= 0 else 0
    return {"prompt": c[:cut], "chosen": c[cut:], "rejected": r[cut:]}


def write(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def ours(pairs_file, init, n, tag):
    """one step of lm-train --reward --dump-grads on the n pairs: loss, accuracy, margin,
    gradients"""
    from safetensors.torch import load_file
    shutil.rmtree("o-" + tag, ignore_errors=True)
    r = run([b("lm-train"), "--reward", pairs_file, "--init", init, "--context", "512", "-j", str(THREADS),
             "-b", str(n), "--steps", "1", "--weight-decay", "0", "--clip", "0", "--dump-grads",
             f"ours-{tag}.safetensors", "-o", "o-" + tag])
    m = re.search(r"loss ([0-9.eE+-]+) over (\d+) pairs", r.stderr)
    a = re.search(r"accuracy ([0-9.eE+-]+), margin ([0-9.eE+-]+)", r.stderr)
    return float(m.group(1)), float(a.group(1)), float(a.group(2)), load_file(f"ours-{tag}.safetensors")


def trl_step(rm, tok, recs):
    """TRL's RewardTrainer: compute_loss on its collated batch of recs, backward"""
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, RewardTrainer
    model = AutoModelForSequenceClassification.from_pretrained(rm, torch_dtype=torch.float32).train()
    cfg = RewardConfig(output_dir="trl-out", per_device_train_batch_size=len(recs), max_length=1024,
                       report_to=[], use_cpu=True, dataloader_num_workers=0, learning_rate=1e-5,
                       num_train_epochs=1, logging_steps=1000, save_strategy="no", weight_decay=0.0,
                       max_grad_norm=0.0)
    tr = RewardTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(recs), processing_class=tok)
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(recs))])
    model.zero_grad()
    loss = tr.compute_loss(model, batch)
    loss.backward()
    met = tr._metrics["train"]
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    ntok = int(batch["attention_mask"].sum())
    return float(loss), met["accuracy"][-1], met["margin"][-1], grads, ntok


def reference(rm, seqs):
    """each sequence scored alone; the mean Bradley-Terry loss; its gradients"""
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(rm, torch_dtype=torch.float32).train()
    sc = [model(torch.tensor([ids])).logits[0, 0] for ids in seqs]
    n = len(seqs) // 2
    z = torch.stack([sc[i] - sc[n + i] for i in range(n)])
    loss = -torch.nn.functional.logsigmoid(z).mean()
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    return float(loss), float((z > 0).float().mean()), float(z.mean()), grads, [float(s) for s in sc]


def worst_grad(ours, other):
    """the worst relative difference over the tensors, and the tensors left out: those whose
    gradient is 0 in exact arithmetic (the final norm's bias: -log sigmoid(chosen - rejected)
    does not change when every score moves by the same amount), a norm under 1e-6 of the
    whole gradient's, whose absolute difference must be under that too"""
    total = sum(float(g.norm()) ** 2 for g in other.values()) ** 0.5
    zero = [k for k in ours if float(other[k].norm()) < 1e-6 * total]
    worst = max(rel(ours[k], other[k]) for k in ours if k not in zero)
    if any(float((ours[k] - other[k]).norm()) > 1e-6 * total for k in zero):
        worst = float("inf")
    return worst, zero


def compare(name, o, t, r):
    """o, t, r: (loss, accuracy, margin, grads) of ours, TRL, the reference"""
    lrel = lambda x, y: abs(x - y) / abs(y)
    missing = [k for k in o[3] if k not in t[3]]
    if missing:
        return False
    worst_t, zero = worst_grad(o[3], t[3])
    worst_r, _ = worst_grad(o[3], r[3])
    worst_tr, _ = worst_grad(t[3], r[3])
    print(f"{name}: loss lm-train {o[0]:.9g}  TRL {t[0]:.9g}  reference {r[0]:.9g} (relative "
          f"{lrel(o[0], t[0]):.3g}, {lrel(o[0], r[0]):.3g}); accuracy {o[1]:.4g} / {t[1]:.4g} / {r[1]:.4g}; "
          f"margin {o[2]:.9g} / {t[2]:.9g} / {r[2]:.9g} (relative {lrel(o[2], t[2]):.3g}); gradients "
          f"({len(o[3])} tensors{', missing in TRL: ' + str(missing) if missing else ''}) worst relative "
          f"difference vs TRL {worst_t:.3g}, vs reference {worst_r:.3g}, TRL vs reference {worst_tr:.3g} "
          f"({', '.join(zero)}: 0 in exact "
          f"arithmetic, within 1e-6 of the gradient's norm)")
    return (lrel(o[0], t[0]) < 1e-4 and lrel(o[0], r[0]) < 1e-4 and o[1] == t[1] == r[1] and
            lrel(o[2], t[2]) < 1e-4 and worst_t < 1e-4 and worst_r < 1e-4)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/reward-check"
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    torch.set_num_threads(THREADS)
    base = tiny_base()
    prefs = [json.loads(l) for l in gzip.open(PREFS, "rt")]
    small = [p for p in prefs if len(p["chosen"].encode()) < 800 and len(p["rejected"].encode()) < 800
             and p["chosen"] != p["rejected"]][:N]
    write("hh.jsonl", small)
    write("prompt.jsonl", [prompt_form(p) for p in small])

    # the reward model every side starts from: the head added, nothing else changed
    shutil.rmtree("rm0", ignore_errors=True)
    run([b("lm-train"), "--reward", "prompt.jsonl", "--init", "base", "--context", "512", "-j", str(THREADS),
         "-b", "1", "--steps", "1", "--lr", "0", "-q", "-o", "rm0"])
    rm = latest("rm0")
    import trl
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    print(f"trl {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}")
    _, info = AutoModelForSequenceClassification.from_pretrained(rm, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs"}
    print(f"the reward model loads as {json.load(open(rm + '/config.json'))['architectures'][0]}: "
          f"{'no missing or unexpected tensors' if not bad else bad}")
    ok = not bad
    tok = AutoTokenizer.from_pretrained(rm)
    enc = lambda text: tok(text)["input_ids"]
    chat = lambda msgs: list(tok.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])

    # prompt strings
    pr = [prompt_form(p) for p in small]
    seqs = [enc(p["prompt"] + p["chosen"]) for p in pr] + [enc(p["prompt"] + p["rejected"]) for p in pr]
    o = ours("prompt.jsonl", "rm0", N, "prompt")
    t = trl_step(rm, tok, pr)
    r = reference(rm, seqs)
    ok = compare(f"prompt strings, {N} pairs ({sum(map(len, seqs))} tokens)", o, t, r) and ok
    ref_scores = r[4]

    # message lists (TRL) and transcripts (lm-train)
    conv = [{"chosen": hh_messages(p["chosen"]), "rejected": hh_messages(p["rejected"])} for p in small]
    seqs = [chat(c["chosen"]) for c in conv] + [chat(c["rejected"]) for c in conv]
    o = ours("hh.jsonl", "rm0", N, "hh")
    t = trl_step(rm, tok, conv)
    r = reference(rm, seqs)
    ok = compare(f"transcripts through the chat template, {N} pairs ({sum(map(len, seqs))} tokens)", o, t, r) and ok

    # lm-eval --pairs against transformers' scores
    run([b("lm-eval"), rm, "--pairs", "prompt.jsonl", "-j", str(THREADS), "--log-samples", "log.jsonl", "-o",
         "res.json"])
    log = [json.loads(l) for l in open("log.jsonl")]
    got = [x["chosen"] for x in log] + [x["rejected"] for x in log]
    worst = max(abs(g - w) / max(abs(w), 1e-3) for g, w in zip(got, ref_scores))
    print(f"lm-eval --pairs: {len(log)} pairs' scores against transformers': worst relative difference {worst:.3g}")
    ok = ok and worst < 1e-4
    print("exactness:", "PASS" if ok else "FAIL")

    # speed: one epoch, batch 8
    ep = [prompt_form(p) for p in prefs if p["chosen"] != p["rejected"]]
    ep = [p for p in ep if max(len(enc(p["prompt"] + p["chosen"])), len(enc(p["prompt"] + p["rejected"]))) < 512][:64]
    write("epoch.jsonl", ep)
    ntok = sum(len(enc(p["prompt"] + p["chosen"])) + len(enc(p["prompt"] + p["rejected"])) for p in ep)
    shutil.rmtree("speed-ours", ignore_errors=True)
    c0 = children_cpu()
    run([b("lm-train"), "--reward", "epoch.jsonl", "--init", "rm0", "--context", "512", "-j", str(THREADS),
         "-b", "8", "--epochs", "1", "--lr", "1e-5", "-q", "-o", "speed-ours"])
    ours_cpu = children_cpu() - c0
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer
    model = AutoModelForSequenceClassification.from_pretrained(rm, torch_dtype=torch.float32)
    cfg = RewardConfig(output_dir="trl-out", per_device_train_batch_size=8, max_length=512, report_to=[],
                       use_cpu=True, dataloader_num_workers=0, learning_rate=1e-5, num_train_epochs=1,
                       logging_steps=1000, save_strategy="no")
    tr = RewardTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(ep), processing_class=tok)
    c0 = time.process_time()
    tr.train()
    trl_cpu = time.process_time() - c0
    print(f"speed, one epoch of {len(ep)} pairs ({ntok} tokens), batch 8, {THREADS} threads: lm-train "
          f"{ours_cpu:.2f} CPU s ({ntok / ours_cpu:.0f} tokens/CPU s), TRL {trl_cpu:.2f} CPU s "
          f"({ntok / trl_cpu:.0f} tokens/CPU s): {trl_cpu / ours_cpu:.2f}x")

    if os.environ.get("ACCURACY"):
        epochs = os.environ.get("EPOCHS", "1")
        usable = [p for p in prefs if p["chosen"] != p["rejected"]]
        write("train.jsonl", [p for i, p in enumerate(usable) if i % 5])
        write("heldout.jsonl", [p for i, p in enumerate(usable) if i % 5 == 0])
        shutil.rmtree("acc", ignore_errors=True)
        c0 = children_cpu()
        run([b("lm-train"), "--reward", "train.jsonl", "--init", "rm0", "--context", "512", "-j", str(THREADS),
             "-b", "8", "--epochs", epochs, "--lr", "3e-4", "--warmup", "10", "--weight-decay", "0",
             "--eval-every", "0", "-q", "-o", "acc"])
        cpu = children_cpu() - c0
        res = {}
        for name, ck in (("before", rm), ("after", latest("acc"))):
            run([b("lm-eval"), ck, "--pairs", "heldout.jsonl", "-j", str(THREADS), "-o", f"acc-{name}.json"])
            res[name] = json.load(open(f"acc-{name}.json"))["results"]["heldout"]
        steps = sum(1 for l in open("acc/metrics.jsonl") if '"loss"' in l)
        print(f"accuracy: {len(usable) - res['after']['pairs']} pairs trained on for {epochs} epoch(s) "
              f"({steps} steps of 8, {cpu:.0f} CPU s); {res['after']['pairs']} held out: accuracy "
              f"{res['before']['accuracy']:.4f} before, {res['after']['accuracy']:.4f} +- "
              f"{res['after']['accuracy_stderr']:.4f} after (mean margin {res['after']['margin']:.4f}, "
              f"loss {res['after']['loss']:.4f}; {res['after']['truncated']} held-out pairs cut to their "
              f"last 512 tokens)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
