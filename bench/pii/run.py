#!/usr/bin/env python3
"""pii-scrub against presidio-analyzer and scrubadub: accuracy on the labelled set, and speed.

    bench/.venv/bin/python bench/pii/run.py [--bin DIR] [--set FILE] [--speed FILE] [--runs N]
                                            [--peer-mb X] [--show N]

Accuracy: bench/data/pii-set.jsonl (make-set.py makes it when missing). Per kind, a find
counts as right when it overlaps a planted item of the same kind; precision = right finds /
finds, recall = planted items found / planted items. Ours: `pii-scrub --mode count --spans`.
presidio-analyzer runs its pattern recognizers (email, IP, phone, card, IBAN, US SSN and the
rest) on a blank spaCy English pipeline (no model is downloaded; its name recognizers do not
run), with its default score threshold; scrubadub runs its default detectors (no IP, IBAN or
SSN detector among them). Entity names are mapped to our kinds; others (URL, dates, ...) are
left out of the score.

Speed: the text of --speed FILE (default: bench/data/quality-docs.jsonl, real pages, articles
and Debian text, made by bench/quality/make-input.py; else the set itself), MB = 10^6 bytes of
UTF-8 text. Ours: the whole process, pinned to one core, median of --runs. The peers run on the
first --peer-mb MB of the same text (default 2), ours again on that part, for the ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KINDS = ["email", "ip", "phone", "card", "iban", "ssn", "secret"]
PRESIDIO = {"EMAIL_ADDRESS": "email", "IP_ADDRESS": "ip", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
            "IBAN_CODE": "iban", "US_SSN": "ssn"}
SCRUBADUB = {"email": "email", "phone": "phone", "credit_card": "card", "social_security_number": "ssn",
             "credential": "secret"}


def byte_spans(text, spans):
    """character offsets -> byte offsets"""
    out = []
    for b, e, k in spans:
        bb = len(text[:b].encode())
        out.append([bb, len(text[b:e].encode()), k])
    return out


def score(docs, preds):
    res = {}
    for k in KINDS:
        tp_p = n_p = tp_l = n_l = 0
        for d, p in zip(docs, preds):
            labs = [l for l in d["labels"] if l[2] == k]
            ps = [q for q in p if q[2] == k]
            n_l += len(labs)
            n_p += len(ps)
            ov = lambda a, b: a[0] < b[0] + b[1] and b[0] < a[0] + a[1]
            tp_p += sum(any(ov(q, l) for l in labs) for q in ps)
            tp_l += sum(any(ov(l, q) for q in ps) for l in labs)
        res[k] = (tp_p / n_p if n_p else None, tp_l / n_l if n_l else None, n_p, n_l)
    return res


def ours(binary, path, pin):
    out = subprocess.run(pin + [binary, "--mode", "count", "--spans", path], check=True, capture_output=True).stdout
    return [json.loads(l)["metadata"]["pii"].get("spans", []) for l in out.splitlines()]


def presidio_engine():
    import logging
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    class Blank(SpacyNlpEngine):
        def load(self):
            self.nlp = {"en": spacy.blank("en")}

    eng = Blank(models=[{"lang_code": "en", "model_name": "blank"}])
    eng.load()
    reg = RecognizerRegistry()
    reg.load_predefined_recognizers(nlp_engine=eng)
    return AnalyzerEngine(nlp_engine=eng, registry=reg, supported_languages=["en"])


def presidio_find(a, text):
    return byte_spans(text, [(r.start, r.end, PRESIDIO[r.entity_type]) for r in a.analyze(text, language="en")
                             if r.entity_type in PRESIDIO])


def scrubadub_find(s, text):
    return byte_spans(text, [(f.beg, f.end, SCRUBADUB[f.type]) for f in s.iter_filth(text) if f.type in SCRUBADUB])


def table(name, res):
    print(f"{name}")
    print(f"  {'kind':8} {'precision':>9} {'recall':>7} {'finds':>6} {'planted':>7}")
    for k in KINDS:
        p, r, n_p, n_l = res[k]
        f = lambda x: "  -  " if x is None else f"{x:.3f}"
        print(f"  {k:8} {f(p):>9} {f(r):>7} {n_p:6d} {n_l:7d}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--set", default=str(ROOT / "bench" / "data" / "pii-set.jsonl"))
    ap.add_argument("--speed", default=str(ROOT / "bench" / "data" / "quality-docs.jsonl"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-mb", type=float, default=2.0)
    ap.add_argument("--show", type=int, default=0, help="list this many of our wrong finds and misses")
    ap.add_argument("--no-peers", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("TLDEXTRACT_CACHE", str(ROOT / "bench" / ".venv" / "tldextract-cache"))
    import logging
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # offline: it falls back to its snapshot
    binary = str(Path(a.bin) / "pii-scrub")
    pin = ["taskset", "-c", "0"] if subprocess.run(["which", "taskset"], capture_output=True).returncode == 0 else []
    if not Path(a.set).exists():
        subprocess.run([sys.executable, str(HERE / "make-set.py"), a.set], check=True)
    docs = [json.loads(l) for l in open(a.set, encoding="utf-8")]
    print(f"set: {a.set}: {len(docs)} documents, " +
          ", ".join(f"{k} {sum(l[2] == k for d in docs for l in d['labels'])}" for k in KINDS) + " planted\n")

    mine = ours(binary, a.set, pin)
    table("pii-scrub (ours)", score(docs, mine))
    if a.show:
        shown = 0
        for d, p in zip(docs, mine):
            t = d["text"].encode()
            ov = lambda x, y: x[0] < y[0] + y[1] and y[0] < x[0] + x[1]
            for q in p:
                if not any(ov(q, l) and l[2] == q[2] for l in d["labels"]) and shown < a.show:
                    print(f"  wrong {q[2]}: {t[max(0, q[0] - 25):q[0] + q[1] + 10].decode(errors='replace')!r}")
                    shown += 1
            for l in d["labels"]:
                if not any(ov(q, l) and l[2] == q[2] for q in p) and shown < a.show:
                    print(f"  missed {l[2]}: {t[max(0, l[0] - 25):l[0] + l[1] + 10].decode(errors='replace')!r}")
                    shown += 1
    print()
    peers = {}
    if not a.no_peers:
        try:
            eng = presidio_engine()
            peers["presidio-analyzer"] = lambda t: presidio_find(eng, t)
        except Exception as e:  # noqa: BLE001
            print(f"presidio-analyzer: not run ({e})")
        try:
            import scrubadub
            scr = scrubadub.Scrubber()
            peers["scrubadub"] = lambda t: scrubadub_find(scr, t)
        except Exception as e:  # noqa: BLE001
            print(f"scrubadub: not run ({e})")
    for name, fn in peers.items():
        table(name, score(docs, [fn(d["text"]) for d in docs]))
        print()

    # speed
    speed = a.speed if Path(a.speed).exists() else a.set
    texts = [json.loads(l)["text"] for l in open(speed, encoding="utf-8")]
    total = sum(len(t.encode()) for t in texts)
    tmp = Path(a.set).with_suffix(".speed-part.jsonl")
    part, size = [], 0
    for t in texts:
        if size >= a.peer_mb * 1e6:
            break
        part.append(t)
        size += len(t.encode())
    with open(tmp, "w", encoding="utf-8") as f:
        for i, t in enumerate(part):
            f.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")

    def time_ours(path):
        ts = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run(pin + [binary, path], check=True, stdout=subprocess.DEVNULL)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    print(f"speed: {speed}: {len(texts)} documents, {total / 1e6:.2f} MB of text; "
          f"peers on the first {len(part)} documents, {size / 1e6:.2f} MB")
    t_all = time_ours(speed)
    t_part = time_ours(str(tmp))
    print(f"  {'pii-scrub, all kinds, tags (whole process)':48} {t_all:8.3f} s {total / 1e6 / t_all:9.1f} MB/s  (all text)")
    print(f"  {'pii-scrub, the same on the part':48} {t_part:8.3f} s {size / 1e6 / t_part:9.1f} MB/s")
    for name, fn in peers.items():
        t0 = time.process_time()
        for t in part:
            fn(t)
        dt = time.process_time() - t0
        print(f"  {name + ' (its analysis loop only)':48} {dt:8.3f} s {size / 1e6 / dt:9.3f} MB/s  "
              f"ours is {dt / t_part:.0f}x faster")
    tmp.unlink()


if __name__ == "__main__":
    main()
