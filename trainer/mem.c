/* mem.c - the memory this process may still take: physical memory, a cgroup's limit, the
 * process's limits; and what a training or sampling run will need, against it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "mem.h"

lm_size lm_size_of(double bytes)
{
	lm_size z;
	double g = bytes / (1024.0 * 1024.0 * 1024.0);
	if (g >= 0.1 || bytes < 0)
		snprintf(z.s, sizeof z.s, "%.2f GiB", g);
	else
		snprintf(z.s, sizeof z.s, "%.1f MiB", bytes / (1024.0 * 1024.0));
	return z;
}

/* The number after "key" in a file of "key value" lines (/proc/meminfo, memory.stat), times
 * unit; negative when absent. */
static double field(const char *path, const char *key, double unit)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t kl = strlen(key);
	double v = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == ':' || line[kl] == '\t')) {
			v = strtod(line + kl + 1, NULL) * unit;
			break;
		}
	if (f)
		fclose(f);
	return v;
}

/* The number a file holds (memory.max, memory.current); negative for "max" or none. */
static double number(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[64];
	double v = -1;
	if (f && fgets(line, sizeof line, f) && line[0] >= '0' && line[0] <= '9')
		v = strtod(line, NULL);
	if (f)
		fclose(f);
	return v;
}

/* v bytes may be had by why's account (negative: no limit there) */
static void take(double *best, char *what, size_t whatlen, double v, const char *why)
{
	if (v < 0)
		return;
	if (*best < 0 || v < *best) {
		*best = v;
		snprintf(what, whatlen, "%s", why);
	}
}

/* limit - usage + reclaimable page cache, or -1 when there is no limit */
static double cgroup_room(double limit, double usage, double inactive)
{
	if (limit < 0 || limit >= 0x1p60 || usage < 0)
		return -1;
	double r = limit - usage + (inactive > 0 ? inactive : 0);
	return r > 0 ? r : 0;
}

double lm_mem_cgroup(const char *self, const char *root, char *what, size_t whatlen)
{
	FILE *f = fopen(self, "r");
	char line[4096], p[4500], dir[4400];
	double best = -1;
	size_t rl = strlen(root);
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		char *ctl = c1 + 1;
		const char *path = c2 + 1;
		if (!strcmp(line, "0") && !*ctl) {	/* v2: each level up to the root */
			snprintf(dir, sizeof dir, "%s%s", root, strcmp(path, "/") ? path : "");
			for (;;) {
				snprintf(p, sizeof p, "%s/memory.max", dir);
				double lim = number(p);
				snprintf(p, sizeof p, "%s/memory.current", dir);
				double use = number(p);
				snprintf(p, sizeof p, "%s/memory.stat", dir);
				take(&best, what, whatlen, cgroup_room(lim, use, field(p, "inactive_file", 1)),
				     "the memory cgroup's limit (memory.max)");
				char *sl = strrchr(dir, '/');
				if (!sl || (size_t)(sl - dir) < rl)
					break;
				*sl = 0;
			}
			continue;
		}
		int mem = 0;	/* v1: "memory" among the controllers */
		char *save = NULL;
		for (char *c = strtok_r(ctl, ",", &save); c; c = strtok_r(NULL, ",", &save))
			mem |= !strcmp(c, "memory");
		if (!mem)
			continue;
		snprintf(dir, sizeof dir, "%s/memory%s", root, path);
		snprintf(p, sizeof p, "%s/memory.limit_in_bytes", dir);
		if (access(p, R_OK) != 0)	/* a namespace shows its own cgroup as the root */
			snprintf(dir, sizeof dir, "%s/memory", root);
		snprintf(p, sizeof p, "%s/memory.limit_in_bytes", dir);
		double lim = number(p);
		snprintf(p, sizeof p, "%s/memory.stat", dir);
		double hier = field(p, "hierarchical_memory_limit", 1);
		if (hier >= 0 && (lim < 0 || hier < lim))
			lim = hier;
		double inactive = field(p, "total_inactive_file", 1);
		snprintf(p, sizeof p, "%s/memory.usage_in_bytes", dir);
		take(&best, what, whatlen, cgroup_room(lim, number(p), inactive),
		     "the memory cgroup's limit (memory.limit_in_bytes)");
	}
	if (f)
		fclose(f);
	return best;
}

static void rlimit(double *best, char *what, size_t whatlen, int res, const char *inuse,
		   const char *why)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	double used = field("/proc/self/status", inuse, 1024);
	double r = (double)rl.rlim_cur - (used > 0 ? used : 0);
	take(best, what, whatlen, r > 0 ? r : 0, why);
}

double lm_mem_available(char *what, size_t whatlen)
{
	double best = -1;
	snprintf(what, whatlen, "nothing known");
	const char *env = getenv("CRAWL2LM_MEMORY");
	if (env && *env) {
		take(&best, what, whatlen, (double)cm_parse_size("CRAWL2LM_MEMORY", env),
		     "CRAWL2LM_MEMORY");
	} else {
		double v = field("/proc/meminfo", "MemAvailable", 1024);
		if (v >= 0) {
			take(&best, what, whatlen, v, "MemAvailable in /proc/meminfo");
		} else {
			long pages = sysconf(_SC_AVPHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
			if (pages > 0 && ps > 0)
				take(&best, what, whatlen, (double)pages * ps, "free physical memory");
		}
		char cw[128];
		double cg = lm_mem_cgroup("/proc/self/cgroup", "/sys/fs/cgroup", cw, sizeof cw);
		take(&best, what, whatlen, cg, cw);
	}
	rlimit(&best, what, whatlen, RLIMIT_AS, "VmSize", "the address-space limit (ulimit -v)");
	rlimit(&best, what, whatlen, RLIMIT_DATA, "VmData", "the data-segment limit (ulimit -d)");
	return best;
}

int lm_mem_check_train(const lm_config *c, const kn_backend *be, kn_dtype adt, int B, int T,
		       int ranks, int zero, char *info, size_t infolen, char *err, size_t errlen)
{
	int host_tensors = be->host, bf16 = adt == KN_BF16;
	double N = (double)B * T, P = (double)lm_config_nparams(c), Vp = c->vocab_padded;
	double C = c->dim, H = c->hidden, q = (double)(c->heads + 2 * c->kv_heads) * c->head_dim;
	/* ZeRO-1: AdamW's moments of a part of the parameters (the last rank's, the longest) */
	double held = zero && ranks > 1 ? P - floor(P / ranks) * (ranks - 1) : P;
	/* the weights (and their bf16 copy), all the gradients, the moments held */
	double state = lm_state_bytes(c, 0, adt) + 4 * P + 8 * held;
	double acts = lm_acts_bytes(c, B, T, 1, adt);
	/* host buffers: the batch, the evaluation's losses or a stream's tokens, bytes per
	 * token, a checkpoint's copy of the weights (its moments go a 4 MiB piece at a time),
	 * and between ranks the staging of the sums (at most 16 Mi floats and a rank's share) */
	double host = 8 * N + 4 * N + 4.0 * c->vocab + 4 * P + fmin(4 * P, 4.0 * 1048576);
	if (ranks > 1)
		host += 4 * fmin(P, 16.0 * 1048576) * (1.0 + 1.0 / ranks);
	/* bf16 on the CPU: each operation works on fp32 copies of its bf16 tensors, the largest
	 * those of the logits' product, or of the attention's or the MLP's backward */
	if (bf16 && host_tensors) {
		double logits = N * Vp + 2 * N * C + Vp * C, attn = 4 * N * q;
		double mlp = N * (4 * H + 2 * C) + 2 * H * C;
		host += 4 * fmax(logits, fmax(attn, mlp));
	}
	/* what the process takes beside its tensors once it runs: OpenBLAS's buffers (32 MiB
	 * a thread) and the threads' own, allocator slack (measured: 37 MiB more at -j 1,
	 * about 100 MiB at -j 2, on the CPU) */
	host += (24.0 + (host_tensors ? 40.0 * be->threads : 0)) * 1048576;
	double need = host + (host_tensors ? state + acts : 0);
	char what[128];
	double avail = lm_mem_available(what, sizeof what);
	char zs[96] = "";
	if (held < P)
		snprintf(zs, sizeof zs, " (ZeRO-1: the moments of 1/%d of the parameters, %s)",
			 ranks, LM_SIZE(8 * held));
	if (host_tensors)
		snprintf(info, infolen, "memory: about %s needed (weights, gradients and AdamW state "
			 "%s%s, activations %s, buffers %s); %s available (%s)", LM_SIZE(need),
			 LM_SIZE(state), zs, LM_SIZE(acts), LM_SIZE(host), LM_SIZE(avail), what);
	else
		snprintf(info, infolen, "memory: about %s on the %s (weights, gradients and AdamW "
			 "state %s%s, activations %s; not checked beforehand) and %s on the host; %s "
			 "available there (%s)", LM_SIZE(state + acts), be->base->name,
			 LM_SIZE(state), zs, LM_SIZE(acts), LM_SIZE(host), LM_SIZE(avail), what);
	if (avail < 0 || need <= avail)
		return 0;
	if (host_tensors)
		snprintf(err, errlen, "the run needs about %s of memory (weights, gradients and AdamW "
			 "state %s, activations for %d x %d tokens %s, buffers %s), more than the %s "
			 "available (%s): lower --batch (raise --accum to keep the tokens a step) or "
			 "--context, or take a smaller model", LM_SIZE(need), LM_SIZE(state), B, T,
			 LM_SIZE(acts), LM_SIZE(host), LM_SIZE(avail), what);
	else
		snprintf(err, errlen, "the run needs about %s of host memory (for checkpoints and "
			 "batches), more than the %s available (%s)", LM_SIZE(need), LM_SIZE(avail),
			 what);
	return -1;
}

/* Whether need bytes fit what is available (also when that is unknown), with the figures in
 * info; the available bytes and what decided them into *avail and what. */
static int fits(double need, int host_tensors, double *avail, char *what, size_t whatlen,
		char *info, size_t infolen)
{
	*avail = lm_mem_available(what, whatlen);
	snprintf(info, infolen, "memory: about %s needed%s; %s available (%s)", LM_SIZE(need),
		 host_tensors ? "" : " on the host (the GPU's is not checked beforehand)",
		 LM_SIZE(*avail), what);
	return *avail < 0 || need <= *avail;
}

int lm_mem_check_sample(const lm_config *c, const kn_backend *be, kn_dtype adt, int B, int n,
			int Tkv, char *info, size_t infolen, char *err, size_t errlen)
{
	int host_tensors = be->host, bf16 = adt == KN_BF16;
	double Vp = c->vocab_padded, P = (double)lm_config_nparams(c), N = (double)B * n;
	double state = lm_state_bytes(c, 0, adt), kv = lm_kv_bytes(c, B, Tkv, adt);
	double acts = fmax(lm_acts_bytes(c, B, n - 1, 0, adt), lm_acts_bytes(c, B, 1, 0, adt));
	double dev = state + kv + acts;
	/* logits, candidates, the samples' ids, the prompt's copies, a weight tensor's two
	 * copies while loading (at most the parameters), bf16's fp32 copy of the logits */
	double host = 4 * B * Vp + 16.0 * c->vocab + 4.0 * B * Tkv + 4 * N + fmin(8 * P, 8 * Vp * c->dim);
	if (bf16 && host_tensors)
		host += 4 * (N * Vp + Vp * c->dim);
	double need = host + (host_tensors ? dev : 0), avail;
	char what[128];
	if (fits(need, host_tensors, &avail, what, sizeof what, info, infolen))
		return 0;
	snprintf(err, errlen, "sampling needs about %s of memory (weights %s, key/value caches for "
		 "%d x %d positions %s, activations %s), more than the %s available (%s): lower "
		 "--samples or --max-tokens", LM_SIZE(need), LM_SIZE(state), B, Tkv, LM_SIZE(kv),
		 LM_SIZE(acts), LM_SIZE(avail), what);
	return -1;
}

int lm_mem_check_eval(const lm_config *c, const kn_backend *be, kn_dtype adt, int rows, int T,
		      int gen_rows, int gen_T, double host, char *info, size_t infolen, char *err,
		      size_t errlen)
{
	int host_tensors = be->host;
	double Vp = c->vocab_padded;
	double state = lm_state_bytes(c, 0, adt), acts = lm_acts_bytes(c, rows, T, 0, adt);
	double gen = gen_rows ? lm_kv_bytes(c, gen_rows, gen_T, adt) +
				lm_acts_bytes(c, gen_rows, gen_T, 0, adt) : 0;
	double dev = state + fmax(acts, gen);
	/* a row's logits in fp32, the forward's ids, a weight tensor's copies while loading, and
	 * the buffers lm_mem_check_train counts (OpenBLAS's, the threads', allocator slack) */
	host += 4 * T * Vp + 4.0 * rows * T + fmin(8 * (double)lm_config_nparams(c), 8 * Vp * c->dim);
	host += (24.0 + (host_tensors ? 40.0 * be->threads : 0)) * 1048576;
	double need = host + (host_tensors ? dev : 0), avail;
	char what[128];
	if (fits(need, host_tensors, &avail, what, sizeof what, info, infolen))
		return 0;
	snprintf(err, errlen, "evaluation needs about %s of memory (weights %s, activations of %d "
		 "x %d positions %s, generation %s, buffers and requests %s), more than the %s available "
		 "(%s): lower --batch-tokens, --gen-batch or --limit", LM_SIZE(need), LM_SIZE(state),
		 rows, T, LM_SIZE(acts), LM_SIZE(gen), LM_SIZE(host), LM_SIZE(avail), what);
	return -1;
}
