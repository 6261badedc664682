/* The SPSC frame ring: the producer owns tail and the slots from tail to head + slots, the consumer
 * owns head and the slots from head to tail. Each side publishes its index with a release store and
 * reads the other's with an acquire load, so a slot's bytes are written before the consumer can see
 * it and read before the producer can reuse it; each side caches the other's index and reloads it only
 * when the cached one says full (or empty). Indices run free and wrap at 2^32; slots is a power of two. */
#include <stdatomic.h>

#include "smolxdp/frame_ring.h"
#include "smolxdp/mem.h"

#define RING_LINE 64
#define SLOT_HDR 4 /* the frame's length, before its bytes */

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the ring's indices must be lock-free atomics");

struct frame_ring {
	/* Producer's line. */
	_Alignas(RING_LINE) _Atomic uint32_t tail;
	uint32_t head_cache;
	/* Consumer's line. */
	_Alignas(RING_LINE) _Atomic uint32_t head;
	uint32_t tail_cache;
	/* Read-only after init. */
	_Alignas(RING_LINE) uint32_t mask;
	uint32_t slot_size;
	uint32_t stride;
	uint8_t *slots;
};

static bool sizes_ok(uint32_t slots, uint32_t slot_size)
{
	return slots >= 2 && slots <= 65536 && (slots & (slots - 1)) == 0 && slot_size >= 1 &&
	       slot_size <= 65536;
}

static uint32_t stride_of(uint32_t slot_size)
{
	return (SLOT_HDR + slot_size + RING_LINE - 1) & ~(uint32_t)(RING_LINE - 1);
}

static struct frame_ring *layout(struct smx_carve *c, uint32_t slots, uint32_t slot_size)
{
	struct frame_ring *r = smx_carve_take(c, sizeof(*r));
	uint8_t *s = smx_carve_take(c, (size_t)slots * stride_of(slot_size));

	if (r)
		r->slots = s;
	return r;
}

size_t frame_ring_mem_size(uint32_t slots, uint32_t slot_size)
{
	struct smx_carve c;

	if (!sizes_ok(slots, slot_size))
		return 0;
	smx_carve_start(&c, NULL);
	layout(&c, slots, slot_size);
	return smx_carve_total(&c);
}

struct frame_ring *frame_ring_init(void *mem, size_t mem_size, uint32_t slots, uint32_t slot_size)
{
	struct smx_carve c;
	struct frame_ring *r;

	if (!mem || !sizes_ok(slots, slot_size) || mem_size < frame_ring_mem_size(slots, slot_size))
		return NULL;
	smx_carve_start(&c, mem);
	r = layout(&c, slots, slot_size);
	atomic_init(&r->tail, 0);
	atomic_init(&r->head, 0);
	r->head_cache = 0;
	r->tail_cache = 0;
	r->mask = slots - 1;
	r->slot_size = slot_size;
	r->stride = stride_of(slot_size);
	return r;
}

static uint8_t *slot_at(const struct frame_ring *r, uint32_t index)
{
	return r->slots + (size_t)(index & r->mask) * r->stride;
}

bool frame_ring_push(struct frame_ring *r, const uint8_t *data, uint32_t len)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint8_t *s;

	if (len == 0 || len > r->slot_size)
		return false;
	if (t - r->head_cache > r->mask) {
		/* Acquire: the consumer's reads of the slot it freed happen before our writes to it. */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t - r->head_cache > r->mask)
			return false;
	}
	s = slot_at(r, t);
	memcpy(s, &len, SLOT_HDR);
	memcpy(s + SLOT_HDR, data, len);
	/* Release: the slot's bytes are visible before the consumer sees the new tail. */
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

uint32_t frame_ring_count(struct frame_ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->tail_cache - h;
}

uint32_t frame_ring_peek(struct frame_ring *r, uint32_t i, uint8_t **data)
{
	uint8_t *s = slot_at(r, atomic_load_explicit(&r->head, memory_order_relaxed) + i);
	uint32_t len;

	memcpy(&len, s, SLOT_HDR);
	*data = s + SLOT_HDR;
	return len;
}

void frame_ring_pop(struct frame_ring *r, uint32_t n)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (n > r->tail_cache - h) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (n > r->tail_cache - h) /* never past what was published */
			n = r->tail_cache - h;
	}
	atomic_store_explicit(&r->head, h + n, memory_order_release);
}

uint32_t frame_ring_slots(const struct frame_ring *r)
{
	return r->mask + 1;
}

uint32_t frame_ring_slot_size(const struct frame_ring *r)
{
	return r->slot_size;
}

bool frame_ring_owns(const struct frame_ring *r, const uint8_t *p, uint32_t *slot)
{
	uintptr_t lo = (uintptr_t)r->slots, hi = lo + (uintptr_t)(r->mask + 1) * r->stride;

	if ((uintptr_t)p < lo || (uintptr_t)p >= hi)
		return false;
	if (slot)
		*slot = (uint32_t)(((uintptr_t)p - lo) / r->stride);
	return true;
}

uint32_t frame_ring_slot_of(struct frame_ring *r, uint32_t i)
{
	return (atomic_load_explicit(&r->head, memory_order_relaxed) + i) & r->mask;
}
