#!/bin/sh
# lm-train's progress on stderr, as the filters': on a terminal one line redrawn in place (on
# by default, off with -q); elsewhere nothing per step unless --progress or -v, then a plain
# line a step ending in a newline (no carriage returns in a log).
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 20000 | jq -R -s '{id: "train", text: .}' -c >train.jsonl
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | tail -c 3000 | jq -R -s '{id: "val", text: .}' -c >val.jsonl
bpe-train -q --vocab-size 257 -o bytes.json train.jsonl &&
	shard-pack -q -t bytes.json -o s --val-fraction 0 train.jsonl &&
	shard-pack -q -t bytes.json -o v --val-fraction 0 val.jsonl
ok $? "byte-level tokenizer and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 16}' >model.json
common="--data s/shard_train_*.bin -t bytes.json --model model.json --context 16 -b 2 -j 1 --steps 4"
step='^lm-train: step [0-9]+/4 loss [0-9.]+ lr [0-9.e+-]+ [0-9]+ tok/s mfu [0-9.]+% eta [0-9]+s$'

lm-train $common -o quiet 2>err
ok $? "a run with stderr to a file"
is "$(grep -c 'step [0-9]*/4' err)" 0 "  no progress by default"
lm-train $common --progress -o p 2>err
is "$(grep -Ec "$step" err)" 4 "--progress: a line a step"
is "$(tr -cd '\r' <err | wc -c | tr -d ' ')" 0 "  no carriage return"
is "$(grep -c "$(printf '\033')" err)" 0 "  no terminal escape"
lm-train $common -v -o v 2>err
is "$(grep -Ec "$step" err)" 4 "-v: a line a step too"
like "$(cat err)" "done: 4 steps" "  and the summary"
lm-train $common -q --progress -o qp 2>err
is "$(grep -Ec "$step" err)" 4 "-q --progress: the lines asked for"
lm-train $common --progress --val 'v/*.bin' --eval-every 2 -o ev 2>err
is "$(sed -n 's/^lm-train: step \([0-9]*\)[:/].*/\1/p' err | tr '\n' ' ')" "1 2 2 3 4 4 " \
	"  evaluations between them, each on a line of its own"

if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "lm-train $common -o tty" /dev/null >tty.out 2>&1
	ok $? "on a terminal"
	is "$(perl -ne '$n += () = /\rlm-train: step/g; END { print $n + 0 }' tty.out)" 4 \
		"  the line redrawn in place: back to its start each step"
	is "$(grep -c "$(printf '\033')\[K" tty.out)" 1 "  clearing the rest of the line, on one line"
	like "$(tr '\r' '\n' <tty.out | grep -a 'step 4/4')" "step 4/4 loss" "  up to the last step"
	script -qec "lm-train $common -q -o tty-q" /dev/null >tty.out 2>&1
	is "$(wc -c <tty.out | tr -d ' ')" 0 "-q on a terminal: nothing"
else
	for i in 1 2 3 4 5; do ok 0 "# SKIP no script(1) to run under a terminal"; done
fi

done_testing
