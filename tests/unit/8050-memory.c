/* 8050-memory.c - the memory estimate lm-train and lm-sample check before allocating: the
 * state, activation and KV-cache bytes equal what the backend allocates (training and
 * sampling, GPT-2 and Llama, fp32 and bf16), the presets give lm-train(1)'s table, and the
 * memory available follows CRAWL2LM_MEMORY and the process's limits. */
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"		/* trainer/model.h (a filter has a model.h too) */
#include "cli.h"
#include "kernels.h"
#include "mem.h"
#include "tap.h"

static lm_config small(int style, int tied)
{
	char err[256];
	lm_config c;
	lm_config_load(&c, style == LM_GPT2 ? "tiny" : "llama-125m", 300, err, sizeof err);
	c.layers = 3;
	c.dim = 64;
	c.heads = 4;
	c.kv_heads = style == LM_GPT2 ? 4 : 2;
	c.head_dim = 16;
	c.hidden = style == LM_GPT2 ? 256 : 96;
	c.ctx = 64;
	c.tied = tied;
	if (lm_config_check(&c, err, sizeof err) < 0)
		printf("# %s\n", err);
	return c;
}

/* A training step's peak against state + activations. */
static void check_training(const lm_config *c, kn_dtype dt, const char *what)
{
	char err[256];
	kn_backend *be = kn_open("cpu", 0, err, sizeof err);
	int B = 3, T = 20;
	lm_model *m = lm_model_new(be, c, 1);
	lm_model_init(m, 1);
	lm_model_set_precision(m, dt);
	int32_t x[60], y[60];
	for (int i = 0; i < B * T; i++) {
		x[i] = (i * 7) % c->vocab;
		y[i] = (i * 11) % c->vocab;
	}
	lm_forward(m, B, T, x, NULL, NULL);
	lm_loss(m, y, 1.0f / (B * T), NULL);
	lm_backward(m);
	double want = lm_state_bytes(c, 1, dt) + lm_acts_bytes(c, B, T, 1, dt);
	is_int(be->peak, (int64_t)want, "%s, training: the estimate is what the backend allocates",
	       what);
	lm_model_free(m);
	kn_close(be);
}

/* Sampling: the caches, a prefill of T0 positions, decoding steps. */
static void check_sampling(const lm_config *c, kn_dtype dt, const char *what)
{
	char err[256];
	kn_backend *be = kn_open("cpu", 0, err, sizeof err);
	int B = 2, T0 = 9, Tmax = 30;
	lm_model *m = lm_model_new(be, c, 0);
	lm_model_init(m, 1);
	lm_model_set_precision(m, dt);
	lm_kv_reset(m, B, Tmax);
	int32_t x[18], pos[2];
	float *last = cm_xmalloc((size_t)B * c->vocab_padded * sizeof(float));
	for (int i = 0; i < B * T0; i++)
		x[i] = (i * 5) % c->vocab;
	lm_prefill(m, x, T0, last);
	for (int s = 0; s < 3; s++) {
		pos[0] = pos[1] = T0 + s;
		lm_decode_step(m, x, pos, last);
	}
	double want = lm_state_bytes(c, 0, dt) + lm_kv_bytes(c, B, Tmax, dt) +
		      fmax(lm_acts_bytes(c, B, T0, 0, dt), lm_acts_bytes(c, B, 1, 0, dt));
	is_int(be->peak, (int64_t)want, "%s, sampling: the estimate is what the backend allocates",
	       what);
	free(last);
	lm_model_free(m);
	kn_close(be);
}

/* lm-train(1)'s table (measured with -v): state and all, fp32 and bf16, in MiB. */
static void check_table(void)
{
	static const struct {
		const char *name;
		int B, T;
		double f32_state, f32_all, b16_state, b16_all;
	} t[] = {
		{ "tiny", 8, 256, 111, 592, 125, 366 },
		{ "small", 8, 256, 460, 1226, 518, 901 },
		{ "gpt2-124m", 8, 1024, 1899, 9046, 2137, 5713 },
		{ "llama-125m", 8, 1024, 1850, 8891, 2081, 5604 },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char err[256];
		lm_config c;
		lm_config_load(&c, t[i].name, 0, err, sizeof err);
		double mib = 1048576.0;
		double s32 = lm_state_bytes(&c, 1, KN_F32) / mib;
		double a32 = s32 + lm_acts_bytes(&c, t[i].B, t[i].T, 1, KN_F32) / mib;
		double s16 = lm_state_bytes(&c, 1, KN_BF16) / mib;
		double a16 = s16 + lm_acts_bytes(&c, t[i].B, t[i].T, 1, KN_BF16) / mib;
		ok(fabs(s32 - t[i].f32_state) < 1 && fabs(a32 - t[i].f32_all) < 1 &&
		   fabs(s16 - t[i].b16_state) < 1 && fabs(a16 - t[i].b16_all) < 1,
		   "%s at %d x %d: %.0f, %.0f, %.0f, %.0f MiB as in lm-train(1)", t[i].name, t[i].B,
		   t[i].T, s32, a32, s16, a16);
	}
	/* the largest sizes options and configs allow do not overflow */
	lm_config c;
	char err[256];
	lm_config_load(&c, "gpt2-124m", 1 << 24, err, sizeof err);
	double b = lm_acts_bytes(&c, 1 << 20, 1 << 20, 1, KN_F32);
	ok(b > 0x1p63 && isfinite(b), "2^20 rows of 2^20 positions, 16M tokens: %.3g bytes, beyond int64_t", b);
}

static void check_available(void)
{
	char what[128];
	const char *w = what;
	setenv("CRAWL2LM_MEMORY", "123M", 1);
	double a = lm_mem_available(what, sizeof what);
	is_int((int64_t)a, 123 << 20, "CRAWL2LM_MEMORY gives the memory available");
	is_str(w, "CRAWL2LM_MEMORY", "  and is named");
	setenv("CRAWL2LM_MEMORY", "1000G", 1);
	/* a limit 1 GiB above the address space in use (a sanitizer's shadow takes terabytes) */
	struct rlimit old, rl;
	unsigned long long vm_kb = 0;
	char line[256];
	FILE *st = fopen("/proc/self/status", "r");
	while (st && fgets(line, sizeof line, st))
		if (sscanf(line, "VmSize: %llu kB", &vm_kb) == 1)
			break;
	if (st)
		fclose(st);
	getrlimit(RLIMIT_AS, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)(vm_kb << 10) + (1ull << 30);
	if (!vm_kb || (old.rlim_max != RLIM_INFINITY && old.rlim_max < rl.rlim_cur) ||
	    setrlimit(RLIMIT_AS, &rl) < 0) {
		ok(1, "# SKIP cannot set an address-space limit above the %llu kB in use", vm_kb);
		ok(1, "# SKIP");
	} else {
		a = lm_mem_available(what, sizeof what);
		ok(a > 0 && a <= (double)(1ull << 30), "an address-space limit lowers it (%s)", LM_SIZE(a));
		is_str(w, "the address-space limit (ulimit -v)", "  and is named");
		setrlimit(RLIMIT_AS, &old);
	}
	unsetenv("CRAWL2LM_MEMORY");
	a = lm_mem_available(what, sizeof what);
	ok(a > 0, "the system's figure: %s (%s)", LM_SIZE(a), what);
	is_str(LM_SIZE(3.5 * 1073741824.0), "3.50 GiB", "sizes in GiB");
	is_str(LM_SIZE(50 * 1048576.0), "50.0 MiB", "  in MiB below a tenth of a GiB");
}

static int setup_bad;	/* files of the fake cgroup tree that could not be made */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;
	if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, name) >= sizeof p || !(f = fopen(p, "w"))) {
		setup_bad++;
		return;
	}
	setup_bad += fputs(text, f) < 0;
	setup_bad += fclose(f) != 0;
}

static void mk(const char *d)
{
	setup_bad += mkdir(d, 0755) < 0;
}

/* cgroup v2 (the tightest level of the path) and v1, from files laid out as the kernel does */
static void check_cgroup(void)
{
	char tmp[2048], d[PATH_MAX], what[128];
	const char *w = what, *td = getenv("TMPDIR");
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/8050-cgroup.XXXXXX", td && *td ? td : "/tmp") >= sizeof tmp ||
	    !mkdtemp(tmp)) {
		ok(0, "a temporary directory in %s", td && *td ? td : "/tmp");
		return;
	}
	snprintf(d, sizeof d, "%s/a", tmp);
	mk(d);
	put(d, "memory.max", "1073741824\n");
	put(d, "memory.current", "536870912\n");
	put(d, "memory.stat", "anon 1000\ninactive_file 104857600\nactive_file 5\n");
	snprintf(d, sizeof d, "%s/a/b", tmp);
	mk(d);
	put(d, "memory.max", "max\n");
	put(d, "memory.current", "436870912\n");
	put(tmp, "self", "0::/a/b\n");
	ok(!setup_bad, "a fake cgroup v2 tree in %s", tmp);
	char self[PATH_MAX];
	snprintf(self, sizeof self, "%s/self", tmp);
	double r = lm_mem_cgroup(self, tmp, what, sizeof what);
	is_int((int64_t)r, (1024 - 512 + 100) << 20, "cgroup v2: a parent's memory.max less its usage, "
	       "inactive files counted free");
	is_str(w, "the memory cgroup's limit (memory.max)", "  and is named");
	snprintf(d, sizeof d, "%s/memory", tmp);
	mk(d);
	snprintf(d, sizeof d, "%s/memory/x", tmp);
	mk(d);
	put(d, "memory.limit_in_bytes", "2147483648\n");
	put(d, "memory.usage_in_bytes", "1073741824\n");
	put(d, "memory.stat", "cache 5\nhierarchical_memory_limit 9223372036854771712\n"
	    "total_inactive_file 0\n");
	put(tmp, "self", "5:pids:/\n4:cpu,memory:/x\n0::/\n");
	ok(!setup_bad, "a fake cgroup v1 tree beside it");
	r = lm_mem_cgroup(self, tmp, what, sizeof what);
	is_int((int64_t)r, 1 << 30, "cgroup v1: memory.limit_in_bytes less the usage");
	put(d, "memory.limit_in_bytes", "9223372036854771712\n");
	r = lm_mem_cgroup(self, tmp, what, sizeof what);
	ok(r < 0, "no limit: nothing said");
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		printf("# cannot remove %s\n", tmp);
}

int main(void)
{
	cm_init("8050-memory");
	lm_config g = small(LM_GPT2, 1), l = small(LM_LLAMA, 0), lt = small(LM_LLAMA, 1);
	check_training(&g, KN_F32, "GPT-2 fp32");
	check_training(&g, KN_BF16, "GPT-2 bf16");
	check_training(&l, KN_F32, "Llama untied fp32");
	check_training(&lt, KN_BF16, "Llama tied bf16");
	check_sampling(&g, KN_F32, "GPT-2 fp32");
	check_sampling(&g, KN_BF16, "GPT-2 bf16");
	check_sampling(&l, KN_BF16, "Llama untied bf16");
	check_table();
	check_available();
	check_cgroup();
	return tap_done();
}
