#!/usr/bin/env bash
# nanoGPT "baby GPT" (README CPU example) on byte-level tinyshakespeare, as a
# benchmark peer for crawl2lm's trainer. Does not contain or build nanoGPT:
# pass the path of an existing nanoGPT checkout. See README-nanogpt.txt.
#
# usage: nanogpt-baby.sh NANOGPT_CHECKOUT WORK_DIR
# env:   PYTHON (default: ../.venv/bin/python next to this script)
#        TEXT   (default: $CRAWL2LM_SHARED_DATA/text/tinyshakespeare.txt, ../shared/data
#               beside the repository)
#        THREADS (default: 2)
# prints: nanogpt wall_s=... val_loss_full=... val_loss_est=...
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 NANOGPT_CHECKOUT WORK_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
PYTHON=${PYTHON:-$here/../.venv/bin/python}
TEXT=${TEXT:-${CRAWL2LM_SHARED_DATA:-$root/../shared/data}/text/tinyshakespeare.txt}
[ -f "$TEXT" ] || { echo "nanogpt-baby.sh: no text at '$TEXT': set TEXT=FILE (tinyshakespeare.txt) or CRAWL2LM_SHARED_DATA" >&2; exit 2; }
THREADS=${THREADS:-2}
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

[ -f "$src/train.py" ] && [ -f "$src/model.py" ] || { echo "not a nanoGPT checkout: $src" >&2; exit 2; }

data="$work/data/shakespeare_byte"   # nanoGPT layout data/<name>/{train,val}.bin, meta.pkl
out="$work/out-shakespeare-byte"
log="$work/train.log"
"$PYTHON" "$here/nanogpt-prep.py" "$TEXT" "$data"

# README's CPU baby-GPT command; train.py resolves data dir as
# os.path.join('data', dataset), so an absolute --dataset points outside the checkout.
# --always_save_checkpoint=True: the config sets False (save only on val improvement);
# we always save so ckpt.pt is the model at the last eval (iter 2000).
# --dtype=float32: CPU runs use nullcontext (no autocast) anyway; this just keeps the
# (disabled on CPU) fp16 GradScaler out of it.
cd "$src"
t0=$(date +%s.%N)
"$PYTHON" train.py config/train_shakespeare_char.py \
    --device=cpu --compile=False --eval_iters=20 --log_interval=1 \
    --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 \
    --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 \
    --dtype=float32 --always_save_checkpoint=True \
    --dataset="$data" --out_dir="$out" > "$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')

# per-iteration dt of iters 0,250,...,2000 includes that eval (+ checkpoint save);
# eval overhead ~= sum(dt at eval iters) - n_eval * mean(dt at other iters >= 5).
read -r loop_s eval_s val_est < <(awk '
  /^iter [0-9]+: loss/ { it=$2; sub(":","",it); t=$6; sub("ms,","",t); t/=1000; tot+=t;
      if (it % 250 == 0) { ev+=t; ne++ } else if (it >= 5) { s+=t; ns++ } }
  /^step [0-9]+: train loss/ { v=$NF }
  END { printf "%.2f %.2f %s\n", tot, ev - ne*(s/ns), v }' "$log")

full=$("$PYTHON" "$here/nanogpt-fullval.py" "$src" "$out/ckpt.pt" "$data/val.bin" 64)
echo "$full"
vfull=$(echo "$full" | sed -n 's/.*val_loss_full=\([0-9.]*\).*/\1/p')
grep '^step ' "$log"
echo "train loop (sum of per-iter dt) ${loop_s}s, of which periodic evals+ckpt saves ~${eval_s}s"
echo "nanogpt wall_s=$wall val_loss_full=$vfull val_loss_est=$val_est"
