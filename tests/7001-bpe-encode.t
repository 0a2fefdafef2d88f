#!/bin/sh
# bpe-encode / bpe-decode: ids identical to tiktoken's for r50k, cl100k and o200k on 11.5 MB of
# mixed text and on a document full of ill-formed UTF-8 (expected ids made once with tiktoken,
# tests/data/tok/gen-fixtures.py); Hugging Face's GPT-2 tokenizer.json gives r50k's ids; a
# written tokenizer.json reads back the same; exact round trips for any bytes; special tokens;
# damaged tokenizers (more in 7008), streams and huge documents.
. "${SRCDIR:-.}/tests/lib.sh"

tok=$DATA/tok
toks=$SRCDIR/data/tokenizers
zstd -dc "$tok/mix-bytes.bin.zst" >bytes.bin

for n in r50k_base cl100k_base o200k_base; do
	t=$toks/$n.tiktoken.zst
	bpe-encode -j2 -t "$t" "$tok/mix.jsonl.zst" >mix.ts 2>err
	ok $? "$n: encodes the mixed corpus"
	bpe-decode --ids mix.ts >got.ids
	zstd -dc "$tok/mix.$n.ids.zst" >want.ids
	test_cmp want.ids got.ids "$n: ids equal tiktoken's on 1,123 documents (11.5 MB)"
	bpe-encode -t "$t" --raw bytes.bin | bpe-decode --ids >got.ids
	zstd -dc "$tok/mix-bytes.$n.ids.zst" >want.ids
	test_cmp want.ids got.ids "$n: ill-formed UTF-8 as documented (valid runs split, bad runs one piece)"
	bpe-encode -t "$t" --raw bytes.bin | bpe-decode -t "$t" >back.bin
	test_cmp bytes.bin back.bin "$n: the ill-formed document decodes to its bytes"
	bpe-decode -t "$t" mix.ts --jsonl >back.jsonl
	zstd -dc "$tok/mix.jsonl.zst" | jq -c '{text}' >want.jsonl
	test_cmp want.jsonl back.jsonl "$n: every document decodes to its text"
done

# one thread or two: the same stream
t=$toks/cl100k_base.tiktoken.zst
bpe-encode -j1 -t "$t" "$tok/mix.jsonl.zst" >one.ts
bpe-encode -j2 -t "$t" "$tok/mix.jsonl.zst" >two.ts
test_cmp one.ts two.ts "one thread and two write the same stream"

# tiktoken's own vectors and short tricky strings
for n in r50k_base cl100k_base o200k_base; do
	awk -F'\t' -v n="$n" '$1 == n' "$tok/vectors.tsv" >v.tsv
	cut -f3 v.tsv >want
	cut -f2 v.tsv | jq -c '{text: .}' | bpe-encode -t "$toks/$n.tiktoken.zst" --jsonl |
		jq -r '.ids | map(tostring) | join(" ")' >got
	test_cmp want got "$n: $(wc -l <v.tsv) test vectors"
done

# tokenizer.json: Hugging Face's GPT-2 file gives r50k's ids; written files read back the same
zstd -dc "$tok/mix.r50k_base.ids.zst" >want.ids
bpe-encode -t "$tok/gpt2-tokenizer.json.zst" "$tok/mix.jsonl.zst" | bpe-decode --ids >got.ids
test_cmp want.ids got.ids "GPT-2 tokenizer.json (merges list) gives r50k's ids"
bpe-encode -t "$toks/o200k_base.tiktoken.zst" --write-tokenizer o200k.json
ok $? "o200k written as tokenizer.json"
is "$(jq -r '.model.type, .model.ignore_merges, .pre_tokenizer.pretokenizers[0].type, (.added_tokens | length)' o200k.json | tr '\n' ' ')" \
	"BPE true Split 2 " "the file is a byte-level BPE with a Split pre-tokenizer and the special tokens"
zstd -dc "$tok/mix.o200k_base.ids.zst" >want.ids
bpe-encode -t o200k.json "$tok/mix.jsonl.zst" | bpe-decode --ids >got.ids
test_cmp want.ids got.ids "the written o200k tokenizer.json gives the same ids"
bpe-encode -t "$tok/gpt2-tokenizer.json.zst" --write-tokenizer gpt2.json &&
	bpe-encode -t gpt2.json --write-tokenizer gpt2b.json
test_cmp gpt2.json gpt2b.json "tokenizer.json written, read and written again is the same file"
is "$(bpe-encode -t gpt2.json --info | grep hash)" "$(bpe-encode -t "$tok/gpt2-tokenizer.json.zst" --info | grep hash)" \
	"and has the same hash"
bpe-encode -t "$toks/cl100k_base.tiktoken.zst" --write-tokenizer cl100k.json
is "$(jq -c '[.model.vocab["<|endoftext|>"], .model.vocab["<|endofprompt|>"]]' cl100k.json)" "[100257,100276]" \
	"special tokens are in the written vocabulary at their ids (Hugging Face renumbers them otherwise)"
like "$(jq -r '.pre_tokenizer.pretokenizers[0].pattern.Regex' cl100k.json)" '\|\(\?>\\p\{N\}\{1,3\}\)\|' \
	"cl100k's possessive \\p{N}{1,3}+ is written as an atomic group (Hugging Face reads {1,3}+ as a repeat)"
info=$(bpe-encode -t "$toks/cl100k_base.tiktoken.zst" --info)
like "$info" "vocab_size	100277" "cl100k: 100,277 ids with the special tokens"
like "$info" "special	100276	<\|endofprompt\|>" "cl100k: <|endofprompt|> is 100276"

# special tokens: text unless allowed
printf '{"text":"a<|endoftext|>b"}\n' >sp.jsonl
is "$(bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl sp.jsonl | jq -c .ids)" "[64,27,91,437,1659,5239,91,29,65]" \
	"<|endoftext|> in the text is ordinary text by default"
is "$(bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl --allow-special sp.jsonl | jq -c .ids)" "[64,50256,65]" \
	"--allow-special gives its id"

# --jsonl keeps the record, replaces ids, --drop-text
printf '{"id":"a","ids":[1],"text":"hello world","metadata":{"x":1}}\n{}\n{"text":""}\n{"text":7}\n' >r.jsonl
bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl --rejects rej.jsonl r.jsonl >out.jsonl
is "$(head -1 out.jsonl)" '{"id":"a","text":"hello world","metadata":{"x":1},"ids":[31373,995]}' "--jsonl keeps the fields and replaces ids"
is "$(sed -n 2p out.jsonl)" '{"text":"","ids":[]}' "an empty text has no ids"
is "$(jq -r .metadata.reject.reason rej.jsonl | tr '\n' ' ')" "no_text no_text " "records without a string text are rejected"
is "$(bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl --drop-text r.jsonl | head -1)" '{"id":"a","metadata":{"x":1},"ids":[31373,995]}' "--drop-text"

# any bytes round trip: every byte value, compressed data, nothing at all
awk 'BEGIN { for (i = 0; i < 256; i++) for (j = 0; j < 256; j += 37) printf "%c%c", i, j }' >all.bin
cat all.bin "$tok/mix.jsonl.zst" >any.bin
: >empty.bin
for n in r50k_base o200k_base; do
	t=$toks/$n.tiktoken.zst
	for f in all.bin any.bin empty.bin; do
		bpe-encode -t "$t" --raw $f | bpe-decode -t "$t" >back
		test_cmp $f back "$n: $f decodes to itself"
	done
done
bpe-encode -t "$tok/gpt2-tokenizer.json.zst" --raw any.bin | bpe-decode -t "$tok/gpt2-tokenizer.json.zst" >back
test_cmp any.bin back "tokenizer.json: any bytes decode to themselves"

# a 50 MB document, and one of 3 MB letters without a space (one piece, merged in parts)
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 1200000; i++) printf "word %d, ", i; printf "\"}\n" }' >big.jsonl
like "$(wc -c <big.jsonl)" "^[0-9]{8}$" "a document of $(wc -c <big.jsonl) bytes"
bpe-encode -t "$toks/cl100k_base.tiktoken.zst" big.jsonl | bpe-decode -t "$toks/cl100k_base.tiktoken.zst" --jsonl >back.jsonl
ok $? "encoded and decoded"
test_cmp big.jsonl back.jsonl "the 50 MB document round trips"
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 300000; i++) printf "abcdefghij"; printf "\"}\n" }' >run.jsonl
bpe-encode -t "$toks/o200k_base.tiktoken.zst" run.jsonl | bpe-decode -t "$toks/o200k_base.tiktoken.zst" --jsonl >back.jsonl
test_cmp run.jsonl back.jsonl "3 MB of letters without a space round trip"

# empty input: a stream with no documents
bpe-encode -t "$toks/r50k_base.tiktoken.zst" </dev/null >e.ts
ok $? "empty input"
is "$(bpe-decode -t "$toks/r50k_base.tiktoken.zst" -v e.ts 2>&1)" "bpe-decode: 0 documents, 0 tokens -> 0 bytes" "gives a stream of no documents"

# damaged tokenizers
zstd -dc "$toks/r50k_base.tiktoken.zst" >r50k_base.tiktoken
head -c 299990 r50k_base.tiktoken >r50k_base_cut.tiktoken
bpe-encode -t r50k_base_cut.tiktoken --info >out 2>err
is "$?" 1 "a rank file cut in the middle of a line is an error"
like "$(cat err)" "cannot load the tokenizer .*line [0-9]+" "naming the line"
sed '7s/ .*/ 3/' r50k_base.tiktoken >r50k_base_dup.tiktoken
fails 1 "token id 3 given twice" "a rank given twice is refused" bpe-encode -t r50k_base_dup.tiktoken --info
printf 'abc' >mystery.tiktoken
fails 1 "needs a pattern" "a rank file of unknown name needs --pattern" bpe-encode -t mystery.tiktoken --info
fails 1 "bad pattern" "a bad --pattern is an error" bpe-encode -t "$toks/r50k_base.tiktoken.zst" --pattern '(' --info
zstd -dc "$tok/gpt2-tokenizer.json.zst" | head -c 100000 >cut.json
fails 1 "not valid JSON" "a cut tokenizer.json is an error" bpe-encode -t cut.json --info
bpe-encode -t /nonexistent.json --info >out 2>err
is "$?" 1 "a missing tokenizer file is an error"

# damaged streams
t=$toks/r50k_base.tiktoken.zst
printf '{"text":"hello world"}\n{"text":"again"}\n' | bpe-encode -t "$t" >s.ts
head -c $(($(wc -c <s.ts) - 16)) s.ts >cut.ts
bpe-decode -t "$t" cut.ts >out 2>err
is "$?" 1 "a stream without its end mark is an error"
like "$(cat err)" "cut short after 2 documents" "saying where"
is "$(cat out)" "hello worldagain" "after writing what it held"
head -c 45 s.ts >cut2.ts
fails 1 "cut short in document 1" "a stream cut inside a document" bpe-decode -t "$t" cut2.ts
fails 1 "not a token stream" "another file is not a token stream" bpe-decode -t "$t" "$tok/vectors.tsv"
fails 1 "encoded by another tokenizer" "a stream of another tokenizer is refused" \
	bpe-decode -t "$toks/cl100k_base.tiktoken.zst" s.ts
bpe-decode -t "$toks/cl100k_base.tiktoken.zst" --any-tokenizer s.ts >out 2>err
ok $? "--any-tokenizer decodes it anyway"
{ head -c 40 s.ts; printf '\377\377\377\377'; tail -c +45 s.ts; } >badid.ts
fails 1 "id 4294967295 is outside the vocabulary" "an id outside the vocabulary" bpe-decode -t "$t" badid.ts
{ head -c 8 s.ts; printf '\002\000\000\000'; tail -c +13 s.ts; } >v2.ts
fails 1 "version 2" "another version is refused" bpe-decode -t "$t" v2.ts
gzip -c s.ts >s.ts.gz
is "$(bpe-decode -t "$t" --separator '\n' s.ts.gz)" "hello world
again" "gzip streams read; --separator"
is "$(bpe-decode --ids --shard 1/2 s.ts)" "17776" "--shard takes every N-th document"
done_testing
