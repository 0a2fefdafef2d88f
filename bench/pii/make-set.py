#!/usr/bin/env python3
"""Build the labelled PII set: real article text with planted personal data and look-alikes.

    make-set.py [OUT] [--seed N] [--docs N]

OUT defaults to bench/data/pii-set.jsonl. Host text: the articleBody texts of the article
extraction benchmark ($CRAWL2LM_SHARED_DATA/aeb/ground-truth.json, default ../shared/data
next to the repository), one document per article (cycled up to --docs, default 400). Into
each, between sentences, go about eight planted items in short carrier phrases:
  positives (labelled): e-mail addresses, public IPv4 and IPv6 addresses, phone numbers
  (E.164, North American, national formats of several countries), card numbers (Luhn-valid,
  real network prefixes, grouped or not), IBANs (valid check digits, grouped or not), US
  social security numbers (valid ranges), AWS / GitHub / Slack keys, JWTs;
  hard negatives (not labelled): version numbers (1.2.3.4, v2.10.3.4, 10.0.19041.1), dates,
  times, ISBN-10/13 with valid check digits, prices, hex digests and UUIDs, coordinates,
  math, big numbers with separators, order and tracking numbers, zip codes, Luhn-invalid
  card-like numbers, IBAN-like strings with a wrong check.
The host's sentences with an '@' or a number of 7 characters or more are left out (real,
unlabelled addresses and phone numbers are in some). Each record: {"id", "text", "labels": [[byte offset, byte length, kind], ...]} with kinds
email, ip, phone, card, iban, ssn, secret. Standard library only; the same seed and host
text give the same file.
"""
import argparse
import ipaddress
import json
import os
import random
import re
import string
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

FIRST = ["anna", "ben", "carla", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas", "kofi",
         "lena", "marco", "nadia", "oscar", "priya", "quentin", "rosa", "sven", "tara", "umar", "vera",
         "wei", "ximena", "yusuf", "zoe"]
LAST = ["smith", "garcia", "mueller", "rossi", "nowak", "kim", "okafor", "dubois", "silva", "tanaka",
        "jensen", "haddad", "novak", "obrien", "costa", "ivanova"]
DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "mail.example-corp.com", "uni-hamburg.de",
           "cs.stanford.edu", "company.io", "posteo.net", "news.bbc.co.uk", "orange.fr", "web.de"]


def email(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    local = r.choice([f"{f}.{l}", f"{f}{r.randint(1, 99)}", f"{f[0]}{l}", f"{f}_{l}", f"{f}+news",
                      f"{l}.{f}.{r.randint(1970, 2005)}"])
    return local + "@" + r.choice(DOMAINS)


def public_ipv4(r):
    while True:
        a = ipaddress.IPv4Address(r.getrandbits(32))
        s = str(a)
        if a.is_global and not a.is_multicast and not re.fullmatch(r"\d\.\d\.\d\.\d", s):
            return s


def public_ipv6(r):
    while True:
        a = ipaddress.IPv6Address((0x2 << 124 | r.getrandbits(125)) & ((1 << 128) - 1))
        if a.is_global and str(a)[:4] not in ("2001", "2002"):
            return str(a) if r.random() < 0.5 else str(a).replace(":0:", "::", 1) if "::" not in str(a) else str(a)


def phone(r):
    a, e, n = r.randint(201, 989), r.randint(200, 999), r.randint(0, 9999)
    while a % 100 == 11:
        a = r.randint(201, 989)
    fmt = r.choice([
        f"({a}) {e}-{n:04d}", f"{a}-{e}-{n:04d}", f"{a}.{e}.{n:04d}", f"+1 {a} {e} {n:04d}",
        f"+1-{a}-{e}-{n:04d}", f"1-{a}-{e}-{n:04d}",
        f"+44 20 {r.randint(7000, 8999)} {r.randint(0, 9999):04d}", f"020 {r.randint(7000, 8999)} {r.randint(0, 9999):04d}",
        f"07{r.randint(100, 999)} {r.randint(100000, 999999)}",
        f"+49 30 {r.randint(10000000, 99999999)}", f"030 {r.randint(1000, 9999)} {r.randint(1000, 9999)}",
        f"+33 1 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
        f"01 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
        f"+39 06 {r.randint(1000, 9999)} {r.randint(1000, 9999)}", f"+81 3-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
        f"+61 2 {r.randint(1000, 9999)} {r.randint(1000, 9999)}", f"+91 {r.randint(70000, 99999)} {r.randint(10000, 99999)}",
    ])
    return fmt


def luhn_complete(prefix, length, r):
    d = prefix + "".join(r.choice(string.digits) for _ in range(length - len(prefix) - 1))
    s = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        s += v
    return d + str((10 - s % 10) % 10)


def card(r, valid=True):
    prefix, length = r.choice([("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15),
                               ("37", 15), ("6011", 16), ("65", 16), ("3530", 16), ("36", 14)])
    d = luhn_complete(prefix, length, r)
    if not valid:
        d = d[:-1] + str((int(d[-1]) + r.randint(1, 9)) % 10)
    sep = r.choice([" ", "-", ""])
    if length == 15:
        return f"{d[:4]}{sep}{d[4:10]}{sep}{d[10:]}"
    if length == 14:
        return f"{d[:4]}{sep}{d[4:10]}{sep}{d[10:]}"
    return sep.join(d[i:i + 4] for i in range(0, length, 4))


IBAN_FMT = {"DE": "8n10n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
            "BE": "12n", "CH": "5n12c", "AT": "16n", "PL": "24n", "SE": "20n", "PT": "21n"}


def iban(r, valid=True):
    cc = r.choice(list(IBAN_FMT))
    bban = ""
    for count, kind in re.findall(r"(\d+)([nac])", IBAN_FMT[cc]):
        pool = string.digits if kind == "n" else string.ascii_uppercase if kind == "a" else string.digits + string.ascii_uppercase
        bban += "".join(r.choice(pool) for _ in range(int(count)))
    num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
    check = 98 - num % 97
    if not valid:
        check = (check + r.randint(1, 90)) % 97 + 2
    s = f"{cc}{check:02d}{bban}"
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4)) if r.random() < 0.6 else s


def ssn(r):
    area = r.choice([x for x in range(1, 900) if x != 666])
    return f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"


def b64u(r, n):
    return "".join(r.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))


def secret(r):
    k = r.randrange(4)
    if k == 0:
        return "AKIA" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if k == 1:
        return "ghp_" + "".join(r.choice(string.ascii_letters + string.digits) for _ in range(36))
    if k == 2:
        return "xoxb-" + str(r.randint(10**11, 10**12)) + "-" + "".join(r.choice(string.ascii_letters + string.digits) for _ in range(24))
    return "eyJ" + b64u(r, 30) + ".eyJ" + b64u(r, 60) + "." + b64u(r, 43)


def isbn13(r):
    d = "978" + "".join(r.choice(string.digits) for _ in range(9))
    c = (10 - sum(int(x) * (1 if i % 2 == 0 else 3) for i, x in enumerate(d)) % 10) % 10
    d += str(c)
    return f"{d[:3]}-{d[3]}-{d[4:7]}-{d[7:12]}-{d[12]}" if r.random() < 0.5 else d


def isbn10(r):
    d = "".join(r.choice(string.digits) for _ in range(9))
    c = sum((10 - i) * int(x) for i, x in enumerate(d)) % 11
    c = (11 - c) % 11
    d += "X" if c == 10 else str(c)
    return f"{d[0]}-{d[1:4]}-{d[4:9]}-{d[9]}"


def negative(r):
    k = r.randrange(22)
    n = r.randint
    return [
        lambda: f"version {n(1, 9)}.{n(0, 9)}.{n(0, 9)}.{n(0, 9)}",
        lambda: f"v{n(1, 4)}.{n(10, 30)}.{n(0, 9)}.{n(0, 99)}",
        lambda: f"build 10.0.{n(10000, 22999)}.{n(1, 2000)}",
        lambda: f"{n(1990, 2030)}-{n(1, 12):02d}-{n(1, 28):02d}",
        lambda: f"{n(1, 12):02d}/{n(1, 28):02d}/{n(1990, 2030)}",
        lambda: f"{n(1, 28):02d}.{n(1, 12):02d}.{n(1990, 2030)}",
        lambda: f"{n(0, 23):02d}:{n(0, 59):02d}:{n(0, 59):02d}",
        lambda: "ISBN " + isbn13(r),
        lambda: "ISBN " + isbn10(r),
        lambda: f"${n(1, 999)},{n(0, 999):03d}.{n(0, 99):02d}",
        lambda: f"€ {n(1, 99)}.{n(0, 999):03d},{n(0, 99):02d}",
        lambda: "".join(r.choice("0123456789abcdef") for _ in range(r.choice([32, 40, 64]))),
        lambda: "-".join("".join(r.choice("0123456789abcdef") for _ in range(k)) for k in (8, 4, 4, 4, 12)),
        lambda: f"{n(-89, 89)}.{n(0, 9999):04d}, {n(-179, 179)}.{n(0, 9999):04d}",
        lambda: f"{r.random() * 10:.12f}",
        lambda: f"2^{n(10, 40)} = {2 ** n(10, 40)}",
        lambda: f"{n(1, 999)},{n(0, 999):03d},{n(0, 999):03d},{n(0, 999):03d}",
        lambda: f"order #{n(100000000, 999999999)}",
        lambda: f"tracking 1Z{n(10**15, 10**16 - 1)}",
        lambda: f"ZIP {n(10000, 99999)}",
        lambda: card(r, valid=False),
        lambda: iban(r, valid=False),
    ][k]()


POS = [("email", email, ["Write to {} for details.", "Contact: {}", "E-mail {} or call.", "({})"]),
       ("ip", lambda r: public_ipv4(r) if r.random() < 0.75 else public_ipv6(r),
        ["The server at {} stopped answering.", "Logged from IP {} at noon.", "address {} was blocked"]),
       ("phone", phone, ["Call {} for tickets.", "Phone: {}", "reach her on {} today", "Tel. {}"]),
       ("card", card, ["Card number {} was charged.", "paid with {}", "CC: {}"]),
       ("iban", iban, ["Transfer to IBAN {} please.", "account {}", "IBAN: {}"]),
       ("ssn", ssn, ["SSN {} on file.", "social security number {}", "her SSN: {}"]),
       ("secret", secret, ["The key {} leaked.", "token {} was revoked", "export KEY={}"])]
NEG = ["See {} for details.", "Released {}.", "({})", "value {} here", "Total: {}."]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=str(ROOT / "bench" / "data" / "pii-set.jsonl"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--docs", type=int, default=400)
    a = ap.parse_args()
    shared = Path(os.environ.get("CRAWL2LM_SHARED_DATA", ROOT.parent / "shared" / "data"))
    gt = json.load(open(shared / "aeb" / "ground-truth.json", encoding="utf-8"))
    hosts = [gt[k]["articleBody"] for k in sorted(gt) if gt[k]["articleBody"].strip()]
    r = random.Random(a.seed)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    counts = {}
    with open(a.out, "w", encoding="utf-8") as f:
        for i in range(a.docs):
            host = hosts[i % len(hosts)]
            # the host's own sentences with an '@' or a long number are left out: they may
            # hold real, unlabelled addresses and phone numbers
            sents = [x for x in re.split(r"(?<=[.!?])\s+", host)
                     if "@" not in x and not re.search(r"\d[\d ()./-]{5,}\d", x)] or ["."]
            items = []
            for _ in range(8):
                if r.random() < 0.6:
                    kind, gen, carriers = r.choice(POS)
                    items.append((kind, gen(r), r.choice(carriers)))
                else:
                    items.append((None, negative(r), r.choice(NEG)))
            slots = sorted(r.randrange(len(sents) + 1) for _ in items)
            text, labels, si = b"", [], 0
            parts = []
            for j, s in enumerate(sents):
                while si < len(items) and slots[si] == j:
                    parts.append(items[si])
                    si += 1
                parts.append((None, s, None))
            parts.extend(items[si:])
            for kind, val, carrier in parts:
                if text:
                    text += b" "
                if carrier is None:
                    text += val.encode()
                    continue
                pre, post = carrier.split("{}")
                text += pre.encode()
                if kind:
                    labels.append([len(text), len(val.encode()), kind])
                    counts[kind] = counts.get(kind, 0) + 1
                text += val.encode() + post.encode()
            f.write(json.dumps({"id": f"pii:{i}", "text": text.decode(), "labels": labels}, ensure_ascii=False) + "\n")
    print(f"{a.out}: {a.docs} documents, planted: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
