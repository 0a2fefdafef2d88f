#!/usr/bin/env bash
# boilerplate-strip against peer main-content extractors: accuracy and speed side by side, on
# each extraction benchmark beside the repository (../shared/data): `aeb` (the article extraction
# benchmark, 181 news pages), `readability` (Mozilla Readability's 130 test pages, many sites
# and languages) and `dragnet` (Dragnet's 1,381 news and blog pages; dragnet.py makes it). Each set is scored on all its pages and on its tuning and held-out parts apart
# (sets.py: about 30% of every set, fixed by a hash of the page id, is kept out of tuning).
#
#   bench/boilerplate/run.sh
#   RUNS=3 ONLY="trafilatura resiliparse ours" SETS=readability bench/boilerplate/run.sh
#   OURS_ARGS="--keep-html; --some-flag" bench/boilerplate/run.sh   # ';' separates variants
#
# Environment (all optional):
#   BIN=DIR          where boilerplate-strip lives (default: <repo>/build/bin); skipped if absent
#   OURS_ARGS="..."  extra boilerplate-strip variants, ';'-separated (each also runs as a row)
#   RUNS=5           timed runs per contender (median reported); accuracy is scored on run 1
#   CPU=0            the core every contender is pinned to (taskset), if taskset exists
#   SETS="aeb readability dragnet"   the sets (a set whose data is missing is skipped)
#   ONLY="trafilatura trafilatura-new resiliparse readability justext htmltext htmlparse passthrough ours"
#   PYTHON=python3   interpreter used to create bench/.venv and bench/.venv-new
#
# Peers (peers.py) are timed inside Python around the extraction loop only: no interpreter
# start-up, imports, file reading or output writing. Ours is timed as a whole process (start-up,
# JSON parsing and writing included), so the comparison favours the peers; its --stats also gives
# the CPU time of its extraction alone (extract_cpu_seconds), printed beside as the like-for-like
# figure. Runs are interleaved
# (run 1 of each contender, then run 2, ...). Every contender is one single-threaded process on
# one core; the table shows CPU time next to wall time: on a busy machine compare CPU times.
# passthrough (build/tests/tools/passthrough --text-field html, from `make bench`, if built)
# is the floor of ours: start-up plus reading and writing the same records, no extraction.
# trafilatura is the version the article extraction benchmark publishes (2.0.0, bench/.venv);
# trafilatura-new the newest tried (2.3.1, its own bench/.venv-new: it needs lxml 6).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
OURS_ARGS=${OURS_ARGS:-}
RUNS=${RUNS:-5}
CPU=${CPU:-0}
ONLY=${ONLY:-trafilatura trafilatura-new resiliparse readability justext htmltext htmlparse passthrough ours}
SETS=${SETS:-aeb readability dragnet}
PYTHON=${PYTHON:-python3}
DATA=$BENCH/data

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1 \
       NUMEXPR_NUM_THREADS=1 PYTHONHASHSEED=0

# --- venv with the peers (versions of the article extraction benchmark's requirements.txt) -------
PKGS=(trafilatura==2.0.0 resiliparse readability-lxml==0.8.4.1 justext==3.0.2 html-text==0.7.0 'lxml<6')
IMPORTS='import trafilatura, resiliparse.extract.html2text, readability, justext, html_text, lxml.html'
need_venv "$IMPORTS" "setting up $VENV (peers from PyPI: ${PKGS[*]})" "the peers do not import" "${PKGS[@]}"
VENV_NEW=$BENCH/.venv-new VPY_NEW=$BENCH/.venv-new/bin/python
PKGS_NEW=(trafilatura==2.3.1 lxml_html_clean)
want() { case " $ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }
if want trafilatura-new && ! { [ -x "$VPY_NEW" ] && "$VPY_NEW" -c 'import trafilatura' 2>/dev/null; }; then
    log "setting up $VENV_NEW (from PyPI: ${PKGS_NEW[*]})"
    [ -x "$VPY_NEW" ] || "$PYTHON" -m venv "$VENV_NEW"
    "$VPY_NEW" -m pip install -q "${PKGS_NEW[@]}"
    "$VPY_NEW" -c 'import trafilatura' || { log "trafilatura-new does not import"; exit 1; }
fi

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$CPU"); fi

# --- one set -------------------------------------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run_set() {
SET=$1
INPUT=$DATA/bp-$SET.jsonl
TRUTH=$("$VPY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import sets; print(sets.shared() / sys.argv[2] / "ground-truth.json")' "$HERE" "$SET")
if [ ! -s "$TRUTH" ]; then log "$SET: $TRUTH not found: skipped"; return 0; fi
[ -s "$INPUT" ] || "$VPY" "$HERE/sets.py" inputs
DOCS=$(grep -c '' "$INPUT")

# --- contenders ----------------------------------------------------------------------------------
NAMES=()
declare -A OUT PROC   # PROC: contenders timed as a whole process (command words)
for p in trafilatura trafilatura-new resiliparse readability justext htmltext htmlparse; do
    want "$p" || continue
    NAMES+=("$p"); OUT[$p]=$DATA/$SET-$p.jsonl
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
        # --stats: the CPU time of the extraction alone, timed as the peers' loops are
        NAMES+=(ours); OURS+=(ours); PROC[ours]="$BIN/boilerplate-strip --stats $TMP/ours-stats.json"
        OUT[ours]=$DATA/$SET-ours.jsonl
        i=0
        IFS=';' read -ra variants <<<"$OURS_ARGS"
        for v in "${variants[@]}"; do
            v=$(echo "$v" | sed 's/^ *//; s/ *$//'); [ -n "$v" ] || continue
            i=$((i + 1)); n="ours-$i"
            NAMES+=("$n"); OURS+=("$n"); PROC[$n]="$BIN/boilerplate-strip $v"; OUT[$n]=$DATA/$SET-$n.jsonl
        done
    else
        log "ours: $BIN/boilerplate-strip is not built (build it, or set BIN=...): skipped"
    fi
fi

echo "set:      $SET"
echo "input:    $INPUT ($DOCS pages, $(stat -c %s "$INPUT") bytes of JSON Lines)"
echo "machine:  $(cpu_model), $(getconf _NPROCESSORS_ONLN) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg); ${PIN[*]:-no taskset}"
echo "versions: $("$VPY" -c 'import importlib.metadata as m, sys; print("python %d.%d.%d" % sys.version_info[:3], *("%s %s" % (d, m.version(d)) for d in ("trafilatura", "resiliparse", "readability-lxml", "justext", "html-text", "lxml")), sep=", ")')"
! want trafilatura-new || echo "          trafilatura-new: $("$VPY_NEW" -c 'import importlib.metadata as m; print(*("%s %s" % (d, m.version(d)) for d in ("trafilatura", "lxml")), sep=", ")')"
for n in "${OURS[@]}"; do printf '%-10s%s\n' "$n:" "${PROC[$n]} $INPUT"; done
echo "runs:     $RUNS per contender, interleaved; median reported"
echo

cat "$INPUT" >/dev/null   # page cache

declare -A WALL CPUT XCPU
for ((r = 1; r <= RUNS; r++)); do
    for n in "${NAMES[@]}"; do
        out=${OUT[$n]}; [ "$r" = 1 ] || out=$TMP/$n.jsonl
        if [ -n "${PROC[$n]:-}" ]; then     # ours, passthrough: the whole process
            timed "$n failed (run $r)" "$out" "$TMP/$n.err" "${PIN[@]}" ${PROC[$n]} "$INPUT"
            WALL[$n]+="$real "; CPUT[$n]+="$cpu "
            [ "$n" != ours ] || XCPU[$n]+="$(jq -r .boilerplate.extract_cpu_seconds "$TMP/ours-stats.json") "
        else                                # a peer: its own timing of the extraction loop
            py=$VPY; pn=$n
            [ "$n" != trafilatura-new ] || { py=$VPY_NEW; pn=trafilatura; }
            "${PIN[@]}" "$py" "$HERE/peers.py" "$pn" "$INPUT" "$out" >"$TMP/$n.out" 2>"$TMP/$n.err" ||
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
printf '%-16s %6s %6s %6s %6s %9s %7s %7s %8s %8s\n' name P R F1 acc "median s" "min s" "cpu s" "docs/s" "MB/s"
for n in "${NAMES[@]}"; do
    MED[$n]=$(echo "${WALL[$n]}" | median); CMED[$n]=$(echo "${CPUT[$n]}" | median)
    min=$(echo "${WALL[$n]}" | minimum)
    if [ "$n" = htmlparse ] || [ "$n" = passthrough ]; then
        acc="- - - -"   # no extraction
    else
        acc=$("$VPY" "$HERE/score.py" "${OUT[$n]}" --truth "$TRUTH" --json | "$VPY" -c 'import json, sys; r = json.load(sys.stdin)
print(*("%.3f" % r[k] for k in ("precision", "recall", "f1", "accuracy")), r["missing"] + r["unknown"] + r["duplicates"])')
    fi
    read -r p rc f a miss <<<"$acc"
    [ "${miss:-0}" = 0 ] || log "$n: ids do not match the ground truth (see: bench/boilerplate/score.py ${OUT[$n]})"
    awk -v n="$n" -v p="$p" -v r="$rc" -v f="$f" -v a="$a" -v t="${MED[$n]}" -v m="$min" -v c="${CMED[$n]}" -v d="$DOCS" -v b="$HTML_BYTES" \
        'BEGIN{printf "%-16s %6s %6s %6s %6s %9.3f %7.3f %7.3f %8.1f %8.2f\n", n, p, r, f, a, t, m, c, d/t, b/1e6/t}'
done
echo "(P, R, F1 as the article extraction benchmark computes them (score.py), acc = exact token match;"
echo " seconds: median and minimum of $RUNS; cpu = user+sys (median); docs/s and MB/s (html bytes, $HTML_BYTES in all) use the median wall time."
echo " Peers: extraction loop only. ours and passthrough: whole process, start-up and JSON parsing/writing included.)"
[ ${#OURS[@]} = 0 ] || echo
for n in "${OURS[@]}"; do
    for p in trafilatura trafilatura-new resiliparse; do
        [ -n "${MED[$p]:-}" ] || continue
        awk -v n="$n" -v p="$p" -v o="${MED[$n]}" -v t="${MED[$p]}" -v oc="${CMED[$n]}" -v tc="${CMED[$p]}" \
            'BEGIN{printf "%-7s vs %-16s %6.2fx wall %6.2fx cpu  (%s time / %s time; >1 = %s faster)\n", n, p, t/o, tc/oc, p, n, n}'
    done
done
if [ -n "${XCPU[ours]:-}" ]; then
    x=$(echo "${XCPU[ours]}" | median | awk '{printf "%.3f", $1}')
    echo
    echo "ours, the extraction alone (parsing and extracting, as the peers' loops are timed; --stats extract_cpu_seconds): $x s cpu (median)"
    for p in trafilatura trafilatura-new resiliparse; do
        [ -n "${CMED[$p]:-}" ] || continue
        awk -v p="$p" -v x="$x" -v tc="${CMED[$p]}" 'BEGIN{printf "ours    vs %-16s %6.2fx cpu, extraction loops alike\n", p, tc/x}'
    done
fi
echo
printf '%-16s %-9s %5s %5s %5s %5s %s\n' name part pages P R F1 "pages left empty (their truth is not)"
for n in "${NAMES[@]}"; do
    [ "$n" != htmlparse ] && [ "$n" != passthrough ] || continue
    "$VPY" "$HERE/sets.py" score-file "$SET" "${OUT[$n]}" | tail -n +2 |
        awk -v n="$n" '{e = ""; for (i = 8; i <= NF; i++) e = e " " $i; printf "%-16s %-9s %5s %5s %5s %5s %s%s\n", n, $2, $3, $4, $5, $6, $7, e}'
done
echo "(the tuning part decided every change of ours; the held-out part (about 30%, sets.py) did not)"
echo
echo "outputs: $DATA/$SET-<name>.jsonl (run 1); per page: bench/boilerplate/score.py FILE --truth $TRUTH --per-doc"
}

for set in $SETS; do
    run_set "$set"
    echo
done
