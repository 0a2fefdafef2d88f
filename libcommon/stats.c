/* stats.c - run statistics: counts, drop reasons, bytes and time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "output.h"
#include "stats.h"

void cm_stats_init(cm_stats *s, int argc, char **argv)
{
	cm_buf b = CM_BUF_INIT;
	cm_jw w;
	int i;

	memset(s, 0, sizeof(*s));
	s->start = cm_now();
	cm_jw_init(&w, &b);
	cm_jw_arr(&w);
	for (i = 1; i < argc; i++)
		cm_jw_str(&w, argv[i]);
	cm_jw_end(&w, ']');
	s->options = b.p;
}

void cm_stats_free(cm_stats *s)
{
	int i;

	for (i = 0; i < s->nreasons; i++)
		free(s->reason[i]);
	free(s->options);
	cm_buf_free(&s->extra);
	cm_buf_free(&s->failed);
	free(s->last_failed);
}

void cm_stats_drop_n(cm_stats *s, const char *reason, uint64_t n)
{
	int i;

	if (!n)
		return;
	s->dropped += n;
	for (i = 0; i < s->nreasons; i++)
		if (strcmp(s->reason[i], reason) == 0) {
			s->reason_n[i] += n;
			return;
		}
	if (s->nreasons == CM_STATS_MAX_REASONS)
		i = s->nreasons - 1;	/* the last slot collects the rest */
	else
		s->reason[s->nreasons++] = cm_xstrdup(reason);
	s->reason_n[i] += n;
}

void cm_stats_drop(cm_stats *s, const char *reason)
{
	cm_stats_drop_n(s, reason, 1);
}

void cm_stats_input_failed(cm_stats *s, const char *input, const char *reason)
{
	cm_jw w;

	if (s->last_failed && strcmp(s->last_failed, input) == 0)
		return;
	free(s->last_failed);
	s->last_failed = cm_xstrdup(input);
	if (s->failed.len)
		cm_buf_addc(&s->failed, ',');
	cm_jw_init(&w, &s->failed);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "input", input);
	cm_jw_key_str(&w, "reason", reason);
	cm_jw_end(&w, '}');
}

void cm_stats_extra(cm_stats *s, const char *key, const char *json)
{
	if (s->extra.len)
		cm_buf_addc(&s->extra, ',');
	cm_json_escape(&s->extra, key, strlen(key));
	cm_buf_addc(&s->extra, ':');
	cm_buf_adds(&s->extra, json);
}

void cm_stats_write(const cm_stats *s, const char *path)
{
	cm_buf b = CM_BUF_INIT, list = CM_BUF_INIT;
	cm_jw w;
	char err[4200];
	int i;

	cm_jw_init(&w, &b);
	cm_jw_obj(&w);
	cm_jw_key_str(&w, "program", cm_prog);
	cm_jw_key_str(&w, "version", CM_VERSION);
	cm_jw_key(&w, "options");
	cm_jw_raw(&w, s->options, strlen(s->options));
	cm_jw_key_uint(&w, "read", s->read);
	cm_jw_key_uint(&w, "kept", s->kept);
	cm_jw_key_uint(&w, "dropped", s->dropped);
	cm_jw_key(&w, "dropped_by_reason");
	cm_jw_obj(&w);
	for (i = 0; i < s->nreasons; i++)
		cm_jw_key_uint(&w, s->reason[i], s->reason_n[i]);
	cm_jw_end(&w, '}');
	cm_jw_key_uint(&w, "malformed", s->malformed);
	cm_jw_key_uint(&w, "bytes_in", s->bytes_in);
	cm_jw_key_uint(&w, "bytes_out", s->bytes_out);
	cm_jw_key_double(&w, "seconds", cm_now() - s->start);
	cm_jw_key(&w, "failed_inputs");
	cm_buf_reset(&list);
	cm_buf_addc(&list, '[');
	cm_buf_add(&list, s->failed.p, s->failed.len);
	cm_buf_addc(&list, ']');
	cm_jw_raw(&w, list.p, list.len);
	if (s->extra.len) {
		/* program-specific members */
		cm_buf_addc(&b, ',');
		cm_buf_add(&b, s->extra.p, s->extra.len);
	}
	cm_jw_end(&w, '}');
	cm_buf_addc(&b, '\n');
	/* replaced whole: a build that reads it never sees half a file */
	if (cm_afile_put(path, b.p, b.len, err, sizeof(err)) < 0)
		cm_die("%s", err);
	cm_buf_free(&b);
	cm_buf_free(&list);
}

void cm_stats_summary(const cm_stats *s)
{
	double secs = cm_now() - s->start;

	fprintf(stderr, "%s: read %llu, kept %llu, dropped %llu, malformed %llu, "
		"%.1f MB in, %.1f MB out, %.2f s, %.1f MB/s\n", cm_prog,
		(unsigned long long)s->read, (unsigned long long)s->kept,
		(unsigned long long)s->dropped, (unsigned long long)s->malformed,
		(double)s->bytes_in / 1e6, (double)s->bytes_out / 1e6, secs,
		secs > 0 ? (double)s->bytes_in / 1e6 / secs : 0.0);
}
