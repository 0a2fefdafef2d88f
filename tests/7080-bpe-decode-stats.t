#!/bin/sh
# bpe-decode --stats and --progress, as the filters have them: documents read and written, the
# stream bytes they came from, the bytes written, tokens, decoded bytes, ill-formed UTF-8
# replaced, the tokenizer's hash; written with --shard, --ids, --jsonl, compressed streams, a
# failed stream and a document the tokenizer cannot decode; a progress line on request only.
. "${SRCDIR:-.}/tests/lib.sh"

toks=$SRCDIR/data/tokenizers
t=$toks/r50k_base.tiktoken.zst
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "{\"id\":\"%d\",\"text\":\"The quick brown fox %d jumps.\\n\"}\n", i, i }' >c.jsonl
bpe-encode -t "$t" c.jsonl >c.ts
bpe-decode --ids c.ts >c.ids
ntok=$(wc -w <c.ids)
hash=$(bpe-encode -t "$t" --info | sed -n 's/^hash\t//p')

bpe-decode -t "$t" --stats s.json c.ts >out.txt 2>err
is "$?: $(cat err)" "0: " "--stats: exit 0, nothing on stderr"
jq -j .text c.jsonl >want.txt
test_cmp want.txt out.txt "the text is the same with --stats"
is "$(jq -c '[.program, .read, .kept, .dropped, .malformed, .dropped_by_reason]' s.json)" \
	'["bpe-decode",3000,3000,0,0,{}]' "documents read and kept, none dropped or malformed"
is "$(jq -c '[.tokens.documents, .tokens.tokens, .tokens.text_bytes, .tokens.utf8_replaced]' s.json)" \
	"[3000,$ntok,$(wc -c <out.txt),0]" "documents, tokens, decoded bytes"
is "$(jq -r '.bytes_in, .bytes_out' s.json | tr '\n' ' ')" "$((3000 * 8 + ntok * 4)) $(wc -c <out.txt) " \
	"bytes in: the documents in the stream (8 for the count, 4 an id); bytes out: what was written"
is "$(jq -r .tokens.tokenizer_hash s.json)" "$hash" "the tokenizer's hash"
is "$(jq -c .options s.json)" "[\"-t\",\"$t\",\"--stats\",\"s.json\",\"c.ts\"]" "the command line"
jq -e '.seconds >= 0 and .version != null' s.json >/dev/null
ok $? "seconds and version"

# --ids, --shard over two streams, compressed
gzip -c c.ts >c.ts.gz
bpe-decode --ids --shard 1/4 --stats s.json c.ts c.ts.gz >out.ids
is "$(jq -c '[.read, .kept, .tokens.documents, .tokens.text_bytes, .bytes_out, (.tokens | has("tokenizer_hash"))]' s.json)" \
	"[1500,1500,1500,0,$(wc -c <out.ids),false]" "--ids --shard 1/4 of two streams: a quarter of 6000, no text, no tokenizer"
is "$(jq .tokens.tokens s.json)" "$(wc -w <out.ids)" "and their tokens"
bpe-decode --ids --stats g.json c.ts.gz >/dev/null
is "$(jq .bytes_in g.json)" "$((3000 * 8 + ntok * 4))" "a gzip stream: bytes in of the stream, not of the file"

# --jsonl: ill-formed UTF-8 replaced
printf 'ok \377\376 and \300 end' >bad.bin
bpe-encode -t "$t" --raw bad.bin >bad.ts
bpe-decode -t "$t" --jsonl --stats s.json -o out.jsonl bad.ts
is "$(jq -c '[.kept, .tokens.text_bytes, .tokens.utf8_replaced, .bytes_out]' s.json)" \
	"[1,$(wc -c <bad.bin),3,$(wc -c <out.jsonl)]" "--jsonl: ill-formed sequences counted as replaced, bytes out of the JSONL"

# --stats - writes to standard output after -o's file is closed
bpe-decode -t "$t" -o o.txt --stats - c.ts >so.json
is "$(jq -c '[.read, .bytes_out]' so.json)" "[3000,$(wc -c <o.txt)]" "--stats - with -o: the statistics on standard output"

# failures: the statistics still say what was done
head -c 1000 c.ts >cut.ts
bpe-decode -t "$t" --stats s.json c.ts cut.ts >/dev/null 2>err
is "$?" 1 "a stream cut short: exit 1"
is "$(jq -c '[.read, .kept, .malformed]' s.json)" "$(bpe-decode --ids c.ts cut.ts 2>/dev/null | wc -l | jq -c '[., ., 0]')" \
	"--stats written, counting what was decoded before the cut"
printf '{"text":"日本語のテキストです。Ελληνικά"}\n' | bpe-encode -t "$toks/o200k_base.tiktoken.zst" >o.ts
fails 1 "id [0-9]+ is not in the tokenizer" "an id the tokenizer lacks: exit 1" \
	bpe-decode -t "$t" --any-tokenizer --stats s.json c.ts o.ts
is "$(jq -c '[.read, .kept, .malformed]' s.json)" "[3001,3000,1]" "counted malformed, not kept"
if [ -c /dev/full ]; then
	fails 1 "error: .*/dev/full" "--stats to a full device: exit 1" bpe-decode -t "$t" --stats /dev/full c.ts
fi
fails 1 "error: .*nodir/s.json" "--stats into a missing folder: exit 1, naming it" \
	bpe-decode --ids --stats nodir/s.json c.ts

# --progress: a line on standard error (only on request when it is not a terminal)
bpe-decode -t "$t" c.ts >/dev/null 2>err
is "$(cat err)" "" "no progress line unasked when standard error is not a terminal"
bpe-decode -t "$t" --progress c.ts >/dev/null 2>err
like "$(tail -1 err)" "^bpe-decode: 3000 records, 0\.[0-9] MB, [0-9.]+ MB/s, 100%, ETA 0:00$" \
	"--progress: the final line counts every document and all of the input"
bpe-decode -t "$t" --progress - <c.ts >/dev/null 2>err
like "$(tail -1 err)" "^bpe-decode: 3000 records, 0\.[0-9] MB, [0-9.]+ MB/s$" "standard input: no share done"
bpe-decode -t "$t" --progress -q c.ts >/dev/null 2>err
like "$(tail -1 err)" "^bpe-decode: 3000 records" "-q leaves a requested progress line"
done_testing
