/* dedupfiles.c - libFuzzer target: dedup-minhash's signature files and duplicate lists from any
 * bytes. Each is opened as both kinds and read to the end, signatures included: a clear error
 * or the records, never a crash; a file read twice gives the same verdict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "sigfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_sig(const char *path)
{
	static uint64_t band[4096];
	static uint32_t sig[4096], sig2[4096];
	dm_sigrec r = { 0 };
	dm_br br;
	int st;

	r.band = band;
	r.sig = sig;
	if (dm_sig_open(&br, path) != 0) {
		dm_br_close(&br);
		return -1;
	}
	while ((st = dm_sig_next(&br, &r)) > 0)
		if (br.p.flags & DM_P_VERIFY && dm_sig_signature(&br, br.i - 1, sig2) == 0 &&
		    memcmp(sig, sig2, 4 * (size_t)br.p.bands * br.p.rows) != 0)
			abort();	/* read in place, it must be what the pass read */
	dm_br_close(&br);
	return st;
}

static int read_dup(const char *path)
{
	dm_dupent e;
	dm_br br;
	int st;

	if (dm_dup_open(&br, path) != 0) {
		dm_br_close(&br);
		return -1;
	}
	while ((st = dm_dup_next(&br, &e)) > 0)
		;
	if (dm_br_rewind(&br) == 0) {	/* a second pass, the same end */
		int st2;

		while ((st2 = dm_dup_next(&br, &e)) > 0)
			;
		if (st2 != st)
			abort();
	}
	dm_br_close(&br);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("dedupfiles", data, size);

	read_sig(path);
	read_dup(path);
	return 0;
}
