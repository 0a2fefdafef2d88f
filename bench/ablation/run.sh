#!/usr/bin/env bash
# The data ablation (pipelines/ablation/ablation.mk) on this machine's real HTML: bench/corpus's
# Debian HTML documentation (corpus-html.jsonl) and the shared WARC files' pages; the man pages
# (hq for the classifier) and Perl's manuals (held out) from corpus-en.jsonl; the shared
# Shakespeare and multiple-choice tasks. Writes bench/data/ablation/ (corpora, runs, report),
# then copies report.md and ablation.png here, and prints the CPU time of the whole build.
#
#   bench/ablation/run.sh          JOBS=2 (runs side by side); any ablation.mk SETTING=VALUE
#                                  as arguments, e.g. SEEDS='1 2 3 4 5'
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
SHARED=${CRAWL2LM_SHARED_DATA:-$(dirname "$ROOT")/shared/data}
W=$BENCH/data/ablation
for c in corpus-en corpus-html; do
	[ -s "$BENCH/data/$c.jsonl" ] || "$BENCH/corpus/make-corpus.sh" en html
done
start=$(date +%s)
/usr/bin/time -f '%U %S' -o "$W.time" make -f "$ROOT/pipelines/ablation/ablation.mk" -j "${JOBS:-2}" \
	BIN="$BIN" OUT="$W" SHARED="$SHARED" HTML="$BENCH/data/corpus-html.jsonl" \
	CORPUS_EN="$BENCH/data/corpus-en.jsonl" "$@"
log "ablation: $(( $(date +%s) - start )) s wall, $(awk '{ printf "%.0f", $1 + $2 }' "$W.time") s CPU"
cp "$W/report.md" "$W/ablation.png" "$HERE/"
cat "$W/report.md"
