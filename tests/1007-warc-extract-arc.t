#!/bin/sh
# warc-extract on ARC files (the format before WARC, of Common Crawl's oldest crawls and the
# Internet Archive's): real files plain and gzip, the fields and ids their records get, the
# same capture as a WARC record, and damaged ARC input, each case counted and named.
. "${SRCDIR:-.}/tests/lib.sh"
W=$DATA/warc
ALL="--mime any --status any --types warcinfo,response,resource"

# warcio's example.arc: the version block (a warcinfo record, not a page) and one page
warc-extract --stats s.json "$W/warcio_example.arc" >a.jsonl 2>err
is "$?:$(cat err)" "0:" "plain ARC: exit 0, no warning"
is "$(jq -c '[.url, .created, .source, .metadata.warc.type, .metadata.warc.status, .metadata.warc.content_type, .metadata.warc.charset, .metadata.warc.offset]' a.jsonl)" \
	'["http://example.com/","2014-02-16T05:02:21Z","warcio_example.arc","response",200,"text/html","utf-8",151]' \
	"url, date (the 14-digit date as WARC-Date writes it), type, status, MIME type, charset, offset"
is "$(jq -r '.html | .[0:15] + "|" + .[-8:-1]' a.jsonl)" "<!doctype html>|</html>" "html: the HTTP body"
like "$(jq -r .id a.jsonl)" '^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>$' \
	"id: a UUID, written as WARC-Record-IDs are"
is "$(jq -r .id a.jsonl)" "<urn:uuid:26789a99-7de7-8540-80a1-62cd738a6d27>" \
	"id: the one its header line and bytes give (the same in every run and version)"
is "$(jq -c '[.read, .kept, .dropped_by_reason]' s.json)" '[2,1,{"type":1}]' \
	"the version block is read and dropped as a warcinfo record"
warc-extract "$W/warcio_example.warc.gz" >w.jsonl
is "$(jq -c '[keys_unsorted, (.metadata.warc | keys_unsorted)]' a.jsonl)" \
	"$(jq -c '[keys_unsorted, (.metadata.warc | keys_unsorted)]' w.jsonl)" "the same fields, in the same order, as from a WARC file"
is "$(jq -r .html a.jsonl | sha256sum)" "$(jq -r .html w.jsonl | sha256sum)" \
	"warcio's WARC of the same page (a later capture, its body gzip-encoded): the same html"
is "$(warc-extract --types warcinfo --mime any "$W/warcio_example.arc" | jq -r '[.metadata.warc.type, (.html | split("\n") | .[0])] | join(" ")')" \
	"warcinfo 1 0 LiveWeb Capture" "--types warcinfo: the version block"

# gzip (a member per record), and the plain file compressed whole: the same records and ids
jq -c 'del(.source, .metadata.warc.offset)' a.jsonl >a0.jsonl
warc-extract "$W/warcio_example.arc.gz" | jq -c 'del(.source, .metadata.warc.offset)' >b0.jsonl
test_cmp a0.jsonl b0.jsonl "ARC gzip, a member a record: the same records, the same ids"
is "$(warc-extract "$W/warcio_example.arc.gz" | jq .metadata.warc.offset)" 171 "offset: the record's gzip member"
gzip -nc "$W/warcio_example.arc" | warc-extract - | jq -c 'del(.source, .metadata.warc.offset)' >c0.jsonl
test_cmp a0.jsonl c0.jsonl "one gzip member, on stdin: the same"
zstd -qc "$W/warcio_example.arc" >ex.arc.zst
warc-extract ex.arc.zst | jq -c 'del(.source, .metadata.warc.offset)' >d0.jsonl
test_cmp a0.jsonl d0.jsonl "zstd: the same"

# the same capture as a WARC response record (its block is the ARC record's bytes): the same
# page, url, date, status and charset
line=$(sed -n 5p "$W/warcio_example.arc")
tail -c +$((151 + ${#line} + 2)) "$W/warcio_example.arc" | head -c 1591 >block
{ printf 'WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000000>\r\nWARC-Date: 2014-02-16T05:02:21Z\r\nWARC-Target-URI: http://example.com/\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n' \
	"$(wc -c <block)"; cat block; printf '\r\n\r\n'; } >same.warc
warc-extract same.warc | jq -c 'del(.id, .source, .metadata.warc.offset)' >sw.jsonl
jq -c 'del(.id, .source, .metadata.warc.offset)' a.jsonl >sa.jsonl
test_cmp sw.jsonl sa.jsonl "the ARC record and a WARC record of the same bytes give the same record"

# a Heritrix 1.14.4 crawl: version block with XML metadata, dns: records, robots.txt, 404s
H=$W/jwat_1-1-20110922131213-00000-svc-VirtualBox.arc
warc-extract --stats s.json "$H" >h1.jsonl 2>err
is "$?:$(cat err)" "0:" "Heritrix ARC: exit 0, no warning"
is "$(jq -c '[.read, .kept, .dropped_by_reason, .malformed, .warc.resyncs]' s.json)" \
	'[102,12,{"type":1,"mime":20,"status":69},0,0]' \
	"102 records (as warcio reads it): 12 pages; the version block, dns: and images, 404s dropped"
warc-extract "$H" >h2.jsonl
test_cmp h1.jsonl h2.jsonl "a second run: the same records and ids"
is "$(warc-extract $ALL "$H" | jq -r .id | sort | uniq -d | wc -l)" 0 "ids unique over the 102 records"
is "$(warc-extract $ALL "$H" | jq -c 'select(.url | startswith("dns:")) | [.url, .created, .metadata.warc.type, .metadata.warc.content_type]' | head -1)" \
	'["dns:www.rebels.dk","2011-09-22T13:12:11Z","resource","text/dns"]' \
	"a dns: record reads as a resource record of the line's content type (dropped unless --mime selects it)"
is "$(jq -r 'select(.url == "http://www.rebels.dk/") | .html' h1.jsonl | grep -o '<title>[^<]*</title>')" \
	"<title>Rebels - The Amiga Scene Group</title>" "a page's html"

# a 1997 crawl (BNF): HTTP/1.0 servers, :80 in URLs, an image among the pages
warc-extract --stats s.json "$W/jwat_small_BNF.arc" >bnf.jsonl
is "$(jq -r '.url + " " + .created' bnf.jsonl | head -1)" "http://cctr.umkc.edu:80/user/jbenz/tst.htm 1997-04-17T17:57:10Z" \
	"1997 records: url and date"
is "$(jq -c '[.read, .kept, .dropped_by_reason]' s.json)" '[6,3,{"type":1,"mime":2}]' "three pages, two images"

# a URL with spaces (version 1 lines are read from the right); this file's length runs past
# its end (its HTTP head lost its CRs): cut short, exit 1
warc-extract --rejects rej.jsonl "$W/warcio_example-space-in-url.arc" >out 2>err
is "$?" 1 "a length past the end of the file: exit 1"
is "$(jq -r 'select(.metadata.warc.type == "response") | .url + " " + .metadata.reject.reason' rej.jsonl)" \
	"http://example.com/index.cfm?FuseAction=Email&EmailTitle=Examples From The Live Web&IsPopUp=False truncated" \
	"the URL with its spaces; the record dropped as truncated"
like "$(cat err)" "example-space-in-url\.arc: offset 151: record cut short by the end of the input" "named"

# made-up ARC files: a version block, then records (a line end, a header line, the block)
. "$SRCDIR/tests/warc-made.sh"
vb() { # the version block
	printf '1 0 crawl2lm\nURL IP-address Archive-date Content-type Archive-length\n' >vb.txt
	printf 'filedesc://t.arc 0.0.0.0 20240101000000 text/plain %d\n' "$(wc -c <vb.txt)"
	cat vb.txt
}
arec() { # arec BODYFILE [LENGTH [NAME]]: a record, its length right unless given
	printf '\nhttp://e.com/%s 10.0.0.1 20240102030405 text/html %d\n' "${3:-$1}" "${2:-$(wc -c <"$1")}"
	cat "$1"
}
gzarec() { # the same as a gzip member
	arec "$@" | gzip -n
}

{ vb; arec b1; arec b2; arec b3; } >ok.arc
is "$(run ok.arc)" "b1 b2 b3 exit 0" "a made-up ARC file: every page"
{ arec b1; arec b2; } | tail -c +2 >novb.arc
is "$(run novb.arc)" "b1 b2 exit 0" "an ARC file without a version block (it starts with a header line)"
{ printf 'filedesc://v2.arc 0.0.0.0 20000101000000 text/plain 200 - - 0 v2.arc 14\n2 0 Alexa\nURL\n'
	printf '\nhttp://e.com/v2 10.0.0.1 19980102030405 text/html 200 5d41402abc4b2a76 - 0 v2.arc %d\n' "$(wc -c <b1)"
	cat b1; } >v2.arc
is "$(warc-extract v2.arc | jq -r '.url + " " + .created + " " + .html')" "http://e.com/v2 1998-01-02T03:04:05Z <p>page 1</p>" \
	"version 2 header lines (result code, checksum, location, offset and file name before the length)"
is "$(warc-extract --types warcinfo,response --mime any v2.arc | jq -r .id | sort -u | wc -l)" 2 "distinct ids"
{ vb; arec b1 '' same; arec b2 '' same; } >twins.arc
is "$(warc-extract twins.arc | jq -r .id | sort -u | wc -l)" 2 "the same header line over other bytes: another id"

# garbage between records: skipped to the next header line, counted, named
{ vb; arec b1; printf '\nnot a record\nnor this http://e.com/x line\n'; arec b2; } >garbage.arc
is "$(run --stats s.json garbage.arc)" "b1 b2 exit 0" "garbage between records: skipped"
is "$(jq -c '[.warc.resyncs, .warc.garbage_bytes]' s.json)" "[1,42]" "counted (resyncs, garbage bytes)"
like "$(cat err)" "garbage\.arc: offset [0-9]+: garbage between records skipped" "named, with its offset"
is "$(run --strict garbage.arc)" "b1 exit 1" "--strict: stops there, exit 1"
like "$(cat err)" "garbage between records skipped \(--strict\)" "  saying so"
head -c 70000 /dev/zero | tr '\0' a >long
{ vb; arec b1; printf '\nhttp://e.com/%s 10.0.0.1 20240102030405 text/html 5\nHTTP/\n' "$(cat long)"; arec b2; } >long.arc
is "$(run --stats s.json long.arc)" "b1 b2 exit 0" "a header line longer than 64 KiB: garbage, skipped"
is "$(jq .warc.resyncs s.json)" 1 "  counted"

# truncated: the input ends inside a record, or inside a header line
head -c -5 ok.arc >cut.arc
is "$(run --stats s.json cut.arc)" "b1 b2 exit 1" "the input ends inside a record: the records before it, exit 1"
like "$(cat err)" "error: cut\.arc: the input ends inside a record: truncated file\?" "  saying so"
is "$(jq -c .dropped_by_reason s.json)" '{"type":1,"truncated":1}' "  the cut record dropped as truncated"
is "$(run --allow-truncated cut.arc)" "b1 b2 exit 0" "--allow-truncated: exit 0"
{ vb; arec b1; printf '\nhttp://e.com/b2 10.0.0.1 2024'; } >hcut.arc
is "$(run --stats s.json hcut.arc)" "b1 exit 1" "the input ends inside a header line: exit 1"
is "$(jq -c '[.read, .dropped_by_reason.truncated]' s.json)" "[3,1]" "  counted as read and truncated"
like "$(cat err)" "hcut\.arc: offset [0-9]+: record header cut short by the end of the input" "  named"
{ vb; arec b1; } | gzip -n | head -c -12 >cut.arc.gz
is "$(run cut.arc.gz)" "exit 1" "a gzip member cut short: exit 1"
like "$(cat err)" "cut\.arc\.gz: unexpected end of file in gzip member" "  saying so"

# lengths that lie: past the end, over the next record, short
{ vb; arec b1; arec b2 5000; } >past.arc
is "$(run --stats s.json past.arc)" "b1 exit 1" "a length past the end of the file: cut short, exit 1"
is "$(jq .dropped_by_reason.truncated s.json)" 1 "  dropped as truncated"
{ vb; arec b1; arec b2 5000; arec b3; arec b1; } >past2.arc
is "$(run --stats s.json past2.arc)" "b1 b3 b1 exit 1" "a length past the end over later records: they are read, exit 1"
like "$(cat err)" "past2\.arc: offset [0-9]+: record's length runs past the end of the input; skipped up to a record start inside it" "  named"
{ vb; arec b1; arec b2 120; arec b3; arec b1; arec b2; } >over.arc
is "$(run --stats s.json over.arc)" "b1 b3 b1 b2 exit 0" "a length that runs over the next record: the record skipped, the next read"
is "$(jq -c '[.read, .kept, .malformed, .warc.bad_content_length, .warc.resyncs]' s.json)" "[6,4,1,1,0]" \
	"  counted as malformed (bad_content_length), no garbage"
like "$(cat err)" "over\.arc: offset [0-9]+: record's length runs over the next record; skipped up to it" "  named"
{ vb; arec b1; arec b2 10; arec b3; } >short.arc
is "$(run --stats s.json short.arc)" "b1 b3 exit 0" "a length too short: its record is cut (bad HTTP), the rest skipped as garbage"
is "$(jq -c '[.dropped_by_reason.bad_http, .warc.resyncs]' s.json)" "[1,1]" "  counted"

# over --max-record-size: skipped unread; when its length lies, the reader goes back to the
# record start inside it (a file), or says the records inside are lost (a pipe)
{ vb; arec b1; arec bbig; arec b2; } >big.arc
is "$(run --max-record-size 1000 --stats s.json --rejects rej.jsonl big.arc)" "b1 b2 exit 0" \
	"a record over --max-record-size: skipped, the next read"
is "$(jq -c 'select(.metadata.reject.reason != "type") | [.url, .metadata.reject.reason]' rej.jsonl)" '["http://e.com/bbig","too_large"]' "  in --rejects"
{ vb; arec b1; arec b2 2000; arec b3; arec b1; arec bbig; arec b2; } >lie.arc
is "$(run --max-record-size 1000 --stats s.json lie.arc)" "b1 b3 b1 b2 exit 0" \
	"an oversized length that runs over later records: they are read (bbig is too large)"
is "$(jq -c '[.read, .kept, .dropped_by_reason.too_large, .malformed, .warc.resyncs]' s.json)" "[7,4,2,0,0]" "  counted"
{ vb | gzip -n; gzarec b1; gzarec b2 2000; gzarec b3; gzarec b1; gzarec bbig; gzarec b2; } >lie.arc.gz
is "$(run --max-record-size 1000 lie.arc.gz)" "b1 b3 b1 b2 exit 0" "gzip, a member a record: the reader goes back"
like "$(cat err)" "lie\.arc\.gz: offset [0-9]+: its length runs past a record start inside it; read the input again up to there" "  named"
is "$(cat lie.arc.gz | run --max-record-size 1000 -)" "b1 b2 exit 1" "from a pipe: the records inside are lost, exit 1"
like "$(cat err)" "records inside it are lost \(cannot read this input again\)" "  saying so"
{ vb; arec b1; arec b2 5000000; arec b3; } >far.arc
is "$(run --max-record-size 1000 far.arc)" "b1 b3 exit 1" "an oversized length past the end of the file: the record inside read, exit 1"

# header lines that do not read: a length that is not a number, a date that is not one
{ vb; arec b1; printf '\nhttp://e.com/x 10.0.0.1 20240102030405 text/html abc\n'; cat b2; arec b3; } >badlen.arc
is "$(run --stats s.json badlen.arc)" "b1 b3 exit 0" "a length that is not a number: the record skipped, the next read"
is "$(jq -c '[.read, .malformed, .warc.bad_content_length, .warc.resyncs]' s.json)" "[4,1,1,0]" \
	"  counted as malformed (bad_content_length); its block is not counted again as garbage"
like "$(cat err)" "badlen\.arc: offset [0-9]+: record without a valid length; skipped" "  named"
{ vb; arec b1; printf '\nhttp://e.com/x 10.0.0.1 yesterday text/html 40\n'; cat b2; arec b3; } >baddate.arc
is "$(run --stats s.json baddate.arc)" "b1 b3 exit 0" "a date that is not one: the record skipped, the next read"
is "$(jq -c '[.malformed, .warc.bad_header]' s.json)" "[1,1]" "  counted as malformed (bad_header)"
like "$(cat err)" "baddate\.arc: offset [0-9]+: record header line not readable; skipped" "  named"
warc-extract --stats s.json "$W/warcio_bad.arc" >out 2>err
is "$?:$(jq -c '[.read, .malformed, .warc.bad_content_length, .dropped_by_reason]' s.json)" '0:[4,3,3,{"bad_http":1}]' \
	"warcio's bad.arc (lengths -1 and abc): counted, its one readable record read"
is "$(grep -c 'record without a valid length' err)" 3 "  each named"
warc-extract --stats s.json "$W/jwat_test-arc-1.0-invalid-fields.arc" >out 2>err
is "$(jq -c '[.warc.bad_header, .dropped_by_reason.truncated]' s.json)" "[1,1]" \
	"jwat's invalid fields: the version block's line does not read (counted), the record is cut short"

# not an ARC file: the first line does not read as one
printf 'http://e.com/ is a page\n<p>hello</p>\n' >notarc.txt
warc-extract notarc.txt >out 2>err
is "$?" 1 "a file that is neither WARC nor ARC: exit 1"
like "$(cat err)" "no WARC record found" "  saying so"
done_testing
