/* pii-scrub - find personal data and secrets in each record's text and replace them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "filter.h"
#include "jsonw.h"
#include "pii.h"

enum { MODE_TAG, MODE_DATATROVE, MODE_PSEUDONYM, MODE_REMOVE, MODE_COUNT };
static const char *const mode_names[] = { "tag", "datatrove", "pseudonym", "remove", "count", NULL };

static const cm_opt_info info = {
	"[OPTION]... [FILE]...",
	"Find personal data and secrets in each record's text and replace them; counts per\n"
	"kind go to metadata.pii. Every record is kept.\n",
	CM_FILTER_EPILOG, CM_FILTER_VERBOSE
};

static const char *const tags[PII_NKINDS] = { "<EMAIL>", "<IP_ADDRESS>", "<PHONE_NUMBER>", "<CREDIT_CARD>",
					      "<IBAN>", "<US_SSN>", "<SECRET>" };
static const char *const tag_names[PII_NKINDS] = { "EMAIL", "IP_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD",
						   "IBAN", "US_SSN", "SECRET" };

/* datatrove's PIIFormatter defaults: used in turn, over the whole run */
static const char *const dt_email[] = { "email@example.com", "firstname.lastname@example.org" };
static const char *const dt_ip[] = { "22.214.171.124", "126.96.36.199", "188.8.131.52",
				     "184.108.40.206", "220.127.116.11", "18.104.22.168" };

struct ctx {
	pii_scanner *scan;
	int mode, spans;
	uint64_t key;
	size_t dt_email_i, dt_ip_i;
	uint64_t found[PII_NKINDS], with_pii, without_text;
	cm_buf text, meta;
};

static void parse_kinds(const cm_opt *opt, const char *arg)
{
	unsigned kinds = 0;
	const char *p = arg;

	while (*p) {
		size_t n = strcspn(p, ","), k;

		for (k = 0; k < PII_NKINDS; k++)
			if (strlen(pii_kind_name[k]) == n && strncmp(p, pii_kind_name[k], n) == 0)
				break;
		if (k == PII_NKINDS)
			cm_usage_error("option '--kinds': unknown kind '%.*s' (email, ip, phone, card, iban, ssn, secret)",
				       (int)n, p);
		kinds |= 1u << k;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!kinds)
		cm_usage_error("option '--kinds' wants at least one kind");
	((pii_opts *)opt->ctx)->kinds = kinds;
}

static void replacement(struct ctx *c, const char *text, const pii_match *m)
{
	char t[64];

	switch (c->mode) {
	case MODE_TAG:
		cm_buf_adds(&c->text, tags[m->kind]);
		break;
	case MODE_DATATROVE:
		if (m->kind == PII_EMAIL) {
			cm_buf_adds(&c->text, dt_email[c->dt_email_i]);
			c->dt_email_i = (c->dt_email_i + 1) % (sizeof(dt_email) / sizeof(*dt_email));
		} else if (m->kind == PII_IP) {
			cm_buf_adds(&c->text, dt_ip[c->dt_ip_i]);
			c->dt_ip_i = (c->dt_ip_i + 1) % (sizeof(dt_ip) / sizeof(*dt_ip));
		} else {
			cm_buf_adds(&c->text, tags[m->kind]);
		}
		break;
	case MODE_PSEUDONYM:
		snprintf(t, sizeof(t), "<%s_%08x>", tag_names[m->kind],
			 (unsigned)XXH3_64bits_withSeed(text + m->off, m->len, c->key ^ (uint64_t)m->kind));
		cm_buf_adds(&c->text, t);
		break;
	default:	/* remove */
		break;
	}
}

static const char *one(cm_filter *f, const cm_jrec *rec, void *p)
{
	struct ctx *c = p;
	const cm_jfield *t = cm_jrec_get(rec, f->text_field);
	const pii_match *m;
	size_t nm, i, at = 0;
	unsigned counts[PII_NKINDS] = { 0 };
	cm_jw w;
	int k;

	if (!t || !t->str) {
		c->without_text++;	/* kept as it is */
		return NULL;
	}
	nm = pii_find(c->scan, t->str, t->str_len, &m);
	for (i = 0; i < nm; i++)
		counts[m[i].kind]++;
	if (nm && c->mode != MODE_COUNT) {
		cm_buf_reset(&c->text);
		for (i = 0; i < nm; i++) {
			cm_buf_add(&c->text, t->str + at, m[i].off - at);
			replacement(c, t->str, &m[i]);
			at = m[i].off + m[i].len;
		}
		cm_buf_add(&c->text, t->str + at, t->str_len - at);
		cm_rw_set_str(&f->rw, f->text_field, c->text.p, c->text.len);
	}
	cm_buf_reset(&c->meta);
	cm_jw_init(&w, &c->meta);
	cm_jw_obj(&w);
	cm_jw_key_uint(&w, "total", nm);
	for (k = 0; k < PII_NKINDS; k++)
		if (counts[k]) {
			cm_jw_key_uint(&w, pii_kind_name[k], counts[k]);
			c->found[k] += counts[k];
		}
	if (c->spans) {
		cm_jw_key(&w, "spans");
		cm_jw_arr(&w);
		for (i = 0; i < nm; i++) {
			cm_jw_arr(&w);
			cm_jw_uint(&w, m[i].off);
			cm_jw_uint(&w, m[i].len);
			cm_jw_str(&w, pii_kind_name[m[i].kind]);
			cm_jw_end(&w, ']');
		}
		cm_jw_end(&w, ']');
	}
	cm_jw_end(&w, '}');
	cm_rw_meta_raw(&f->rw, "pii", c->meta.p, c->meta.len);
	c->with_pii += nm > 0;
	return NULL;
}

static uint64_t random_key(void)
{
	uint64_t k = 0;
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, &k, sizeof(k)) != (ssize_t)sizeof(k))
		cm_die("cannot read /dev/urandom for the pseudonyms' salt (give --salt)");
	close(fd);
	return k;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	pii_opts o = { (1u << PII_NKINDS) - 1, 0 };
	const char *salt = NULL;
	cm_filter f;
	int k;

	cm_filter_init(&f, argc, argv);
	const cm_opt opts[] = {
		CM_OPT_GROUP("What to find:"),
		CM_OPT_CALLBACK(0, "kinds", parse_kinds, &o, "LIST",
				"of email, ip, phone, card, iban, ssn, secret (comma-separated;\n"
				"default: all)"),
		CM_OPT_FLAG(0, "all-ips", &o.all_ips,
			    "private, loopback and reserved addresses too (default: public\n"
			    "ones only, as datatrove)"),
		CM_OPT_GROUP("How to replace:"),
		CM_OPT_CHOICE(0, "mode", &c.mode, "MODE",  mode_names,
			      "tag (default): <EMAIL>, <IP_ADDRESS>, <PHONE_NUMBER>,\n"
			      "<CREDIT_CARD>, <IBAN>, <US_SSN>, <SECRET>;\n"
			      "datatrove: e-mail and IP addresses as datatrove's PIIFormatter\n"
			      "replaces them (example addresses in turn), the rest as tags;\n"
			      "pseudonym: <EMAIL_1a2b3c4d>, the same for the same value in a\n"
			      "run (a keyed hash); remove: nothing; count: find and count only"),
		CM_OPT_STRING(0, "salt", &salt, "TEXT",
			      "the pseudonyms' key (default: random for each run; give one to\n"
			      "keep pseudonyms the same across runs)"),
		CM_OPT_FLAG(0, "spans", &c.spans,
			    "also record where each find was: metadata.pii.spans, a list of\n"
			    "[byte offset, byte length, kind] in the original text"),
		CM_OPT_INCLUDE(cm_filter_opts(&f, CM_FILTER_ALL)),
		CM_OPT_END()
	};
	int nf = cm_opt_parse(argc, argv, opts, &info);
	char **files = argv + 1;

	c.key = salt ? XXH3_64bits(salt, strlen(salt)) : c.mode == MODE_PSEUDONYM ? random_key() : 0;
	c.scan = pii_new(&o);
	f.json = cm_json_new();
	cm_json_want(f.json, f.text_field);
	cm_filter_start(&f, cm_filter_total_size(files, nf));
	cm_filter_run(&f, files, nf, one, &c);
	{
		cm_buf b = CM_BUF_INIT;
		cm_jw w;

		cm_jw_init(&w, &b);
		cm_jw_obj(&w);
		cm_jw_key_uint(&w, "records_with_pii", c.with_pii);
		cm_jw_key_uint(&w, "records_without_text", c.without_text);
		for (k = 0; k < PII_NKINDS; k++)
			cm_jw_key_uint(&w, pii_kind_name[k], c.found[k]);
		cm_jw_end(&w, '}');
		cm_stats_extra(&f.stats, "pii", b.p);
		if (cm_verbosity > 0)
			cm_info("found: %llu e-mail, %llu ip, %llu phone, %llu card, %llu iban, %llu ssn, %llu secret; "
				"%llu records without text",
				(unsigned long long)c.found[0], (unsigned long long)c.found[1],
				(unsigned long long)c.found[2], (unsigned long long)c.found[3],
				(unsigned long long)c.found[4], (unsigned long long)c.found[5],
				(unsigned long long)c.found[6], (unsigned long long)c.without_text);
		cm_buf_free(&b);
	}
	pii_free(c.scan);
	cm_buf_free(&c.text);
	cm_buf_free(&c.meta);
	return cm_filter_finish(&f);
}
