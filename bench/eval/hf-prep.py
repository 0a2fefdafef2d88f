#!/usr/bin/env python3
"""hf-prep.py - an lm-train checkpoint as transformers (and lm-evaluation-harness) load it.

Usage: hf-prep.py CHECKPOINT OUTDIR EVALDIR

Copies the model files of CHECKPOINT (an lm-train step-N directory: config.json,
model.safetensors, tokenizer.json) into OUTDIR and adds what transformers needs to read the
tokenizer as lm-train wrote it:

  tokenizer_config.json  {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token",
                         "bos_token": "<|endoftext|>", "model_max_length": n_positions}

Without it, AutoTokenizer picks the tokenizer class from config.json's model_type (gpt2:
GPT2Tokenizer), and transformers 5 then replaces tokenizer.json's pre-tokenizer (our
o200k-style Split regex + ByteLevel) with GPT-2's ByteLevel regex, so some texts are
encoded differently from lm-eval (and from tokenizers.Tokenizer.from_file on the same
file). The script shows it: it encodes every query, choice, context and continuation of
the first 200 items of each task in EVALDIR with tokenizers.Tokenizer (the reference), with
AutoTokenizer on CHECKPOINT as it is and with AutoTokenizer on OUTDIR, and prints how many
strings each encodes differently (with the first example). It also checks that
AutoModelForCausalLM loads OUTDIR with no missing or unexpected tensors, and prints the
special tokens transformers sees. Exit status 1 when OUTDIR's tokenizer differs from the
reference on any string or the model does not load cleanly.
"""
import json
import os
import shutil
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = ["arc_easy", "arc_challenge", "piqa", "winogrande", "lambada_openai"]


def strings(evaldir):
    out = []
    for t in TASKS:
        path = os.path.join(evaldir, t + ".jsonl")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n >= 200:
                    break
                d = json.loads(line)
                for k in ("query", "context", "continuation"):
                    if k in d:
                        out.append(d[k])
                for k in ("choices", "context_options"):
                    out += d.get(k, [])
                if "query" in d:
                    out += [d["query"] + " " + c for c in d["choices"]]
                if "context_options" in d:
                    out += [c + " " + d["continuation"] for c in d["context_options"]]
                if "context" in d:
                    out.append(d["context"] + " " + d["continuation"])
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    src, dst, evaldir = sys.argv[1:]
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import transformers

    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    have = sorted(os.listdir(src))
    print(f"checkpoint {src}: {' '.join(have)}")
    os.makedirs(dst, exist_ok=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    ctx = cfg.get("n_positions") or cfg.get("max_position_embeddings")
    ref = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    eos_id = cfg.get("eos_token_id")
    eos = ref.id_to_token(eos_id) if eos_id is not None else "<|endoftext|>"
    bos_id = cfg.get("bos_token_id")
    bos = ref.id_to_token(bos_id) if bos_id is not None else eos
    with open(os.path.join(dst, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": eos,
                   "bos_token": bos, "model_max_length": ctx}, f, indent=2)
        f.write("\n")
    print(f"wrote {dst}/tokenizer_config.json: tokenizer_class PreTrainedTokenizerFast, "
          f"eos {eos!r}, bos {bos!r}, model_max_length {ctx}")

    texts = strings(evaldir)
    bad = 0
    for label, d in (("as exported", src), ("with tokenizer_config.json", dst)):
        tok = AutoTokenizer.from_pretrained(d)
        diff, first = 0, None
        for s in texts:
            a = tok(s, add_special_tokens=False).input_ids
            b = ref.encode(s, add_special_tokens=False).ids
            if a != b:
                diff += 1
                if first is None:
                    first = (s, a, b)
        print(f"AutoTokenizer {label}: {type(tok).__name__}, eos {tok.eos_token!r} "
              f"({tok.eos_token_id}), bos {tok.bos_token!r}, pad {tok.pad_token!r}; "
              f"{diff} of {len(texts)} strings encoded differently from tokenizer.json")
        if first:
            s, a, b = first
            k = next(i for i in range(min(len(a), len(b)) + 1) if i >= min(len(a), len(b)) or a[i] != b[i])
            print(f"  first: {s[:70]!r}...: at token {k}: AutoTokenizer "
                  f"{[tok.convert_ids_to_tokens(x) for x in a[k:k + 3]]}, tokenizer.json "
                  f"{[ref.id_to_token(x) for x in b[k:k + 3]]}")
            if d == dst:
                bad = 1
    model, info = AutoModelForCausalLM.from_pretrained(dst, dtype="float32", output_loading_info=True)
    probs = {k: v for k, v in info.items() if v}
    print(f"AutoModelForCausalLM: {type(model).__name__}, transformers {transformers.__version__}, "
          f"{sum(p.numel() for p in model.parameters())} parameters, "
          f"loading problems: {probs or 'none'}")
    return bad or (1 if probs else 0)


if __name__ == "__main__":
    sys.exit(main())
