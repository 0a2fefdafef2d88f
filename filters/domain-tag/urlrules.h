/* urlrules.h - a page's domain (topic) from its URL: host suffixes, host labels and path
 * segments, from rule files (data/domain/rules.txt by default; syntax there). */
#ifndef DT_URLRULES_H
#define DT_URLRULES_H

#include <stddef.h>

#define DT_MAX_CATS 64

typedef struct dt_rules dt_rules;

dt_rules *dt_rules_new(void);
void dt_rules_free(dt_rules *r);
/* Add rules from a file, or "default" (the built-in rules); 0, or -1 with a message. */
int dt_rules_load(dt_rules *r, const char *path, char *err, size_t errlen);
/* The category the URL's rules give, or NULL. */
const char *dt_rules_match(const dt_rules *r, const char *url, size_t n);
/* The categories named by the rules, in order of first use (ncat returned). */
size_t dt_rules_categories(const dt_rules *r, const char *const **names);

#endif
