#!/bin/sh
# A record with a repeated top-level or metadata key is malformed in every filter: jq and
# Python read the last value, so a filter that read the first would pass the other on
# unseen (pii-scrub masked one "text" and left the address in the second). A file with no
# valid record at all (random bytes, another format) fails the run.
. "${SRCDIR:-.}/tests/lib.sh"

tok=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
good='{"id":"g","text":"The committee met on Tuesday and agreed to publish the full report next month, after a final review by the editors.","html":"<html><body><p>The committee met on Tuesday and agreed to publish the full report next month, after a final review by the editors of the paper.</p></body></html>"}'
{
	printf '{"id":"k","text":"hi","text":"mail jane.roe@example.org"}\n'
	printf '{"id":"m","text":"x","metadata":{"lang":"en","lang":"fr"}}\n'
	printf '{"id":"u","t\\u0065xt":"a","text":"b"}\n'
	printf '%s\n' "$good"
} >dup.jsonl

# the report case: the address never comes out
pii-scrub dup.jsonl >out.jsonl 2>err
is "$?" 0 "pii-scrub: a run with repeated keys still succeeds"
is "$(grep -c 'jane.roe' out.jsonl)" 0 "pii-scrub: the address in a repeated key does not come out"
is "$(jq -r .id out.jsonl | tr '\n' ' ')" "g " "pii-scrub: only the valid record comes out"
like "$(cat err)" 'dup.jsonl:1: duplicate key "text"; skipped' "pii-scrub: says which key, where"
like "$(cat err)" 'dup.jsonl:2: duplicate key "metadata.lang"' "a repeated metadata key too"
like "$(cat err)" 'dup.jsonl:3: duplicate key "text"' "keys compare unescaped (t\\u0065xt is text)"

# every filter: counted as malformed in --stats, the valid record goes on
run() { # run NAME COMMAND...: runs with --stats s.NAME.json
	n=$1
	shift
	"$@" --stats "s.$n.json" dup.jsonl >"o.$n" 2>"e.$n"
	is "$?:$(jq -c '[.read, .malformed]' "s.$n.json")" "0:[4,3]" "$n: 3 of 4 records malformed, exit 0"
	like "$(cat "e.$n")" 'duplicate key "text"' "$n: the reason is given"
}
run pii-scrub pii-scrub
run quality-score quality-score --annotate-only
run boilerplate-strip boilerplate-strip --min-chars 0
run dedup-minhash dedup-minhash
run domain-tag domain-tag
run bpe-encode bpe-encode -t "$tok"
run bpe-train bpe-train --vocab-size 300 -o t.json
run shard-pack shard-pack -t "$tok" -o sh --val-fraction 0
is "$(jq -r .id o.quality-score)" "g" "quality-score: the valid record comes out"
is "$(jq -r .id o.domain-tag)" "g" "domain-tag: the valid record comes out"
is "$(jq .splits.train.documents sh/manifest.json)" 1 "shard-pack: one document packed"

# a repeated key inside an object a filter reads (domain-tag's label, for shard-pack's mix)
printf '{"id":"a","text":"hello","metadata":{"domain":{"label":"news","label":"code"}}}\n{"id":"b","text":"hi","metadata":{"domain":{"label":"news"}}}\n' >dom.jsonl
shard-pack -q -t "$tok" -o shd --val-fraction 0 --stats sd.json dom.jsonl
is "$?:$(jq -c '[.kept, .dropped_by_reason]' sd.json)" '0:[1,{"duplicate_key":1}]' \
	"shard-pack: a domain object with two labels is dropped as duplicate_key, not read one way"
is "$(jq -c '.domains | keys' shd/manifest.json)" '["news"]' "  and counts no domain for it"

# nothing valid at all: an error, after counting every line
head -c 50000 /dev/urandom >rand.bin
pii-scrub --stats s.json rand.bin >out.jsonl 2>err
is "$?" 1 "a file of random bytes fails (exit 1)"
like "$(cat err)" "rand.bin: none of its [0-9]+ records is a valid JSON Lines record" "saying so"
is "$(jq '.read == .malformed and .read > 0' s.json):$(wc -c <out.jsonl)" "true:0" "every line counted malformed"
{ cat rand.bin; printf '\n%s\n' "$good"; } >mixed.bin
pii-scrub mixed.bin >out.jsonl 2>/dev/null
is "$?:$(jq -r .id out.jsonl)" "0:g" "one valid record among the bad lines: exit 0"
printf '{"id":"a","text":"good one"}\n{"id":"b","text":"x","text":"y"}\n' >two.jsonl
pii-scrub -q --shard 1/2 two.jsonl >/dev/null
is "$?" 0 "a shard given only malformed records of a file that has a valid one passes (the verdict is the file's)"
pii-scrub -q --shard 0/2 rand.bin >/dev/null 2>&1
is "$?" 1 "a shard of a file of random bytes fails"
printf '\n\n' | pii-scrub >/dev/null
is "$?" 0 "an input of blank lines (no records) is not an error"

done_testing
