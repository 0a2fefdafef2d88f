#!/bin/sh
# report.sh - ablation.mk's summary: per corpus its size, the epochs the token budget makes of
# it, and over the seeds' runs the bits per byte on each held-out text and the mean accuracy
# on the multiple-choice tasks (min, median, max, mean and standard deviation); as
# OUT/report.tsv, OUT/report.md and, with gnuplot, OUT/ablation.png.
# Environment (ablation.mk sets it): OUT, CORPORA, SEEDS, HELDOUT (the held-out files; a
# task is named by the file's base name without .jsonl), BUDGET (training tokens a run).
set -eu
: "${OUT:?}" "${CORPORA:?}" "${SEEDS:?}" "${BUDGET:?}"
HELDOUT=${HELDOUT:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ablation-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

names=
for h in $HELDOUT; do
	n=$(basename "$h" .jsonl)
	names="$names $n"
done

# spread NUMBERS...: min median max mean sd
spread() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1; s += $1; q += $1 * $1 }
		END { m = s / NR; sd = NR > 1 ? sqrt((q - NR * m * m) / (NR - 1)) : 0; if (sd != sd) sd = 0
		      med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.4f\t%.4f\t%.4f\t%.4f\t%.4f", v[1], med, v[NR], m, sd }'
}

{
	printf 'corpus\tdocs\ttext_bytes\ttokens\tepochs\truns'
	for n in $names mc_acc; do
		printf '\t%s_min\t%s_median\t%s_max\t%s_mean\t%s_sd' "$n" "$n" "$n" "$n" "$n"
	done
	printf '\n'
	for c in $CORPORA; do
		docs=$(grep -c '' "$OUT/corpus/$c.jsonl" || true)
		bytes=$(jq -j '.text' "$OUT/corpus/$c.jsonl" | wc -c)
		toks=$(jq '.splits.train.tokens' "$OUT/shards/$c/manifest.json")
		epochs=$(awk -v b="$BUDGET" -v t="$toks" 'BEGIN { printf("%.2f", (t > 0) ? b / t : 0) }')
		runs=0
		for s in $SEEDS; do
			[ -f "$OUT/runs/$c-s$s/eval.json" ] && runs=$((runs + 1))
		done
		printf '%s\t%s\t%s\t%s\t%s\t%s' "$c" "$docs" "$bytes" "$toks" "$epochs" "$runs"
		for n in $names; do
			vals=
			for s in $SEEDS; do
				vals="$vals $(jq -r --arg n "$n" '.results[$n].bits_per_byte' "$OUT/runs/$c-s$s/eval.json")"
			done
			# shellcheck disable=SC2086
			printf '\t%s' "$(spread $vals)"
		done
		vals=
		for s in $SEEDS; do
			vals="$vals $(jq -r '[.results | to_entries[] | .value.acc // empty] |
				if length > 0 then add / length else "nan" end' "$OUT/runs/$c-s$s/eval.json")"
		done
		# shellcheck disable=SC2086
		printf '\t%s\n' "$(spread $vals)"
	done
} >"$tmp/report.tsv"

# the same as a Markdown table: median [min, max] a metric
awk -F '\t' -v names="$names" 'BEGIN { k = split(names, nm, " ") }
	NR == 1 { printf "| corpus | docs | text MB | tokens | epochs |"
		  for (i = 1; i <= k; i++) printf " %s bpb, median [min, max] |", nm[i]
		  printf " MC acc, mean of tasks: median [min, max] |\n|---|--:|--:|--:|--:|"
		  for (i = 0; i <= k; i++) printf "---|"
		  printf "\n"; next }
	{ printf "| %s | %d | %.1f | %d | %s |", $1, $2, $3 / 1e6, $4, $5
	  for (i = 0; i <= k; i++) { b = 7 + 5 * i; printf " %s [%s, %s] |", $(b + 1), $b, $(b + 2) }
	  printf "\n" }' "$tmp/report.tsv" >"$tmp/report.md"
# each task's accuracy, the mean over the seeds
{
	printf '\n| task, acc (mean of seeds) |'
	for c in $CORPORA; do printf ' %s |' "$c"; done
	printf '\n|---|'
	for c in $CORPORA; do printf -- '--:|'; done
	printf '\n'
	for c in $CORPORA; do
		for s in $SEEDS; do
			jq -r --arg c "$c" '.results | to_entries[] | select(.value.acc != null) | [.key, $c, .value.acc] | @tsv' \
				"$OUT/runs/$c-s$s/eval.json"
		done
	done | awk -F '\t' -v corpora="$CORPORA" 'BEGIN { k = split(corpora, cs, " ") }
		{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } s[$1, $2] += $3; m[$1, $2]++ }
		END { for (i = 1; i <= n; i++) { printf "| %s |", order[i]
			for (j = 1; j <= k; j++) printf " %.3f |", s[order[i], cs[j]] / m[order[i], cs[j]]
			printf "\n" } }'
} >>"$tmp/report.md"
mv "$tmp/report.tsv" "$OUT/report.tsv"
mv "$tmp/report.md" "$OUT/report.md"

if ! command -v gnuplot >/dev/null; then
	echo "report.sh: warning: gnuplot is not installed (apt-get install gnuplot-nox): no $OUT/ablation.png" >&2
	exit 0
fi
# one panel a metric: the median per corpus, bars from min to max over the seeds
k=0
plots=
for n in $names mc_acc; do
	k=$((k + 1))
	b=$((7 + 5 * (k - 1)))
	awk -F '\t' -v b="$b" 'NR > 1 { print NR - 2, $(b + 1), $b, $(b + 2), $1 }' "$OUT/report.tsv" >"$tmp/p$k"
	if [ "$n" = mc_acc ]; then
		label='accuracy, mean of the multiple-choice tasks'
		title='multiple choice (near chance at this size)'
	else
		label='bits per byte (lower is better)'
		title="held-out: $n"
	fi
	plots="$plots
set title '$title'
set ylabel '$label'
plot '$tmp/p$k' using 1:2:3:4:xtic(5) with yerrorbars pointtype 7 notitle, '' using 1:2 with lines notitle"
done
gnuplot <<GP
set terminal pngcairo size $((420 * k)),480 noenhanced
set output '$OUT/ablation.png'
set multiplot layout 1,$k title 'Ablation: the same model at the same token budget on each corpus (median, min-max over seeds)'
set grid ytics
set xrange [-0.5:*]
set offsets 0, 0.5, graph 0.05, graph 0.05
set xtics rotate by -30
$plots
unset multiplot
GP
