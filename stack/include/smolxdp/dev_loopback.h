/* A loopback "wire" with two ends, each a device: what one end transmits the other receives, after
 * the sender's tx_flush. Frames come from one pool sized at init; tests run two interfaces over it. */
#ifndef SMOLXDP_DEV_LOOPBACK_H
#define SMOLXDP_DEV_LOOPBACK_H

#include "smolxdp/dev.h"

SMX_API_BEGIN

struct dev_loopback_config {
	uint32_t frames;     /* frames in the pool shared by both ends (in flight, queued, held) */
	uint32_t frame_size; /* bytes per frame: the largest Ethernet frame carried */
	uint32_t rx_batch;   /* reported in caps; 0 means 32 */
	bool loop_to_self;   /* each end receives what it sends itself (one end is then enough) */
};

struct dev_loopback_stats {
	uint64_t tx_frames;
	uint64_t rx_frames;
	uint64_t tx_no_frame; /* tx_reserve found the pool empty */
};

struct dev_loopback;

size_t dev_loopback_mem_size(const struct dev_loopback_config *cfg);
/* Lays the wire out in mem (at least dev_loopback_mem_size bytes); NULL if cfg or mem is unusable. */
struct dev_loopback *dev_loopback_init(void *mem, size_t mem_size, const struct dev_loopback_config *cfg);
/* End 0 or 1, as a device. */
struct dev *dev_loopback_end(struct dev_loopback *lo, unsigned side);
const struct dev_loopback_stats *dev_loopback_stats(const struct dev_loopback *lo, unsigned side);
/* Frames currently in the pool's free list (for leak checks in tests). */
uint32_t dev_loopback_free_frames(const struct dev_loopback *lo);

SMX_API_END

#endif
