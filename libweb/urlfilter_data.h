/* urlfilter_data.h - the compressed lists that --url-filter default is made of, built into the
 * programs that link the URL filter (urlfilter_data.c): UT1's adult domains and URLs as
 * datatrove 0.10.1 ships them, and the Public Suffix List snapshot of tldextract 5.4.0, each
 * a zstd frame (data/urlfilter/README.md). */
#ifndef CM_URLFILTER_DATA_H
#define CM_URLFILTER_DATA_H

extern const unsigned char cm_urlfilter_domains[], cm_urlfilter_domains_end[];
extern const unsigned char cm_urlfilter_urls[], cm_urlfilter_urls_end[];
extern const unsigned char cm_urlfilter_psl[], cm_urlfilter_psl_end[];

#endif
