/* judge.h - lm-judge's pieces that need no network: the input record (a prompt and two
 * responses, or an HH-RLHF chosen/rejected pair), the judge prompt's template, and the verdict
 * read from the judge's answer.
 *
 * Needs only jansson and sft.c (the HH-RLHF transcript reader), so the fuzz target links it
 * alone. */
#ifndef LM_JUDGE_H
#define LM_JUDGE_H
#include <stddef.h>

#include "buf.h"

/* The default judge prompt (pairwise, in the style of AlpacaFarm's and MT-Bench's: the
 * request, the two responses, answer with one letter). {prompt}, {response_a} and
 * {response_b} are replaced; "{{" and "}}" are literal braces. */
extern const char lm_judge_default_template[];

/* what a judge said */
enum { LM_JV_NONSENSE = -1, LM_JV_A = 0, LM_JV_B = 1, LM_JV_TIE = 2 };

/* The verdict in an answer: MT-Bench's "[[A]]", "[[B]]" or "[[C]]" (a tie) wherever it first
 * is; otherwise the answer's first word when it is "A" or "B" (after opening spaces, quotes,
 * asterisks and brackets), or "A"/"B"/"(a)"/"(b)" after a first word "Output", "Response",
 * "Answer" or "Option" (any case), as in "Output (a)" or "Response B". A word is a run of
 * letters and digits: "Absolutely" is not "A". Anything else is LM_JV_NONSENSE. */
int lm_judge_verdict(const char *s, size_t n);

/* Why a record cannot be judged */
enum {
	LM_JR_OK,
	LM_JR_NOT_JSON,		/* not a JSON object */
	LM_JR_NO_PAIR,		/* none of the three forms */
	LM_JR_BAD_FIELD,	/* a field of the wrong type, or an empty response */
	LM_JR_BAD_HH,		/* not an HH-RLHF transcript, or chosen and rejected differ before
				 * their last response, or that is not the assistant's */
	LM_JR_NREASONS
};
extern const char *const lm_judge_reason[LM_JR_NREASONS];

/* One record. Spans point into the record's parsed JSON (kept in j) or its line. */
typedef struct lm_judge_rec {
	const char *prompt, *a, *b;	/* what the judge sees */
	size_t np, na, nb;
	/* what a preference pair is made of: for an HH-RLHF pair the transcript up to and with
	 * the last "\n\nAssistant:", and the last responses as written (TRL's split); else
	 * the same as above */
	const char *out_prompt, *out_a, *out_b;
	size_t nop, noa, nob;
	const char *model_a, *model_b;	/* NULL when not named */
	int label;		/* a human's preference: -1 none, LM_JV_A, LM_JV_B or LM_JV_TIE */
	void *j;		/* the parsed record (json_t) */
} lm_judge_rec;

/* Parse one JSONL record: {"prompt", "response_a", "response_b"} (optionally "model_a",
 * "model_b", and a human "winner": "model_a", "model_b", "tie" or "tie (bothbad)"),
 * {"prompt", "responses": [a, b]}, or an HH-RLHF {"chosen", "rejected"} pair (a = chosen, the
 * label A). LM_JR_OK, or a reason with a message in why; lm_judge_rec_free after either. */
int lm_judge_parse(const char *line, size_t n, lm_judge_rec *r, char *why, size_t whylen);
void lm_judge_rec_free(lm_judge_rec *r);

/* Check a template: it must hold {prompt}, {response_a} and {response_b}, and no other
 * "{name}". 0, or -1 with the reason. */
int lm_judge_template_check(const char *t, char *err, size_t errlen);
/* The template with the fields filled in, into b (appended). */
void lm_judge_render(cm_buf *b, const char *t, const char *prompt, size_t np, const char *ra,
		     size_t na, const char *rb, size_t nb);
#endif
