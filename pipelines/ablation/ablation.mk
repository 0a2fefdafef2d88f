# pipelines/ablation/ablation.mk - does each step of the data pipeline pay? From the same real
# HTML, five corpora, each one the previous with one more step, the same tiny model trained on
# each at the same token budget with several seeds, and each run evaluated with lm-eval.
#
#   make -f pipelines/ablation/ablation.mk -j2 OUT=ablation [SETTING=VALUE]...
#
# The corpora (OUT/corpus/X.jsonl), from OUT/input/pages.jsonl (HTML's records and the pages
# warc-extract finds in the WARC files):
#   a-raw        boilerplate-strip --whole-page: the visible text of the whole page
#   b-strip      boilerplate-strip: the main text
#   c-rules      b + quality-score's heuristic rules (its default preset, QUALITY_OPTS)
#   d-dedup      c + dedup-minhash (exact and near duplicates)
#   e-model      d + quality-score --classifier: the linear classifier's hq score >= MIN_SCORE
# The classifier (OUT/classifier/) is trained as bench/classify trains it, reference text
# against raw crawl: hq = POSITIVES (default: the article bodies of the shared extraction
# benchmarks and chunks of the English man pages), web = as many of corpus a's raw pages.
# Its data and the tokenizer's never hold the held-out text (HELDOUT) the runs are judged on.
# One tokenizer for all (OUT/tok.json, bpe-train, VOCAB): learnt from the same number of text
# bytes (TOK_BYTES) of each corpus, so that none is favoured. shard-pack packs each corpus
# (OUT/shards/X/); lm-train trains the same model (SHAPE, CONTEXT, BATCH, STEPS, LR) on each
# with each of SEEDS: STEPS x BATCH x CONTEXT tokens, drawn at random windows, so a small
# corpus is seen for more epochs. lm-eval scores each run (OUT/runs/X-sN/eval.json): bits per
# byte on each HELDOUT file, accuracy on the multiple-choice TASKS (MC_LIMIT items each).
# OUT/report.tsv, OUT/report.md and OUT/ablation.png (gnuplot) sum them up (report.sh).
#
# Settings [defaults]:
#   HTML [bench/data/corpus-html.jsonl]   JSONL pages with an html field (bench/corpus)
#   WARC [SHARED/warc/*.warc, *.warc.gz]  WARC files, their HTML responses
#   SHARED [$CRAWL2LM_SHARED_DATA, else ../shared/data beside the repository]
#   CORPUS_EN [bench/data/corpus-en.jsonl] Debian documentation text (bench/corpus): its
#                                          man pages are positives, its Perl manuals held out
#   HELDOUT [OUT/heldout/perl-doc.jsonl OUT/heldout/shakespeare.jsonl]  clean text (JSONL,
#                                          a text field) from sources in no corpus
#   POSITIVES [OUT/classifier/positives.jsonl]  the classifier's hq text (JSONL)
#   TASKS [SHARED/eval/*.jsonl]  multiple-choice tasks;  MC_LIMIT [250] items of each
#   MIN_SCORE [0.5]   the classifier's threshold;  QUALITY_OPTS []  options of stage c
#   SEEDS [1 2 3]  SHAPE [2x64] (layers x width, GPT-2, heads = width / 16)  CONTEXT [128]
#   BATCH [16]  STEPS [500]  LR [3e-3]  VOCAB [4096]  TOK_BYTES [1000000]
#   TOKENIZER []  a tokenizer.json for all runs instead of OUT/tok.json (to compare a variant
#                 of one stage with a finished ablation: the same tokens)
#   THREADS [1] threads a program;  NICE [nice -n 10] put before the heavy commands
#   BIN [the repository's build/bin]
# Targets: all (default: the report), corpora, runs, report, clean.

HERE := $(dir $(lastword $(MAKEFILE_LIST)))
ROOT := $(abspath $(HERE)../..)
BIN ?= $(ROOT)/build/bin
OUT ?= ablation
SHARED ?= $(or $(CRAWL2LM_SHARED_DATA),$(dir $(ROOT))shared/data)
HTML ?= $(ROOT)/bench/data/corpus-html.jsonl
WARC ?= $(wildcard $(SHARED)/warc/*.warc $(SHARED)/warc/*.warc.gz)
CORPUS_EN ?= $(ROOT)/bench/data/corpus-en.jsonl
HELDOUT ?= $(OUT)/heldout/perl-doc.jsonl $(OUT)/heldout/shakespeare.jsonl
POSITIVES ?= $(OUT)/classifier/positives.jsonl
TASKS ?= $(wildcard $(SHARED)/eval/*.jsonl)
MC_LIMIT ?= 250
MIN_SCORE ?= 0.5
QUALITY_OPTS ?=
SEEDS ?= 1 2 3
SHAPE ?= 2x64
CONTEXT ?= 128
BATCH ?= 16
STEPS ?= 500
LR ?= 3e-3
VOCAB ?= 4096
TOK_BYTES ?= 1000000
THREADS ?= 1
NICE ?= nice -n 10
TOKENIZER ?=
TOK := $(or $(TOKENIZER),$(OUT)/tok.json)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
.PHONY: all corpora runs report clean
.DEFAULT_GOAL := all
export LC_ALL := C
export OMP_NUM_THREADS := $(THREADS)
export OPENBLAS_NUM_THREADS := $(THREADS)

CORPORA := a-raw b-strip c-rules d-dedup e-model
RUNS := $(foreach c,$(CORPORA),$(foreach s,$(SEEDS),$(OUT)/runs/$(c)-s$(s)/eval.json))

all: report
corpora: $(foreach c,$(CORPORA),$(OUT)/corpus/$(c).jsonl)
runs: $(RUNS)
report: $(OUT)/report.tsv

# ---- input: the HTML pages, and the WARC files' HTML responses
$(OUT)/input/pages.jsonl: $(HTML) $(WARC)
	@mkdir -p $(@D)
	{ $(if $(strip $(HTML)),gzip -dcf $(HTML);) \
	  for f in $(WARC); do $(BIN)/warc-extract -q --allow-truncated "$$f"; done; } >$@.tmp
	mv $@.tmp $@

# ---- the corpora, step by step (each stage's --stats beside its corpus)
$(OUT)/corpus/a-raw.jsonl: $(OUT)/input/pages.jsonl
	@mkdir -p $(@D)
	$(NICE) $(BIN)/boilerplate-strip -q --whole-page --stats $(@:.jsonl=.stats.json) -o $@.tmp $<
	mv $@.tmp $@
$(OUT)/corpus/b-strip.jsonl: $(OUT)/input/pages.jsonl
	@mkdir -p $(@D)
	$(NICE) $(BIN)/boilerplate-strip -q --stats $(@:.jsonl=.stats.json) -o $@.tmp $<
	mv $@.tmp $@
$(OUT)/corpus/c-rules.jsonl: $(OUT)/corpus/b-strip.jsonl
	$(NICE) $(BIN)/quality-score -q -j $(THREADS) $(QUALITY_OPTS) --stats $(@:.jsonl=.stats.json) -o $@.tmp $<
	mv $@.tmp $@
$(OUT)/corpus/d-dedup.jsonl: $(OUT)/corpus/c-rules.jsonl
	$(NICE) $(BIN)/dedup-minhash -q --stats $(@:.jsonl=.stats.json) -o $@.tmp $<
	mv $@.tmp $@
$(OUT)/corpus/e-model.jsonl: $(OUT)/corpus/d-dedup.jsonl $(OUT)/classifier/model.bin
	$(NICE) $(BIN)/quality-score -q -j $(THREADS) --preset none --classifier $(OUT)/classifier/model.bin \
		--positive hq --min-score $(MIN_SCORE) --stats $(@:.jsonl=.stats.json) -o $@.tmp $<
	mv $@.tmp $@

# ---- the classifier: reference text (hq) against raw pages of the input (web)
$(OUT)/classifier/positives.jsonl: $(CORPUS_EN)
	@mkdir -p $(@D)
	{ for b in aeb readability; do \
		jq -c --arg b "$$b" 'to_entries[] | select((.value.articleBody // "") | length >= 200) | {id: ($$b + ":" + .key), text: .value.articleBody}' \
			$(SHARED)/$$b/ground-truth.json; done; \
	  jq -c 'select(.source | startswith("manpages")) | {id: ("doc:" + .id), text: .text[:6000]}' $(CORPUS_EN); } >$@.tmp
	mv $@.tmp $@
$(OUT)/classifier/train.jsonl: $(POSITIVES) $(OUT)/corpus/a-raw.jsonl
	@mkdir -p $(@D)
	p=$$(grep -c '' $(POSITIVES)); n=$$(grep -c '' $(OUT)/corpus/a-raw.jsonl); k=$$(( n > p ? n / p : 1 )); \
	{ jq -c '{id, label: "hq", text}' $(POSITIVES); \
	  awk -v k=$$k -v p=$$p 'NR % k == 0 && m++ < p' $(OUT)/corpus/a-raw.jsonl | \
		jq -c '{id: ("web:" + .id), label: "web", text: .text[:50000]}'; } >$@.tmp
	mv $@.tmp $@
$(OUT)/classifier/model.bin: $(OUT)/classifier/train.jsonl
	$(NICE) $(BIN)/quality-score --train $< --positive hq -o $@.tmp 2>$(@D)/train.log
	mv $@.tmp $@

# ---- held-out clean text: Perl's manuals (Debian's perl-doc) and Shakespeare, in no corpus
$(OUT)/heldout/perl-doc.jsonl: $(CORPUS_EN)
	@mkdir -p $(@D)
	jq -c 'select(.source | startswith("perl-doc")) | {id, text: .text[:4000]}' $< | awk 'n++ < 100' >$@.tmp
	mv $@.tmp $@
$(OUT)/heldout/shakespeare.jsonl: $(SHARED)/text/tinyshakespeare.txt
	@mkdir -p $(@D)
	head -c 200000 $< | jq -Rsc '[splits("\n\n")] | _nwise(8) | {text: join("\n\n")}' | \
		awk '{ printf "{\"id\":\"shakespeare-%d\",%s\n", NR, substr($$0, 2) }' >$@.tmp
	mv $@.tmp $@

# ---- one tokenizer: the same number of text bytes from each corpus
$(OUT)/tok.json: $(foreach c,$(CORPORA),$(OUT)/corpus/$(c).jsonl)
	for c in $^; do jq -c '{text}' "$$c" | awk -v max=$(TOK_BYTES) 'n < max { n += length($$0); print }'; done >$(OUT)/tok-sample.jsonl
	$(NICE) $(BIN)/bpe-train -q -j $(THREADS) --vocab-size $(VOCAB) -o $@.tmp $(OUT)/tok-sample.jsonl
	mv $@.tmp $@

$(OUT)/shards/%/manifest.json: $(OUT)/corpus/%.jsonl $(TOK)
	rm -rf $(@D) && mkdir -p $(dir $(@D))
	$(NICE) $(BIN)/shard-pack -q -j $(THREADS) -t $(TOK) --val-fraction 0 -o $(@D) $<

# (a changed SHAPE or CONTEXT needs make clean: the runs do not depend on this file's text)
$(OUT)/model.json:
	@mkdir -p $(@D)
	l=$(word 1,$(subst x, ,$(SHAPE))); d=$(word 2,$(subst x, ,$(SHAPE))); h=$$((d / 16 > 0 ? d / 16 : 1)); \
	printf '{"model_type": "gpt2", "n_layer": %d, "n_embd": %d, "n_head": %d, "n_positions": %d}\n' \
		$$l $$d $$h $(CONTEXT) >$@

# ---- a run: corpus X, seed N; then its evaluation
define run_rule
$(OUT)/runs/$(1)-s$(2)/eval.json: $(OUT)/shards/$(1)/manifest.json $(OUT)/model.json $(TOK) $(HELDOUT) $(TASKS)
	rm -rf $(OUT)/runs/$(1)-s$(2)
	$(NICE) $(BIN)/lm-train -q --data '$(OUT)/shards/$(1)/shard_train_*.bin' -t $(TOK) \
		--model $(OUT)/model.json --context $(CONTEXT) -b $(BATCH) --steps $(STEPS) --lr $(LR) \
		--warmup $$$$(( $(STEPS) / 10 )) --eval-every 0 --save-every $(STEPS) --keep 1 --seed $(2) \
		-j $(THREADS) -o $(OUT)/runs/$(1)-s$(2)
	$(NICE) $(BIN)/lm-eval -q -j $(THREADS) $(OUT)/runs/$(1)-s$(2) $(foreach h,$(HELDOUT),--task ppl:$(h)) \
		-o $(OUT)/runs/$(1)-s$(2)/eval-ppl.json >$(OUT)/runs/$(1)-s$(2)/eval.txt
	$(if $(strip $(TASKS)),$(NICE) $(BIN)/lm-eval -q -j $(THREADS) $(OUT)/runs/$(1)-s$(2) --limit $(MC_LIMIT) \
		$(foreach t,$(TASKS),--task $(t)) -o $(OUT)/runs/$(1)-s$(2)/eval-mc.json >>$(OUT)/runs/$(1)-s$(2)/eval.txt,\
		echo '{"results": {}}' >$(OUT)/runs/$(1)-s$(2)/eval-mc.json)
	jq -s '{results: (.[0].results + .[1].results), config: (.[0].config + {items: (.[0].config.items + .[1].config.items)})}' $(OUT)/runs/$(1)-s$(2)/eval-ppl.json \
		$(OUT)/runs/$(1)-s$(2)/eval-mc.json >$$@.tmp
	mv $$@.tmp $$@
endef
$(foreach c,$(CORPORA),$(foreach s,$(SEEDS),$(eval $(call run_rule,$(c),$(s)))))

$(OUT)/report.tsv: $(RUNS) $(foreach c,$(CORPORA),$(OUT)/shards/$(c)/manifest.json) $(HERE)report.sh
	OUT=$(OUT) CORPORA='$(CORPORA)' SEEDS='$(SEEDS)' HELDOUT='$(HELDOUT)' \
		BUDGET=$$(( $(STEPS) * $(BATCH) * $(CONTEXT) )) sh $(HERE)report.sh

clean:
	rm -rf $(OUT)/input $(OUT)/corpus $(OUT)/classifier $(OUT)/heldout $(OUT)/shards $(OUT)/runs \
		$(OUT)/tok.json $(OUT)/tok-sample.jsonl $(OUT)/model.json $(OUT)/report.tsv $(OUT)/report.md $(OUT)/ablation.png
