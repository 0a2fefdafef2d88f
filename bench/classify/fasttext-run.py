#!/usr/bin/env python3
"""fastText (pip fasttext, one thread) on the classifier bench's split: train and predict timed
as process CPU time around the library calls only (the text is read and tokenised before, as
ours does it: runs of letters and digits, ASCII lower-cased), with the same settings as ours.

  fasttext-run.py TRAIN.jsonl TEST.jsonl DIM EPOCHS LR WORD_NGRAMS BUCKETS
prints one JSON line: accuracy, hq precision/recall at 0.5, train_cpu_s, predict_cpu_s, docs.
"""
import json, os, re, sys, tempfile, time

import fasttext

train, test = sys.argv[1:3]
dim, epochs, lr, ngrams, buckets = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
tok = re.compile(r"[A-Za-z0-9\u0080-\U0010ffff]+")


def prep(path):
    labels, lines = [], []
    for l in open(path, encoding="utf-8"):
        r = json.loads(l)
        labels.append(r["label"])
        lines.append(" ".join(tok.findall(r["text"].lower())[:4000]))
    return labels, lines


ytr, xtr = prep(train)
yte, xte = prep(test)
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
    for y, x in zip(ytr, xtr):
        f.write(f"__label__{y} {x}\n")
t0 = time.process_time()
m = fasttext.train_supervised(f.name, dim=dim, epoch=epochs, lr=lr, wordNgrams=ngrams, bucket=buckets,
                              minCount=1, minn=0, maxn=0, loss="softmax", thread=1, verbose=0)
t1 = time.process_time()
labels, probs = m.predict(xte, k=-1)
t2 = time.process_time()
os.unlink(f.name)
right = tp = fp = fn = 0
for y, ls, ps in zip(yte, labels, probs):
    p = dict(zip(ls, ps)).get("__label__hq", 0.0)
    said = p >= 0.5
    right += (said and y == "hq") or (not said and y != "hq")
    tp += said and y == "hq"
    fp += said and y != "hq"
    fn += (not said) and y == "hq"
print(json.dumps({"accuracy": right / len(yte), "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
                  "train_cpu_s": t1 - t0, "predict_cpu_s": t2 - t1, "docs": len(yte)}))
