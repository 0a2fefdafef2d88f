#!/usr/bin/env python3
"""Make the URL filter's agreement set: URLs that datatrove's URLFilter and ours must judge alike.

    make-urls.py ASSETS [--per-kind N] [--seed S] > urls.txt

ASSETS is datatrove's assets folder (url_filterblacklistsv0_3_0.tar.gz and the three word
lists). Three kinds, N URLs each (default 400), chosen by a seeded generator (default seed 24),
so the set is the same on every run:
- domain: hosts of UT1's adult list (the datatrove snapshot; half of them drawn from the names
  of one dot, the rest from all, most of which are blogspot and tumblr hosts): the name itself, with www. or
  another subdomain in front (blocked when the listed name is a registrable domain, kept when
  it is a subdomain such as x.blogspot.com: datatrove compares the registrable domain and the
  whole host only), a port, user info, a trailing point, upper case (datatrove compares the
  host as written), no scheme, and near misses (a listed name with a letter changed).
- ordinary: everyday sites and paths, multi-label public suffixes (co.uk, com.au), private
  suffixes (github.io, blogspot.com: not suffixes to datatrove's tldextract, which reads the
  ICANN section only), IPv4 and IPv6 hosts, unknown top-level domains, punycode and Unicode
  hosts, and malformed URLs.
- words: URLs carrying the banned words (in the host, the path, the query; other case;
  glued to other letters, which no longer matches), one and two soft-banned words, banned
  sub-words with the punctuation datatrove removes before matching them, and near misses.
One URL a line; none holds a newline. Standard library only.
"""
import argparse
import random
import re
import sys
import tarfile
from pathlib import Path

ORDINARY = """wikipedia.org bbc.co.uk nytimes.com github.com stackoverflow.com python.org debian.org
lemonde.fr spiegel.de abc.net.au gov.uk europa.eu amazon.co.jp theguardian.com reuters.com
nature.com arxiv.org mozilla.org apache.org cnn.com elpais.es corriere.it nhk.or.jp
stuff.co.nz cbc.ca irishtimes.com theage.com.au gutenberg.org archive.org medium.com
wordpress.com ox.ac.uk mit.edu harvard.edu nih.gov who.int un.org imdb.com yelp.com
bund.de admin.ch gouv.fr example.com example.org example.net kernel.org gnu.org""".split()
PRIVATE = "github.io blogspot.com herokuapp.com netlify.app appspot.com s3.amazonaws.com".split()
PATHWORDS = """news world article index about contact blog post 2024 2023 page help docs
recipes garden travel science sports weather music history school health library code
release notes guide tutorial photos video events shop cart login search results""".split()
ODD = [
    "http://192.168.1.10/index.html", "http://8.8.8.8/", "http://[2001:db8::1]:8080/x",
    "http://[::1]/", "https://localhost:8080/admin", "http://intranet/home",
    "https://example.notatld/page", "http://xn--bcher-kva.example/", "https://bücher.de/katalog",
    "http://xn--fiqs8s.xn--55qx5d.cn/", "https://中国.公司.cn/x", "mailto:someone@example.com",
    "not a url at all", "http://", "https://", "//example.com/no-scheme",
    "example.com/no-scheme-either", "http://user:pw@example.com:81/", "http://example.com.:80/",
    "ftp://ftp.debian.org/debian/", "http://a..b.com/", "http://.example.com/", "http://com/",
    "http://co.uk/", "https://www.co.uk/", "http://WWW.EXAMPLE.COM/Index.HTML",
    "https://example.com/?q=a&b=c#frag", "https://example.com#only-fragment", "http://[broken/",
    "http://example.com:notaport/", "https://exa mple.com/", "https://example.com/\t/tab",
    "https://ex。ample。com/", "https://www.city.kawasaki.jp/", "https://foo.kawasaki.jp/",
    "http://www.ck/", "http://foo.bar.ck/", "http://foo.ck/", "https://sub.example.com.au/",
]


def read_list(path):
    return [x for x in path.read_text().splitlines() if x and x[0] != "#"]


def norm(s):
    return re.sub(r"[^a-zA-Z0-9]+", "", s).lower()


def domain_urls(rng, domains, n):
    out = []
    forms = ["plain", "www", "sub", "deep", "port", "user", "dot", "upper", "noscheme", "miss", "https", "path"]
    simple = [d for d in domains if d.count(".") == 1]     # most are registrable domains
    while len(out) < n:
        d = rng.choice(simple if len(out) % 2 else domains)
        f = forms[len(out) % len(forms)]
        path = "/" + "/".join(rng.choice(PATHWORDS) for _ in range(rng.randint(0, 2)))
        if f == "plain":
            out.append(f"http://{d}/")
        elif f == "www":
            out.append(f"http://www.{d}{path}")
        elif f == "sub":
            out.append(f"https://{rng.choice(['m', 'en', 'static', 'blog'])}.{d}{path}")
        elif f == "deep":
            out.append(f"http://a.b.{d}/")
        elif f == "port":
            out.append(f"http://{d}:8080{path}")
        elif f == "user":
            out.append(f"http://user@{d}{path}")
        elif f == "dot":
            out.append(f"http://{d}.{path}")
        elif f == "upper":
            out.append(f"http://{d.upper()}{path}")
        elif f == "noscheme":
            out.append(f"{d}{path}")
        elif f == "miss":
            i = rng.randrange(len(d))
            c = "q" if d[i] != "q" else "z"
            out.append(f"https://{d[:i]}{c}{d[i + 1:]}/")
        elif f == "https":
            out.append(f"https://{d}/?ref={rng.choice(PATHWORDS)}")
        else:
            out.append(f"http://{d}/{rng.choice(PATHWORDS)}.html")
    return out


def ordinary_urls(rng, n):
    out = list(ODD)
    while len(out) < n:
        k = len(out) % 4
        words = [rng.choice(PATHWORDS) for _ in range(rng.randint(1, 4))]
        if k == 3:
            host = f"{rng.choice(PATHWORDS)}{rng.randint(1, 99)}.{rng.choice(PRIVATE)}"
        else:
            host = rng.choice(["", "www.", "en.", "m."]) + rng.choice(ORDINARY)
        sep = rng.choice(["/", "-", "_", "/"])
        out.append(f"{rng.choice(['http', 'https'])}://{host}/{sep.join(words)}")
    return out[:n]


def word_urls(rng, banned, soft, subs, n):
    out = []
    kinds = ["path", "host", "query", "upper", "glued", "soft1", "soft2", "soft2same", "sub", "subpunct",
             "subnear", "title"]
    while len(out) < n:
        k = kinds[len(out) % len(kinds)]
        site = rng.choice(ORDINARY)
        w = rng.choice(banned)
        if k == "path":
            out.append(f"https://{site}/{rng.choice(PATHWORDS)}/{w}/{rng.randint(1, 999)}")
        elif k == "host":
            out.append(f"http://{w}-{rng.choice(PATHWORDS)}.com/")
        elif k == "query":
            out.append(f"https://{site}/search?q={w}&page={rng.randint(1, 9)}")
        elif k == "upper":
            out.append(f"https://{site}/{w.upper()}-{rng.choice(PATHWORDS)}")
        elif k == "glued":
            out.append(f"https://{site}/{rng.choice(PATHWORDS)}{w}")
        elif k == "soft1":
            out.append(f"https://{site}/{rng.choice(soft)}/{rng.choice(PATHWORDS)}")
        elif k == "soft2":
            a, b = rng.sample(soft, 2)
            out.append(f"https://{site}/{a}-{b}-{rng.choice(PATHWORDS)}")
        elif k == "soft2same":
            a = rng.choice(soft)
            out.append(f"https://{site}/{a}/{a}")
        elif k == "sub":
            out.append(f"https://{site}/{rng.choice(PATHWORDS)}{rng.choice(subs).replace(' ', '')}")
        elif k == "subpunct":
            s = rng.choice(subs)
            out.append(f"https://{site}/" + "-".join(s.split()) + f"/{rng.choice(PATHWORDS)}")
        elif k == "subnear":
            s = norm(rng.choice(subs))
            i = rng.randrange(len(s))
            out.append(f"https://{site}/{s[:i]}_{s[i:]}x" if rng.random() < 0.5 else f"https://{site}/{s[:-1]}")
        else:
            out.append(f"https://{site}/{w.title()}/{rng.choice(PATHWORDS)}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("assets", type=Path)
    ap.add_argument("--per-kind", type=int, default=400)
    ap.add_argument("--seed", type=int, default=24)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with tarfile.open(a.assets / "url_filterblacklistsv0_3_0.tar.gz", "r:gz") as tar:
        domains = tar.extractfile("domains").read().decode().split("\n")
    domains = sorted(d.strip() for d in domains if d.strip() and d[0] != "#")
    banned = read_list(a.assets / "banned_words.txt")
    soft = read_list(a.assets / "soft_banned_words.txt")
    subs = read_list(a.assets / "banned_subwords.txt")
    urls = domain_urls(rng, domains, a.per_kind) + ordinary_urls(rng, a.per_kind) + \
        word_urls(rng, banned, soft, subs, a.per_kind)
    for u in urls:
        assert "\n" not in u and "\r" not in u
        print(u)


if __name__ == "__main__":
    main()
