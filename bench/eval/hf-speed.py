#!/usr/bin/env python3
"""hf-speed.py - one timed lm-evaluation-harness run through its Hugging Face backend.

Usage: hf-speed.py MODEL_DIR TASK_DIR LIMIT BATCH THREADS TASK...

Loads MODEL_DIR with lm_eval's HFLM (float32, CPU, batch size BATCH, torch threads
THREADS), then times lm_eval.simple_evaluate on the TASKs of TASK_DIR (make-tasks.py's,
--limit LIMIT, 0 for all; no sample logging; bootstrap_iters 0, so no bootstrap of the
perplexity's standard error, which lm-eval does not compute either). Prints one JSON line:
{"import_load_s": seconds from the start of this script to the model loaded (the imports
included), "eval_s": the simple_evaluate call (task and data loading, requests, metrics),
"scoring_s": the part of it in the model's loglikelihood and loglikelihood_rolling methods
(encoding, batching, forward passes: what lm-eval's per-task times of -v cover),
"items": {TASK: items}, "results": {TASK: {METRIC: value}}}.
"""
import json
import os
import sys
import time
import warnings

T0 = time.perf_counter()
warnings.filterwarnings("ignore")
for k, v in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(k, v)


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__.split("\n\n")[1])
    model_dir, task_dir, limit, batch, threads = sys.argv[1:6]
    tasks = sys.argv[6:]
    import torch
    torch.set_num_threads(int(threads))
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    import logging
    logging.disable(logging.WARNING)
    lm = HFLM(pretrained=model_dir, dtype="float32", device="cpu", batch_size=int(batch))
    scoring = [0.0]

    def timed(fn):
        def wrapper(*args, **kw):
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                scoring[0] += time.perf_counter() - t
        return wrapper
    # the model's work alone: its loglikelihood and loglikelihood_rolling calls (the
    # encoding of the requests, the batches, the forward passes), which the evaluator
    # makes once per request type over all the tasks
    lm.loglikelihood = timed(lm.loglikelihood)
    lm.loglikelihood_rolling = timed(lm.loglikelihood_rolling)
    t1 = time.perf_counter()
    res = lm_eval.simple_evaluate(model=lm, tasks=tasks,
                                  task_manager=TaskManager(include_path=task_dir),
                                  limit=int(limit) or None, bootstrap_iters=0,
                                  log_samples=False)
    t2 = time.perf_counter()
    items = {t: r.get("sample_len") for t, r in res["results"].items()}
    if not all(isinstance(v, int) for v in items.values()):
        items = {t: v["effective"] for t, v in res["n-samples"].items()}
    out = {"import_load_s": round(t1 - T0, 3), "eval_s": round(t2 - t1, 3),
           "scoring_s": round(scoring[0], 3), "items": items,
           "results": {t: {k.split(",")[0]: v for k, v in r.items()
                           if isinstance(v, float) and "stderr" not in k}
                       for t, r in res["results"].items()}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
