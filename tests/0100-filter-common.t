#!/bin/sh
# The options and behaviour every filter shares, through the record-I/O pass-through filter.
. "${SRCDIR:-.}/tests/lib.sh"

P=passthrough
cp "$DATA/jsonl/arc_easy-150.jsonl" in.jsonl

# unknown fields kept, byte for byte, in order; one key spliced into metadata
$P in.jsonl >out.jsonl
ok $? "pass-through runs"
is "$(wc -l <out.jsonl)" 150 "150 records out"
sed 's/,"metadata":{"passthrough":{[^}]*}}}$/}/' out.jsonl >back.jsonl
test_cmp in.jsonl back.jsonl "without the added key, output equals input byte for byte"
is "$(head -1 out.jsonl | jq -c '.metadata.passthrough')" \
	"$(head -1 in.jsonl | jq -c '{bytes: (.text // "" | utf8bytelength), chars: (.text // "" | length)}')" \
	"the added key measures the text field"
$P --text-field query in.jsonl | head -1 | jq -e '.metadata.passthrough.bytes > 0' >/dev/null
ok $? "--text-field picks another field"

# existing metadata: key appended at its end
printf '{"id":"a","text":"h\\u00e9","metadata":{"lang":"fr","passthrough":1}}\n' >m.jsonl
is "$($P m.jsonl)" '{"id":"a","text":"h\u00e9","metadata":{"lang":"fr","passthrough":{"bytes":3,"chars":2}}}' \
	"an existing key is replaced in place, others kept"

# malformed lines: counted, reported with file:line, skipped; --strict makes them fatal
{ head -2 in.jsonl; echo '{"id": "broken", '; echo 'not json'; echo; sed -n 3p in.jsonl; } >bad.jsonl
$P --stats stats.json bad.jsonl >out.jsonl 2>err
is "$?" 0 "malformed lines do not fail the run"
is "$(wc -l <out.jsonl)" 3 "the good records come through"
like "$(cat err)" "bad.jsonl:3: invalid JSON" "the first bad line is named with file:line"
like "$(cat err)" "bad.jsonl:4: " "the second too"
is "$(jq -c '[.read, .kept, .dropped, .malformed]' stats.json)" "[5,3,0,2]" \
	"stats: read = kept + dropped + malformed (blank lines are not records)"
$P --strict bad.jsonl >out.jsonl 2>err
is "$?" 1 "--strict: exit 1"
like "$(cat err)" "bad.jsonl:3: .*--strict" "--strict: says where and why"
is "$(wc -l <out.jsonl)" 2 "--strict: records before the bad line are written"

# stats file contents
$P --stats s.json --progress in.jsonl >/dev/null 2>progress
jq -e '.program == "passthrough" and .version != null and (.options | index("--progress")) != null
	and .bytes_in > 0 and .bytes_out > .bytes_in and .seconds >= 0' s.json >/dev/null
ok $? "stats: program, version, options, bytes, seconds"
like "$(cat progress)" "passthrough: [0-9]+ records" "--progress draws a progress line" 

# rejects with reasons
{ echo '{"id":"e","text":""}'; head -1 in.jsonl; echo '{"id":"n"}'; } >e.jsonl
$P --drop-empty --text-field query --rejects rej.jsonl --stats s.json e.jsonl >out.jsonl
is "$(wc -l <out.jsonl)" 1 "--drop-empty keeps one"
is "$(jq -r '.id + ":" + .metadata.reject.reason + ":" + .metadata.reject.program' rej.jsonl | tr '\n' ' ')" \
	"e:empty:passthrough n:empty:passthrough " "rejects carry the reason and program"
is "$(jq -c '.dropped_by_reason' s.json)" '{"empty":2}' "stats count drops by reason"

# shards: disjoint, complete, in order
for i in 0 1 2; do $P --shard $i/3 in.jsonl >s$i.jsonl; done
is "$(cat s0.jsonl s1.jsonl s2.jsonl | wc -l)" 150 "three shards hold every record"
is "$(cat s0.jsonl s1.jsonl s2.jsonl | sort | uniq -d | wc -l)" 0 "no record in two shards"
is "$(jq -r .id s1.jsonl | head -2 | tr '\n' ' ')" \
	"$(sed -n '2p;5p' in.jsonl | jq -r .id | tr '\n' ' ')" "--shard 1/3 takes records 1, 4, ..."

# compressed input and output
gzip -c in.jsonl >in.jsonl.gz
zstd -q -c in.jsonl >in.jsonl.zst
$P in.jsonl >plain.out
$P in.jsonl.gz >gz.out
test_cmp plain.out gz.out "gzip input read transparently"
$P <in.jsonl.zst >zst.out
test_cmp plain.out zst.out "zstd input on stdin read transparently"
$P -z -o out.gz in.jsonl
ok $? "-z -o writes a file"
gzip -dc out.gz >unz.out
test_cmp plain.out unz.out "-z output is gzip of the same records"
$P in.jsonl in.jsonl.gz - <in.jsonl.zst >three.out
is "$(wc -l <three.out)" 450 "several inputs, '-' for stdin"

# truncated gzip: everything before, then exit 1; --allow-truncated exits 0
head -c 5000 in.jsonl.gz >cut.gz
$P cut.gz >cut.out 2>err
is "$?" 1 "a truncated gzip input exits 1"
like "$(cat err)" "cut.gz.*unexpected end of file" "and says so"
test -s cut.out
ok $? "records before the damage are written"
$P --allow-truncated cut.gz >/dev/null 2>err
is "$?" 0 "--allow-truncated exits 0"

# line length cap
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 3000; i++) printf "x"; print "\"}" }' >long.jsonl
head -1 in.jsonl >>long.jsonl
$P --max-line 1K --stats s.json long.jsonl >out 2>err
is "$(jq -c '[.read,.kept,.malformed]' s.json)" "[2,1,1]" "a line over --max-line is counted malformed"
like "$(cat err)" "long.jsonl:1: line of 3011 bytes" "and reported"
$P --max-line 1x in.jsonl >/dev/null 2>err
is "$?" 2 "a bad size is a usage error"

# CRLF input, missing final newline
printf '{"id":"a","text":"x"}\r\n{"id":"b","text":"y"}' >crlf.jsonl
is "$($P crlf.jsonl | tr '\n' '|')" \
	'{"id":"a","text":"x","metadata":{"passthrough":{"bytes":1,"chars":1}}}|{"id":"b","text":"y","metadata":{"passthrough":{"bytes":1,"chars":1}}}|' \
	"CRLF lines and a last line without newline"

# errors: missing file, full disk, closed pipe
$P nonexistent.jsonl >/dev/null 2>err
is "$?" 1 "a missing input exits 1"
like "$(cat err)" "^passthrough: error: cannot open 'nonexistent.jsonl': No such file" "and says so, git style"
if [ -w /dev/full ]; then
	$P in.jsonl >/dev/full 2>err
	is "$?" 1 "a full disk is an error"
	like "$(cat err)" "No space left" "and says so"
fi
for i in 1 2 3 4 5 6 7 8; do cat in.jsonl; done >big.jsonl
( $P big.jsonl; echo "status=$?" >pipe.status ) | head -1 >/dev/null
like "$(cat pipe.status)" "status=(141|0)" "a closed pipe ends the program quietly (SIGPIPE)"
$P -v in.jsonl 2>err >/dev/null
like "$(cat err)" "^passthrough: read 150, kept 150, dropped 0, malformed 0, .* MB/s" "-v prints a summary line"

# on a terminal, a pipe of filters: the last one draws the progress line, the ones writing to
# the pipe stay quiet (their lines would overwrite each other's)
if command -v script >/dev/null; then
	script -q -c "$P in.jsonl | $P >/dev/null; $P in.jsonl >/dev/null" /dev/null </dev/null >tty.out 2>&1
	is "$(tr '\r' '\n' <tty.out | grep -a -c '^passthrough: [0-9]* records')" 2 \
		"a pipe on a terminal: one progress line from its last filter, one from a filter alone"
else
	ok 0 "a pipe on a terminal # SKIP no script(1)"
fi
done_testing
