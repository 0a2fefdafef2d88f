/* model.h - a fastText-style text classifier: hashed word unigrams and bigrams and character
 * 4-grams of words, each an embedding row; a text is the mean of its rows; a linear layer and
 * softmax give the classes. Trained by SGD on labelled texts. */
#ifndef DT_MODEL_H
#define DT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define DT_MODEL_MAGIC "C2LMDTM1"

typedef struct dt_model {
	uint32_t buckets, dim, nclass;
	char **classes;
	float *emb;	/* buckets x dim */
	float *out;	/* dim x nclass */
} dt_model;

typedef struct dt_train_opts {
	uint32_t buckets, dim, epochs;
	float lr;
	uint64_t seed;
} dt_train_opts;

void dt_train_defaults(dt_train_opts *o);

/* Features of a text (at most max of them) into f; returns the count. */
size_t dt_features(const char *text, size_t n, uint32_t buckets, uint32_t *f, size_t max);

/* Train on texts[i] with class ids y[i] (0..nclass-1); classes are copied. */
dt_model *dt_train(const dt_train_opts *o, const char *const *texts, const size_t *lens, const int *y, size_t n,
		   char *const *classes, uint32_t nclass);
/* Class probabilities of a text into p[nclass]; returns the best class. */
int dt_predict(const dt_model *m, const char *text, size_t n, float *p);

/* Write / read the model file (magic, version, sizes, classes, weights, XXH64 checksum);
 * 0, or -1 with a message. */
int dt_model_save(const dt_model *m, const char *path, char *err, size_t errlen);
dt_model *dt_model_load(const char *path, char *err, size_t errlen);
void dt_model_free(dt_model *m);

#endif
