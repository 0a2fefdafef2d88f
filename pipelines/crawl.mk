# crawl.mk - many WARC files on one machine, from the crawl to token shards, driven by make.
#
#   make -f pipelines/crawl.mk IN=DIR|LIST OUT=DIR [-j N] [SETTING=VALUE]...
#
# IN: a folder (its *.warc.gz, *.warc, *.warc.zst, *.arc.gz, *.arc, *.wet.gz files) or a file
# listing inputs, one a line (paths or URLs; blank lines and lines starting with # left out).
# OUT: where everything goes. The build ends with OUT/shards/manifest.json. Names of inputs
# and of OUT must not hold white space (make splits on it), and two inputs must not share a
# base name (F below).
#
# Per input file, in parallel under -j, each stage one output (written under a temporary
# name and renamed when the stage exits 0, so an output that exists is whole):
#   OUT/text/F.jsonl.gz      warc-extract | boilerplate-strip     (pages -> main text)
#   OUT/quality/F.jsonl.gz   quality-score --preset $(PRESET) --lang $(LANGS)
#   OUT/pii/F.jsonl.gz       pii-scrub
#   OUT/domain/F.jsonl.gz    domain-tag
#   OUT/sig/F.sig, F.ngx     dedup-minhash sign (and its n-gram index, for lm-eval)
# Then over all files that made it: dedup-minhash cluster (OUT/dups/), dedup-minhash filter
# per file (OUT/dedup/F.jsonl.gz), bpe-train on a sample (or TOKENIZER=), shard-pack with
# mixing weights (OUT/shards/). Every stage's --stats is kept in OUT/stats/STAGE/F.json (the
# global ones in OUT/stats/STAGE.json); pipelines/funnel OUT merges them.
#
# A file that fails a stage does not stop the others: its stage's messages are in
# OUT/logs/STAGE/F.log, the failure in OUT/failed/F, and the build goes on with the rest, then
# lists the failed files, writes them to OUT/stats/build.json and exits 1. A rerun does what
# is missing or out of date: finished files are skipped, failed and interrupted ones redone.
#
# Settings (defaults in brackets):
#   PRESET [fineweb]        quality-score's preset
#   LANGS [en]              languages kept (quality-score --lang each; empty: all)
#   TOKENIZER []            a tokenizer (tokenizer.json or tiktoken file) instead of training one
#   VOCAB [32000]           bpe-train's vocabulary when TOKENIZER is empty
#   BPE_EVERY [1]           bpe-train learns from every BPE_EVERY-th record (a sample)
#   WEIGHTS []              shard-pack's mixing weights (lines: domain<TAB>weight)
#   VAL_FRACTION [0.01]     shard-pack's validation share
#   SHARD_TOKENS [100000000] tokens a shard
#   DEDUP_MEMORY [1G]       dedup-minhash's sorting memory (cluster; sign's n-gram index)
#   STAGE_OPTS_x []         extra options for stage x (extract strip quality pii domain sign
#                           cluster filter bpe shards), e.g. STAGE_OPTS_strip=--recall
#   BIN []                  the programs' folder (default: the repository's build/bin when
#                           built, else $PATH)
#
# On a Slurm cluster, pipelines/slurm/crawl-submit runs these stages as job arrays (per-file
# over each task's list, then global and report over all the inputs).
#
# Targets: all (default), status (what is done, stage by stage), funnel (pipelines/funnel),
# clean-failed (forget recorded failures).

THIS := $(lastword $(MAKEFILE_LIST))
ROOT := $(abspath $(dir $(THIS))..)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-print-directory

ifeq ($(strip $(IN)),)
$(error IN is not set: make -f $(THIS) IN=DIR|LIST OUT=DIR)
endif
ifeq ($(strip $(OUT)),)
$(error OUT is not set: make -f $(THIS) IN=DIR|LIST OUT=DIR)
endif

PRESET ?= fineweb
LANGS ?= en
TOKENIZER ?=
VOCAB ?= 32000
BPE_EVERY ?= 1
WEIGHTS ?=
VAL_FRACTION ?= 0.01
SHARD_TOKENS ?= 100000000
DEDUP_MEMORY ?= 1G
BIN ?= $(if $(wildcard $(ROOT)/build/bin/warc-extract),$(ROOT)/build/bin/,)
ifneq ($(BIN),)
override BIN := $(patsubst %//,%/,$(BIN)/)
endif

# the inputs: a folder's files, or a list's lines
IN_IS_DIR := $(shell test -d '$(IN)' && echo 1)
ifeq ($(IN_IS_DIR),1)
INPUTS := $(sort $(foreach p,*.warc.gz *.warc *.warc.zst *.arc.gz *.arc *.wet.gz *.wet,$(wildcard $(IN)/$(p))))
else
INPUTS := $(shell test -r '$(IN)' && sed -e 's/[[:space:]]*$$//' -e '/^[[:space:]]*\(#\|$$\)/d' '$(IN)')
ifeq ($(shell test -r '$(IN)' && echo 1),)
$(error IN=$(IN): neither a folder nor a readable list of inputs)
endif
endif
ifeq ($(strip $(INPUTS)),)
$(error IN=$(IN): no inputs (*.warc.gz, *.warc, *.warc.zst, *.arc.gz, *.arc, *.wet.gz, *.wet))
endif

# F, a file's name in OUT: its base name without the compression and format extensions
name_of = $(patsubst %.warc,%,$(patsubst %.arc,%,$(patsubst %.wet,%,$(patsubst %.gz,%,$(patsubst %.zst,%,$(notdir $(1)))))))
NAMES := $(foreach i,$(INPUTS),$(call name_of,$(i)))
ifneq ($(words $(NAMES)),$(words $(sort $(NAMES))))
$(error two inputs have the same name: $(shell printf '%s\n' $(NAMES) | sort | uniq -d | head -3))
endif

STAGES := text quality pii domain sig
DIRS := $(addprefix $(OUT)/,$(STAGES) dups dedup logs failed stats) \
	$(addprefix $(OUT)/stats/,extract strip $(STAGES) filter) \
	$(addprefix $(OUT)/logs/,$(STAGES) filter)

# a stage of one file: stderr to its log; on success the temporary renamed into place and
# any recorded failure of the file forgotten; on failure recorded (stage, status, the log's
# last line) and the temporary removed. $(1) stage, $(2) name, $(3) the commands, writing
# the output to $$tmp (and $$tmp2 for a second output).
define stage_cmd
@tmp=$@.tmp; log=$(OUT)/logs/$(1)/$(2).log; \
if { $(3); } 2>"$$log"; then \
	mv -f "$$tmp" $@; rm -f $(OUT)/failed/$(2); \
	echo "crawl: $(1) $(2): done"; \
else \
	st=$$?; rm -f "$$tmp"; \
	printf '%s\t%s\t%s\t%s\n' "$(2)" "$(1)" "$$st" "$$(tail -n 1 "$$log" | tr '\t' ' ')" >$(OUT)/failed/$(2); \
	echo "crawl: $(1) $(2): FAILED (exit $$st, see $$log)" >&2; exit 1; \
fi
endef

# the rules of one input: $(1) the input, $(2) its name
define file_rules
$(OUT)/text/$(2).jsonl.gz: $(if $(findstring ://,$(1)),,$(wildcard $(1))) | $(DIRS)
	$$(call stage_cmd,text,$(2),$(BIN)warc-extract -q --stats $(OUT)/stats/extract/$(2).json $(STAGE_OPTS_extract) '$(1)' | $(BIN)boilerplate-strip -q --stats $(OUT)/stats/strip/$(2).json $(STAGE_OPTS_strip) -z -o "$$$$tmp")
$(OUT)/quality/$(2).jsonl.gz: $(OUT)/text/$(2).jsonl.gz
	$$(call stage_cmd,quality,$(2),$(BIN)quality-score -q --preset $(PRESET) $(addprefix --lang ,$(LANGS)) --stats $(OUT)/stats/quality/$(2).json $(STAGE_OPTS_quality) -z -o "$$$$tmp" $$<)
$(OUT)/pii/$(2).jsonl.gz: $(OUT)/quality/$(2).jsonl.gz
	$$(call stage_cmd,pii,$(2),$(BIN)pii-scrub -q --stats $(OUT)/stats/pii/$(2).json $(STAGE_OPTS_pii) -z -o "$$$$tmp" $$<)
$(OUT)/domain/$(2).jsonl.gz: $(OUT)/pii/$(2).jsonl.gz
	$$(call stage_cmd,domain,$(2),$(BIN)domain-tag -q --stats $(OUT)/stats/domain/$(2).json $(STAGE_OPTS_domain) -z -o "$$$$tmp" $$<)
$(OUT)/sig/$(2).sig: $(OUT)/domain/$(2).jsonl.gz
	$$(call stage_cmd,sig,$(2),$(BIN)dedup-minhash sign -q --memory $(DEDUP_MEMORY) --stats $(OUT)/stats/sig/$(2).json --ngram-index $(OUT)/sig/$(2).ngx $(STAGE_OPTS_sign) -o "$$$$tmp" $$<)
endef
$(foreach i,$(INPUTS),$(eval $(call file_rules,$(i),$(call name_of,$(i)))))

SIGS := $(addprefix $(OUT)/sig/,$(addsuffix .sig,$(NAMES)))

.PHONY: all per-file global report status funnel clean-failed FORCE
.DEFAULT_GOAL := all

# -k for the files: each goes as far as it can; then the global stages over those that made
# it; then the report (exit 1 when a file failed)
all:
	@$(MAKE) -f $(THIS) -k per-file || true
	@st=0; $(MAKE) -f $(THIS) global || st=$$?; \
	$(MAKE) -f $(THIS) report || st=1; \
	[ $$st = 0 ] || echo "crawl: the build is not complete" >&2; exit $$st

per-file: $(SIGS)

$(DIRS):
	@mkdir -p $@

# --- the global stages, over the files whose signature exists (read when this make starts)
GOOD := $(foreach n,$(NAMES),$(if $(wildcard $(OUT)/sig/$(n).sig),$(n)))
GOOD_SIGS := $(addprefix $(OUT)/sig/,$(addsuffix .sig,$(GOOD)))
DEDUPED := $(addprefix $(OUT)/dedup/,$(addsuffix .jsonl.gz,$(GOOD)))

# the lists of files the global stages read (as @LIST: a crawl's 100,000 names do not fit a
# command line), written by make itself, not through a shell; files.txt is rewritten only when
# it changes, so that a rerun with the same files does not cluster again
$(OUT)/dups/files.txt: FORCE | $(DIRS)
	$(file >$@.new,$(subst $(space),$(newline),$(strip $(GOOD))))
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
	$(file >$(OUT)/dups/sigs.txt,$(subst $(space),$(newline),$(strip $(GOOD_SIGS))))
	$(file >$(OUT)/dups/dedup.txt,$(subst $(space),$(newline),$(strip $(DEDUPED))))
	@for l in $@ $(OUT)/dups/sigs.txt $(OUT)/dups/dedup.txt; do \
		[ "$$(grep -c . $$l)" -eq $(words $(GOOD)) ] || \
		{ echo "crawl: $$l was not written whole (a full disk?)" >&2; rm -f $@; exit 1; }; \
	done
FORCE:
empty :=
space := $(empty) $(empty)
define newline


endef

$(OUT)/dups/done: $(OUT)/dups/files.txt $(GOOD_SIGS)
	@test -n '$(GOOD)' || { echo "crawl: no input made it through the per-file stages" >&2; exit 1; }
	@rm -f $(OUT)/dups/*.dups
	@$(BIN)dedup-minhash cluster -q --memory $(DEDUP_MEMORY) --stats $(OUT)/stats/cluster.json \
		$(STAGE_OPTS_cluster) -o $(OUT)/dups @$(OUT)/dups/sigs.txt 2>$(OUT)/logs/cluster.log || \
		{ echo "crawl: dedup cluster FAILED (see $(OUT)/logs/cluster.log)" >&2; exit 1; }
	@touch $@
	@echo "crawl: cluster: $(words $(GOOD)) files"

$(OUT)/dedup/%.jsonl.gz: $(OUT)/dups/done $(OUT)/domain/%.jsonl.gz
	$(call stage_cmd,filter,$*,$(BIN)dedup-minhash filter -q --list $(OUT)/dups/$*.dups --stats $(OUT)/stats/filter/$*.json $(STAGE_OPTS_filter) -z -o "$$tmp" $(OUT)/domain/$*.jsonl.gz)

ifeq ($(strip $(TOKENIZER)),)
TOK := $(OUT)/tokenizer.json
$(TOK): $(DEDUPED) $(OUT)/dups/files.txt
	@$(BIN)bpe-train -q --vocab-size $(VOCAB) --shard 0/$(BPE_EVERY) --stats $(OUT)/stats/bpe-train.json \
		$(STAGE_OPTS_bpe) -o $@ @$(OUT)/dups/dedup.txt 2>$(OUT)/logs/bpe-train.log || \
		{ echo "crawl: bpe-train FAILED (see $(OUT)/logs/bpe-train.log)" >&2; exit 1; }
	@echo "crawl: tokenizer: $@"
else
TOK := $(TOKENIZER)
endif

$(OUT)/shards/manifest.json: $(DEDUPED) $(TOK) $(WEIGHTS) $(OUT)/dups/files.txt
	@rm -rf $(OUT)/shards.tmp
	@$(BIN)shard-pack -q -t $(TOK) $(if $(WEIGHTS),--weights $(WEIGHTS)) --val-fraction $(VAL_FRACTION) \
		--shard-tokens $(SHARD_TOKENS) --stats $(OUT)/stats/shard-pack.json $(STAGE_OPTS_shards) \
		-o $(OUT)/shards.tmp @$(OUT)/dups/dedup.txt 2>$(OUT)/logs/shard-pack.log || \
		{ rm -rf $(OUT)/shards.tmp; echo "crawl: shard-pack FAILED (see $(OUT)/logs/shard-pack.log)" >&2; exit 1; }
	@rm -rf $(OUT)/shards && mv $(OUT)/shards.tmp $(OUT)/shards
	@echo "crawl: shards: $@"

global: $(OUT)/shards/manifest.json

# --- the report: the failed files by name (also in OUT/stats/build.json); exit 1 if any. The
# names go through files make writes, never a command line (a crawl's do not fit one).
FAILED = $(wildcard $(addprefix $(OUT)/failed/,$(NAMES)))
report: | $(DIRS)
	$(file >$(OUT)/stats/failed.txt,$(subst $(space),$(newline),$(strip $(FAILED))))
	@[ "$$(grep -c . $(OUT)/stats/failed.txt)" -eq $(words $(FAILED)) ] || \
		{ echo "crawl: $(OUT)/stats/failed.txt was not written whole (a full disk?)" >&2; exit 1; }
	@{ printf '{"inputs": %d, "failed": [' $(words $(NAMES)); sep=; \
	  while read -r f; do [ -n "$$f" ] || continue; \
		IFS='	' read -r n s st why <"$$f"; \
		printf '%s{"name": "%s", "stage": "%s", "status": %s, "log": "%s"}' "$$sep" "$$n" "$$s" "$$st" \
			"$(OUT)/logs/$$s/$$n.log"; sep=', '; \
	  done <$(OUT)/stats/failed.txt; printf ']}\n'; } >$(OUT)/stats/build.json.tmp
	@mv -f $(OUT)/stats/build.json.tmp $(OUT)/stats/build.json
	@if [ -n '$(if $(FAILED),1)' ]; then \
		echo "crawl: $(words $(FAILED)) of $(words $(NAMES)) files failed (OUT/failed, OUT/stats/build.json):" >&2; \
		head -n 20 $(OUT)/stats/failed.txt | while read -r f; do IFS='	' read -r n s st why <"$$f"; \
			echo "crawl:   $$n: $$s, exit $$st: $$why" >&2; done; \
		[ $(words $(FAILED)) -le 20 ] || echo "crawl:   ... and $$(($(words $(FAILED)) - 20)) more" >&2; \
		exit 1; \
	fi
	@echo "crawl: all $(words $(NAMES)) files done; shards in $(OUT)/shards"

# --- how far the build is, stage by stage (counted by make: no name on a command line)
done_in = $(words $(wildcard $(addprefix $(OUT)/$(1)/,$(addsuffix $(2),$(NAMES)))))
status:
	@printf '%-8s %6d of %d files\n' text $(call done_in,text,.jsonl.gz) $(words $(NAMES))
	@printf '%-8s %6d of %d files\n' quality $(call done_in,quality,.jsonl.gz) $(words $(NAMES))
	@printf '%-8s %6d of %d files\n' pii $(call done_in,pii,.jsonl.gz) $(words $(NAMES))
	@printf '%-8s %6d of %d files\n' domain $(call done_in,domain,.jsonl.gz) $(words $(NAMES))
	@printf '%-8s %6d of %d files\n' sig $(call done_in,sig,.sig) $(words $(NAMES))
	@printf '%-8s %6d of %d files\n' dedup $(call done_in,dedup,.jsonl.gz) $(words $(NAMES))
	@printf '%-8s %6s\n' shards $(if $(wildcard $(OUT)/shards/manifest.json),done,-)
	@printf '%-8s %6d\n' failed $(words $(FAILED))

funnel:
	@sh $(ROOT)/pipelines/funnel $(OUT)

clean-failed:
	@rm -rf $(OUT)/failed
