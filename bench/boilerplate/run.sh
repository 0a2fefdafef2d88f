#!/usr/bin/env bash
# boilerplate-strip against peer main-content extractors: accuracy and speed side by side, on the
# 181 pages of the article extraction benchmark (../shared/data/aeb beside the repository).
#
#   bench/boilerplate/run.sh
#   RUNS=3 ONLY="trafilatura resiliparse ours" bench/boilerplate/run.sh
#   OURS_ARGS="--keep-html; --some-flag" bench/boilerplate/run.sh   # ';' separates variants
#
# Environment (all optional):
#   BIN=DIR          where boilerplate-strip lives (default: <repo>/build/bin); skipped if absent
#   OURS_ARGS="..."  extra boilerplate-strip variants, ';'-separated (each also runs as a row)
#   RUNS=5           timed runs per contender (median reported); accuracy is scored on run 1
#   CPU=0            the core every contender is pinned to (taskset), if taskset exists
#   ONLY="trafilatura resiliparse readability justext htmltext htmlparse passthrough ours"
#   PYTHON=python3   interpreter used to create bench/.venv
#
# Peers (peers.py) are timed inside Python around the extraction loop only: no interpreter
# start-up, imports, file reading or output writing. Ours is timed as a whole process (start-up,
# JSON parsing and writing included), so the comparison favours the peers. Runs are interleaved
# (run 1 of each contender, then run 2, ...). Every contender is one single-threaded process on
# one core; the table shows CPU time next to wall time: on a busy machine compare CPU times.
# passthrough (build/tests/tools/passthrough --text-field html, from `make bench`, if built)
# is the floor of ours: start-up plus reading and writing the same records, no extraction.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
OURS_ARGS=${OURS_ARGS:-}
RUNS=${RUNS:-5}
CPU=${CPU:-0}
ONLY=${ONLY:-trafilatura resiliparse readability justext htmltext htmlparse passthrough ours}
PYTHON=${PYTHON:-python3}
DATA=$BENCH/data
INPUT=$DATA/aeb.jsonl

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1 \
       NUMEXPR_NUM_THREADS=1 PYTHONHASHSEED=0

# --- venv with the peers (versions of the article extraction benchmark's requirements.txt) -------
PKGS=(trafilatura==2.0.0 resiliparse readability-lxml==0.8.4.1 justext==3.0.2 html-text==0.7.0 'lxml<6')
IMPORTS='import trafilatura, resiliparse.extract.html2text, readability, justext, html_text, lxml.html'
need_venv "$IMPORTS" "setting up $VENV (peers from PyPI: ${PKGS[*]})" "the peers do not import" "${PKGS[@]}"

# --- input ---------------------------------------------------------------------------------------
[ -s "$INPUT" ] || "$VPY" "$HERE/make-input.py" "$INPUT"
DOCS=$(grep -c '' "$INPUT")

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$CPU"); fi

# --- contenders ----------------------------------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
want() { case " $ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }
NAMES=()
declare -A OUT PROC   # PROC: contenders timed as a whole process (command words)
for p in trafilatura resiliparse readability justext htmltext htmlparse; do
    want "$p" || continue
    NAMES+=("$p"); OUT[$p]=$DATA/aeb-$p.jsonl
done
if want passthrough; then
    if [ -x "$ROOT/build/tests/tools/passthrough" ]; then
        NAMES+=(passthrough); PROC[passthrough]="$ROOT/build/tests/tools/passthrough --text-field html"
        OUT[passthrough]=$TMP/passthrough.jsonl
    else
        log "passthrough: $ROOT/build/tests/tools/passthrough is not built (make bench): skipped"
    fi
fi
OURS=()
if want ours; then
    if [ -x "$BIN/boilerplate-strip" ]; then
        NAMES+=(ours); OURS+=(ours); PROC[ours]="$BIN/boilerplate-strip"; OUT[ours]=$DATA/aeb-ours.jsonl
        i=0
        IFS=';' read -ra variants <<<"$OURS_ARGS"
        for v in "${variants[@]}"; do
            v=$(echo "$v" | sed 's/^ *//; s/ *$//'); [ -n "$v" ] || continue
            i=$((i + 1)); n="ours-$i"
            NAMES+=("$n"); OURS+=("$n"); PROC[$n]="$BIN/boilerplate-strip $v"; OUT[$n]=$DATA/aeb-$n.jsonl
        done
    else
        log "ours: $BIN/boilerplate-strip is not built (build it, or set BIN=...): skipped"
    fi
fi

echo "input:    $INPUT ($DOCS pages, $(stat -c %s "$INPUT") bytes of JSON Lines)"
echo "machine:  $(cpu_model), $(getconf _NPROCESSORS_ONLN) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg); ${PIN[*]:-no taskset}"
echo "versions: $("$VPY" -c 'import importlib.metadata as m, sys; print("python %d.%d.%d" % sys.version_info[:3], *("%s %s" % (d, m.version(d)) for d in ("trafilatura", "resiliparse", "readability-lxml", "justext", "html-text", "lxml")), sep=", ")')"
for n in "${OURS[@]}"; do printf '%-10s%s\n' "$n:" "${PROC[$n]} $INPUT"; done
echo "runs:     $RUNS per contender, interleaved; median reported"
echo

cat "$INPUT" >/dev/null   # page cache

declare -A WALL CPUT
for ((r = 1; r <= RUNS; r++)); do
    for n in "${NAMES[@]}"; do
        out=${OUT[$n]}; [ "$r" = 1 ] || out=$TMP/$n.jsonl
        if [ -n "${PROC[$n]:-}" ]; then     # ours, passthrough: the whole process
            timed "$n failed (run $r)" "$out" "$TMP/$n.err" "${PIN[@]}" ${PROC[$n]} "$INPUT"
            WALL[$n]+="$real "; CPUT[$n]+="$cpu "
        else                                # a peer: its own timing of the extraction loop
            "${PIN[@]}" "$VPY" "$HERE/peers.py" "$n" "$INPUT" "$out" >"$TMP/$n.out" 2>"$TMP/$n.err" ||
                run_failed "$n failed (run $r)" "$TMP/$n.err"
            line=$(tail -1 "$TMP/$n.out")
            real=$(sed -n 's/.* wall_s=\([0-9.]*\).*/\1/p' <<<"$line")
            WALL[$n]+="$real "; CPUT[$n]+="$(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' <<<"$line") "
            if [ "$r" = 1 ]; then
                f=$(sed -n 's/.* failures=\([0-9]*\).*/\1/p' <<<"$line")
                [ "$f" = 0 ] || { log "$n: $f page(s) failed (scored as empty):"; cat "$TMP/$n.err" >&2; }
            fi
        fi
        log "run $r/$RUNS $n: ${real}s"
    done
done

HTML_BYTES=$("$VPY" -c 'import json, sys; print(sum(len(json.loads(l)["html"].encode()) for l in open(sys.argv[1], encoding="utf-8")))' "$INPUT")

# --- table ---------------------------------------------------------------------------------------
declare -A MED CMED
printf '%-12s %6s %6s %6s %6s %9s %7s %7s %8s %8s\n' name P R F1 acc "median s" "min s" "cpu s" "docs/s" "MB/s"
for n in "${NAMES[@]}"; do
    MED[$n]=$(echo "${WALL[$n]}" | median); CMED[$n]=$(echo "${CPUT[$n]}" | median)
    min=$(echo "${WALL[$n]}" | minimum)
    if [ "$n" = htmlparse ] || [ "$n" = passthrough ]; then
        acc="- - - -"   # no extraction
    else
        acc=$("$VPY" "$HERE/score.py" "${OUT[$n]}" --json | "$VPY" -c 'import json, sys; r = json.load(sys.stdin)
print(*("%.3f" % r[k] for k in ("precision", "recall", "f1", "accuracy")), r["missing"] + r["unknown"] + r["duplicates"])')
    fi
    read -r p rc f a miss <<<"$acc"
    [ "${miss:-0}" = 0 ] || log "$n: ids do not match the ground truth (see: bench/boilerplate/score.py ${OUT[$n]})"
    awk -v n="$n" -v p="$p" -v r="$rc" -v f="$f" -v a="$a" -v t="${MED[$n]}" -v m="$min" -v c="${CMED[$n]}" -v d="$DOCS" -v b="$HTML_BYTES" \
        'BEGIN{printf "%-12s %6s %6s %6s %6s %9.3f %7.3f %7.3f %8.1f %8.2f\n", n, p, r, f, a, t, m, c, d/t, b/1e6/t}'
done
echo "(P, R, F1 as the article extraction benchmark computes them (score.py), acc = exact token match;"
echo " seconds: median and minimum of $RUNS; cpu = user+sys (median); docs/s and MB/s (html bytes, $HTML_BYTES in all) use the median wall time."
echo " Peers: extraction loop only. ours and passthrough: whole process, start-up and JSON parsing/writing included.)"
[ ${#OURS[@]} = 0 ] || echo
for n in "${OURS[@]}"; do
    for p in trafilatura resiliparse; do
        [ -n "${MED[$p]:-}" ] || continue
        awk -v n="$n" -v p="$p" -v o="${MED[$n]}" -v t="${MED[$p]}" -v oc="${CMED[$n]}" -v tc="${CMED[$p]}" \
            'BEGIN{printf "%-7s vs %-12s %6.2fx wall %6.2fx cpu  (%s time / %s time; >1 = %s faster)\n", n, p, t/o, tc/oc, p, n, n}'
    done
done
echo
echo "outputs: $DATA/aeb-<name>.jsonl (run 1); per page: bench/boilerplate/score.py FILE --per-doc"
