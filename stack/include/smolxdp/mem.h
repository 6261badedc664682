/* Carving one caller-provided block into a module's arrays at init: the stack never allocates, so each
 * module says how much it needs (*_mem_size) and lays its tables out in what it is given. The same
 * walk computes the size (base NULL) and the layout, so the two cannot disagree. */
#ifndef SMOLXDP_MEM_H
#define SMOLXDP_MEM_H

#include "smolxdp/base.h"

SMX_API_BEGIN

#define SMX_MEM_ALIGN 64 /* a cache line: tables never share a line with their neighbours */

struct smx_carve {
	uint8_t *base; /* NULL while only measuring */
	size_t used;
};

static inline void *smx_carve_take(struct smx_carve *c, size_t n)
{
	size_t off = (c->used + SMX_MEM_ALIGN - 1) & ~(size_t)(SMX_MEM_ALIGN - 1);
	c->used = off + n;
	return c->base ? c->base + off : NULL;
}

/* Bytes to ask for so that a block at any address can be aligned first. */
static inline size_t smx_carve_total(const struct smx_carve *c)
{
	return c->used + SMX_MEM_ALIGN;
}

/* Start carving `mem`, skipping to the first aligned byte. */
static inline void smx_carve_start(struct smx_carve *c, void *mem)
{
	uintptr_t p = (uintptr_t)mem;
	uintptr_t aligned = (p + SMX_MEM_ALIGN - 1) & ~(uintptr_t)(SMX_MEM_ALIGN - 1);
	c->base = mem ? (uint8_t *)mem + (aligned - p) : NULL;
	c->used = 0;
}

/* A small deterministic PRNG (xorshift64*, Vigna 2014) for fault injection, port choice and IDs: not
 * cryptographic, just repeatable from a seed. */
static inline uint64_t smx_rand_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform enough in [0, n) for n far below 2^32. */
static inline uint32_t smx_rand_below(uint64_t *state, uint32_t n)
{
	return n ? (uint32_t)(((smx_rand_next(state) >> 32) * (uint64_t)n) >> 32) : 0;
}

SMX_API_END

#endif
