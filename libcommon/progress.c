/* progress.c - one updating progress line on stderr. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

void cm_progress_init(cm_progress *p, int on, uint64_t total_bytes)
{
	p->on = on < 0 ? isatty(2) && cm_verbosity >= 0 : on;
	p->start = p->last = cm_now();
	p->total = total_bytes;
	p->drawn = 0;
}

void cm_progress_update(cm_progress *p, uint64_t records, uint64_t bytes_done)
{
	double now, secs, rate;

	if (!p->on || (records & 63))
		return;
	now = cm_now();
	if (now - p->last < 0.25)
		return;
	p->last = now;
	secs = now - p->start;
	rate = secs > 0 ? (double)bytes_done / secs : 0;
	fprintf(stderr, "\r%s: %llu records, %.1f MB, %.1f MB/s", cm_prog,
		(unsigned long long)records, (double)bytes_done / 1e6, rate / 1e6);
	if (p->total && bytes_done <= p->total && rate > 0) {
		double eta = (double)(p->total - bytes_done) / rate;

		fprintf(stderr, ", %.0f%%, ETA %d:%02d", 100.0 * (double)bytes_done / (double)p->total,
			(int)eta / 60, (int)eta % 60);
	}
	fprintf(stderr, "\033[K");
	p->drawn = 1;
}

void cm_progress_end(cm_progress *p)
{
	if (p->on && p->drawn)
		fprintf(stderr, "\r\033[K");
	p->drawn = 0;
}
