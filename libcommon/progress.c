/* progress.c - one updating progress line on stderr. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

void cm_progress_init(cm_progress *p, int on, uint64_t total_bytes)
{
	p->tty = isatty(2);
	p->on = on < 0 ? p->tty && cm_verbosity >= 0 : on;
	p->start = p->last = cm_now();
	p->total = total_bytes;
	p->drawn = 0;
}

static void draw(cm_progress *p, uint64_t records, uint64_t bytes_done, double now)
{
	double secs, rate;

	secs = now - p->start;
	rate = secs > 0 ? (double)bytes_done / secs : 0;
	fprintf(stderr, "%s%s: %llu records, %.1f MB, %.1f MB/s", p->tty ? "\r" : "", cm_prog,
		(unsigned long long)records, (double)bytes_done / 1e6, rate / 1e6);
	if (p->total && bytes_done <= p->total && rate > 0) {
		double eta = (double)(p->total - bytes_done) / rate;

		fprintf(stderr, ", %.0f%%, ETA %d:%02d", 100.0 * (double)bytes_done / (double)p->total,
			(int)eta / 60, (int)eta % 60);
	}
	/* on a terminal: clear the rest of the line; elsewhere: one line per update */
	fputs(p->tty ? "\033[K" : "\n", stderr);
	p->drawn = 1;
}

void cm_progress_update(cm_progress *p, uint64_t records, uint64_t bytes_done)
{
	double now;

	if (!p->on || (records & 63))
		return;
	now = cm_now();
	if (now - p->last < 0.25)
		return;
	p->last = now;
	draw(p, records, bytes_done, now);
}

void cm_progress_end(cm_progress *p, uint64_t records, uint64_t bytes_done)
{
	if (!p->on)
		return;
	/* the final state stays on screen */
	draw(p, records, bytes_done, cm_now());
	if (p->tty)
		fputc('\n', stderr);
	p->drawn = 0;
}
