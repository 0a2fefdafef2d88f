#!/usr/bin/env python3
"""The reference for lm-arena: Chatbot Arena's Bradley-Terry fit and AlpacaEval 2's
length-controlled win rate, with scikit-learn, on the same battles.

  reference.py BATTLES.jsonl [--baseline MODEL]

Ratings: Chatbot Arena's compute_mle_elo (its 2023-12 notebook): the battles counted per ordered
pair, wins twice and ties once on each side, one row per pair and outcome with the counts as
sample weights, features +ln 10 for model_a and -ln 10 for model_b, and
LogisticRegression(fit_intercept=False, penalty=None) (spelt C=np.inf here: scikit-learn 1.8
deprecated penalty=None); rating = 400 * coef + 1000, here shifted so that the first model by
name is at 1000 (the notebook pins one named model instead). The tolerance is tightened
(tol=1e-12, max_iter=100000) so that the comparison measures the two fits, not lbfgs's stop.

Length control (--baseline): per model, its battles against the baseline, d = its length minus
the baseline's, x = tanh(d / d.std(ddof=1)), score y (1 win, 0 loss, 0.5 tie as two rows of
weight 1/2), LogisticRegression(C=np.inf) on x with an intercept; LC = sigmoid(intercept).

Prints one JSON object: {MODEL: {"rating", "win_rate", "lc_win_rate"}}.
"""
import argparse, json, math, sys
from collections import defaultdict

import numpy as np
from sklearn.linear_model import LogisticRegression

ap = argparse.ArgumentParser()
ap.add_argument("battles")
ap.add_argument("--baseline")
args = ap.parse_args()

battles = []
with open(args.battles, encoding="utf-8") as f:
    for line in f:
        b = json.loads(line)
        battles.append(b)

# compute_mle_elo, counting as the notebook's pivot tables do
win = defaultdict(float)  # (a, b) -> a's wins x 2 + ties
models = sorted({b["model_a"] for b in battles} | {b["model_b"] for b in battles})
for b in battles:
    a, c, w = b["model_a"], b["model_b"], b["winner"]
    if w == "model_a":
        win[a, c] += 2
    elif w == "model_b":
        win[c, a] += 2
    else:
        win[a, c] += 1
        win[c, a] += 1
idx = {m: i for i, m in enumerate(models)}
X, Y, W = [], [], []
for (a, c) in {(a, c) for (a, c) in win} | {(c, a) for (a, c) in win}:
    if a >= c:
        continue
    row = np.zeros(len(models))
    row[idx[a]] = math.log(10)
    row[idx[c]] = -math.log(10)
    X += [row, row]
    Y += [1.0, 0.0]
    W += [win.get((a, c), 0.0), win.get((c, a), 0.0)]
lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-12, max_iter=100000)
lr.fit(np.array(X), np.array(Y), sample_weight=np.array(W))
elo = 400 * lr.coef_[0]
elo += 1000 - elo[0]  # the first model by name at 1000

out = {m: {"rating": float(elo[i])} for i, m in enumerate(models)}

if args.baseline:
    per = defaultdict(list)
    for b in battles:
        a, c = b["model_a"], b["model_b"]
        if args.baseline not in (a, c):
            continue
        sa = {"model_a": 1.0, "model_b": 0.0}.get(b["winner"], 0.5)
        if a == args.baseline:
            per[c].append((b["len_b"] - b["len_a"], 1 - sa))
        else:
            per[a].append((b["len_a"] - b["len_b"], sa))
    for m, rows in per.items():
        d = np.array([r[0] for r in rows], dtype=float)
        y = np.array([r[1] for r in rows])
        out[m]["win_rate"] = float(y.mean())
        x = np.tanh(d / d.std(ddof=1))
        # each battle as a win of weight y and a loss of weight 1 - y
        xx = np.concatenate([x, x]).reshape(-1, 1)
        yy = np.concatenate([np.ones_like(y), np.zeros_like(y)])
        ww = np.concatenate([y, 1 - y])
        keep = ww > 0
        glm = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100000)
        glm.fit(xx[keep], yy[keep], sample_weight=ww[keep])
        out[m]["lc_win_rate"] = float(1 / (1 + math.exp(-glm.intercept_[0])))
        out[m]["length_coef"] = float(glm.coef_[0][0])

json.dump(out, sys.stdout, indent=1)
print()
