#!/bin/sh
# warc-extract on every real WARC file in tests/data/warc, against the golden summaries in
# tests/data/golden (made by tests/data/golden/regen.sh; the payloads were checked against
# warcio by tests/data/golden/crosscheck.py).
. "${SRCDIR:-.}/tests/lib.sh"
. "$SRCDIR/tests/warc-golden.sh"

for f in "$DATA"/warc/*.warc* "$DATA"/warc/*.arc*; do
	name=$(basename "$f")
	warc_summary "$f" >got
	test_cmp "$DATA/golden/$name.expect" got "$name"
	warc_summary --mime any --status any \
		--types warcinfo,response,resource,request,metadata,revisit,conversion,continuation \
		"$f" >got
	test_cmp "$DATA/golden/$name.all.expect" got "$name, every record"
done
done_testing
