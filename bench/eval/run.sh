#!/usr/bin/env bash
# run.sh - lm-eval (build/bin/lm-eval) against lm-evaluation-harness on the same checkpoint:
# agreement item by item, then speed. See bench/README.md, eval/.
#
#   1. A model (made once, reused): a 2,048-token BPE (bpe-train) and a GPT-2 style model
#      (4 layers, width 128, context 512, 1.1 M parameters) trained by lm-train for $STEPS
#      steps on the first nine tenths of tinyshakespeare's speeches (tests/data/tok); the last
#      tenth is the held-out text of the perplexity task (heldout.jsonl). hf-prep.py copies the
#      checkpoint for transformers, adding tokenizer_config.json (see there why), and shows
#      what AutoTokenizer does without it.
#   2. Tasks: make-tasks.py writes the harness's YAML tasks (c2l_*) over
#      $CRAWL2LM_SHARED_DATA/eval/{arc_easy,arc_challenge,piqa,winogrande,lambada_openai}.jsonl
#      and heldout.jsonl (loglikelihood_rolling, the metrics of its wikitext task), and a
#      made-up multiple-choice task, tasks/long.jsonl, whose queries are longer than the
#      context (the left truncation of both tools). The context is 512 because the harness
#      stops (an assertion) on a continuation longer than the context, and piqa has choices
#      of up to 425 tokens with this tokenizer; lm-eval scores those in part.
#   3. Agreement (a): lm_eval --model hf (float32, CPU, --log_samples) and lm-eval
#      (--log-samples) on the first $LIMIT items of each task; compare.py prints per task the
#      items, differing predictions and strings, the largest relative difference of a
#      request's log-likelihood and both tools' metrics.
#      Agreement (b), hook: with $BIN/lm-serve present, the same through lm-serve and the
#      harness's local-completions model; skipped with a message otherwise.
#   4. Speed: $RUNS interleaved runs of each on the same tasks and items (the five tasks and
#      the held-out text; not long.jsonl): lm-eval -j $THREADS and hf-speed.py (the harness's
#      HFLM, float32, torch threads $THREADS, batch size $BATCH). Three times each: scoring
#      (lm-eval: the sum of the per-task times of -v; the harness: the time in the model's
#      loglikelihood and loglikelihood_rolling calls), evaluation (the harness: simple_evaluate,
#      with its task and data loading, about 7 s of fixed cost here) and the whole command
#      (imports and model loading included); medians, items/s and the ratios, then the
#      fastest run's scoring (the machine is shared: other work slows single runs down) and
#      the whole commands' CPU time (user + system).
#
# usage: bench/eval/run.sh [WORK_DIR]          (default bench/data/eval)
# env:   BIN (default build/bin), LIMIT (items per task, default 300; 0: all), RUNS (3),
#        THREADS (2), BATCH (16), STEPS (300), MODEL (a checkpoint to use instead of training
#        one: a run or step directory with its tokenizer.json), CRAWL2LM_SHARED_DATA (../shared/data beside the
#        repository), SKIP_SPEED=1, SKIP_AGREEMENT=1, SKIP_SERVE=1 (agreement (a) only),
#        PORT_WAIT (seconds, 60)
# Exit status: 1 when an agreement check fails (the speed part still runs), 2: setup.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
work=${1:-$BENCH/data/eval}
BIN=${BIN:-$ROOT/build/bin}
LIMIT=${LIMIT:-300}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
BATCH=${BATCH:-16}
STEPS=${STEPS:-300}
SHARED=${CRAWL2LM_SHARED_DATA:-$ROOT/../shared/data}
EVAL=$SHARED/eval
TASKS="arc_easy arc_challenge piqa winogrande lambada_openai"
HTASKS="$TASKS long ppl"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

for t in $TASKS; do
	[ -f "$EVAL/$t.jsonl" ] || { log "run.sh: no $EVAL/$t.jsonl: set CRAWL2LM_SHARED_DATA"; exit 2; }
done
for p in lm-eval lm-train bpe-train shard-pack; do
	[ -x "$BIN/$p" ] || { log "run.sh: no $BIN/$p: make first"; exit 2; }
done
[ -x "$VPY" ] && "$VPY" -c 'import lm_eval, torch, transformers' 2>/dev/null ||
	{ log "run.sh: bench/.venv needs lm_eval, torch and transformers (pip install 'lm_eval[api]' torch transformers)"; exit 2; }
mkdir -p "$work"
cd "$work"
work=$PWD	# absolute: the harness reads a relative path as a hub name

# 1. the model (MODEL: a checkpoint of one's own instead, with its tokenizer.json)
if [ ! -f heldout.jsonl ]; then
	zstd -dc "$ROOT/tests/data/tok/tinyshakespeare.txt.zst" |
		jq -R -s -c 'split("\n\n") | to_entries[] | {id: "speech-\(.key)", text: .value}' >speeches.jsonl
	n=$(wc -l <speeches.jsonl)
	head -n $((n * 9 / 10)) speeches.jsonl >train.jsonl
	tail -n +$((n * 9 / 10 + 1)) speeches.jsonl >heldout.jsonl
fi
if [ -z "${MODEL:-}" ] && [ ! -f run/latest ]; then
	log "training the model ($STEPS steps, about $((STEPS / 2)) s on 2 cores)"
	"$BIN/bpe-train" -q --vocab-size 2048 -o tok.json train.jsonl
	rm -rf shards && "$BIN/shard-pack" -q -t tok.json --val-fraction 0 -o shards train.jsonl
	echo '{"model_type": "gpt2", "n_embd": 128, "n_layer": 4, "n_head": 4, "n_positions": 512}' >model.json
	rm -rf run
	"$BIN/lm-train" --data 'shards/shard_train_*.bin' -t tok.json --model model.json --context 512 -b 4 \
		--steps "$STEPS" --lr 2e-3 --warmup 30 --eval-every 0 --save-every "$STEPS" -j "$THREADS" -q -o run
fi
if [ -n "${MODEL:-}" ]; then
	ckpt=$(cd "$MODEL" && pwd)
	[ -f "$ckpt/latest" ] && ckpt=$ckpt/$(cat "$ckpt/latest")
else
	ckpt=$work/run/$(cat run/latest)
fi
ctx=$(jq -r '.n_positions // .max_position_embeddings' "$ckpt/config.json")
echo "model: $ckpt ($(jq -r '"\(.model_type), \(.n_layer) layers, width \(.n_embd), context \(.n_positions), vocabulary \(.vocab_size)"' "$ckpt/config.json"))"
rm -rf hf
"$VPY" "$HERE/hf-prep.py" "$ckpt" hf "$EVAL" 2> >(grep -v -e 'Loading weights' -e 'Token indices sequence' >&2) ||
	{ log "run.sh: transformers does not read the model as lm-eval does"; exit 1; }
rm -rf tasks && "$VPY" "$HERE/make-tasks.py" tasks "$EVAL" heldout.jsonl
hnames=$(for t in $HTASKS; do printf 'c2l_%s ' "$t"; done)
task_args=()
for t in $TASKS; do task_args+=(--task "$EVAL/$t.jsonl"); done
task_args+=(--task tasks/long.jsonl --task ppl:heldout.jsonl)
echo "tasks: $TASKS, long ($(wc -l <tasks/long.jsonl) items), ppl:heldout.jsonl ($(wc -l <heldout.jsonl) documents); limit $LIMIT items each (0: all)"

status=0
if [ "${SKIP_AGREEMENT:-}" != 1 ]; then
	# 2. agreement (a): the harness's Hugging Face backend
	log "agreement (a): lm_eval --model hf"
	rm -rf harness-hf
	limit_arg=()
	[ "$LIMIT" != 0 ] && limit_arg=(--limit "$LIMIT")
	timed "lm_eval --model hf" harness-hf.out harness-hf.err \
		"$VENV/bin/lm_eval" --model hf --model_args "pretrained=$work/hf,dtype=float32" --device cpu \
		--batch_size "$BATCH" --include_path tasks --tasks "$(echo $hnames | tr ' ' ,)" \
		"${limit_arg[@]}" --log_samples --output_path harness-hf
	"$BIN/lm-eval" -q -j "$THREADS" --limit "$LIMIT" "$ckpt" "${task_args[@]}" -o ours.json \
		--log-samples ours-samples.jsonl >ours.txt
	"$VPY" "$HERE/compare.py" --tokenizer hf/tokenizer.json --label "hf backend" ours.json ours-samples.jsonl harness-hf || status=1

	# agreement (b): the harness's local-completions model through lm-serve. Where a request
	# is longer than the context the harness's API models differ from its HF backend (so from
	# lm-eval) by design: they send the last max_length - 1 tokens and ask for one more token
	# (HF feeds the last max_length of max_length + 1), and loglikelihood_rolling's windows
	# predict max_length - 2 tokens (HF: max_length). So long.jsonl and the held-out documents
	# longer than ctx - 2 tokens are expected to differ here. (max_length=ctx+1 would give
	# prompts of ctx tokens with max_tokens 1, which lm-serve refuses with 400.)
	if [ "${SKIP_SERVE:-}" = 1 ]; then
		echo "agreement (b): skipped (SKIP_SERVE=1)"
	elif [ -x "$BIN/lm-serve" ]; then
		log "agreement (b): lm_eval --model local-completions through lm-serve"
		"$BIN/lm-serve" -j "$THREADS" "$ckpt" --port 0 2>serve.err &
		spid=$!
		port=
		for _ in $(seq $((${PORT_WAIT:-60} * 10))); do
			port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' serve.err | head -1)
			[ -n "$port" ] && break
			kill -0 "$spid" 2>/dev/null || break
			sleep 0.1
		done
		if [ -z "$port" ]; then
			kill "$spid" 2>/dev/null || true
			log "lm-serve did not start:"
			cat serve.err >&2
			status=1
		else
			rm -rf harness-serve
			if "$VENV/bin/lm_eval" --model local-completions \
				--model_args "model=$(basename "$ckpt"),base_url=http://127.0.0.1:$port/v1/completions,tokenizer_backend=huggingface,tokenizer=$work/hf,tokenized_requests=True,max_length=$ctx" \
				--include_path tasks --tasks "$(echo $hnames | tr ' ' ,)" "${limit_arg[@]}" \
				--log_samples --output_path harness-serve >harness-serve.out 2>harness-serve.err; then
				"$VPY" "$HERE/compare.py" --tokenizer hf/tokenizer.json --label "local-completions through lm-serve" ours.json \
					ours-samples.jsonl harness-serve || status=1
			else
				log "lm_eval --model local-completions failed:"
				tail -20 harness-serve.err >&2
				status=1
			fi
			kill -TERM "$spid" 2>/dev/null || true
			wait "$spid" 2>/dev/null || true
		fi
	else
		echo "agreement (b): skipped: no $BIN/lm-serve (the harness's local-completions through lm-serve)"
	fi
fi

# 3. speed, interleaved runs, on the real tasks and the held-out text (not long.jsonl, which
# only checks the truncation)
[ "${SKIP_SPEED:-}" = 1 ] && exit "$status"
log "speed: $RUNS runs of each"
speed_args=()
for t in $TASKS; do speed_args+=(--task "$EVAL/$t.jsonl"); done
speed_args+=(--task ppl:heldout.jsonl)
hspeed=$(for t in $TASKS ppl; do printf 'c2l_%s ' "$t"; done)
os=() ow=() oc=() hs=() he=() hw=() hc=()
for r in $(seq "$RUNS"); do
	timed "lm-eval" speed-ours.txt speed-ours.err \
		"$BIN/lm-eval" -v -j "$THREADS" --limit "$LIMIT" "$ckpt" "${speed_args[@]}" -o speed-ours.json
	ow+=("$real") oc+=("$cpu")
	os+=("$(sed -n 's/.* in \([0-9.]*\) s: [0-9.]* items\/s.*/\1/p' speed-ours.err | awk '{ s += $1 } END { printf "%.3f", s }')")
	ours_items=$(jq '[.config.items[]] | add' speed-ours.json)
	timed "hf-speed.py" speed-hf.json speed-hf.err \
		"$VPY" "$HERE/hf-speed.py" "$work/hf" tasks "$LIMIT" "$BATCH" "$THREADS" $hspeed
	hw+=("$real") hc+=("$cpu")
	hs+=("$(jq -r .scoring_s speed-hf.json)")
	he+=("$(jq -r .eval_s speed-hf.json)")
	hf_items=$(jq '[.items[]] | add' speed-hf.json)
	log "  run $r: lm-eval ${os[-1]} s scoring, ${ow[-1]} s wall; harness ${hs[-1]} s scoring, ${he[-1]} s simple_evaluate, ${hw[-1]} s wall"
done
[ "$ours_items" = "$hf_items" ] || log "run.sh: item counts differ: lm-eval $ours_items, harness $hf_items"
mos=$(echo "${os[*]}" | median) mow=$(echo "${ow[*]}" | median)
mhs=$(echo "${hs[*]}" | median) mhe=$(echo "${he[*]}" | median) mhw=$(echo "${hw[*]}" | median)
mos_min=$(echo "${os[*]}" | minimum) mhs_min=$(echo "${hs[*]}" | minimum)
moc=$(echo "${oc[*]}" | median) mhc=$(echo "${hc[*]}" | median)
echo "speed: $ours_items items ($TASKS: $LIMIT each, 0: all; heldout), medians of $RUNS runs, $(nproc) CPUs: $(cpu_model), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$ours_items" -v os="$mos" -v ow="$mow" -v hs="$mhs" -v he="$mhe" -v hw="$mhw" -v t="$THREADS" -v b="$BATCH" \
	-v osm="$mos_min" -v hsm="$mhs_min" -v oc="$moc" -v hc="$mhc" 'BEGIN {
	printf "%-36s %10s %9s %10s %9s %8s\n", "", "lm-eval s", "items/s", "harness s", "items/s", "ratio"
	printf "%-36s %10.2f %9.1f %10.2f %9.1f %7.2fx\n", "scoring (the model'"'"'s work)", os, n / os, hs, n / hs, hs / os
	printf "%-36s %10.2f %9.1f %10.2f %9.1f %7.2fx\n", "evaluation (harness: simple_evaluate)", os, n / os, he, n / he, he / os
	printf "%-36s %10.2f %9.1f %10.2f %9.1f %7.2fx\n", "whole command", ow, n / ow, hw, n / hw, hw / ow
	printf "%-36s %10.2f %9.1f %10.2f %9.1f %7.2fx\n", "scoring, the fastest run", osm, n / osm, hsm, n / hsm, hsm / osm
	printf "%-36s %10.2f %9s %10.2f %9s %7.2fx\n", "whole command, CPU seconds", oc, "", hc, "", hc / oc
	printf "lm-eval -j %d; harness: HFLM float32, batch %d, torch threads %d. ratio = harness / lm-eval (target: at least 3x)\n", t, b, t
}'
echo "lm-eval per task (last run):"
sed -n 's/^lm-eval: /  /p' speed-ours.err
exit "$status"
