#!/usr/bin/env bash
# A real, small IsoFLOP sweep on this machine with pipelines/scaling/sweep.mk: a 2,048-token
# BPE and shards from 40 MB of bench/corpus's English text (Debian documentation; 2% held out),
# then GPT-2 shapes 1x16 .. 4x64 at budgets 3e11, 1e12 and 3e12 FLOP, one thread a run, and
# lm-scaling's fit, plan and plot of them (bench/data/scaling-sweep/: fit.txt, plan.txt,
# scaling.png, plan.csv).
#
#   bench/scaling/sweep.sh          JOBS=1 (runs side by side), BUDGETS, SHAPES as sweep.mk
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
W=$BENCH/data/scaling-sweep
mkdir -p "$W"
[ -s "$BENCH/data/corpus-en.jsonl" ] || "$BENCH/corpus/make-corpus.sh" en
if [ ! -s "$W/shards/manifest.json" ]; then
	head -c 40000000 "$BENCH/data/corpus-en.jsonl" | sed '$d' >"$W/text.jsonl"
	"$BIN/bpe-train" -q --vocab-size 2048 -o "$W/tok.json" "$W/text.jsonl"
	"$BIN/shard-pack" -q -t "$W/tok.json" -o "$W/shards" --val-fraction 0.02 "$W/text.jsonl"
fi
start=$(date +%s)
make -f "$ROOT/pipelines/scaling/sweep.mk" -j "${JOBS:-1}" BIN="$BIN" OUT="$W" TOK="$W/tok.json" \
	TRAIN="$W/shards/shard_train_*.bin" VAL="$W/shards/shard_val_*.bin" \
	${BUDGETS:+BUDGETS="$BUDGETS"} ${SHAPES:+SHAPES="$SHAPES"}
log "sweep: $(( $(date +%s) - start )) s wall"
cat "$W/fit.txt" "$W/plan.txt"
