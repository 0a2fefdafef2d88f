/* urlfilter_data.c - the zstd files of data/urlfilter/ built into the programs as they are
 * (the assembler's .incbin, paths from the top of the tree, where make runs): 13 MB that only
 * the programs with a URL filter carry. The Makefile names the files as this object's
 * prerequisites. */
#include "urlfilter_data.h"

#define CM_INCBIN(sym, file)                                                                \
	__asm__(".section .rodata\n"                                                        \
		".global " #sym "\n.type " #sym ", @object\n.balign 16\n" #sym ":\n"        \
		".incbin \"" file "\"\n"                                                      \
		".global " #sym "_end\n.type " #sym "_end, @object\n" #sym "_end:\n"        \
		".byte 0\n.previous\n")

CM_INCBIN(cm_urlfilter_domains, "data/urlfilter/ut1-adult-domains.zst");
CM_INCBIN(cm_urlfilter_urls, "data/urlfilter/ut1-adult-urls.zst");
CM_INCBIN(cm_urlfilter_psl, "data/urlfilter/public_suffix_list.dat.zst");
