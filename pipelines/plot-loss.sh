#!/bin/sh
# plot-loss.sh - draw an lm-train run's loss curves (training loss per step, validation loss
# at each evaluation) from RUN/metrics.jsonl into a PNG with gnuplot.
# Usage: pipelines/plot-loss.sh RUN [OUT.png]   (default: RUN/loss.png)
set -eu
run=${1:?usage: plot-loss.sh RUN [OUT.png]}
out=${2:-$run/loss.png}
m=$run/metrics.jsonl
[ -f "$m" ] || { echo "plot-loss.sh: error: no '$m'" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot-loss.sh: error: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jq -r 'select(.loss != null) | "\(.step) \(.loss)"' "$m" >"$tmp/train"
jq -r 'select(.val_loss != null) | "\(.step) \(.val_loss)"' "$m" >"$tmp/val"
[ -s "$tmp/train" ] || { echo "plot-loss.sh: error: '$m' holds no training steps" >&2; exit 1; }
plot="'$tmp/train' using 1:2 with lines title 'train loss'"
[ -s "$tmp/val" ] && plot="$plot, '$tmp/val' using 1:2 with linespoints title 'validation loss'"
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output '$out'
set title '$run'
set xlabel 'step'
set ylabel 'loss (nats per token)'
set grid
plot $plot
GP
echo "$out"
