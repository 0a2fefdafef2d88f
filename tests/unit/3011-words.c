/* 3011-words.c - quality-score's default word splitter: the fast path (bit masks over 64
 * bytes) gives the same words as the general splitter alone, on random text built from the
 * pieces where they could part: marks that join words (apostrophes, points and commas in
 * numbers, e-mail addresses, URLs), non-ASCII letters, spaces and marks, words across the
 * 64-byte blocks and at the end of the text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "rules.h"
#include "tap.h"

static const char *const piece[] = {
	" ", "  ", "\n", "\t", "\r\n", "\x7f", "\x01", ".", "...", ",", ":", ";", "-", "'", "@", "/", "_",
	"#", "!", "?", "(", ")", "\"", "word", "the", "Word", "x", "w", "h", "www", "www.", "http://",
	"https://", "http", "don", "n't", "it's", "l'eau", "3", "14", "1,000", "3.14", "10:30", "5-6",
	"a@b.c", "é", "日本", "\xc2\xa0", "e\xcc\x81", "\xe2\x80\x99", "\xe2\x80\xa6", "Ω",
	"abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
	"/sys", "x/y",
};

/* a text on one TAP comment line, control bytes escaped */
static void show(const cm_buf *t)
{
	size_t i;

	printf("# differ: \"");
	for (i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->p[i];

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

int main(void)
{
	cm_buf t = CM_BUF_INIT;
	int i, bad = 0, pad;

	tap_rng = 88172645463325252ULL;

	qs_load_data();
	for (i = 0; i < 20000; i++) {
		int k, n = (int)tap_rand(60);

		cm_buf_reset(&t);
		for (k = 0; k < n; k++) {
			cm_buf_adds(&t, piece[tap_rand(sizeof(piece) / sizeof(*piece))]);
			if (tap_rand(2))
				cm_buf_addc(&t, ' ');
		}
		if (!qs_words_selfcheck(t.p ? t.p : "", t.len) && bad++ < 5)
			show(&t);
	}
	ok(bad == 0, "random texts: the fast splitter agrees with the general one (%d differ)", bad);

	/* one long word, and a word then a mark, at every offset around a block's end */
	bad = 0;
	for (pad = 0; pad < 140; pad++) {
		static const char *const tail[] = { "abc", "abc,", "abc's", "www.x", "12.5", "ab-3", "ab\xc3\xa9" };
		size_t k;

		for (k = 0; k < sizeof(tail) / sizeof(*tail); k++) {
			cm_buf_reset(&t);
			while ((int)t.len < pad)
				cm_buf_addc(&t, t.len % 7 == 6 ? ' ' : 'q');
			cm_buf_adds(&t, tail[k]);
			if (!qs_words_selfcheck(t.p, t.len) && bad++ < 5)
				show(&t);
			cm_buf_addc(&t, ' ');
			if (!qs_words_selfcheck(t.p, t.len) && bad++ < 5)
				show(&t);
		}
	}
	ok(bad == 0, "words at every offset around the 64-byte blocks (%d differ)", bad);
	cm_buf_free(&t);
	return tap_done();
}
