#!/usr/bin/env bash
# baby.sh - nanoGPT's "baby GPT" (its README's CPU example: 4 layers, 4 heads, width 128,
# context 64, batch 12, lr 1e-3, 2,000 iterations) on tinyshakespeare with a byte-level
# vocabulary, nanoGPT and lm-train side by side: wall time, and the validation loss over the
# whole held-out tenth (every non-overlapping window of 64). See bench/README.md, train/.
#
# usage: bench/train/baby.sh NANOGPT_CHECKOUT [WORK_DIR]    (fetch karpathy/nanoGPT first)
# env:   BIN (default build/bin), THREADS (default 2), SEEDS (default "0 1 2"),
#        TEXT (default: $CRAWL2LM_SHARED_DATA/text/tinyshakespeare.txt, ../shared/data beside
#        the repository),
#        SKIP_NANOGPT=1 to run ours only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nano=${1:?usage: baby.sh NANOGPT_CHECKOUT [WORK_DIR]}
work=${2:-$root/bench/data/baby}
BIN=${BIN:-$root/build/bin}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-$root/bench/.venv/bin/python}
TEXT=${TEXT:-${CRAWL2LM_SHARED_DATA:-$root/../shared/data}/text/tinyshakespeare.txt}
[ -f "$TEXT" ] || { echo "baby.sh: no text at '$TEXT': set TEXT=FILE (tinyshakespeare.txt) or CRAWL2LM_SHARED_DATA" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

# data: our byte-level tokenizer (257 ids: the bytes and <|endoftext|>), one shard, split at
# floor(0.9 n) tokens as nanoGPT splits (nanogpt-prep.py makes the same token stream)
jq -R -s -c '{id: "tinyshakespeare", text: .}' "$TEXT" >ts.jsonl
"$BIN/bpe-train" -q --vocab-size 257 -o bytes.json ts.jsonl
rm -rf shards && "$BIN/shard-pack" -q -t bytes.json --val-fraction 0 -o shards ts.jsonl
"$PYTHON" "$here/split-shard.py" shards/shard_train_000000.bin 0.9 train.bin val.bin
cat >baby.json <<'JSON'
{"model_type": "gpt2", "n_embd": 128, "n_layer": 4, "n_head": 4, "n_positions": 64}
JSON

# ours: nanoGPT's hyperparameters (AdamW betas 0.9/0.99, weight decay 0.1, clip 1, warmup 100
# then cosine to 1e-4 at 2,000); the final evaluation covers the whole val split. One run a seed
# (SEEDS): the loss differs by about 0.015 between seeds, so their mean is what is compared.
for seed in ${SEEDS:-0 1 2}; do
	rm -rf ours-$seed
	t0=$(date +%s.%N)
	"$BIN/lm-train" --data train.bin --val val.bin -t bytes.json --model baby.json --context 64 -b 12 \
		--steps 2000 --lr 1e-3 --warmup 100 --min-lr 1e-4 --beta2 0.99 --weight-decay 0.1 --clip 1 \
		--eval-every 250 --eval-batches 20 --save-every 2000 --seed "$seed" -j "$THREADS" -q -o ours-$seed
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	val=$(jq -r 'select(.step == 2000 and .val_loss != null) | .val_loss' ours-$seed/metrics.jsonl | tail -1)
	tok=$(jq -r 'select(.step == 2000 and .val_loss != null) | .val_tokens' ours-$seed/metrics.jsonl | tail -1)
	echo "ours     seed=$seed wall_s=$wall val_loss_full=$val (tokens $tok)"
done | tee ours.txt
ours_wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' ours.txt | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
ours_val=$(sed -n 's/.*val_loss_full=\([0-9.]*\).*/\1/p' ours.txt | awk '{ s += $1; n++ } END { printf "%.6f", s / n }')
ours_rng=$(sed -n 's/.*val_loss_full=\([0-9.]*\).*/\1/p' ours.txt | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.4f-%.4f", a, b }')

[ "${SKIP_NANOGPT:-}" = 1 ] && exit 0
line=$(THREADS=$THREADS PYTHON=$PYTHON TEXT=$TEXT bash "$here/nanogpt-baby.sh" "$nano" "$work/nanogpt" | tail -1)
echo "$line"
n_wall=$(echo "$line" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
n_val=$(echo "$line" | sed -n 's/.*val_loss_full=\([0-9.]*\).*/\1/p')
awk -v ow="$ours_wall" -v ov="$ours_val" -v rng="$ours_rng" -v nw="$n_wall" -v nv="$n_val" 'BEGIN {
	printf "val loss: ours %.4f (mean over seeds, range %s), nanoGPT %.4f, difference %+.4f (target: within 0.02)\n", ov, rng, nv, ov - nv
	printf "wall time: ours %.1f s (median), nanoGPT %.1f s, nanoGPT / ours = %.2fx (target: ours faster)\n", ow, nw, nw / ow
}'
