#!/usr/bin/env python3
"""Assemble benchmark corpora from installed Debian documentation packages.

    make-corpus.py [--out DIR] [--force] [--jobs N] [en|lang|html ...]

Writes, in DIR (default: bench/data):
  corpus-en.jsonl    {"id", "text", "source"}: English documents, one per file:
                     linux-doc reST/txt as is, python3 HTML docs as text (html.parser, tags,
                     scripts and styles stripped), man pages of manpages, manpages-dev and
                     perl-doc rendered to text, GCIDE dictionary entries grouped by the first
                     two letters of the headword.
  corpus-lang.jsonl  {"id", "text", "source", "metadata": {"lang", "locale"}}: man pages per
                     language directory (/usr/share/man/<locale>/; English: the /usr/share/man/man*
                     pages of manpages and manpages-dev), rendered to UTF-8 text.
  corpus-html.jsonl  {"id", "url", "html"}: the python3 and linux-doc HTML pages, as they are
                     (url: where the same page is published online).
id = sha1 of the file's path (plus "#group" for dictionary groups); source = package + path.
Paths are taken from `dpkg -L` of the packages and sorted, so the output is deterministic for given
package versions. An output that exists is left alone unless --force. All text is valid UTF-8
(bytes decoded with errors="replace").
"""
import argparse
import base64
import concurrent.futures as cf
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "data")

LANG_PACKAGES = ["manpages-de", "manpages-es", "manpages-fr", "manpages-it", "manpages-ja",
                 "manpages-nl", "manpages-pl", "manpages-pt-br", "manpages-ru", "manpages-zh"]
EN_MAN_PACKAGES = ["manpages", "manpages-dev"]


# ---------------------------------------------------------------------------------------------
def sha1(s):
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def dpkg_files(pkg):
    """Regular files (not symlinks) a package installed, sorted."""
    out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.splitlines() if os.path.isfile(p) and not os.path.islink(p))


def depends_doc(meta):
    """linux-doc -> linux-doc-6.1, python3-doc -> python3.11-doc (the packages with the files)."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", meta], capture_output=True,
                         text=True, check=True).stdout
    for dep in out.split(","):
        name = dep.strip().split()[0] if dep.strip() else ""
        if "-doc" in name and name != meta:
            return name
    return meta


class Writer:
    def __init__(self, path):
        self.path, self.tmp = path, path + ".tmp"
        self.f = open(self.tmp, "w", encoding="utf-8", newline="\n")
        self.n = 0
        self.chars = 0
        self.by = Counter()
        self.by_bytes = Counter()

    def write(self, rec, key):
        line = json.dumps(rec, ensure_ascii=False)
        self.f.write(line + "\n")
        self.n += 1
        self.by[key] += 1
        self.by_bytes[key] += len(line.encode("utf-8")) + 1

    def close(self):
        self.f.close()
        os.replace(self.tmp, self.path)


# --- HTML to text -----------------------------------------------------------------------------
BLOCK = {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
         "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
         "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
         "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul"}
SKIP = {"script", "style", "noscript", "template", "svg"}


class TextExtractor(HTMLParser):
    """Text of an HTML page: tags dropped, <script>/<style>/... and <head> (but <title>) skipped,
    block elements on their own lines, whitespace collapsed except inside <pre>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []  # (verbatim?, text)
        self.skip = 0
        self.pre = 0
        self.in_head = False
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skip += 1
        elif tag == "head":
            self.in_head = True
        elif tag == "title":
            self.in_title = True
        elif tag == "pre":
            self.pre += 1
        if tag in BLOCK:
            self.parts.append((False, "\n"))

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK:
            self.parts.append((False, "\n"))

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "head":
            self.in_head = False
        elif tag == "title":
            self.in_title = False
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in BLOCK:
            self.parts.append((False, "\n"))

    def handle_data(self, data):
        if self.skip or (self.in_head and not self.in_title):
            return
        if self.pre:
            self.parts.append((True, data))
        else:
            self.parts.append((False, re.sub(r"\s+", " ", data)))

    def text(self):
        out = []
        i = 0
        parts = self.parts
        while i < len(parts):
            verbatim = parts[i][0]
            j = i
            while j < len(parts) and parts[j][0] == verbatim:
                j += 1
            chunk = "".join(t for _, t in parts[i:j])
            if not verbatim:
                chunk = "\n".join(line.strip() for line in chunk.split("\n"))
            out.append(chunk)
            i = j
        s = "".join(out)
        s = re.sub(r"[ \t]+\n", "\n", s)
        s = re.sub(r"\n{3,}", "\n\n", s)
        return s.strip() + "\n"


def html_to_text(html):
    p = TextExtractor()
    p.feed(html)
    p.close()
    return p.text()


# --- man pages ----------------------------------------------------------------------------------
OVERSTRIKE = re.compile(r".\x08")


def render_man(path):
    """Render one man page to plain UTF-8 text; None for .so redirections and empty pages."""
    src = read_bytes(path)
    head = src.lstrip()[:200]
    if head.startswith(b".so ") and len(src.strip().splitlines()) <= 3:
        return None
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["mandoc", "-T", "utf8", "-O", "width=78"], input=src,
                       capture_output=True, env=env)
    out = r.stdout
    if r.returncode >= 3 or not out.strip():  # mandoc gave up: groff (preconv for the encoding)
        r = subprocess.run(["groff", "-k", "-Tutf8", "-mandoc", "-P-c", "-rLL=78n"], input=src,
                           capture_output=True, env=env)
        out = r.stdout
    text = OVERSTRIKE.sub("", out.decode("utf-8", errors="replace"))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n" if text.strip() else None


def man_records(paths, jobs):
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        yield from zip(paths, ex.map(render_man, paths, chunksize=8))


# --- GCIDE ----------------------------------------------------------------------------------------
B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def b64num(s):
    n = 0
    for c in s:
        n = n * 64 + B64[c]
    return n


def gcide_groups(index_path, dict_path):
    import unicodedata

    data = read_bytes(dict_path)  # dictzip is gzip
    seen = set()
    groups = defaultdict(list)
    with open(index_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database"):
                continue
            off, ln = b64num(parts[1]), b64num(parts[2])
            if (off, ln) in seen:
                continue
            seen.add((off, ln))
            w = unicodedata.normalize("NFKD", parts[0]).encode("ascii", "ignore").decode().lower()
            w = re.sub(r"[^a-z]", "", w)
            key = w[:2] if len(w) >= 2 else (w or "0")
            groups[key].append((off, ln))
    for key in sorted(groups):
        entries = sorted(groups[key])
        text = "\n".join(data[o:o + n].decode("utf-8", errors="replace").strip("\n") + "\n"
                         for o, n in entries)
        yield key, len(entries), text


# --- builders -------------------------------------------------------------------------------------
def build_en(out, jobs):
    w = Writer(os.path.join(out, "corpus-en.jsonl"))

    def emit(pkg, path, text, key):
        if text and text.strip():
            w.write({"id": sha1(path), "text": text, "source": pkg + path}, key)

    linux = depends_doc("linux-doc")
    for p in dpkg_files(linux):
        rel = p.split("/Documentation/", 1)
        if len(rel) != 2 or rel[1].startswith("translations/") or not p.endswith(".gz"):
            continue
        base = os.path.basename(p)[:-3]
        if not (base.endswith((".rst", ".txt")) or "." not in base):
            continue
        emit(linux, p, read_bytes(p).decode("utf-8", errors="replace"), linux)
    log(f"  {linux}: {w.by[linux]} documents")

    py = depends_doc("python3-doc")
    skip_html = re.compile(r"/(genindex[^/]*|search|py-modindex)\.html$")
    for p in dpkg_files(py):
        if not p.endswith(".html") or "/_sources/" in p or "/_static/" in p or skip_html.search(p):
            continue
        emit(py, p, html_to_text(read_bytes(p).decode("utf-8", errors="replace")), py)
    log(f"  {py}: {w.by[py]} documents")

    for pkg in EN_MAN_PACKAGES + ["perl-doc"]:
        paths = [p for p in dpkg_files(pkg) if re.search(r"/usr/share/man/man[^/]+/", p)]
        for p, text in man_records(paths, jobs):
            emit(pkg, p, text, pkg)
        log(f"  {pkg}: {w.by[pkg]} man pages")

    dict_path, index_path = "/usr/share/dictd/gcide.dict.dz", "/usr/share/dictd/gcide.index"
    n_entries = 0
    for key, n, text in gcide_groups(index_path, dict_path):
        emit("dict-gcide", f"{dict_path}#{key}", text, "dict-gcide")
        n_entries += n
    log(f"  dict-gcide: {w.by['dict-gcide']} groups of {n_entries} entries")
    w.close()
    return w


def build_lang(out, jobs):
    w = Writer(os.path.join(out, "corpus-lang.jsonl"))
    sets = []
    for pkg in EN_MAN_PACKAGES:
        sets.append((pkg, [p for p in dpkg_files(pkg) if re.match(r"/usr/share/man/man[^/]+/", p)]))
    for pkg in LANG_PACKAGES:
        sets.append((pkg, [p for p in dpkg_files(pkg) if re.match(r"/usr/share/man/[a-z]{2}[^/]*/man[^/]+/", p)]))
    for pkg, paths in sets:
        for p, text in man_records(paths, jobs):
            if not text:
                continue
            d = p.split("/")[4]
            locale = "en" if d.startswith("man") else d
            lang = re.split(r"[_.@]", locale)[0]
            w.write({"id": sha1(p), "text": text, "source": pkg + p,
                     "metadata": {"lang": lang, "locale": locale}}, locale)
        log(f"  {pkg}: done")
    w.close()
    return w


def build_html(out, jobs):
    w = Writer(os.path.join(out, "corpus-html.jsonl"))
    py = depends_doc("python3-doc")
    linux = depends_doc("linux-doc")
    pyver = re.sub(r"^python(\d+\.\d+)-doc$", r"\1", py)
    kver = re.sub(r"^linux-doc-", "", linux)
    for pkg, root, base in ((py, f"/usr/share/doc/python{pyver}/html/", f"https://docs.python.org/{pyver}/"),
                            (linux, f"/usr/share/doc/{linux}/html/", f"https://www.kernel.org/doc/html/v{kver}/")):
        for p in dpkg_files(pkg):
            if not p.endswith(".html") or not p.startswith(root) or "/_sources/" in p:
                continue
            html = read_bytes(p).decode("utf-8", errors="replace")
            w.write({"id": sha1(p), "url": base + p[len(root):], "html": html}, pkg)
        log(f"  {pkg}: {w.by[pkg]} pages")
    w.close()
    return w


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def describe(path):
    """Records and text bytes (UTF-8 of "text", or of "html") per language / package / site."""
    from urllib.parse import urlsplit

    size = os.path.getsize(path)
    by, by_bytes = Counter(), Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if "metadata" in rec:
                key = rec["metadata"]["locale"]
            elif "url" in rec:
                key = urlsplit(rec["url"]).hostname
            else:
                key = rec["source"].split("/", 1)[0]
            by[key] += 1
            by_bytes[key] += len((rec.get("text") or rec.get("html")).encode("utf-8"))
    print(f"{os.path.basename(path)}: {size:,} bytes ({size / 1e6:.1f} MB), {sum(by.values()):,} records")
    for k in sorted(by):
        print(f"    {k:<20} {by[k]:>7,} records {by_bytes[k]:>14,} bytes of {'html' if path.endswith('html.jsonl') else 'text'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*", help="en, lang, html (default: all three)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    a.what = a.what or ["en", "lang", "html"]
    for w in a.what:
        if w not in ("en", "lang", "html"):
            ap.error(f"unknown corpus {w!r} (en, lang, html)")
    os.makedirs(a.out, exist_ok=True)
    builders = {"en": build_en, "lang": build_lang, "html": build_html}
    for what in a.what:
        path = os.path.join(a.out, f"corpus-{what}.jsonl")
        if os.path.exists(path) and not a.force:
            log(f"{path} exists: skipped (--force rebuilds)")
            continue
        log(f"building {path}")
        builders[what](a.out, a.jobs)
    print()
    for what in a.what:
        path = os.path.join(a.out, f"corpus-{what}.jsonl")
        if os.path.exists(path):
            describe(path)


if __name__ == "__main__":
    main()
