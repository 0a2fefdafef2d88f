/* progress.c - progress on stderr: a line redrawn in place on a terminal, lines elsewhere. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
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

int cm_progress_filter_auto(int on)
{
	struct stat st;
	if (on < 0 && fstat(1, &st) == 0 && S_ISFIFO(st.st_mode))
		return 0;
	return on;
}

/* One line: on a terminal back to its start, the text, the rest of the line cleared;
 * elsewhere the text and a newline. */
static void emit(cm_progress *p, const char *text)
{
	fprintf(stderr, "%s%s: %s%s", p->tty ? "\r" : "", cm_prog, text, p->tty ? "\033[K" : "\n");
	p->drawn = 1;
}

static void draw(cm_progress *p, uint64_t records, uint64_t bytes_done, double now)
{
	double secs, rate;
	char b[256];
	int n;

	secs = now - p->start;
	rate = secs > 0 ? (double)bytes_done / secs : 0;
	n = snprintf(b, sizeof b, "%llu records, %.1f MB, %.1f MB/s", (unsigned long long)records,
		     (double)bytes_done / 1e6, rate / 1e6);
	if (p->total && bytes_done <= p->total && rate > 0) {
		double eta = (double)(p->total - bytes_done) / rate;

		snprintf(b + n, sizeof b - n, ", %.0f%%, ETA %d:%02d",
			 100.0 * (double)bytes_done / (double)p->total, (int)eta / 60, (int)eta % 60);
	}
	emit(p, b);
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

void cm_progress_line(cm_progress *p, const char *fmt, ...)
{
	char b[512];
	va_list ap;

	if (!p->on)
		return;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	emit(p, b);
}

void cm_progress_break(cm_progress *p)
{
	if (p->on && p->tty && p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
