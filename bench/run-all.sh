#!/bin/sh
# run-all.sh - every side-by-side benchmark (make bench). Peers come from PyPI into
# bench/.venv; test data is built into bench/data (both ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
echo "== warc-extract against zcat, igzip, FastWARC and warcio"
BIN=${BUILD:-$here/../build}/bin "$here/warc-extract/run.sh"
echo
echo "== record I/O: pass-through filter against jansson"
"$here/record-io/run.sh"
echo
echo "== boilerplate-strip against trafilatura, resiliparse, readability, justext (AEB)"
BIN=${BUILD:-$here/../build}/bin "$here/boilerplate/run.sh"
echo
echo "== WARC to text: pipe against warc-extract --text"
BIN=${BUILD:-$here/../build}/bin "$here/boilerplate/warc-paths.sh"
echo
echo "== --url-filter default against datatrove's URLFilter"
BUILD=${BUILD:-$here/../build} "$here/urlfilter/run.sh"
