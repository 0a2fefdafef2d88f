#!/bin/sh
# demo.sh - the pipeline so far, on real data bundled in the repository (make demo).
# Today: warc-extract on a Common Crawl excerpt (CC-MAIN-2020-34, 50 records, pages in
# several charsets) and on a CC-MAIN-2024-22 WET file. Later stages join as they land.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$root/build}
PATH=$BUILD/bin:$PATH
out=$BUILD/demo
mkdir -p "$out"
warc=$root/tests/data/warc/chatnoir-resiliparse_warcfile.warc.gz
wet=$root/tests/data/warc/whirlwind-python_whirlwind.warc.wet.gz

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "1. WARC -> JSON Lines: one record per HTML page, decoded to UTF-8" \
	"warc-extract --stats stats.json $(basename "$warc") > pages.jsonl"
warc-extract --stats "$out/stats.json" "$warc" >"$out/pages.jsonl"
jq -r '"read \(.read) WARC records: kept \(.kept) pages, dropped \(.dropped) (\(.dropped_by_reason | to_entries | map("\(.key): \(.value)") | join(", "))), malformed \(.malformed); \(.bytes_in) payload bytes in, \(.bytes_out) bytes out"' "$out/stats.json"

step "2. What came out: the charset found (and how), the size of the page, its URL" \
	"jq -r '[.metadata.warc.charset, .metadata.warc.charset_source, (.html | length), .url] | @tsv' pages.jsonl"
jq -r '[.metadata.warc.charset, .metadata.warc.charset_source, (.html | length), .url] | @tsv' \
	"$out/pages.jsonl" | awk -F'\t' '{ printf "  %-12s %-8s %7d chars  %s\n", $1, $2, $3, $4 }'

step "3. One record, html cut short" "head -1 pages.jsonl | jq '.html |= .[0:200]'"
head -1 "$out/pages.jsonl" | jq '.html |= .[0:200]'

step "4. WET files give text directly" "warc-extract $(basename "$wet") | jq ..."
warc-extract "$wet" | jq -r '"\(.url): \(.text | length) chars: \(.text | .[0:160] | gsub("\n"; " | "))..."'

printf '\nOutputs are in %s\n' "$out"
