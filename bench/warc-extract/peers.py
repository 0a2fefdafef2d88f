#!/usr/bin/env python3
"""Peer WARC readers doing the same work as warc-extract's reading stage.

    peers.py fastwarc FILE   # FastWARC: iterate, keep response records, parse HTTP, read payload
    peers.py warcio FILE     # warcio:   same
    peers.py zlib FILE       # inflate bound with the system zlib (libz.so): inflate all members
    peers.py verify FILE     # check a WARC with FastWARC: types, digests, HTTP parse (slow-ish)

fastwarc/warcio print one line: `<peer> records=<response records> payload_bytes=<sum>`;
zlib prints `zlib members=<gzip members> bytes=<inflated bytes>`.
Everything runs in this one thread (neither library starts worker threads here).
"""
import sys


def run_fastwarc(path):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = nbytes = 0
    # A path (not a Python file object): FastWARC opens and inflates it natively.
    for rec in ArchiveIterator(path, record_types=WarcRecordType.response, parse_http=True):
        n += 1
        nbytes += len(rec.reader.read())
    return n, nbytes


def run_warcio(path):
    from warcio.archiveiterator import ArchiveIterator

    n = nbytes = 0
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):  # parses HTTP headers of request/response records
            if rec.rec_type != "response":
                continue
            n += 1
            nbytes += len(rec.content_stream().read())
    return n, nbytes


def run_zlib(path):
    import zlib

    members = total = 0
    d = zlib.decompressobj(31)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)  # small reads: outputs stay off the mmap path
            if not chunk:
                break
            while chunk:
                total += len(d.decompress(chunk))
                if not d.eof:
                    break
                members += 1
                chunk = d.unused_data
                d = zlib.decompressobj(31)
    return members, total


def verify(path):
    from collections import Counter
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    types = Counter()
    bad = []
    n_http = n_trunc = 0
    for rec in ArchiveIterator(path, parse_http=False):
        t = rec.headers.get("WARC-Type")
        types[t] += 1
        rid = rec.record_id
        if not rec.verify_block_digest(consume=False) and "WARC-Block-Digest" in rec.headers:
            bad.append((rid, "block digest"))
        if rec.record_type == WarcRecordType.response:
            rec.parse_http()
            status = rec.http_headers.status_code if rec.is_http_parsed else None
            if status != 200:
                bad.append((rid, f"HTTP parse/status {status}"))
            else:
                n_http += 1
            body = rec.reader.read()
            cl = rec.http_headers.get("Content-Length")
            if cl is None or int(cl) != len(body):
                bad.append((rid, f"HTTP Content-Length {cl} != payload {len(body)}"))
            import base64, hashlib
            want = rec.headers.get("WARC-Payload-Digest")
            got = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
            if want != got:
                bad.append((rid, "payload digest"))
            n_trunc += rec.headers.get("WARC-Truncated") == "length"
    print("records by type:", dict(types), "total", sum(types.values()))
    print(f"responses with HTTP 200 parsed: {n_http}; WARC-Truncated: {n_trunc}")
    for rid, why in bad[:20]:
        print("BAD", rid, why)
    print("OK" if not bad else f"{len(bad)} problems")
    return not bad


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("fastwarc", "warcio", "zlib", "verify"):
        sys.exit(__doc__)
    peer, path = sys.argv[1:]
    if peer == "verify":
        sys.exit(0 if verify(path) else 1)
    if peer == "zlib":
        m, nbytes = run_zlib(path)
        print(f"zlib members={m} bytes={nbytes}")
        return
    n, nbytes = (run_fastwarc if peer == "fastwarc" else run_warcio)(path)
    print(f"{peer} records={n} payload_bytes={nbytes}")


if __name__ == "__main__":
    main()
