#!/bin/sh
# Tokenizer files that must not load: a tiktoken rank file whose name claims one of OpenAI's
# (r50k_base, gpt2, p50k_base, cl100k_base, o200k_base) is checked against its known number
# of ranks and the SHA-256 tiktoken pins (once a cl100k_base.tiktoken cut to 5,000 lines loaded
# and gave other ids); any other rank file against itself (ranks 0 to n-1 each once, no bytes
# twice); tokenizer.json files against themselves (keys twice, added tokens against the
# vocabulary, tokens no merge makes, merges and ids out of range; another model type, a
# normalizer).
. "${SRCDIR:-.}/tests/lib.sh"

tok=$DATA/tok
toks=$SRCDIR/data/tokenizers
zstd -dc "$toks/r50k_base.tiktoken.zst" >r50k_base.tiktoken
zstd -dc "$toks/cl100k_base.tiktoken.zst" >full.tiktoken
printf '{"text":"Hello world, the quick brown fox."}\n' >t.jsonl

# the shipped files load, their hashes checked
for n in r50k_base cl100k_base o200k_base; do
	bpe-encode -t "$toks/$n.tiktoken.zst" --info >out 2>err
	is "$?:$(sed -n 's/^vocab_size\t//p' out)" "0:$(case $n in r50k_base) echo 50257;; cl100k_base) echo 100277;; o200k_base) echo 200019;; esac)" \
		"$n.tiktoken.zst loads (its SHA-256 is tiktoken's), with its vocabulary size"
done

# a known name, ranks missing: the issue's cl100k_base.tiktoken cut to 5,000 lines
head -5000 full.tiktoken >cl100k_base.tiktoken
bpe-encode -t cl100k_base.tiktoken --jsonl t.jsonl >out 2>err
is "$?" 1 "cl100k_base.tiktoken cut to 5,000 lines is refused"
like "$(cat err)" "cannot load the tokenizer 'cl100k_base.tiktoken': 5000 ranks where cl100k_base has 100256: ranks are missing" \
	"naming the file and the ranks missing"
is "$(cat out)" "" "nothing is encoded"
zstd -q -c cl100k_base.tiktoken >cut.zst && mkdir -p d && mv cut.zst d/cl100k_base.tiktoken.zst
fails 1 "5000 ranks where cl100k_base has 100256" "compressed the same" bpe-encode -t d/cl100k_base.tiktoken.zst --info
head -50000 r50k_base.tiktoken >r50k_base_cut.tiktoken
fails 1 "50000 ranks where r50k_base has 50256: ranks are missing" "r50k_base cut at a line end" \
	bpe-encode -t r50k_base_cut.tiktoken --info
cp r50k_base.tiktoken p50k_base.tiktoken
fails 1 "50256 ranks where p50k_base has 50280" "p50k_base has 50,280 ranks" bpe-encode -t p50k_base.tiktoken --info
{ zstd -dc "$toks/o200k_base.tiktoken.zst"; echo "AAAAAAAA 199998"; } >o200k_base.tiktoken
fails 1 "199999 ranks where o200k_base has 199998: not that file" "a rank too many" \
	bpe-encode -t o200k_base.tiktoken --info

# a known name, the right number of ranks, another file: SHA-256
awk 'NR == 1000 { sub(/ 999$/, " 1000") } NR == 1001 { sub(/ 1000$/, " 999") } { print }' r50k_base.tiktoken >r50k_base_swap.tiktoken
fails 1 "'r50k_base_swap.tiktoken': SHA-256 [0-9a-f]{64}, not tiktoken's 306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930 for r50k_base: the file differs" \
	"two ranks swapped: the hash differs" bpe-encode -t r50k_base_swap.tiktoken --info
sed 's/$/\r/' r50k_base.tiktoken >r50k_base_crlf.tiktoken
fails 1 "SHA-256" "CRLF line ends are another file too (tiktoken would refuse it)" \
	bpe-encode -t r50k_base_crlf.tiktoken --info
cp r50k_base.tiktoken gpt2.tiktoken
is "$(bpe-encode -t gpt2.tiktoken --jsonl t.jsonl)" "$(bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl t.jsonl)" \
	"gpt2 (r50k's ranks; tiktoken pins no rank file for it) loads"
head -50000 r50k_base.tiktoken >gpt2.tiktoken
fails 1 "50000 ranks where gpt2 has 50256" "and is counted" bpe-encode -t gpt2.tiktoken --info

# another name: loaded as before, checked against itself
cp r50k_base.tiktoken mine.tiktoken
is "$(bpe-encode -t mine.tiktoken --pattern gpt2 --jsonl t.jsonl | jq -c .ids)" \
	"$(bpe-encode -t "$toks/r50k_base.tiktoken.zst" --jsonl t.jsonl | jq -c .ids)" "another name loads as before (with --pattern)"
head -5000 r50k_base.tiktoken >mine.tiktoken
bpe-encode -t mine.tiktoken --pattern gpt2 --info >out 2>err
is "$?" 0 "cut at a line end, another name cannot be checked: it loads"
ranks_edited() {	# SED-SCRIPT ERE DESCRIPTION: r50k's ranks edited so, under another name, are refused
	sed "$1" r50k_base.tiktoken >mine.tiktoken
	fails 1 "$2" "$3" bpe-encode -t mine.tiktoken --pattern gpt2 --info
}
ranks_edited '100d' "rank 99 is missing \(50255 ranks up to 50255\)" "a rank missing in the middle is an error"
ranks_edited '100s/^[^ ]*/IQ==/' "line 100: ids 0 and 99 have the same bytes" "the same bytes twice"
ranks_edited '100s/ 99$/ 0/' "line 100: token id 0 given twice" "a rank twice"
ranks_edited '100s/^/#/' "line 100: not 'base64 rank'" "bad base64"
ranks_edited '500s/^/!/' "line 500: not 'base64 rank'" "bad base64 is an error naming the line"
ranks_edited '1s/^[^ ]*/AAAA/' "no token for the byte 0x21" "a vocabulary without every byte is refused"
printf 'YQ== 99999999999\n' >mine.tiktoken
fails 1 "line 1: not 'base64 rank'" "a rank past 2^24" bpe-encode -t mine.tiktoken --pattern gpt2 --info

# tokenizer.json against itself
zstd -dc "$tok/gpt2-tokenizer.json.zst" >gpt2.json
bpe-encode -t gpt2.json --info >out 2>err
ok $? "GPT-2's tokenizer.json loads"
json_edited() {	# JQ-FILTER ERE DESCRIPTION: GPT-2's tokenizer.json edited so is refused
	jq -c "$1" gpt2.json >edited.json
	fails 1 "$2" "$3" bpe-encode -t edited.json --info
}
json_edited '.model.merges |= .[:40000]' "10000 tokens of the vocabulary \(the first: id 40256\) are made by no merge" \
	"merges cut to 40,000 (Hugging Face would load it and give other ids)"
json_edited '.model.vocab |= with_entries(select(.value < 40000))' "merge [0-9]+: (not two tokens|the merged token is not)" \
	"the vocabulary cut: merges name unknown tokens"
json_edited '.added_tokens[0].id = 50257' "added token 0: '<\|endoftext\|>' has the id 50257, the vocabulary gives it 50256" \
	"an added token the vocabulary numbers otherwise"
json_edited '.added_tokens[0].id = 100' "added token 0: " "an added token on another token's id"
json_edited '.model.vocab["hello"] = 16777216' "'hello' has no valid id" "an id past 2^24"
json_edited '.model.vocab["Ġhello"] = 31373' "token id 31373 given twice" "two tokens on one id"
json_edited '.model.type = "WordPiece"' "not a BPE model" "a WordPiece tokenizer.json is refused"
json_edited '.normalizer = {"type": "NFC"}' "normalizers are not supported" "a normalizer is refused, not ignored"
json_edited '.model.merges[5] = "Ġt zzzzqqq"' "merge 5: not two tokens" "a merge of unknown tokens is refused"
json_edited '.model.merges[5] = ["Ġt", "he"] | .model.merges[6] = ["Ġ", "Ġ", "Ġ"]' "merge 6: not two tokens" "a merge of three"
jq -c . gpt2.json | sed 's/"vocab":{/"vocab":{"hello":0,/' >dup-key.json
is "$(grep -o '"hello":[0-9]*' dup-key.json | tr '\n' ' ')" '"hello":0 "hello":31373 ' "a vocabulary with a key twice"
fails 1 "not valid JSON: .*duplicate object key" "is refused (Python would take the last)" \
	bpe-encode -t dup-key.json --info

# --write-tokenizer's files pass their own checks
bpe-encode -t "$toks/cl100k_base.tiktoken.zst" --write-tokenizer cl100k.json
bpe-encode -t cl100k.json --info >out 2>err
ok $? "cl100k written as tokenizer.json reads back"
# a token no merge makes, and no merge could (GPT-2's <|endoftext|> kept in the vocabulary
# without an added_tokens entry, as Hugging Face saves GPT-2's own files): a token of its own
zstd -dc "$DATA/tok/gpt2-tokenizer.json.zst" | jq -c '.added_tokens = []' >noadded.json
is "$(bpe-encode -t noadded.json --info 2>&1 | sed -n 's/^vocab_size\t//p')" 50257 \
	"a vocabulary token no merge could make loads (GPT-2 without added_tokens)"
# a rank file and the tokenizer.json written from it are one tokenizer: the same hash, so
# shards, token streams and checkpoints made with one are read with the other
for t in r50k_base o200k_base; do
	bpe-encode -t "$SRCDIR/data/tokenizers/$t.tiktoken.zst" --write-tokenizer $t.json </dev/null
	a=$(bpe-encode -t "$SRCDIR/data/tokenizers/$t.tiktoken.zst" --info | sed -n 's/^hash\t//p')
	b=$(bpe-encode -t $t.json --info | sed -n 's/^hash\t//p')
	is "$(printf '%s' "$a" | wc -c):$b" "16:$a" "$t: the rank file and its tokenizer.json hash the same"
done
r50k=$(bpe-encode -t r50k_base.json --info | sed -n 's/^hash\t//p')
jq -c '.model.merges |= .[:-1]' r50k_base.json >r50k-cut.json
cut=$(bpe-encode -t r50k-cut.json --info | sed -n 's/^hash\t//p')
ok "$([ -n "$cut" ] && [ "$cut" != "$r50k" ]; echo $?)" "  one merge fewer is another tokenizer ($cut, not $r50k)"
done_testing
