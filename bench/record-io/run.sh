#!/bin/sh
# run.sh - record-I/O benchmark: the pass-through filter (read one field, add one metadata
# key, write the rest back as it was) against the same work done with jansson, on
# HTML-heavy records (warc-extract's output for the WARC of bench/warc-extract: ~175 KB per
# record). Single-threaded. Prints medians of RUNS runs and MB/s per core.
# Usage: bench/record-io/run.sh [records.jsonl]     (make bench builds what it needs)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
RUNS=${RUNS:-5}
in=${1:-$root/bench/data/html-records.jsonl}
if [ ! -f "$in" ]; then
	warc=$root/bench/data/cc-aeb.warc.gz
	[ -f "$warc" ] || "$root/bench/warc-extract/make-warc.py" "$warc" 100M
	SOURCE_DATE_EPOCH=0 "$BUILD/bin/warc-extract" "$warc" >"$in"
fi
bytes=$(wc -c <"$in")
records=$(wc -l <"$in")
cat "$in" >/dev/null	# page cache

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
time_it() { # time_it CMD...: seconds of one run, output discarded
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
ours=$(for i in $(seq "$RUNS"); do time_it "$BUILD/tests/tools/passthrough" --text-field html "$in"; done | median)
ref=$(for i in $(seq "$RUNS"); do time_it sh -c "'$BUILD/bench/record-io/jansson-pass' html <'$in'"; done | median)
check=$("$BUILD/tests/tools/passthrough" --text-field html "$in" | head -1 | jq -c .metadata.passthrough)
refcheck=$("$BUILD/bench/record-io/jansson-pass" html <"$in" | head -1 | jq -c .metadata.passthrough)
[ "$check" = "$refcheck" ] || echo "warning: results differ: $check vs $refcheck"
printf 'input: %s: %d records, %.1f MB (%.0f KB per record)\n' "$in" "$records" \
	"$(echo "$bytes / 1000000" | bc -l)" "$(echo "$bytes / $records / 1000" | bc -l)"
printf '%-34s %8s %10s\n' contender "median s" "MB/s"
printf '%-34s %8.3f %10.0f\n' "passthrough (simdjson, splice)" "$ours" "$(echo "$bytes / $ours / 1000000" | bc -l)"
printf '%-34s %8.3f %10.0f\n' "jansson parse + dump" "$ref" "$(echo "$bytes / $ref / 1000000" | bc -l)"
printf 'ratio: passthrough is %.1fx jansson; bar: >= 500 MB/s per core\n' "$(echo "$ref / $ours" | bc -l)"
