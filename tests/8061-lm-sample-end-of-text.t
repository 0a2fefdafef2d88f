#!/bin/sh
# lm-sample stops at end-of-text and says so on stderr (not under -q): a model whose first
# token is end-of-text prints an empty line, and the note says it stopped after 0 tokens.
. "${SRCDIR:-.}/tests/lib.sh"

# documents that are all "ROMEO:": after it, a model learns end-of-text
for i in $(seq 1 300); do echo '{"id":"d'$i'","text":"ROMEO:"}'; done >docs.jsonl
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 5000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 257 -o bytes.json t.jsonl &&
	shard-pack -q -t bytes.json -o s --val-fraction 0 docs.jsonl
ok $? "byte-level tokenizer, short documents"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 16}' >model.json
lm-train --data 's/*.bin' -t bytes.json --model model.json --context 16 -b 4 -j 1 --steps 150 --lr 1e-2 \
	--warmup 10 -q -o run
ok $? "a model of one short document"

lm-sample -n 5 --temperature 0 -j 1 run "ROMEO:" >out 2>err
is "$?:$(od -A n -c out | tr -d ' ')" '0:\n' "the first token is end-of-text: an empty line, exit 0"
is "$(cat err)" "lm-sample: generation stopped at end-of-text after 0 tokens" "  and stderr says why"
lm-sample -n 5 --temperature 0 -j 1 run "ROM" >out 2>err
is "$(cat out)" "EO:" "a prompt the model completes"
is "$(cat err)" "lm-sample: generation stopped at end-of-text after 3 tokens" "  counting the tokens before it"
lm-sample -n 5 --temperature 0 -j 1 --ids run "ROM" >out 2>err
is "$(wc -w <out | tr -d ' '):$(cat err)" "3:lm-sample: generation stopped at end-of-text after 3 tokens" "  --ids too"
lm-sample -q -n 5 --temperature 0 -j 1 run "ROMEO:" >out 2>err
is "$?:$(cat err)" "0:" "-q: no note"
lm-sample -n 5 --temperature 0 --no-stop -j 1 run "ROMEO:" >out 2>err
is "$(cat err)" "" "--no-stop: no note"
like "$(cat out)" "^<\|endoftext\|>" "  the end-of-text token printed as text"
lm-sample -n 2 --temperature 0 -j 1 run "R" >out 2>err
is "$(cat out):$(cat err)" "OM:" "stopped by --max-tokens: no note"
lm-sample -s 2 -n 5 --temperature 0 -j 1 run "ROMEO:" >out 2>err
is "$(cat err | tr '\n' ' ')" "lm-sample: sample 1: generation stopped at end-of-text after 0 tokens lm-sample: sample 2: generation stopped at end-of-text after 0 tokens " \
	"--samples 2: a note for each"
is "$(grep -c '^--- sample' out)" 2 "  after both samples"

done_testing
