/* The UMEM frame pool: a stack of free frame addresses plus each frame's state, so every frame is on
 * exactly one ring or list and a frame given back twice, or one never lent, is caught instead of
 * corrupting the pool. Internal to xsk/; pure bookkeeping, no syscalls, unit-tested. */
#ifndef SMX_XSK_POOL_H
#define SMX_XSK_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xsk_frame_state {
	XSK_FRAME_FREE = 0,
	XSK_FRAME_RX_KERNEL = 1, /* on the fill ring, in the kernel, or on the RX ring */
	XSK_FRAME_RX_HELD = 2,   /* received and lent to the stack */
	XSK_FRAME_TX_HELD = 3,   /* reserved by the stack for building a frame */
	XSK_FRAME_TX_KERNEL = 4, /* on the TX ring, in the kernel, or on the completion ring */
	XSK_FRAME_NSTATES = 5,
};

struct xsk_pool {
	uint64_t *free;  /* frame base addresses, free[0..nfree) */
	uint8_t *state;  /* by frame index */
	uint32_t nfree;
	uint32_t nframes;
	uint32_t frame_shift; /* frame size is 1 << frame_shift */
	uint32_t count[XSK_FRAME_NSTATES];
};

/* Bytes of memory xsk_pool_init needs for nframes. */
size_t xsk_pool_mem_size(uint32_t nframes);
/* All frames start free. frame_size must be a power of two. mem: xsk_pool_mem_size bytes, aligned
 * for uint64_t. */
void xsk_pool_init(struct xsk_pool *pool, void *mem, uint32_t nframes, uint32_t frame_size);

/* Take up to n free frames, marking them `to`; returns how many were taken. */
static inline uint32_t xsk_pool_take(struct xsk_pool *pool, uint64_t *addrs, uint32_t n,
				     enum xsk_frame_state to)
{
	uint32_t i;

	if (n > pool->nfree)
		n = pool->nfree;
	for (i = 0; i < n; i++) {
		uint64_t a = pool->free[--pool->nfree];

		pool->state[a >> pool->frame_shift] = (uint8_t)to;
		addrs[i] = a;
	}
	pool->count[XSK_FRAME_FREE] -= n;
	pool->count[to] += n;
	return n;
}

/* Move the frame holding addr (any offset inside it) from state `from` to `to` (XSK_FRAME_FREE puts
 * it back on the free list). false, and nothing changes, if addr is outside the UMEM or the frame is
 * not in state `from`. */
static inline bool xsk_pool_move(struct xsk_pool *pool, uint64_t addr, enum xsk_frame_state from,
				 enum xsk_frame_state to)
{
	uint64_t idx = addr >> pool->frame_shift;

	if (idx >= pool->nframes || pool->state[idx] != (uint8_t)from || from == XSK_FRAME_FREE)
		return false;
	pool->state[idx] = (uint8_t)to;
	pool->count[from]--;
	pool->count[to]++;
	if (to == XSK_FRAME_FREE)
		pool->free[pool->nfree++] = idx << pool->frame_shift;
	return true;
}

static inline uint64_t xsk_pool_frame_base(const struct xsk_pool *pool, uint64_t addr)
{
	return (addr >> pool->frame_shift) << pool->frame_shift;
}

#endif
