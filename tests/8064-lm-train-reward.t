#!/bin/sh
# lm-train --reward: a reward model from --init's language model (a score head on the last
# token, saved as transformers' GPT2ForSequenceClassification / LlamaForSequenceClassification),
# Bradley-Terry loss on chosen/rejected pairs: the loss of a step is the mean of
# -log sigmoid(chosen - rejected) over its pairs as lm-eval --pairs scores them; --accum 2 x -b 2
# trains as -b 4 does; a run resumed mid-epoch ends bitwise equal to an uninterrupted one;
# epochs and the held-out split (loss, accuracy, margin); bad input counted by reason;
# lm-eval --pairs and lm-sample --best-of. (The loss's gradient, the last-token score and
# padding are tested in tests/unit/8082-reward.c.)
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o s --val-fraction 0 t.jsonl
ok $? "a byte-level tokenizer with the chat tokens, and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
lm-train --data 's/*.bin' -t chat.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o base
ok $? "a base model"

# the tensors of a safetensors file, sorted, with their shapes
st_shapes() {
	hl=$(od -A n -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +9 "$1" | head -c "$hl" | jq -c 'del(."__metadata__") | to_entries | map([.key, .value.shape]) | sort'
}

# 40 pairs of different lengths: a prompt, a longer chosen and a shorter rejected response
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 12 + i % 17);
	c = substr("the answer is a word of some length, said slowly", 1, 8 + (i * 7) % 30);
	r = substr("no idea, really", 1, 2 + i % 9);
	printf "{\"prompt\": \"%s\\n\", \"chosen\": \"%s\", \"rejected\": \"%s\"}\n", p, c, r } }' >pairs.jsonl
common="--init base --context 64 -j 1 --lr 1e-3 --seed 3"

lm-train --reward pairs.jsonl $common -b 4 --epochs 2 --val-fraction 0.2 --eval-every 5 -o E 2>err
ok $? "a reward model trained on pairs for 2 epochs"
like "$(cat err)" "--reward: 32 pairs for training, 8 held out" "  the split"
is "$(jq -s '[.[] | select(.loss)] | length' E/metrics.jsonl)" 16 "  --epochs: 2 x 32 pairs at 4 a step"
is "$(jq -s '[.[] | select(.val_loss) | .val_pairs == 8 and .val_accuracy >= 0 and .val_accuracy <= 1 and
	(.val_margin | type) == "number"] | length > 1 and all' E/metrics.jsonl)" true \
	"  held-out pairs evaluated: loss, accuracy, margin"
is "$(jq -s '[.[] | select(.loss) | .accuracy >= 0 and .accuracy <= 1 and (.margin | type) == "number"] | all' \
	E/metrics.jsonl)" true "  each step's accuracy and margin in the metrics"
last=E/$(cat E/latest)
is "$(jq -c '[.architectures, .id2label, .pad_token_id]' $last/config.json)" \
	'[["GPT2ForSequenceClassification"],{"0":"LABEL_0"},256]' \
	"  config.json: transformers' sequence classifier of one label, end-of-text the padding"
like "$(st_shapes $last/model.safetensors)" '\["score.weight",\[1,16\]\]' "  the score head saved as score.weight [1, 16]"
is "$(st_shapes $last/model.safetensors | jq 'map(select(.[0] | test("lm_head"))) | length')" 0 "  no token head"
is "$(jq -c '.options | [.reward, .val_fraction, .data]' $last/trainer.json)" '[true,0.2,"pairs.jsonl"]' \
	"  the run's options record --reward"

# the loss of a step: the mean of -log sigmoid(chosen - rejected) over the pairs lm-eval scores
head -n 4 pairs.jsonl >four.jsonl
lm-train --reward four.jsonl $common -b 4 --steps 1 --lr 0 -q -o H
ok $? "a step at learning rate 0 on 4 pairs"
lm-eval H --pairs four.jsonl -o res.json --log-samples log.jsonl >table
ok $? "lm-eval --pairs scores them"
want=$(jq -s '[.[] | (.chosen - .rejected) | if . > 0 then (1 + (-.|exp) | log) else (-. + (1 + exp | log)) end] | add / 4' log.jsonl)
got=$(jq 'select(.loss) | .loss' H/metrics.jsonl)
ok "$(echo "$want $got" | awk '{ d = $1 - $2; print !(d < 2e-6 && d > -2e-6) }')" \
	"  the training loss $got is the Bradley-Terry loss of lm-eval's scores ($want)"
is "$(jq 'select(.loss) | .accuracy' H/metrics.jsonl)" "$(jq -s '[.[] | select(.correct)] | length / 4 | . * 10000 | round / 10000' log.jsonl)" \
	"  the step's accuracy: the pairs chosen scored above rejected"
is "$(jq -c '.results.four | [.pairs, .skipped, (.accuracy * 4 | round)]' res.json)" \
	"[4,0,$(jq -s '[.[] | select(.correct)] | length' log.jsonl)]" "  lm-eval's JSON: pairs and accuracy"
d=$(jq --slurpfile l log.jsonl '.results.four.margin - ([$l[] | .chosen - .rejected] | add / 4)' res.json)
ok "$(echo "$d" | awk '{ print !($1 < 1e-6 && $1 > -1e-6) }')" "  and the mean margin (off by $d)"
like "$(cat table)" "four +accuracy" "  the table too"
is "$(jq -c '[.[] | .record]' -s log.jsonl)" "[1,2,3,4]" "  --log-samples: each pair by its record, in file order"

lm-train --reward four.jsonl $common -b 4 --steps 1 --lr 0 --precision bf16 -q -o HB
got16=$(jq 'select(.loss) | .loss' HB/metrics.jsonl)
ok "$(echo "$got16 $got" | awk '{ d = $1 - $2; print !(d < 1e-2 && d > -1e-2) }')" \
	"--precision bf16: the loss $got16 within 1e-2 of fp32's"

# the loss over the pairs of the whole step
lm-train --reward pairs.jsonl $common -b 4 --steps 1 -q -o B4
lm-train --reward pairs.jsonl $common -b 2 --accum 2 --steps 1 -q -o A2
l1=$(jq 'select(.loss) | .loss' B4/metrics.jsonl) l2=$(jq 'select(.loss) | .loss' A2/metrics.jsonl)
ok "$(echo "$l1 $l2" | awk '{ d = $1 - $2; print !(d < 1e-5 && d > -1e-5) }')" "--accum 2 x -b 2: the loss of -b 4 ($l1, $l2)"
d=$(rel_diff B4/step-0000001/model.safetensors A2/step-0000001/model.safetensors)
ok "$(echo "$d" | awk '{ print !($1 < 1e-4) }')" \
	"  and the same weights after the step (relative difference $d: rows padded to other lengths)"
lm-train --reward pairs.jsonl $common -b 4 --steps 1 --dump-grads g.safetensors -o DG 2>err
like "$(cat err)" "loss [0-9.e+-]+ over 4 pairs, gradient norm" "--dump-grads: the loss over the step's pairs"
like "$(st_shapes g.safetensors)" '\["score.weight",\[1,16\]\]' "  the score head's gradient with the others"

# resume mid-epoch: from step 5 of an uninterrupted run's checkpoints
args="--reward pairs.jsonl $common -b 3 --steps 18 --save-every 5 --keep 10 -q"
lm-train $args -o A
ok $? "an uninterrupted run over more than an epoch"
cp -r A K && rm -r K/step-0000010 K/step-0000015 K/step-0000018 && echo step-0000005 >K/latest
lm-train $(echo "$args" | sed 's/--init base //') -o K --resume
ok $? "resumed at step 5, mid-epoch"
test_cmp A/step-0000018/model.safetensors K/step-0000018/model.safetensors "  weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000018/optimizer.safetensors K/step-0000018/optimizer.safetensors "  optimizer state bitwise equal"

# HH-RLHF transcripts and message lists through the chat template
cat >chat.jsonl <<'EOF'
{"chosen": "\n\nHuman: Where is Paris?\n\nAssistant: In France.", "rejected": "\n\nHuman: Where is Paris?\n\nAssistant: No."}
{"chosen": [{"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "4"}], "rejected": [{"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "5"}]}
{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello."}], "rejected": [{"role": "assistant", "content": "Go."}]}
EOF
lm-train --reward chat.jsonl $common -b 2 --steps 2 -o C 2>err
ok $? "transcripts and message lists"
like "$(cat err)" "3 pairs for training" "  all three used"

# bad input: counted by reason
long=$(awk 'BEGIN { printf "%0200d", 0 }')
{ cat pairs.jsonl; echo '{"prompt": "a", "chosen": "same", "rejected": "same"}'
  echo '{"prompt": "a", "chosen": "", "rejected": "b"}'
  echo '{"chosen": [{"role": "robot", "content": "x"}], "rejected": [{"role": "assistant", "content": "y"}]}'
  echo 'not json'
  echo "{\"prompt\": \"$long\", \"chosen\": \"yes\", \"rejected\": \"no\"}"; } >bad.jsonl
lm-train --reward bad.jsonl $common -b 2 --steps 1 -o D 2>err
ok $? "bad records are skipped"
like "$(cat err)" "4 of 45 records skipped: 1 malformed, 1 identical, 1 an empty response, 1 an unknown role \(the first: record 41: identical chosen and rejected\)" \
	"  counted by reason, the first named"
like "$(cat err)" "1 pairs with a sequence longer than --context 64: its last 64 tokens kept" "  a long pair cut to its end, counted"
echo '{"prompt": "a", "chosen": "b", "rejected": "b"}' >same.jsonl
fails 1 "no usable pair in 1 records; record 1: identical chosen and rejected" "no usable pair: an error" \
	lm-train --reward same.jsonl $common -o N
gzip -c pairs.jsonl >pairs.jsonl.gz
fails 1 "compressed: decompress it first" "a compressed file: an error" lm-train --reward pairs.jsonl.gz $common -o N

# a Llama base: its untied token head dropped for the score head
echo '{"model_type": "llama", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
	"num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64, "tie_word_embeddings": false}' >llama.json
lm-train --data 's/*.bin' -t chat.json --model llama.json --context 64 -b 2 -j 1 --steps 1 -q -o lbase &&
	lm-train --reward pairs.jsonl --init lbase --context 64 -j 1 -b 2 --steps 1 -q -o L
ok $? "a reward model from a Llama base"
is "$(jq -c .architectures L/step-0000001/config.json)" '["LlamaForSequenceClassification"]' "  LlamaForSequenceClassification"
is "$(st_shapes L/step-0000001/model.safetensors | jq -c 'map(select(.[0] | test("lm_head|score|embed")))')" \
	'[["model.embed_tokens.weight",[259,16]],["score.weight",[1,16]]]' "  score.weight, no lm_head"
lm-train --reward pairs.jsonl --init L --context 64 -j 1 -b 2 --steps 1 -q -o L2
ok $? "--init from a reward model: trained on"
cmp -s L/step-0000001/model.safetensors L2/step-0000001/model.safetensors
ok $((! $?)) "  (the weights changed)"

# lm-eval and lm-sample with a reward model
fails 1 "a reward model scores --pairs, not --task" "lm-eval --task with a reward model" lm-eval H --task four.jsonl
fails 1 "'base' is a language model, not a reward model" "lm-eval --pairs with a language model" \
	lm-eval base --pairs four.jsonl
lm-sample base --best-of 3 --reward H -n 8 --seed 2 "Question: " >best 2>err
ok $? "lm-sample --best-of 3 --reward"
is "$(grep -c '^--- sample [1-3], reward ' best)" 3 "  three samples, each with its reward"
is "$(sed -n 's/^--- sample [0-9]*, reward //p' best | sort -g -r | tr '\n' ' ')" \
	"$(sed -n 's/^--- sample [0-9]*, reward //p' best | tr '\n' ' ')" "  the best first"
lm-sample base --best-of 3 --reward H -n 8 --seed 2 --ids "Question: " >ids
is "$(wc -l <ids)" 3 "  --ids: a line a sample"
lm-sample base --samples 3 -n 8 --seed 2 --ids "Question: " >plain
is "$(sort ids)" "$(sort plain)" "  the samples of --samples 3, ranked"
fails 2 "--best-of needs --reward" "--best-of without --reward" lm-sample base --best-of 2 x
fails 2 "--reward needs --best-of" "--reward without --best-of" lm-sample base --reward H x
fails 1 "'base' is not a reward model" "--reward with a language model" lm-sample base --best-of 2 --reward base -n 4 x
fails 1 "is a sequence classifier \(a reward model\): it does not generate" "lm-sample on a reward model" lm-sample H -n 4 x

fails 1 "is a sequence classifier \(a reward model\): it does not generate" "lm-serve with a reward model" \
	lm-serve --port 0 H
echo '{"text": "Question: what is the word number 7"}' |
	quality-score --preset none --assume-lang en --model H >q.jsonl
echo '{"chosen": "Question: what is the word number 7", "rejected": "no"}' >qp.jsonl
lm-eval H --pairs qp.jsonl --log-samples ql.jsonl >/dev/null
a=$(jq .metadata.quality.model.score q.jsonl) b=$(jq .chosen ql.jsonl)
ok "$(echo "$a $b" | awk '{ d = $1 - $2; print !(d < 1e-6 && d > -1e-6) }')" \
	"quality-score --model with a reward model: lm-eval's score of the text ($a, $b)"

fails 2 "--reward needs --init" "--reward without --init" lm-train --reward pairs.jsonl -o X
fails 2 "--reward and --data: choose one" "--reward with --data" lm-train --reward pairs.jsonl --data 's/*.bin' --init base -o X
fails 2 "--reward and --sft: choose one" "--reward with --sft" lm-train --reward pairs.jsonl --sft pairs.jsonl --init base -o X
fails 1 "is a sequence classifier \(a reward model\), not a language model" "--data from a reward model" \
	lm-train --data 's/*.bin' --init H --context 64 -o X
done_testing
