#!/usr/bin/env python3
"""sft-check.py - lm-train --sft against TRL's SFTTrainer (completion-only loss) and a plain
PyTorch reference, on the same tiny GPT-2 exported to Hugging Face and the same batch.

usage: bench/posttrain/sft-check.py [WORK_DIR]   (bench/.venv's python; trl pinned in
       bench/posttrain/requirements.txt)

Builds: a BPE tokenizer (bpe-train, 1024 tokens with <|endoftext|>, <|im_start|>, <|im_end|>)
and a 2-layer GPT-2 (width 64, 512 positions) pretrained 30 steps on the texts of
../shared/data/sft (its prompt + response, one document each); then the first N examples of
that file whose prompt + response are under 800 bytes (well under 512 tokens: nothing cut).

exactness  lm-train --sft PAIRS --init BASE --context 512 -b R --dump-grads F (R: the rows the
           N examples pack into, so the batch is all of them once) writes the gradient of
           the mean loss over the response tokens (+ end-of-text); TRL 1.16's SFTTrainer
           (prompt-completion data, completion_only_loss, no packing, batch N, fp32 CPU)
           computes compute_loss on its collated batch of the same N examples and
           backward(); a plain PyTorch loop (each example alone: sum of response-token
           cross-entropies, divided by their count) is the third. Loss and every gradient
           tensor compared: relative difference ||a - b|| / ||b|| < 1e-4.
template   a base whose tokenizer lacks <|im_start|> and <|im_end|>, grown by lm-train
           --chat-tokens (one step at lr 0); transformers loads the grown checkpoint, its
           tokenizer_config.json's chat_template renders 4 two-turn conversations, and a
           PyTorch masked loss on those ids (assistant contents and their <|im_end|>) gives
           lm-train --sft's loss, trained-token count and gradients (< 1e-4 relative).
speed      one epoch over the 64 examples, batch 8, lr 1e-4, CPU time (user + sys) of
           lm-train -j THREADS and of TRL's trainer.train() (torch threads THREADS), in
           trained (response) tokens per CPU second.
env: BIN (default build/bin), THREADS (default 2), N (default 8).
"""
import json
import os
import re
import sys
import time

import torch

from posttrain import THREADS, build_base, hf_model, rel, run, sft_records

N = int(os.environ.get("N", "8"))


def template_check(b, small):
    """A base whose tokenizer lacks the chat tokens, grown by --chat-tokens; transformers loads
    the grown checkpoint, and its chat_template's ids give the loss and gradients lm-train
    reports on the same conversations."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if not os.path.exists("base2/latest"):
        run([b("bpe-train"), "-q", "--vocab-size", "1024", "-o", "tok2.json", "text.jsonl"])
        run([b("shard-pack"), "-q", "-t", "tok2.json", "-o", "shards2", "--val-fraction", "0", "text.jsonl"])
        run([b("lm-train"), "--data", "shards2/*.bin", "-t", "tok2.json", "--model", "model.json", "--context",
             "256", "-b", "8", "-j", str(THREADS), "--steps", "30", "--lr", "3e-3", "-q", "-o", "base2"])
    convs = []
    for i in range(0, 8, 2):
        p, q = small[i], small[i + 1]
        ins = lambda r: r["prompt"].split("### Instruction:\n")[-1].split("\n\n### Response")[0]
        convs.append({"messages": [{"role": "system", "content": "Answer briefly."},
                                   {"role": "user", "content": ins(p)}, {"role": "assistant", "content": p["response"]},
                                   {"role": "user", "content": ins(q)}, {"role": "assistant", "content": q["response"]}]})
    with open("chat.jsonl", "w") as f:
        for c in convs:
            f.write(json.dumps(c) + "\n")
    common = ["--sft", "chat.jsonl", "--context", "512", "-j", str(THREADS), "--weight-decay", "0", "--clip", "0"]
    import shutil
    shutil.rmtree("grown", ignore_errors=True)
    r = run([b("lm-train")] + common + ["--init", "base2", "--chat-tokens", "-b", "1", "--steps", "1", "--lr", "0",
                                         "-q", "-o", "grown"])
    g = os.path.join("grown", open("grown/latest").read().strip())
    r = run([b("lm-train")] + common + ["--init", "grown", "-b", "1", "--steps", "1", "--dump-grads", "g2.safetensors",
                                         "-o", "o3"])
    rows = int(re.search(r"in (\d+) rows", r.stderr).group(1))
    r = run([b("lm-train")] + common + ["--init", "grown", "-b", str(rows), "--steps", "1", "--dump-grads",
                                         "chat-grads.safetensors", "-o", "o4"])
    m = re.search(r"loss ([0-9.eE+-]+) over (\d+) tokens", r.stderr)
    our_loss, our_tokens = float(m.group(1)), int(m.group(2))
    ours = load_file("chat-grads.safetensors")
    tok = AutoTokenizer.from_pretrained(g)
    model, info = AutoModelForCausalLM.from_pretrained(g, torch_dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs"}
    model.train()
    for mod in model.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0
    enc = lambda text: tok(text, add_special_tokens=False)["input_ids"]
    losses, count, same = [], 0, True
    for c in convs:
        msgs = c["messages"]
        text = tok.apply_chat_template(msgs, tokenize=False)
        ids = enc(text)
        direct = tok.apply_chat_template(msgs, tokenize=True)
        direct = direct["input_ids"] if isinstance(direct, dict) or hasattr(direct, "keys") else direct
        same = same and list(direct) == ids
        mask = torch.zeros(len(ids), dtype=torch.bool)
        for k, msg in enumerate(msgs):
            if msg["role"] != "assistant":
                continue
            a = len(enc(tok.apply_chat_template(msgs[:k], tokenize=False, add_generation_prompt=True)))
            z = len(enc(tok.apply_chat_template(msgs[:k + 1], tokenize=False))) - len(enc("\n"))
            mask[a:z] = True
        logits = model(torch.tensor([ids])).logits[0, :-1]
        tm = mask[1:]
        losses.append(torch.nn.functional.cross_entropy(logits[tm], torch.tensor(ids[1:])[tm], reduction="sum"))
        count += int(tm.sum())
    loss = torch.stack(losses).sum() / count
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    worst = max(float((ours[n] - grads[n]).norm() / grads[n].norm()) for n in ours)
    lr = abs(our_loss - float(loss)) / float(loss)
    print(f"chat template: the grown checkpoint (vocabulary {model.config.vocab_size}) loads in transformers "
          f"({'no missing or unexpected tensors' if not bad else bad}); apply_chat_template tokenized = text "
          f"tokenized: {same}; {len(convs)} conversations, trained tokens ours {our_tokens}, transformers' "
          f"template {count}; loss lm-train {our_loss:.9g}, PyTorch on the template's ids {float(loss):.9g} "
          f"(relative {lr:.3g}); gradients' worst relative difference {worst:.3g}")
    return not bad and same and our_tokens == count and lr < 1e-4 and worst < 1e-4


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sft-check"
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    torch.set_num_threads(THREADS)
    import shutil
    for d in ("o1", "o2", "o3", "o4", "speed-ours", "trl-out"):
        shutil.rmtree(d, ignore_errors=True)
    recs = sft_records()
    small = [r for r in recs if len((r["prompt"] + r["response"]).encode()) < 800]
    with open("pairs.jsonl", "w") as f:
        for r in small[:N]:
            f.write(json.dumps({"prompt": r["prompt"], "response": r["response"]}) + "\n")
    with open("epoch.jsonl", "w") as f:
        for r in small[:64]:
            f.write(json.dumps({"prompt": r["prompt"], "response": r["response"]}) + "\n")
    from posttrain import b
    base = build_base(recs)

    # ours: the rows N examples pack into, then a batch of exactly those rows
    common = ["--sft", "pairs.jsonl", "--init", "base", "--context", "512", "-j", str(THREADS),
              "--weight-decay", "0", "--clip", "0"]
    r = run([b("lm-train")] + common + ["-b", "1", "--steps", "1", "--dump-grads", "g1.safetensors", "-o", "o1"])
    rows = int(re.search(r"in (\d+) rows", r.stderr).group(1))
    r = run([b("lm-train")] + common + ["-b", str(rows), "--steps", "1", "--dump-grads", "ours.safetensors",
                                         "-o", "o2"])
    m = re.search(r"loss ([0-9.eE+-]+) over (\d+) tokens", r.stderr)
    our_loss, our_tokens = float(m.group(1)), int(m.group(2))
    from safetensors.torch import load_file
    ours = load_file("ours.safetensors")

    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import trl
    from trl import SFTConfig, SFTTrainer

    tok = AutoTokenizer.from_pretrained(base)
    pairs = [json.loads(l) for l in open("pairs.jsonl")]

    def model():
        return AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32).train()

    # plain PyTorch: each example alone, the masked loss summed, divided by the tokens
    ref = hf_model(base)
    total, count = 0.0, 0
    losses = []
    for p in pairs:
        pi = tok(p["prompt"])["input_ids"]
        ids = tok(p["prompt"] + p["response"])["input_ids"] + [tok.eos_token_id]
        x = torch.tensor([ids])
        logits = ref(x).logits[0, :-1]
        tgt = torch.tensor(ids[1:])
        mask = torch.zeros(len(ids) - 1, dtype=torch.bool)
        mask[len(pi) - 1:] = True
        l = torch.nn.functional.cross_entropy(logits[mask], tgt[mask], reduction="sum")
        losses.append(l)
        count += int(mask.sum())
    ref_loss = torch.stack(losses).sum() / count
    ref_loss.backward()
    ref_grads = {n: p.grad.detach().clone() for n, p in ref.named_parameters()}

    # TRL
    cfg = SFTConfig(output_dir="trl-out", per_device_train_batch_size=N, completion_only_loss=True,
                    packing=False, max_length=1024, report_to=[], use_cpu=True, dataloader_num_workers=0,
                    learning_rate=1e-4, num_train_epochs=1, logging_steps=1000, save_strategy="no",
                    weight_decay=0.0, max_grad_norm=0.0)
    ds = Dataset.from_list([{"prompt": p["prompt"], "completion": p["response"]} for p in pairs])
    tm = model()
    tr = SFTTrainer(model=tm, args=cfg, train_dataset=ds, processing_class=tok)
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(pairs))])
    tm.zero_grad()
    trl_loss = tr.compute_loss(tm, batch)
    trl_loss.backward()
    trl_grads = {n: p.grad.detach().clone() for n, p in tm.named_parameters()}
    trl_tokens = int((batch["labels"][:, 1:] != -100).sum()) if "labels" in batch else -1

    worst_trl = max(rel(ours[n], trl_grads[n]) for n in ours)
    worst_ref = max(rel(ours[n], ref_grads[n]) for n in ours)
    missing = [n for n in ours if n not in trl_grads]
    print(f"trl {trl.__version__}, transformers {__import__('transformers').__version__}, torch {torch.__version__}")
    print(f"batch: {len(pairs)} examples in {rows} packed rows of 512; trained tokens ours {our_tokens}, "
          f"reference {count}, TRL {trl_tokens}")
    print(f"loss: lm-train {our_loss:.9g}  reference {float(ref_loss):.9g}  TRL {float(trl_loss):.9g}")
    print(f"loss relative difference: vs reference {abs(our_loss - float(ref_loss)) / float(ref_loss):.3g}, "
          f"vs TRL {abs(our_loss - float(trl_loss)) / float(trl_loss):.3g}")
    print(f"gradients ({len(ours)} tensors{', missing in TRL: ' + str(missing) if missing else ''}): worst "
          f"relative difference vs reference {worst_ref:.3g}, vs TRL {worst_trl:.3g}")
    ok = (abs(our_loss - float(trl_loss)) / float(trl_loss) < 1e-4 and worst_trl < 1e-4 and worst_ref < 1e-4)
    print("exactness:", "PASS" if ok else "FAIL")

    ok = template_check(b, small) and ok

    # speed: one epoch over epoch.jsonl, batch 8
    t0 = os.times()
    r = run([b("lm-train"), "--sft", "epoch.jsonl", "--init", "base", "--context", "512", "-j", str(THREADS),
             "-b", "8", "--epochs", "1", "--lr", "1e-4", "-q", "-o", "speed-ours"])
    t1 = os.times()
    ours_cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    ep = [json.loads(l) for l in open("epoch.jsonl")]
    ds = Dataset.from_list([{"prompt": p["prompt"], "completion": p["response"]} for p in ep])
    cfg.per_device_train_batch_size = 8
    tm = model()
    tr = SFTTrainer(model=tm, args=cfg, train_dataset=ds, processing_class=tok)
    c0 = time.process_time()
    tr.train()
    trl_cpu = time.process_time() - c0
    resp = 0
    for p in ep:
        resp += len(tok(p["prompt"] + p["response"])["input_ids"]) + 1 - len(tok(p["prompt"])["input_ids"])
    print(f"speed, one epoch of {len(ep)} examples ({resp} response tokens), batch 8, {THREADS} threads: "
          f"lm-train {ours_cpu:.2f} CPU s ({resp / ours_cpu:.0f} tokens/CPU s), TRL {trl_cpu:.2f} CPU s "
          f"({resp / trl_cpu:.0f} tokens/CPU s): {trl_cpu / ours_cpu:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
