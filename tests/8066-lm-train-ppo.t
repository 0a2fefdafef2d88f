#!/bin/sh
# lm-train --ppo: RLHF with PPO from --init's policy against --reward's reward model: rollouts,
# TRL's metric names each step, the held-out prompts' score and KL at the start, every
# --eval-every steps and the end, best-of-N as the baseline; the first rollout's KL 0 (the
# policy is its reference) and ratio 1 (the rollout's log-probabilities are the policy's);
# the KL coefficient fixed or adaptive; runs reproducible; the value model's checkpoints
# beside the policy's, usable as --value; --dump-grads; bad input (long prompts, another
# tokenizer, a language model as the reward model, records skipped, no prompt). The
# arithmetic and the prompt forms by hand: tests/unit/8083-ppo.c.
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o s --val-fraction 0 t.jsonl
ok $? "a byte-level tokenizer with the chat tokens, and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
lm-train --data 's/*.bin' -t chat.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o base
ok $? "a base model"
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 8 + i % 13);
	r = substr("the answer is a word", 1, 3 + (i * 7) % 17);
	printf "{\"prompt\": \"%s\\n\", \"chosen\": \"%s\", \"rejected\": \"no, %s\"}\n", p, r, substr(r, 3) } }' >pairs.jsonl
cat >chat.jsonl <<'EOF2'
{"prompt": [{"role": "user", "content": "2 + 2?"}]}
{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
{"chosen": "\n\nHuman: Where is Paris?\n\nAssistant: In France.", "rejected": "\n\nHuman: Where is Paris?\n\nAssistant: No."}
{"prompt": "Say something:"}
EOF2
lm-train --reward pairs.jsonl --init base --context 64 -j 1 -b 4 --steps 5 -q -o rm
ok $? "a reward model"
common="--init base --reward rm --context 64 -j 1 --max-new 12 --seed 5"

lm-train --ppo pairs.jsonl $common -b 4 --mini-batch 2 --steps 6 --val-fraction 0.2 --eval-every 3 \
	--eval-best-of 4 --lr 1e-3 -o P 2>err
ok $? "PPO for 6 steps"
like "$(cat err)" "32 prompts for training, 8 held out" "  the split"
like "$(cat err)" "the policy [0-9.]+ MiB \(with gradients and AdamW's moments\), the reference [0-9.]+ MiB, the reward model [0-9.]+ MiB, the value model" \
	"  what each model costs"
is "$(jq -s '[.[] | select(has("objective/kl"))] | length' P/metrics.jsonl)" 6 "  a line a step"
is "$(jq -s -c '[.[] | select(has("objective/kl"))][0] | [has("objective/scores"), has("objective/kl_coef"),
	has("objective/entropy"), has("objective/non_score_reward"), has("objective/rlhf_reward"),
	has("policy/entropy"), has("policy/approxkl"), has("policy/clipfrac"), has("val/error"), has("val/clipfrac"),
	has("loss/policy"), has("loss/value"), has("returns/mean"), .episode == 4, ."policy/entropy" > 0]' P/metrics.jsonl)" \
	"[true,true,true,true,true,true,true,true,true,true,true,true,true,true,true]" "  TRL's names"
is "$(jq -s -c '[.[] | select(has("eval_objective/scores")) | .step]' P/metrics.jsonl)" "[0,3,6]" \
	"  the held-out prompts scored at the start, at step 3 and at the end"
is "$(jq -s -c '[.[] | select(has("eval_objective/scores"))][0] | [."eval_objective/scores_se" > 0, ."eval_objective/kl_se", .eval_prompts]' P/metrics.jsonl)" \
	"[true,0,8]" "  with standard errors over the prompts (the KL's 0 at the start)"
is "$(jq -s -c '[.[] | select(has("eval_best_of"))][0] | [.step, .eval_best_of, .["eval_best_of/scores"] >= .["eval_best_of/sample_scores"],
	(.["eval_best_of/kl"] * 1e4 | round)]' P/metrics.jsonl)" "[0,4,true,6363]" \
	"  best-of-4 at the start: the best at least the mean, its KL log 4 - 3/4"
is "$(jq -c 'select(.step == 1) | ."objective/kl"' P/metrics.jsonl)" "0" \
	"  the first rollouts' KL 0: the policy is its reference"
is "$(jq -c '.options | [.data, .ppo.reward, .ppo.max_new, .ppo.mini_batch, .ppo.epochs]' P/$(cat P/latest)/trainer.json)" \
	'["pairs.jsonl","rm",12,2,4]' "  the run's options record --ppo"
test -e P/value/latest && test -e "P/value/$(cat P/value/latest)/model.safetensors"
ok $? "  the value model's checkpoint in P/value"
is "$(lm-sample -n 5 -j 1 --no-stop --ids P 'Question' | awk '{ for (i = 1; i <= NF; i++) ok += $i < 259 } END { print NF, ok }')" "5 5" \
	"  the policy samples with lm-sample (5 ids of its vocabulary)"

# the ratio at the first optimisation step is 1; the same run again gives the same numbers
lm-train --ppo pairs.jsonl $common -b 4 --steps 2 --ppo-epochs 1 -q -o R1
lm-train --ppo pairs.jsonl $common -b 4 --steps 2 --ppo-epochs 1 -q -o R2
r=$(jq 'select(.step == 1) | ."val/ratio"' R1/metrics.jsonl)
ok "$(echo "$r" | awk '{ print !($1 > 0.99999 && $1 < 1.00001) }')" "one epoch, one minibatch: the ratio is 1 ($r)"
is "$(jq 'select(.step == 1) | ."policy/clipfrac"' R1/metrics.jsonl)" "0" "  nothing clipped"
is "$(jq -c 'del(.step_s)' R1/metrics.jsonl)" "$(jq -c 'del(.step_s)' R2/metrics.jsonl)" "a second run: the same numbers"
test_cmp R1/step-0000002/model.safetensors R2/step-0000002/model.safetensors "  and the same weights"

# the KL coefficient: fixed, or adaptive toward --kl-target
is "$(jq -s -c '[.[] | select(has("objective/kl_coef")) | ."objective/kl_coef"] | unique' R1/metrics.jsonl)" "[0.05]" \
	"a fixed KL coefficient"
lm-train --ppo pairs.jsonl $common -b 4 --steps 4 --lr 3e-3 --kl-coef 0.2 --kl-target 0.001 --kl-horizon 40 -q -o K
is "$(jq -s -c '[.[] | select(has("objective/kl_coef")) | ."objective/kl_coef"] | .[0] == 0.2 and (unique | length) > 1' K/metrics.jsonl)" \
	"true" "--kl-target: the coefficient adapts"

# resumed mid-run (an adaptive KL coefficient): bitwise the uninterrupted run
args="--ppo pairs.jsonl --reward rm --context 64 -j 1 --max-new 12 -b 4 --mini-batch 2 --steps 6 --save-every 2 --keep 10
	--kl-target 0.01 --kl-horizon 50 --lr 1e-3 --seed 3"
lm-train $args --init base -q -o RA
ok $? "an uninterrupted run of 6 steps"
cp -r RA RK && rm -r RK/step-0000004 RK/step-0000006 RK/value/step-0000004 RK/value/step-0000006 &&
	echo step-0000002 >RK/latest && echo step-0000002 >RK/value/latest
lm-train $args -o RK --resume 2>err
ok $? "resumed at step 2 (the reference read from the run's options)"
like "$(cat err)" "resuming from RK/step-0000002" "  from its checkpoint"
test_cmp RA/step-0000006/model.safetensors RK/step-0000006/model.safetensors "  the policy bitwise equal"
test_cmp RA/value/step-0000006/model.safetensors RK/value/step-0000006/model.safetensors "  the value model bitwise equal"
test_cmp RA/value/step-0000006/optimizer.safetensors RK/value/step-0000006/optimizer.safetensors "  its AdamW state too"
is "$(jq -c 'del(.step_s)' RK/metrics.jsonl)" "$(jq -c 'del(.step_s)' RA/metrics.jsonl)" "  the same metrics, the KL coefficient's included"
# stopped between the value model's checkpoint and the policy's (saved in that order): the
# value model's of the policy's step is resumed, whatever its latest says
cp -r RA RS && rm -r RS/step-0000006 && echo step-0000004 >RS/latest
lm-train $args -o RS --resume -q
ok $? "resumed where the value model's latest is a step ahead of the policy's"
test_cmp RA/value/step-0000006/model.safetensors RS/value/step-0000006/model.safetensors "  the value model bitwise equal"
test_cmp RA/step-0000006/model.safetensors RS/step-0000006/model.safetensors "  the policy too"
rm -r RK/value/step-0000006
fails 1 "cannot open 'RK/value/step-0000006'" "  a value model without the policy's step: refused" \
	lm-train $args -o RK --resume --steps 8 -q

# the value model of a run starts another
lm-train --ppo pairs.jsonl --init P --value P/value --reward rm --context 64 -j 1 --max-new 12 -b 4 --steps 1 -q -o V &&
	lm-train --ppo pairs.jsonl --init P --reward rm --context 64 -j 1 --max-new 12 -b 4 --steps 1 -q -o V0
ok $? "a run from a PPO run's policy and value model, and one from its policy alone"
is "$(jq -s -c '[.[] | select(has("val/vpred"))][0]."val/vpred"' V/metrics.jsonl | grep -c "^$(jq -s -c '[.[] | select(has("val/vpred"))][0]."val/vpred"' V0/metrics.jsonl)\$")" 0 \
	"  --value's model scores the rollouts, not the reward model"

# chat prompts through the template (their responses end with <|im_end|>); a string as it is
lm-train --ppo chat.jsonl --init base --reward rm --context 64 -j 1 --max-new 12 -b 4 --steps 2 -o C 2>err
ok $? "chat messages, transcripts and strings as prompts"
like "$(cat err)" "4 prompts for training" "  all four used"
lm-train --ppo chat.jsonl --init base --reward rm --context 64 -j 1 --max-new 12 -b 4 --steps 1 --dump-grads CD -q -o C1
# (<|im_start|> is id 257 of chat.json, "assistant\n" its bytes)
is "$(jq -s -c '([257, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10]) as $gen |
	[([.[] | select(.chat)] | length), ([.[] | select(.chat) | .prompt_ids[-11:] == $gen] | all),
	 ([.[] | select(.chat | not) | .prompt_ids[-11:] != $gen] | all)]' CD/rollouts.jsonl)" "[3,true,true]" \
	"  the messages and the transcript as chats ending in the template's generation prompt, the string as it is"

# --dump-grads: the rollouts, the weights before the last minibatch and its gradients
lm-train --ppo pairs.jsonl $common -b 4 --mini-batch 2 --steps 1 --dump-grads D -o DG 2>err
ok $? "--dump-grads"
for f in rollouts.jsonl policy.safetensors value.safetensors policy-grads.safetensors value-grads.safetensors minibatch.json; do
	test -s D/$f || echo "missing D/$f"
done >missing
is "$(cat missing)" "" "  its six files"
is "$(jq -s -c '[length, (.[0] | has("prompt_ids"), has("response_ids"), has("lp"), has("adv"), has("ret"), has("score"))]' D/rollouts.jsonl)" \
	"[4,true,true,true,true,true,true]" "  the four rollouts"
is "$(jq -c '[(.rows | length), .epoch, .tokens > 0]' D/minibatch.json)" "[2,3,true]" "  the last minibatch of the fourth epoch"
test ! -e DG/latest
ok $? "  no checkpoint"

# bad input
awk 'BEGIN { printf "{\"prompt\": \"%0100d\"}\n", 0 }' >long.jsonl
cat pairs.jsonl >>long.jsonl
lm-train --ppo long.jsonl $common -b 4 --steps 1 -o LG 2>err
ok $? "a prompt longer than the context"
like "$(cat err)" "1 prompts longer than --context 64 - --max-new 12: their last 52 ids kept" "  cut to its end, counted"
{ cat pairs.jsonl; echo 'not json'; echo '{"prompt": ""}'; echo '{"response": "x"}'; } >bad.jsonl
lm-train --ppo bad.jsonl $common -b 4 --steps 1 -o B 2>err
ok $? "bad records are skipped"
like "$(cat err)" "3 of 43 records skipped \(the first: record 41: not a JSON object" "  counted, the first named"
fails 1 "no usable prompt in 1 records; record 1: an empty prompt" "no usable prompt: an error" \
	sh -c "echo '{\"prompt\": \"\"}' >empty.jsonl && lm-train --ppo empty.jsonl $common -o N"
bpe-train -q --vocab-size 300 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o other.json t.jsonl &&
	shard-pack -q -t other.json -o os --val-fraction 0 t.jsonl &&
	lm-train --data 'os/*.bin' -t other.json --model model.json --context 64 -b 2 -j 1 --steps 1 -q -o obase &&
	lm-train --reward pairs.jsonl --init obase --context 64 -j 1 -b 4 --steps 1 -q -o orm
ok $? "a reward model with another tokenizer"
fails 1 "--reward: its tokenizer '.*' is not the policy's" "  refused: its ids mean other text" \
	lm-train --ppo pairs.jsonl --init base --reward orm --max-new 12 -q -o X1
fails 1 "--reward: 'base' is a language model, not a reward model" "a language model as the reward model" \
	lm-train --ppo pairs.jsonl --init base --reward base --max-new 12 -q -o X2
awk 'BEGIN { for (i = 0; i < 12; i++) printf "{\"text\": \"a text number %d\", \"label\": %d}\n", i, i % 2 }' >lab.jsonl
lm-train --classify lab.jsonl --init base --context 64 -j 1 -b 4 --steps 1 -q -o cls
ok $? "a classifier"
fails 1 "--reward: 'cls' is a classifier, not a reward model" "a classifier as the reward model: refused before it loads" \
	lm-train --ppo pairs.jsonl --init base --reward cls --max-new 12 -q -o X11
fails 1 "the checkpoint is a sequence classifier \(a reward model\), not a language model" "a reward model as the policy" \
	lm-train --ppo pairs.jsonl --init rm --reward rm --max-new 12 -o X3
fails 2 "--ppo needs --reward RM" "--ppo without --reward" lm-train --ppo pairs.jsonl --init base -o X4
fails 2 "--ppo needs --init" "--ppo without --init" lm-train --ppo pairs.jsonl --reward rm -o X5
fails 2 "--context 64 leaves no room for a prompt before --max-new 64" "--max-new filling the context" \
	lm-train --ppo pairs.jsonl --init base --reward rm --context 64 --max-new 64 -o X6
fails 2 "--ppo --resume: the value model is the run's" "--resume with --value" \
	lm-train --ppo pairs.jsonl --reward rm --value rm --resume -o P
fails 2 "--accum is not for --ppo" "--accum with --ppo" lm-train --ppo pairs.jsonl --init base --reward rm --accum 2 -o X9
fails 2 "--value needs --ppo" "--value without --ppo" lm-train --dpo pairs.jsonl --init base --value rm -o X7
fails 2 "--ppo and --dpo: choose one" "--ppo with --dpo" lm-train --ppo pairs.jsonl --dpo pairs.jsonl --init base --reward rm -o X8
# a reward model larger than the policy: each side model is checked against the memory left
# before it loads (here the value model, a training model of the reward model's size, does not fit)
echo '{"model_type": "gpt2", "n_embd": 384, "n_layer": 4, "n_head": 4, "n_positions": 64}' >big.json
lm-train --data 's/*.bin' -t chat.json --model big.json --context 64 -b 2 -j 1 --steps 1 -q -o bigbase &&
	lm-train --reward pairs.jsonl --init bigbase --context 64 -j 1 -b 2 --steps 1 -q -o bigrm
ok $? "a reward model of 7 million parameters"
fails 1 "--reward \(the value model\): its weights, gradients and AdamW state need about 0.11 GiB of memory, more than the 80.0 MiB available \(CRAWL2LM_MEMORY\)" \
	"a side model that does not fit the memory left: refused before it loads" \
	env CRAWL2LM_MEMORY=80M lm-train --ppo pairs.jsonl $common -b 4 --steps 1 --reward bigrm -q -o X10
ok "$(test ! -e X10/latest && echo 0 || echo 1)" "  and no checkpoint written"
done_testing
