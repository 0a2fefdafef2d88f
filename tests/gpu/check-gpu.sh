#!/bin/sh
# check-gpu.sh - make check-gpu: the CUDA backend on a GPU, in about 3 minutes on an H100.
#  1. check-kernels: every operation against the CPU backend in fp32 and in bf16 (and the fused
#     kernels against the plain ones), whole training steps, a deterministic step repeated;
#  2. 200 steps on tinyshakespeare: cuda (bf16) and cuda:plain (fp32) follow the CPU (fp32)
#     within 2% (the largest gap between 20-step mean losses);
#  2b. lm-eval on the CPU's model: cuda fp32 scores every request within 1e-4 of the CPU with
#     the same choices (multiple choice, winogrande, lambada, perplexity; generation too), bf16
#     reported;
#  2c. quality-score --model on the CPU's model: cuda fp32 gives every document's bits per byte
#     within 1e-4 of the CPU, bf16 and the GPU's documents/s and tokens/s reported;
#  2d. lm-train --ppo: the first rollouts and minibatch on cuda fp32 against the CPU (the
#     rollouts sampled alike within 1e-3), and 3 steps on cuda (KL 0 and ratio 1 at the first);
#  3. --deterministic twice on cuda (bf16): the same losses and gradient norms, step by step;
#  4. checkpoints between devices: 20 steps on cuda (bf16) resumed on the CPU (fp32) for 10
#     more, and the other way round, both ending with a sane loss;
#  4b. data parallel through NCCL: 2 ranks on 2 GPUs against 1 (the same losses within 1e-3),
#     and with --zero 1 (ZeRO-1: NCCL's reduce-scatter and all-gather) against 2 ranks
#     without (within 1e-5; the same bits expected) where there are 2 GPUs and mpirun, else
#     a 1-rank NCCL sum, reduce-scatter and all-gather (check-nccl);
#  5. GPT-2 124M at context 1024 in bf16 with the largest micro-batch of 32, 16, 8 that runs:
#     tokens/s, MFU and peak memory (reported, not judged);
#  6. compute-sanitizer: memcheck on one step of the tiny preset (fp32) and of the baby model
#     (bf16), racecheck on one step of tiny in bf16 and in fp32.
# Every command runs under timeout, within an overall budget, so a hang costs its limit, not
# the session. Logs go to $LOGDIR (default build/gpu-logs); a PASS/FAIL table at the end.
# Exit 0 when all pass (or, saying SKIP, when there is no GPU), 1 when a check fails.
# CHECK_GPU_SELF=1 runs the whole script with the CPU in the GPU's place (no sanitizer, the
# tiny preset for the timing), to check the script itself where there is no GPU.
set -u
BUILD=${BUILD:-build}
SRCDIR=${SRCDIR:-.}
LOGDIR=${LOGDIR:-$BUILD/gpu-logs}
mkdir -p "$LOGDIR"
PATH=$BUILD/bin:$PATH
LD_LIBRARY_PATH=$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# the CUDA libraries libkn_cuda.so needs (cuBLAS, cuBLASLt, the runtime), wherever the toolkit
# or a Python wheel put them, after what the loader path already has
for d in "${CUDA_HOME:-/usr/local/cuda}/lib64" "${CUDA_HOME:-/usr/local/cuda}/lib" \
	/usr/local/cuda*/targets/x86_64-linux/lib /opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib \
	/usr/local/lib/python3*/dist-packages/nvidia/*/lib; do
	[ -e "$d/libcublasLt.so.13" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
done
export PATH LD_LIBRARY_PATH
table=$LOGDIR/table.txt
: >"$table"
t0=$(date +%s)

row() { printf '%-58s %s\n' "$1" "$2" | tee -a "$table"; }
# judge NAME STATUS [DETAIL]: PASS when STATUS is 0
judge() {
	if [ "$2" = 0 ]; then row "$1" "PASS${3:+ ($3)}"; else row "$1" "FAIL${3:+ ($3)}"; fi
}
part() { echo "== $* (at $(($(date +%s) - t0)) s)"; }
# limit SECONDS: a command's time limit, cut to what is left of the budget (CHECK_GPU_BUDGET,
# default 300 s; past it each command gets a second, and fails); ten times longer and no
# budget when the CPU stands in for the GPU
budget=${CHECK_GPU_BUDGET:-300}
limit() {
	if [ $SELF = 1 ]; then
		echo $(($1 * 10))
		return
	fi
	left=$((t0 + budget - $(date +%s)))
	[ $left -lt 1 ] && left=1
	if [ $left -lt "$1" ]; then echo $left; else echo "$1"; fi
}

if [ "${CHECK_GPU_SELF:-0}" != 0 ]; then
	SELF=1 GPU=cpu PLAIN=cpu
	CHECK_KERNELS_SELF=1
	export CHECK_KERNELS_SELF
else
	SELF=0 GPU=cuda PLAIN=cuda:plain
fi

# 1. operations and whole steps (about 20 s)
part "check-kernels"
timeout -k 10 "$(limit 240)" "$BUILD/tests/gpu/check-kernels" -v >"$LOGDIR/kernels.log" 2>&1
rc=$?
if [ $rc = 77 ]; then
	cat "$LOGDIR/kernels.log"
	echo "check-gpu: SKIP: no usable GPU here (see above); nothing was checked"
	exit 0
fi
gpuname=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
echo "GPU: ${gpuname:-unknown}; $(head -n 1 "$LOGDIR/kernels.log")"
summary=$LOGDIR/kernels-summary.txt
sed -n '/^== check-kernels summary/,$p' "$LOGDIR/kernels.log" >"$summary"
grep '^  FAIL' "$LOGDIR/kernels.log" | head -n 40
cat "$summary"
if [ $rc = 0 ] || [ $rc = 1 ] && grep -q 'checks passed$' "$summary"; then
	sed '1,2d;$d;/^FAIL:/d' "$summary" >"$LOGDIR/kernels-rows.txt"
	count=$(tail -n 1 "$summary" | sed 's/ checks passed//')
	nf=$(grep -v ' step' "$LOGDIR/kernels-rows.txt" | grep -c FAIL)
	judge "operations fp32 and bf16, vs CPU and vs plain" "$nf" "$count: see kernels.log"
	nf=$(grep ' step: ' "$LOGDIR/kernels-rows.txt" | grep -c FAIL)
	judge "whole steps vs CPU (GPT-2, Llama; fp32 and bf16)" "$nf"
	nf=$(grep 'step twice, deterministic' "$LOGDIR/kernels-rows.txt" | grep -c FAIL)
	judge "bf16 step twice under be->deterministic, bit for bit" "$nf"
else
	grep -E '^(check-kernels: )?(stopped|error)' "$LOGDIR/kernels.log" | head -n 5
	why=$(grep '^check-kernels: stopped' "$LOGDIR/kernels.log" | sed 's/^check-kernels: //')
	row "operations, whole steps (check-kernels)" "FAIL (exit $rc${why:+, $why}: see kernels.log)"
fi

# the data: byte-level tinyshakespeare; r50k tokens for the timing
part "data"
w=$LOGDIR/train
rm -rf "$w" && mkdir -p "$w"
zstd -dc "$SRCDIR/tests/data/tok/tinyshakespeare.txt.zst" | jq -R -s -c '{id: "ts", text: .}' >"$w/ts.jsonl"
bpe-train -q --vocab-size 257 -o "$w/bytes.json" "$w/ts.jsonl"
shard-pack -q -t "$w/bytes.json" --val-fraction 0 -o "$w/s" "$w/ts.jsonl"
printf '{"model_type": "gpt2", "n_embd": 128, "n_layer": 4, "n_head": 4, "n_positions": 64}\n' >"$w/baby.json"

# baby NAME DEVICE STEPS [OPTION]...: the baby model on byte-level tinyshakespeare into $w/NAME
# (the same seed and data everywhere), status in $w/NAME.rc
baby() {
	_n=$1 _d=$2 _s=$3
	shift 3
	timeout -k 10 "$(limit 90)" lm-train --device "$_d" --data "$w/s/*.bin" -t "$w/bytes.json" \
		--model "$w/baby.json" --context 64 -b 12 --steps "$_s" --lr 1e-3 --warmup 20 \
		--eval-every 0 --save-every 1000 -q -o "$w/$_n" "$@" 2>>"$w/$_n.err"
	echo $? >"$w/$_n.rc"
}

# losses NAME: one loss a line
losses() { jq -r 'select(.loss) | .loss' "$w/$1/metrics.jsonl" 2>/dev/null; }

# gap A B: the largest relative gap between 20-step mean losses of two 200-step runs
gap() {
	losses "$1" >"$w/$1.loss"
	losses "$2" >"$w/$2.loss"
	paste "$w/$1.loss" "$w/$2.loss" | awk 'NF == 2 { a += $1; b += $2; n++ }
		NF == 2 && n % 20 == 0 { g = (a - b) / a; if (g < 0) g = -g; if (g > m) m = g; a = b = 0 }
		END { if (n < 200) print "incomplete"; else printf "%.4f", m }'
}

# 2. 200 steps (CPU about 5 s on 16 cores; GPU runs a few seconds each)
part "200-step runs"
baby cpu cpu 200
baby cuda "$GPU" 200 --precision bf16
baby plain "$PLAIN" 200 --precision fp32
for r in cuda plain; do
	g=$(gap cpu $r)
	what="200 steps, $([ $r = cuda ] && echo "$GPU bf16" || echo "$PLAIN fp32"), within 2% of the CPU (fp32)"
	echo "largest gap of 20-step mean losses, $r against the CPU: $g" >>"$LOGDIR/train.log"
	case $g in
	incomplete | "") row "$what" "FAIL (incomplete: exit cpu $(cat "$w/cpu.rc"), $r $(cat "$w/$r.rc"))" ;;
	*) awk -v g="$g" 'BEGIN { exit !(g <= 0.02) }'
		judge "$what" $? "$g" ;;
	esac
done

# 2b. lm-eval (scoring, generation) with the CPU's 200-step model: on the GPU in fp32 every
# request's log-likelihood within 1e-4 of the CPU's and the same choices; bf16 reported
part "lm-eval"
E=$SRCDIR/tests/data/eval
head -c 20000 "$w/ts.jsonl" | jq -R -s -c '{text: .}' >"$w/ppl.jsonl" 2>/dev/null ||
	printf '{"text": "First Citizen: Before we proceed any further, hear me speak."}\n' >"$w/ppl.jsonl"
printf '%s\n' '{"context": "First Citizen:\n", "answers": ["x"]}' '{"context": "ROMEO:", "answers": ["y"]}' >"$w/gen.jsonl"
# ev NAME DEVICE PRECISION
ev() {
	timeout -k 10 "$(limit 60)" lm-eval -q --device "$2" --precision "$3" "$w/cpu" \
		--task "$E/arc_easy.jsonl" --task "$E/winogrande.jsonl" --task "$E/lambada_openai.jsonl" \
		--task "ppl:$w/ppl.jsonl" --task "$w/gen.jsonl" --max-gen-tokens 16 \
		--log-samples "$w/ev-$1.jsonl" >"$LOGDIR/ev-$1.log" 2>&1
	echo $? >"$w/ev-$1.rc"
	jq -r 'select(.requests[0].loglikelihood != null) | .requests[].loglikelihood' "$w/ev-$1.jsonl" >"$w/ev-$1.ll" 2>/dev/null
	jq -c '.pred' "$w/ev-$1.jsonl" >"$w/ev-$1.pred" 2>/dev/null
}
# evdiff A B: the largest relative log-likelihood difference, and how many preds differ
evdiff() {
	printf '%s, preds differing %s' "$(paste "$w/ev-$1.ll" "$w/ev-$2.ll" | awk 'NF == 2 { n++
		d = ($1 - $2) / ($1 < 0 ? -$1 : $1); if (d < 0) d = -d; if (d > m) m = d }
		END { if (n < 100) print "incomplete"; else printf "largest relative ll difference %.2g over %d", m, n }')" \
		"$(paste "$w/ev-$1.pred" "$w/ev-$2.pred" | awk -F '\t' '$1 != $2 { n++ } END { print n + 0 }')"
}
if [ "$(cat "$w/cpu.rc")" = 0 ]; then
	ev cpu cpu fp32
	ev gf "$GPU" fp32
	ev gb "$GPU" bf16
	d=$(evdiff cpu gf)
	echo "lm-eval $GPU fp32 against the CPU: $d" >>"$LOGDIR/train.log"
	case $d in
	incomplete* | "") row "lm-eval, $GPU fp32: requests within 1e-4 of the CPU" \
		"FAIL (incomplete: exit cpu $(cat "$w/ev-cpu.rc"), $GPU $(cat "$w/ev-gf.rc"))" ;;
	*) echo "$d" | awk '{ exit !($5 <= 1e-4 && $NF == 0) }'
		judge "lm-eval, $GPU fp32: requests within 1e-4 of the CPU" $? "$d" ;;
	esac
	row "lm-eval, $GPU bf16 against the CPU (reported)" "$(evdiff cpu gb); exit $(cat "$w/ev-gb.rc")"
else
	row "lm-eval, $GPU fp32: requests within 1e-4 of the CPU" "FAIL (no CPU model)"
fi

# 2c. quality-score --model with the CPU's model: 200 documents of 1 to 7 lines packed several
# to a row; on the GPU in fp32 every bits_per_byte within 1e-4 of the CPU's, bf16 reported
part "quality-score --model"
zstd -dc "$SRCDIR/tests/data/tok/tinyshakespeare.txt.zst" | head -c 60000 |
	awk '{ b = b $0 "\n"; if (NR % (NR % 7 + 1) == 0) { printf "%s%c", b, 0; b = "" } }' |
	jq -R -s -c 'split("\u0000") | map(select(length > 0))[:200][] | {text: .}' >"$w/qs.jsonl" 2>/dev/null
# qs NAME DEVICE PRECISION
qs() {
	timeout -k 10 "$(limit 60)" quality-score --preset none --assume-lang en --device "$2" \
		--precision "$3" --model "$w/cpu" --stats "$w/qs-$1.stats" "$w/qs.jsonl" >"$w/qs-$1.jsonl" \
		2>"$LOGDIR/qs-$1.log"
	echo $? >"$w/qs-$1.rc"
	jq -r '.metadata.quality.model.bits_per_byte // 0' "$w/qs-$1.jsonl" >"$w/qs-$1.b" 2>/dev/null
}
# qsdiff A B: the largest relative difference of bits_per_byte, and the GPU's throughput
qsdiff() {
	printf '%s; %s' "$(paste "$w/qs-$1.b" "$w/qs-$2.b" | awk 'NF == 2 { n++
		d = ($1 - $2) / ($1 ? $1 : 1); if (d < 0) d = -d; if (d > m) m = d }
		END { if (n < 200) print "incomplete"; else printf "largest relative difference %.2g over %d", m, n }')" \
		"$(jq -r '.quality.model | "\(.documents_per_s) documents/s, \(.tokens_per_s) tokens/s"' "$w/qs-$2.stats" 2>/dev/null)"
}
if [ "$(cat "$w/cpu.rc")" = 0 ]; then
	qs cpu cpu fp32
	qs gf "$GPU" fp32
	qs gb "$GPU" bf16
	d=$(qsdiff cpu gf)
	echo "quality-score $GPU fp32 against the CPU: $d" >>"$LOGDIR/train.log"
	case $d in
	incomplete* | "") row "quality-score --model, $GPU fp32: within 1e-4 of the CPU" \
		"FAIL (incomplete: exit cpu $(cat "$w/qs-cpu.rc"), $GPU $(cat "$w/qs-gf.rc"))" ;;
	*) echo "$d" | awk '{ exit !($4 + 0 <= 1e-4) }'
		judge "quality-score --model, $GPU fp32: within 1e-4 of the CPU" $? "$d" ;;
	esac
	row "quality-score --model, $GPU bf16 (reported)" "$(qsdiff cpu gb); exit $(cat "$w/qs-gb.rc")"
else
	row "quality-score --model, $GPU fp32: within 1e-4 of the CPU" "FAIL (no CPU model)"
fi

# 2d. lm-train --ppo: the policy, reference, reward and value models in one process on the
# GPU. A base model (a tokenizer with end-of-text) and a reward model made on the CPU; the
# first batch of rollouts and the last minibatch's gradients (--dump-grads) on the CPU and on
# the GPU (fp32) from the same models and seed: where a rollout's sampled ids are the same on
# both (nearly all: the logits differ by rounding only), its log-probabilities, values and
# score within 1e-3; and 3 steps on the GPU: the first rollouts' KL 0 (the policy is its
# reference) and, with one epoch of one minibatch, the ratio 1 within 1e-4; memory reported
part "ppo"
p=$w/ppo
mkdir -p "$p"
bpe-train -q --vocab-size 300 --special '<|endoftext|>' -o "$p/tok.json" "$w/ts.jsonl" &&
	shard-pack -q -t "$p/tok.json" --val-fraction 0 -o "$p/s" "$w/ts.jsonl" &&
	printf '{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 64}\n' >"$p/m.json" &&
	awk 'BEGIN { for (i = 0; i < 64; i++) { q = substr("Question: what is the word number NNN?\n", 1, 8 + i % 13);
		r = substr("the answer is a word", 1, 3 + (i * 7) % 17);
		printf "{\"prompt\": \"%s\\n\", \"chosen\": \"%s\", \"rejected\": \"no, %s\"}\n", q, r, substr(r, 3) } }' >"$p/pairs.jsonl" &&
	timeout -k 10 "$(limit 60)" lm-train --device cpu --data "$p/s/*.bin" -t "$p/tok.json" --model "$p/m.json" \
		--context 64 -b 8 --steps 30 --lr 3e-3 -q -o "$p/base" 2>"$LOGDIR/ppo-base.log" &&
	timeout -k 10 "$(limit 60)" lm-train --device cpu --reward "$p/pairs.jsonl" --init "$p/base" --context 64 \
		-b 8 --steps 10 -q -o "$p/rm" 2>"$LOGDIR/ppo-rm.log"
ppo_ok=$?
# ppo NAME DEVICE [OPTION]...
ppo() {
	_n=$1 _d=$2
	shift 2
	timeout -k 10 "$(limit 60)" lm-train --ppo "$p/pairs.jsonl" --init "$p/base" --reward "$p/rm" --device "$_d" \
		--precision fp32 --context 64 --max-new 16 -b 8 --lr 1e-3 --seed 7 -o "$p/$_n" "$@" \
		>"$LOGDIR/ppo-$_n.log" 2>&1
	echo $? >"$p/$_n.rc"
}
if [ $ppo_ok = 0 ]; then
	ppo dcpu cpu --mini-batch 4 --steps 1 --dump-grads "$p/dump-cpu"
	ppo dgpu "$GPU" --mini-batch 4 --steps 1 --dump-grads "$p/dump-gpu"
	d=$(jq -n -r --slurpfile a "$p/dump-cpu/rollouts.jsonl" --slurpfile b "$p/dump-gpu/rollouts.jsonl" '
		def abs: if . < 0 then -. else . end;
		[range(0; $a | length) as $i | [$a[$i], $b[$i]] | select(.[0].response_ids == .[1].response_ids) |
		 ([range(0; .[0].lp | length) as $t | (.[0].lp[$t] - .[1].lp[$t]) | abs] +
		  [range(0; .[0].value | length) as $t | (.[0].value[$t] - .[1].value[$t]) | abs] +
		  [(.[0].score - .[1].score) | abs]) | max] as $m |
		"\($m | length) of \($a | length) rollouts sampled alike; largest difference \($m | max // "none")"' 2>/dev/null)
	echo "ppo $GPU fp32 against the CPU: $d" >>"$LOGDIR/train.log"
	echo "$d" | awk '{ exit !($1 >= 6 && $NF + 0 <= 1e-3) }'
	judge "lm-train --ppo, $GPU fp32: rollouts within 1e-3 of the CPU" $? "$d; exit cpu $(cat "$p/dcpu.rc"), $GPU $(cat "$p/dgpu.rc")"
	ppo g3 "$GPU" --steps 3 --ppo-epochs 1 -v
	d=$(jq -r 'select(.step == 1 and has("objective/kl")) | "kl \(."objective/kl"), ratio \(."val/ratio")"' "$p/g3/metrics.jsonl" 2>/dev/null)
	mem=$(sed -n 's/.*memory on the .* after the first rollouts: \([0-9]* MiB\).*/\1/p' "$LOGDIR/ppo-g3.log")
	echo "$d" | awk '{ r = $4 + 0; exit !($2 == "0," && r > 0.9999 && r < 1.0001) }'
	judge "lm-train --ppo 3 steps on $GPU: KL 0, ratio 1" $? "$d; peak ${mem:-?}; exit $(cat "$p/g3.rc")"
else
	row "lm-train --ppo on $GPU" "FAIL (the base or reward model on the CPU did not build)"
fi

# 3. --deterministic twice: the same numbers step by step (a few seconds)
part "deterministic runs"
for r in det1 det2; do
	baby $r "$GPU" 100 --precision bf16 --deterministic
	jq -c 'select(.loss) | [.step, .loss, .grad_norm]' "$w/$r/metrics.jsonl" >"$w/$r.txt" 2>/dev/null
done
n=$(wc -l <"$w/det1.txt")
if [ "$n" = 100 ] && cmp -s "$w/det1.txt" "$w/det2.txt"; then
	row "--deterministic twice on $GPU: identical losses" "PASS (100 steps)"
else
	first=$(diff "$w/det1.txt" "$w/det2.txt" | sed -n '2p')
	row "--deterministic twice on $GPU: identical losses" "FAIL ($n steps; first difference: ${first:-none})"
fi

# 4. checkpoints between devices: 20 steps, then --resume on the other device to 30
part "checkpoints between devices"
# sane NAME: 30 steps, the first resumed one near step 20 (a lost state starts over near
# ln 257 = 5.5), and learning on
sane() {
	jq -r 'select(.loss) | "\(.step) \(.loss)"' "$w/$1/metrics.jsonl" 2>/dev/null |
		awk '{ l[$1] = $2; n++ }
		END { if (n != 30 || !(20 in l) || !(21 in l) || !(30 in l)) { print "incomplete"; exit 1 }
			printf "loss at step 20 %.3f, 21 %.3f, 30 %.3f", l[20], l[21], l[30]
			exit !(l[21] <= 1.1 * l[20] && l[30] < l[20]) }'
}
for k in 1 2; do
	if [ $k = 1 ]; then a="$GPU bf16" b="cpu fp32"; else a="cpu fp32" b="$GPU bf16"; fi
	n=x$k
	rm -rf "${w:?}/$n"
	baby "$n" "${a% *}" 20 --warmup 5 --precision "${a#* }"
	[ "$(cat "$w/$n.rc")" = 0 ] && baby "$n" "${b% *}" 30 --warmup 5 --precision "${b#* }" --resume
	detail=$(sane "$n")
	judge "checkpoint: 20 steps on $a, 10 resumed on $b" $? "$detail; exit $(cat "$w/$n.rc")"
done

# 4b. data parallel through NCCL: with 2 GPUs and mpirun, 2 ranks x -b 6 (a GPU each) against
# one GPU x -b 12, in fp32 (the same rows: the losses within 1e-3, relative), and the 2 ranks
# again with --zero 1 (ZeRO-1) against the first 2 (within 1e-5: for 2 ranks each sum is one
# addition either way); with one GPU, check-nccl (a 1-rank NCCL sum, reduce-scatter and
# all-gather give the values back)
part "data parallel (NCCL)"
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [ $SELF = 1 ]; then
	row "data parallel through NCCL" "SKIP (the CPU stands in for the GPU)"
elif [ "$ngpu" -ge 2 ] && command -v mpirun >/dev/null; then
	rm -rf "${w:?}/dp1" "$w/dp2" "$w/dp2z"
	baby dp1 "$GPU" 30 --precision fp32
	# dp2 RUN [OPTION]...: 2 ranks, a GPU each, x -b 6
	dp2() {
		d=$1
		shift
		OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 10 "$(limit 120)" \
			mpirun --oversubscribe -np 2 sh -c 'CUDA_VISIBLE_DEVICES=$OMPI_COMM_WORLD_LOCAL_RANK exec "$@"' \
			sh lm-train --device "$GPU" --precision fp32 --data "$w/s/*.bin" -t "$w/bytes.json" \
			--model "$w/baby.json" --context 64 -b 6 --steps 30 --lr 1e-3 --warmup 20 \
			--eval-every 0 --save-every 1000 -o "$w/$d" "$@" >"$LOGDIR/$d.log" 2>&1
	}
	# dpgap A B: the largest relative gap between two runs' losses, step by step
	dpgap() {
		losses "$1" >"$w/$1.loss"
		losses "$2" >"$w/$2.loss"
		paste "$w/$1.loss" "$w/$2.loss" | awk '{ g = ($1 - $2) / $1; g = g < 0 ? -g : g
			if (g > m) m = g; n++ } END { if (n != 30) print "incomplete"; else printf "%.2g", m }'
	}
	dp2 dp2
	rc=$?
	gap=$(dpgap dp1 dp2)
	grep -q 'summed by NCCL' "$LOGDIR/dp2.log"
	nccl=$?
	ok=$(awk -v g="$gap" -v rc=$rc -v n=$nccl 'BEGIN { print !(rc == 0 && n == 0 && g != "incomplete" && g + 0 <= 1e-3) }')
	judge "data parallel: 2 GPUs x -b 6 vs 1 x -b 12 (NCCL)" "$ok" "largest loss gap $gap; exit $rc; see dp2.log"
	dp2 dp2z --zero 1 -v
	rc=$?
	gap=$(dpgap dp2 dp2z)
	grep -q 'summed by NCCL' "$LOGDIR/dp2z.log" && grep -q 'ZeRO-1' "$LOGDIR/dp2z.log"
	nccl=$?
	same=different
	cmp -s "$w/dp2/step-0000030/model.safetensors" "$w/dp2z/step-0000030/model.safetensors" &&
		same="the same"
	ok=$(awk -v g="$gap" -v rc=$rc -v n=$nccl 'BEGIN { print !(rc == 0 && n == 0 && g != "incomplete" && g + 0 <= 1e-5) }')
	judge "ZeRO-1: 2 GPUs with --zero 1 vs without (NCCL)" "$ok" "largest loss gap $gap, $same weights; exit $rc; see dp2z.log"
else
	timeout -k 10 "$(limit 60)" "$BUILD/tests/gpu/check-nccl" >"$LOGDIR/nccl.log" 2>&1
	rc=$?
	judge "NCCL: a 1-rank sum, reduce-scatter, all-gather (one GPU)" $rc "$(tail -n 1 "$LOGDIR/nccl.log")"
fi

# 5. GPT-2 124M (about 10 s a try; a micro-batch that does not fit fails at once)
part "GPT-2 124M timing"
tok=$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst
if [ $SELF = 1 ]; then model=tiny ctx=64 steps=4; else model=gpt2-124m ctx=1024 steps=12; fi
shard-pack -q -t "$tok" --val-fraction 0 -o "$w/g" "$w/ts.jsonl"
mb=
for try in 32 16 8; do
	rm -rf "$w/g124"
	log=$LOGDIR/g124-b$try.log
	timeout -k 10 "$(limit 120)" lm-train --device "$GPU" --precision bf16 --data "$w/g/*.bin" \
		-t "$tok" --model $model --context $ctx -b $try --steps $steps --eval-every 0 \
		--save-every 1000 -v -o "$w/g124" 2>"$log" &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		[ -n "$gpuname" ] && nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -n 1
		sleep 0.5
	done >"$w/mem-b$try.txt" 2>/dev/null
	wait $pid
	rc=$?
	if [ $rc = 0 ]; then
		mb=$try
		break
	fi
	echo "micro-batch $try: exit $rc ($(tail -n 1 "$log"))"
done
if [ -n "$mb" ]; then
	log=$LOGDIR/g124-b$mb.log
	tps=$(jq -r 'select(.step > 2 and .tokens_per_s) | .tokens_per_s' "$w/g124/metrics.jsonl" |
		sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.0f", a[int((NR + 1) / 2)] }')
	# 6 N + 12 L T C FLOP a token (the brief's MFU), N and L, C from lm-train's summary
	params=$(sed -n 's/.*model, \([0-9.]*\)M parameters (\([0-9]*\) layers, width \([0-9]*\).*/\1 \2 \3/p' "$log" | head -n 1)
	case $gpuname in
	*H100* | *H200*) peak=989e12 ;;
	*A100*) peak=312e12 ;;
	*) peak= ;;
	esac
	mfu=$(echo "$params" | awk -v tps="${tps:-0}" -v T=$ctx -v peak="$peak" 'NF == 3 && peak != "" {
		printf "%.1f%%", 100 * tps * (6 * $1 * 1e6 + 12 * $2 * T * $3) / peak; exit } { print "?" }')
	mem=$(sed -n 's/.*memory on the [^:]*: \([0-9]*\) MiB.*/\1/p' "$log" | head -n 1)
	dev=$(sort -n "$w/mem-b$mb.txt" | tail -n 1)
	row "$model bf16, context $ctx, micro-batch $mb" \
		"${tps:-?} tokens/s, MFU ${mfu:-?} (peak ${peak:-unknown} for ${gpuname:-?}), memory ${mem:-?} MiB in tensors, ${dev:-?} MiB on the device (reported)"
else
	row "$model bf16, context $ctx: micro-batch 32, 16 or 8" "FAIL (none ran: see g124-b*.log)"
fi
rm -rf "$w/g124"

# 6. compute-sanitizer, one step each (20-40 s each, mostly loading under the tool; last,
# as the least predictable in time)
part "compute-sanitizer"
san=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}/bin/compute-sanitizer" 2>/dev/null)
# sanitize TOOL MODEL PRECISION CONTEXT BATCH
sanitize() {
	_tool=$1 _model=$2 _prec=$3 _ctx=$4 _b=$5
	_n=$_tool-$(basename "$_model" .json)-$_prec
	_what="compute-sanitizer $_tool, one step of $(basename "$_model" .json) ($_prec)"
	if [ $SELF = 0 ] && [ -z "$san" ]; then
		row "$_what" "FAIL (compute-sanitizer not found)"
		return
	fi
	rm -rf "${w:?}/$_n"
	if [ $SELF = 1 ]; then set --; else set -- "$san" --tool "$_tool" --error-exitcode 9; fi
	timeout -k 10 "$(limit 150)" "$@" lm-train --device "$GPU" --precision "$_prec" \
		--data "$w/s/*.bin" -t "$w/bytes.json" --model "$_model" --context "$_ctx" -b "$_b" \
		--steps 1 --eval-every 0 -q -o "$w/$_n" >"$LOGDIR/$_n.log" 2>&1
	_rc=$?
	if [ $_rc = 0 ] && ! grep -Eq '(ERROR|RACECHECK) SUMMARY: [1-9]' "$LOGDIR/$_n.log"; then
		row "$_what" PASS
	else
		row "$_what" "FAIL (exit $_rc: see $_n.log)"
	fi
}
sanitize memcheck tiny fp32 200 3
sanitize memcheck "$w/baby.json" bf16 64 4
sanitize racecheck tiny bf16 200 3
sanitize racecheck tiny fp32 200 3

echo
echo "== check-gpu summary ($LOGDIR, $(($(date +%s) - t0)) s)"
cat "$table"
! grep -q FAIL "$table"
