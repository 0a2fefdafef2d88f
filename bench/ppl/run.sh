#!/usr/bin/env bash
# run.sh - quality-score --model's throughput on the CPU: documents/s and tokens/s scoring
# held-out English text with the `small` preset trained by bench/eval/small-preset.sh, the
# same documents scored by lm-eval's ppl: task (its rolling windows, a window a row, no
# packing), and the two files' bits per byte side by side (they must agree).
#
#   bench/ppl/run.sh [DOCS] [THREADS]     (default: 40 documents, 1 thread; RUNS=3 runs each)
#   PARAS=1 bench/ppl/run.sh 200          (the documents are the texts' paragraphs: short
#                                          ones, several packed to a row)
#
# MODEL (default bench/eval/work/small/trained) and TEXT (default bench/eval/work/small/
# held-out.jsonl) override the inputs; work files in bench/data/ppl. Times are CPU seconds
# (user + sys), medians of RUNS.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
DOCS=${1:-40}
THREADS=${2:-1}
RUNS=${RUNS:-3}
BIN=${BIN:-$ROOT/build/bin}
MODEL=${MODEL:-$ROOT/bench/eval/work/small/trained}
TEXT=${TEXT:-$ROOT/bench/eval/work/small/held-out.jsonl}
W=$BENCH/data/ppl
mkdir -p "$W"
[ -f "$MODEL/latest" ] || [ -f "$MODEL/config.json" ] ||
	{ log "no model at $MODEL: run bench/eval/small-preset.sh (or set MODEL)"; exit 1; }
[ -f "$TEXT" ] || { log "no text at $TEXT: run bench/eval/small-preset.sh (or set TEXT)"; exit 1; }
if [ "${PARAS:-0}" = 1 ]; then
	jq -c -n --argjson n "$DOCS" \
		'limit($n; inputs | .text | split("\n\n")[] | select(test("[^ \n]")) | {text: .})' "$TEXT" >"$W/docs.jsonl"
else
	head -n "$DOCS" "$TEXT" | jq -c '{text}' >"$W/docs.jsonl"
fi
bytes=$(jq -j .text "$W/docs.jsonl" | wc -c | tr -d ' ')
log "$(wc -l <"$W/docs.jsonl" | tr -d ' ') documents, $bytes bytes of text; $THREADS thread(s); $(cpu_model)"

qs=() ev=()
for r in $(seq "$RUNS"); do
	timed quality-score "$W/qs.jsonl" "$W/qs.err" "$BIN/quality-score" --preset none --assume-lang en \
		-j "$THREADS" --device cpu --model "$MODEL" --stats "$W/qs-stats.json" "$W/docs.jsonl"
	qs+=("$cpu")
	timed lm-eval "$W/ev.txt" "$W/ev.err" "$BIN/lm-eval" -j "$THREADS" --device cpu "$MODEL" \
		--task "ppl:$W/docs.jsonl" -o "$W/ev.json"
	ev+=("$cpu")
done
tokens=$(jq .quality.model.tokens "$W/qs-stats.json")
ndocs=$(jq .quality.model.documents "$W/qs-stats.json")
qcpu=$(echo "${qs[*]}" | median)
ecpu=$(echo "${ev[*]}" | median)
# the file's bits per byte: the sum of the log-probabilities over the sum of the bytes
ours=$(jq -s '(map(.metadata.quality.model | .token_logprob * .tokens) | add) as $ll |
	(map(.text | utf8bytelength) | add) as $b | -$ll / $b / (2 | log)' "$W/qs.jsonl")
theirs=$(jq '.results.docs.bits_per_byte' "$W/ev.json")
printf '| program | CPU s (median of %s) | documents/s | tokens/s | bits per byte |\n|---|---|---|---|---|\n' "$RUNS"
awk -v c="$qcpu" -v d="$ndocs" -v t="$tokens" -v b="$ours" \
	'BEGIN { printf "| quality-score --model | %.2f | %.2f | %.0f | %.6f |\n", c, d / c, t / c, b }'
awk -v c="$ecpu" -v d="$ndocs" -v t="$tokens" -v b="$theirs" \
	'BEGIN { printf "| lm-eval ppl: | %.2f | %.2f | %.0f | %.6f |\n", c, d / c, t / c, b }'
log "quality-score's own figures (wall clock, model and tokenizer only): $(jq -c '.quality.model |
	{documents_per_s, tokens_per_s, model_seconds, tokenize_seconds, windows, forward_passes, padding}' "$W/qs-stats.json")"
