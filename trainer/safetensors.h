/* safetensors.h - reading and writing safetensors files (Hugging Face's weight format).
 *
 * A file is an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and [begin, end) byte offsets into the data that follows, then the data. Reading maps
 * the file and checks every size and offset before use: a truncated or hostile file is an
 * error with a message, never a read outside the map.
 */
#ifndef CM_SAFETENSORS_H
#define CM_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { CM_ST_F32, CM_ST_BF16, CM_ST_F16, CM_ST_I32, CM_ST_I64, CM_ST_U8, CM_ST_F64 } cm_st_dtype;

#define CM_ST_MAXDIM 8

typedef struct cm_st_tensor {
	char *name;
	cm_st_dtype dtype;
	int ndim;
	int64_t shape[CM_ST_MAXDIM];
	int64_t n;		/* elements */
	const void *data;
	size_t bytes;
} cm_st_tensor;

typedef struct cm_st {
	char *path;
	void *map;
	size_t size;
	cm_st_tensor *t;
	size_t n;
	char *metadata_json;	/* the "__metadata__" object as JSON text, or NULL */
} cm_st;

cm_st *cm_st_open(const char *path, char *err, size_t errlen);
void cm_st_close(cm_st *st);
const cm_st_tensor *cm_st_find(const cm_st *st, const char *name);
const char *cm_st_dtype_name(cm_st_dtype dt);
size_t cm_st_dtype_size(cm_st_dtype dt);
/* Convert n elements starting at element off of a floating-point tensor to fp32. */
int cm_st_to_f32(const cm_st_tensor *t, int64_t off, int64_t n, float *dst);
/* A metadata value (string) from __metadata__, or NULL. Returned string is malloc'd. */
char *cm_st_meta(const cm_st *st, const char *key);

/* Writing: collect tensors (their data must stay valid until cm_st_write), then write. */
typedef struct cm_st_writer cm_st_writer;
cm_st_writer *cm_st_writer_new(void);
void cm_st_writer_add(cm_st_writer *w, const char *name, cm_st_dtype dt, int ndim,
		      const int64_t *shape, const void *data);
/* A tensor whose data is made while the file is written, in order, a piece of at most piece
 * bytes at a time: fill(ctx, off, n, buf) puts bytes [off, off + n) of it into buf (its
 * pieces come in order, from 0, after those of the tensors added before it; none after a
 * write fails). The memory a write takes is one piece, not the tensor. */
void cm_st_writer_add_fill(cm_st_writer *w, const char *name, cm_st_dtype dt, int ndim,
			   const int64_t *shape, size_t piece,
			   void (*fill)(void *ctx, size_t off, size_t n, void *buf), void *ctx);
void cm_st_writer_meta(cm_st_writer *w, const char *key, const char *value);
/* Writes the file (fsync'd before close). 0, or -1 with the reason in err. */
int cm_st_write(cm_st_writer *w, const char *path, char *err, size_t errlen);
void cm_st_writer_free(cm_st_writer *w);
#endif
