#!/bin/sh
# lm-scaling: approach 3 recovers the constants of synthetic runs within its bootstrap
# intervals, approach 2 finds IsoFLOP minima, plan follows the fit's closed form, plot writes a
# PNG, lm-train run directories are read, and bad input says what is wrong.
. "${SRCDIR:-.}/tests/lib.sh"

# 64 runs (8 sizes x 8 token counts) of L = 1.7 + 400/N^0.34 + 410/D^0.28, times exp(1% noise)
synth() {	# SEED NOISE
	awk -v seed="$1" -v s="$2" 'BEGIN { srand(seed); print "N,D,loss"
		for (i = 0; i < 8; i++) for (j = 0; j < 8; j++) {
			n = 1e6 * 10 ^ (i * 3 / 7); d = 1e8 * 10 ^ (j * 3 / 7)
			l = 1.7 + 400 / n ^ 0.34 + 410 / d ^ 0.28
			z = sqrt(-2 * log(rand())) * cos(6.283185307 * rand())
			printf "%.8g,%.8g,%.8f\n", n, d, l * exp(s * z) } }'
}
synth 3 0 >exact.csv
lm-scaling fit --json exact.csv >exact.json
is $? 0 "fit: exit 0"
ok "$(jq '(.E - 1.7 | fabs) < 1e-3 and (.A / 400 - 1 | fabs) < 1e-2 and (.B / 410 - 1 | fabs) < 1e-2 and
	(.alpha - 0.34 | fabs) < 1e-3 and (.beta - 0.28 | fabs) < 1e-3' exact.json | grep -qx true; echo $?)" \
	"runs without noise: the constants (E $(jq -c '[.E, .A, .B, .alpha, .beta]' exact.json))"
is "$(jq -c '[.points, .starts, .delta]' exact.json)" "[64,4500,0.001]" "  64 runs, Epoch's 4,500 starts, delta 1e-3"

synth 3 0.01 >noisy.csv
lm-scaling fit --json --bootstrap 60 -j 2 noisy.csv >noisy.json
for k in E:1.7 A:400 B:410 alpha:0.34 beta:0.28; do
	n=${k%%:*} v=${k#*:}
	ok "$(jq --argjson v "$v" ".${n}_lo <= \$v and \$v <= .${n}_hi" noisy.json | grep -qx true; echo $?)" \
		"1% noise: $n = $v within the bootstrap interval $(jq -c "[.${n}_lo, .${n}_hi]" noisy.json)"
done
is "$(jq '.bootstrap | length' noisy.json)" 60 "  the 60 bootstrap fits in the JSON"
lm-scaling fit --json --bootstrap 60 -j 1 noisy.csv >noisy1.json
is "$(jq -c 'del(.bootstrap)' noisy1.json)" "$(jq -c 'del(.bootstrap)' noisy.json)" "  the same with 1 thread as with 2"
lm-scaling fit noisy.csv >table.txt
like "$(cat table.txt)" "approach 3: L\(N, D\) = E \+ A/N\^alpha \+ B/D\^beta  \(64 runs, 4500 starts" "the table"
like "$(cat table.txt)" "approach 2: IsoFLOP profiles" "  with approach 2"
fit_small() { lm-scaling fit --json --grid alpha=0:1:0.5 --grid beta=0:1:0.5 --grid e=0 --grid a=0:10:5 --grid b=0:10:5 "$@"; }
is "$(fit_small exact.csv | jq .starts)" 81 "--grid: 3 x 3 x 1 x 3 x 3 starts"

# approach 2: runs on IsoFLOP budgets (9 sizes each of 3 budgets), D = C / 6N
awk 'BEGIN { print "N,C,loss"
	for (c = 0; c < 3; c++) { C = 1e18 * 10 ^ c
		for (i = 0; i < 9; i++) { n = 1e7 * 10 ^ (i / 4); d = C / (6 * n)
			printf "%.8g,%.8g,%.8f\n", n, C, 1.7 + 400 / n ^ 0.34 + 410 / d ^ 0.28 } } }' >iso.csv
lm-scaling fit --json iso.csv >iso.json
is "$(jq '[.isoflop.budgets[] | select(.N_opt)] | length' iso.json)" 3 "IsoFLOP: three budgets, a minimum each"
# the fit's own optimum for each budget, from plan: the parabolas' minima near it
for c in 1e18 1e19 1e20; do
	pn=$(lm-scaling plan --json --compute $c iso.csv | jq .N)
	bn=$(jq --argjson c "$c" '.isoflop.budgets[] | select((.C / $c - 1 | fabs) < 1e-6) | .N_opt' iso.json)
	ok "$(awk -v a="$pn" -v b="$bn" 'BEGIN { r = log(a / b); exit !(r < 0.25 && r > -0.25) }'; echo $?)" \
		"  C $c: the parabola's minimum $bn near the fit's optimum $pn"
done
ok "$(jq '.isoflop.a > 0.4 and .isoflop.a < 0.7' iso.json | grep -qx true; echo $?)" \
	"  N_opt ~ C^a with a = $(jq .isoflop.a iso.json) (the constants' beta/(alpha+beta) = 0.452)"

# plan: the closed form N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / beta B)^(1/(alpha+beta))
printf '{"E": 1.7, "A": 400, "B": 410, "alpha": 0.34, "beta": 0.28}\n' >known.json
lm-scaling plan --json --fit known.json --compute 1e21 >plan.json
is $? 0 "plan --fit FILE --compute"
want=$(awk 'BEGIN { al = 0.34; be = 0.28; s = al + be; G = (al * 400 / (be * 410)) ^ (1 / s)
	n = G * (1e21 / 6) ^ (be / s); printf "%.6g %.6g", n, 1e21 / (6 * n) }')
is "$(jq -r '"\(.N) \(.D)"' plan.json | awk '{ printf "%.6g %.6g", $1, $2 }')" "$want" "  N and D as the closed form: $want"
is "$(jq '(.tokens_per_param / (.D / .N) - 1 | fabs) < 1e-9 and (.C / 1e21 - 1 | fabs) < 1e-9' plan.json)" true "  tokens per parameter, C = 6 N D"
n=$(jq .N plan.json) d=$(jq .D plan.json)
is "$(lm-scaling plan --json --fit known.json --params "$n" | jq -r '.D' | awk '{ printf "%.6g", $1 }')" \
	"$(printf '%.6g' "$d")" "  --params N_opt: back to D_opt"
is "$(lm-scaling plan --json --fit known.json --tokens "$d" | jq -r '.N' | awk '{ printf "%.6g", $1 }')" \
	"$(printf '%.6g' "$n")" "  --tokens D_opt: back to N_opt"
lm-scaling plan --fit noisy.json --compute 1e21 >plan.txt
like "$(cat plan.txt)" "parameters +[0-9.e+]+ +\[[0-9.e+]+, [0-9.e+]+\]" "plan from a bootstrapped fit: intervals"

# plot
lm-scaling plot -o fit.png noisy.csv 2>plot.err
is "$?" 0 "plot: exit 0"
is "$(head -c 4 fit.png | od -A n -t x1 | tr -d ' ')" 89504e47 "  a PNG"
lm-scaling plot -q -o iso.png iso.csv
ok "$(test -s iso.png; echo $?)" "  of IsoFLOP runs too"

# lm-train run directories: parameters, tokens, the last validation loss
tiny_run
for r in 1 2 3 4 5; do
	e=$((8 * (1 + r % 3)))
	echo "{\"model_type\": \"gpt2\", \"n_embd\": $e, \"n_layer\": 1, \"n_head\": 2, \"n_positions\": 64}" >m$r.json
	lm-train --data 's/*.bin' -t tok.json --model m$r.json --context 32 -b 4 -j 1 --steps $((4 * r)) \
		--val 's/*.bin' --eval-every 1000 --warmup 1 -q -o r$r || echo "# lm-train r$r failed"
done
lm-scaling fit --json --grid alpha=0.5 --grid beta=0.5 --grid e=0 --grid a=5 --grid b=5 r1 r2 r3 r4 r5 >runs.json
is "$?" 0 "fit on 5 lm-train run directories"
is "$(jq .points runs.json)" 5 "  5 runs read"
like "$(jq -r 'select(.val_loss) | .val_loss' r3/metrics.jsonl | tail -1)" "^[0-9.]+$" "  (r3 has a validation loss)"
printf 'N,D,loss\n' >r.csv
fails 1 "approach 3: 0 points: a fit of 5 parameters needs 5 at least" "a header only: no fit" lm-scaling plan --compute 1e20 r.csv
cp -r r1 rbad && echo '{"step":' >>rbad/metrics.jsonl
fails 1 "rbad/metrics.jsonl:[0-9]+: not a JSON object of lm-train's" "a damaged metrics line: refused, not skipped" \
	lm-scaling fit rbad r2 r3 r4 r5
mkdir norun
fails 1 "norun: not an lm-train run directory" "a directory that is not a run" lm-scaling fit norun

# bad input
head -5 exact.csv >four.csv
fails 1 "4 points: a fit of 5 parameters needs 5 at least" "4 runs: too few for approach 3" lm-scaling plan --compute 1e20 four.csv
printf 'N,D,loss\n1e6,1e9,3\n-1e6,1e9,3\n' >neg.csv
fails 1 "neg.csv:3: N '-1e6': want a positive, finite number" "a negative size, with its line" lm-scaling fit neg.csv
printf 'N,D,loss\n1e6,1e9,nan\n' >nan.csv
fails 1 "nan.csv:2: loss 'nan': want a positive, finite number" "NaN" lm-scaling fit nan.csv
printf 'N,D,loss\n1e6,1e9\n' >short.csv
fails 1 "short.csv:2: a row with missing cells" "a short row" lm-scaling fit short.csv
printf 'size,loss\n1e6,3\n' >hdr.csv
fails 1 "hdr.csv:1: the header needs columns for N" "a header without N or D" lm-scaling fit hdr.csv
awk 'BEGIN { print "N,D,loss"; for (j = 0; j < 8; j++) printf "1e8,%g,%g\n", 1e9 * 2 ^ j, 2 + 1 / (j + 1) }' >one.csv
lm-scaling fit one.csv >out 2>err
like "$?:$(cat err)" "^1:.*every run has the same model size: approach 3 cannot tell A from E" \
	"a single model size: approach 3 impossible, saying so"
like "$(cat out)" "approach 2: IsoFLOP profiles" "  approach 2 still reported"
fails 2 "'--grid': 'gamma=1': want NAME=LO:HI:STEP" "--grid: an unknown parameter" lm-scaling fit --grid gamma=1 exact.csv
fails 2 "'--grid': 'a=5:1:1': want a=LO:HI:STEP" "--grid: HI below LO" lm-scaling fit --grid a=5:1:1 exact.csv
fails 2 "plan wants one of --compute, --tokens, --params" "plan without a budget" lm-scaling plan exact.csv
fails 2 "plot wants -o PNG" "plot without -o" lm-scaling plot exact.csv
fails 2 "unknown command 'fits'" "an unknown command" lm-scaling fits exact.csv
printf '{"E": 1.7}\n' >bad.json
fails 1 "bad.json: no positive number 'A'" "plan --fit: a file without the fit" lm-scaling plan --fit bad.json --compute 1e20
done_testing
