#!/bin/sh
# check-gpu.sh - make check-gpu: the CUDA backend on a GPU. Every operation against the CPU
# backend (check-kernels), a training step of whole models, a 200-step run on tinyshakespeare
# whose loss follows the CPU's within 2%, compute-sanitizer's memcheck on one step, and a short
# GPT-2 124M timing. Logs go to $LOGDIR (default build/gpu-logs); a PASS/FAIL table at the end.
# Exit 0 when all pass (or, saying SKIP, when there is no GPU), 1 when a check fails.
set -u
BUILD=${BUILD:-build}
SRCDIR=${SRCDIR:-.}
LOGDIR=${LOGDIR:-$BUILD/gpu-logs}
mkdir -p "$LOGDIR"
PATH=$BUILD/bin:$PATH
LD_LIBRARY_PATH=$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH LD_LIBRARY_PATH
table=$LOGDIR/table.txt
: >"$table"
row() { printf '%-44s %s\n' "$1" "$2" | tee -a "$table"; }

"$BUILD/tests/gpu/check-kernels" >"$LOGDIR/kernels.log" 2>&1
rc=$?
cat "$LOGDIR/kernels.log"
if [ $rc = 77 ]; then
	echo "check-gpu: SKIP: no usable GPU here (see above); nothing was checked"
	exit 0
fi
[ $rc = 0 ] && row "kernels and whole steps (check-kernels)" PASS || row "kernels and whole steps (check-kernels)" FAIL

# 200 steps, byte-level tinyshakespeare, the same seed on both devices
w=$LOGDIR/train
rm -rf "$w" && mkdir -p "$w"
zstd -dc "$SRCDIR/tests/data/tok/tinyshakespeare.txt.zst" | jq -R -s -c '{id: "ts", text: .}' >"$w/ts.jsonl"
bpe-train -q --vocab-size 257 -o "$w/bytes.json" "$w/ts.jsonl"
shard-pack -q -t "$w/bytes.json" --val-fraction 0 -o "$w/s" "$w/ts.jsonl"
printf '{"model_type": "gpt2", "n_embd": 128, "n_layer": 4, "n_head": 4, "n_positions": 64}\n' >"$w/baby.json"
for d in cpu cuda; do
	lm-train --device $d --data "$w/s/*.bin" -t "$w/bytes.json" --model "$w/baby.json" --context 64 -b 12 \
		--steps 200 --lr 1e-3 --warmup 20 --eval-every 0 --save-every 1000 -q -o "$w/$d" 2>"$w/$d.err"
	echo "$d: exit $?" >>"$w/status"
done
# mean loss over windows of 20 steps; the largest relative gap
gap=$(jq -r 'select(.loss) | .loss' "$w/cpu/metrics.jsonl" | paste - /dev/null | cut -f1 >"$w/cpu.txt";
	jq -r 'select(.loss) | .loss' "$w/cuda/metrics.jsonl" >"$w/cuda.txt";
	paste "$w/cpu.txt" "$w/cuda.txt" | awk '{ a += $1; b += $2 } NR % 20 == 0 { g = (a - b) / a; if (g < 0) g = -g; if (g > m) m = g; a = b = 0 } END { if (NR < 200) print "incomplete"; else printf "%.4f", m }')
echo "largest gap of 20-step mean losses, CUDA against CPU: $gap" | tee "$LOGDIR/train.log"
case $gap in
incomplete | "") row "200-step run follows the CPU within 2%" "FAIL ($(cat "$w/status" | tr '\n' ' '))" ;;
*) awk -v g="$gap" 'BEGIN { exit !(g <= 0.02) }' && row "200-step run follows the CPU within 2%" "PASS ($gap)" ||
	row "200-step run follows the CPU within 2%" "FAIL ($gap)" ;;
esac

# memcheck on one step
if command -v compute-sanitizer >/dev/null 2>&1; then
	rm -rf "$w/mc"
	compute-sanitizer --tool memcheck --error-exitcode 9 lm-train --device cuda --data "$w/s/*.bin" \
		-t "$w/bytes.json" --model "$w/baby.json" --context 64 -b 4 --steps 1 -q -o "$w/mc" \
		>"$LOGDIR/memcheck.log" 2>&1
	[ $? = 0 ] && row "compute-sanitizer memcheck, one step" PASS || row "compute-sanitizer memcheck, one step" FAIL
else
	row "compute-sanitizer memcheck, one step" "FAIL (compute-sanitizer not found)"
fi

# a short timing (reported, not judged)
shard-pack -q -t "$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst" --val-fraction 0 -o "$w/g" "$w/ts.jsonl"
rm -rf "$w/g124"
lm-train --device cuda --data "$w/g/*.bin" -t "$SRCDIR/data/tokenizers/r50k_base.tiktoken.zst" --model gpt2-124m \
	--context 1024 -b 8 --steps 10 --eval-every 0 --save-every 1000 -q -o "$w/g124" 2>"$LOGDIR/g124.err"
tps=$(jq -r 'select(.step > 2 and .tokens_per_s) | .tokens_per_s' "$w/g124/metrics.jsonl" 2>/dev/null | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
row "GPT-2 124M, 8 x 1024, plain fp32 kernels" "${tps:-?} tokens/s (reported)"

echo
echo "== check-gpu summary ($LOGDIR)"
cat "$table"
! grep -q FAIL "$table"
