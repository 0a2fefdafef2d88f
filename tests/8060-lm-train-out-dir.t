#!/bin/sh
# lm-train -o DIR: the run directory is created with any parent it lacks (mkdir -p), only once
# the run is set to start; what stands in the way is an error naming it.
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 20000 | jq -R -s '{id: "train", text: .}' -c >train.jsonl
bpe-train -q --vocab-size 257 -o bytes.json train.jsonl &&
	shard-pack -q -t bytes.json -o s --val-fraction 0 train.jsonl
ok $? "byte-level tokenizer and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 16}' >model.json
common="--data s/shard_train_*.bin -t bytes.json --model model.json --context 16 -b 2 -j 1 --steps 2 -q"

lm-train $common -o runs/tiny 2>err
is "$?:$(cat err)" "0:" "-o runs/tiny without runs/: trains"
is "$(cat runs/tiny/latest)" step-0000002 "  into runs/tiny, parent created"
lm-train $common -o runs/a/b/c/ 2>err
is "$?:$(cat runs/a/b/c/latest)" "0:step-0000002" "several missing parents, a trailing slash"
lm-train $common -o runs//d 2>err
is "$?:$(cat runs/d/latest)" "0:step-0000002" "a doubled slash"
mkdir empty
lm-train $common -o empty 2>err
is "$?:$(cat empty/latest)" "0:step-0000002" "an existing empty directory is used"

: >file
lm-train $common -o file/run 2>err
is $? 1 "a file where a parent should be: fails"
is "$(cat err)" "lm-train: error: cannot create 'file/run': Not a directory" "  naming what could not be made"
if [ "$(id -u)" != 0 ]; then
	mkdir ro && chmod 555 ro
	lm-train $common -o ro/x/y 2>err
	is "$?:$(cat err)" "1:lm-train: error: cannot create 'ro/x': Permission denied" \
		"a parent that cannot be made is named"
else
	ok 0 "# SKIP root may write anywhere"
fi

# refused before anything is made: a bad --init, a batch larger than the data
lm-train $common --init nothing -o late/run 2>err
is $? 1 "a run that cannot start fails"
ok "$([ ! -e late ]; echo $?)" "  before creating the parents"
lm-train $common -b 5000 -o late2/run 2>err
is $? 2 "a usage error"
ok "$([ ! -e late2 ]; echo $?)" "  creates nothing either"

done_testing
