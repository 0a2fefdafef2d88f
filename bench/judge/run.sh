#!/usr/bin/env bash
# lm-judge's agreement with human labels on held-out HH-RLHF pairs (harmless-base test split,
# ../shared/data/prefs), judged by a tiny model trained here and served by lm-serve:
#   1. the pairs whose conversation and responses fit (CHARS characters together) are split:
#      the last HELD of them held out, the rest for training;
#   2. a byte-level BPE tokenizer (VOCAB) and a tiny GPT-2 (64 wide, 2 layers, context CTX) pretrained on the
#      training pairs' transcripts (PRE steps);
#   3. SFT as a judge (SFT steps): each training pair rendered through template.txt in both
#      orders, the response " A" or " B" (the human's choice), so position tells nothing;
#   4. lm-serve serves it; lm-judge --api completions judges the held-out pairs in both orders;
#   5. a reward model from the base model (lm-train --reward --chat-tokens, RMSTEPS steps on the
#      training pairs) as the judge instead: lm-judge --reward, beside lm-eval --pairs.
# Prints lm-judge's --stats (agreement with the human labels, ties, errors, position bias)
# and the CPU time of each step; the human-human agreement to compare with is about 65%
# (AlpacaFarm reports 65.7% between human annotators; InstructGPT 72.6% between its training labellers).
#
#   bench/judge/run.sh             (a few CPU minutes)
#   HELD=300 PRE=400 SFT=600 bench/judge/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
SHARED=${CRAWL2LM_SHARED_DATA:-$(dirname "$ROOT")/shared/data}
PREFS=${PREFS:-$SHARED/prefs/hh-rlhf-harmless-base-test.jsonl.gz}
HELD=${HELD:-300} CHARS=${CHARS:-900} VOCAB=${VOCAB:-1024} PRE=${PRE:-200} SFT=${SFT:-300} CTX=${CTX:-384}
RMSTEPS=${RMSTEPS:-200}
THREADS=${THREADS:-2}
[ -r "$PREFS" ] || { log "no $PREFS (set PREFS or CRAWL2LM_SHARED_DATA)"; exit 1; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
cd "$OUT"
log "working in $OUT"

# 1. the pairs that fit, split
zcat "$PREFS" | jq -c 'select((.chosen | length) + (.rejected | length) <= '"$CHARS"')' >fit.jsonl
n=$(wc -l <fit.jsonl)
head -n $((n - HELD)) fit.jsonl >train.jsonl
tail -n "$HELD" fit.jsonl >held.jsonl
log "pairs: $(zcat "$PREFS" | wc -l), fitting $CHARS characters: $n; training $((n - HELD)), held out $HELD"

# 2. tokenizer and base model on the training transcripts
jq -c '{id: ("c" + (input_line_number | tostring)), text: (.chosen + "\n\n" + .rejected)}' train.jsonl >text.jsonl
timed "bpe-train" /dev/null bpe.err "$BIN/bpe-train" -q --vocab-size "$VOCAB" -o tok.json text.jsonl
timed "shard-pack" /dev/null pack.err "$BIN/shard-pack" -q -t tok.json -o shards --val-fraction 0 text.jsonl
echo '{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": '"$CTX"'}' >model.json
timed "pretraining" /dev/null pre.err "$BIN/lm-train" --data 'shards/*.bin' -t tok.json --model model.json \
	--context "$CTX" -b 4 -j "$THREADS" --steps "$PRE" --lr 3e-3 --warmup 20 --eval-every 0 -q -o base
pre_cpu=$cpu

# 3. SFT as a judge: both orders of each training pair
tmpl=$(cat "$HERE/template.txt")
jq -c --arg t "$tmpl" '
	def trim: sub("^\\s+"; "") | sub("\\s+$"; "");
	def split_last: . as $s | ($s | [match("\n\nAssistant:"; "g").offset] | last) as $i
		| {head: $s[0:$i], tail: ($s[$i + 12:] | trim)};
	(.chosen | split_last) as $c | (.rejected | split_last) as $r
	| ($c.head | sub("^\n+"; "")) as $p
	| def render($a; $b): $t | sub("\\{prompt\\}"; $p) | sub("\\{response_a\\}"; $a) | sub("\\{response_b\\}"; $b);
	  {prompt: render($c.tail; $r.tail), response: " A"},
	  {prompt: render($r.tail; $c.tail), response: " B"}' train.jsonl >sft.jsonl
timed "SFT" /dev/null sft.err "$BIN/lm-train" --sft sft.jsonl --init base -t tok.json --context "$CTX" -b 4 \
	-j "$THREADS" --steps "$SFT" --lr 1e-3 --warmup 20 --eval-every 0 -q -o judge
sft_cpu=$cpu

# 4. serve and judge
"$BIN/lm-serve" --port 0 -j "$THREADS" --max-batch 8 judge 2>serve.err &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
port=
for _ in $(seq 600); do
	port=$(sed -n 's|^lm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' serve.err)
	[ -n "$port" ] && break
	kill -0 $spid 2>/dev/null || run_failed "lm-serve" serve.err
	sleep 0.1
done
t0=$(awk '{print $14 + $15}' /proc/$spid/stat)
timed "lm-judge" pairs.jsonl judge.err "$BIN/lm-judge" --endpoint "http://127.0.0.1:$port/v1" --api completions \
	--template "$HERE/template.txt" --max-tokens 2 --retries 1 --backoff 0 -j 8 --keep-going \
	--stats stats.json --verdicts verdicts.jsonl held.jsonl
judge_cpu=$cpu
serve_cpu=$(awk -v t0="$t0" -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15 - t0) / hz}' /proc/$spid/stat)
kill $spid
wait $spid 2>/dev/null || true
jq . stats.json
log "CPU seconds: pretraining $pre_cpu ($PRE steps), SFT $sft_cpu ($SFT steps), lm-judge $judge_cpu, lm-serve while judging $serve_cpu"
jq -r '"held-out pairs \(.records): agreement with the human label \(.agreement // "-") (ties as half: \(.agreement_ties_half // "-"); decided pairs: \(.agreement_decided // "-")), ties \(.ties), errors \(.errors), nonsense answers \(.nonsense), A-rate per order \(.a_rate)"' stats.json

# 5. a reward model as the judge
timed "reward model" /dev/null rm.err "$BIN/lm-train" --reward train.jsonl --init base --chat-tokens \
	--context "$CTX" -b 4 -j "$THREADS" --steps "$RMSTEPS" --lr 1e-3 --warmup 10 --eval-every 0 -q -o rm
rm_cpu=$cpu
timed "lm-judge --reward" rpairs.jsonl rjudge.err "$BIN/lm-judge" --reward rm -j "$THREADS" --keep-going \
	--stats rstats.json --verdicts rverdicts.jsonl held.jsonl
rjudge_cpu=$cpu
"$BIN/lm-eval" rm --pairs held.jsonl -j "$THREADS" >rm-eval.txt 2>/dev/null
log "CPU seconds: reward model $rm_cpu ($RMSTEPS steps), lm-judge --reward $rjudge_cpu"
jq -r '"reward model as the judge: agreement with the human label \(.agreement // "-") over \(.labelled) pairs, ties \(.ties), errors \(.errors)"' rstats.json
grep accuracy rm-eval.txt
