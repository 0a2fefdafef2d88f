#!/usr/bin/env python3
"""The reference for lm-scaling fit: Epoch AI's refit of Chinchilla's approach 3 with SciPy.

  scipy-fit.py CSV [--grid a=LO:HI:STEP ...] [--delta 1e-3]

Minimises the sum over runs of scipy.special.huber(delta, LSE(a - alpha ln N, b - beta ln D, e)
- ln L) with scipy.optimize.minimize(method="L-BFGS-B", jac=True) from every start of the grid
(Epoch's by default: a, b 0..25 step 5, e -1..1 step 0.5, alpha, beta 0..2 step 0.5), keeping
the lowest objective; prints one JSON line: E, A, B, alpha, beta, objective, starts, seconds
(process CPU time of the starts). The CSV: columns "Model Size" or N, "Training FLOP" or C (D =
C / 6N) or D, and loss.
"""
import argparse, csv, json, math, sys, time

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--grid", action="append", default=[])
ap.add_argument("--delta", type=float, default=1e-3)
args = ap.parse_args()

rows = list(csv.DictReader(open(args.csv, encoding="utf-8")))
def col(r, *names):
    for k in r:
        if k.strip().lower() in names:
            return float(r[k])
    return None
N = np.array([col(r, "model size", "n", "params") for r in rows])
L = np.array([col(r, "loss") for r in rows])
D = np.array([col(r, "d", "tokens") or col(r, "training flop", "c", "compute") / (6 * col(r, "model size", "n", "params")) for r in rows])
lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)

grid = {"a": (0, 25, 5), "b": (0, 25, 5), "e": (-1, 1, 0.5), "alpha": (0, 2, 0.5), "beta": (0, 2, 0.5)}
for g in args.grid:
    k, v = g.split("=")
    p = [float(x) for x in v.split(":")]
    grid[k] = (p[0], p[0], 1) if len(p) == 1 else tuple(p)
def values(lo, hi, step):
    return [lo + i * step for i in range(int(math.floor((hi - lo) / step + 1e-9)) + 1)] if hi > lo else [lo]

d = args.delta
def f(x):
    a, b, e, al, be = x
    t = np.stack([a - al * lnN, b - be * lnD, np.full_like(lnN, e)])
    lse = logsumexp(t, axis=0)
    r = lse - lnL
    w = np.exp(t - lse)
    dr = np.where(np.abs(r) <= d, r, d * np.sign(r))
    g = np.array([(dr * w[0]).sum(), (dr * w[1]).sum(), (dr * w[2]).sum(), -(dr * w[0] * lnN).sum(), -(dr * w[1] * lnD).sum()])
    return huber(d, r).sum(), g

best, starts = None, 0
t0 = time.process_time()
for a in values(*grid["a"]):
    for b in values(*grid["b"]):
        for e in values(*grid["e"]):
            for al in values(*grid["alpha"]):
                for be in values(*grid["beta"]):
                    starts += 1
                    res = minimize(f, [a, b, e, al, be], jac=True, method="L-BFGS-B")
                    if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                        best = res
secs = time.process_time() - t0
a, b, e, al, be = best.x
print(json.dumps({"E": math.exp(e), "A": math.exp(a), "B": math.exp(b), "alpha": al, "beta": be,
                  "objective": best.fun, "starts": starts, "seconds": secs}))
