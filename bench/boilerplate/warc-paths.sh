#!/bin/sh
# warc-paths.sh - WARC to main text two ways, on the benchmark WARC of bench/warc-extract
# (2,932 real article pages in Common Crawl records): warc-extract | boilerplate-strip (the
# html JSON-escaped, piped and parsed again) against warc-extract --text (one process). Both
# must give the same records; prints medians of RUNS runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${BIN:-$root/build/bin}
RUNS=${RUNS:-3}
warc=${1:-$root/bench/data/cc-aeb.warc.gz}
[ -f "$warc" ] || "$root/bench/warc-extract/make-warc.py" "$warc" 100M
export SOURCE_DATE_EPOCH=0

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
secs() { s=$(date +%s.%N); sh -c "$1" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
pipe="'$BIN/warc-extract' '$warc' | '$BIN/boilerplate-strip'"
inproc="'$BIN/warc-extract' --text '$warc'"
sh -c "$pipe" | md5sum >a.md5.$$
sh -c "$inproc" | md5sum >b.md5.$$
if cmp -s a.md5.$$ b.md5.$$; then same=yes; else same=NO; fi
rm -f a.md5.$$ b.md5.$$
records=$(sh -c "$inproc" | wc -l)
p=$(for i in $(seq "$RUNS"); do secs "$pipe"; done | median)
t=$(for i in $(seq "$RUNS"); do secs "$inproc"; done | median)
printf 'input: %s, %d pages with text; identical records: %s\n' "$warc" "$records" "$same"
printf '%-44s %8.3f s %8.0f pages/s\n' "warc-extract | boilerplate-strip" "$p" "$(echo "$records / $p" | bc -l)"
printf '%-44s %8.3f s %8.0f pages/s\n' "warc-extract --text" "$t" "$(echo "$records / $t" | bc -l)"
printf 'in-process is %.2fx the pipe (wall; the pipe uses two processes)\n' "$(echo "$p / $t" | bc -l)"
