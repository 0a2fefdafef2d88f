/* arena.h - ranking models from pairwise battles (lm-arena): the battle reader (Chatbot Arena's
 * JSONL form), the table of models and of pair counts, Bradley-Terry strengths by unregularised
 * maximum likelihood (Newton's method, exact to rounding; infinite strengths and models that
 * cannot be compared said as such), a multinomial bootstrap over the counts, online Elo, and
 * AlpacaEval 2's length-controlled win rate against a baseline.
 *
 * The reader (battle.c) needs only jansson, so the fuzz target links it alone; the fits
 * (arena.c) solve with LAPACK (OpenBLAS's dpotrf/dpotrs). */
#ifndef LM_ARENA_H
#define LM_ARENA_H
#include <stddef.h>
#include <stdint.h>

#define LM_AR_NAME_MAX 256	/* bytes of a model name */

enum { LM_AR_WIN_A, LM_AR_WIN_B, LM_AR_TIE, LM_AR_BOTHBAD };

/* why a line is not a battle */
enum {
	LM_AR_OK,
	LM_AR_NOT_JSON,		/* not a JSON object (or a repeated key) */
	LM_AR_NO_MODEL,		/* model_a or model_b missing or not a string */
	LM_AR_BAD_MODEL,	/* an empty name, or over LM_AR_NAME_MAX bytes */
	LM_AR_NO_WINNER,	/* winner missing or not a string */
	LM_AR_BAD_WINNER,	/* winner none of model_a, model_b, tie, tie (bothbad) */
	LM_AR_SAME_MODEL,	/* model_a == model_b */
	LM_AR_BAD_LENGTH,	/* len_a/len_b (or response_a/response_b) for one side only or malformed */
	LM_AR_LONG_LINE,	/* a line over the reader's limit (the program's, not lm_ar_parse's) */
	LM_AR_NREASONS
};
/* the reasons' names: "not JSON", "no model", ... (for counts and --rejects) */
extern const char *const lm_ar_reason[LM_AR_NREASONS];

typedef struct lm_ar_battle {
	char a[LM_AR_NAME_MAX + 1], b[LM_AR_NAME_MAX + 1];
	size_t alen, blen;
	int winner;		/* LM_AR_WIN_A ... LM_AR_BOTHBAD */
	int has_len;		/* len_a and len_b below are set */
	double len_a, len_b;	/* len_a/len_b as given, else response_a/response_b's characters */
} lm_ar_battle;

/* One JSONL line into *b: LM_AR_OK, or a reason (and a message in why saying what was seen) */
int lm_ar_parse(const char *line, size_t len, lm_ar_battle *b, char *why, size_t whylen);

/* The models (names to indices, in order of appearance) and the battles' counts per pair. */
typedef struct lm_ar_cell {
	uint32_t i, j;		/* i < j */
	double w[3];		/* battles i won, j won, tied (both kinds of tie) */
} lm_ar_cell;

typedef struct lm_ar_model {
	char *name;
	uint64_t battles, wins, ties;	/* ties of both kinds */
} lm_ar_model;

typedef struct lm_ar_table {
	lm_ar_model *m;
	size_t nm, max_models;
	lm_ar_cell *c;
	size_t nc, cap_c;
	uint32_t *mslot, *cslot;	/* hash slots: index + 1, 0 empty */
	size_t mmask, cmask;
	uint64_t battles;
} lm_ar_table;

/* max_models: the most distinct models (the fit's matrix is max_models^2 doubles at most) */
void lm_ar_table_init(lm_ar_table *t, size_t max_models);
void lm_ar_table_free(lm_ar_table *t);
/* A model's index, added when new: -1 past max_models. */
long lm_ar_model_index(lm_ar_table *t, const char *name, size_t len);
/* Model index, -1 when unknown */
long lm_ar_model_find(const lm_ar_table *t, const char *name);
/* Count a battle between models ia and ib (ia != ib): 0, or -1 past max_models */
int lm_ar_add(lm_ar_table *t, const lm_ar_battle *b, long *ia, long *ib);
/* The first model by name (bytewise order) */
size_t lm_ar_first_by_name(const lm_ar_table *t);

/* Weakly connected components of the models that have battles: comp[m] = the component's
 * number (numbered in the order of their lowest model index), -1 for a model without battles;
 * returns the number of components. */
size_t lm_ar_components(size_t nm, const lm_ar_cell *c, size_t nc, long *comp);

/* Bradley-Terry by maximum likelihood on the counts (a tie half a win to each side), on the Elo
 * scale (400/ln 10 times the log-strength), model anchor at 1000. Where the likelihood has no
 * maximum (Ford's condition: the models that the anchor's group beats, directly or through
 * others, never beat it back), rating[m] is -INFINITY for a model the anchor's strongly
 * connected group beats without being beaten back, +INFINITY for one that beats the group so,
 * and NAN for a model without battles or that cannot be ordered against the anchor (another
 * component, or neither above nor below it); the anchor's group gets the maximum of its own
 * battles. 0, or -1 with a message (Newton's method did not converge: not seen). */
int lm_ar_bt(size_t nm, const lm_ar_cell *c, size_t nc, size_t anchor, double *rating,
	     int *iterations, char *err, size_t errlen);

/* Bootstrap: nb fits, each on battles drawn with replacement from the table's (as many as it
 * has: a multinomial draw over its cells, the same as resampling the battles themselves),
 * round r from seed and r alone (the same results for any number of threads; threads 0: the
 * default). out: nb x nm ratings, row by row, as lm_ar_bt gives them (NAN where undefined). */
void lm_ar_bootstrap(const lm_ar_table *t, size_t anchor, int nb, uint64_t seed, int threads,
		     double *out);

/* The q-quantile of v[0..n) with NANs left out (v is sorted in place), linear between ranks as
 * numpy and pandas do; NAN when none is left. Infinities sort at the ends. */
double lm_ar_quantile(double *v, size_t n, double q);

/* One online Elo update (Chatbot Arena's compute_online_elo): score sa of a (1 win, 0 loss,
 * 0.5 tie), K factor k, scale 400, base 10. */
void lm_ar_elo_update(double *ra, double *rb, double sa, double k);

/* The length-controlled win rate of one model against the baseline, from its battles with it:
 * d[i] its response's length minus the baseline's, y[i] its score (1 win, 0 loss, 0.5 tie).
 * The logistic regression  P(win) = sigmoid(beta + phi * tanh(d / s)), s the sample standard
 * deviation of d (AlpacaEval 2's standardised length term), fitted by maximum likelihood
 * without penalty; LC = sigmoid(beta), the win rate with the length term at zero. */
enum {
	LM_AR_LC_OK,		/* the fit */
	LM_AR_LC_NO_SPREAD,	/* d all equal (or one battle): no length term, LC = the raw rate */
	LM_AR_LC_ALL_SAME,	/* every battle won (or every one lost): LC = raw = 1 (or 0) */
	LM_AR_LC_SEPARATED,	/* wins and losses split by length: no maximum, LC undefined (NAN) */
};
typedef struct lm_ar_lc {
	size_t n;
	double raw;		/* the mean of y */
	double lc;		/* sigmoid(beta) */
	double beta, phi, s;
	int status;
} lm_ar_lc;
void lm_ar_lc_fit(const double *d, const double *y, size_t n, lm_ar_lc *out);
#endif
