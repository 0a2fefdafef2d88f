#!/usr/bin/env bash
# throughput.sh - GPT-2 124M (or the Llama-style preset) training throughput on one GPU:
# llm.c's train_gpt2cu and lm-train side by side on the same shards, context 1024, bf16, the
# largest micro-batch that fits for each; medians of the step times, tokens/s, MFU, the ratio.
#
# usage: bench/gpu/throughput.sh LLMC_DIR [WORK_DIR]
#   LLMC_DIR: a checkout of karpathy/llm.c with train_gpt2cu built by its own Makefile
#             (`make train_gpt2cu`; USE_CUDNN=1 for its cuDNN attention); this script builds
#             nothing and never copies llm.c's code.
# env: BIN (default build/bin), BATCHES (micro-batches to try, largest first; default
#      "64 32 16 8"), STEPS (default 30; the first 5 are left out of the medians), MODEL
#      (gpt2-124m or llama-125m; llm.c runs only for gpt2-124m), PEAK (dense bf16 FLOP/s of the
#      card; default 989e12, H100/H200 SXM), TEXT (the text to tokenize).
# MFU = (6 x parameters + 12 x layers x context x width) FLOP per token / PEAK, for both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
llmc_args throughput.sh train_gpt2cu gpu "$@"
BATCHES=${BATCHES:-64 32 16 8}
STEPS=${STEPS:-30}
MODEL=${MODEL:-gpt2-124m}
PEAK=${PEAK:-989e12}
TEXT=${TEXT:-$ROOT/tests/data/tok/tinyshakespeare.txt.zst}
T=1024
mkdir -p "$work" && cd "$work"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

# the same GPT-2 tokens for both (llm.c reads the shards shard-pack writes)
zstd -dcf "$TEXT" 2>/dev/null | jq -R -s -c '{id: "text", text: .}' >text.jsonl || jq -R -s -c '{id: "text", text: .}' "$TEXT" >text.jsonl
rm -rf shards && "$BIN/shard-pack" -q -t "$r50k" --val-fraction 0 -o shards text.jsonl
shard=$(ls shards/shard_train_*.bin | head -1)

# FLOP per token as the issue defines MFU, from the model's parameter count
flops_per_token() { awk -v p="$1" -v l="$2" -v c="$3" -v t="$T" 'BEGIN { printf "%.6g", 6 * p + 12 * l * t * c }'; }

# llm.c: -e d12 (GPT-2 124M, random init), total batch = one micro-batch, no evaluation,
# sampling or checkpoints; its step lines carry the step time in ms
llmc_ms=""; llmc_b=""
if [ "$MODEL" = gpt2-124m ]; then
	for b in $BATCHES; do
		if timeout 600 "$llmc/train_gpt2cu" -i "$shard" -j "$shard" -e d12 -b "$b" -t $T -d $((b * T)) \
			-x "$STEPS" -v 0 -s 0 -n 0 -h 0 -l 6e-4 -u 0 -o llmc_out >"llmc-$b.log" 2>&1; then
			llmc_ms=$(sed -n 's/^step *\([0-9]*\)\/[0-9]* |.*| \([0-9.]*\) ms |.*/\1 \2/p' "llmc-$b.log" |
				awk '$1 > 5 { print $2 }' | median_low)
			[ -n "$llmc_ms" ] && { llmc_b=$b; break; }
		fi
		echo "llm.c: batch $b did not run (see $work/llmc-$b.log)"
	done
fi

# ours: the same optimizer settings as far as they are shared
ours_s=""; ours_b=""
for b in $BATCHES; do
	rm -rf "ours-$b"
	if timeout 600 "$BIN/lm-train" --device cuda --data "$shard" -t "$r50k" --model "$MODEL" --context $T -b "$b" \
		--steps "$STEPS" --lr 6e-4 --schedule constant --eval-every 0 --save-every 1000000 -q -v \
		-o "ours-$b" 2>"ours-$b.err"; then
		ours_s=$(jq -r 'select(.step > 5 and .step_s != null) | .step_s' "ours-$b/metrics.jsonl" | median_low)
		[ -n "$ours_s" ] && { ours_b=$b; break; }
	fi
	echo "lm-train: batch $b did not run (see $work/ours-$b.err)"
done

# parameters (with the vocabulary padded to 50304, as llm.c counts them), layers, width: both
# presets have 12 layers of width 768; the count comes from lm-train's own start line
layers=12 width=768 params=124475904
[ -n "$ours_b" ] && params=$(sed -n 's/.*model, \([0-9.]*\)M parameters.*/\1/p' "ours-$ours_b.err" |
	awk -v d="$params" '{ printf "%d", $1 * 1e6 } END { if (!NR) print d }')
fpt=$(flops_per_token "$params" "$layers" "$width")
report() {	# name batch step_seconds
	awk -v n="$1" -v b="$2" -v s="$3" -v f="$fpt" -v p="$PEAK" -v t="$T" 'BEGIN {
		tps = b * t / s; printf "%-10s batch %3d x %d: %8.2f ms a step, %9.0f tokens/s, MFU %.1f%%\n", n, b, t, s * 1000, tps, 100 * tps * f / p }'
}
echo "model $MODEL, $params parameters, $fpt FLOP a token, peak $PEAK FLOP/s"
[ -n "$llmc_b" ] && report "llm.c" "$llmc_b" "$(awk -v m="$llmc_ms" 'BEGIN { print m / 1000 }')"
[ -n "$ours_b" ] && report "lm-train" "$ours_b" "$ours_s"
grep -h "memory on the" "ours-$ours_b.err" 2>/dev/null || true
if [ -n "$llmc_b" ] && [ -n "$ours_b" ]; then
	awk -v lb="$llmc_b" -v lm="$llmc_ms" -v ob="$ours_b" -v os="$ours_s" -v t="$T" 'BEGIN {
		printf "tokens/s, lm-train over llm.c: %.2fx\n", (ob * t / os) / (lb * t / (lm / 1000)) }'
fi
