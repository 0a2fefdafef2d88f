#!/usr/bin/env python3
"""bpe-train against Hugging Face's BpeTrainer: training time, peak memory, and the bytes per
token each tokenizer gives on held-out text. Same documents, same settings, same threads.

    bench/.venv/bin/python bench/tok/train.py [--runs 1] [--threads N] [--vocab-size 32768]
                                              [--bin DIR] [--keep]

Corpus: bench/data/corpus-en.jsonl and corpus-lang.jsonl (bench/corpus/make-corpus.sh en lang
makes them: about 106 MB of English Debian documentation and 58 MB of man pages in 25
languages), or the files given with --corpus; every 50th document is held out (2%). Both parts
are written as {"id","text"} JSONL to bench/data/tok-train.jsonl and tok-held.jsonl.

- Hugging Face (pip tokenizers): Tokenizer(models.BPE()), pre_tokenizer Sequence[Split(Regex(
  P), "isolated"), ByteLevel(add_prefix_space=False, use_regex=False)], the pre-tokenizer
  bpe-train writes, with P read from its tokenizer.json (.pre_tokenizer.pretokenizers[0]
  .pattern.Regex: cl100k's pattern, its \p{N}{1,3}+ written as the atomic group
  (?>\p{N}{1,3}), which Oniguruma reads as PCRE2 does), BpeTrainer(vocab_size, min_frequency=2,
  special_tokens=["<|endoftext|>"], initial_alphabet=ByteLevel.alphabet(),
  show_progress=False). It runs in a child process (this script with --hf-worker) under
  `/usr/bin/time -f %M`: the texts are read into a list first, then
  `train_from_iterator(texts)` alone is timed. Peak memory is the child's, and so includes the
  list of texts; the child's RSS before training is printed too.
- ours: `/usr/bin/time -f "%e %M" bpe-train -v --vocab-size N --min-frequency 2 -o ours.json
  tok-train.jsonl`, the whole process (reading and parsing the JSONL, counting, merging,
  writing the tokenizer.json).
Threads: --threads (default: all CPUs) as RAYON_NUM_THREADS for Hugging Face and -j for ours.
Medians of --runs (default 1), interleaved, ours first in each (its tokenizer.json gives P).
Then bytes per token on the held-out documents (UTF-8 bytes / tokens): Hugging Face's
tokenizer with `encode_batch(texts, add_special_tokens=False)`, ours with `bpe-encode -t
ours.json --jsonl --drop-text --allow-special` (Hugging Face matches special-token texts too),
and how many tokens the two vocabularies share.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "bench" / "data"


def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def our_pattern(path):
    """the pattern of the Split pre-tokenizer in a tokenizer.json bpe-train wrote"""
    split = json.load(open(path, encoding="utf-8"))["pre_tokenizer"]["pretokenizers"][0]
    assert split["type"] == "Split" and split["behavior"] == "Isolated", split
    return split["pattern"]["Regex"]


def hf_worker(train_path, out_path, vocab_size, pattern):
    """the child: train with Hugging Face, save, print '<seconds> <rss KiB before training>'"""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    texts = [json.loads(l)["text"] for l in open(train_path, encoding="utf-8")]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    before = rss_kib()
    t0 = time.perf_counter()
    tok.train_from_iterator(texts, trainer=trainer)
    dt = time.perf_counter() - t0
    tok.save(out_path)
    print(f"{dt} {before}")


def timed(cmd, env=None):
    """(wall seconds, peak KiB, stdout, stderr) of one command under /usr/bin/time"""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stderr}")
    last = r.stderr.strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]), r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--vocab-size", type=int, default=32768)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--keep", action="store_true", help="keep the data and tokenizers in bench/data")
    ap.add_argument("--corpus", action="append", help="JSONL with a text field (repeat; default: "
                    "corpus-en.jsonl and corpus-lang.jsonl)")
    ap.add_argument("--hf-worker", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.hf_worker:
        return hf_worker(a.hf_worker[0], a.hf_worker[1], a.vocab_size, a.hf_worker[2])
    srcs = [Path(p) for p in a.corpus] if a.corpus else [DATA / "corpus-en.jsonl", DATA / "corpus-lang.jsonl"]
    for src in srcs:
        if not src.exists():
            sys.exit(f"{src} is missing: run bench/corpus/make-corpus.sh en lang first")
    import tokenizers
    from tokenizers import Tokenizer
    texts = []
    for src in srcs:
        texts += [json.loads(l)["text"] for l in open(src, encoding="utf-8") if l.strip()]
    train, held = [t for i, t in enumerate(texts) if i % 50 != 49], [t for i, t in enumerate(texts) if i % 50 == 49]
    cut = len(train)
    train_p, held_p = DATA / "tok-train.jsonl", DATA / "tok-held.jsonl"
    for path, docs in ((train_p, train), (held_p, held)):
        with open(path, "w", encoding="utf-8") as f:
            for i, t in enumerate(docs):
                f.write(json.dumps({"id": f"{path.stem}-{i}", "text": t}, ensure_ascii=False) + "\n")
    mb_train = sum(len(t.encode("utf-8")) for t in train) / 1e6
    held_bytes = sum(len(t.encode("utf-8")) for t in held)
    src = Path(" + ".join(p.name for p in srcs))
    del texts, train
    hf_json, ours_json = DATA / "tok-train-hf.json", DATA / "tok-train-ours.json"
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    print(f"corpus: {src.name}, {cut} documents ({mb_train:.1f} MB of text) to train on, "
          f"{len(held)} held out ({held_bytes / 1e6:.1f} MB); vocabulary {a.vocab_size}; "
          f"{a.threads} threads; tokenizers {tokenizers.__version__}; median of {a.runs}", flush=True)
    hf_t, hf_wall, hf_kb, hf_before, our_t, our_kb = [], [], [], [], [], []
    pattern = None
    for _ in range(a.runs):
        wall, kb, _, err = timed([str(Path(a.bin) / "bpe-train"), "-v", "-j", str(a.threads),
                                  "--vocab-size", str(a.vocab_size), "--min-frequency", "2",
                                  "-o", str(ours_json), str(train_p)])
        our_t.append(wall)
        our_kb.append(kb)
        verbose = [l for l in err.splitlines() if l.startswith("bpe-train:")]
        if pattern is None:
            pattern = our_pattern(ours_json)
            print(f"  pre-tokenizer pattern (from bpe-train's tokenizer.json): {pattern}", flush=True)
        wall, kb, out, _ = timed([sys.executable, __file__, "--vocab-size", str(a.vocab_size),
                                  "--hf-worker", str(train_p), str(hf_json), pattern], env)
        sec, before = out.split()
        hf_t.append(float(sec))
        hf_wall.append(wall)
        hf_kb.append(kb)
        hf_before.append(int(before))
    med = statistics.median
    print(f"  Hugging Face BpeTrainer  {med(hf_t):7.2f} s (train_from_iterator; the child process "
          f"{med(hf_wall):.2f} s)  peak {med(hf_kb) / 1024:6.0f} MiB (of which {med(hf_before) / 1024:.0f} "
          f"MiB before training: Python and the texts)"
          + (f"; runs {', '.join(f'{x:.2f}' for x in hf_t)} s" if a.runs > 1 else ""))
    print(f"  bpe-train                {med(our_t):7.2f} s (whole process)  peak {med(our_kb) / 1024:6.0f} MiB"
          + (f"; runs {', '.join(f'{x:.2f}' for x in our_t)} s" if a.runs > 1 else ""))
    for l in verbose:
        print(f"    {l}")
    print(f"  Hugging Face / ours: time {med(hf_t) / med(our_t):.1f}x, peak memory "
          f"{med(hf_kb) / med(our_kb):.1f}x")
    # bytes per token on the held-out documents
    hf = Tokenizer.from_file(str(hf_json))
    n_hf = sum(len(e.ids) for e in hf.encode_batch(held, add_special_tokens=False))
    out = subprocess.run([str(Path(a.bin) / "bpe-encode"), "-t", str(ours_json), "--jsonl",
                          "--drop-text", "--allow-special", str(held_p)],
                         check=True, capture_output=True).stdout.decode("utf-8")
    n_ours = sum(len(json.loads(l)["ids"]) for l in out.split("\n") if l)
    b_hf, b_ours = held_bytes / n_hf, held_bytes / n_ours
    v_hf = set(hf.get_vocab())
    v_ours = set(json.load(open(ours_json, encoding="utf-8"))["model"]["vocab"])
    print(f"  held out: Hugging Face {n_hf} tokens, {b_hf:.4f} bytes a token; ours {n_ours} tokens, "
          f"{b_ours:.4f} bytes a token; ours {100 * (b_ours - b_hf) / b_hf:+.4f}% bytes a token")
    print(f"  vocabularies: {len(v_hf)} and {len(v_ours)} tokens, {len(v_hf & v_ours)} in both")
    if not a.keep:
        for p in (train_p, held_p, hf_json, ours_json):
            p.unlink()


if __name__ == "__main__":
    main()
