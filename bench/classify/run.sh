#!/usr/bin/env bash
# quality-score's linear classifier (fastText-style: hashed words and word pairs, mean of rows,
# softmax) against pip fasttext on the same split of reference text against raw crawl
# (make-data.py: article bodies and Debian documentation against raw web and documentation
# pages): held-out accuracy, hq's precision and recall at 0.5, training and scoring CPU time on
# one core, with the same settings (dim, epochs, lr, word pairs, buckets; no character n-grams).
#
#   bench/classify/run.sh          RUNS=5 (timed runs, median), BIN=DIR (default build/bin)
#
# Ours is timed as whole processes (reading and parsing the JSONL included); fastText inside
# Python around train_supervised and predict only, on text read and tokenised beforehand. Needs
# bench/corpus's corpus-en.jsonl and corpus-html.jsonl (bench/corpus/make-corpus.sh en html).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
RUNS=${RUNS:-5}
PYTHON=${PYTHON:-python3}
SHARED=${CRAWL2LM_SHARED_DATA:-$(dirname "$ROOT")/shared/data}
DATA=$BENCH/data
W=$DATA/classify
DIM=16 EPOCHS=5 LR=0.5 NGRAMS=2 BUCKETS=262144
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-0}")

# fastText's predict needs numpy < 2: a venv of its own
FVENV=$BENCH/.venv-fasttext
if ! "$FVENV/bin/python" -c 'import fasttext, lxml' 2>/dev/null; then
	log "setting up $FVENV (fasttext 0.9.3, numpy<2, lxml)"
	[ -x "$FVENV/bin/python" ] || "$PYTHON" -m venv "$FVENV"
	"$FVENV/bin/pip" install -q 'numpy<2' fasttext==0.9.3 lxml
fi
for c in corpus-en corpus-html; do
	[ -s "$DATA/$c.jsonl" ] || "$BENCH/corpus/make-corpus.sh" en html
done
mkdir -p "$W"
if [ ! -s "$W/test.jsonl" ]; then
	for f in "$SHARED"/warc/*.warc.gz "$SHARED"/warc/*.warc; do
		"$BIN/warc-extract" -q --allow-truncated "$f" 2>/dev/null || true
	done >"$W/warc-pages.jsonl"
	"$FVENV/bin/python" "$HERE/make-data.py" "$SHARED" "$DATA/corpus-en.jsonl" "$DATA/corpus-html.jsonl" \
		"$W/warc-pages.jsonl" "$W"
fi
ndocs=$(grep -c '' "$W/test.jsonl")
log "train: $(grep -c '' "$W/train.jsonl") records, test: $ndocs; $RUNS runs; $(cpu_model)"

tr=() sc=() cl=() ftr=() fsc=()
for r in $(seq "$RUNS"); do
	timed "ours: train" /dev/null "$W/train.err" "${PIN[@]}" "$BIN/quality-score" --train "$W/train.jsonl" \
		--holdout 0 --dim $DIM --epochs $EPOCHS --lr $LR --word-ngrams $NGRAMS --char-ngrams 0 \
		--buckets $BUCKETS -o "$W/model.bin"
	tr+=("$cpu")
	timed "ours: score" "$W/scored.jsonl" "$W/score.err" "${PIN[@]}" "$BIN/quality-score" --preset none \
		--assume-lang en --classifier "$W/model.bin" --positive hq --annotate-only --stats "$W/stats.json" \
		"$W/test.jsonl"
	sc+=("$cpu")
	cl+=("$(jq .quality.classifier_seconds "$W/stats.json")")
	"${PIN[@]}" "$FVENV/bin/python" "$HERE/fasttext-run.py" "$W/train.jsonl" "$W/test.jsonl" \
		$DIM $EPOCHS $LR $NGRAMS $BUCKETS >"$W/fasttext.json"
	ftr+=("$(jq .train_cpu_s "$W/fasttext.json")")
	fsc+=("$(jq .predict_cpu_s "$W/fasttext.json")")
done
read -r acc prec rec < <(jq -r '[.label, .metadata.quality.classifier.score] | @tsv' "$W/scored.jsonl" |
	awk '{ s = $2 >= 0.5; r += (s && $1 == "hq") || (!s && $1 != "hq"); tp += s && $1 == "hq"
	       fp += s && $1 != "hq"; fn += !s && $1 == "hq"; n++ }
	     END { printf "%.4f %.4f %.4f\n", r / n, tp / (tp + fp), tp / (tp + fn) }')
t_ours=$(echo "${tr[*]}" | median) s_ours=$(echo "${sc[*]}" | median) c_ours=$(echo "${cl[*]}" | median)
t_ft=$(echo "${ftr[*]}" | median) s_ft=$(echo "${fsc[*]}" | median)
printf '%-10s %9s %10s %8s %12s %14s\n' "" accuracy "precision" recall "train CPU s" "score docs/s"
printf '%-10s %9.4f %10.4f %8.4f %12.3f %14.0f\n' ours "$acc" "$prec" "$rec" "$t_ours" \
	"$(awk -v n="$ndocs" -v t="$s_ours" 'BEGIN { print n / t }')"
printf '%-10s %9.4f %10.4f %8.4f %12.3f %14.0f\n' fasttext "$(jq .accuracy "$W/fasttext.json")" \
	"$(jq .precision "$W/fasttext.json")" "$(jq .recall "$W/fasttext.json")" "$t_ft" \
	"$(awk -v n="$ndocs" -v t="$s_ft" 'BEGIN { print n / t }')"
# ours/model: the classifier's own time in quality-score (tokenising included), as fastText's
printf '%-10s %9s %10s %8s %12s %14.0f\n' ours/model "" "" "" "" "$(awk -v n="$ndocs" -v t="$c_ours" 'BEGIN { print n / t }')"
awk -v a="$t_ft" -v b="$t_ours" -v c="$s_ft" -v d="$s_ours" -v e="$c_ours" \
	'BEGIN { printf "ours vs fastText: training %.2fx; scoring %.2fx as a whole process (reading, rules, writing), %.2fx the model alone\n", a / b, c / d, c / e }'
