#!/usr/bin/env bash
# --url-filter default against datatrove's URLFilter: agreement of the decisions on a set of URLs
# made from datatrove's own lists (make-urls.py), the lists' load time and the time per URL.
#
#   bench/urlfilter/run.sh                  # 1,200 URLs (400 of each kind), 3 runs each
#   PER_KIND=20000 SEED=7 bench/urlfilter/run.sh   # a larger set
#
# Environment (all optional):
#   BUILD=DIR    the build folder holding bench/urlfilter/urlcheck (make build/bench/urlfilter/urlcheck)
#   RUNS=3       runs of each (median of the CPU times reported)
#   PER_KIND=400 SEED=24   make-urls.py's set
#   CPU=0        the core both are pinned to (taskset), if taskset exists
#   PYTHON=python3  interpreter used to create bench/.venv
#
# datatrove: URLFilter() with its integrated lists, tldextract reading its own Public Suffix List
# snapshot (no network); its load time is that of download_data() once the tar is extracted in
# its cache (every run after a machine's first), and of tldextract's snapshot; its time per URL
# is filter(doc) alone (datatrove-run.py). Ours: urlcheck, the library call cm_urlfilter_load
# "default" and cm_urlfilter_check alone, in C. Both single-threaded, CPU time.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BUILD=${BUILD:-$ROOT/build}
RUNS=${RUNS:-3}
PER_KIND=${PER_KIND:-400}
SEED=${SEED:-24}
CPU=${CPU:-0}
PYTHON=${PYTHON:-python3}
DATA=$BENCH/data/urlfilter
mkdir -p "$DATA"
export HF_HUB_OFFLINE=1 PYTHONHASHSEED=0

PKGS=(datatrove==0.10.1 tldextract==5.4.0 pyahocorasick fasteners)
IMPORTS='import datatrove.pipeline.filters.url_filter, tldextract, ahocorasick, fasteners'
need_venv "$IMPORTS" "setting up $VENV (from PyPI: ${PKGS[*]})" "datatrove's URLFilter does not import" "${PKGS[@]}"
ASSETS=$("$VPY" -c 'import datatrove, os; print(os.path.join(os.path.dirname(datatrove.__file__), "assets"))')
URLCHECK=$BUILD/bench/urlfilter/urlcheck
[ -x "$URLCHECK" ] || { log "build $URLCHECK first: make build/bench/urlfilter/urlcheck"; exit 2; }

PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$CPU"); fi
URLS=$DATA/urls-$PER_KIND-$SEED.txt
"$VPY" "$HERE/make-urls.py" "$ASSETS" --per-kind "$PER_KIND" --seed "$SEED" >"$URLS"
N=$(grep -c '' "$URLS")
echo "urls:     $URLS ($N: $PER_KIND adult-domain, $PER_KIND ordinary, $PER_KIND word URLs; seed $SEED)"
echo "machine:  $(cpu_model), $(getconf _NPROCESSORS_ONLN) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg); ${PIN[*]:-no taskset}"
echo "versions: $("$VPY" -c 'import importlib.metadata as m, sys; print("python %d.%d.%d" % sys.version_info[:3], *("%s %s" % (d, m.version(d)) for d in ("datatrove", "tldextract", "pyahocorasick")), sep=", ")')"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DT_LOAD="" DT_URL="" OUR_LOAD="" OUR_URL=""
for ((r = 1; r <= RUNS; r++)); do
    "${PIN[@]}" "$VPY" "$HERE/datatrove-run.py" "$URLS" "$DATA/datatrove.txt" 2>"$TMP/dt.err" >/dev/null ||
        run_failed "datatrove failed" "$TMP/dt.err"
    DT_LOAD+="$(awk '/^load_cpu_s/ {print $2}' "$TMP/dt.err") "
    DT_URL+="$(awk '/^lookup_us_per_url/ {print $2}' "$TMP/dt.err") "
    "${PIN[@]}" "$URLCHECK" default <"$URLS" >"$DATA/ours.txt" 2>"$TMP/ours.err" ||
        run_failed "urlcheck failed" "$TMP/ours.err"
    OUR_LOAD+="$(awk '/^load_cpu_s/ {print $2}' "$TMP/ours.err") "
    OUR_URL+="$(awk '/^lookup_ns_per_url/ {print $2 / 1000}' "$TMP/ours.err") "
    log "run $r/$RUNS done"
done

echo
echo "agreement (keep or drop), by kind:"
paste -d'\t' "$DATA/datatrove.txt" "$DATA/ours.txt" "$URLS" | awk -F'\t' -v k="$PER_KIND" '
    function v(s) { return s == "keep" ? "keep" : "drop" }
    { kind = NR <= k ? "domain" : NR <= 2 * k ? "ordinary" : "words"
      n[kind]++; if (v($1) == v($2)) a[kind]++; else bad[++nb] = $1 " | " $2 " | " $3
      dk += v($1) == "keep"; ok += v($2) == "keep"; all++; agree += v($1) == v($2) }
    END { split("domain ordinary words", ks, " "); for (i = 1; i <= 3; i++) { x = ks[i]; if (n[x]) printf "  %-9s %d/%d = %.2f%%\n", x, a[x], n[x], 100 * a[x] / n[x] }
          printf "  all       %d/%d = %.2f%% (kept: datatrove %d, ours %d)\n", agree, all, 100 * agree / all, dk, ok
          for (i = 1; i <= nb && i <= 20; i++) print "  differs: datatrove | ours | url: " bad[i] }'
echo "reasons (datatrove -> ours), on the URLs both drop:"
paste -d'\t' "$DATA/datatrove.txt" "$DATA/ours.txt" | awk -F'\t' '$1 != "keep" && $2 != "keep" { sub(/^drop /, "", $1); sub(/^drop /, "", $2); c[$1 " -> " $2]++ }
    END { for (x in c) printf "  %-40s %d\n", x, c[x] }' | sort
echo
DL=$(median <<<"$DT_LOAD") OL=$(median <<<"$OUR_LOAD") DU=$(median <<<"$DT_URL") OU=$(median <<<"$OUR_URL")
printf 'load (CPU s, median of %d):       datatrove %.3f   ours %.3f   (%.1fx)\n' "$RUNS" "$DL" "$OL" "$(awk -v a="$DL" -v b="$OL" 'BEGIN{print a/b}')"
printf 'per URL (CPU us, median of %d):   datatrove %.2f   ours %.3f   (%.1fx)\n' "$RUNS" "$DU" "$OU" "$(awk -v a="$DU" -v b="$OU" 'BEGIN{print a/b}')"
