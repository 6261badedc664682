/* A bounded single-producer single-consumer ring of frames, lock-free (C11 acquire/release on two
 * indices, Lamport's ring): one thread pushes copies of frames into fixed slots, another reads them in
 * place, in order, and frees them. Sized once at init; a full ring refuses the frame (the caller drops
 * and counts it). Generic: it knows frames as (bytes, length) only. */
#ifndef SMOLXDP_FRAME_RING_H
#define SMOLXDP_FRAME_RING_H

#include "smolxdp/base.h"

SMX_API_BEGIN

struct frame_ring;

/* slots: a power of two, 2..65536; slot_size: the longest frame it carries, 1..65536 bytes. 0 if
 * either is unusable. */
size_t frame_ring_mem_size(uint32_t slots, uint32_t slot_size);
/* Lays the ring out in mem (at least frame_ring_mem_size bytes); NULL if the sizes are unusable. */
struct frame_ring *frame_ring_init(void *mem, size_t mem_size, uint32_t slots, uint32_t slot_size);

/* Producer side. Copies len bytes into the next slot and publishes it; false when the ring is full
 * or len is 0 or beyond slot_size (nothing is written then). */
bool frame_ring_push(struct frame_ring *r, const uint8_t *data, uint32_t len);

/* Consumer side. Frames published and not yet popped. */
uint32_t frame_ring_count(struct frame_ring *r);
/* The i-th oldest of those (i < frame_ring_count): its bytes stay valid and unchanged until it is
 * popped. Returns its length and sets *data. */
uint32_t frame_ring_peek(struct frame_ring *r, uint32_t i, uint8_t **data);
/* Frees the n oldest frames for the producer (no more than were published). */
void frame_ring_pop(struct frame_ring *r, uint32_t n);

/* Either side. */
uint32_t frame_ring_slots(const struct frame_ring *r);
uint32_t frame_ring_slot_size(const struct frame_ring *r);
/* Whether p points into one of the ring's slots, and which (for devices telling their frames apart). */
bool frame_ring_owns(const struct frame_ring *r, const uint8_t *p, uint32_t *slot);
/* The slot the i-th oldest unpopped frame is in. */
uint32_t frame_ring_slot_of(struct frame_ring *r, uint32_t i);

SMX_API_END

#endif
