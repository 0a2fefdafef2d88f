/* le.h - little-endian integers in byte buffers, for the binary files (signature files, token
 * streams, shards), whatever the host's byte order. */
#ifndef CM_LE_H
#define CM_LE_H
#include <stdint.h>

static inline void cm_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void cm_put64(unsigned char *p, uint64_t v)
{
	cm_put32(p, (uint32_t)v);
	cm_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t cm_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t cm_get64(const unsigned char *p)
{
	return cm_get32(p) | (uint64_t)cm_get32(p + 4) << 32;
}
#endif
