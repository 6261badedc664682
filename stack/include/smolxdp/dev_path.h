/* A device that emulates one direction of a network path on the receive side of the device it wraps
 * (delay, a bottleneck with a finite drop-tail queue, reordering; loss is dev_fault's), on time passed
 * in and seeded, so TCP can be measured on virtual time. A frame arrives at the `now` of the rx_burst
 * that takes it from the inner device: a virtual-time loop polls the receiver at the instant the sender
 * flushed, and otherwise jumps to dev_path_next_at. */
#ifndef SMOLXDP_DEV_PATH_H
#define SMOLXDP_DEV_PATH_H

#include "smolxdp/dev.h"

SMX_API_BEGIN

/* Zero in a field turns that feature off (max_held: its default). */
struct dev_path_config {
	struct dev *inner;
	smx_instant delay;      /* one-way propagation delay, microseconds */
	uint64_t rate;          /* bottleneck, bits per second */
	uint32_t queue;         /* bytes that may wait for the bottleneck (with rate); more is tail-dropped */
	uint8_t reorder_pct;    /* 0..100: chance a frame is held back ... */
	smx_instant reorder_extra; /* ... this many extra microseconds, so later frames overtake it */
	uint64_t seed;
	uint32_t max_held;      /* frames held at once; beyond it frames are dropped [1024] */
};

struct dev_path_stats {
	uint64_t in;            /* frames taken from the inner device */
	uint64_t delivered;     /* frames handed to the caller */
	uint64_t dropped_queue; /* tail drops at the bottleneck's queue */
	uint64_t dropped_full;  /* no room to hold the frame (max_held) */
	uint64_t reordered;     /* frames given reorder_extra */
};

struct dev_path;

size_t dev_path_mem_size(const struct dev_path_config *cfg);
/* Lays the path out in mem (at least dev_path_mem_size bytes, any alignment); NULL if cfg (no inner) or
 * mem is unusable. */
struct dev_path *dev_path_init(void *mem, size_t mem_size, const struct dev_path_config *cfg);
/* The path as a device: receive from it, transmit through it (transmits go straight to inner). */
struct dev *dev_path_dev(struct dev_path *p);
/* When the next held frame is due: an instant, or SMX_INSTANT_NEVER if none is held. */
smx_instant dev_path_next_at(const struct dev_path *p);
uint32_t dev_path_held(const struct dev_path *p);
const struct dev_path_stats *dev_path_stats(const struct dev_path *p);
/* Gives every held frame back to the inner device and empties the bottleneck (teardown, before the
 * inner device is freed). Frames already delivered are the caller's to release as usual. */
void dev_path_release_all(struct dev_path *p);

SMX_API_END

#endif
