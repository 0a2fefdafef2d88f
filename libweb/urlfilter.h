/* urlfilter.h - dropping pages by URL before anything of them is decoded, with the rules of
 * datatrove's URLFilter (FineWeb's first filter): blocked domains (a URL's registrable domain,
 * found with the Public Suffix List's ICANN section as tldextract finds it, or its whole host,
 * compared as written), exact URLs, banned words (the URL's runs of ASCII letters and digits,
 * case kept), soft words (as many distinct ones as the threshold) and sub-words (inside the URL
 * reduced to its letters and digits, lower-cased). Lists of millions are sets of 64-bit hashes.
 *
 * A filter file, one item a line ('#' starts a comment line):
 *   example.com          a domain (lower-cased, without a leading "*." or "." or a trailing ".")
 *   url https://x.y/z    an exact URL
 *   word W               a banned word (W reduced to its letters and digits, lower-cased)
 *   soft W               a soft-banned word
 *   sub S                a banned sub-word
 *   soft-threshold N     1..64 (default 2)
 * A plain list of domains (UT1's domains files, for one) is a filter file. "default" names
 * the built-in lists: datatrove 0.10.1's integrated ones (data/urlfilter/).
 */
#ifndef CM_URLFILTER_H
#define CM_URLFILTER_H

#include <stddef.h>

#include "opt.h"

typedef struct cm_urlfilter cm_urlfilter;

cm_urlfilter *cm_urlfilter_new(void);
/* The --url-filter FILE option's callback (opt.h), its ctx a cm_urlfilter ** made on first
 * use: loads each file given; a file that cannot be read is a usage error. */
void cm_urlfilter_option(const cm_opt *opt, const char *value);
void cm_urlfilter_free(cm_urlfilter *u);

/* Add a filter file (or "default"); returns 0, or -1 with a message in err. */
int cm_urlfilter_load(cm_urlfilter *u, const char *path, char *err, size_t errlen);

/* Add one line of the file syntax; returns 0, or -1 (unknown directive). */
int cm_urlfilter_add_line(cm_urlfilter *u, const char *line, size_t n);

/* NULL when the URL may pass, else why not, the first that applies in this order:
 * "url_domain", "url_exact", "url_word", "url_soft_words", "url_subword"; "url_missing" for
 * an empty URL. A URL without a host is judged by its words. */
const char *cm_urlfilter_check(const cm_urlfilter *u, const char *url, size_t n);

/* The URL's host, lower-cased, without port, user and trailing point, into out (size
 * outlen); returns its length, 0 when none (or when it holds a control byte or a space).
 * (domain-tag's URL rules; the filter finds hosts as tldextract does.) */
size_t cm_url_host(const char *url, size_t n, char *out, size_t outlen);

/* Counts loaded: domains, URLs, words, soft words, substrings. */
void cm_urlfilter_sizes(const cm_urlfilter *u, size_t *domains, size_t *urls, size_t *words, size_t *soft,
			size_t *subs);

#endif
