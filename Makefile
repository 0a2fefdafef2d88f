# crawl2lm - plain GNU make, no configure. See README.md.
#   make [O=dir] [V=1] [SANITIZE=address,undefined]   build every program into $(O)/bin
#   make check | check-slow | check-gpu | gpu-bundle | demo | bench | fuzz | install PREFIX=...

.DEFAULT_GOAL := all
O ?= build
PREFIX ?= /usr/local
override O := $(patsubst %/,%,$(O))

CC ?= cc
CXX ?= c++
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin CXX),default)
CXX := g++
endif

OPT ?= -O2
WARN := -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Ilibcommon -I/usr/include/libxml2 -DCM_HAVE_ISAL -MMD -MP
# OpenMP for the tokenizer's parallel loops (the fuzz build, with clang, goes without it)
OPENMP ?= -fopenmp
CFLAGS += -std=c11 $(OPT) -g $(WARN) -fno-strict-aliasing -pthread $(OPENMP)
CXXFLAGS += -std=c++17 $(OPT) -g $(WARN) -pthread
LDFLAGS += -pthread $(OPENMP)
# OpenBLAS built for OpenMP (Debian's libopenblas-openmp-dev), linked by its own path: its
# threads are the trainer's OpenMP threads. The pthread build (Debian's default alternative)
# keeps a second pool that spins against OpenMP's: GPT-2 124M steps took 1.7x as long.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BLAS_INC ?= /usr/include/$(MULTIARCH)/openblas-openmp
BLAS_LIBDIR ?= /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_LIBS ?= -L$(BLAS_LIBDIR) -Wl,-rpath,$(BLAS_LIBDIR) -lopenblas
# libcurl (Debian's libcurl4-openssl-dev): libcommon reads http://, https:// and s3:// inputs
LDLIBS += -lsimdjson -lxml2 -lcld2 -lutf8proc -lpcre2-8 -ljansson -lxxhash -lnettle -ldeflate -lisal -lzstd -lz -luchardet -lbrotlidec -lcurl -lpsl -lm

# mimalloc replaces malloc in every program (linked first, it interposes): libxml2 allocates
# each node, name and text run on its own, and glibc's malloc was a fifth of the HTML parse.
# Sanitizer builds keep the sanitizer's malloc.
ifeq ($(SANITIZE),)
LDLIBS := -lmimalloc $(LDLIBS)
endif

ifneq ($(SANITIZE),)
SAN := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS += $(SAN)
CXXFLAGS += $(SAN)
LDFLAGS += $(SAN)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# CUDA: compiled whenever nvcc is found: $(CUDA_HOME)/bin/nvcc (default /usr/local/cuda), else PATH.
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(or $(wildcard $(CUDA_HOME)/bin/nvcc),$(shell command -v nvcc 2>/dev/null))
NVCC_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
CU_SRC := $(shell find kernels trainer -name '*.cu' 2>/dev/null)
ifneq ($(NVCC),)
ifeq ($(MAKELEVEL),0)
$(info crawl2lm: CUDA in the build: $(NVCC) ($(words $(CU_SRC)) CUDA sources))
endif
else
ifeq ($(MAKELEVEL),0)
$(info crawl2lm: CUDA not in the build (no nvcc on PATH or in CUDA_HOME=$(CUDA_HOME)))
endif
endif

# libcommon: every .c, and json.cpp compiled once per instruction set (simdjson chooses its
# On-Demand kernels at compile time; json.c picks one at run time). The generic object comes
# first so that the linker keeps its copies of any inline function the two share.
LIB_SRC := $(wildcard libcommon/*.c)
LIB_OBJ := $(O)/libcommon/json-generic.o $(patsubst %.c,$(O)/%.o,$(LIB_SRC)) $(O)/gen/data.o
LIB := $(O)/libcommon/libcommon.a
ifeq ($(shell uname -m),x86_64)
LIB_OBJ += $(O)/libcommon/json-haswell.o
CPPFLAGS += -DCM_JSON_HASWELL
endif

# libtok (tokenizer, token streams, token shards) and libweb (main text of HTML pages, the HTML
# pre-pass, the URL filter): engines over libcommon, each its own archive. Include paths follow
# the layers: libcommon sees only itself, libtok and libweb their own folder and libcommon;
# programs, tests and fuzz targets every library.
TOK_OBJ := $(patsubst %.c,$(O)/%.o,$(wildcard libtok/*.c))
TOK_LIB := $(O)/libtok/libtok.a
WEB_OBJ := $(patsubst %.c,$(O)/%.o,$(wildcard libweb/*.c))
WEB_LIB := $(O)/libweb/libweb.a
LIBS_INC := -Ilibtok -Ilibweb
layer_inc = $(if $(filter libcommon/%,$(1)),,$(if $(filter libtok/%,$(1)),-Ilibtok,$(if \
	$(filter libweb/%,$(1)),-Ilibweb,$(LIBS_INC))))
$(TOK_LIB): $(TOK_OBJ)
$(WEB_LIB): $(WEB_OBJ)
$(TOK_LIB) $(WEB_LIB):
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# one program per folder under filters/: NAME/NAME.c holds main, the rest are its modules
PROGS := $(notdir $(patsubst %/,%,$(dir $(wildcard filters/*/*.c))))
PROGS := $(sort $(PROGS))
BINS := $(addprefix $(O)/bin/,$(PROGS))
define prog_rules
$(1)_MODS := $$(filter-out filters/$(1)/$(1).c,$$(wildcard filters/$(1)/*.c filters/$(1)/*.cpp))
$(1)_MODOBJ := $$(patsubst %,$(O)/%.o,$$(basename $$($(1)_MODS)))
$(O)/filters/$(1)/lib.a: $$($(1)_MODOBJ)
	@mkdir -p $$(@D)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
$(O)/bin/$(1): $(O)/filters/$(1)/$(1).o $(O)/filters/$(1)/lib.a $(WEB_LIB) $(TOK_LIB) $(LIB)
	@mkdir -p $$(@D)
	@echo "  LINK    $$@"
	$$(Q)$$(CXX) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))
MODLIBS := $(foreach p,$(PROGS),$(O)/filters/$(p)/lib.a)

# kernels/ (the kernel interface and its CPU backend) and trainer/ (model, data, checkpoints;
# each lm-*.c there is a program). Kernels are built at -O3: their loops are the hot ones.
KN_SRC := $(wildcard kernels/*.c)
KN_OBJ := $(patsubst %.c,$(O)/%.o,$(KN_SRC))
KN_LIB := $(O)/kernels/libkernels.a
TR_PROGS := $(basename $(notdir $(wildcard trainer/lm-*.c)))
TR_SRC := $(filter-out $(addprefix trainer/,$(addsuffix .c,$(TR_PROGS))),$(wildcard trainer/*.c))
TR_OBJ := $(patsubst %.c,$(O)/%.o,$(TR_SRC))
TR_LIB := $(O)/trainer/libtrainer.a
BINS += $(addprefix $(O)/bin/,$(TR_PROGS))
$(KN_OBJ): OPT := -O3 -fno-trapping-math -fno-math-errno
# On x86-64 the CPU backend is built three times: for any x86-64 processor, for x86-64-v3
# (AVX2, FMA) and for x86-64-v4 (AVX-512); kn_cpu_table takes the best this processor runs.
# Those two contract a*b+c into FMAs (gcc in ISO C mode does not by default): the levels differ
# by fp32 rounding (the kernel tests hold each to the same tolerances).
ifeq ($(shell uname -m),x86_64)
KN_LEVELS := $(O)/kernels/cpu-v3.o $(O)/kernels/cpu-v4.o
$(KN_LEVELS): $(O)/kernels/cpu-v%.o: kernels/cpu.c
	@mkdir -p $(@D)
	@echo "  CC      $< (x86-64-v$*)"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -march=x86-64-v$* -DKN_CPU_TABLE=kn_cpu_ops_v$* \
		'-DKN_CPU_NAME="cpu"' -c -o $@ $<
$(KN_LEVELS): OPT := -O3 -fno-trapping-math -fno-math-errno -ffp-contract=fast
$(KN_LEVELS): CPPFLAGS += -Ikernels -I$(BLAS_INC)
$(O)/kernels/kernels.o: CPPFLAGS += -DKN_CPU_LEVELS
KN_OBJ += $(KN_LEVELS)
endif
$(KN_OBJ) $(TR_OBJ) $(O)/trainer/lm-%.o: CPPFLAGS += -Ikernels -Itrainer -I$(BLAS_INC)
$(KN_LIB): $(KN_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
$(TR_LIB): $(TR_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
$(O)/bin/lm-%: $(O)/trainer/lm-%.o $(TR_LIB) $(TOK_LIB) $(KN_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(BLAS_LIBS)
# quality-score --model scores with the trainer's model on its kernels, linked as lm-eval is
$(O)/filters/quality-score/ppl.o: CPPFLAGS += -Ikernels -Itrainer -I$(BLAS_INC)
$(O)/bin/quality-score: $(TR_LIB) $(KN_LIB)
$(O)/bin/quality-score: LDLIBS := $(TR_LIB) $(TOK_LIB) $(KN_LIB) $(LIB) $(LDLIBS) $(BLAS_LIBS)
# lm-serve's HTTP server: libmicrohttpd (Debian's libmicrohttpd-dev), for that program alone
$(O)/bin/lm-serve: LDLIBS += -lmicrohttpd
# lm-scaling: libLBFGS (Debian's liblbfgs-dev), the optimiser of its fits
$(O)/bin/lm-scaling $(O)/tests/8090-scaling: LDLIBS += -llbfgs
# lm-train's data parallel training: MPI (Debian's OpenMPI, libopenmpi-dev), for that program
MPI_CFLAGS ?= $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS ?= $(shell pkg-config --libs ompi-c 2>/dev/null)
$(O)/trainer/dp.o: CPPFLAGS += $(MPI_CFLAGS)
$(O)/bin/lm-train: LDLIBS += $(MPI_LIBS)

# The CUDA backend: kernels/*.cu into its own library, loaded at run time by kernels.c (a
# program built with it still runs on the CPU where CUDA or a GPU is missing).
ifneq ($(NVCC),)
CUDA_LIB := $(O)/lib/libkn_cuda.so
NVCCFLAGS ?= -O3 -std=c++17 $(NVCC_ARCH) --Werror all-warnings \
	-Xcompiler -fPIC,-Wall,-Wextra,-Werror,-Wno-unused-function
$(CUDA_LIB): $(CU_SRC) kernels/kernels.h kernels/kmath.h kernels/cuda_common.cuh
	@mkdir -p $(@D)
	@echo "  NVCC    $@"
	$(Q)$(NVCC) $(NVCCFLAGS) -Ikernels -shared -o $@ $(CU_SRC) -lcublasLt -lcublas -lcudart
all: $(CUDA_LIB)
endif

# C unit tests: tests/unit/NNNN-name.c -> $(O)/tests/NNNN-name, printing TAP
UNIT_SRC := $(wildcard tests/unit/*.c)
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
# programs the tests run besides the installed ones: tests/tools/NAME.c -> $(O)/tests/tools/NAME
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/tools/%,$(TOOL_SRC))
# the benchmarks' own programs (make bench only): bench/DIR/NAME.c -> $(O)/bench/DIR/NAME
# (xsmm-shapes needs libxsmm, which the project does not: it is built by hand, as it says)
BENCH_SRC := $(filter-out bench/train/xsmm-shapes.c,$(wildcard bench/*/*.c))
BENCHES := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRC))

all: deps $(BINS)

deps: $(O)/.deps-build
$(O)/.deps-%: mk/deps.sh
	@mkdir -p $(@D)
	$(Q)sh mk/deps.sh $* && touch $@

# data/ (stop words, boilerplate markers) built into the programs
DATA_FILES := $(sort $(shell find data -name '*.txt' 2>/dev/null))
$(O)/gen/data.c: $(DATA_FILES) mk/embed.sh
	@mkdir -p $(@D)
	$(Q)sh mk/embed.sh $(DATA_FILES) >$@.tmp && mv $@.tmp $@
# the URL filter's compressed lists, built in by .incbin (urlfilter_data.c)
$(O)/libweb/urlfilter_data.o: $(wildcard data/urlfilter/*.zst)
$(O)/gen/data.o: $(O)/gen/data.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(call layer_inc,$<) -Ifilters/$(word 2,$(subst /, ,$<)) $(CFLAGS) -c -o $@ $<

$(O)/filters/%.o: filters/%.cpp
	@mkdir -p $(@D)
	@echo "  CXX     $<"
	$(Q)$(CXX) $(CPPFLAGS) $(LIBS_INC) $(CXXFLAGS) -c -o $@ $<

$(O)/libcommon/json-generic.o: libcommon/json.cpp
	@mkdir -p $(@D)
	@echo "  CXX     $< (generic)"
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DCM_JSON_VARIANT=generic -c -o $@ $<

$(O)/libcommon/json-haswell.o: libcommon/json.cpp
	@mkdir -p $(@D)
	@echo "  CXX     $< (haswell)"
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DCM_JSON_VARIANT=haswell -mavx2 -mbmi -mbmi2 -mpclmul \
		-mlzcnt -c -o $@ $<

# Unit tests may use any program's modules; jansson is the reference JSON parser.
$(O)/tests/%: tests/unit/%.c $(MODLIBS) $(TR_LIB) $(KN_LIB) $(WEB_LIB) $(TOK_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CPPFLAGS) $(LIBS_INC) $(addprefix -I,$(wildcard filters/*)) -Ikernels -Itrainer -I$(BLAS_INC) -Itests/unit \
		$(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -o $@ $@.o $(MODLIBS) $(TR_LIB) $(KN_LIB) $(WEB_LIB) $(TOK_LIB) $(LIB) $(LDLIBS) -ljansson \
		-lbrotlienc $(BLAS_LIBS)

# the tests' HTTP servers (remote inputs; a canned judge for lm-judge) are built on libmicrohttpd, as lm-serve is
$(O)/tests/tools/httpd-test $(O)/tests/tools/judge-fake: LDLIBS += -lmicrohttpd
$(O)/tests/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -o $@ $@.o $(LIB) $(LDLIBS)

# the URL filter alone (bench/urlfilter): libweb's
$(O)/bench/urlfilter/urlcheck: bench/urlfilter/urlcheck.c $(WEB_LIB) $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ilibweb $(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -o $@ $@.o $(WEB_LIB) $(LIB) $(LDLIBS)

# the matrix products' shapes through OpenBLAS, as the trainer calls it
$(O)/bench/train/gemm-shapes: CPPFLAGS += -I$(BLAS_INC)
$(O)/bench/train/gemm-shapes: LDLIBS += $(BLAS_LIBS)
$(O)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -o $@ $@.o $(LIB) $(LDLIBS) -ljansson

ABS_O = $(abspath $(O))
# without this make's MAKEFLAGS and MAKELEVEL: a make that a test runs (pipelines/crawl.mk) is
# not a child of this one (its jobserver's warning and directory lines would be in the output)
TEST_ENV = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL LC_ALL=C OMP_WAIT_POLICY=passive BUILD=$(ABS_O) SRCDIR=$(CURDIR) PATH=$(ABS_O)/bin:$(ABS_O)/tests/tools:$$PATH

check: $(O)/.deps-check all $(UNITS) $(TOOLS)
	$(Q)$(TEST_ENV) prove -j2 $(PROVE_FLAGS) tests/*.t $(UNITS)

check-slow: $(O)/.deps-slow all $(UNITS) $(TOOLS)
	$(Q)$(TEST_ENV) SLOW=1 prove -j2 $(PROVE_FLAGS) tests/*.t $(wildcard tests/slow/*.t) $(UNITS)

# the CUDA backend on a lent GPU (tests/gpu/): make check-gpu [LOGDIR=dir]
GPU_TESTS := $(patsubst tests/gpu/%.c,$(O)/tests/gpu/%,$(wildcard tests/gpu/*.c))
$(O)/tests/gpu/%: tests/gpu/%.c $(TR_LIB) $(TOK_LIB) $(KN_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CPPFLAGS) $(LIBS_INC) -Ikernels -Itrainer -I$(BLAS_INC) $(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -o $@ $@.o $(TR_LIB) $(TOK_LIB) $(KN_LIB) $(LIB) $(LDLIBS) $(BLAS_LIBS)
all: $(GPU_TESTS)
check-gpu: $(O)/.deps-check all $(GPU_TESTS)
	$(Q)BUILD=$(ABS_O) SRCDIR=$(CURDIR) LOGDIR=$(or $(LOGDIR),$(ABS_O)/gpu-logs) sh tests/gpu/check-gpu.sh

# what check-gpu runs, with the libraries it needs, for a GPU machine without them (DEVELOPERS.md)
gpu-bundle: all $(GPU_TESTS)
	$(Q)BUILD=$(ABS_O) sh tests/gpu/bundle.sh

# loss curves of an lm-train run to PNG: make plot RUN=runs/base [PNG=loss.png]
plot: $(O)/.deps-plot
	$(Q)sh pipelines/plot-loss.sh $(or $(RUN),$(error make plot needs RUN=run-directory)) $(PNG)

demo: $(O)/.deps-demo all
	$(Q)$(TEST_ENV) sh pipelines/demo.sh

# the record-I/O benchmark times tests/tools/passthrough against bench/record-io/jansson-pass
bench: all $(TOOLS) $(BENCHES)
	$(Q)BUILD=$(ABS_O) sh bench/run-all.sh

# libFuzzer targets, built with clang in their own folder: make fuzz [FUZZ_SECONDS=600]
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZ_O := $(O)/fuzz
fuzz: $(O)/.deps-fuzz
	$(Q)$(MAKE) --no-print-directory O=$(FUZZ_O) CC=clang CXX=clang++ OPENMP= \
		SANITIZE=address,undefined EXTRA_SAN=fuzzer-no-link fuzz-build
	$(Q)for t in $(basename $(notdir $(FUZZ_SRC))); do \
		mkdir -p $(FUZZ_O)/corpus/$$t && \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
		$(FUZZ_O)/fuzz-bin/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=262144 -rss_limit_mb=4096 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_O)/ \
			$(FUZZ_O)/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

ifneq ($(EXTRA_SAN),)
CFLAGS += -fsanitize=$(EXTRA_SAN)
CXXFLAGS += -fsanitize=$(EXTRA_SAN)
endif
FUZZ_BINS := $(patsubst fuzz/%.c,$(O)/fuzz-bin/%,$(FUZZ_SRC))
fuzz-build: $(FUZZ_BINS)
# the filters' modules and the libraries; of the trainer, safetensors.c, sft.c, reward.c,
# classify.c, battle.c, dpo.c and judge.c alone (the rest of it needs BLAS and the kernels), its
# folder searched last (domain-tag has a model.h too)
FUZZ_LIBS := $(O)/trainer/safetensors.o $(O)/trainer/sft.o $(O)/trainer/reward.o $(O)/trainer/classify.o \
	$(O)/trainer/battle.o $(O)/trainer/dpo.o $(O)/trainer/judge.o $(MODLIBS) $(WEB_LIB) $(TOK_LIB) $(LIB)
$(O)/fuzz-bin/%: fuzz/%.c $(FUZZ_LIBS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(LIBS_INC) $(addprefix -I,$(wildcard filters/*)) -Itrainer $(CFLAGS) -c -o $@.o $<
	$(Q)$(CXX) $(LDFLAGS) -fsanitize=fuzzer -o $@ $@.o $(FUZZ_LIBS) $(LDLIBS) -ljansson

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
ifneq ($(CUDA_LIB),)
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(CUDA_LIB) $(DESTDIR)$(PREFIX)/lib/
endif
	install -d $(DESTDIR)$(PREFIX)/share/doc/crawl2lm
	install -m 644 NOTICE README.md $(DESTDIR)$(PREFIX)/share/doc/crawl2lm/

clean:
	rm -rf $(O)

.PHONY: all deps check check-slow check-gpu gpu-bundle plot demo bench fuzz fuzz-build install clean
.SECONDARY:
.DELETE_ON_ERROR:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
