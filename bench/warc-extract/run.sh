#!/usr/bin/env bash
# warc-extract throughput against its peers, on one Common-Crawl-like gzip WARC (100+ MiB).
#
#   bench/warc-extract/run.sh
#
# Environment (all optional):
#   BIN=DIR          where warc-extract lives (default: <repo>/build/bin)
#   OURS_ARGS="..."  extra arguments for warc-extract (compare variants)
#   RUNS=5           timed runs per contender (median reported)
#   WARC=FILE        input (default: bench/data/cc-aeb.warc.gz, built by make-warc.py if missing)
#   WARC_SIZE=100M   target compressed size when building it
#   PYTHON=python3   interpreter used to create bench/.venv
#   ONLY="zcat zlib igzip fastwarc warcio ours"   subset of contenders to run
#   Environment variables of warc-extract itself (e.g. CRAWL2LM_INFLATE=zlib) pass through.
#
# Every contender is one single-threaded process (thread-pool variables are set to 1 below; the
# table shows CPU time (user+sys) next to wall time so that this can be checked). Runs are
# interleaved (run 1 of each contender, then run 2, ...) after one untimed read that puts the
# file in the page cache. On a busy machine wall > cpu: compare the cpu ratios then.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
OURS_ARGS=${OURS_ARGS:-}
RUNS=${RUNS:-5}
WARC=${WARC:-$BENCH/data/cc-aeb.warc.gz}
WARC_SIZE=${WARC_SIZE:-100M}
PYTHON=${PYTHON:-python3}
ONLY=${ONLY:-zcat zlib igzip fastwarc warcio ours}

export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# --- (a) peers' venv ---------------------------------------------------------------------------
if ! { [ -x "$VPY" ] && "$VPY" -c 'import fastwarc.warc, warcio.archiveiterator' 2>/dev/null; }; then
    log "setting up $VENV (fastwarc, warcio from PyPI)"
    [ -x "$VPY" ] || "$PYTHON" -m venv "$VENV"
    "$VPY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$VPY" -m pip install -q fastwarc warcio
    "$VPY" -c 'import fastwarc.warc, warcio.archiveiterator' || { log "fastwarc/warcio do not import"; exit 1; }
fi

# --- (b) input ---------------------------------------------------------------------------------
if [ ! -s "$WARC" ]; then
    log "building $WARC ($WARC_SIZE)"
    mkdir -p "$(dirname "$WARC")"
    "$VPY" "$HERE/make-warc.py" "$WARC" "$WARC_SIZE"
fi
WARC_BYTES=$(stat -c %s "$WARC")

# --- contenders ----------------------------------------------------------------------------------
want() { case " $ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }
NAMES=()
declare -A CMD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Inflate bounds: gzip's own inflate (zcat), the system zlib (libz, driven from Python in 64 KiB
# reads), ISA-L (igzip). libcommon/input.c can inflate with zlib or ISA-L (CRAWL2LM_INFLATE).
if want zcat; then NAMES+=(zcat); CMD[zcat]="zcat '$WARC' >/dev/null"; fi
if want zlib; then NAMES+=(zlib); CMD[zlib]="'$VPY' '$HERE/peers.py' zlib '$WARC' >'$TMP/zlib.out'"; fi
if want igzip; then
    if ! command -v igzip >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing igzip (Debian package isal)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q isal >/dev/null 2>&1 || \
            { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q isal >/dev/null 2>&1; } || true
    fi
    if command -v igzip >/dev/null 2>&1; then
        NAMES+=(igzip); CMD[igzip]="igzip -dc '$WARC' >/dev/null"
    else
        log "igzip not available (apt-get install isal): skipped"
    fi
fi
if want fastwarc; then NAMES+=(fastwarc); CMD[fastwarc]="'$VPY' '$HERE/peers.py' fastwarc '$WARC' >'$TMP/fastwarc.out'"; fi
if want warcio; then NAMES+=(warcio); CMD[warcio]="'$VPY' '$HERE/peers.py' warcio '$WARC' >'$TMP/warcio.out'"; fi
OURS=""
if want ours; then
    if [ -x "$BIN/warc-extract" ]; then
        NAMES+=(ours); OURS="$BIN/warc-extract $OURS_ARGS"
        CMD[ours]="$BIN/warc-extract $OURS_ARGS '$WARC' >/dev/null"
    else
        log "ours: $BIN/warc-extract is not built (build it, or set BIN=...): skipped"
    fi
fi

# --- machine and versions ------------------------------------------------------------------------
echo "input:   $WARC ($WARC_BYTES bytes compressed)"
echo "machine: $(cpu_model), $(getconf _NPROCESSORS_ONLN) CPU(s); each contender is one single-threaded process"
echo "versions: $(gzip --version | head -1); $(command -v igzip >/dev/null && igzip -V 2>&1 | head -1 || echo 'no igzip');" \
     "$("$VPY" -c 'import importlib.metadata as m, sys; print("python %d.%d.%d" % sys.version_info[:3], "fastwarc", m.version("fastwarc"), "warcio", m.version("warcio"))')"
[ -n "$OURS" ] && echo "ours:    $OURS"
echo "runs:    $RUNS per contender, interleaved; median reported"
echo

cat "$WARC" >/dev/null   # page cache

declare -A WALL CPU
for ((r = 1; r <= RUNS; r++)); do
    for n in "${NAMES[@]}"; do
        timed "$n failed (run $r)" /dev/null "$TMP/$n.err" bash -c "${CMD[$n]}"   # CMD redirects stdout
        WALL[$n]+="$real "
        CPU[$n]+="$cpu "
        log "run $r/$RUNS $n: ${real}s"
        if [ "$n" = fastwarc ] || [ "$n" = warcio ]; then cp "$TMP/$n.out" "$TMP/$n.out.$r"; fi
    done
done

# --- record counts -------------------------------------------------------------------------------
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$2"; }
RECORDS=""
if [ -f "$TMP/fastwarc.out.1" ]; then
    RECORDS=$(field records "$TMP/fastwarc.out.1")
else
    RECORDS=$("$VPY" "$HERE/peers.py" fastwarc "$WARC" | sed -n 's/.*records=\([0-9]*\).*/\1/p')
fi
echo "response records (FastWARC): $RECORDS"
for p in fastwarc warcio; do
    [ -f "$TMP/$p.out.1" ] || continue
    for f in "$TMP/$p.out".*; do
        c=$(field records "$f")
        [ "$c" = "$RECORDS" ] || echo "COUNT MISMATCH: $p counted $c response records, FastWARC $RECORDS"
    done
    echo "$p: $(head -1 "$TMP/$p.out.1")"
done
if [ -n "$OURS" ]; then
    # One JSON Lines record per HTML response; every response here is text/html.
    OURS_N=$($OURS "$WARC" 2>/dev/null | wc -l)
    echo "ours: $OURS_N JSON lines"
    [ "$OURS_N" = "$RECORDS" ] || echo "COUNT MISMATCH: ours wrote $OURS_N records, FastWARC counted $RECORDS response records"
fi
echo

# --- table ---------------------------------------------------------------------------------------
declare -A MED CMED
printf '%-10s %10s %8s %8s %12s %10s\n' contender "median s" "min s" "cpu s" "records/s" "MB/s"
for n in "${NAMES[@]}"; do
    MED[$n]=$(echo "${WALL[$n]}" | median)
    c=$(echo "${CPU[$n]}" | median); CMED[$n]=$c
    m=$(echo "${WALL[$n]}" | minimum)
    awk -v n="$n" -v t="${MED[$n]}" -v m="$m" -v c="$c" -v r="$RECORDS" -v b="$WARC_BYTES" \
        'BEGIN{printf "%-10s %10.3f %8.3f %8.3f %12.1f %10.1f\n", n, t, m, c, r/t, b/1e6/t}'
done
echo "(wall seconds; cpu = user+sys, median; MB/s = compressed input bytes / 1e6 / median; records/s = response records / median)"
if [ -n "${MED[ours]:-}" ]; then
    echo
    for p in fastwarc warcio zcat zlib igzip; do
        [ -n "${MED[$p]:-}" ] || continue
        awk -v p="$p" -v o="${MED[ours]}" -v t="${MED[$p]}" -v oc="${CMED[ours]}" -v tc="${CMED[$p]}" \
            'BEGIN{printf "ours vs %-9s %6.2fx wall  %6.2fx cpu  (ours / %s speed; >1 = ours faster)\n", p, t/o, tc/oc, p}'
    done
fi
