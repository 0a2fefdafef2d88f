#!/usr/bin/env bash
# Build text corpora for benchmarks from Debian documentation packages.
#
#   bench/corpus/make-corpus.sh [en|lang|html ...] [--force]
#
# 1. Installs (apt-get, as root) the packages it reads, if any is missing: linux-doc, python3-doc,
#    perl-doc, dict-gcide, manpages, manpages-dev, manpages-{de,es,fr,it,ja,nl,pl,pt-br,ru,zh},
#    and mandoc + groff to render man pages.
# 2. Runs make-corpus.py (Python standard library only), which writes into bench/data/:
#      corpus-en.jsonl    >= 100 MB of English text  {"id","text","source"}
#      corpus-lang.jsonl  man pages by language       {"id","text","source","metadata":{"lang","locale"}}
#      corpus-html.jsonl  real HTML pages             {"id","url","html"}
#    A file that exists is kept (pass --force to rebuild); sizes are printed at the end.
# Environment: PYTHON (default python3), OUT (default bench/data), JOBS (default: all CPUs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
OUT=${OUT:-$BENCH/data}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN)}

PKGS=(linux-doc python3-doc perl-doc dict-gcide manpages manpages-dev
      manpages-de manpages-es manpages-fr manpages-it manpages-ja manpages-nl manpages-pl
      manpages-pt-br manpages-ru manpages-zh mandoc groff-base)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "not root: install them with apt-get first" >&2
        exit 1
    fi
    # Documentation paths must not be excluded by dpkg (some container images drop /usr/share/doc).
    if grep -rqsE '^path-exclude.*/usr/share/(doc|man)' /etc/dpkg/dpkg.cfg.d/; then
        echo "warning: /etc/dpkg/dpkg.cfg.d excludes /usr/share/doc or /usr/share/man; the corpora will be empty" >&2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -q "${missing[@]}"
    }
fi

mkdir -p "$OUT"
exec "$PYTHON" "$HERE/make-corpus.py" --out "$OUT" --jobs "$JOBS" "$@"
