#!/bin/sh
# warc-extract --url-filter: pages dropped by URL before decoding, counted by reason.
. "${SRCDIR:-.}/tests/lib.sh"

warc=$DATA/warc/chatnoir-resiliparse_warcfile.warc.gz
warc-extract --stats all.json "$warc" >all.jsonl
printf '# blocklist\nlive-radsport.ch\n*.096355.com\nword hovenier\n' >f.txt
warc-extract --url-filter f.txt --stats s.json --rejects rej.jsonl "$warc" >kept.jsonl
is "$(jq -c .dropped_by_reason s.json)" '{"type":34,"url_domain":3,"url_word":1}' "dropped by domain (a host under a listed registrable domain) and by word"
is "$(($(jq -r .kept all.json) - $(jq -r .kept s.json)))" 4 "four pages fewer"
is "$(grep -c -e radsport -e 096355 -e hovenier kept.jsonl)" 0 "none of them kept"
is "$(jq -r .metadata.reject.reason rej.jsonl | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" \
	"type:34 url_domain:3 url_word:1 " "--rejects: with the reason"
is "$(warc-extract --url-filter default "$warc" | wc -l)" "$(jq -r .kept all.json)" "the built-in lists keep these pages"
printf 'what is this\n' >bad.txt
warc-extract --url-filter bad.txt "$warc" >/dev/null 2>err
is "$?" 2 "an unknown directive: usage error"
like "$(cat err)" "bad.txt:1: unknown directive" "naming the file and line"
warc-extract --url-filter /nonexistent "$warc" >/dev/null 2>err
is "$?" 2 "a missing filter file: usage error"
done_testing
