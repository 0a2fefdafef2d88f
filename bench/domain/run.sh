#!/usr/bin/env bash
# domain-tag's classifier, weakly supervised: the pages at hand that the URL rules label (the
# article extraction benchmark's 181 articles with their URLs, the text of the shared WARC
# files' pages), trained with --train and measured on a held-out share (by id hash), against
# always guessing the largest class. Small data: a few settings are tried.
#
#   bench/domain/run.sh            (BIN=DIR: where domain-tag and warc-extract live)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
BIN=${BIN:-$ROOT/build/bin}
SHARED=${CRAWL2LM_SHARED_DATA:-$(dirname "$ROOT")/shared/data}
OUT=$ROOT/bench/data/domain-pages.jsonl
HOLDOUT=${HOLDOUT:-0.3}

python3 - "$SHARED/aeb/ground-truth.json" >"$OUT" <<'PY'
import json, sys
gt = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sorted(gt):
    print(json.dumps({"id": "aeb:" + k, "url": gt[k]["url"], "text": gt[k]["articleBody"]}, ensure_ascii=False))
PY
for w in "$SHARED"/warc/*.warc.gz "$SHARED"/warc/*.warc; do
    "$BIN/warc-extract" --text --allow-truncated -q "$w" 2>/dev/null || true
done >>"$OUT"
echo "pages: $OUT ($(grep -c '' "$OUT") records); labelled by the built-in URL rules:"
"$BIN/domain-tag" "$OUT" | jq -r '.metadata.domain | select(.source == "url") | .label' | sort | uniq -c | sort -rn | sed 's/^/  /'
MODEL=$(mktemp)
trap 'rm -f "$MODEL"' EXIT
for args in "" "--lr 2 --epochs 50" "--lr 8 --epochs 100"; do
    printf '%-24s ' "${args:-defaults}"
    "$BIN/domain-tag" --train "$OUT" --holdout "$HOLDOUT" $args -o "$MODEL" 2>&1 | sed 's/.*trained on/trained on/'
done
