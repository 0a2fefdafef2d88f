# pipelines/scaling/sweep.mk - an IsoFLOP sweep: for every compute budget and model shape, one
# lm-train run of the steps that spend the budget (C = 6 N D), then lm-scaling's fit, plan and
# plot over all the runs. make -j runs the runs side by side; LAUNCH puts a launcher in front
# of each (srun on a Slurm cluster: one job step a run).
#
#   make -f pipelines/scaling/sweep.mk -j4 TRAIN='shards/shard_train_*.bin' \
#        VAL='shards/shard_val_*.bin' TOK=tok.json OUT=sweep
#   make -f pipelines/scaling/sweep.mk -j64 ... LAUNCH='srun -n1 -c4' THREADS=4
#
# Variables:
#   TRAIN, VAL, TOK    the shards (globs, quoted) and the tokenizer (required)
#   OUT                where the runs and the results go (default: sweep)
#   BUDGETS            compute budgets in FLOP (default: 3e11 1e12 3e12)
#   SHAPES             model shapes LAYERSxWIDTH (GPT-2 blocks; heads = WIDTH / 16)
#                      (default: 1x16 1x32 2x32 2x48 3x64 4x64)
#   CONTEXT, BATCH     positions per row and rows per step (default: 64, 16)
#   LR, WARMUP         (default: 3e-3, 10% of a run's steps)
#   THREADS            lm-train's threads per run (default: 1)
#   MIN_STEPS          a run of fewer steps is left out, and named (default: 20)
#   BOOTSTRAP          lm-scaling's bootstrap fits (default: 200)
#   BIN                where the programs are (default: the repository's build/bin)
#   LAUNCH             a command put in front of each lm-train (default: none)
#
# Targets: all (the runs, then OUT/fit.json, fit.txt, plan.txt, scaling.png), runs, fit, clean.
# A run is trained into OUT/runs/NAME.tmp and renamed OUT/runs/NAME when it ends well, so an
# interrupted sweep goes on with the runs it lacks. The steps of a run: C / (6 N BATCH
# CONTEXT), N estimated from the shape, the tokenizer's vocabulary and the context (lm-scaling
# reads the real count from the checkpoint); OUT/plan.csv lists them.

HERE := $(dir $(lastword $(MAKEFILE_LIST)))
BIN ?= $(abspath $(HERE)../../build/bin)
OUT ?= sweep
BUDGETS ?= 3e11 1e12 3e12
SHAPES ?= 1x16 1x32 2x32 2x48 3x64 4x64
CONTEXT ?= 64
BATCH ?= 16
LR ?= 3e-3
THREADS ?= 1
MIN_STEPS ?= 20
BOOTSTRAP ?= 200
LAUNCH ?=
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
.PHONY: all runs fit clean
.DEFAULT_GOAL := all

ifeq ($(strip $(TRAIN)),)
$(error TRAIN is not set: the training shards, e.g. TRAIN='shards/shard_train_*.bin')
endif
ifeq ($(strip $(VAL)),)
$(error VAL is not set: held-out shards, e.g. VAL='shards/shard_val_*.bin')
endif
ifeq ($(strip $(TOK)),)
$(error TOK is not set: the tokenizer (tokenizer.json))
endif

# the vocabulary: the tokenizer's model and its added tokens
VOCAB := $(shell jq '[(.model.vocab | length), (.added_tokens // [] | length)] | add' '$(TOK)' 2>/dev/null)
ifeq ($(strip $(VOCAB)),)
$(error $(TOK): not a tokenizer.json (jq could not read its vocabulary))
endif

# N of a GPT-2 shape: V d + P d + L (12 d^2 + 13 d) + 2 d (a tied output layer)
params = $(shell awk -v l=$(word 1,$(subst x, ,$(1))) -v d=$(word 2,$(subst x, ,$(1))) \
	'BEGIN { printf "%.0f", $(VOCAB) * d + $(CONTEXT) * d + l * (12 * d * d + 13 * d) + 2 * d }')
steps = $(shell awk -v c=$(1) -v n=$(2) 'BEGIN { printf "%.0f", c / (6 * n * $(BATCH) * $(CONTEXT)) }')

RUNS :=
SKIPPED :=
define run_rule
$(eval N_$(1)_$(2) := $(call params,$(2)))
$(eval S_$(1)_$(2) := $(call steps,$(1),$(N_$(1)_$(2))))
ifneq ($(shell [ $(S_$(1)_$(2)) -ge $(MIN_STEPS) ] && echo yes),yes)
SKIPPED += c$(1)-$(2) ($(S_$(1)_$(2)) steps)
else
RUNS += $(OUT)/runs/c$(1)-$(2)/latest
$(OUT)/runs/c$(1)-$(2)/latest:
	@mkdir -p $(OUT)/runs
	rm -rf '$(OUT)/runs/c$(1)-$(2).tmp'
	l=$(word 1,$(subst x, ,$(2))); d=$(word 2,$(subst x, ,$(2))); h=$$$$((d / 16 > 0 ? d / 16 : 1)); \
	printf '{"model_type": "gpt2", "n_layer": %d, "n_embd": %d, "n_head": %d, "n_positions": %d}\n' \
		$$$$l $$$$d $$$$h $(CONTEXT) >'$(OUT)/runs/c$(1)-$(2).json'
	$(LAUNCH) $(BIN)/lm-train -q --data '$(TRAIN)' --val '$(VAL)' -t '$(TOK)' \
		--model '$(OUT)/runs/c$(1)-$(2).json' --context $(CONTEXT) -b $(BATCH) \
		--steps $(S_$(1)_$(2)) --lr $(LR) --warmup $$$$(( $(S_$(1)_$(2)) / 10 )) --eval-every 0 \
		--save-every $(S_$(1)_$(2)) -j $(THREADS) -o '$(OUT)/runs/c$(1)-$(2).tmp'
	rm -rf '$(OUT)/runs/c$(1)-$(2)'
	mv '$(OUT)/runs/c$(1)-$(2).tmp' '$(OUT)/runs/c$(1)-$(2)'
endif
endef
$(foreach c,$(BUDGETS),$(foreach s,$(SHAPES),$(eval $(call run_rule,$(c),$(s)))))

ifeq ($(strip $(RUNS)),)
$(error no run of $(MIN_STEPS) steps or more: raise BUDGETS or lower BATCH/CONTEXT)
endif
ifneq ($(strip $(SKIPPED)),)
$(info sweep.mk: left out, under MIN_STEPS=$(MIN_STEPS) steps: $(SKIPPED))
endif

all: fit
runs: $(RUNS)
fit: $(OUT)/fit.json $(OUT)/fit.txt $(OUT)/plan.txt $(OUT)/scaling.png

$(OUT)/plan.csv: $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	{ echo 'budget,shape,params_estimate,steps,tokens'; \
	  $(foreach c,$(BUDGETS),$(foreach s,$(SHAPES),echo '$(c),$(s),$(N_$(c)_$(s)),$(S_$(c)_$(s)),$(shell echo $$(( $(S_$(c)_$(s)) * $(BATCH) * $(CONTEXT) )))';)) } >$@.tmp
	mv $@.tmp $@

$(OUT)/fit.json: $(RUNS) $(OUT)/plan.csv
	$(BIN)/lm-scaling fit --json --bootstrap $(BOOTSTRAP) $(patsubst %/latest,%,$(RUNS)) >$@.tmp
	mv $@.tmp $@
$(OUT)/fit.txt: $(RUNS)
	$(BIN)/lm-scaling fit $(patsubst %/latest,%,$(RUNS)) >$@.tmp
	mv $@.tmp $@
# the plan for ten times the largest budget
$(OUT)/plan.txt: $(OUT)/fit.json
	$(BIN)/lm-scaling plan --fit $< --compute $(shell echo '$(BUDGETS)' | tr ' ' '\n' | sort -g | tail -1 | awk '{ print $$1 * 10 }') >$@.tmp
	mv $@.tmp $@
$(OUT)/scaling.png: $(RUNS)
	$(BIN)/lm-scaling plot -q -o $@ $(patsubst %/latest,%,$(RUNS))

clean:
	rm -rf $(OUT)/runs $(OUT)/fit.json $(OUT)/fit.txt $(OUT)/plan.txt $(OUT)/plan.csv $(OUT)/scaling.png
