#!/usr/bin/env bash
# small-preset.sh - the `small` preset (GPT-2 style, 6 layers, width 384, context 512, the
# GPT-2 tokenizer) on every shared evaluation task: at random initialisation and after a short
# training on English text, for bench/README.md. Ours alone (no peer): the figures say what a
# model of this size scores, the agreement with lm-evaluation-harness is run.sh's job.
#
#   bench/eval/small-preset.sh [STEPS] [LIMIT]     (default 300 steps, 500 items a task)
#
# Data: bench/data/corpus-en.jsonl (bench/corpus/make-corpus.sh), the first 24 MB; the shared
# evaluation sets in ../shared/data/eval; tokenizer ../shared/data/tokenizers/r50k_base.tiktoken.
# Work files in bench/eval/work (git-ignored).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
STEPS=${1:-300}
LIMIT=${2:-500}
SHARED=${SHARED:-$ROOT/../shared/data}
BIN=$ROOT/build/bin
W=$HERE/work/small
mkdir -p "$W"
TOK=$SHARED/tokenizers/r50k_base.tiktoken
[ -f "$ROOT/bench/data/corpus-en.jsonl" ] || { log "bench/data/corpus-en.jsonl: run bench/corpus/make-corpus.sh"; exit 1; }

if [ ! -f "$W/shards/manifest.json" ]; then
	# the first 24 MB (whole lines), and 40 documents after them as held-out text (the
	# pipes end early: SIGPIPE is no error here)
	set +o pipefail
	head -c 24000000 "$ROOT/bench/data/corpus-en.jsonl" | sed '$d' >"$W/train.jsonl"
	tail -c +24000001 "$ROOT/bench/data/corpus-en.jsonl" | sed 1d | head -40 >"$W/held-out.jsonl"
	set -o pipefail
	"$BIN/shard-pack" -q -t "$TOK" --val-fraction 0.01 -o "$W/shards" "$W/train.jsonl"
fi
train() {	# DIR STEPS LR
	[ -f "$W/$1/latest" ] && return
	"$BIN/lm-train" --model small -t "$TOK" --data "$W/shards/shard_train_*.bin" \
		--val "$W/shards/shard_val_*.bin" -b 8 --context 512 --steps "$2" --lr "$3" \
		--warmup $(( $2 / 10 )) --eval-every 0 --save-every "$2" -q -o "$W/$1"
}
train random 1 0	# one step at learning rate 0: the initial weights
train trained "$STEPS" 1e-3

tasks=()
for t in arc_easy arc_challenge piqa winogrande lambada_openai openbook_qa copa siqa commonsense_qa; do
	tasks+=(--task "$SHARED/eval/$t.jsonl")
done
for m in random trained; do
	log "lm-eval $m ($LIMIT items a task)"
	"$BIN/lm-eval" -v --limit "$LIMIT" "$W/$m" "${tasks[@]}" --task "ppl:$W/held-out.jsonl" \
		-o "$W/$m.json" 2>"$W/$m.err" >"$W/$m.txt" || { cat "$W/$m.err" >&2; exit 1; }
done
# the table: task, metric, random, trained (items)
jq -n -r --slurpfile a "$W/random.json" --slurpfile b "$W/trained.json" '
	$a[0].results | to_entries[] | .key as $t | .value | to_entries[] |
	select(.key | endswith("_stderr") | not) |
	"| \($t) | \(.key) | \(.value * 10000 | round / 10000) | \($b[0].results[$t][.key] * 10000 | round / 10000) | \($a[0].config.items[$t]) |"'
grep -h 'items/s' "$W/trained.err" | sed 's/^lm-eval: /  /' >&2
