#!/usr/bin/env bash
# quality-score against datatrove's own filters: agreement of the verdicts and speed, side by side,
# on bench/data/quality-docs.jsonl (real pages and articles of many languages, Debian text,
# synthetic edge cases), per family and per set of documents, a held-out part apart.
#
#   bench/quality/run.sh
#   RUNS=1 bench/quality/run.sh                 # one timed run of each
#   DT_RUNS=0 bench/quality/run.sh              # reuse data/quality-datatrove.jsonl, time ours only
#   SHOW=30 bench/quality/run.sh                # list more disagreeing documents
#
# Environment (all optional):
#   BIN=DIR      where quality-score (and warc-extract, for the input) live (default: <repo>/build/bin)
#   RUNS=3       timed runs of each contender (median reported); agreement is scored on run 1
#   DT_RUNS=N    timed datatrove runs (default: RUNS); 0 reuses an existing datatrove output, untimed
#   CPU=0        the core both contenders are pinned to (taskset), if taskset exists
#   SHOW=10      disagreeing documents listed by compare.py
#   PYTHON=python3  interpreter used to create bench/.venv
#
# datatrove (datatrove-run.py) runs GopherRepetitionFilter, GopherQualityFilter,
# C4QualityFilter(filter_no_terminal_punct=False) - C4's defaults except that, as in FineWeb's
# pipeline - and FineWebQualityFilter, each with its default parameters, each on the original text.
# Its time is the extraction loop only (no interpreter start-up, imports, reading or writing), for
# all four filters run on each document in turn, where datatrove's word-split cache lets three of
# them share one spaCy tokenization (its best case). Ours is the whole process:
#   $BIN/quality-score --annotate-only --preset fineweb --english-rules-everywhere
#     --rules gopher_repetition,gopher_quality,c4,fineweb,c4_badwords --words spacy INPUT > OUT
#   (datatrove applies its English rules and tokenizer to every document: so does ours here)
# start-up and JSON reading and writing included. Both are single-threaded. One datatrove run takes
# a few minutes here (it runs at about 0.1 MB/s); run 1 also computes, untimed, every check that
# fails on its own (all_reasons), for compare.py's per-check table.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
RUNS=${RUNS:-3}
DT_RUNS=${DT_RUNS:-$RUNS}
CPU=${CPU:-0}
SHOW=${SHOW:-10}
PYTHON=${PYTHON:-python3}
DATA=$BENCH/data
INPUT=$DATA/quality-docs.jsonl
DT_OUT=$DATA/quality-datatrove.jsonl
OURS_OUT=$DATA/quality-ours.jsonl
UNI_OUT=$DATA/quality-ours-unicode.jsonl
DT_BW=$DATA/quality-datatrove-badwords.jsonl

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1

# --- venv: datatrove, and spaCy, which its English word splitting uses (spacy.blank("en"): the
# tokenizer rules ship inside the spacy package, no model is downloaded) ---------------------------
PKGS=(datatrove==0.10.1 spacy==3.8.18 regex)  # datatrove imports regex without requiring it
IMPORTS='import datatrove.pipeline.filters, spacy; spacy.blank("en")'
need_venv "$IMPORTS" "setting up $VENV (from PyPI: ${PKGS[*]})" "datatrove does not import" "${PKGS[@]}"

# --- input -----------------------------------------------------------------------------------------
# an input made before the readability and test-WARC pages were added is made again (and
# datatrove's verdicts on it dropped)
if [ -s "$INPUT" ] && ! grep -q '"id": "readability:' "$INPUT"; then
    log "$INPUT predates the readability pages: making it again"
    rm -f "$INPUT" "$DT_OUT"
fi
[ -s "$INPUT" ] || "$VPY" "$HERE/make-input.py" "$INPUT" --bin "$BIN"
DOCS=$(grep -c '' "$INPUT")
BYTES=$("$VPY" -c 'import json, sys; print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1], encoding="utf-8")))' "$INPUT")

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$CPU"); fi

HAVE_OURS=0
if [ -x "$BIN/quality-score" ]; then
    HAVE_OURS=1
else
    log "ours: $BIN/quality-score is not built (build it, or set BIN=...): datatrove only"
fi
if [ "$DT_RUNS" = 0 ] && [ ! -s "$DT_OUT" ]; then
    log "DT_RUNS=0 but $DT_OUT does not exist: running datatrove once"
    DT_RUNS=1
fi

echo "input:    $INPUT ($DOCS documents, $BYTES bytes of text)"
echo "machine:  $(cpu_model), $(getconf _NPROCESSORS_ONLN) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg); ${PIN[*]:-no taskset}"
echo "versions: $("$VPY" -c 'import importlib.metadata as m, sys; print("python %d.%d.%d" % sys.version_info[:3], *("%s %s" % (d, m.version(d)) for d in ("datatrove", "spacy", "numpy")), sep=", ")')"
[ "$HAVE_OURS" = 0 ] || echo "ours:     $BIN/quality-score --annotate-only --preset fineweb --english-rules-everywhere
          --rules gopher_repetition,gopher_quality,c4,fineweb,c4_badwords --words spacy $INPUT
          (and timed again with --assume-lang en: the rules alone, no language identification,
          the same work as datatrove's four filters)"
echo "runs:     datatrove $DT_RUNS, ours $([ "$HAVE_OURS" = 1 ] && echo "$RUNS" || echo 0); interleaved; median reported"
echo

cat "$INPUT" >/dev/null   # page cache

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DT_T="" DT_SUM="" OURS_T="" OURS_C="" RULES_T="" RULES_C="" UNI_T="" UNI_C="" X4_T="" X4_C="" UNI_RULES=""
# the input four times over: the rate once start-up and the first growth of every buffer (to
# the largest document) are paid, as over a long run
[ "$HAVE_OURS" = 0 ] || for i in 1 2 3 4; do cat "$INPUT"; done >"$TMP/x4.jsonl"
MAXR=$DT_RUNS; [ "$HAVE_OURS" = 0 ] || [ "$RUNS" -le "$MAXR" ] || MAXR=$RUNS
for ((r = 1; r <= MAXR; r++)); do
    if [ "$r" -le "$DT_RUNS" ]; then
        if [ "$r" = 1 ]; then out=$DT_OUT; extra=(); else out=$TMP/dt.jsonl; extra=(--no-all-reasons); fi
        "${PIN[@]}" "$VPY" "$HERE/datatrove-run.py" "$INPUT" "$out" "${extra[@]}" >"$TMP/dt.out" 2>"$TMP/dt.err" ||
            run_failed "datatrove failed (run $r)" "$TMP/dt.err"
        [ "$r" != 1 ] || { cat "$TMP/dt.out" | grep -v '^TIMING'; echo; }
        line=$(grep '^TIMING' "$TMP/dt.out")
        t=$(sed -n 's/.* per_doc_s=\([0-9.]*\).*/\1/p' <<<"$line"); DT_T+="$t "
        DT_SUM+="$(sed -n 's/.* sum_filters_s=\([0-9.]*\).*/\1/p' <<<"$line") "
        log "run $r/$DT_RUNS datatrove: ${t}s (all four per document)"
    fi
    if [ "$HAVE_OURS" = 1 ] && [ "$r" -le "$RUNS" ]; then
        out=$OURS_OUT; [ "$r" = 1 ] || out=$TMP/ours.jsonl
        qs=("${PIN[@]}" "$BIN/quality-score" --annotate-only --preset fineweb --english-rules-everywhere
            --rules gopher_repetition,gopher_quality,c4,fineweb,c4_badwords)
        timed "quality-score failed (run $r)" "$out" "$TMP/ours.err" "${qs[@]}" --words spacy "$INPUT"
        oreal=$real; OURS_T+="$real "; OURS_C+="$cpu "
        timed "quality-score --assume-lang en failed (run $r)" "$TMP/rules.jsonl" "$TMP/ours.err" \
            "${qs[@]}" --words spacy --assume-lang en "$INPUT"
        rreal=$real; RULES_T+="$real "; RULES_C+="$cpu "
        uout=$TMP/unicode.jsonl; [ "$r" != 1 ] || uout=$UNI_OUT
        timed "quality-score --words unicode failed (run $r)" "$uout" "$TMP/ours.err" \
            "${qs[@]}" --assume-lang en --stats "$TMP/uni-stats.json" "$INPUT"
        ureal=$real; UNI_T+="$real "; UNI_C+="$cpu "
        UNI_RULES+="$("$VPY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["quality"]["rules_seconds"])' "$TMP/uni-stats.json") "
        timed "quality-score on the input x4 failed (run $r)" "$TMP/x4.out" "$TMP/ours.err" \
            "${qs[@]}" --assume-lang en "$TMP/x4.jsonl"
        X4_T+="$real "; X4_C+="$cpu "
        log "run $r/$RUNS ours: ${oreal}s, rules alone ${rreal}s, default words ${ureal}s"
    fi
done

# --- agreement ---------------------------------------------------------------------------------------
if [ "$HAVE_OURS" = 1 ]; then
    # C4's bad-words filter (c4_badwords), in the language ours identified (datatrove-badwords.py)
    "$VPY" "$HERE/datatrove-badwords.py" "$INPUT" "$OURS_OUT" "$DT_BW" --lists "$ROOT/data/ldnoobw" >"$TMP/bw.out" \
        2>"$TMP/bw.err" || run_failed "datatrove's C4BadWordsFilter failed" "$TMP/bw.err"
    cat "$TMP/bw.out"
    "$VPY" "$HERE/compare.py" "$OURS_OUT" "$DT_OUT" --show "$SHOW" --input "$INPUT" --by-set --extra "$DT_BW"
    echo
    echo "with the default words (--words unicode: punctuation apart, a CJK character a word):"
    "$VPY" "$HERE/compare.py" "$UNI_OUT" "$DT_OUT" --show 0 --input "$INPUT" | sed -n '/^family/,/^all four/p'
    echo
fi

# --- speed ---------------------------------------------------------------------------------------------
printf '%-36s %9s %9s %9s\n' contender "median s" "MB/s" "docs/s"
if [ -n "$DT_T" ]; then
    DTM=$(echo "$DT_T" | median); DTS=$(echo "$DT_SUM" | median)
    awk -v t="$DTM" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f\n", "datatrove, all four per document", t, b/1e6/t, d/t}'
    awk -v t="$DTS" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f\n", "datatrove, sum of four filter loops", t, b/1e6/t, d/t}'
else
    echo "datatrove: not timed (DT_RUNS=0; verdicts from $DT_OUT)"
fi
if [ "$HAVE_OURS" = 1 ]; then
    OM=$(echo "$OURS_T" | median); OC=$(echo "$OURS_C" | median)
    RM=$(echo "$RULES_T" | median); RC=$(echo "$RULES_C" | median)
    UM=$(echo "$UNI_T" | median); UC=$(echo "$UNI_C" | median)
    XM=$(echo "$X4_T" | median); XC=$(echo "$X4_C" | median)
    URM=$(echo "$UNI_RULES" | median); URMIN=$(echo "$UNI_RULES" | minimum)
    awk -v t="$UM" -v c="$UC" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f   (cpu %.3f s)\n", "quality-score, rules, default words", t, b/1e6/t, d/t, c}'
    awk -v t="$URM" -v m="$URMIN" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f   (fastest run %.3f s, %.1f MB/s)\n", "  of which in the rules", t, b/1e6/t, d/t, m, b/1e6/m}'
    awk -v t="$XM" -v c="$XC" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f   (cpu %.3f s)\n", "  the same on the input x4", t, 4*b/1e6/t, 4*d/t, c}'
    awk -v t="$RM" -v c="$RC" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f   (cpu %.3f s)\n", "quality-score, rules, spaCy words", t, b/1e6/t, d/t, c}'
    awk -v t="$OM" -v c="$OC" -v b="$BYTES" -v d="$DOCS" 'BEGIN{printf "%-36s %9.3f %9.3f %9.1f   (cpu %.3f s)\n", "quality-score, spaCy words + lang id", t, b/1e6/t, d/t, c}'
    [ -z "${DTM:-}" ] || awk -v o="$RM" -v f="$OM" -v t="$DTM" 'BEGIN{printf "\nours is %.1fx datatrove, the same words and rules (%.1fx with language identification besides)\n(datatrove time / ours; >1 = ours faster)\n", t/o, t/f}'
fi
echo "(MB = 10^6 bytes of UTF-8 text; datatrove: extraction loop only, single thread; ours: whole"
echo " process, JSON in and out included; rules alone: --assume-lang en, which identifies nothing;"
echo " in the rules: quality-score's own clock around them, from --stats; input x4: the input four"
echo " times in one run, start-up and buffer growth paid once)"
echo
echo "outputs: $DT_OUT (datatrove)$([ "$HAVE_OURS" = 1 ] && echo ", $OURS_OUT (ours, run 1)")"
echo "details: $VPY $HERE/compare.py $OURS_OUT $DT_OUT --show 50 [--family F]"
