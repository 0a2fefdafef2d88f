#!/bin/sh
# lm-train and lm-sample against faults: damaged checkpoints (weights, optimizer state,
# config, tokenizer) are refused wherever they are read, naming the file; runs that cannot
# fit in memory or ask for more tokens a step than the data holds are refused before
# anything big is allocated; write errors (a full disk, /dev/full) are errors. A tiny model
# and a few steps: this file takes a few seconds.
. "${SRCDIR:-.}/tests/lib.sh"

zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | head -c 30000 | jq -R -s '{id: "train", text: .}' -c >train.jsonl
bpe-train -q --vocab-size 257 -o bytes.json train.jsonl &&
	shard-pack -q -t bytes.json -o s --val-fraction 0 train.jsonl
ok $? "byte-level tokenizer and shards"
cat >model.json <<'EOF'
{"model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 2, "n_positions": 32}
EOF
common="--data s/shard_train_*.bin -t bytes.json --model model.json --context 16 -b 2 -j 1"
# every run that could allocate without bounds before these checks runs under a limit, where
# the programs start under one (a sanitizer's shadow memory does not fit)
if (ulimit -v 2000000 && lm-train --version) >/dev/null 2>&1; then vlimit=1; else vlimit=0; fi
lim() { if [ $vlimit = 1 ]; then (ulimit -v 4000000; "$@"); else "$@"; fi; }
lm-train $common --steps 4 --save-every 2 -q -o run
ok $? "a run of 4 steps"
is "$(jq -r '.files | keys | join(" ")' run/step-0000004/trainer.json)" \
	"config.json model.safetensors optimizer.safetensors tokenizer.json tokenizer_config.json" "trainer.json holds a checksum of each file"
ck=run/step-0000004

# damage: a byte of the weights' data, of the safetensors header, of the optimizer state; a
# valid config or tokenizer that says something else
hl=$(od -A n -t u8 -N 8 $ck/model.safetensors | tr -d ' ')
cp -r run W
printf 'X' | dd of=W/step-0000004/model.safetensors bs=1 seek=$((8 + hl + 400)) conv=notrunc 2>/dev/null
lm-sample -n 5 W "ROMEO:" >out 2>err
is $? 1 "lm-sample refuses damaged weights"
like "$(cat err)" "^lm-sample: error: 'W/step-0000004/model.safetensors' does not match its checksum in trainer.json \(damaged\)" \
	"  naming the file"
is "$(wc -c <out)" 0 "  and prints nothing"
lm-sample -n 5 W/step-0000004 "ROMEO:" 2>err
like "$(cat err)" "'W/step-0000004/model.safetensors' does not match its checksum" "  given the checkpoint itself too"
lm-train $common --steps 2 --init W -q -o init-w 2>err
is $? 1 "lm-train --init refuses them"
like "$(cat err)" "^lm-train: error: --init: 'W/step-0000004/model.safetensors' does not match its checksum" "  naming the file"
ok "$([ ! -e init-w ]; echo $?)" "  before creating the run directory"
lm-train $common --steps 6 --save-every 2 --resume -q -o W 2>err
is $? 1 "lm-train --resume refuses them"
like "$(cat err)" "^lm-train: error: --resume: 'W/step-0000004/model.safetensors' does not match its checksum" "  naming the file"

cp -r run H
printf '9' | dd of=H/step-0000004/model.safetensors bs=1 seek=60 conv=notrunc 2>/dev/null
lm-sample -n 5 H "ROMEO:" 2>err
like "$(cat err)" "'H/step-0000004/model.safetensors' does not match its checksum" "a damaged header is damage, not a format error"

cp -r run O
printf 'X' | dd of=O/step-0000004/optimizer.safetensors bs=1 seek=$((8 + hl + 400)) conv=notrunc 2>/dev/null
lm-train $common --steps 6 --save-every 2 --resume -q -o O 2>err
is $? 1 "--resume refuses a damaged optimizer state"
like "$(cat err)" "'O/step-0000004/optimizer.safetensors' does not match its checksum" "  naming the file"
lm-sample -n 5 O "ROMEO:" >/dev/null
ok $? "  which lm-sample does not read"

cp -r run C
sed 's/"layer_norm_epsilon": 1e-5/"layer_norm_epsilon": 2e-5/' $ck/config.json >C/step-0000004/config.json
ok "$(cmp -s $ck/config.json C/step-0000004/config.json; [ $? = 1 ]; echo $?)" "a config with another epsilon, valid JSON"
lm-sample -n 5 C "ROMEO:" 2>err
like "$(cat err)" "'C/step-0000004/config.json' does not match its checksum" "  is refused by lm-sample"
lm-train $common --steps 2 --init C -q -o init-c 2>err
like "$(cat err)" "--init: 'C/step-0000004/config.json' does not match its checksum" "  and by --init"

cp -r run T
sed 's/<|endoftext|>/<|endoftexu|>/g' $ck/tokenizer.json >T/step-0000004/tokenizer.json
lm-sample -n 5 T "ROMEO:" 2>err
like "$(cat err)" "'T/step-0000004/tokenizer.json' does not match its checksum" "a tokenizer that is not the checkpoint's is refused"

# a checkpoint from before file checksums: the hash of the loaded weights still holds
cp -r run P
jq 'del(.files)' $ck/trainer.json >P/step-0000004/trainer.json
lm-sample -n 5 --seed 1 P "ROMEO:" >out
is "$?:$(wc -c <out | tr -d ' ')" "0:$(lm-sample -n 5 --seed 1 run "ROMEO:" | wc -c | tr -d ' ')" "a checkpoint without file checksums loads"
is "$(cat out)" "$(lm-sample -n 5 --seed 1 run "ROMEO:")" "  and samples what the checksummed one does"
ok "$([ -s out ]; echo $?)" "  (a sample, not nothing)"
printf 'X' | dd of=P/step-0000004/model.safetensors bs=1 seek=$((8 + hl + 400)) conv=notrunc 2>/dev/null
lm-sample -n 5 P "ROMEO:" 2>err
like "$(cat err)" "'P/step-0000004/model.safetensors' does not match the checksum of its weights in trainer.json" \
	"  its damaged weights are refused by lm-sample"
lm-train $common --steps 2 --init P -q -o init-p 2>err
like "$(cat err)" "--init: 'P/step-0000004/model.safetensors' does not match the checksum" "  and by --init"

# weights without checksums (a Hugging Face directory): said at -v
mkdir hf
cp $ck/config.json $ck/model.safetensors $ck/tokenizer.json hf/
lm-sample -v -n 5 hf "ROMEO:" 2>err >/dev/null
like "$(cat err)" "'hf': no checksum \(not a checkpoint of lm-train\): the weights are used unverified" \
	"weights without a checksum: said at -v"

# --resume with another tokenizer of the same size
bpe-train -q --vocab-size 260 -o t260a.json train.jsonl
zstd -dc "$DATA/tok/tinyshakespeare.txt.zst" | tail -c 30000 | jq -R -s '{id: "x", text: .}' -c | bpe-train -q --vocab-size 260 -o t260b.json
lm-train --data 's/*.bin' -t t260a.json --model model.json --context 16 -b 2 -j 1 --steps 2 -q -o tk
lm-train --data 's/*.bin' -t t260b.json --model model.json --context 16 -b 2 -j 1 --steps 4 -q -o tk --resume 2>err
is $? 1 "--resume with another tokenizer of the same size fails"
like "$(cat err)" "the tokenizer 't260b.json' is not the run's \('tk/step-0000002/tokenizer.json'\)" "  saying so"

# memory: refused before allocating, with the figures
lim lm-train $common -b 2000 --steps 1 -o big-b 2>err
is $? 2 "a step of more tokens than the data is a usage error"
like "$(head -1 err)" "^lm-train: error: --batch 2000 x --context 16 is 32000 tokens a step, more than the [0-9]+ tokens of --data 's/shard_train_000000.bin'" \
	"  saying how many"
lim lm-train $common -b 200 --accum 10 --steps 1 -o big-a 2>err
like "$(head -1 err)" "--batch 200 x --context 16 x --accum is 32000 tokens a step" "  --accum counts"
CRAWL2LM_MEMORY=100M lim lm-train $common -b 500 --steps 1 -o big-m 2>err
is $? 1 "a run that needs more memory than available is refused"
like "$(cat err)" "^lm-train: error: the run needs about [0-9.]+ (MiB|GiB) of memory \(weights, gradients and AdamW state [0-9.]+ MiB, activations for 500 x 16 tokens [0-9.]+ MiB, buffers [0-9.]+ MiB\), more than the 100.0 MiB available \(CRAWL2LM_MEMORY\): lower --batch" \
	"  with the figures"
ok "$([ ! -e big-m ]; echo $?)" "  before creating anything"
CRAWL2LM_MEMORY=100M lm-train $common -b 4 --steps 1 -q -o small-m
ok $? "  a run that fits is not"
if [ $vlimit = 1 ]; then
	(ulimit -v 2000000; lm-train --data 's/*.bin' -t bytes.json --model tiny --vocab 50257 --context 64 -b 400 \
		--steps 1 -o big-v 2>err)
	is $? 1 "a run beyond the address-space limit is refused"
	like "$(cat err)" "the run needs about [0-9.]+ GiB of memory .* more than the [0-9.]+ (GiB|MiB) available \(the address-space limit \(ulimit -v\)\)" \
		"  naming the limit"
	ok "$([ ! -e big-v ]; echo $?)" "  before creating anything"
else
	for i in 1 2 3; do ok 0 "# SKIP the programs do not start under ulimit -v (a sanitizer build)"; done
fi
lm-train $common -v --steps 1 -o verbose 2>err
like "$(cat err)" "memory: about [0-9.]+ MiB needed \(weights, gradients and AdamW state [0-9.]+ MiB, activations [0-9.]+ MiB, buffers [0-9.]+ MiB\); [0-9.]+ (GiB|MiB) available" \
	"-v gives the estimate"
CRAWL2LM_MEMORY=1M lim lm-sample -s 4000 -n 20 run "ROMEO:" 2>err
is $? 1 "lm-sample: sampling that needs more memory than available is refused"
like "$(cat err)" "sampling needs about [0-9.]+ (GiB|MiB) of memory \(weights [0-9.]+ MiB, key/value caches for 4000 x 27 positions [0-9.]+ MiB, activations [0-9.]+ MiB\), more than the 1.0 MiB available \(CRAWL2LM_MEMORY\): lower --samples" \
	"  with the figures"
# a config asking for more than the machine has: refused before allocating it
mkdir huge
echo '{"model_type": "gpt2", "vocab_size": 257, "n_embd": 16384, "n_layer": 1000, "n_head": 128, "n_positions": 64}' >huge/config.json
lim lm-sample -t bytes.json -n 5 huge "ROMEO:" 2>err
is $? 1 "lm-sample: a config of 3 trillion parameters is refused"
like "$(cat err)" "sampling needs about [0-9.]+ GiB of memory \(weights [0-9]{5,}\.[0-9]+ GiB" "  by the estimate, before its weights are read"
lim lm-train $common --init huge --steps 1 -o huge-run 2>err
like "$(cat err)" "the run needs about [0-9.]+ GiB of memory \(weights, gradients and AdamW state [0-9]{5,}" "  and by lm-train --init"

# write errors
lm-train $common --steps 30 --metrics /dev/full -o full-m 2>err
is $? 1 "lm-train --metrics /dev/full fails"
like "$(cat err)" "^lm-train: error: cannot write '/dev/full': No space left on device" "  saying why"
lm-train --help >/dev/full 2>err
is $? 1 "lm-train --help >/dev/full fails"
like "$(cat err)" "cannot write to standard output: No space left on device" "  saying why"
lm-sample --help >/dev/full 2>err
is $? 1 "lm-sample --help >/dev/full fails"
like "$(cat err)" "cannot write to standard output: No space left on device" "  saying why"
for o in "" "--ids" "-s 2"; do
	lm-sample -n 5 $o run "ROMEO:" >/dev/full 2>err
	is $? 1 "lm-sample $o >/dev/full fails"
	like "$(cat err)" "^lm-sample: error: cannot write to standard output: No space left on device" "  saying why"
done

# a full disk (a small tmpfs, as root): metrics, then checkpoints
if [ "$(id -u)" = 0 ] && mkdir mnt && mount -t tmpfs -o size=4k tmpfs mnt 2>/dev/null; then
	lm-train $common --steps 60 --save-every 1000 --metrics mnt/metrics.jsonl -o full-disk 2>err
	is $? 1 "metrics on a full disk: lm-train fails"
	like "$(cat err)" "cannot write 'mnt/metrics.jsonl': No space left on device" "  saying why"
	umount mnt
	mount -t tmpfs -o size=64k tmpfs mnt
	lm-train $common --steps 4 --save-every 2 -o mnt/run 2>err
	is $? 1 "checkpoints on a full disk: lm-train fails"
	like "$(cat err)" "checkpoint: cannot write 'mnt/run/step-0000002.tmp/[a-z.]+': No space left on device" "  saying why"
	is "$(ls mnt/run)" "metrics.jsonl" "  and leaves no partial checkpoint"
	umount mnt
	# --resume rewrites the metrics through a temporary: on a full disk, the old file stays
	mount -t tmpfs -o size=256k tmpfs mnt
	lm-train $common --steps 4 --save-every 2 --metrics mnt/m.jsonl -q -o rm-run &&
		dd if=/dev/zero of=mnt/fill bs=4k 2>/dev/null
	lines=$(wc -l <mnt/m.jsonl)
	lm-train $common --steps 6 --save-every 2 --metrics mnt/m.jsonl -q -o rm-run --resume 2>err
	is "$?:$(ls mnt | tr '\n' ' ')" "1:fill m.jsonl " "metrics rewritten on a full disk: fails, no temporary left"
	is "$(wc -l <mnt/m.jsonl)" "$lines" "  and the old metrics are whole"
	umount mnt
else
	for i in 1 2 3 4 5 6 7; do ok 0 "# SKIP a full tmpfs needs root and mount"; done
fi

# shard folders: a stray or stale shard the manifest does not list, a run that never finished,
# a folder being written are refused; a run holds the folder so a shard-pack rerun waits
cp -r s s2 && cp s2/shard_train_000000.bin s2/shard_train_000009.bin
lm-train $common --data 's2/shard_train_*.bin' --steps 1 -q -o r-stray 2>err
is "$?" 1 "a shard the manifest does not list is refused"
like "$(cat err)" "'s2/shard_train_000009.bin' is not listed in 's2/manifest.json': a stray or stale shard" "  naming it"
cp s/shard_train_000000.bin s2/shard_train_000009.bin && rm s2/manifest.json
lm-train $common --data 's2/shard_train_*.bin' --steps 1 -q -o r-unfinished 2>err
is "$?" 1 "a folder shard-pack locked but never gave a manifest is refused"
like "$(cat err)" "'s2' has no manifest.json: the shard-pack run that wrote it did not finish" "  saying so"
mkdir s3 && cp s/shard_train_000000.bin s3/
lm-train $common --data 's3/*.bin' --steps 1 -q -o r-plain 2>err
is "$?:$(cat err)" "0:" "shards from elsewhere (no shard-pack lock, no manifest) train as before"
if command -v flock >/dev/null; then
	( exec 9>>s/.shard-pack.lock; flock -x 9; exec sleep 30 ) &
	fl=$!
	n=0	# until the writer's lock is taken
	while flock -n -s s/.shard-pack.lock true 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	lm-train $common --steps 1 -q -o r-locked 2>err
	is "$?" 1 "a folder being written is refused"
	like "$(cat err)" "cannot read the shards in 's': .*writing them" "  saying so"
	kill $fl 2>/dev/null; wait $fl 2>/dev/null
fi
lm-train $common --steps 100000 --metrics m.tsv -q -o r-long 2>/dev/null &
lt=$!
n=0
while [ ! -s m.tsv ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
shard-pack -q -t bytes.json -o s --val-fraction 0 train.jsonl 2>err
is "$?" 1 "shard-pack cannot rewrite a folder while lm-train reads it"
like "$(cat err)" "cannot write shards into 's': it is being read" "  saying so"
kill $lt 2>/dev/null; wait $lt 2>/dev/null
shard-pack --verify s >/dev/null
ok $? "  and the set is whole afterwards"

# a model config repeating a key (Python's json reads the last one): refused
printf '{"model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 2, "n_positions": 32, "n_layer": 2}' >dup.json
lm-train $common --model dup.json --steps 1 -q -o r-dup 2>err
is "$?" 1 "a config with a repeated key is refused"
like "$(cat err)" "model config: line 1: duplicate object key near '\"n_layer\"'" "  naming the key"

# a FIFO in a checkpoint's place is refused, not waited on
cp -r run F && rm F/step-0000004/model.safetensors && mkfifo F/step-0000004/model.safetensors
timeout 60 lm-sample -n 5 F "ROMEO:" >/dev/null 2>err
is "$?" 1 "a FIFO as the weights: refused at once"
like "$(cat err)" "'F/step-0000004/model.safetensors' is not a regular file" "  saying so"

# a rank file as -t: the checkpoint keeps it as tokenizer.json (merges written out from the
# ranks); --resume with the rank file again is the same tokenizer, another one is not
r50k=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
shard-pack -q -t "$r50k" -o s50 --val-fraction 0 train.jsonl
printf '{"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 32}' >m50.json
rk="--data s50/shard_train_*.bin --model m50.json --context 16 -b 2 -j 1 -q"
lm-train $rk -t "$r50k" --steps 2 --save-every 2 -o rk && lm-train $rk -t "$r50k" --steps 4 --save-every 2 -o rk --resume 2>err
is "$?:$(cat err)" "0:" "--resume with the rank file the run began with"
bpe-encode -t "$r50k" --write-tokenizer r50k.json </dev/null
# the same tokens but two of them trading ids
jq -c '.model.vocab |= with_entries(if .value == 300 then .value = 301 elif .value == 301 then .value = 300 else . end)' \
	r50k.json >swapped.json
lm-train $rk -t r50k.json --steps 5 -o rk --resume 2>err
is "$?:$(cat err)" "0:" "  or with that rank file written out as tokenizer.json"
lm-train $rk -t swapped.json --steps 6 -o rk --resume 2>err
is "$?" 1 "--resume with a tokenizer giving other ids is refused"
like "$(cat err)" "the tokenizer 'swapped.json' is not the run's" "  saying so"

# --resume rewrites the metrics whole: a symbolic link stays a link, the file it names keeps
# the steps up to the checkpoint and gets the rest
: >real.m && ln -s real.m link.m
lm-train $common --steps 4 --save-every 2 --metrics link.m -q -o ml &&
	lm-train $common --steps 6 --save-every 2 --metrics link.m -q -o ml --resume
is "$?:$(stat -c %F link.m):$(jq -c .step real.m | tr '\n' ' ')" "0:symbolic link:1 2 3 4 5 6 " \
	"metrics through a link: the link stays, the file has every step once"

done_testing
