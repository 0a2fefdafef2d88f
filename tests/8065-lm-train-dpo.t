#!/bin/sh
# lm-train --dpo: direct preference optimisation from --init's model and tokenizer on
# prompt/chosen/rejected pairs, chat messages and HH-RLHF transcripts; the first step's loss
# where the policy is the reference (sigmoid log 2, IPO 1 / (2 beta)^2, hinge 1); TRL's
# metrics in metrics.jsonl, held-out ones with --val-fraction; the reference log-probabilities
# computed once, kept in the run directory and reused (on resume with the reference gone, by a
# second run with --ref-logps); a run resumed mid-epoch ends bitwise equal to an uninterrupted
# one; the loss is the mean over the pairs of the whole step (--accum 2 x -b 2 as -b 4); bad
# input counted; options. (Masks, packing and the losses by hand: tests/unit/8082-dpo.c.)
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 259 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' \
	-o chat.json t.jsonl && shard-pack -q -t chat.json -o s --val-fraction 0 t.jsonl
ok $? "a byte-level tokenizer with the chat tokens, and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
lm-train --data 's/*.bin' -t chat.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o base
ok $? "a base model"

# 40 pairs: a right answer and a wrong one
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 8 + i % 13);
	r = substr("the answer is a word", 1, 3 + (i * 7) % 17);
	printf "{\"prompt\": \"%s\\n\", \"chosen\": \"%s\", \"rejected\": \"no, %s\"}\n", p, r, substr(r, 3) } }' >pairs.jsonl
cat >chat.jsonl <<'EOF'
{"chosen": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}], "rejected": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away."}]}
{"prompt": [{"role": "user", "content": "2 + 2?"}], "chosen": [{"role": "assistant", "content": "4"}], "rejected": [{"role": "assistant", "content": "5"}]}
{"chosen": "\n\nHuman: Where is Paris?\n\nAssistant: In France.", "rejected": "\n\nHuman: Where is Paris?\n\nAssistant: No."}
{"chosen": "\n\nHuman: Name a colour.\n\nAssistant: Blue.", "rejected": "\n\nHuman: Name a colour.\n\nAssistant: Seven."}
EOF
common="--init base --context 64 -j 1 --lr 1e-3 --seed 3"

lm-train --dpo pairs.jsonl $common -b 2 --epochs 2 --val-fraction 0.2 --eval-every 5 -o E 2>err
ok $? "DPO on pairs for 2 epochs"
like "$(cat err)" "32 pairs for training in [0-9]+ rows of 64, 8 held out" "  the split and the packing"
like "$(cat err)" "the reference log-probabilities of 40 pairs computed and written to E/ref-logps.bin" \
	"  the reference's log-probabilities computed once, into the run directory"
rows=$(sed -n 's/.*training in \([0-9]*\) rows.*/\1/p' err)
is "$(jq -s '[.[] | select(.loss)] | length' E/metrics.jsonl)" "$(((2 * rows + 1) / 2))" "  --epochs: 2 x $rows rows at 2 a step"
is "$(jq -s -c '[.[] | select(.loss)][0] | [has("rewards/chosen"), has("rewards/rejected"), has("rewards/margins"),
	has("rewards/accuracies"), has("logps/chosen"), has("logps/rejected"), .pairs > 0]' E/metrics.jsonl)" \
	"[true,true,true,true,true,true,true]" "  TRL's metrics each step"
is "$(jq -s -c '[.[] | select(.eval_loss)] | [length > 1, (.[-1] | has("eval_rewards/accuracies"),
	has("eval_rewards/margins"), has("eval_logps/chosen"), .eval_pairs == 8)]' E/metrics.jsonl)" \
	"[true,true,true,true,true]" "  held-out pairs evaluated with TRL's eval_ names"
is "$(jq -c '.options | [.data, .dpo.loss, .dpo.beta]' E/$(cat E/latest)/trainer.json)" '["pairs.jsonl","sigmoid",0.1]' \
	"  the run's options record --dpo"

# the first step where the policy is its reference: z = 0
for l in "sigmoid 0.1 0.693147" "ipo 0.25 4" "hinge 0.5 1"; do
	set -- $l
	lm-train --dpo pairs.jsonl $common -b 2 --steps 1 --dpo-loss $1 --beta $2 -q -o L$1
	is "$(jq -r 'select(.loss) | .loss' L$1/metrics.jsonl)" "$3" "--dpo-loss $1 --beta $2: the first step's loss $3"
done
is "$(jq -c 'select(.loss) | [."rewards/chosen", ."rewards/margins", ."rewards/accuracies"]' Lsigmoid/metrics.jsonl)" \
	"[0,0,0]" "  every reward 0, none above another"

# the loss over the pairs of the whole step
lm-train --dpo pairs.jsonl $common -b 4 --steps 1 -q -o B4
lm-train --dpo pairs.jsonl $common -b 2 --accum 2 --steps 1 -q -o A2
l1=$(jq 'select(.loss) | .loss' B4/metrics.jsonl) l2=$(jq 'select(.loss) | .loss' A2/metrics.jsonl)
ok "$(echo "$l1 $l2" | awk '{ d = $1 - $2; print !(d < 1e-6 && d > -1e-6) }')" "--accum 2 x -b 2: the loss of -b 4 ($l1, $l2)"
d=$(rel_diff B4/step-0000001/model.safetensors A2/step-0000001/model.safetensors)
ok "$(echo "$d" | awk '{ print !($1 < 1e-5) }')" "  and the same weights after the step (relative difference $d)"

# the reference another model; resume mid-epoch with the reference gone
cp -r base refm
args="--dpo pairs.jsonl --context 64 -j 1 --lr 1e-3 --seed 3 -b 2 --steps 24 --save-every 5 --keep 10 --dpo-loss ipo"
lm-train $args --init base --ref refm -q -o A
ok $? "an uninterrupted run over more than an epoch, --ref another directory"
cp -r A K && rm -r K/step-0000010 K/step-0000015 K/step-0000020 K/step-0000024 && echo step-0000005 >K/latest
rm -r refm
lm-train $args --ref refm -o K --resume 2>err
ok $? "resumed at step 5, mid-epoch, the reference model removed"
like "$(cat err)" "the reference log-probabilities of 40 pairs read from K/ref-logps.bin" "  its log-probabilities read, not computed"
test_cmp A/step-0000024/model.safetensors K/step-0000024/model.safetensors "  weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000024/optimizer.safetensors K/step-0000024/optimizer.safetensors "  optimizer state bitwise equal"
cmp -s A/ref-logps.bin K/ref-logps.bin
ok $? "  the file unchanged"

# a second run: the same pairs and reference reuse the file; other pairs do not
lm-train --dpo pairs.jsonl $common -b 2 --steps 1 --ref-logps E/ref-logps.bin -o R2 2>err
like "$(cat err)" "of 40 pairs read from E/ref-logps.bin" "a second run with the same pairs and reference: read"
test ! -e R2/ref-logps.bin
ok $? "  nothing written to its run directory"
head -30 pairs.jsonl >p30.jsonl
cp E/ref-logps.bin other.bin
lm-train --dpo p30.jsonl $common -b 2 --steps 1 --ref-logps other.bin -o R3 2>err
like "$(cat err)" "of 30 pairs computed and written to other.bin" "  other pairs: computed again"
cp E/ref-logps.bin bad.bin && printf 'x' | dd of=bad.bin bs=1 seek=60 conv=notrunc 2>/dev/null
lm-train --dpo pairs.jsonl $common -b 2 --steps 1 --ref-logps bad.bin -o R4 2>err
like "$(cat err)" "damaged \(its checksum does not match\)" "  a damaged file: said"
like "$(cat err)" "computed and written to bad.bin" "  and computed again"

# chat messages and HH-RLHF transcripts through the template (a model of 160 positions)
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 160}' >model160.json
lm-train --data 's/*.bin' -t chat.json --model model160.json --context 64 -b 2 -j 1 --steps 1 -q -o base160
lm-train --dpo chat.jsonl --init base160 --context 160 -j 1 -b 2 --steps 2 -o C 2>err
ok $? "DPO on chat messages and transcripts"
like "$(cat err)" "4 pairs for training" "  all four records used"

# bad input
{ cat pairs.jsonl
  echo '{"prompt": "a", "chosen": "same", "rejected": "same"}'
  echo '{"prompt": "a", "chosen": "", "rejected": "b"}'
  echo '{"chosen": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}], "rejected": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "z"}]}'
  echo 'not json'; } >bad.jsonl
lm-train --dpo bad.jsonl $common -b 2 --steps 1 -o D 2>err
ok $? "bad records are skipped"
like "$(cat err)" "4 of 44 records skipped \(the first: record 41: chosen and rejected are the same\)" "  counted, the first named"
awk 'BEGIN { printf "{\"prompt\": \"%0200d\", \"chosen\": \"x\", \"rejected\": \"y\"}\n{\"prompt\": \"a\", \"chosen\": \"%0200d\", \"rejected\": \"y\"}\n", 0, 0 }' >long.jsonl
lm-train --dpo long.jsonl $common -b 1 --steps 1 -o LG 2>err
ok $? "a prompt longer than the context"
like "$(cat err)" "1 of 2 records skipped \(the first: record 1: no response token within the context of 64" "  skipped, counted"
like "$(cat err)" "1 pairs longer than --context 64 positions cut" "  a long pair cut, counted"
fails 1 "no usable pair in 1 records; record 1: an empty response" "no usable pair: an error" \
	sh -c "echo '{\"prompt\": \"a\", \"chosen\": \"\", \"rejected\": \"b\"}' >empty.jsonl && lm-train --dpo empty.jsonl $common -o N"
bpe-train -q --vocab-size 257 -o plain.json t.jsonl &&
	lm-train --data 's/*.bin' -t plain.json --model model.json --context 64 -b 2 -j 1 --steps 1 -q -o plainbase
fails 1 "the chat template's token '<\|im_start\|>' is not in the tokenizer" "a template token missing: an error" \
	lm-train --dpo chat.jsonl --init plainbase --context 64 -o P

lm-train --reward pairs.jsonl --init base --context 64 -j 1 -b 2 --steps 1 -q -o rmref
fails 1 "--ref: 'rmref' is a sequence classifier \(a reward model\), not a language model" \
	"a reward model as the reference: refused" lm-train --dpo pairs.jsonl $common --ref rmref -q -o RR
fails 2 "--dpo needs --init" "--dpo without --init" lm-train --dpo pairs.jsonl -o X
fails 2 "--sft and --dpo: choose one" "--sft with --dpo" lm-train --sft pairs.jsonl --dpo pairs.jsonl --init base -o X
fails 2 "--dpo and --data: choose one" "--dpo with --data" lm-train --dpo pairs.jsonl --data 's/*.bin' --init base -o X
fails 2 "--ref needs --dpo or --ppo" "--ref without --dpo or --ppo" lm-train --data 's/*.bin' --ref base -o X
fails 2 "--label-smoothing is for --dpo-loss sigmoid" "--label-smoothing with ipo" \
	lm-train --dpo pairs.jsonl --init base --dpo-loss ipo --label-smoothing 0.1 -o X
fails 2 "wants sigmoid, ipo or hinge" "--dpo-loss of another name" lm-train --dpo pairs.jsonl --init base --dpo-loss kto -o X
done_testing
