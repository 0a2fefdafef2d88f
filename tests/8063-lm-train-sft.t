#!/bin/sh
# lm-train --sft: supervised fine-tuning from --init's model and tokenizer on prompt/response
# pairs, chat messages and HH-RLHF transcripts; the loss is the mean over the trained tokens of
# the whole accumulated step (--accum 2 x -b 2 trains as -b 4 does); a run resumed mid-epoch
# ends bitwise equal to an uninterrupted one; epochs, the validation split; bad input: skipped
# records counted, none usable, a template token missing, options. (The masks and packing are
# tested in tests/unit/8081-sft.c.)
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o s --val-fraction 0 t.jsonl
ok $? "a byte-level tokenizer with the chat tokens, and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
lm-train --data 's/*.bin' -t chat.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o base
ok $? "a base model"

# 40 pairs of different lengths, then chat messages and transcripts
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 12 + i % 17);
	r = substr("the answer is a word of some length, said slowly", 1, 3 + (i * 7) % 30);
	printf "{\"prompt\": \"%s\\n\", \"response\": \"%s\"}\n", p, r } }' >pairs.jsonl
cat >chat.jsonl <<'EOF'
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
{"messages": [{"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "and 3 + 3?"}, {"role": "assistant", "content": "6"}]}
{"chosen": "\n\nHuman: Where is Paris?\n\nAssistant: In France.", "rejected": "\n\nHuman: Where is Paris?\n\nAssistant: No."}
{"text": "\n\nHuman: Name a colour.\n\nAssistant: Blue."}
EOF
common="--init base --context 64 -j 1 --lr 1e-3 --seed 3"

lm-train --sft pairs.jsonl $common -b 2 --epochs 2 --val-fraction 0.2 --eval-every 5 -o E 2>err
ok $? "fine-tunes on pairs for 2 epochs"
like "$(cat err)" "32 examples for training in [0-9]+ rows of 64, 8 held out" "  the split and the packing"
rows=$(sed -n 's/.*training in \([0-9]*\) rows.*/\1/p' err)
is "$(jq -s '[.[] | select(.loss)] | length' E/metrics.jsonl)" "$(((2 * rows + 1) / 2))" "  --epochs: 2 x $rows rows at 2 a step"
is "$(jq -s '[.[] | select(.val_loss) | .val_tokens > 0] | length > 1 and all' E/metrics.jsonl)" true "  held-out response tokens evaluated"
is "$(jq -c '.options | [.sft, .val_fraction, .data]' E/$(cat E/latest)/trainer.json)" '[true,0.2,"pairs.jsonl"]' \
	"  the run's options record --sft"

is "$(jq -s '[.[] | select(.loss) | .trained_tokens > 0] | all' E/metrics.jsonl)" true "  each step's trained tokens in the metrics"

# the loss over the trained tokens of the whole step
lm-train --sft pairs.jsonl $common -b 4 --steps 1 -q -o B4
lm-train --sft pairs.jsonl $common -b 2 --accum 2 --steps 1 -q -o A2
l1=$(jq 'select(.loss) | .loss' B4/metrics.jsonl) l2=$(jq 'select(.loss) | .loss' A2/metrics.jsonl)
ok "$(echo "$l1 $l2" | awk '{ d = $1 - $2; print !(d < 1e-5 && d > -1e-5) }')" "--accum 2 x -b 2: the loss of -b 4 ($l1, $l2)"
d=$(rel_diff B4/step-0000001/model.safetensors A2/step-0000001/model.safetensors)
ok "$(echo "$d" | awk '{ print !($1 < 1e-5) }')" "  and the same weights after the step (relative difference $d)"

# resume mid-epoch: from step 5 of an uninterrupted run's checkpoints
args="--sft pairs.jsonl $common -b 2 --steps 24 --save-every 5 --keep 10 -q"
lm-train $args -o A
ok $? "an uninterrupted run over more than an epoch"
cp -r A K && rm -r K/step-0000010 K/step-0000015 K/step-0000020 K/step-0000024 && echo step-0000005 >K/latest
lm-train $(echo "$args" | sed 's/--init base //') -o K --resume
ok $? "resumed at step 5, mid-epoch"
test_cmp A/step-0000024/model.safetensors K/step-0000024/model.safetensors "  weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000024/optimizer.safetensors K/step-0000024/optimizer.safetensors "  optimizer state bitwise equal"

# chat messages and HH-RLHF transcripts through the template
lm-train --sft chat.jsonl $common -b 2 --steps 2 -o C 2>err
ok $? "fine-tunes on chat messages and transcripts"
like "$(cat err)" "4 examples for training" "  all four records used"

# bad input
{ cat pairs.jsonl; echo '{"prompt": "a", "response": ""}'; echo '{"messages": [{"role": "robot", "content": "x"}]}'; echo 'not json'; } >bad.jsonl
lm-train --sft bad.jsonl $common -b 2 --steps 1 -o D 2>err
ok $? "bad records are skipped"
like "$(cat err)" "3 of 43 records skipped \(the first: record 41: an empty response\)" "  counted, the first named"
awk 'BEGIN { printf "{\"prompt\": \"%0200d\", \"response\": \"x\"}\n{\"prompt\": \"a\", \"response\": \"%0200d\"}\n", 0, 0 }' >long.jsonl
lm-train --sft long.jsonl $common -b 1 --steps 1 -o L 2>err
ok $? "a prompt longer than the context"
like "$(cat err)" "1 of 2 records skipped \(the first: record 1: no response token within the context of 64" "  skipped, counted"
like "$(cat err)" "1 examples longer than --context 64 \+ 1 tokens cut" "  a long response cut, counted"
echo '{"prompt": "a", "response": ""}' >empty.jsonl
fails 1 "no usable example in 1 records; record 1: an empty response" "no usable example: an error" \
	lm-train --sft empty.jsonl $common -o N
fails 1 "not a regular file" "a pipe: an error (the file is read again at every step)" \
	sh -c "cat empty.jsonl | lm-train --sft /dev/stdin $common -o N"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
bpe-train -q --vocab-size 257 -o plain.json t.jsonl &&
	lm-train --data 's/*.bin' -t plain.json --model model.json --context 64 -b 2 -j 1 --steps 1 -q -o plainbase
fails 1 "the chat template's token '<\|im_start\|>' is not in the tokenizer" "a template token missing: an error" \
	lm-train --sft chat.jsonl --init plainbase --context 64 -o P
lm-train --sft chat.jsonl --init plainbase --chat-tokens --context 64 -j 1 -b 2 --steps 2 -o G 2>err
ok $? "--chat-tokens: the tokens added"
like "$(cat err)" "2 tokens added to the tokenizer \(259 tokens now\)" "  said"
is "$(jq -c '[.vocab_size, .n_embd]' G/step-0000002/config.json)" "[259,16]" "  the vocabulary grown"
is "$(jq -c '[.added_tokens[] | [.id, .content]]' G/step-0000002/tokenizer.json)" \
	'[[256,"<|endoftext|>"],[257,"<|im_start|>"],[258,"<|im_end|>"]]' "  the tokenizer's new tokens"
like "$(jq -r .chat_template G/step-0000002/tokenizer_config.json)" "^\{% for message in messages %\}" \
	"  tokenizer_config.json holds the chat template"
is "$(jq -r .chat_template plainbase/step-0000001/tokenizer_config.json)" null "  (none without the tokens)"
lm-train --sft chat.jsonl --init G --chat-tokens --context 64 -j 1 -b 2 --steps 1 -q -o G2
ok $? "--chat-tokens with the tokens there: nothing added"
# lm-sample --chat: the turns from standard input, one a line, through the template
printf 'Hi\n\nHow are you?\n' | lm-sample -v --chat --system "Be brief." -n 4 --temperature 0 G/step-0000002 >chat.out 2>err
ok $? "lm-sample --chat"
like "$(cat err)" "turn 1: 40 tokens in, [0-9]+ out" "  turn 1: the system message and the user's through the template"
like "$(cat err)" "turn 2: [0-9]+ tokens in" "  the blank line no turn"
is "$(grep -c "turn 3" err)" 0 "  two turns"
t2=$(sed -n 's/.*turn 2: \([0-9]*\) tokens in.*/\1/p' err)
ok "$(( ! (t2 > 40 + 4) ))" "  turn 2 sees the conversation so far ($t2 tokens)"
printf 'Hi\n\nHow are you?\n' | lm-sample --chat --system "Be brief." -n 4 --temperature 0 G/step-0000002 >chat2.out 2>/dev/null
test_cmp chat.out chat2.out "  greedy: the same replies again"
fails 1 "the tokenizer lacks the chat template's token '<\|im_start\|>'" "--chat without the template's tokens" \
	lm-sample --chat plainbase </dev/null
fails 2 "--system needs --chat" "--system without --chat" lm-sample --system x G

fails 2 "--sft needs --init" "--sft without --init" lm-train --sft pairs.jsonl -o X
fails 2 "--sft and --data: choose one" "--sft with --data" lm-train --sft pairs.jsonl --data 's/*.bin' --init base -o X
fails 2 "--epochs needs --sft" "--epochs without --sft" lm-train --data 's/*.bin' --epochs 1 -o X
fails 2 "--sft: --val is for --data" "--sft with --val" lm-train --sft pairs.jsonl --val 's/*.bin' --init base -o X
done_testing
