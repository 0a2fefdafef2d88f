#!/bin/sh
# warc-extract on the quirks of real archives (see tests/data/warc/README.md), one case each.
. "${SRCDIR:-.}/tests/lib.sh"
W=$DATA/warc
ALL="--mime any --status any --types warcinfo,response,resource,request,metadata,revisit,conversion"

# resiliparse warcfile: a real CC-MAIN-2020-34 excerpt in many charsets
warc-extract --stats s.json "$W/chatnoir-resiliparse_warcfile.warc.gz" >cc.jsonl
ok $? "Common Crawl excerpt reads"
is "$(jq -r .metadata.warc.charset cc.jsonl | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" \
	"gb18030:6 utf-8:7 windows-1251:1 windows-1252:2 " "charsets found: gb2312/gbk as gb18030, iso-8859-1 as windows-1252"
is "$(jq -r 'select(.url == "http://01spb.ru/company/") | .html' cc.jsonl | grep -o '<title>[^<]*</title>')" \
	"<title>О компании - Стратегия пожарной безопасности</title>" "windows-1251 page decoded to UTF-8"
is "$(jq -r 'select(.url == "http://037426.cn/") | .metadata.warc.charset_source + " " + .html' cc.jsonl | grep -o '^http\|<title>[^<]*' | tr '\n' '|')" \
	"http|<title>亚洲精品无码免费视频 亚洲精品无码免费视频 含羞草视频独家共享|" "gb2312 from the HTTP header decoded"
is "$(jq -r 'select(.url == "http://041696.com/15477/list_6_4.html") | .metadata.warc.charset_source' cc.jsonl)" \
	"meta" "charset from <meta http-equiv> when HTTP says nothing"
is "$(jq -r 'select(.url == "http://05925.net/index.php/vod/type/id/53.html") | .metadata.warc.charset_source' cc.jsonl)" \
	"bom" "a byte order mark wins"
is "$(jq -c '[.read, .kept, .dropped_by_reason.type]' s.json)" "[50,16,34]" "stats: 50 records, 16 pages, 34 other types"

# the same file uncompressed and as zstd, on stdin: same records
gzip -dc "$W/chatnoir-resiliparse_warcfile.warc.gz" >plain.warc
warc-extract --source x plain.warc | jq -c 'del(.metadata.warc.offset)' >a.jsonl
zstd -q -c plain.warc | warc-extract --source x - | jq -c 'del(.metadata.warc.offset)' >b.jsonl
warc-extract --source x "$W/chatnoir-resiliparse_warcfile.warc.gz" | jq -c 'del(.metadata.warc.offset)' >c.jsonl
test_cmp a.jsonl b.jsonl "zstd on stdin equals plain"
test_cmp a.jsonl c.jsonl "gzip (a member per record) equals plain"

# Common Crawl: payloads stored decoded, headers renamed X-Crawler-*: no de-chunking, no gunzip
warc-extract "$W/whirlwind-python_whirlwind.warc.gz" >ww.jsonl
like "$(jq -r .html ww.jsonl | head -c 15)" "^<!DOCTYPE html" "X-Crawler-Transfer-Encoding/Content-Encoding: body used as stored"
is "$(jq -r '.metadata.warc | "\(.status) \(.content_type) \(.charset)"' ww.jsonl)" "200 text/html utf-8" \
	"lower-case HTTP header names (content-type) read"
is "$(jq -r .url ww.jsonl)" "https://an.wikipedia.org/wiki/Escopete" "url from WARC-Target-URI"

# whirlwind WET: conversion records give text, equal to the record's block
warc-extract "$W/whirlwind-python_whirlwind.warc.wet.gz" >wet.jsonl
is "$(jq -r 'has("text") and (has("html") | not)' wet.jsonl)" "true" "WET conversion record gives text"
is "$(jq -r .text wet.jsonl | head -1)" "Escopete - Biquipedia, a enciclopedia libre" \
	"WET text starts where the conversion block does"
is "$(jq -r '.text | length' wet.jsonl)" "$(warc-extract "$W/whirlwind-python_whirlwind.warc.wet" | jq -r '.text | length')" \
	"WET gzip and plain agree"

# archives that keep raw transfer and content codings
is "$(warc-extract "$W/warcio_example-iana.org-chunked.warc" | jq -r '.html | .[0:15] + "|" + .[-8:-1]')" \
	"<!doctype html>|</html>" "Transfer-Encoding: chunked body de-chunked"
is "$(warc-extract "$W/warcio_example.warc.gz" | jq -r '.html | .[0:15]')" "<!doctype html>" \
	"Content-Encoding: gzip body decompressed"
is "$(warc-extract "$W/warcio_example-bad-non-chunked.warc.gz" $ALL | wc -l)" 6 \
	"one gzip member holding 6 records: all 6 read"
is "$(warc-extract "$W/warcio_example-wrong-chunks.warc.gz" | jq -r '.html | .[0:15]')" "<!doctype html>" \
	"a gzip member that is not a record start: the record is still found"
is "$(warc-extract "$W/warcio_example-wget-bad-target-uri.warc.gz" | jq -r .url)" "http://example.com/" \
	"WARC-Target-URI <...> (WARC/1.0 writers): brackets stripped"
is "$(warc-extract "$W/warcio_example-space-in-target-uri.warc.gz" $ALL | jq -r 'select(.metadata.warc.type == "resource") | .url')" \
	"file:///example with spaces.png" "resource record url with spaces kept as written"

# truncated inputs
warc-extract "$W/chatnoir-resiliparse_clipped.warc.gz" >out 2>err
is "$?" 1 "truncated gzip member: exit 1"
like "$(cat err)" "clipped.warc.gz: unexpected end of file in gzip member at offset 0" "says where"
warc-extract --allow-truncated "$W/chatnoir-resiliparse_clipped.warc.gz" >out 2>err
is "$?" 0 "--allow-truncated: exit 0"
head -c 3000 "$W/whirlwind-python_whirlwind.warc" >cut.warc
warc-extract cut.warc >out 2>err
is "$?" 1 "plain file ending inside a record: exit 1"
like "$(cat err)" "ends inside a record" "and says so"
warc-extract --stats s.json "$W/warcio_example-trunc.warc" >out 2>err
is "$(jq -c '[.kept, .warc.resyncs]' s.json)" "[1,1]" "Content-Length shorter than the record: page kept, rest skipped to the next record"
like "$(cat err)" "example-trunc.warc: offset [0-9]+: garbage between records skipped" "the skip is reported with its offset"

# gzip FEXTRA field; ARC files are read too (tests/1007-warc-extract-arc.t)
is "$(warc-extract --types warcinfo --mime any "$W/jwarc_gzip_extra_sl.warc.gz" | jq -r .metadata.warc.type)" "warcinfo" \
	"gzip member with an FEXTRA field"
warc-extract "$W/warcio_example.arc.gz" >out 2>err
is "$?:$(jq -r .url out)" "0:http://example.com/" "ARC file: read, its page kept"

# selection: identified payload type, status, types
printf 'HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>gone</html>' >b404
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n<html><p>sniffed</p></html>' >bsniff
rec() { # rec TYPE FILE [EXTRA-HEADER]
	printf 'WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%s>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: http://e.com/%s\r\n%bContent-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n' \
		"$1" "$2" "$2" "${3:-}" "$(wc -c <"$2")"
	cat "$2"
	printf '\r\n\r\n'
}
{ rec response b404; rec response bsniff 'WARC-Identified-Payload-Type: text/html\r\n'; } >sel.warc
is "$(warc-extract sel.warc | jq -r .url)" "http://e.com/bsniff" "404 dropped; the identified payload type beats Content-Type"
is "$(warc-extract --status any sel.warc | jq -r .metadata.warc.status | tr '\n' ' ')" "404 200 " "--status any"
is "$(warc-extract --status 404 --mime text/html sel.warc | jq -r .html)" "<html>gone</html>" "--status and --mime lists"
is "$(warc-extract --types resource sel.warc | wc -l)" 0 "--types resource leaves responses out"

# WARC/0.18 (ClueWeb09): LF-only HTTP head, invalid date, gzip declared on a plain body, EUC-JP
printf '<html><head><meta http-equiv="Content-Type" content="text/html; charset=EUC-JP"></head><body>日本語のページ</body></html>' |
	iconv -f UTF-8 -t EUC-JP >eucjp.html
{ printf 'HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Encoding: gzip\n\n'; cat eucjp.html; } >b018
{ printf 'WARC/0.18\nWARC-Type: response\nWARC-Target-URI: http://clueweb.jp/\nWARC-Date: 2008-10-294T05:21:46-0700\nWARC-Record-ID: <urn:uuid:0018>\nContent-Type: application/http;msgtype=response\nContent-Length: %d\n\n' "$(wc -c <b018)"; cat b018; printf '\n\n'; } >old.warc
warc-extract old.warc >old.jsonl
is "$(jq -r '[.created, .metadata.warc.charset, (.html | test("日本語のページ"))] | join(" ")' old.jsonl)" \
	"2008-10-294T05:21:46-0700 euc-jp true" "WARC/0.18: LF-only lines, bad date kept as written, plain body under 'gzip', EUC-JP"

# Common Crawl truncation mark
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>part' >btr
rec response btr 'WARC-Truncated: length\r\n' >tr.warc
is "$(warc-extract tr.warc | jq -r .metadata.warc.truncated)" "length" "WARC-Truncated recorded"

# damage between and inside records
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>ok</p>' >bok
{ rec response bok; printf 'some garbage\nand more\n'; rec response bok;
  printf 'WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 12x\r\n\r\nHTTP/1.1 200\r\n\r\n';
  printf 'WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999999999999999999\r\n\r\n';
  printf 'WARC/1.0\r\nWARC-Type: response\r\n\r\n';
  rec response bok; rec response b018; } >dmg.warc
warc-extract --stats s.json --max-record-size 100 dmg.warc >dmg.jsonl 2>err
is "$?" 0 "damaged records do not fail the run"
is "$(wc -l <dmg.jsonl)" 3 "the three good records are kept"
is "$(jq -c '[.read, .kept, .malformed, .dropped_by_reason.too_large, .warc.resyncs, .warc.bad_content_length]' s.json)" \
	"[7,3,3,1,2,3]" "counted: 2 resyncs over garbage, 3 bad Content-Lengths, 1 over --max-record-size"
is "$(jq -r '.read == .kept + .dropped + .malformed' s.json)" "true" "read = kept + dropped + malformed"
warc-extract --strict dmg.warc >out 2>err
is "$?" 1 "--strict: damage is fatal"
is "$(wc -l <out)" 1 "--strict: the record before the damage is written"
like "$(cat err)" "dmg.warc: offset [0-9]+: garbage between records skipped \(--strict\)" "--strict: says where"

# invalid UTF-8 is replaced and counted
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>bad \377 byte</p>' >bbad
rec response bbad >bad.warc
is "$(warc-extract bad.warc | jq -r '.html + " " + (.metadata.warc.invalid_bytes_replaced | tostring)')" \
	"<p>bad � byte</p> 1" "invalid UTF-8 replaced by U+FFFD and counted"

# memory does not grow with the number of records
for i in $(seq 1 200); do rec response bok; done >r200.warc
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do cat r200.warc; done >r5000.warc
for i in 1 2 3 4; do cat r5000.warc; done | gzip -c >r20000.warc.gz
small=$( { /usr/bin/time -f %M warc-extract r200.warc >/dev/null; } 2>&1 )
big=$( { /usr/bin/time -f %M warc-extract r20000.warc.gz >/dev/null; } 2>&1 )
is "$(warc-extract r20000.warc.gz | wc -l)" 20000 "20000 records read"
ok "$([ "$big" -lt $((small * 2 + 8192)) ] && echo 0 || echo 1)" "memory flat: ${small} KB for 200 records, ${big} KB for 20000"

# output options
warc-extract -z -o cc.jsonl.gz "$W/chatnoir-resiliparse_warcfile.warc.gz"
is "$(gzip -dc cc.jsonl.gz | wc -l)" 16 "-z -o: gzip output"
is "$(for i in 0 1 2; do warc-extract --shard $i/3 "$W/chatnoir-resiliparse_warcfile.warc.gz"; done | jq -r .id | sort | uniq | wc -l)" 16 \
	"--shard: three shards hold every page once"
warc-extract --rejects rej.jsonl "$W/chatnoir-resiliparse_warcfile.warc.gz" >/dev/null
is "$(jq -r .metadata.reject.reason rej.jsonl | sort | uniq -c | awk '{print $2 ":" $1}')" "type:34" "--rejects: one line per record not kept"
done_testing
