/* Base definitions for the stack core: fixed-width types and the only library calls the core may make
 * (memcpy, memset, memmove, memcmp), declared here so the core builds with no libc headers at all. */
#ifndef SMOLXDP_BASE_H
#define SMOLXDP_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smolxdp/api.h"

#ifdef __cplusplus
#include <string.h> /* C++ has no restrict, and its libc declares these with exception specifications */
#else
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif

#define SMX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SMX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SMX_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Time: microseconds since an arbitrary epoch, always passed in by the caller. */
typedef uint64_t smx_instant;
#define SMX_INSTANT_NEVER UINT64_MAX

/* IPv4 addresses are held in host byte order everywhere above the wire layer's byte spans. */
typedef uint32_t ipv4_addr;
#define IPV4_ADDR(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

struct eth_addr {
	uint8_t b[6];
};

#endif
