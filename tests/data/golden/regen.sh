#!/bin/sh
# regen.sh - rewrite the warc-extract golden files from the current build. Run from the
# repository root after `make`; review the diff before committing it.
set -u
root=$(pwd)
export LC_ALL=C SOURCE_DATE_EPOCH=1700000000 PATH="$root/build/bin:$PATH"
. "$root/tests/warc-golden.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for f in "$root"/tests/data/warc/*.warc* "$root"/tests/data/warc/*.arc*; do
	name=$(basename "$f")
	warc_summary "$f" >"$root/tests/data/golden/$name.expect"
	warc_summary --mime any --status any \
		--types warcinfo,response,resource,request,metadata,revisit,conversion,continuation \
		"$f" >"$root/tests/data/golden/$name.all.expect"
done

# boilerplate-strip on real pages: the text of each, one after the other
boilerplate-strip "$root/tests/data/html/aeb-4.jsonl.gz" |
	jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' \
	>"$root/tests/data/golden/aeb-4.text.expect"
boilerplate-strip "$root/tests/data/html/readability-6.jsonl.gz" |
	jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' \
	>"$root/tests/data/golden/readability-6.text.expect"
boilerplate-strip "$root/tests/data/html/kinds.jsonl.gz" |
	jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' \
	>"$root/tests/data/golden/kinds.text.expect"
