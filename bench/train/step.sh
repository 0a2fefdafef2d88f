#!/usr/bin/env bash
# step.sh - GPT-2 124M training step time, batch 4 x context 64, on the same tinyshakespeare
# GPT-2 tokens: llm.c's CPU trainer (train_gpt2.c) and lm-train side by side, medians, ratio,
# and the fraction of the CPU's peak each reaches.
#
# usage: bench/train/step.sh LLMC_DIR [WORK_DIR]
#   LLMC_DIR: a checkout of karpathy/llm.c with train_gpt2 built by its own Makefile
#             (`make train_gpt2`: -Ofast -march=native -fopenmp); this script builds nothing.
# env: BIN (default build/bin), THREADS (default 2), OURS_STEPS (default 12),
#      TEXT (default: $CRAWL2LM_SHARED_DATA/text/tinyshakespeare.txt, ../shared/data beside the
#      repository),
#      LLMC_TIMEOUT (seconds llm.c may run, default 400: its 40 steps plus evaluations and
#      sampling; the steps it printed by then are used)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
llmc_args step.sh train_gpt2 step "$@"
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-$VPY}
TEXT=${TEXT:-${CRAWL2LM_SHARED_DATA:-$ROOT/../shared/data}/text/tinyshakespeare.txt}
[ -f "$TEXT" ] || { echo "step.sh: no text at '$TEXT': set TEXT=FILE (tinyshakespeare.txt) or CRAWL2LM_SHARED_DATA" >&2; exit 2; }
mkdir -p "$work/dev/data/tinyshakespeare"
cd "$work"

# the same data for both: GPT-2 tokens of tinyshakespeare (one document a speech), 90/10
jq -R -s -c 'split("\n\n") | to_entries[] | {id: "speech-\(.key)", text: .value}' "$TEXT" >speeches.jsonl
rm -rf shards && "$BIN/shard-pack" -q -t "$r50k" --val-fraction 0.1 -o shards speeches.jsonl
cp shards/shard_train_000000.bin dev/data/tinyshakespeare/tiny_shakespeare_train.bin
cp shards/shard_val_000000.bin dev/data/tinyshakespeare/tiny_shakespeare_val.bin
[ -f gpt2_124M.bin ] || "$PYTHON" "$here/llmc-init.py" gpt2_124M.bin

# llm.c: its own step loop (lr 1e-4, AdamW beta2 0.999, weight decay 0, no clipping)
echo "llm.c: $(git -C "$llmc" rev-parse --short HEAD 2>/dev/null || echo '?') train_gpt2, B=4 T=64, $THREADS threads"
OMP_NUM_THREADS=$THREADS timeout "${LLMC_TIMEOUT:-400}" "$llmc/train_gpt2" >llmc.log 2>&1 || true
llmc_s=$(sed -n 's/^step \([0-9]*\): train loss .* (took \([0-9.]*\) ms)/\1 \2/p' llmc.log | awk '$1 > 0 { print $2 / 1000 }' | median_low)
llmc_n=$(grep -c '^step [0-9]*: train loss' llmc.log || true)
echo "llm.c  median step ${llmc_s} s over $llmc_n steps (step 0 left out)"

# ours: the same optimizer settings; once as this shell's environment has OpenBLAS, once with
# OPENBLAS_CORETYPE unset (OpenBLAS picks the kernels for this CPU itself)
ours() {
	rm -rf ours
	"$@" "$BIN/lm-train" --data shards/shard_train_000000.bin -t "$r50k" --model gpt2-124m --context 64 -b 4 \
		--steps "${OURS_STEPS:-12}" --lr 1e-4 --schedule constant --beta2 0.999 --weight-decay 0 --clip 0 \
		--eval-every 0 --save-every 100000 -j "$THREADS" -q -o ours
	jq -r 'select(.step > 1 and .step_s != null) | .step_s' ours/metrics.jsonl | median_low
}
flops=$(awk 'BEGIN { printf "%.4g", 256 * (6 * (12 * (4 * 768 * 768 + 2 * 4 * 768 * 768) + 50304 * 768) + 6 * 12 * 64 * 768) }')
env_ct=${OPENBLAS_CORETYPE:-unset}
s1=$(ours env)
s2=$(ours env -u OPENBLAS_CORETYPE)
# the bound: THREADS x 32 fp32 FLOP a cycle (two 256-bit FMA pipes: Zen 4, or AVX2 cores)
# at the clock the cores run during the run (clock.c: a chain of dependent additions, no
# cycle counters needed), and at the nominal clock /proc/cpuinfo reports
cc -O2 -pthread -o clock "$here/clock.c"
ghz=$(./clock "$THREADS" | sed -n 's/^median \([0-9.]*\) GHz/\1/p')
nominal=$(grep -m1 'cpu MHz' /proc/cpuinfo | awk '{ printf "%.2f", $4 / 1000 }')
peak=$(awk -v t="$THREADS" -v g="$ghz" 'BEGIN { printf "%.1f", t * 32 * g }')
echo "clock: $ghz GHz measured (clock.c), $nominal GHz nominal (/proc/cpuinfo)"
echo "ours   median step $s1 s (OPENBLAS_CORETYPE=$env_ct), $s2 s (unset: OpenBLAS's own choice)"
awk -v l="$llmc_s" -v a="$s1" -v b="$s2" -v f="$flops" -v p="$peak" -v g="$ghz" 'BEGIN {
	printf "step FLOP %.3g; peak %s GFLOP/s = %s threads x 32 FLOP/cycle x %s GHz (measured clock)\n", f, p, ENVIRON["THREADS"] ? ENVIRON["THREADS"] : 2, g
	printf "llm.c %.2f s: %.1f GFLOP/s, %.0f%% of peak\n", l, f / l / 1e9, 100 * f / l / 1e9 / p
	printf "ours  %.2f s: %.1f GFLOP/s, %.0f%% of peak; llm.c / ours = %.2fx\n", a, f / a / 1e9, 100 * f / a / 1e9 / p, l / a
	printf "ours  %.2f s: %.1f GFLOP/s, %.0f%% of peak; llm.c / ours = %.2fx (OpenBLAS choosing its kernels)\n", b, f / b / 1e9, 100 * f / b / 1e9 / p, l / b
}'
