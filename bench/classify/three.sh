#!/usr/bin/env bash
# Three quality classifiers on run.sh's split (make-data.py: reference text, hq, against raw
# crawl, web), all through quality-score on the same held-out test split:
#   linear       quality-score --train's hashed words and word pairs (run.sh's settings)
#   perplexity   CCNet: bits per byte under a small language model of reference text
#                (quality-score --model), hq below a cut chosen on the train split
#   transformer  lm-train --classify --objective bce from that language model (DCLM's
#                classifier), hq at a probability of 0.5 or more (quality-score --model);
#                again with --freeze-body (the score head and the final norm trained only)
# For each: held-out accuracy, hq's precision and recall at that threshold, the documents a
# second of the whole quality-score process (CPU time, one thread) and the training CPU time.
#
#   bench/classify/three.sh        RUNS=3 (timed scoring runs, median), BIN=DIR (build/bin)
#
# The language model (a GPT-2 style config of width 64, 2 layers, 256 positions; a byte-level
# BPE of 2,048 tokens from the train split) learns from half of the train split's hq texts
# (every other one); the bits-per-byte cut is the one of best balanced accuracy (the mean of
# the two classes' recalls: the test split is half hq) over the train records it did not see
# (the other hq half and all the web ones). The classifier is fine-tuned from it on the whole
# train split, one epoch. The split comes from run.sh (bench/data/classify/{train,test}.jsonl).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
RUNS=${RUNS:-3}
W=$BENCH/data/classify
O=$W/three
DIM=16 EPOCHS=5 LR=0.5 NGRAMS=2 BUCKETS=262144
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-0}")
[ -s "$W/test.jsonl" ] && [ -s "$W/train.jsonl" ] || { log "no split: run bench/classify/run.sh first"; exit 2; }
mkdir -p "$O"
ndocs=$(grep -c '' "$W/test.jsonl")
log "train: $(grep -c '' "$W/train.jsonl") records, test: $ndocs; $RUNS runs; $(cpu_model)"

# prf FILE JQ-SCORE CMP THRESHOLD: accuracy, hq's precision and recall of the test records,
# hq where the score CMP (ge or lt) THRESHOLD
prf() {
	jq -r "[.label, $2] | @tsv" "$1" |
		awk -v cmp="$3" -v t="$4" '{ s = cmp == "ge" ? $2 >= t : $2 < t
		r += (s && $1 == "hq") || (!s && $1 != "hq"); tp += s && $1 == "hq"
		fp += s && $1 != "hq"; fn += !s && $1 == "hq"; n++ }
		END { printf "%.4f %.4f %.4f\n", r / n, tp / (tp + fp), tp / (tp + fn) }'
}
# score NAME OPTION...: quality-score on the test split RUNS times on one thread; sets docs_s
# (documents a CPU second of the whole process, median) and leaves $O/NAME.jsonl
score() {
	local name=$1 r s=()
	shift
	for r in $(seq "$RUNS"); do
		timed "$name: score" "$O/$name.jsonl" "$O/$name.err" "${PIN[@]}" "$BIN/quality-score" \
			--preset none --assume-lang en --annotate-only -j 1 "$@" "$W/test.jsonl"
		s+=("$cpu")
	done
	docs_s=$(awk -v n="$ndocs" -v t="$(echo "${s[*]}" | median)" 'BEGIN { printf "%.1f", n / t }')
}

# linear: as run.sh
timed "linear: train" /dev/null "$O/linear-train.err" "${PIN[@]}" "$BIN/quality-score" \
	--train "$W/train.jsonl" --holdout 0 --dim $DIM --epochs $EPOCHS --lr $LR \
	--word-ngrams $NGRAMS --char-ngrams 0 --buckets $BUCKETS -o "$O/linear.bin"
t_lin=$cpu
score linear --classifier "$O/linear.bin" --positive hq
read -r a_lin p_lin r_lin < <(prf "$O/linear.jsonl" .metadata.quality.classifier.score ge 0.5)
d_lin=$docs_s

# the language model: tokenizer from the train split, the odd hq half packed, 500 steps
jq -c 'select(.label == "hq")' "$W/train.jsonl" | awk 'NR % 2' >"$O/hq-lm.jsonl"
jq -c 'select(.label == "hq")' "$W/train.jsonl" | awk '!(NR % 2)' >"$O/hq-rest.jsonl"
{ cat "$O/hq-rest.jsonl"; jq -c 'select(.label != "hq")' "$W/train.jsonl"; } >"$O/cut.jsonl"
echo '{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": 256}' >"$O/model.json"
timed "bpe-train" /dev/null "$O/bpe.err" "${PIN[@]}" "$BIN/bpe-train" -q -j 1 --vocab-size 2048 \
	-o "$O/tok.json" "$W/train.jsonl"
t_lm=$cpu
timed "shard-pack" /dev/null "$O/pack.err" "${PIN[@]}" "$BIN/shard-pack" -q -j 1 -t "$O/tok.json" \
	-o "$O/shards" --val-fraction 0.05 "$O/hq-lm.jsonl"
t_lm=$(awk -v a="$t_lm" -v b="$cpu" 'BEGIN { print a + b }')
rm -rf "$O/lm" "$O/cls"
timed "lm-train" /dev/null "$O/lm.err" "${PIN[@]}" "$BIN/lm-train" --data "$O/shards/shard_train_*.bin" \
	--val "$O/shards/shard_val_*.bin" -t "$O/tok.json" --model "$O/model.json" --context 256 -b 8 \
	-j 1 --steps 500 --lr 3e-3 --warmup 20 --eval-every 0 --save-every 500 -q -o "$O/lm"
t_lm=$(awk -v a="$t_lm" -v b="$cpu" 'BEGIN { printf "%.3f", a + b }')
log "language model: val bits per byte $(jq -s 'map(select(.val_bpb)) | last | .val_bpb' "$O/lm/metrics.jsonl")"

# perplexity: the cut of best balanced accuracy on the train records the model did not see
"${PIN[@]}" "$BIN/quality-score" --preset none --assume-lang en --annotate-only -j 1 --model "$O/lm" \
	"$O/cut.jsonl" >"$O/cut-scored.jsonl" 2>"$O/cut.err" || run_failed "perplexity: train split" "$O/cut.err"
cut=$(jq -r '[.label, .metadata.quality.model.bits_per_byte] | @tsv' "$O/cut-scored.jsonl" | sort -k2,2g |
	awk '{ l[NR] = $1; v[NR] = $2; n[$1]++ }
	     END { h = 0; best = -1   # below the cut between i and i+1: hq
	           for (i = 0; i <= NR; i++) { if (i) h += l[i] == "hq"
	             b = h / n["hq"] + (n["web"] - (i - h)) / n["web"]
	             if (i < NR && i && v[i] == v[i + 1]) continue
	             if (b > best) { best = b; c = i == 0 ? v[1] : i == NR ? v[NR] + 1 : (v[i] + v[i + 1]) / 2 } }
	           printf "%.5f\n", c }')
log "perplexity: hq below $cut bits per byte"
score perplexity --model "$O/lm"
read -r a_ppl p_ppl r_ppl < <(prf "$O/perplexity.jsonl" .metadata.quality.model.bits_per_byte lt "$cut")
d_ppl=$docs_s

# transformer: the classifier fine-tuned from the language model on the train split
jq -c '{id, text, label: (if .label == "hq" then 1 else 0 end)}' "$W/train.jsonl" >"$O/labelled.jsonl"
timed "lm-train --classify" /dev/null "$O/cls.err" "${PIN[@]}" "$BIN/lm-train" --classify "$O/labelled.jsonl" \
	--init "$O/lm" --context 256 -b 8 -j 1 --epochs 1 --lr 1e-3 --warmup 10 --eval-every 0 -q -o "$O/cls"
t_cls=$cpu
score transformer --model "$O/cls"
read -r a_cls p_cls r_cls < <(prf "$O/transformer.jsonl" .metadata.quality.model.score ge 0.5)
d_cls=$docs_s
# the same with the body frozen (the score head and the final norm trained; a larger rate)
rm -rf "$O/frozen"
timed "lm-train --classify --freeze-body" /dev/null "$O/frozen.err" "${PIN[@]}" "$BIN/lm-train" \
	--classify "$O/labelled.jsonl" --init "$O/lm" --context 256 -b 8 -j 1 --epochs 1 --lr 1e-2 \
	--warmup 10 --eval-every 0 --freeze-body -q -o "$O/frozen"
t_frz=$cpu
score frozen --model "$O/frozen"
read -r a_frz p_frz r_frz < <(prf "$O/frozen.jsonl" .metadata.quality.model.score ge 0.5)
d_frz=$docs_s

printf '%-12s %9s %10s %8s %11s %13s %12s\n' "" accuracy precision recall threshold "score docs/s" "train CPU s"
row='%-12s %9.4f %10.4f %8.4f %11s %13.1f %12s\n'
printf "$row" linear "$a_lin" "$p_lin" "$r_lin" "p >= 0.5" "$d_lin" "$t_lin"
printf "$row" perplexity "$a_ppl" "$p_ppl" "$r_ppl" "bpb < $(printf %.3f "$cut")" "$d_ppl" "$t_lm"
printf "$row" transformer "$a_cls" "$p_cls" "$r_cls" "p >= 0.5" "$d_cls" "$t_cls+$t_lm"
printf "$row" "  frozen" "$a_frz" "$p_frz" "$r_frz" "p >= 0.5" "$d_frz" "$t_frz+$t_lm"
log "train CPU s: perplexity's is the tokenizer, packing and language model's; the transformer's its fine-tuning + those"
