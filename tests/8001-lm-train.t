#!/bin/sh
# lm-train and lm-sample on the CPU: a byte-level model learns, metrics and checkpoints are
# complete, a run killed with SIGKILL (or stopped with SIGTERM) and resumed ends bitwise equal
# to an uninterrupted one, schedules, streams, Hugging Face --init, and bad input: truncated or
# damaged shards and checkpoints, vocabulary mismatches, options that differ on resume, NaN.
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 120000 | jq -R -s '{id: "train", text: .}' -c >train.jsonl
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | tail -c 20000 | jq -R -s '{id: "val", text: .}' -c >val.jsonl
bpe-train -q --vocab-size 257 -o bytes.json train.jsonl
shard-pack -q -t bytes.json -o s --val-fraction 0 train.jsonl &&
	shard-pack -q -t bytes.json -o v --val-fraction 0 val.jsonl
ok $? "byte-level tokenizer and shards"
cat >model.json <<'EOF'
{"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64}
EOF
cat >llama.json <<'EOF'
{"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
 "tie_word_embeddings": false}
EOF
common="--data s/shard_train_*.bin -t bytes.json --model model.json --context 32 -b 4 -j 2"

# learning, metrics, checkpoint contents
lm-train $common --val 'v/*.bin' --steps 60 --lr 3e-3 --warmup 5 --eval-every 30 -o run 2>err
ok $? "trains 60 steps"
is "$(jq -c 'select(.loss) | .step' run/metrics.jsonl | wc -l)" 60 "one metrics line a step"
first=$(jq 'select(.step == 1 and .loss) | .loss' run/metrics.jsonl)
last=$(jq 'select(.step == 60 and .loss) | .loss' run/metrics.jsonl)
ok "$(echo "$first $last" | awk '{print !($2 < $1 - 1.0)}')" "the loss falls by over a nat ($first -> $last)"
is "$(jq -r 'select(.loss) | [has("lr"), has("grad_norm"), has("tokens_per_s"), has("mfu")] | all' run/metrics.jsonl | sort -u)" true \
	"metrics hold lr, grad_norm, tokens/s, MFU"
is "$(jq -c 'select(.val_loss) | .step' run/metrics.jsonl | tr '\n' ' ')" "30 60 " "evaluated at step 30 and at the end"
ok "$(jq 'select(.val_bpb and .step == 60) | ((.val_bpb - .val_loss / (2 | log)) | fabs) < 1e-4 | not' run/metrics.jsonl | grep -c true)" \
	"bits per byte of a byte-level model is the loss in bits"
is "$(cat run/latest)" step-0000060 "latest names the final checkpoint"
is "$(ls run/step-0000060 | tr '\n' ' ')" "config.json model.safetensors optimizer.safetensors tokenizer.json tokenizer_config.json trainer.json " \
	"a checkpoint: weights, config, tokenizer, optimizer and trainer state"
is "$(jq -c '[.tokenizer_class, .eos_token, .model_max_length]' run/step-0000060/tokenizer_config.json)" \
	'["PreTrainedTokenizerFast","<|endoftext|>",'"$(jq .n_positions run/step-0000060/config.json)"']' \
	"  tokenizer_config.json: transformers reads tokenizer.json as it is"
is "$(jq -r '.model_type, .n_layer, .vocab_size, .tie_word_embeddings' run/step-0000060/config.json | tr '\n' ' ')" "gpt2 2 257 true " \
	"config.json for transformers"
is "$(jq .step run/step-0000060/trainer.json)" 60 "trainer.json holds the step"
like "$(head -c 4000 run/step-0000060/model.safetensors)" '"transformer.h.1.attn.c_attn.weight":\{"dtype":"F32","shape":\[32,96\]' \
	"weights under Hugging Face names, Conv1D layout"
ls -d run/*.tmp 2>/dev/null
ok $((! $?)) "no temporary checkpoint is left"

# exact resume after SIGKILL at a random moment
args="$common --steps 600 --lr 2e-3 --warmup 3 --save-every 1 --keep 2 -q"
lm-train $args -o A
ok $? "uninterrupted run"
lm-train $args -o K &
pid=$!
i=0
while [ ! -f K/latest ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep "0.$(awk 'BEGIN { srand(); printf "%d", rand() * 5 }')"
kill -9 $pid
wait $pid 2>/dev/null	# (the shell would say "Killed")
is $? 137 "killed mid-run"
killed_at=$(cat K/latest)
lm-train $args -o K --resume 2>err
ok $? "resumed after SIGKILL at $killed_at"
is "$(ls K | grep -c '^step-[0-9]*$')" 2 "--keep 2 keeps two checkpoints"
is "$(ls K | grep -c '^step-.*[.]')" 0 "what the killed checkpoint left is removed"
test_cmp A/step-0000600/model.safetensors K/step-0000600/model.safetensors "weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000600/optimizer.safetensors K/step-0000600/optimizer.safetensors "optimizer state bitwise equal"
is "$(jq -c 'select(.loss) | [.step, .loss]' K/metrics.jsonl | md5sum)" "$(jq -c 'select(.loss) | [.step, .loss]' A/metrics.jsonl | md5sum)" \
	"the metrics of the resumed run are the same"

# until the run in DIR has logged step 2 (30 s at most)
until_step2() {
	i=0
	while ! jq -e 'select(.step >= 2)' "$1"/metrics.jsonl >/dev/null 2>&1 && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# SIGTERM: checkpoint, exit 75, resume
lm-train $common --steps 600 --lr 2e-3 --warmup 3 --save-every 1000 -o T 2>err &
pid=$!
until_step2 T
kill -TERM $pid
wait $pid
is $? 75 "SIGTERM: exit status 75"
like "$(cat err)" "checkpoint written at step [0-9]+; continue with --resume" "SIGTERM: says where it stopped"
lm-train $common --steps 600 --lr 2e-3 --warmup 3 --save-every 1000 -o T --resume -q
ok $? "resumed after SIGTERM"
test_cmp A/step-0000600/model.safetensors T/step-0000600/model.safetensors "weights bitwise equal after SIGTERM and resume"

lm-train $common --steps 300 --save-every 1000 -o U 2>err &
pid=$!
until_step2 U
kill -USR1 $pid
wait $pid
is $? 75 "SIGUSR1 too: a checkpoint, exit status 75"
is "$(jq .step U/$(cat U/latest)/trainer.json)" "$(cat U/latest | sed 's/step-0*//')" "and latest names it"

# resume refuses what does not fit
lm-train $common --steps 600 --lr 1e-3 --warmup 3 --save-every 1 -o A --resume 2>err
is $? 1 "resume with another learning rate fails"
like "$(cat err)" "option 'lr' is 0.001 here but 0.002" "and names the option"
lm-train $common --steps 300 -o A 2>err
like "$(cat err)" "already holds a run: use --resume" "an existing run is not overwritten"
cp -r A D
printf 'X' | dd of=D/step-0000600/model.safetensors bs=1 seek=30000 conv=notrunc 2>/dev/null
lm-train $args --steps 800 -o D --resume 2>err
like "$(cat err)" "'D/step-0000600/model.safetensors' does not match its checksum" "damaged weights are caught by the checksum"
head -c 20000 A/step-0000600/model.safetensors >D/step-0000600/model.safetensors
lm-train $args --steps 800 -o D --resume 2>err
like "$(cat err)" "model.safetensors' is 20000 bytes, its checkpoint's trainer.json says [0-9]+ \(truncated" "a truncated checkpoint is an error"
lm-train $args -o E --resume 2>err
like "$(cat err)" "has no checkpoint" "--resume of an empty run directory"

# bad shards, vocabulary mismatch
head -c 50000 s/shard_train_000000.bin >short.bin
lm-train --data short.bin -t bytes.json --model model.json --context 32 -o bad 2>err
is $? 1 "a truncated shard is an error"
like "$(cat err)" "short.bin" "naming the shard"
lm-train --data 'nothing*.bin' -t bytes.json --model model.json -o bad2 2>err
like "$(cat err)" "no shard matches 'nothing\*.bin'" "a glob matching nothing"
lm-train --data 's/*.bin' --init "$DATA/lm/gpt2" --context 8 -o bad3 2>err
like "$(cat err)" "token id [0-9]+, outside the model's vocabulary of 101" "shard ids outside the model's vocabulary"
lm-train --data 's/*.bin' -t bytes.json --init "$DATA/lm/gpt2" --context 8 -o bad4 2>err
like "$(cat err)" "vocabulary is 101, the tokenizer's .* 257" "a tokenizer that does not fit the checkpoint"
lm-train $common --context 65 -o bad5 2>err
is $? 2 "--context beyond the model's positions is a usage error"

# Hugging Face --init (GPT-2 and Llama fixtures), on ids inside their vocabulary of 101
perl -e 'print pack("l<3", 20240520, 1, 4000), "\0" x 1012;
	srand(1); print pack("S<", int(rand(101))) for 1 .. 4000' >ids101.bin
for m in gpt2 llama; do
	lm-train --data ids101.bin --init "$DATA/lm/$m" --context 8 -b 2 --steps 3 -q -o hf-$m
	ok $? "--init from transformers' $m checkpoint trains"
	is "$(jq -r .model_type hf-$m/step-0000003/config.json)" $m "and writes a $m config"
done
like "$(head -c 300 hf-llama/step-0000003/model.safetensors)" '"model.embed_tokens.weight":\{"dtype":"F32","shape":\[101,32\]' \
	"the padded vocabulary is kept apart: 101 rows are stored"

# Llama style from a config, WSD with an anneal mix
lm-train --data s/shard_train_*.bin -t bytes.json --model llama.json --context 16 -b 2 -j 2 --steps 10 --lr 1e-3 \
	--schedule wsd --decay 0.3 --min-lr 0 --anneal-data 'v/*.bin' -q -o wsd
ok $? "Llama style with warmup-stable-decay"
is "$(jq -c 'select(.loss) | [.step, .lr, (.anneal // false)]' wsd/metrics.jsonl | tail -4 | tr '\n' ' ')" \
	"[7,0.001,false] [8,0.000666667,true] [9,0.000333333,true] [10,0,true] " "the last 30% decay linearly, on the anneal data"

# accumulation and the cosine schedule
lm-train $common --steps 6 --accum 3 --lr 1e-3 --warmup 2 --min-lr 1e-4 --eval-every 0 -q -o acc
ok $? "gradient accumulation over 3 micro-batches"
is "$(jq -r 'select(.step == 6) | .tokens' acc/metrics.jsonl)" $((6 * 3 * 4 * 32)) "each step counts 3 micro-batches of tokens"
is "$(jq -c '[.[] | select(.loss) | .lr]' -s acc/metrics.jsonl)" \
	"$(awk 'BEGIN { printf "["; for (s = 0; s < 6; s++) { lr = s < 2 ? 1e-3 * (s + 1) / 3 : 1e-4 + 0.5 * (1 + cos(3.141592653589793 * (s - 2) / 4)) * 9e-4; printf "%s%.6g", s ? "," : "", lr } printf "]" }')" \
	"warmup, then cosine to --min-lr"

# NaN: stop with a message, write no checkpoint
cp -r A/step-0000600 nanw
rm nanw/trainer.json	# no checksums: the weights are loaded as they are
hl=$(od -A n -t u8 -N 8 nanw/model.safetensors | tr -d ' ')
printf '\000\000\300\177' | dd of=nanw/model.safetensors bs=1 seek=$((8 + hl + 400)) conv=notrunc 2>/dev/null
lm-train $common --init nanw --steps 5 --save-every 1 -o nan 2>err
is $? 1 "a NaN in the weights stops the run"
like "$(cat err)" "step 0: the loss is (nan|-nan) .* stopping without a checkpoint" "saying the loss is not finite"
is "$(ls nan | grep -c '^step-')" 0 "and writes no checkpoint"

# a stream of shards on stdin: read once, ends cleanly
shard-pack -q -t bytes.json --stdout train.jsonl | lm-train --data - -t bytes.json --model model.json --context 32 -b 16 \
	--steps 10000 -j 2 -o stream 2>err
ok $? "--data - trains until the stream ends"
like "$(cat err)" "the data stream ended at step [0-9]+" "and says so"
n=$(jq -r 'select(.loss) | .step' stream/metrics.jsonl | tail -1)
is "$n" $((119999 / (32 * 16))) "every full batch of the stream is used once"
lm-train --data - --resume -o stream </dev/null 2>err
is $? 2 "a stream cannot be resumed"

# lm-sample
a=$(lm-sample -n 40 --seed 3 run "ROMEO:")
ok $? "lm-sample generates"
b=$(lm-sample -n 40 --seed 3 run/step-0000060 "ROMEO:")
is "$a" "$b" "the same seed gives the same text (run directory = its latest checkpoint)"
c=$(lm-sample -n 40 --seed 4 run "ROMEO:")
ok "$([ "$a" != "$c" ]; echo $?)" "another seed, another text"
g1=$(lm-sample -n 30 --temperature 0 --ids run "ROMEO:")
g2=$(echo "ROMEO:" | lm-sample -n 30 --temperature 0 --top-k 3 --ids run)
is "$(echo $g2 | wc -w)" 30 "--ids prints the generated ids"
g3=$(printf 'ROMEO:' | lm-sample -n 30 --temperature 0 --ids run)
is "$g1" "$g3" "the prompt may come from stdin"
is "$(lm-sample -s 3 -n 10 --top-p 0.9 run | grep -c '^--- sample')" 3 "--samples 3 prints three samples"
lm-sample -t bytes.json hf-gpt2 2>err
like "$(cat err)" "tokenizer has 257 tokens, the model 101" "a tokenizer larger than the model is refused"
lm-sample run "$(head -c 3000 train.jsonl)" 2>err
like "$(cat err)" "the prompt is [0-9]+ tokens; the model sees 64" "a prompt longer than the context"

# mixed precision on the CPU (kernels/mixed.c): bf16 trains as well as fp32; checkpoints hold
# fp32 weights and resume in either precision (as between a GPU's bf16 run and the CPU);
# lm-sample in bf16; --deterministic. Losses within 2% of fp32's: measured 0.1% here (seed 0),
# at most 0.9% (held-out set, last 20 steps' mean) over seeds 0 to 5. One thread: these runs
# take half a second, but two OpenMP threads spin-waiting on a busy machine take 30 times that.
mp() {
	lm-train --data s/shard_train_*.bin --val 'v/*.bin' -t bytes.json --context 32 -b 4 \
		--device cpu -j 1 --steps 200 --lr 3e-3 --warmup 5 --eval-every 0 --save-every 100 "$@"
}
# held-out loss at the end, mean training loss of the last 20 steps, loss at step 101
losses() {
	jq -s -r '[(.[] | select(.val_loss and .step == 200) | .val_loss),
		([.[] | select(.loss and .step > 180) | .loss] | add / length),
		(.[] | select(.loss and .step == 101) | .loss)] | @tsv' "$1/metrics.jsonl"
}
# within A B TOLERANCE: lists of as many numbers, |a - b| <= TOLERANCE |b| for each pair
within() {
	printf '%s\n%s\n' "$1" "$2" | awk -v t="$3" 'NR == 1 { n = split($0, a) } NR == 2 { m = split($0, b) }
		END { if (n == 0 || n != m) exit 1
		      for (i = 1; i <= n; i++) if (!((a[i] - b[i]) ^ 2 <= (t * b[i]) ^ 2)) exit 1 }'
}
for m in model llama; do
	for p in fp32 bf16; do
		mp --model $m.json --precision $p -o mp-$m-$p 2>err
		ok $? "$m.json: 200 steps in $p"
	done
	like "$(cat err)" ", bf16, cpu on 1 thread" "--precision bf16 says so"
	l32=$(losses mp-$m-fp32 | cut -f 1,2)
	l16=$(losses mp-$m-bf16 | cut -f 1,2)
	ok "$([ "$l16" != "$l32" ]; echo $?)" "$m.json: bf16 computes otherwise than fp32 ($l16)"
	within "$l16" "$l32" 0.02
	ok $? "$m.json: bf16's held-out and last training losses within 2% of fp32's ($l16 vs $l32)"
done
hdr=$(head -c 3000 mp-model-bf16/step-0000200/model.safetensors)
like "$hdr" '"transformer.h.0.attn.c_attn.weight":\{"dtype":"F32"' "a bf16 run's checkpoint holds fp32 weights"
ok "$(printf '%s' "$hdr" | grep -c BF16)" "and no bf16 tensor"

# a checkpoint at step 100 of each run resumed in the other precision (and bf16 in bf16)
for a in bf16:fp32 fp32:bf16 bf16:bf16; do
	from=${a%:*} to=${a#*:}
	cp -r mp-model-$from mx-$a
	rm -r mx-$a/step-0000200
	echo step-0000100 >mx-$a/latest
	mp --model model.json --precision $to -o mx-$a --resume 2>err
	ok $? "$from checkpoint at step 100 resumed in $to: finishes"
	grep -q "resuming from mx-$a/step-0000100 (step 100)" err && grep -q ", $to, cpu on" err
	ok $? "  from step 100, in $to"
	is "$(cat mx-$a/latest)" step-0000200 "  writes step 200"
	r=$(losses mx-$a)
	u=$(losses mp-model-$from)
	# step 101: the checkpoint's weights, one forward in either precision (measured 5e-5)
	within "$(echo "$r" | cut -f 3)" "$(echo "$u" | cut -f 3)" 0.01
	ok $? "  step 101's loss within 1% of the uninterrupted $from run's ($(echo "$r" | cut -f 3) vs $(echo "$u" | cut -f 3))"
	within "$(echo "$r" | cut -f 1,2)" "$(echo "$u" | cut -f 1,2)" 0.02
	ok $? "  final losses within 2% of the uninterrupted $from run's ($(echo "$r" | cut -f 1,2) vs $(echo "$u" | cut -f 1,2))"
done
test_cmp mp-model-bf16/step-0000200/model.safetensors mx-bf16:bf16/step-0000200/model.safetensors \
	"bf16 resumed in bf16: weights bitwise equal to the uninterrupted run"

# --deterministic is accepted on the CPU, whose results are reproducible anyway
mp --model model.json --precision bf16 --deterministic -q -o mp-det
ok $? "--deterministic on the CPU"
is "$(jq -c '[.step, .loss, .grad_norm, .val_loss]' mp-det/metrics.jsonl | md5sum)" \
	"$(jq -c '[.step, .loss, .grad_norm, .val_loss]' mp-model-bf16/metrics.jsonl | md5sum)" "  the same metrics as without it"
test_cmp mp-model-bf16/step-0000200/model.safetensors mp-det/step-0000200/model.safetensors "  the same weights"

# lm-sample in bf16
g16=$(lm-sample -n 40 --temperature 0 --no-stop --ids --device cpu -j 1 --precision bf16 mp-llama-fp32 "ROMEO:")
ok $? "lm-sample --precision bf16, greedy"
g32=$(lm-sample -n 40 --temperature 0 --no-stop --ids --device cpu -j 1 --precision fp32 mp-llama-fp32 "ROMEO:")
is "$(echo $g16 | wc -w) $(echo $g32 | wc -w)" "40 40" "  40 ids, as many as in fp32"
is "$(echo $g16 | tr ' ' '\n' | awk '$1 < 0 || $1 > 256' | wc -l)" 0 "  all in the vocabulary"
is "$(lm-sample -n 40 --temperature 0 --no-stop --ids --device cpu -j 1 --precision bf16 mp-llama-fp32 "ROMEO:")" "$g16" "  again the same"
s16=$(lm-sample -n 40 --seed 3 --ids --device cpu -j 1 --precision bf16 mp-model-fp32 "ROMEO:")
s32=$(lm-sample -n 40 --seed 3 --ids --device cpu -j 1 --precision fp32 mp-model-fp32 "ROMEO:")
ok "$([ -n "$s16" ] && [ "$s16" != "$s32" ]; echo $?)" "  sampling with a seed: bf16's logits draw another text than fp32's"
t16=$(lm-sample -n 40 --temperature 0 --no-stop --device cpu -j 1 --precision bf16 mp-model-bf16 "ROMEO:" | wc -c)
ok "$([ "$t16" -ge 40 ]; echo $?)" "  text from a bf16 run's checkpoint ($t16 bytes)"

# a precision that does not exist
lm-train $common --precision fp16 -o bad6 2>err
is $? 2 "lm-train --precision fp16 is a usage error"
like "$(cat err)" "option '--precision' wants fp32 or bf16, not 'fp16'" "  naming the choices"
lm-sample --precision bogus run 2>err
is $? 2 "lm-sample --precision bogus is a usage error"
like "$(cat err)" "option '--precision' wants fp32 or bf16, not 'bogus'" "  naming the choices"

done_testing
