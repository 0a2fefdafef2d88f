/* 4010-pii.c - pii-scrub's finder: each kind on planted examples and on look-alikes that
 * are not (versions, dates, ISBNs, prices, hashes, coordinates, code), the validators, and
 * hostile input (megabytes of digits, points, '@' and near-matches) under a hang guard. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pii.h"
#include "tap.h"

static pii_scanner *all, *all_ips;

/* the finds in text as "kind:text|kind:text" */
static const char *finds(pii_scanner *s, const char *text)
{
	static char out[4096];
	const pii_match *m;
	size_t n = pii_find(s, text, strlen(text), &m), i, at = 0;

	out[0] = '\0';
	for (i = 0; i < n && at < sizeof(out) - 200; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s:%.*s", i ? "|" : "", pii_kind_name[m[i].kind],
				       (int)m[i].len, text + m[i].off);
	return out;
}

static const struct {
	const char *text, *want;
} cases[] = {
	/* e-mail */
	{ "mail john.doe@example.com now", "email:john.doe@example.com" },
	{ "<jane_smith+news@mail.co.uk>", "email:jane_smith+news@mail.co.uk" },
	{ "mailto:a.b-c@sub.domain.org.", "email:a.b-c@sub.domain.org" },
	{ "follow @handle and a@b", "" },
	{ "user@localhost and x@1.2.3.4", "" },
	{ "..lead@example.com", "email:lead@example.com" },
	/* IP */
	{ "server 93.184.216.34 answered", "ip:93.184.216.34" },
	{ "local 192.168.1.1 and 10.0.0.8 and 127.0.0.1", "" },
	{ "doc 203.0.113.5, 198.51.100.7 and 192.0.2.1", "" },
	{ "version 1.2.3.4 and 8.8.8.8", "" },
	{ "release 23.45.67.89 out", "" },
	{ "999.1.1.1 and 01.2.3.4 and 1.2.3.4.5", "" },
	{ "8.6.4.10. Class Patterns", "" },
	{ "v6 2001:4860:4860::8888 up", "ip:2001:4860:4860::8888" },
	{ "doc 2001:db8::1, fe80::1 and ::1", "" },
	{ "std::vector, a::b and 10:30:45", "" },
	/* phone */
	{ "call (212) 555-0199 today", "phone:(212) 555-0199" },
	{ "or 212-555-0199.", "phone:212-555-0199" },
	{ "tel +44 20 7946 0958", "phone:+44 20 7946 0958" },
	{ "+1 415 555 2671 is", "phone:+1 415 555 2671" },
	{ "ring 020 7946 0958 now", "phone:020 7946 0958" },
	{ "Phone: 5551234567", "phone:5551234567" },
	{ "212-555.0199 mixed", "" },
	{ "date 2020-10-12 and 12/05/2020", "" },
	{ "ISBN 978-3-16-148410-0 and 0-306-40615-2", "" },
	{ "price $1,234.56 and 3.14159265358979", "" },
	{ "coordinates 51.5074, -0.1278", "" },
	{ "call_stack.py:23 156641360518804", "" },
	/* card */
	{ "card 4111 1111 1111 1111 expires", "card:4111 1111 1111 1111" },
	{ "amex 3782-822463-10005.", "card:3782-822463-10005" },
	{ "4111-1111-1111-1112 bad luhn", "" },
	{ "9781234567897 isbn-like", "" },
	{ "4111 1111-1111 1111 mixed", "" },
	/* IBAN */
	{ "IBAN DE89 3704 0044 0532 0130 00 here", "iban:DE89 3704 0044 0532 0130 00" },
	{ "GB82WEST12345698765432", "iban:GB82WEST12345698765432" },
	{ "DE89 3704 0044 0532 0130 01 bad", "" },
	/* SSN */
	{ "ssn 078-05-1120.", "ssn:078-05-1120" },
	{ "666-12-3456 and 900-12-3456 and 123-00-4567", "" },
	/* secrets */
	{ "key AKIAIOSFODNN7EXAMPLE used", "secret:AKIAIOSFODNN7EXAMPLE" },
	{ "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 x", "secret:ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" },
	{ "xoxb-1234567890-abcdefghij", "secret:xoxb-1234567890-abcdefghij" },
	{ "api_key = \"Zx8kQ2mLp9RtW4vYb7Nc\"", "secret:Zx8kQ2mLp9RtW4vYb7Nc" },
	{ "\"client_secret\": \"a8F3kLq9ZxP2mN7vB4cR\"", "secret:a8F3kLq9ZxP2mN7vB4cR" },
	{ "password: hunter2 token=aaaaaaaaaaaaaaaaaaaa", "" },
	{ "monkey = Zx8kQ2mLp9RtW4vYb7Nc", "" },
	{ "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "" },
	{ "t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
	  "secret:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U" },
	{ "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcN\n-----END RSA PRIVATE KEY-----\nafter",
	  "secret:-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcN\n-----END RSA PRIVATE KEY-----" },
	{ "-----BEGIN PUBLIC KEY-----", "" },
	/* an address around earlier finds takes their place */
	{ "ConctGC2.168.1.13ConctGC2.168.1.13tAe@oxac.orm:", "email:ConctGC2.168.1.13ConctGC2.168.1.13tAe@oxac.orm" },
	/* several, in order */
	{ "a@b.co 93.184.216.34 078-05-1120", "email:a@b.co|ip:93.184.216.34|ssn:078-05-1120" },
};

static void hang(int sig)
{
	(void)sig;
	printf("not ok - hang guard: over 120 s\n");
	exit(1);
}

/* n bytes of the pattern repeated */
static char *repeat(const char *pat, size_t n)
{
	char *p = malloc(n + 1);
	size_t k = strlen(pat), i;

	for (i = 0; i < n; i++)
		p[i] = pat[i % k];
	p[n] = '\0';
	return p;
}

int main(void)
{
	pii_opts o = { (1u << PII_NKINDS) - 1, 0 }, oa = { (1u << PII_NKINDS) - 1, 1 };
	size_t i;

	all = pii_new(&o);
	all_ips = pii_new(&oa);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char name[80];
		size_t k;

		/* the case on one line */
		snprintf(name, sizeof(name), "%s", cases[i].text);
		for (k = 0; name[k]; k++)
			if (name[k] == '\n')
				name[k] = ' ';
		is_str(finds(all, cases[i].text), cases[i].want, "%s", name);
	}
	is_str(finds(all_ips, "local 192.168.1.1 and ::1 and 10.0.0.8"), "ip:192.168.1.1|ip:::1|ip:10.0.0.8",
	       "--all-ips: private and loopback addresses too");

	ok(pii_luhn("4111111111111111", 16) && !pii_luhn("4111111111111112", 16), "Luhn");
	ok(pii_iban_valid("GB82 WEST 1234 5698 7654 32", 27) && !pii_iban_valid("GB82 WEST 1234 5698 7654 33", 27) &&
	   !pii_iban_valid("XX82WEST12345698765432", 22), "IBAN: length by country and mod 97");
	is_int(pii_ip_public("8.8.4.4", 7), 1, "8.8.4.4 is public");
	is_int(pii_ip_public("100.64.1.1", 10), 0, "100.64/10 (shared) is not");
	is_int(pii_ip_public("2606:4700::1111", 15), 1, "2606:4700::1111 is public");
	is_int(pii_ip_public("fc00::1", 7), 0, "fc00::/7 is not");
	is_int(pii_ip_public("1.2.3", 5), -1, "1.2.3 is no address");

	/* hostile input: each a few megabytes, all within a generous guard */
	signal(SIGALRM, hang);
	alarm(120);
	{
		static const char *const pats[] = {
			"1", "1.", "1.2.3.", "@", "a@", "a@b.", "+1 ", "(1) ", "1-", "12-34-", "DE89 ", "AKIA",
			"ghp_", "eyJ", "eyJa.", "-----BEGIN ", "key=", "password: ", "::", "1:", "a.b@", "xox",
			"4111 1111 ", "078-05-", "1.1.1.1.", "..", "@@@@.",
		};
		size_t k, total = 0;

		for (k = 0; k < sizeof(pats) / sizeof(*pats); k++) {
			char *t = repeat(pats[k], 4 << 20);
			const pii_match *m;

			total += pii_find(all, t, 4 << 20, &m);
			free(t);
		}
		ok(1, "27 hostile texts of 4 MiB each (digits, points, '@', near-matches): done in time (%zu finds)",
		   total);
	}
	alarm(0);
	pii_free(all);
	pii_free(all_ips);
	return tap_done();
}
