#!/usr/bin/env bash
# lm-arena against the scikit-learn reference (reference.py: Chatbot Arena's compute_mle_elo and
# AlpacaEval 2's length-controlled regression) on synthetic battles from tests/tools/arena-gen:
# the largest difference of the ratings (Elo points) and of the LC win rates, the CPU time of
# each, and the length bias (a model as good as the baseline but twice as long).
#
#   bench/arena/run.sh                 12 models, 100,000 battles, 10% ties, length bias 1
#   BATTLES=1000000 bench/arena/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
GEN=${GEN:-$ROOT/build/tests/tools/arena-gen}
BATTLES=${BATTLES:-100000}
PYTHON=${PYTHON:-python3}
need_venv 'import sklearn, numpy; assert sklearn.__version__ == "1.9.1"' \
	"setting up $VENV (scikit-learn 1.9.1)" "scikit-learn 1.9.1 does not import" scikit-learn==1.9.1 numpy
[ -x "$GEN" ] || make -C "$ROOT" --no-print-directory "${GEN#"$ROOT"/}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# twelve models: base (the baseline), long (as good, twice as long), and ten between 850 and 1300
models=(base=1000:500 long=1000:1000)
for i in $(seq 0 9); do models+=("m$i=$((850 + 50 * i)):$((300 + 60 * i))"); done
"$GEN" -n "$BATTLES" -s 11 -t 0.1 -b 1 "${models[@]}" >"$TMP/battles.jsonl"
timed "lm-arena" "$TMP/ours.json" "$TMP/ours.err" "$BIN/lm-arena" --json --baseline base "$TMP/battles.jsonl"
ours_cpu=$cpu
timed "reference.py" "$TMP/ref.json" "$TMP/ref.err" "$VPY" "$HERE/reference.py" --baseline base "$TMP/battles.jsonl"
ref_cpu=$cpu
jq -r -s '.[0] as $o | .[1] as $r |
	"battles: '"$BATTLES"', models: \($r | length)",
	"max |rating difference|      \([$r | keys[] | ($r[.].rating - $o[.].rating | fabs)] | max) Elo",
	"max |LC win rate difference| \([$r | keys[] | select($r[.].lc_win_rate) |
		($r[.].lc_win_rate - $o[.].vs_baseline.lc_win_rate | fabs)] | max)",
	"length bias: long (as good as base, twice as long): raw \($o.long.vs_baseline.win_rate * 100 | floor)%, LC \($o.long.vs_baseline.lc_win_rate * 1000 | round / 10)% (true: 50%)",
	"  its Bradley-Terry rating \($o.long.rating * 10 | round / 10) (true: 1000)"' "$TMP/ours.json" "$TMP/ref.json"
printf 'CPU s: lm-arena %.3f, reference (scikit-learn) %.3f\n' "$ours_cpu" "$ref_cpu"
