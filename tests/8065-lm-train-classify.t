#!/bin/sh
# lm-train --classify: a classifier on the reward model's head from --init's language model:
# binary cross-entropy on 0/1 labels (the loss of a step is that of the scores lm-train's
# checkpoint gives through quality-score --model), squared error on a numeric field, the
# held-out split, --freeze-body (only the head and the final norm move), resume mid-epoch
# exact, bad records counted by reason; quality-score --model applies it (--model-min-score).
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "t", text: .}' -c >t.jsonl
bpe-train -q --vocab-size 259 --special '<|endoftext|>' -o tok.json t.jsonl &&
	shard-pack -q -t tok.json -o s --val-fraction 0 t.jsonl
ok $? "a byte-level tokenizer and shards"
echo '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}' >model.json
lm-train --data 's/*.bin' -t tok.json --model model.json --context 64 -b 2 -j 1 --steps 3 -q -o base
ok $? "a base model"

# 60 texts: the positives of one kind of words, the negatives of another; a score 0-5 too
awk 'BEGIN { for (i = 0; i < 60; i++) { y = i % 2;
	t = y ? substr("a fine and lovely text about many things", 1, 12 + i % 20) : substr("zzq xxv qqz vvx zzq buy now", 1, 8 + i % 15);
	printf "{\"text\": \"%s %d\", \"label\": %d, \"edu\": %.1f}\n", t, i, y, y * 3 + (i % 5) * 0.5 } }' >lab.jsonl
common="--init base --context 64 -j 1 --seed 3"

lm-train --classify lab.jsonl $common -b 6 --epochs 2 --lr 3e-3 --val-fraction 0.2 --eval-every 4 -o B 2>err
ok $? "a binary classifier for 2 epochs"
like "$(cat err)" "--classify: 48 texts for training, 12 held out \(bce: positives 30\)" "  the split"
is "$(jq -s '[.[] | select(.loss)] | length' B/metrics.jsonl)" 16 "  --epochs: 2 x 48 texts at 6 a step"
is "$(jq -s '[.[] | select(.val_loss) | .val_texts == 12 and .val_accuracy >= 0 and .val_accuracy <= 1] | length > 1 and all' \
	B/metrics.jsonl)" true "  held-out texts evaluated: loss and accuracy"
last=B/$(cat B/latest)
is "$(jq -c '[.architectures, .problem_type, .id2label]' $last/config.json)" \
	'[["GPT2ForSequenceClassification"],"multi_label_classification",{"0":"LABEL_0"}]' \
	"  config.json: a sequence classifier of one label, binary cross-entropy"
is "$(jq -c '.options | [.classify, .objective, .text_field, .label_field]' $last/trainer.json)" \
	'[true,"bce","text","label"]' "  the run's options record --classify"

# the loss of a step against quality-score's scores of the same checkpoint
head -n 6 lab.jsonl >six.jsonl
lm-train --classify six.jsonl $common -b 6 --steps 1 --lr 0 -q -o H
ok $? "a step at learning rate 0 on 6 texts"
quality-score --preset none --assume-lang en --model H six.jsonl >scored.jsonl
ok $? "quality-score --model scores them with the classifier"
want=$(jq -s '[.[] | .metadata.quality.model.score as $p | .label as $y | -($y * ($p | log) + (1 - $y) * (1 - $p | log))] | add / 6' scored.jsonl)
got=$(jq 'select(.loss) | .loss' H/metrics.jsonl)
ok "$(echo "$want $got" | awk '{ d = $1 - $2; print !(d < 2e-5 && d > -2e-5) }')" \
	"  the training loss $got is the binary cross-entropy of quality-score's probabilities ($want)"
is "$(jq -s '[.[] | .metadata.quality.model | .tokens > 0 and .score > 0 and .score < 1] | all' scored.jsonl)" true \
	"  a probability and the tokens for each"

# regression on another field
lm-train --classify lab.jsonl $common -b 6 --steps 4 --lr 3e-3 --objective mse --label-field edu -o R 2>err
ok $? "a regression on the field edu"
is "$(jq -r .problem_type R/step-0000004/config.json)" regression "  problem_type regression"
quality-score --preset none --assume-lang en --model R six.jsonl >r.jsonl
want=$(jq -s '[.[] | (.metadata.quality.model.score - .edu) | . * .] | add / 6' r.jsonl)
lm-train --classify six.jsonl --init R --context 64 -j 1 -b 6 --steps 1 --lr 0 --objective mse --label-field edu -q -o R0
got=$(jq 'select(.loss) | .loss' R0/metrics.jsonl)
ok "$(echo "$want $got" | awk '{ d = ($1 - $2) / $1; print !(d < 1e-5 && d > -1e-5) }')" \
	"  the loss is the squared error of the scores ($got, $want)"

# --freeze-body: the score head and the final norm move, nothing else
lm-train --classify lab.jsonl $common -b 6 --steps 3 --lr 1e-2 --freeze-body -q -o F
ok $? "--freeze-body"
st_floats base/step-0000003/model.safetensors >a
st_floats F/step-0000003/model.safetensors >b
hl=$(od -A n -t u8 -N 8 F/step-0000003/model.safetensors | tr -d ' ')
tail -c +9 F/step-0000003/model.safetensors | head -c "$hl" |
	jq -r 'del(."__metadata__") | to_entries | sort_by(.value.data_offsets[0]) | .[] | "\(.key) \(.value.data_offsets[0] / 4) \(.value.data_offsets[1] / 4)"' >layout
# the base has no score.weight: compare tensor by tensor by name
hb=$(od -A n -t u8 -N 8 base/step-0000003/model.safetensors | tr -d ' ')
tail -c +9 base/step-0000003/model.safetensors | head -c "$hb" |
	jq -r 'del(."__metadata__") | to_entries | .[] | "\(.key) \(.value.data_offsets[0] / 4) \(.value.data_offsets[1] / 4)"' >blayout
changed=$(while read -r name lo hi; do
	blo=$(awk -v n="$name" '$1 == n { print $2 }' blayout)
	if [ -z "$blo" ]; then echo "$name"; continue; fi
	sed -n "$((lo + 1)),${hi}p" b >t1
	sed -n "$((blo + 1)),$((blo + hi - lo))p" a >t2
	cmp -s t1 t2 || echo "$name"
done <layout | sort | tr '\n' ' ')
is "$changed" "score.weight transformer.ln_f.bias transformer.ln_f.weight " "  only the score head and the final norm changed"

# resume mid-epoch
args="--classify lab.jsonl $common -b 5 --steps 14 --lr 3e-3 --save-every 5 --keep 10 -q"
lm-train $args -o A && cp -r A K && rm -r K/step-0000010 K/step-0000014 && echo step-0000005 >K/latest &&
	lm-train $(echo "$args" | sed 's/--init base //') -o K --resume
ok $? "resumed at step 5, mid-epoch"
test_cmp A/step-0000014/model.safetensors K/step-0000014/model.safetensors "  weights bitwise equal to the uninterrupted run"

# bad records
{ cat lab.jsonl; echo 'not json'; echo '{"text": "", "label": 1}'; echo '{"text": "a", "label": 2}'
  echo '{"text": "a", "label": "x"}'; awk 'BEGIN { printf "{\"text\": \"%0200d\", \"label\": 1}\n", 0 }'; } >bad.jsonl
lm-train --classify bad.jsonl $common -b 4 --steps 1 -o D 2>err
ok $? "bad records are skipped"
like "$(cat err)" "4 of 65 records skipped: 1 malformed, 1 no text, 2 a bad label \(the first: record 61: not a JSON object" \
	"  counted by reason, the first named"
like "$(cat err)" "1 texts longer than --context 64: their first 64 tokens kept" "  a long text cut, counted"
echo '{"text": "a", "label": 3}' >none.jsonl
fails 1 "no usable record in 1 records; record 1: \"label\" is not 0 or 1" "no usable record: an error" \
	lm-train --classify none.jsonl $common -o N

# quality-score: --model-min-score
quality-score --preset none --assume-lang en --model B --model-min-score 0.5 --stats st.json --rejects rej.jsonl lab.jsonl >kept.jsonl
ok $? "quality-score --model-min-score"
is "$(($(wc -l <kept.jsonl) + $(wc -l <rej.jsonl)))" 60 "  every record kept or rejected"
is "$(jq -s '[.[] | .metadata.quality.model.score >= 0.5] | all' kept.jsonl)" true "  the kept score 0.5 at least"
is "$(jq -c '[.dropped_by_reason.model_score, .quality.model.below_min_score, .quality.model.classifier]' st.json)" \
	"[$(wc -l <rej.jsonl),$(wc -l <rej.jsonl),true]" "  the others dropped as model_score, counted"
fails 2 "'--model-min-score' wants a classifier" "--model-min-score with a language model" \
	quality-score --model base --model-min-score 1 t.jsonl
fails 2 "want a language model as --model, not a classifier" "--ppl-calibrate with a classifier" \
	quality-score --model B --ppl-calibrate c.json t.jsonl

fails 2 "--objective needs --classify" "--objective without --classify" lm-train --data 's/*.bin' --objective mse -o X
fails 2 "--freeze-body needs --classify or --reward" "--freeze-body alone" lm-train --data 's/*.bin' --freeze-body -o X
fails 2 "--reward and --classify: choose one" "--reward with --classify" \
	lm-train --reward lab.jsonl --classify lab.jsonl --init base -o X
fails 2 "--classify needs --init" "--classify without --init" lm-train --classify lab.jsonl -o X
done_testing
