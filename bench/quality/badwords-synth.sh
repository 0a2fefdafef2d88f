#!/usr/bin/env bash
# quality-score's c4_badwords against datatrove's C4BadWordsFilter, language by language, on the
# texts make-badwords.py builds from the lists (every language's words where the filter must
# find them and where it must not). Prints the agreement per language and the disagreements.
#
#   bench/quality/badwords-synth.sh          (BIN=DIR: where quality-score lives; PER_LANG=40 SEED=24)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
BIN=${BIN:-$ROOT/build/bin}
PER_LANG=${PER_LANG:-40}
SEED=${SEED:-24}
PYTHON=${PYTHON:-python3}
export HF_HUB_OFFLINE=1
PKGS=(datatrove==0.10.1 spacy==3.8.18 regex)
need_venv 'import datatrove.pipeline.filters' "setting up $VENV (from PyPI: ${PKGS[*]})" "datatrove does not import" "${PKGS[@]}"
DATA=$BENCH/data
DOCS=$DATA/badwords-docs.jsonl
"$VPY" "$HERE/make-badwords.py" "$ROOT/data/ldnoobw" --per-lang "$PER_LANG" --seed "$SEED" >"$DOCS"
OURS=$DATA/badwords-ours.jsonl
: >"$OURS"
for lang in $(jq -r .lang "$DOCS" | uniq); do
    jq -c --arg l "$lang" 'select(.lang == $l)' "$DOCS" |
        "$BIN/quality-score" --annotate-only --rules c4_badwords --assume-lang "$lang" >>"$OURS"
done
"$VPY" "$HERE/datatrove-badwords.py" "$DOCS" "$OURS" "$DATA/badwords-datatrove.jsonl" --lists "$ROOT/data/ldnoobw"
echo "input: $DOCS ($(grep -c '' "$DOCS") texts, $PER_LANG per language, seed $SEED)"
"$VPY" - "$OURS" "$DATA/badwords-datatrove.jsonl" <<'PY'
import json, sys
ours = {r["id"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
dt = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
per, bad, fails = {}, [], [0, 0]
for d in dt:
    o = ours[d["id"]]["metadata"]["quality"]["pass"]["c4_badwords"]
    t = d["pass"]["c4_badwords"]
    lang = d["id"].split(":")[0]
    p = per.setdefault(lang, [0, 0])
    p[0] += 1
    p[1] += o == t
    fails[0] += not o
    fails[1] += not t
    if o != t:
        bad.append((d["id"], o, t, ours[d["id"]]["text"]))
n = sum(p[0] for p in per.values())
a = sum(p[1] for p in per.values())
print("agreement per language: " + ", ".join(f"{l} {100 * p[1] / p[0]:.0f}%" for l, p in sorted(per.items())))
print(f"all: {a}/{n} = {100 * a / n:.2f}%   (fail: ours {fails[0]}, datatrove {fails[1]})")
for i, o, t, text in bad[:20]:
    print(f"  differs: {i} ours {'pass' if o else 'FAIL'} datatrove {'pass' if t else 'FAIL'}: {text[:80]!r}")
PY
