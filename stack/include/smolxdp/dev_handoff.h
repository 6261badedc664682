/* Hand-off between the queues of one interface: each queue's device wraps that queue's own device and
 * asks an owner rule, for every frame it receives, which queue's stack it belongs to. A frame that
 * belongs to another queue is copied into a lock-free ring from this queue to that one (one
 * single-producer single-consumer ring per ordered pair of queues, sized at init) and given back to
 * the inner device at once; the owner's device hands it to its stack with its own frames. So a
 * connection's frames reach the stack that owns it whichever queue the NIC (or a veth peer) chose.
 * Each queue's device must be driven by one thread at a time; different queues may run on different
 * threads. Transmission passes straight to the inner device. */
#ifndef SMOLXDP_DEV_HANDOFF_H
#define SMOLXDP_DEV_HANDOFF_H

#include "smolxdp/dev.h"

SMX_API_BEGIN

#define DEV_HANDOFF_MAX_QUEUES 64
#define DEV_HANDOFF_ALL 0xffffffffu /* owner rule: every queue gets a copy, this one included */

/* Which queue owns a frame that arrived on queue `self`: a queue index, DEV_HANDOFF_ALL, or anything
 * else (self, or an index beyond the queues) to keep it where it landed. It must not keep `frame`. */
typedef uint32_t (*dev_handoff_owner_fn)(void *ctx, uint32_t self, const uint8_t *frame, uint32_t len);

struct dev_handoff_config {
	uint32_t queues;     /* 1..DEV_HANDOFF_MAX_QUEUES */
	uint32_t ring_slots; /* frames per ring (queue pair), a power of two; 0 means 256 */
	uint32_t slot_size;  /* the longest frame handed over; 0 means 2048 */
	dev_handoff_owner_fn owner;
	void *owner_ctx;
};

struct dev_handoff_stats {
	uint64_t handed_off; /* frames copied into another queue's ring (one per copy) */
	uint64_t ring_full;  /* frames for another queue lost: the ring to it was full */
	uint64_t too_big;    /* frames for another queue lost: longer than slot_size */
	uint64_t received;   /* frames other queues handed over, given to this queue's stack */
};

struct dev_handoff_group;

size_t dev_handoff_mem_size(const struct dev_handoff_config *cfg);
/* Lays the rings and the queues' devices out in mem; NULL if cfg or mem is unusable. */
struct dev_handoff_group *dev_handoff_init(void *mem, size_t mem_size, const struct dev_handoff_config *cfg);
/* Queue q's device around inner (q's own device); call once per queue before any traffic. */
struct dev *dev_handoff_queue(struct dev_handoff_group *g, uint32_t q, struct dev *inner);
/* Frames handed to q and not yet given to its stack: the app polls q again while this is not 0.
 * From q's thread. */
uint32_t dev_handoff_pending(struct dev_handoff_group *g, uint32_t q);
/* q's counters: from q's thread, or once it has stopped. */
void dev_handoff_stats(const struct dev_handoff_group *g, uint32_t q, struct dev_handoff_stats *out);

SMX_API_END

#endif
