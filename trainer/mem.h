/* mem.h - the memory this process may still take: physical memory, a cgroup's limit, the
 * process's limits; checked against an estimate before a run allocates. */
#ifndef LM_MEM_H
#define LM_MEM_H
#include <stddef.h>

#include "model.h"

/* Bytes the process may still allocate, the smallest of: MemAvailable (/proc/meminfo, else
 * sysconf's available pages), the memory cgroup's limit less its usage (reclaimable page
 * cache counted free), RLIMIT_AS less the address space in use, RLIMIT_DATA less the data in
 * use. The environment variable CRAWL2LM_MEMORY (a size: 300M, 2G) replaces the system's
 * figure (the limits still apply): for tests. what names the figure that decided. Returns a
 * negative number when nothing is known. */
double lm_mem_available(char *what, size_t whatlen);
/* The room a memory cgroup leaves, from the process's cgroup file (/proc/self/cgroup) and
 * the cgroup file system's root (/sys/fs/cgroup): the smallest over the levels of a v2 path
 * (memory.max less memory.current, inactive_file counted free), or v1's limit; negative when
 * no limit is set. */
double lm_mem_cgroup(const char *self, const char *root, char *what, size_t whatlen);
/* Whether a run fits, estimated before anything big is allocated (lm-train(1), MEMORY):
 * training B x T tokens a micro-batch in precision adt on be, one of `ranks` data parallel
 * processes (zero: each holding AdamW's moments of its part of the parameters); sampling B rows from a prompt of
 * n tokens with caches of Tkv positions. info gets the figures (for -v); 0 when it fits or
 * nothing is known, -1 with the figures and a way out in err. */
int lm_mem_check_train(const lm_config *c, const kn_backend *be, kn_dtype adt, int B, int T,
		       int ranks, int zero, char *info, size_t infolen, char *err, size_t errlen);
int lm_mem_check_sample(const lm_config *c, const kn_backend *be, kn_dtype adt, int B, int n,
			int Tkv, char *info, size_t infolen, char *err, size_t errlen);
/* Evaluation (lm-eval): scoring rows x T positions a forward pass, generation gen_rows rows
 * of gen_T positions (0: none) with their caches, and host bytes the requests hold. */
int lm_mem_check_eval(const lm_config *c, const kn_backend *be, kn_dtype adt, int rows, int T,
		      int gen_rows, int gen_T, double host, char *info, size_t infolen, char *err,
		      size_t errlen);
/* A size for messages: "2.35 GiB", or "48.2 MiB" below a tenth of a GiB. LM_SIZE(b) is the
 * string, valid to the end of the full expression (a struct returned by value). */
typedef struct lm_size {
	char s[32];
} lm_size;
lm_size lm_size_of(double bytes);
#define LM_SIZE(b) (lm_size_of(b).s)
#endif
