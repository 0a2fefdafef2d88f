#!/usr/bin/env python3
"""ppo-check.py - lm-train --ppo against a plain PyTorch and numpy reference written from the
formulas of trainer/ppo.h (rollout quantities, rewards, GAE, whitening, the clipped policy and
value losses, their statistics and every gradient), on the same tiny GPT-2 models as
transformers loads them; and (OUTCOME=1) what PPO does to the reward model's score on held-out
prompts, against best-of-N sampling and DPO from the same start.

usage: bench/posttrain/ppo-check.py [WORK_DIR]   (bench/.venv's python: torch, transformers,
       safetensors of bench/posttrain/requirements.txt)

Models (posttrain.py's base: a 1024-token BPE with the chat tokens, a 2-layer GPT-2 of width 64
pretrained 30 steps on ../shared/data/sft's texts):
  sft/     the base fine-tuned (lm-train --sft) 100 steps on 642 short HH-RLHF chosen
           transcripts (records 1000 on of ../shared/data/prefs), so that chat responses end
           with <|im_end|>; checkpoints at steps 50 (the reference) and 100 (the policy), so
           that the KL penalty is not 0 at the first rollouts.
  rm/      a reward model: lm-train --reward from the base on 64 short HH-RLHF pairs, 8 steps
           (the value model starts as it).

exactness  lm-train --ppo on 8 prompts (4 HH-RLHF transcripts: the chat template; 4 plain
           prompt strings from ../shared/data/sft) -b 8 --mini-batch 4 --ppo-epochs 4 --lr 3e-3
           --temperature 0.7 --kl-coef 0.2 --max-new 24 --dump-grads DIR: the batch of rollouts
           and the weights before, and gradients of, the last minibatch of the last epoch.
  a. rollouts: from the starting models (the policy, the reference, the reward model as the
     value model), each rollout's log-probabilities under the policy and the reference
     (log_softmax(logits / temperature) of each response id at the position before it), its
     values (model.score(model.transformer(ids).last_hidden_state) at those positions), its
     score (the reward model at the last id of prompt + response, and after a chat response
     that ended with <|im_end|> the ids of "\\n"); then in numpy (float64) from those: rewards,
     GAE, returns, whitened advantages. Against rollouts.jsonl: |ours - reference| /
     max(1, |reference|) < 1e-4 (absolute below 1, relative above).
  b. the minibatch: policy.safetensors and value.safetensors loaded into the models, the
     policy loss, value loss, their total (policy + vf_coef value) and the statistics
     (policy/approxkl, policy/policykl, policy/clipfrac, val/error, val/clipfrac, val/vpred,
     val/ratio) with torch autograd from the rollouts' old log-probabilities, values,
     advantages and returns; the loss terms and statistics against minibatch.json (same
     tolerance), every gradient tensor of both models against the dumped ones (relative norm
     difference < 1e-4; a tensor whose reference gradient has a norm under 1e-6 of the whole
     gradient's is compared absolutely against that). Reports the clip fractions (> 0: the
     clipped branch taken).
  Also: the sampling at the temperature (the sum over the response tokens of -lp against the
  sum of the policy's entropies there, a z-score from their variances: |z| < 4).
outcome    (OUTCOME=1) on ../shared/data/prefs (HH-RLHF harmless-base test, 2312 usable pairs):
           the even pairs are the preference data, the odd pairs' prompts PPO's (their last
           TEST, default 100, kept out of PPO entirely). The start: the base fine-tuned 150
           steps (lm-train --sft) on the preference half's chosen transcripts. The reward
           model: reward-check.py's ACCURACY recipe (one epoch, batch 8, lr 3e-4) on the
           preference half; its accuracy on the odd pairs (lm-eval --pairs). From the start:
           (i) lm-train --ppo on the odd pairs' prompts for PPO_STEPS (80) steps of 16 rollouts
           (--mini-batch 4, --ppo-epochs 4, lr 3e-4, --context 256, --max-new 32, temperature
           1) at each --kl-coef of KL_COEFS (0.05,0.2), --val-fraction 0.1 (lm-train's
           held-out prompts, evaluated every PPO_STEPS/4 steps); (ii) best-of-N from the start
           (--eval-best-of, N of BEST_OF: 4,16); (iii) lm-train --dpo on the preference half
           (one epoch, batch 4 rows of 512, lr 1e-4, beta 0.1), scored by a --ppo run with
           --init DPO --ref START --steps 1 --lr 0 (its step-0 evaluation: the held-out prompts'
           score and the sampled KL to START). Then each final policy sampled once on the TEST
           prompts (the start 4 times: its mean and best-of-4) through --dump-grads'
           rollouts.jsonl: per-prompt scores, standard errors and paired differences.
env: BIN, THREADS, CRAWL2LM_SHARED_DATA (posttrain.py), OUTCOME (default 0), RM_PAIRS (0: all
     of the preference half), PPO_STEPS, KL_COEFS, BEST_OF, TEST.
"""
import gzip
import json
import os
import re
import shutil
import sys
import time

import numpy as np
import torch

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from posttrain import PREFS, THREADS, b, build_base, rel, run, sft_records

TOL = 1e-4
TEMP, KL_COEF, MAX_NEW, GAMMA, LAM, CLIP, CLIPV, VF_COEF = 0.7, 0.2, 24, 1.0, 0.95, 0.2, 0.2, 0.1


def latest(d):
    return os.path.join(d, open(os.path.join(d, "latest")).read().strip())


def write(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def prefs():
    with gzip.open(PREFS, "rt") as f:
        return [json.loads(l) for l in f]


def models(base):
    """the SFT policy (steps 50 and 100) and the reward model; (policy, reference, rm)"""
    pr = prefs()
    if not os.path.exists("sft/latest"):
        write("sfthh.jsonl", [{"text": p["chosen"]} for p in pr[1000:] if len(p["chosen"]) < 500][:800])
        run([b("lm-train"), "--sft", "sfthh.jsonl", "--init", os.path.dirname(base), "--context", "256", "-j",
             str(THREADS), "-b", "8", "--steps", "100", "--lr", "3e-3", "--warmup", "0", "--save-every", "50",
             "--keep", "5", "-q", "-o", "sft"])
    if not os.path.exists("rm/latest"):
        small = [p for p in pr if len(p["chosen"]) < 800 and len(p["rejected"]) < 800 and p["chosen"] != p["rejected"]]
        write("rmpairs.jsonl", small[:64])
        run([b("lm-train"), "--reward", "rmpairs.jsonl", "--init", os.path.dirname(base), "--context", "512", "-j",
             str(THREADS), "-b", "8", "--steps", "8", "--lr", "1e-3", "--weight-decay", "0", "-q", "-o", "rm"])
    return "sft/step-0000100", "sft/step-0000050", latest("rm")


def lm(path, sd=None):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return prep(m, sd)


def cls(path, sd=None):
    from transformers import AutoModelForSequenceClassification
    m = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
    return prep(m, sd)


def prep(m, sd):
    """fp32, dropout off, the dumped weights when sd (every tensor but a tied output layer)"""
    m.train()
    m.config.use_cache = False
    for mod in m.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0
    if sd is not None:
        missing, unexpected = m.load_state_dict(sd, strict=False)
        missing = [k for k in missing if k != "lm_head.weight"]
        if missing or unexpected:
            sys.exit(f"the dumped weights: missing {missing}, unexpected {unexpected}")
        m.tie_weights()
    return m


def token_lp(m, ids, P, L):
    """log_softmax(logits / TEMP) of each response id at the position before it: [L]"""
    x = torch.tensor([ids])
    z = m(input_ids=x).logits[0, P - 1:P - 1 + L] / TEMP
    return torch.log_softmax(z, -1).gather(-1, x[0, P:P + L, None])[:, 0]


def token_values(m, ids, P, L):
    """the value model's values at the response ids' positions: [L]"""
    h = m.transformer(torch.tensor([ids])).last_hidden_state
    return m.score(h)[0, P - 1:P - 1 + L, 0]


def gae(lp, ref, value, score, kl_coef):
    """rewards, advantages (not whitened), returns of one response, float64"""
    L = len(lp)
    r = -kl_coef * (lp - ref)
    r[L - 1] += score
    adv, ret = np.zeros(L), np.zeros(L)
    nxt, g = 0.0, 0.0
    for t in range(L - 1, -1, -1):
        delta = r[t] + GAMMA * nxt - value[t]
        g = delta + GAMMA * LAM * g
        adv[t], ret[t] = g, g + value[t]
        nxt = value[t]
    return r, adv, ret


def close(a, b):
    """the worst |a - b| / max(1, |b|)"""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


def verdict(name, worst, extra=""):
    ok = worst < TOL
    print(f"  {name}: worst difference {worst:.3g}{extra}: {'PASS' if ok else 'FAIL'}")
    return ok


def check_rollouts(rolls, policy, ref, rm, nl):
    with torch.no_grad():
        pm, qm, vm = lm(policy).eval(), lm(ref).eval(), cls(rm).eval()
        got = {k: [] for k in ("lp", "ref", "value", "score", "reward", "adv", "ret")}
        want = {k: [] for k in got}
        adv_all, nl_gap, samp = [], 0.0, [0.0, 0.0]
        for r in rolls:
            P, L = len(r["prompt_ids"]), len(r["response_ids"])
            ids = r["prompt_ids"] + r["response_ids"]
            lp = token_lp(pm, ids, P, L).double().numpy()
            # the sampling: -lp of a sampled id has the mean H (the entropy) and the variance
            # of -log p under the policy at TEMP, when sampled from it
            z = torch.log_softmax(pm(input_ids=torch.tensor([ids])).logits[0, P - 1:P - 1 + L].double() / TEMP, -1)
            H = -(z.exp() * z).sum(-1)
            samp[0] += float(-torch.tensor(lp).sum() - H.sum())
            samp[1] += float(((z.exp() * z * z).sum(-1) - H * H).sum())
            rf = token_lp(qm, ids, P, L).double().numpy()
            v = token_values(vm, ids, P, L).double().numpy()
            seq = ids + (nl if r["chat"] and r["ended"] else [])
            s = float(vm.score(vm.transformer(torch.tensor([seq])).last_hidden_state)[0, -1, 0])
            if seq != ids:	# what the check would see without the "\n"
                s0 = float(vm.score(vm.transformer(torch.tensor([ids])).last_hidden_state)[0, -1, 0])
                nl_gap = max(nl_gap, abs(s0 - r["score"]))
            rw, adv, ret = gae(lp, rf, v, s, KL_COEF)
            adv_all.append(adv)
            for k, w in (("lp", lp), ("ref", rf), ("value", v), ("reward", rw), ("ret", ret)):
                want[k].extend(w)
                got[k].extend(r[k])
            want["score"].append(s)
            got["score"].append(r["score"])
            got["adv"].extend(r["adv"])
        a = np.concatenate(adv_all)
        want["adv"] = (a - a.mean()) / np.sqrt(a.var(ddof=1) + 1e-8)
    ok = True
    n = sum(len(r["response_ids"]) for r in rolls)
    ended = sum(r["ended"] for r in rolls)
    chat_end = sum(r["ended"] and r["chat"] for r in rolls)
    print(f"a. rollouts: {len(rolls)} ({sum(r['chat'] for r in rolls)} chat), {n} response tokens, {ended} ended "
          f"({chat_end} chat responses with <|im_end|>, scored with \"\\n\" {nl} after it); "
          f"|lm-train - reference| / max(1, |reference|):")
    for k in ("lp", "ref", "value", "score", "reward", "adv", "ret"):
        ok = verdict(k, close(got[k], want[k])) and ok
    if chat_end:
        print(f"  (scored without the \"\\n\" after <|im_end|>, the worst score would differ by {nl_gap:.3g})")
    zs = samp[0] / samp[1] ** 0.5
    print(f"  sampling at the temperature: sum of -lp minus sum of the entropies over the response tokens "
          f"{samp[0]:.3f}, z = {zs:.2f} ({'PASS' if abs(zs) < 4 else 'FAIL'}: |z| < 4)")
    ok = ok and abs(zs) < 4
    kl = np.array(want["lp"]) - np.array(want["ref"])
    print(f"  (the KL penalty: lp - ref from {kl.min():.3f} to {kl.max():.3f} a token)")
    return ok


def worst_grad(ours, other):
    total = sum(float(g.norm()) ** 2 for g in other.values()) ** 0.5
    zero = [k for k in other if float(other[k].norm()) < 1e-6 * total]
    worst, where = 0.0, None
    for k in other:
        d = float((ours[k] - other[k]).norm()) / (1e-6 * total) * TOL if k in zero else rel(ours[k], other[k])
        if d > worst:
            worst, where = d, k
    return worst, where, zero


def stats(loss, policy, value, lp, old, pl1, pl2, vl1, vl2, v, ratio, N):
    d = lp - old
    return {"loss": loss.item(), "loss/policy": policy.item(), "loss/value": value.item(), "tokens": N,
            "policy/approxkl": float((0.5 * d * d).mean()), "policy/policykl": float((-d).mean()),
            "policy/clipfrac": float((pl2 > pl1).double().mean()), "val/error": float(vl1.mean()),
            "val/clipfrac": float((vl2 > vl1).double().mean()), "val/vpred": float(v.mean()),
            "val/ratio": float(ratio.mean())}


def check_minibatch(rolls, mb, init_policy, rm):
    from safetensors.torch import load_file
    pm = lm(init_policy, load_file("dump/policy.safetensors"))
    vm = cls(rm, load_file("dump/value.safetensors"))
    pm.zero_grad()
    vm.zero_grad()
    lp_new, lp_old, adv, v_new, v_old, ret = [], [], [], [], [], []
    for i in mb["rows"]:
        r = rolls[i]
        P, L = len(r["prompt_ids"]), len(r["response_ids"])
        ids = r["prompt_ids"] + r["response_ids"]
        lp_new.append(token_lp(pm, ids, P, L))
        v_new.append(token_values(vm, ids, P, L))
        for lst, k in ((lp_old, "lp"), (adv, "adv"), (v_old, "value"), (ret, "ret")):
            lst.append(torch.tensor(r[k], dtype=torch.float32))
    lp, old, A = torch.cat(lp_new).double(), torch.cat(lp_old).double(), torch.cat(adv).double()
    v, vold, R = torch.cat(v_new).double(), torch.cat(v_old).double(), torch.cat(ret).double()
    N = lp.numel()
    ratio = torch.exp(lp - old)
    pl1, pl2 = -A * ratio, -A * torch.clamp(ratio, 1 - CLIP, 1 + CLIP)
    policy = torch.maximum(pl1, pl2).mean()
    vc = torch.clamp(v, vold - CLIPV, vold + CLIPV)
    vl1, vl2 = (v - R) ** 2, (vc - R) ** 2
    value = 0.5 * torch.maximum(vl1, vl2).mean()
    loss = policy + VF_COEF * value
    loss.backward()
    with torch.no_grad():
        want = stats(loss, policy, value, lp, old, pl1, pl2, vl1, vl2, v, ratio, N)
    print(f"b. the minibatch: rows {mb['rows']} of epoch {mb['epoch'] + 1}, {N} tokens; kl_coef {mb['kl_coef']}, "
          f"temperature {mb['temperature']}")
    ok = mb["kl_coef"] == KL_COEF and mb["temperature"] == TEMP
    for k, w in want.items():
        ok = verdict(f"{k} {mb[k]:.9g} vs {w:.9g}", close(mb[k], w)) and ok
    for name, m, path in (("policy", pm, "dump/policy-grads.safetensors"), ("value", vm, "dump/value-grads.safetensors")):
        got = load_file(path)
        ref = {k: p.grad.detach().clone() for k, p in m.named_parameters() if p.grad is not None}
        missing = sorted(set(ref) ^ set(got))
        if missing:
            print(f"  {name} gradients: tensors not in both: {missing}: FAIL")
            ok = False
            continue
        worst, where, zero = worst_grad(got, ref)
        ok = verdict(f"{name} gradients ({len(ref)} tensors; the worst: {where})", worst,
                     f"{'; ' + ', '.join(zero) + ' ~0, compared absolutely' if zero else ''}") and ok
    print(f"  clipped: policy/clipfrac {want['policy/clipfrac']:.4f}, val/clipfrac {want['val/clipfrac']:.4f} "
          f"(ratio from {float(ratio.detach().min()):.3f} to {float(ratio.detach().max()):.3f})")
    if want["policy/clipfrac"] <= 0 or want["val/clipfrac"] <= 0:
        print("  the clipped branch was not taken: FAIL")
        ok = False
    return ok


def exactness(base):
    policy, ref, rm = models(base)
    pr = prefs()
    small = [p for p in pr if len(p["chosen"]) < 800 and len(p["rejected"]) < 800 and p["chosen"] != p["rejected"]]
    plain = [{"prompt": r["prompt"]} for r in sft_records() if len(r["prompt"]) < 300][:4]
    write("prompts.jsonl", small[64:68] + plain)
    shutil.rmtree("ppo-x", ignore_errors=True)
    shutil.rmtree("dump", ignore_errors=True)
    run([b("lm-train"), "--ppo", "prompts.jsonl", "--reward", rm, "--init", policy, "--ref", ref, "-b", "8",
         "--mini-batch", "4", "--ppo-epochs", "4", "--lr", "3e-3", "--warmup", "0", "--steps", "1", "--temperature",
         str(TEMP), "--kl-coef", str(KL_COEF), "--max-new", str(MAX_NEW), "--context", "256", "-j", str(THREADS),
         "--dump-grads", "dump", "-o", "ppo-x"])
    rolls = [json.loads(l) for l in open("dump/rollouts.jsonl")]
    mb = json.load(open("dump/minibatch.json"))
    from transformers import AutoTokenizer
    nl = AutoTokenizer.from_pretrained(policy)("\n", add_special_tokens=False)["input_ids"]
    ok = check_rollouts(rolls, policy, ref, rm, nl)
    ok = check_minibatch(rolls, mb, policy, rm) and ok
    return ok


# ---- outcome ----

RM_PAIRS = int(os.environ.get("RM_PAIRS", "0"))	# 0: all of the RM half
PPO_STEPS = int(os.environ.get("PPO_STEPS", "60"))
BEST_OF = [int(x) for x in os.environ.get("BEST_OF", "4,16").split(",")]
OCTX, ONEW, OTEMP, OSEED = 256, 32, 1.0, 1
TEST = int(os.environ.get("TEST", "100"))
KL_COEFS = os.environ.get("KL_COEFS", "0.05,0.2").split(",")


def cpu_s():
    t = os.times()
    return t.children_user + t.children_system


def timed(label, args, log):
    """run a program, its CPU seconds added to log[label]"""
    c0 = cpu_s()
    r = run(args)
    log[label] = log.get(label, 0) + cpu_s() - c0
    return r


def evals(path):
    """a run's held-out evaluation lines: {step: {...}}, {N: best-of line}"""
    ev, bo = {}, {}
    for l in open(path):
        j = json.loads(l)
        if "eval_best_of" in j:
            bo[j["eval_best_of"]] = j
        elif "eval_objective/scores" in j:
            ev[j["step"]] = j
    return ev, bo


def per_prompt(tag, policy, start, rm, test, log, reps=1):
    """reps samples for each prompt of the file test from policy (lm-train --ppo --dump-grads on
    the prompts, each reps times, the batch all of them, --lr 0: rollouts.jsonl is the first
    batch, sampled before any update): {prompt ids: [(score, sampled KL to start = the sum
    over the response of lp - ref, response ids)]}"""
    recs = [l for l in open(test)]
    write(f"pp-{tag}.jsonl", [json.loads(l) for l in recs for _ in range(reps)])
    n = len(recs) * reps
    d, o = f"pp-{tag}", f"pp-{tag}-run"
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(o, ignore_errors=True)
    timed("per-prompt", [b("lm-train"), "--ppo", f"pp-{tag}.jsonl", "--reward", rm, "--init", policy, "--ref", start, "-b", str(n),
         "--mini-batch", "50", "--ppo-epochs", "1", "--steps", "1", "--lr", "0", "--temperature", str(OTEMP),
         "--max-new", str(ONEW), "--context", str(OCTX), "-j", str(THREADS), "--seed", "7", "--dump-grads", d,
         "-o", o, "-q"], log)
    out = {}
    for l in open(os.path.join(d, "rollouts.jsonl")):
        r = json.loads(l)
        out.setdefault(tuple(r["prompt_ids"]), []).append((r["score"], sum(r["lp"]) - sum(r["ref"]),
                                                          len(r["response_ids"])))
    return out


def mean_se(x):
    x = np.asarray(x, np.float64)
    return x.mean(), x.std(ddof=1) / np.sqrt(len(x))


def outcome(base):
    log, notes = {}, []
    pr = [p for p in prefs() if p["chosen"] != p["rejected"]]
    rmh = [p for i, p in enumerate(pr) if i % 2 == 0]
    if RM_PAIRS:
        rmh = rmh[:RM_PAIRS]
    ppo_half = [p for i, p in enumerate(pr) if i % 2 == 1]
    write("o-prefs.jsonl", rmh)
    test = ppo_half[-TEST:]	# kept from PPO: the per-prompt measurement's
    write("o-prompts.jsonl", ppo_half[:-TEST])
    write("o-test.jsonl", test)
    write("o-rm-heldout.jsonl", ppo_half)
    common = ["--context", str(OCTX), "-j", str(THREADS)]
    # the start: the base fine-tuned on the chosen transcripts of the preference half
    if not os.path.exists("o-sft/latest"):
        write("o-sft.jsonl", [{"text": p["chosen"]} for p in rmh])
        timed("sft", [b("lm-train"), "--sft", "o-sft.jsonl", "--init", os.path.dirname(base), "-b", "8",
                      "--steps", "150", "--lr", "3e-3", "--warmup", "10", "-q", "-o", "o-sft"] + common, log)
    start = latest("o-sft")
    # the reward model: reward-check.py's ACCURACY recipe on the preference half
    if not os.path.exists("o-rm/latest"):
        timed("rm", [b("lm-train"), "--reward", "o-prefs.jsonl", "--init", os.path.dirname(base), "--context", "512",
                     "-j", str(THREADS), "-b", "8", "--epochs", "1", "--lr", "3e-4", "--warmup", "10",
                     "--weight-decay", "0", "--eval-every", "0", "-q", "-o", "o-rm"], log)
    rm = latest("o-rm")
    timed("rm-eval", [b("lm-eval"), rm, "--pairs", "o-rm-heldout.jsonl", "-j", str(THREADS), "-o", "o-rm-acc.json"],
          log)
    acc = json.load(open("o-rm-acc.json"))["results"]["o-rm-heldout"]
    # DPO on the same preference pairs from the same start
    if not os.path.exists("o-dpo/latest"):
        r = timed("dpo", [b("lm-train"), "--dpo", "o-prefs.jsonl", "--init", start, "-b", "4", "--epochs", "1",
                          "--lr", "1e-4", "--warmup", "10", "-o", "o-dpo", "--context", "512", "-j", str(THREADS)],
                  log)
        open("o-dpo.log", "w").write(r.stderr)
        notes.append("DPO: " + "; ".join(l for l in open("o-dpo.log").read().splitlines() if "skipped" in l or "cut" in l))
    dpo = latest("o-dpo")
    ppo_common = ["--reward", rm, "--temperature", str(OTEMP), "--max-new", str(ONEW), "--val-fraction", "0.1",
                  "--seed", str(OSEED), "-b", "16", "--mini-batch", "4", "--ppo-epochs", "4"] + common
    # PPO at each KL coefficient, with the best-of-N baseline from the start at step 0 of the first
    ppo = {}
    for i, kc in enumerate(KL_COEFS):
        d = f"o-ppo-{kc}"
        shutil.rmtree(d, ignore_errors=True)
        r = timed(f"ppo {kc}", [b("lm-train"), "--ppo", "o-prompts.jsonl", "--init", start, "--steps", str(PPO_STEPS),
                                "--lr", "3e-4", "--warmup", "0", "--kl-coef", kc, "--eval-every",
                                str(max(1, PPO_STEPS // 4)), "-o", d]
                  + (["--eval-best-of", str(BEST_OF[0])] if i == 0 else []) + ppo_common, log)
        if i == 0:
            notes.append("PPO: " + "; ".join(l for l in r.stderr.splitlines() if "prompts" in l and "step" not in l))
        ppo[kc] = evals(f"{d}/metrics.jsonl")
    ev, bo = ppo[KL_COEFS[0]]
    # the start with best-of-N for the other Ns; DPO's policy scored the same way (step 0: the
    # --init policy, KL to --ref); --lr 0, one step
    extra = {}
    for tag, init, n in [("start", start, k) for k in BEST_OF[1:]] + [("dpo", dpo, 0)]:
        shutil.rmtree(f"o-eval-{tag}{n}", ignore_errors=True)
        timed(f"eval-{tag}{n}", [b("lm-train"), "--ppo", "o-prompts.jsonl", "--init", init, "--ref", start,
                                 "--steps", "1", "--lr", "0", "--eval-best-of", str(n), "-o",
                                 f"o-eval-{tag}{n}"] + ppo_common, log)
        extra[(tag, n)] = evals(f"o-eval-{tag}{n}/metrics.jsonl")
    # a second held-out set, TEST prompts PPO never sees: per-prompt scores (standard errors,
    # paired differences)
    pp = {"start": per_prompt("start", start, start, rm, "o-test.jsonl", log, reps=BEST_OF[0]),
          **{f"ppo {kc}": per_prompt(f"ppo-{kc}", latest(f"o-ppo-{kc}"), start, rm, "o-test.jsonl", log)
             for kc in KL_COEFS},
          "dpo": per_prompt("dpo", dpo, start, rm, "o-test.jsonl", log)}
    keys = [k for k in pp["start"] if all(k in v for v in pp.values())]
    one = {"start": [np.mean([x[0] for x in pp["start"][k]]) for k in keys]}	# the mean of its samples
    for t in pp:
        if t != "start":
            one[t] = [pp[t][k][0][0] for k in keys]
    best = [max(x[0] for x in pp["start"][k]) for k in keys]
    print(f"outcome, {time.strftime('%Y-%m-%d')}, {THREADS} threads; CPU seconds: "
          + ", ".join(f"{k} {v:.0f}" for k, v in log.items()))
    print(f"  reward model: {len(rmh)} pairs, one epoch; held-out accuracy on the other half's "
          f"{acc['pairs']} pairs {acc['accuracy']:.4f} +- {acc['accuracy_stderr']:.4f}")
    for n in notes:
        print("  " + n)
    e0 = ev[0]
    print(f"  {e0['eval_prompts']} held-out prompts, one sample each at temperature {OTEMP}, at most {ONEW} tokens:")
    for kc in KL_COEFS:
        for st in sorted(ppo[kc][0]):
            e = ppo[kc][0][st]
            print(f"  PPO --kl-coef {kc} step {st}: score {e['eval_objective/scores']:.4f}, KL "
                  f"{e['eval_objective/kl']:.4f}, {e['eval_response_len']:.1f} tokens, ended {e['eval_ended']:.3f}")
    for n, j in sorted(list(bo.items()) + [(k, v[1][k]) for (t, k), v in extra.items() if t == "start"]):
        print(f"  best of {n} from the start: score {j['eval_best_of/scores']:.4f} (one sample "
              f"{j['eval_best_of/sample_scores']:.4f}), KL bound {j['eval_best_of/kl']:.4f}")
    for (t, n), (e, _) in sorted(extra.items()):
        print(f"  (the {t} policy's evaluation run, step 0: score {e[0]['eval_objective/scores']:.4f}, KL "
              f"{e[0]['eval_objective/kl']:.4f}; after its one step at --lr 0: {e[1]['eval_objective/scores']:.4f}, "
              f"{e[1]['eval_objective/kl']:.4f})")
    d0 = extra[("dpo", 0)][0][0]
    print(f"  DPO: score {d0['eval_objective/scores']:.4f}, KL to the start {d0['eval_objective/kl']:.4f}, "
          f"{d0['eval_response_len']:.1f} tokens")

    print(f"  TEST set: {len(keys)} prompts kept from PPO (of {TEST}), per-prompt means +- standard errors (the "
          f"start's score a prompt: the mean of its {BEST_OF[0]} samples):")
    length = {t: np.mean([np.mean([x[2] for x in pp[t][k]]) for k in keys]) for t in pp}
    rows = [("start", one["start"], "start"), (f"best of {BEST_OF[0]} from the start", best, None)]
    rows += [(f"PPO --kl-coef {kc}", one[f"ppo {kc}"], f"ppo {kc}") for kc in KL_COEFS] + [("DPO", one["dpo"], "dpo")]
    for name, x, t in rows:
        m, se = mean_se(x)
        line = f"    {name}: score {m:.4f} +- {se:.4f}"
        if t and t != "start":
            kl = mean_se([pp[t][k][0][1] for k in keys])
            dm, dse = mean_se(np.array(x) - np.array(one["start"]))
            line += (f"; minus the start's, paired: {dm:+.4f} +- {dse:.4f}; sampled KL to the start {kl[0]:.3f} +- "
                     f"{kl[1]:.3f}")
        if t:
            line += f"; {length[t]:.1f} response tokens"
        print(line)
    for kc in KL_COEFS:
        for name, other in ((f"best of {BEST_OF[0]}", best), ("DPO", one["dpo"])):
            dm, dse = mean_se(np.array(one[f"ppo {kc}"]) - np.array(other))
            print(f"    PPO --kl-coef {kc} minus {name}, paired: {dm:+.4f} +- {dse:.4f}")


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ppo-check"
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    torch.set_num_threads(THREADS)
    import transformers
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}")
    base = build_base(sft_records())
    ok = exactness(base)
    print("exactness:", "PASS" if ok else "FAIL")
    if os.environ.get("OUTCOME", "0") != "0":
        outcome(base)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
