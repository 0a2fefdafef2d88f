#!/usr/bin/env python3
"""Build a Common-Crawl-like gzip WARC from the real article pages in shared/data/aeb.

    make-warc.py OUTPUT [TARGET_SIZE]      e.g.  make-warc.py ../data/cc-aeb.warc.gz 100M

Layout (as a CC-MAIN WARC): one warcinfo record, then for each page a request, a response and a
metadata record; one gzip member per record (level 6). Header names and order of every record
are copied from the real CC-MAIN-2024-22 record in
shared/data/warc/commoncrawl__whirlwind-python__whirlwind.warc (the "template"), including
WARC-Identified-Payload-Type and the X-Crawler-* renamed HTTP headers. Values that depend on the
page are recomputed: WARC-Record-ID (fresh <urn:uuid:...>), WARC-Target-URI (the page's url from
aeb/ground-truth.json), Content-Length of the block and of the HTTP payload, WARC-Payload-Digest
and WARC-Block-Digest (sha1, base32), dates, IP address, Host, set-cookie domains.
Like Common Crawl, payloads over 1 MiB are cut to 1 MiB and marked `WARC-Truncated: length`.
The pages are repeated (each pass in a new seeded order) until the compressed size reaches
TARGET_SIZE (default 100M = 100 MiB; suffixes K, M, G are powers of 1024). Deterministic: the
same inputs, seed and target give the same bytes.
"""
import argparse
import base64
import datetime as dt
import glob
import gzip
import hashlib
import json
import os
import random
import re
import sys
import uuid
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("CRAWL2LM_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
TEMPLATE = os.path.join(DATA, "warc", "commoncrawl__whirlwind-python__whirlwind.warc")
CC_TRUNCATE = 1 << 20  # Common Crawl's payload limit


def parse_size(s):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*", s, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r}")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
    return int(float(m.group(1)) * mult)


def read_template(path):
    """Return {type: (warc_headers [(name, value)], block bytes)} for the template's records."""
    data = open(path, "rb").read()
    recs = {}
    pos = 0
    while pos < len(data):
        end = data.index(b"\r\n\r\n", pos)
        lines = data[pos:end].decode("utf-8").split("\r\n")
        assert lines[0].startswith("WARC/"), lines[0]
        hdrs = [tuple(x.split(": ", 1)) if ": " in x else (x.rstrip(":"), "") for x in lines[1:]]
        h = dict((k.lower(), v) for k, v in hdrs)
        n = int(h["content-length"])
        block = data[end + 4:end + 4 + n]
        recs[h["warc-type"]] = (hdrs, block)
        pos = end + 4 + n
        assert data[pos:pos + 4] == b"\r\n\r\n"
        pos += 4
    for t in ("warcinfo", "request", "response", "metadata"):
        assert t in recs, f"template lacks a {t} record"
    return recs


def split_http(block):
    end = block.index(b"\r\n\r\n")
    lines = block[:end].decode("utf-8").split("\r\n")
    hdrs = [tuple(x.split(": ", 1)) if ": " in x else (x.rstrip(":"), "") for x in lines[1:]]
    return lines[0], hdrs, block[end + 4:]


def b32sha1(b):
    return "sha1:" + base64.b32encode(hashlib.sha1(b).digest()).decode("ascii")


def http_date(t):
    return t.strftime("%a, %d %b %Y %H:%M:%S GMT")


def warc_date(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def fill_headers(tpl_headers, fields, truncated=False):
    """The template's WARC header names in its order, with this record's values: those in fields
    (by lower-case name) replace the template's; a truncated payload is marked after the block
    digest, as Common Crawl does."""
    wh = []
    for k, v in tpl_headers:
        kl = k.lower()
        wh.append((k, fields.get(kl, v)))
        if kl == "warc-block-digest" and truncated:
            wh.append(("WARC-Truncated", "length"))
    return wh


def record(warc_headers, block):
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in warc_headers) + "\r\n"
    raw = head.encode("utf-8") + block + b"\r\n\r\n"
    # mtime=0: deterministic bytes. Level 6 as Common Crawl's Java GZIPOutputStream default.
    return gzip.compress(raw, compresslevel=6, mtime=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("target", nargs="?", default="100M", type=parse_size,
                    help="stop once the compressed file reaches this size (default 100M)")
    ap.add_argument("--seed", type=int, default=20240518)
    ap.add_argument("--aeb", default=os.path.join(DATA, "aeb"))
    ap.add_argument("--template", default=TEMPLATE)
    ap.add_argument("--no-truncate", action="store_true",
                    help="keep payloads over 1 MiB whole (Common Crawl cuts them)")
    a = ap.parse_args()

    rng = random.Random(a.seed)

    def new_id():
        return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"

    tpl = read_template(a.template)
    gt = json.load(open(os.path.join(a.aeb, "ground-truth.json"), encoding="utf-8"))
    files = sorted(glob.glob(os.path.join(a.aeb, "html", "*.html.gz")))
    pages = []
    for f in files:
        pid = os.path.basename(f)[: -len(".html.gz")]
        body = gzip.open(f).read()
        body.decode("utf-8")  # the README says UTF-8; fail loudly if not
        pages.append((pid, gt[pid]["url"], body))
    if not pages:
        sys.exit(f"no pages under {a.aeb}/html")

    # Template pieces.
    _, resp_tpl_block = tpl["response"]
    status_line, resp_http_tpl, _ = split_http(resp_tpl_block)
    _, req_http_tpl, _ = split_http(tpl["request"][1])
    req_line_tpl = split_http(tpl["request"][1])[0]
    req_version = req_line_tpl.rsplit(" ", 1)[1]
    tpl_host = urlsplit(dict(tpl["request"][0])["WARC-Target-URI"]).hostname
    tpl_domain = "." + ".".join(tpl_host.split(".")[-2:])  # e.g. .wikipedia.org

    ips = {}
    t = dt.datetime(2024, 5, 18, 0, 0, 0)
    out_tmp = a.output + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    n_resp = n_trunc = payload_total = 0
    with open(out_tmp, "wb") as out:
        # warcinfo: template's fields, our filename.
        info_id = new_id()
        hdrs, block = tpl["warcinfo"]
        fields = {"warc-date": warc_date(t), "warc-record-id": info_id,
                  "content-length": str(len(block)), "warc-filename": os.path.basename(a.output)}
        out.write(record(fill_headers(hdrs, fields), block))

        done = False
        rep = 0
        while not done:
            order = list(range(len(pages)))
            rng.shuffle(order)
            for i in order:
                pid, url, body = pages[i]
                u = urlsplit(url)
                host = u.hostname
                path = (u.path or "/") + (("?" + u.query) if u.query else "")
                if host not in ips:
                    ips[host] = "%d.%d.%d.%d" % (rng.randint(13, 223), rng.randint(0, 255),
                                                 rng.randint(0, 255), rng.randint(1, 254))
                ip = ips[host]
                t += dt.timedelta(seconds=rng.randint(0, 3))
                truncated = not a.no_truncate and len(body) > CC_TRUNCATE
                payload = body[:CC_TRUNCATE] if truncated else body
                req_id, resp_id, meta_id = new_id(), new_id(), new_id()
                dom = "." + ".".join(host.split(".")[-2:])

                # request: GET line + template's headers, Host set.
                rl = [f"GET {path} {req_version}"]
                for k, v in req_http_tpl:
                    if k.lower() == "host":
                        v = host
                    rl.append(f"{k}: {v}")
                req_block = ("\r\n".join(rl) + "\r\n\r\n").encode("utf-8")

                # response HTTP headers: template's names and order.
                hl = [status_line]
                for k, v in resp_http_tpl:
                    kl = k.lower()
                    if kl in ("date",):
                        v = http_date(t)
                    elif kl == "last-modified":
                        v = http_date(t - dt.timedelta(days=1 + rng.randint(0, 400), seconds=rng.randint(0, 86399)))
                    elif kl == "content-type":
                        v = "text/html; charset=UTF-8"
                    elif kl == "content-length":
                        v = str(len(payload))
                    elif kl == "content-language":
                        continue  # the template's "an" would be wrong for these pages
                    elif kl == "set-cookie":
                        v = v.replace("Domain=" + tpl_domain, "Domain=" + dom)
                    elif kl == "x-client-ip":
                        v = "%d.%d.%d.%d" % (34, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
                    hl.append(f"{k}: {v}")
                resp_block = ("\r\n".join(hl) + "\r\n\r\n").encode("utf-8") + payload

                meta_block = (
                    f"fetchTimeMs: {rng.randint(40, 900)}\r\n"
                    "charset-detected: UTF-8\r\n"
                    'languages-cld2: {"reliable":false,"text-bytes":0,"languages":[]}\r\n'
                ).encode("utf-8")

                payload_digest = b32sha1(payload)
                for rtype, rid, blk in (("request", req_id, req_block),
                                        ("response", resp_id, resp_block),
                                        ("metadata", meta_id, meta_block)):
                    fields = {"warc-date": warc_date(t), "warc-record-id": rid,
                              "content-length": str(len(blk)), "warc-warcinfo-id": info_id,
                              "warc-concurrent-to": req_id if rtype == "response" else resp_id,
                              "warc-ip-address": ip, "warc-target-uri": url,
                              "warc-payload-digest": payload_digest, "warc-block-digest": b32sha1(blk)}
                    out.write(record(fill_headers(tpl[rtype][0], fields, truncated), blk))
                n_resp += 1
                n_trunc += truncated
                payload_total += len(payload)
                if out.tell() >= a.target:
                    done = True
                    break
            rep += 1
        size = out.tell()
    os.replace(out_tmp, a.output)
    print(f"{a.output}: {size} bytes compressed, {1 + 3 * n_resp} records "
          f"(1 warcinfo, {n_resp} request/response/metadata each; {n_trunc} truncated at 1 MiB), "
          f"{payload_total} payload bytes, {rep} pass(es) over {len(pages)} pages, seed {a.seed}")


if __name__ == "__main__":
    main()
