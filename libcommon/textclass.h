/* textclass.h - a fastText-style linear text classifier: the words of a text, its runs of up to
 * word_ngrams adjacent words and (char_n > 0) the character char_n-grams of each word, hashed
 * into `buckets` embedding rows; a text is the mean of its rows; a linear layer and a softmax
 * give the labels. Trained by SGD on labelled texts; a checksummed file. domain-tag labels
 * topics with it, quality-score scores quality; both train it from labelled JSONL
 * (cm_tc_train_file) with the same options (cm_tc_opt_table). */
#ifndef CM_TEXTCLASS_H
#define CM_TEXTCLASS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "opt.h"

#define CM_TC_MAGIC "C2LMDTM1"
#define CM_TC_MAX_NGRAMS 5
#define CM_TC_MAX_CHAR_N 8

typedef struct cm_tc_model {
	uint32_t buckets, dim, nclass;
	uint32_t word_ngrams;	/* 1: words; 2: and adjacent pairs; ... */
	uint32_t char_n;	/* 0: no character n-grams */
	char **classes;
	float *emb;	/* buckets x dim */
	float *out;	/* dim x nclass */
} cm_tc_model;

typedef struct cm_tc_opts {
	uint32_t buckets, dim, epochs, word_ngrams, char_n;
	float lr;
	uint64_t seed;
	double holdout;		/* the share of records kept out to measure (by a hash of the id) */
	const char *positive;	/* the label whose precision and recall are reported */
	double threshold;	/* ... at this probability */
} cm_tc_opts;

/* Defaults: domain-tag's (words, pairs, character 4-grams, 16 wide) */
void cm_tc_defaults(cm_tc_opts *o);

/* The training options as rows for a program's table (CM_OPT_INCLUDE), help texts giving the
 * defaults o holds now. One table a process: it is static. */
const cm_opt *cm_tc_opt_table(cm_tc_opts *o);

/* Features of a text (at most max of them) into f; returns the count. */
size_t cm_tc_features(const cm_tc_model *m, const char *text, size_t n, uint32_t *f, size_t max);

/* Train on texts[i] with label ids y[i] (0..nclass-1); the labels are copied. */
cm_tc_model *cm_tc_train(const cm_tc_opts *o, const char *const *texts, const size_t *lens,
			 const int *y, size_t n, char *const *classes, uint32_t nclass);

/* Label probabilities of a text into p[nclass]; returns the best label. */
int cm_tc_predict(const cm_tc_model *m, const char *text, size_t n, float *p);

/* The index of a label, or -1 */
int cm_tc_class(const cm_tc_model *m, const char *label);

/* Write / read the model file (magic, version, sizes, labels, weights, XXH64 checksum);
 * 0, or -1 with a message. Version 1 files (domain-tag's before word_ngrams and char_n were
 * settable) read as word pairs and character 4-grams. */
int cm_tc_save(const cm_tc_model *m, const char *path, char *err, size_t errlen);
cm_tc_model *cm_tc_load(const char *path, char *err, size_t errlen);
void cm_tc_free(cm_tc_model *m);

/* The label of a record that has no "label" field (NULL: none), e.g. from its URL */
typedef const char *(*cm_tc_labeler)(void *ctx, const cm_jrec *rec);

/* Train on the records of path (text_field, and "label" or what fn says; the "id" field
 * decides the held-out share), report the held-out accuracy (and the positive label's precision
 * and recall) on stderr, write the model to out. 0, or 1 after an error message. At most
 * max_bytes of text are held (the rest of the file is refused with an error, not dropped). */
int cm_tc_train_file(const cm_tc_opts *o, const char *path, const char *out, const char *text_field,
		     size_t max_line, size_t max_bytes, cm_tc_labeler fn, void *ctx);

#endif
