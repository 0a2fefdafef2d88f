/* tokstream.c - libFuzzer target: bpe-encode's token streams and llm.c shard headers from any
 * bytes: a clear error or the documents, never a crash or an id outside the vocabulary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "input.h"
#include "shard.h"
#include "tokstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("tokstream", data, size);
	cm_ts_header h;
	cm_ids ids = { 0 };
	cm_input *in;
	char err[256];
	uint64_t n = 0;
	size_t k;
	int r;

	if (size >= CM_SHARD_HEADER) {
		cm_shard_hdr sh;

		if (cm_shard_parse(data, (int64_t)size, &sh, err, sizeof err) == 0 &&
		    CM_SHARD_HEADER + sh.ntok * (uint64_t)sh.width != size)
			abort();
	}
	if (!(in = cm_input_open(path)))
		return 0;
	if (cm_ts_read_header(in, &h, err, sizeof err) == 0) {
		while ((r = cm_ts_read_doc(in, &h, &ids, &n, err, sizeof err)) > 0)
			for (k = 0; k < ids.n; k++)
				if (ids.v[k] >= h.vocab_size)
					abort();
	}
	cm_input_close(in);
	cm_ids_free(&ids);
	return 0;
}
