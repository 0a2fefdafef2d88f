#!/bin/sh
# bpe-train: what it writes can always be read back. --max-token-length (the merges of the
# reference trainer with the same cap, tests/data/tok/gen-train.py; a cap above every learnt
# token changes nothing); a document of 600,000 '=' (once "token N has 131072 bytes" after the
# whole run, nothing written); special tokens the file could not hold refused before reading;
# corpora of one byte value; the largest vocabulary; write errors.
. "${SRCDIR:-.}/tests/lib.sh"

tok=$DATA/tok
zstd -dc "$tok/tinyshakespeare.txt.zst" >ts.txt

# the longest token of a tokenizer.json but the special tokens, in bytes (a byte is one
# character in byte-level form)
longest() {
	jq '(.added_tokens | map(.content)) as $sp | [.model.vocab | keys[] | select(IN($sp[]) | not) | length] | max' "$1"
}

# --max-token-length: pairs longer than the cap are never counted, the merges go elsewhere
bpe-train --raw ts.txt --vocab-size 657 --max-token-length 4 -o m4.json 2>err
ok $? "trains 400 merges with --max-token-length 4"
jq -r '.model.merges[] | "\(.[0]) \(.[1])"' m4.json >got.merges
test_cmp "$tok/train-shakespeare-max4.merges" got.merges "the merges equal the reference trainer's with the same cap"
is "$(longest m4.json) $(jq '.model.vocab | length' m4.json)" "4 657" \
	"no token over 4 bytes, and the vocabulary is filled"
bpe-train --raw ts.txt --vocab-size 857 -o t.json
n=$(longest t.json)
bpe-train --raw ts.txt --vocab-size 857 --max-token-length "$n" -o tn.json
test_cmp t.json tn.json "a cap of the longest learnt token ($n bytes) gives the same file"
bpe-train --raw ts.txt --vocab-size 857 --max-token-length $((n - 1)) -o tn1.json
ok $(cmp -s t.json tn1.json; [ $? = 1 ]; echo $?) "one byte less gives another tokenizer"
is "$(longest tn1.json)" "$((n - 1))" "whose longest token is $((n - 1)) bytes"

# one document of 600,000 '=': one piece, merged into runs of 2, 4, ... bytes
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 60000; i++) printf "=========="; printf "\"}\n" }' >eq.jsonl
bpe-train --vocab-size 1000 -o eq.json eq.jsonl 2>err
ok $? "a document of 600,000 '=' trains"
like "$(cat err)" "stopped at [0-9]+ tokens" "stopping when no pair is seen twice"
is "$(longest eq.json)" 65536 "its longest token is 65,536 bytes, the default cap"
bpe-encode -t eq.json eq.jsonl | bpe-decode -t eq.json --jsonl >back.jsonl
cmp -s eq.jsonl back.jsonl
ok $? "the tokenizer reads back and round trips the document"
bpe-train --vocab-size 1000 --max-token-length 128 -o eq128.json eq.jsonl 2>err
is "$(longest eq128.json)" 128 "--max-token-length 128: runs of 128 at most"
is "$(bpe-encode -t eq128.json --jsonl eq.jsonl | jq '.ids | length')" 4688 \
	"600,000 bytes in 4,687 runs of 128 and one of 64"

# one byte value: every document the same letter, or a single character
awk 'BEGIN { for (i = 1; i <= 300; i++) { printf "{\"text\":\""; for (k = 0; k < i; k++) printf "a"; printf "\"}\n" } }' >a.jsonl
bpe-train --vocab-size 300 --max-token-length 64 -o a.json a.jsonl 2>err
ok $? "a corpus of one byte value trains"
is "$(longest a.json)" 64 "its runs grow to the cap"
bpe-encode -t a.json a.jsonl | bpe-decode -t a.json --jsonl >back.jsonl
test_cmp a.jsonl back.jsonl "and read back"
printf '{"text":"a"}\n{"text":"a"}\n' | bpe-train --vocab-size 300 -o one.json 2>err
is "$? $(jq '.model.merges | length' one.json)" "0 0" "pieces of one byte: no pair, no merge"

# the bounds of the option
bpe-train --raw ts.txt --max-token-length 1 -o x.json 2>err
is "$?" 2 "--max-token-length 1 is a usage error"
like "$(cat err)" "'--max-token-length' wants an integer in 2\.\.65536" "  saying the range"
bpe-train --raw ts.txt --max-token-length 65537 -o x.json 2>err
is "$?" 2 "--max-token-length above 65,536 (what bpe-encode reads) is a usage error"
like "$(cat err)" "'--max-token-length' wants an integer in 2\.\.65536" "saying the range"

# special tokens the tokenizer.json could not hold, refused before any input is read
bpe-train --special a -o x.json /nonexistent.jsonl 2>err
is "$?" 2 "a one-byte special token (already a token: the byte) is a usage error"
like "$(cat err)" "'--special': 'a' is one byte" "saying so"
bpe-train --special '<|x|>' --special '<|y|>' --special '<|x|>' -o x.json /nonexistent.jsonl 2>err
like "$?: $(cat err)" "^2: .*'<\|x\|>' given twice" "a special token given twice"
bpe-train --special "$(printf '<\377>')" -o x.json /nonexistent.jsonl 2>err
like "$?: $(cat err)" "^2: .*is not UTF-8" "a special token that is not UTF-8"
big=$(awk 'BEGIN { for (i = 0; i < 6554; i++) printf "<|special|"; }')
fails 2 "a text of 65540 bytes \(at most 65536\)" "a special token longer than a token may be" \
	bpe-train --special "$big" -o x.json /nonexistent.jsonl
ok $([ ! -e x.json ]; echo $?) "and nothing is written"

# the largest vocabulary: ids up to 2^24 - 1, memory as the tokens made, not as asked
jq -R -s -c '{text: .}' ts.txt >ts.jsonl
bpe-train --vocab-size 16777216 --min-frequency 100 -o huge.json ts.jsonl 2>err
ok $? "--vocab-size 16777216 (2^24) on a small corpus"
is "$(bpe-encode -t huge.json --info | sed -n 's/^vocab_size\t//p')" \
	"$(($(jq '.model.merges | length' huge.json) + 257))" "stops early and reads back"
bpe-train --vocab-size 16777217 -o x.json ts.jsonl 2>err
is "$?" 2 "--vocab-size above 2^24 is a usage error"
like "$(cat err)" "--vocab-size" "  naming the option"

# write errors: the statistics and rejects files and --help, on a full device
fails 1 "bpe-train: error: cannot write '/dev/full': No space left" "--stats on a full device fails" \
	bpe-train --raw ts.txt --vocab-size 300 -o s.json --stats /dev/full
printf '{"x":1}\n' | bpe-train -q --vocab-size 300 -o r.json --rejects /dev/full 2>err
like "$?: $(cat err)" "^1: bpe-train: error: cannot write to '/dev/full'" "--rejects on a full device fails"
bpe-train --version >/dev/full 2>err
like "$?: $(cat err)" "^1: .*cannot write to standard output" "--version to a full device fails"
done_testing
