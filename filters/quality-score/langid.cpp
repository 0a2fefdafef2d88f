// langid.cpp - language identification with CLD2 (Debian's libcld2).
#include <cstdio>		// before CLD2's header, which uses FILE without it
#include <cstring>

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include "langid.h"

namespace CLD2 {
const char *LanguageCode(Language lang);
}

extern "C" void langid_detect(const char *text, size_t n, char code[16], double *score)
{
	CLD2::Language lang3[3];
	int percent3[3], text_bytes = 0, valid_prefix = 0;
	double norm3[3];
	bool reliable = false;
	CLD2::Language lang;

	if (n > (64u << 10)) {
		// cut at a character boundary
		n = 64u << 10;
		while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80)
			n--;
	}
	lang = CLD2::ExtDetectLanguageSummaryCheckUTF8(text, static_cast<int>(n), true, nullptr, 0,
						      lang3, percent3, norm3, nullptr, &text_bytes,
						      &reliable, &valid_prefix);
	if (lang == CLD2::UNKNOWN_LANGUAGE || text_bytes == 0) {
		snprintf(code, 16, "un");
		*score = 0;
		return;
	}
	snprintf(code, 16, "%s", CLD2::LanguageCode(lang));
	*score = percent3[0] / 100.0 * (reliable ? 1.0 : 0.5);
}
