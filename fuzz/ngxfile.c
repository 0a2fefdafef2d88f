/* ngxfile.c - libFuzzer target: n-gram index files (libcommon/ngx.h) from any bytes, read to
 * the end: a clear error or the hashes, never a crash; a hash reported is above the one
 * before; a file reported whole (0) has exactly the count its header and size promise. */
#include <stdint.h>
#include <stdlib.h>

#include "file.h"
#include "ngx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("ngxfile", data, size);
	static cm_ngx_reader r;
	char err[512];
	uint64_t h, last = 0, n = 0;
	int st;

	if (cm_ngx_open(&r, path, err, sizeof(err)) != 0)
		return 0;
	while ((st = cm_ngx_next(&r, &h, err, sizeof(err))) > 0) {
		if (n && h <= last)
			abort();
		last = h;
		n++;
	}
	if (st == 0 && n != r.count)
		abort();
	cm_ngx_close(&r);
	return 0;
}
