#!/usr/bin/env bash
# lm-scaling fit against the SciPy reference (scipy-fit.py: the same objective, grid and points,
# SciPy's L-BFGS-B) on Chinchilla's 245 runs (../shared/data/scaling), one core each: the
# parameters side by side with their relative difference, the objective, and CPU time.
#
#   bench/scaling/run.sh             a 243-start grid (alpha, beta 0:2:1, e -1:1:1, a, b 0:25:10)
#   FULL=1 bench/scaling/run.sh      Epoch's full grid, 4,500 starts (SciPy: about 10 minutes)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
SHARED=${CRAWL2LM_SHARED_DATA:-$(dirname "$ROOT")/shared/data}
CSV=$SHARED/scaling/chinchilla-svg-extracted.csv
PYTHON=${PYTHON:-python3}
need_venv 'import scipy, numpy' "setting up $VENV (scipy)" "scipy does not import" scipy numpy
GRID=()
[ -n "${FULL:-}" ] || GRID=(--grid alpha=0:2:1 --grid beta=0:2:1 --grid e=-1:1:1 --grid a=0:25:10 --grid b=0:25:10)
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-0}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMP_NUM_THREADS=1
timed "lm-scaling fit" "$TMP/ours.json" "$TMP/ours.err" "${PIN[@]}" "$BIN/lm-scaling" fit --json -j 1 "${GRID[@]}" "$CSV"
ours_cpu=$cpu
"${PIN[@]}" "$VPY" "$HERE/scipy-fit.py" "$CSV" "${GRID[@]}" >"$TMP/scipy.json"
printf '%-10s %14s %14s %10s\n' "" ours scipy "rel diff"
for k in E A B alpha beta objective; do
	a=$(jq ".$k" "$TMP/ours.json") b=$(jq ".$k" "$TMP/scipy.json")
	printf '%-10s %14.6g %14.6g %10.2e\n' "$k" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / b; print d < 0 ? -d : d }')"
done
printf '%-10s %14s %14s\n' starts "$(jq .starts "$TMP/ours.json")" "$(jq .starts "$TMP/scipy.json")"
printf '%-10s %14.2f %14.2f   ours %.0fx faster (CPU time; ours the whole process)\n' "CPU s" "$ours_cpu" \
	"$(jq .seconds "$TMP/scipy.json")" "$(awk -v a="$(jq .seconds "$TMP/scipy.json")" -v b="$ours_cpu" 'BEGIN { print a / b }')"
echo "published: Chinchilla E 1.69 A 406.4 B 410.7 alpha 0.34 beta 0.28; Epoch E 1.82 A 482.01 B 2085.43 alpha 0.3478 beta 0.3658"
