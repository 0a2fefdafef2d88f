#!/bin/sh
# bpe-train: the merges of a slow, plain reference trainer (tests/data/tok/gen-train.py:
# recount every pair each step, ties to the greater pair of byte strings) on tinyshakespeare;
# the same tokenizer whatever the threads; round trips; special tokens cut out of the text;
# what it writes is read back by bpe-encode; bad options and input.
. "${SRCDIR:-.}/tests/lib.sh"

tok=$DATA/tok
zstd -dc "$tok/tinyshakespeare.txt.zst" >ts.txt

bpe-train --raw ts.txt --vocab-size 857 -o t.json -j2 2>err
ok $? "trains 600 merges on tinyshakespeare"
jq -r '.model.merges[] | "\(.[0]) \(.[1])"' t.json >got.merges
test_cmp "$tok/train-shakespeare.merges" got.merges "the merges and their order equal the reference trainer's"
bpe-train --raw ts.txt --vocab-size 857 -o t1.json -j1 2>err
test_cmp t.json t1.json "one thread or two: the same file"
is "$(jq -r '.model.vocab | length' t.json) $(jq -c '.added_tokens | map([.id, .content])' t.json)" \
	'857 [[856,"<|endoftext|>"]]' "256 bytes + 600 merges, then the special token (in the vocabulary too)"
is "$(jq -r '.model.vocab["a"], .model.vocab["Ġ"], .model.vocab["Ċ"]' t.json | tr '\n' ' ')" "97 32 10 " \
	"byte tokens have the byte's value as id (in byte-level form)"

# read back: round trip, and JSONL input trains the same as raw
bpe-encode -t t.json --raw ts.txt | bpe-decode -t t.json >back.txt
test_cmp ts.txt back.txt "the trained tokenizer round trips the text"
jq -R -s -c '{text: .}' ts.txt >ts.jsonl
bpe-train ts.jsonl --vocab-size 857 -o tj.json
test_cmp t.json tj.json "JSONL input gives the same tokenizer"
bpt=$(bpe-encode -t t.json --raw ts.txt -v 2>&1 >/dev/null | sed -n 's/.*(\([0-9.]*\) bytes a token).*/\1/p')
ok $(awk -v b="$bpt" 'BEGIN { exit !(b > 2 && b < 4) }'; echo $?) "600 merges make $bpt bytes a token of its own text"

# special tokens: cut out before counting, last ids, never merged with text
awk '{ printf "%s<|endoftext|>", $0 }' ts.txt >sp.txt
bpe-train --raw sp.txt --vocab-size 600 --special '<|endoftext|>' --special '<|pad|>' -o sp.json
is "$(jq -c '.added_tokens | map([.id, .content])' sp.json)" '[[598,"<|endoftext|>"],[599,"<|pad|>"]]' \
	"special tokens take the last ids, in order"
is "$(jq -r '.model.vocab | to_entries[] | select(.value < 598) | .key | select(test("endoftext|<\\||\\|>"))' sp.json | wc -l)" 0 \
	"no learnt token holds a piece of a special token's text"
is "$(printf '{"text":"a<|pad|>"}\n' | bpe-encode -t sp.json --jsonl --allow-special | jq -c .ids)" "[97,599]" \
	"bpe-encode gives the special token's id when allowed"

# --min-frequency stops early, with a warning
bpe-train --raw ts.txt --vocab-size 30000 --min-frequency 1000 -o mf.json 2>err
ok $? "--min-frequency 1000"
like "$(cat err)" "stopped at [0-9]+ tokens" "says it stopped early"
n=$(jq '.model.merges | length' mf.json)
ok $([ "$n" -gt 10 ] && [ "$n" -lt 400 ] && echo 0 || echo 1) "with $n merges"

# --pattern: another split, written into the file
bpe-train --raw ts.txt --vocab-size 400 --pattern gpt2 -o g.json
is "$(jq -r '.pre_tokenizer.pretokenizers[0].pattern.Regex' g.json)" "$(bpe-encode -t "$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst" --info | sed -n 's/^pattern\t//p')" \
	"--pattern gpt2 is written into the tokenizer"
bpe-train --raw ts.txt --vocab-size 400 --pattern '[a-z]+' -o custom.json
bpe-encode -t custom.json --raw ts.txt | bpe-decode -t custom.json >back.txt
test_cmp ts.txt back.txt "a custom pattern leaving text between matches loses nothing"

# ill-formed UTF-8 in raw input: counted as pieces, round trips
zstd -dc "$tok/mix-bytes.bin.zst" >bytes.bin
bpe-train --raw bytes.bin --vocab-size 2000 -o b.json
ok $? "trains on a document with ill-formed UTF-8"
bpe-encode -t b.json --raw bytes.bin | bpe-decode -t b.json >back.bin
test_cmp bytes.bin back.bin "which round trips"

# a 50 MB document
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 1200000; i++) printf "word %d, ", i % 5000; printf "\"}\n" }' >big.jsonl
bpe-train big.jsonl --vocab-size 1000 -o big.json -v 2>err
ok $? "trains on one document of $(wc -c <big.jsonl) bytes"
like "$(cat err)" "counted [0-9]+ pieces, [0-9]+ unique" "-v reports the counts"
like "$(cat err)" "bytes a unique piece" "and the memory a unique piece"

# bad options and input
bpe-train --raw ts.txt -o x.json --vocab-size 200 2>err
is "$?" 2 "a vocabulary below 257 is a usage error"
bpe-train --raw ts.txt -o x.json --vocab-size 257 --special a --special b 2>err
is "$?" 2 "a vocabulary without room for the bytes and two special tokens is a usage error"
bpe-train --raw ts.txt --vocab-size 300 2>err
is "$?" 2 "-o is required"
bpe-train --raw ts.txt -o x.json --pattern '(' 2>err
is "$?" 2 "a bad pattern is a usage error"
like "$(cat err)" "option '--pattern'" "naming the option"
bpe-train -o e.json </dev/null 2>err
ok $? "empty input"
is "$(jq '.model.vocab | length' e.json) $(jq '.model.merges | length' e.json)" "257 0" "gives the bytes, the special token and no merges"
printf '{"text":"x"}\n{"text":\n' | bpe-train -o m.json --strict 2>err
is "$?" 1 "--strict stops at a malformed record"
bpe-train -o m.json /nonexistent.jsonl 2>err
is "$?" 1 "a missing input is an error"
done_testing
