#!/bin/sh
# pipelines/ablation/ablation.mk's plumbing on a tiny input (real pages: four articles and two
# WARC files), one seed, a few steps of a tiny model: every stage's corpus is made, each
# holds no more documents and text than the one before (raw pages, main text, rules, dedup,
# classifier), every run is evaluated on the held-out text and the task, and the report
# (table, Markdown, plot) is written. The real ablation (its figures in bench/README.md) is
# the same Makefile with its defaults.
. "${SRCDIR:-.}/tests/lib.sh"

MK=$SRCDIR/pipelines/ablation/ablation.mk
# the classifier's hq text: Readability's pages, main text (in no corpus: the input is other pages)
boilerplate-strip "$DATA/html/readability-6.jsonl.gz" | jq -c '{id, text}' >pos.jsonl
# held-out text: the ARC questions, 20 to a record
jq -s -c '[.[].query] | [_nwise(20)] | to_entries[] | {id: "q\(.key)", text: (.value | join("\n"))}' \
	"$DATA/jsonl/arc_easy-150.jsonl" >held.jsonl
jq -e .text held.jsonl >/dev/null
ok $? "the held-out file is JSON Lines"
# a WARC file twice (as the shared files hold some pages twice): duplicates for the dedup step
cp "$DATA/warc/chatnoir-resiliparse_warcfile.warc.gz" again.warc.gz
set -- OUT=abl BIN="$BUILD/bin" HTML="$DATA/html/aeb-4.jsonl.gz" \
	WARC="$DATA/warc/dolma_warc_sample-0000.warc.gz $DATA/warc/chatnoir-resiliparse_warcfile.warc.gz again.warc.gz" \
	CORPUS_EN= POSITIVES=pos.jsonl HELDOUT=held.jsonl TASKS="$DATA/eval/arc_easy.jsonl" MC_LIMIT=5 \
	MIN_SCORE=0.3 SEEDS=1 SHAPE=1x16 CONTEXT=32 BATCH=2 STEPS=3 VOCAB=300 TOK_BYTES=20000 NICE=
make -f "$MK" -j 2 "$@" >make.log 2>make.err
is "$?" 0 "the ablation builds: exit 0"
[ -s make.err ] && sed "s/^/# /" make.err >&2

prev_docs= prev_bytes= shrink=0
for c in a-raw b-strip c-rules d-dedup e-model; do
	f=abl/corpus/$c.jsonl
	docs=$(grep -c '' "$f" 2>/dev/null || echo 0)
	bytes=$(jq -j .text "$f" 2>/dev/null | wc -c)
	ok "$([ "$docs" -gt 0 ] && echo 0 || echo 1)" "corpus $c: $docs documents, $bytes bytes of text"
	if [ -n "$prev_docs" ]; then
		ok "$([ "$docs" -le "$prev_docs" ] && [ "$bytes" -le "$prev_bytes" ] && echo 0 || echo 1)" \
			"  no more documents or text than the stage before"
		[ "$bytes" -lt "$prev_bytes" ] && shrink=$((shrink + 1))
	fi
	is "$(jq '.splits.train.documents' abl/shards/$c/manifest.json)" "$docs" "  its shards hold its documents"
	ok "$([ -s abl/runs/$c-s1/step-0000003/model.safetensors ] && echo 0 || echo 1)" "  its run trained 3 steps"
	is "$(jq -r '[.results["held"].bits_per_byte > 0, .results["arc_easy"].acc >= 0, .config.items.arc_easy] | @tsv' abl/runs/$c-s1/eval.json)" \
		"true	true	5" "  evaluated: bits per byte on the held-out text, accuracy on 5 task items"
	prev_docs=$docs prev_bytes=$bytes
done
ok "$([ "$shrink" -ge 3 ] && echo 0 || echo 1)" "the text shrinks at $shrink of the 4 steps (boilerplate, rules, dedup at least)"
is "$(jq '.dropped_by_reason.exact_duplicate > 0' abl/corpus/d-dedup.stats.json)" true "  dedup drops the pages the input holds twice"
is "$(jq -r '.metadata.quality.classifier.score | type' abl/corpus/e-model.jsonl | sort -u)" number \
	"  the classifier's score is on every record it keeps"
is "$(jq -r '.splits.train.documents' abl/shards/b-strip/manifest.json)" "$(jq .kept abl/corpus/b-strip.stats.json)" \
	"the stages' --stats are kept beside the corpora"
like "$(cat abl/classifier/train.log)" "labelled in 2 labels" "the classifier's training log"
is "$(jq -r '.label' abl/classifier/train.jsonl | sort | uniq -c | awk '{ print $1 }' | sort -u | wc -l)" 1 \
	"its data: as many raw pages (web) as hq records"

# the report: a row a corpus, the held-out bits per byte and the tasks' accuracy with their spread
is "$(cut -f1 abl/report.tsv | tr '\n' ' ')" "corpus a-raw b-strip c-rules d-dedup e-model " "report.tsv: a row a corpus"
is "$(head -1 abl/report.tsv | tr '\t' '\n' | grep -c -e '^held_' -e '^mc_acc_')" 10 \
	"  min, median, max, mean, sd of the held-out bits per byte and the accuracy"
is "$(awk -F '\t' 'NR > 1 && $6 == 1 && $8 > 0 && $8 == $7 && $8 == $9' abl/report.tsv | wc -l)" 5 \
	"  one run each: min = median = max"
is "$(awk -F '\t' 'NR > 1 { printf "%s ", $5 == sprintf("%.2f", 3 * 2 * 32 / $4) }' abl/report.tsv)" "1 1 1 1 1 " \
	"  epochs: the token budget over the corpus's tokens"
is "$(grep -c '^| [a-e]-' abl/report.md)" 5 "report.md: the table"
if command -v gnuplot >/dev/null; then
	is "$(head -c 4 abl/ablation.png | od -An -c | tr -d ' ')" "211PNG" "ablation.png: a PNG"
else
	skip "gnuplot is not installed"
fi

# a rerun has nothing to do
make -f "$MK" "$@" >again.log 2>&1
is "$(grep -c -e lm-train -e boilerplate-strip again.log)" 0 "a rerun trains and extracts nothing again"
done_testing
