#!/usr/bin/env python3
"""compare.py - lm-eval's numbers against lm-evaluation-harness's, item by item.

Usage: compare.py [--tol 1e-4] [--examples N] [--label L] OURS_RESULTS OURS_SAMPLES HARNESS_DIR

OURS_RESULTS and OURS_SAMPLES: lm-eval's -o and --log-samples files. HARNESS_DIR: the folder
where lm_eval --output_path --log_samples wrote results_*.json and samples_<task>_*.jsonl
(the newest of each is read). The harness's tasks are those of make-tasks.py (c2l_NAME); ours
are named after their files (NAME; the perplexity task is matched by its metrics: the one
task of ours with bits_per_byte is c2l_ppl).

With --tokenizer FILE (tokenizer.json), each request's input tokens as the harness builds them
(its _encode_pair) are compared with lm-eval's: "input≠" counts the requests whose tokens differ
(and in brackets those whose log-likelihoods then differ beyond the tolerance), and the
largest relative difference among the requests whose input tokens are the same is shown.

Per task it prints: items compared, items whose prediction differs (multiple choice: the
argmax of the log-likelihoods, acc, and of the log-likelihoods divided by the choice's
length in characters, acc_norm, each computed from the log-likelihoods of each side, and
lm-eval's own pred against the first; lambada: is_greedy; perplexity: none), requests whose
context + continuation strings differ, the largest relative difference of a request's
log-likelihood (perplexity: of a document's summed log-likelihood over its windows), and each
metric as both report it with their relative difference. A line "FIRST MISMATCH" shows the
first differing item of each kind (--examples N: up to N). Exit status 0 when every item's
predictions and strings agree and every relative difference is within --tol (default 1e-4),
1 otherwise.
"""
import argparse
import glob
import json
import math
import os
import re
import sys

PREFIX = "c2l_"


def rel(a, b):
    if a == b:
        return 0.0
    if any(isinstance(x, float) and (math.isnan(x) or math.isinf(x)) for x in (a, b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def argmax(xs):
    best = 0
    for i, x in enumerate(xs):
        if x > xs[best]:
            best = i
    return best


def newest(pattern):
    files = sorted(glob.glob(pattern), key=os.path.getmtime)
    return files[-1] if files else None


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def harness_lls(sample):
    """[(loglikelihood, is_greedy or None)] of a harness sample, one a request."""
    out = []
    for r in sample["resps"]:
        r = r[0]
        if isinstance(r, list):
            out.append((float(r[0]), r[1] in (True, "True") if len(r) > 1 else None))
        else:
            out.append((float(r), None))
    return out


def harness_args(sample):
    args = sample.get("arguments") or {}
    keys = sorted(args, key=lambda k: int(re.sub(r"\D", "", k) or 0))
    return [[args[k][a] for a in sorted(args[k])] for k in keys]


def harness_input(enc, context, continuation):
    """The tokens lm-evaluation-harness's HF backend feeds for a request (its
    _encode_pair: trailing white space of the context moved to the continuation, the
    continuation's tokens those of tok(context + continuation) past len(tok(context)), the
    input tok(context) + those; an empty context is the end-of-text token, left out here):
    compared with lm-eval's tokens from the end, so truncation to the context does not matter."""
    if not context:
        return enc(continuation)
    n = len(context) - len(context.rstrip())
    if n:
        context, continuation = context[:-n], context[-n:] + continuation
    whole = enc(context + continuation)
    ctx = enc(context)
    return ctx + whole[len(ctx):]


def main():
    ap = argparse.ArgumentParser(description="lm-eval against lm-evaluation-harness")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--examples", type=int, default=1)
    ap.add_argument("--label", default="")
    ap.add_argument("--tokenizer", help="tokenizer.json: rebuild the harness's input tokens "
                    "of each request and compare them with lm-eval's")
    ap.add_argument("ours_results")
    ap.add_argument("ours_samples")
    ap.add_argument("harness_dir")
    a = ap.parse_args()

    with open(a.ours_results, encoding="utf-8") as f:
        ours_res = json.load(f)["results"]
    ours_samples = {}
    for s in load_jsonl(a.ours_samples):
        ours_samples.setdefault(s["task"], {})[s["index"]] = s
    hres_file = newest(os.path.join(a.harness_dir, "**", "results_*.json"))
    if not hres_file:
        sys.exit(f"compare.py: no results_*.json under {a.harness_dir}")
    with open(hres_file, encoding="utf-8") as f:
        hres = json.load(f)["results"]

    enc = None
    if a.tokenizer:
        from tokenizers import Tokenizer
        tk = Tokenizer.from_file(a.tokenizer)

        def enc(text):
            return tk.encode(text, add_special_tokens=False).ids

    ok = True
    rows = []
    examples = []
    for htask in sorted(hres):
        if not htask.startswith(PREFIX):
            continue
        name = htask[len(PREFIX):]
        if name == "ppl":
            cand = [t for t in ours_res if "bits_per_byte" in ours_res[t]]
            name = cand[0] if len(cand) == 1 else None
        if name not in ours_res:
            print(f"{htask}: no task of lm-eval's matches", file=sys.stderr)
            ok = False
            continue
        hfile = newest(os.path.join(a.harness_dir, "**", f"samples_{htask}_*.jsonl"))
        hsamples = {s["doc_id"]: s for s in load_jsonl(hfile)} if hfile else {}
        osamples = ours_samples.get(name, {})
        ids = sorted(set(hsamples) & set(osamples))
        n_pred = n_norm = n_own = n_str = n_count = n_inp = n_inp_bad = 0
        max_same = None
        max_rel = 0.0
        worst = None
        for i in ids:
            h, o = hsamples[i], osamples[i]
            hl = harness_lls(h)
            oreq = o["requests"]
            ol = [r["loglikelihood"] for r in oreq]
            if "bits_per_byte" in ours_res[name]:
                # a document: the harness's one summed value, ours one request per window
                d = rel(sum(ol), hl[0][0])
                if d > max_rel:
                    max_rel, worst = d, (i, sum(ol), hl[0][0])
                hargs = harness_args(h)
                if hargs and all("continuation" in r for r in oreq) and \
                        "".join(r["continuation"] for r in oreq) != hargs[0][0]:
                    n_str += 1
                    examples.append((name, i, "text differs", hargs[0][0][:80]))
                continue
            if len(hl) != len(ol):
                n_count += 1
                examples.append((name, i, "request count", f"ours {len(ol)}, harness {len(hl)}"))
                continue
            for j, (r, (x, _)) in enumerate(zip(oreq, hl)):
                d = rel(r["loglikelihood"], x)
                if d > max_rel:
                    max_rel, worst = d, (i, r["loglikelihood"], x)
            if enc:
                for j, (r, args, (x, _)) in enumerate(zip(oreq, harness_args(h), hl)):
                    hin = harness_input(enc, args[0], args[1])
                    tok = r.get("tokens") or []
                    if tok and hin[-len(tok):] == tok:
                        max_same = max(max_same or 0.0, rel(r["loglikelihood"], x))
                    else:
                        n_inp += 1
                        if rel(r["loglikelihood"], x) > a.tol:
                            n_inp_bad += 1
                        k = next((m for m in range(1, len(tok) + 1)
                                  if m > len(hin) or hin[-m] != tok[-m]), 0)
                        examples.append((name, i, "input tokens differ",
                                         f"request {j} {args[0][-40:]!r} + {args[1][:25]!r}: "
                                         f"token {k} from the end: lm-eval "
                                         f"{[tk.id_to_token(t) for t in tok[-k - 1:-k + 2 or None]]}, "
                                         f"harness {[tk.id_to_token(t) for t in hin[-k - 1:-k + 2 or None]]} "
                                         f"(log-likelihood {r['loglikelihood']:.6f} vs {x:.6f})"))
            for j, (r, args) in enumerate(zip(oreq, harness_args(h))):
                if r["context"] + r["continuation"] != args[0] + args[1]:
                    n_str += 1
                    examples.append((name, i, f"request {j} strings",
                                     f"ours {r['context'] + r['continuation']!r}, "
                                     f"harness {args[0] + args[1]!r}"))
                    break
            if "acc_norm" in ours_res[name] or name in ("winogrande",) or len(hl) > 1:
                hp = argmax([x for x, _ in hl])
                op = argmax(ol)
                if hp != op:
                    n_pred += 1
                    examples.append((name, i, "acc argmax",
                                     f"ours {op} {ol}, harness {hp} {[x for x, _ in hl]}"))
                if o.get("pred") != op:
                    n_own += 1
                    examples.append((name, i, "lm-eval's pred is not its argmax",
                                     f"pred {o.get('pred')}, argmax {op}"))
                if "acc_norm" in ours_res[name]:
                    lens = [len(c) for c in h["doc"]["choices"]]
                    hn = argmax([x / n for (x, _), n in zip(hl, lens)])
                    on = argmax([x / n for x, n in zip(ol, lens)])
                    if hn != on:
                        n_norm += 1
                        examples.append((name, i, "acc_norm argmax", f"ours {on}, harness {hn}"))
            else:
                # lambada: one request, acc = is_greedy
                hg, og = hl[0][1], oreq[0].get("is_greedy")
                if hg != og:
                    n_pred += 1
                    examples.append((name, i, "is_greedy", f"ours {og}, harness {hg}"))
        missing = len(set(hsamples) ^ set(osamples))
        if missing:
            n_count += missing
        mets = []
        for m, v in sorted(ours_res[name].items()):
            hv = hres[htask].get(f"{m},none")
            if not isinstance(hv, (int, float)):
                continue
            d = rel(float(v), float(hv))
            # the aggregate metrics are printed by lm-eval with ~9 significant digits
            mets.append((m, v, hv, d))
            if not m.endswith("_stderr") and d > a.tol:
                ok = False
        if n_pred or n_norm or n_own or n_str or n_count or max_rel > a.tol or not ids:
            ok = False
        rows.append((name, len(ids), n_pred, n_norm, n_str, n_count, max_rel, worst, mets,
                     (n_inp, n_inp_bad, max_same)))

    label = f" ({a.label})" if a.label else ""
    print(f"agreement{label}: lm-eval vs lm-evaluation-harness, tolerance {a.tol:g} relative")
    print(f"{'task':16} {'items':>6} {'acc≠':>5} {'norm≠':>5} {'str≠':>5} {'miss':>5} {'max rel ll':>11}"
          + ("  input≠ (ll>tol)  max rel ll, same input" if enc else ""))
    for name, n, p, nn, s, c, mr, worst, mets, inp in rows:
        print(f"{name:16} {n:6d} {p:5d} {nn:5d} {s:5d} {c:5d} {mr:11.2e}"
              + (f"  {inp[0]:6d} ({inp[1]}){'':>{max(1, 8 - len(str(inp[1])))}}"
                 + ("-" if inp[2] is None else f"{inp[2]:.2e}") if enc else ""))
        if worst and mr > a.tol:
            print(f"  largest difference: item {worst[0]}: lm-eval {worst[1]:.6f}, harness {worst[2]:.6f}")
        for m, v, hv, d in mets:
            print(f"  {m:22} lm-eval {v:<16.10g} harness {hv:<16.10g} rel {d:.1e}")
    shown = {}
    for task, i, kind, what in examples:
        k = (task, kind)
        if shown.get(k, 0) < a.examples:
            shown[k] = shown.get(k, 0) + 1
            print(f"FIRST MISMATCH {task} item {i}: {kind}: {what}")
    print(f"agreement{label}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
