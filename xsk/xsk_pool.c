/* The UMEM frame pool's set-up (the per-frame operations are inline in xsk_pool.h). */
#include "xsk_pool.h"

#include <string.h>

size_t xsk_pool_mem_size(uint32_t nframes)
{
	return (size_t)nframes * sizeof(uint64_t) + (size_t)nframes;
}

void xsk_pool_init(struct xsk_pool *pool, void *mem, uint32_t nframes, uint32_t frame_size)
{
	uint32_t shift = 0;
	uint32_t i;

	while ((1u << shift) < frame_size)
		shift++;
	memset(pool, 0, sizeof(*pool));
	pool->free = mem;
	pool->state = (uint8_t *)mem + (size_t)nframes * sizeof(uint64_t);
	pool->nframes = nframes;
	pool->frame_shift = shift;
	/* Highest address first, so frames are taken from the start of the UMEM. */
	for (i = 0; i < nframes; i++) {
		pool->free[i] = (uint64_t)(nframes - 1 - i) << shift;
		pool->state[i] = XSK_FRAME_FREE;
	}
	pool->nfree = nframes;
	pool->count[XSK_FRAME_FREE] = nframes;
}
