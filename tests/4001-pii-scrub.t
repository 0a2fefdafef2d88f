#!/bin/sh
# pii-scrub: the replacement modes, --kinds, --spans, what stays untouched, and bad input.
. "${SRCDIR:-.}/tests/lib.sh"

rec() { jq -cn --arg id "$1" --arg t "$2" '{id: $id, text: $t, url: "https://example.net/x"}'; }

rec a "Write to jane.roe@example.org or call +1 415 555 2671. Server 93.184.216.34, card 4111 1111 1111 1111." >in.jsonl
rec b "Nothing personal here: version 1.2.3.4, 12 apples, 2020-10-12." >>in.jsonl
rec c "Again jane.roe@example.org and bob@example.com" >>in.jsonl

pii-scrub --stats s.json in.jsonl >out.jsonl
is "$(jq -r .text out.jsonl | head -1)" \
	"Write to <EMAIL> or call <PHONE_NUMBER>. Server <IP_ADDRESS>, card <CREDIT_CARD>." "tags by default"
is "$(jq -c .metadata.pii out.jsonl | tr '\n' ' ')" \
	'{"total":4,"email":1,"ip":1,"phone":1,"card":1} {"total":0} {"total":2,"email":2} ' "counts per kind in metadata.pii"
is "$(sed -n 2p out.jsonl | jq -r .text)" "$(sed -n 2p in.jsonl | jq -r .text)" "a text without a find is unchanged"
is "$(jq -r .url out.jsonl | sort -u)" "https://example.net/x" "other fields kept"
is "$(jq -c '[.pii.email, .pii.phone, .pii.records_with_pii]' s.json)" "[3,1,2]" "--stats: finds per kind"

is "$(pii-scrub --mode datatrove --kinds email,ip in.jsonl | jq -r .text | sed -n '1p;3p' | tr '\n' ' ')" \
	"Write to email@example.com or call +1 415 555 2671. Server 22.214.171.124, card 4111 1111 1111 1111. Again firstname.lastname@example.org and email@example.com " \
	"--mode datatrove --kinds email,ip: datatrove's replacements, in turn over the run"
p1=$(pii-scrub --mode pseudonym --salt s1 in.jsonl | jq -r .text | sed -n 3p)
like "$p1" "^Again <EMAIL_[0-9a-f]{8}> and <EMAIL_[0-9a-f]{8}>$" "--mode pseudonym"
first=$(pii-scrub --mode pseudonym --salt s1 in.jsonl | jq -r .text | sed -n 1p | grep -o '<EMAIL_[0-9a-f]*>')
is "$(echo "$p1" | grep -o '<EMAIL_[0-9a-f]*>' | head -1)" "$first" "the same address, the same pseudonym"
is "$(pii-scrub --mode pseudonym --salt s1 in.jsonl | md5sum)" "$(pii-scrub --mode pseudonym --salt s1 in.jsonl | md5sum)" \
	"the same --salt, the same output"
isnt() { if [ "$1" != "$2" ]; then ok 0 "$3"; else ok 1 "$3"; fi; }
isnt "$(pii-scrub --mode pseudonym --salt s2 in.jsonl | md5sum)" "$(pii-scrub --mode pseudonym --salt s1 in.jsonl | md5sum)" \
	"another --salt, other pseudonyms"
is "$(pii-scrub --mode remove --kinds email in.jsonl | jq -r .text | sed -n 3p)" "Again  and " "--mode remove"
is "$(pii-scrub --mode count in.jsonl | jq -r .text)" "$(jq -r .text in.jsonl)" "--mode count leaves the text"
is "$(pii-scrub --mode count --spans in.jsonl | jq -c '.metadata.pii.spans' | head -1)" \
	'[[9,20,"email"],[38,15,"phone"],[62,13,"ip"],[82,19,"card"]]' "--spans: byte offsets, lengths, kinds"
is "$(pii-scrub --kinds card in.jsonl | jq -c .metadata.pii | head -1)" '{"total":1,"card":1}' "--kinds selects the detectors"

# usage errors
pii-scrub --kinds email,bogus in.jsonl >/dev/null 2>err
is "$?" 2 "an unknown kind: usage error"
pii-scrub --mode nope in.jsonl >/dev/null 2>err
is "$?" 2 "an unknown mode: usage error"

# bad input: no text field, a text that is not a string, invalid JSON, invalid UTF-8 escapes,
# a giant record
printf '{"id":"x","url":"u"}\n{"id":"y","text":42}\nnot json\n{"id":"z","text":"caf\\udc00e"}\n' >bad.jsonl
pii-scrub --stats s2.json bad.jsonl >bad.out 2>err
is "$?" 0 "bad records: exit 0"
is "$(jq -c . bad.out | tr '\n' ' ')" '{"id":"x","url":"u"} {"id":"y","text":42} ' "records without a text string kept unchanged"
is "$(jq -c '[.malformed, .pii.records_without_text]' s2.json)" "[2,2]" "invalid JSON and a lone surrogate: malformed; 2 without text"
printf '{"id":"u","text":"\xff\xfe a@b.co"}\n' >utf.jsonl
pii-scrub --stats s3.json utf.jsonl >/dev/null 2>&1
is "$(jq -r .malformed s3.json)" 1 "invalid UTF-8 in the input JSON: malformed, counted"
awk 'BEGIN { printf "{\"id\":\"big\",\"text\":\""; for (i = 0; i < 400000; i++) printf "user%d@example.com version 1.2.3.%d 555-%04d ", i, i % 250, i % 10000; print "\"}" }' >big.jsonl
is "$(pii-scrub --mode count big.jsonl | jq -c '[.metadata.pii.email, .metadata.pii.ip // 0]')" "[400000,0]" \
	"a 20 MB single record: 400,000 addresses, no versions taken for IPs"
done_testing
