#!/usr/bin/env bash
# step.sh - GPT-2 124M training step time, batch 4 x context 64, on the same tinyshakespeare
# GPT-2 tokens: llm.c's CPU trainer (train_gpt2.c) and lm-train side by side, medians, ratio,
# and the fraction of the CPU's peak each reaches.
#
# usage: bench/train/step.sh LLMC_DIR [WORK_DIR]
#   LLMC_DIR: a checkout of karpathy/llm.c with train_gpt2 built by its own Makefile
#             (`make train_gpt2`: -Ofast -march=native -fopenmp); this script builds nothing.
# env: BIN (default build/bin), THREADS (default 2), OURS_STEPS (default 12), LLMC_STEPS (steps
#      of llm.c's timed before it is stopped, default 16),
#      TEXT (default: $CRAWL2LM_SHARED_DATA/text/tinyshakespeare.txt, ../shared/data beside the
#      repository),
#      LLMC_TIMEOUT (seconds llm.c may run, default 400; the steps it printed by then are used)
# Each step is timed twice: wall time (llm.c's own "took", lm-train's step_s) and CPU time (user
# + sys of all the process's threads between one step's line and the next: bench/lib.sh
# cpu_lines), which a busy machine does not stretch. Medians from the third step on.
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

# llm.c: its own step loop (lr 1e-4, AdamW beta2 0.999, weight decay 0, no clipping); its
# evaluations (before steps 0, 10, 20, ...) and samples (before step 20) fall between two step
# lines: the median leaves them out
echo "llm.c: $(git -C "$llmc" rev-parse --short HEAD 2>/dev/null || echo '?') train_gpt2, B=4 T=64, $THREADS threads"
MAX_LINES=${LLMC_STEPS:-16} TIMEOUT=${LLMC_TIMEOUT:-400} cpu_lines llmc.cpu llmc.log '^step [0-9]+: train loss' \
	env OMP_NUM_THREADS="$THREADS" stdbuf -oL "$llmc/train_gpt2" >llmc.log 2>&1 || true
llmc_s=$(sed -n 's/^step \([0-9]*\): train loss .* (took \([0-9.]*\) ms)/\1 \2/p' llmc.log | awk '$1 > 1 { print $2 / 1000 }' | median_low)
llmc_c=$(cpu_steps llmc.cpu | median_low)
llmc_n=$(grep -c '^step [0-9]*: train loss' llmc.log || true)
echo "llm.c  median step ${llmc_s} s wall, ${llmc_c} s CPU, over $llmc_n steps"

# ours: the same optimizer settings; once as this shell's environment has OpenBLAS, once with
# OPENBLAS_CORETYPE unset (OpenBLAS picks the kernels for this CPU itself); sets wall and cpu
ours() {
	rm -rf ours
	cpu_lines ours.cpu ours/metrics.jsonl '"step"' "$@" "$BIN/lm-train" --data shards/shard_train_000000.bin \
		-t "$r50k" --model gpt2-124m --context 64 -b 4 --steps "${OURS_STEPS:-12}" --lr 1e-4 \
		--schedule constant --beta2 0.999 --weight-decay 0 --clip 0 --eval-every 0 \
		--save-every 100000 -j "$THREADS" -q -o ours
	wall=$(jq -r 'select(.step > 2 and .step_s != null) | .step_s' ours/metrics.jsonl | median_low)
	cpu=$(cpu_steps ours.cpu | median_low)
}
flops=$(awk 'BEGIN { printf "%.4g", 256 * (6 * (12 * (4 * 768 * 768 + 2 * 4 * 768 * 768) + 50304 * 768) + 6 * 12 * 64 * 768) }')
env_ct=${OPENBLAS_CORETYPE:-unset}
ours env
s1=$wall c1=$cpu
ours env -u OPENBLAS_CORETYPE
s2=$wall c2=$cpu
# the bound: 32 fp32 FLOP a cycle a core (two 256-bit FMA pipes: Zen 4, or AVX2 cores) at the
# clock the cores run during the run (clock.c: a chain of dependent additions, no cycle
# counters needed), THREADS cores for wall time, one for each CPU second
cc -O2 -pthread -o clock "$here/clock.c"
ghz=$(./clock "$THREADS" | sed -n 's/^median \([0-9.]*\) GHz/\1/p')
nominal=$(grep -m1 'cpu MHz' /proc/cpuinfo | awk '{ printf "%.2f", $4 / 1000 }')
echo "clock: $ghz GHz measured (clock.c), $nominal GHz nominal (/proc/cpuinfo)"
echo "ours   median step $s1 s wall, $c1 s CPU (OPENBLAS_CORETYPE=$env_ct); $s2 s wall, $c2 s CPU (unset: OpenBLAS's own choice)"
awk -v l="$llmc_s" -v lc="$llmc_c" -v a="$s1" -v ac="$c1" -v b="$s2" -v bc="$c2" -v f="$flops" \
	-v t="$THREADS" -v g="$ghz" 'BEGIN {
	p = t * 32 * g; c = 32 * g
	printf "step FLOP %.3g; bound %.1f GFLOP/s wall = %d cores x 32 FLOP/cycle x %s GHz, %.1f GFLOP a CPU second\n", f, p, t, g, c
	split("llm.c|ours|ours (OpenBLAS choosing its kernels)", name, "|")
	w[1] = l; w[2] = a; w[3] = b; u[1] = lc; u[2] = ac; u[3] = bc
	for (i = 1; i <= 3; i++) {
		if (w[i] > 0) printf "%s: wall %.2f s, %.0f%% of the bound", name[i], w[i], 100 * f / w[i] / 1e9 / p
		if (u[i] > 0) printf "; CPU %.2f s, %.0f%% of the bound", u[i], 100 * f / u[i] / 1e9 / c
		if (i > 1 && w[i] > 0 && l > 0) printf "; llm.c / ours %.2fx wall", l / w[i]
		if (i > 1 && u[i] > 0 && lc > 0) printf ", %.2fx CPU", lc / u[i]
		printf "\n"
	}
}'
