/* pii.h - finding personal data and secrets in text: e-mail addresses, IP addresses, phone
 * numbers, payment cards, IBANs, US social security numbers, credentials.
 *
 * Cheap byte triggers ('@', digits, ':', '=', a few rare letter pairs) find the places
 * worth a look; there an anchored PCRE2 pattern (JIT, match and depth limits) checks the
 * shape and a validator the content (Luhn, mod 97, address ranges, number plans, entropy).
 * Every pattern is bounded, and the scan goes on after each match: time is linear in the
 * text, whatever it holds.
 */
#ifndef PII_H
#define PII_H

#include <stddef.h>

enum pii_kind {
	PII_EMAIL,
	PII_IP,
	PII_PHONE,
	PII_CARD,
	PII_IBAN,
	PII_SSN,
	PII_SECRET,
	PII_NKINDS
};

/* names: "email", "ip", "phone", "card", "iban", "ssn", "secret" */
extern const char *const pii_kind_name[PII_NKINDS];

typedef struct pii_opts {
	unsigned kinds;		/* bit k: look for kind k */
	int all_ips;		/* private, loopback, reserved addresses too (default: public only) */
} pii_opts;

typedef struct pii_match {
	size_t off, len;	/* bytes of the text */
	int kind;
} pii_match;

typedef struct pii_scanner pii_scanner;

/* Compile the patterns (dies on failure: they are built in). */
pii_scanner *pii_new(const pii_opts *o);
void pii_free(pii_scanner *s);

/* The matches in text, in order, not overlapping; valid until the next call. */
size_t pii_find(pii_scanner *s, const char *text, size_t n, const pii_match **out);

/* Validators, for tests. */
int pii_luhn(const char *digits, size_t n);
int pii_iban_valid(const char *s, size_t n);	/* spaces allowed between groups */
int pii_ip_public(const char *s, size_t n);	/* 1 public, 0 not public, -1 not an address */

#endif
