/* A device that injects faults into the traffic of the device it wraps: random drops and corruption,
 * a size limit and a rate limit, in either direction, from a seeded PRNG so every run with the same
 * seed and traffic misbehaves identically. */
#ifndef SMOLXDP_DEV_FAULT_H
#define SMOLXDP_DEV_FAULT_H

#include "smolxdp/dev.h"

SMX_API_BEGIN

enum dev_fault_dir {
	DEV_FAULT_RX = 1u << 0,
	DEV_FAULT_TX = 1u << 1,
};

struct dev_fault_config {
	struct dev *inner;
	uint64_t seed;
	uint32_t dirs;          /* enum dev_fault_dir: where faults apply; 0 means both */
	uint8_t drop_pct;       /* 0..100: chance a frame is lost */
	uint8_t corrupt_pct;    /* 0..100: chance one byte of a frame is flipped */
	uint32_t max_size;      /* frames longer than this are lost; 0: no limit */
	uint32_t rate_frames;   /* at most this many frames per rate_interval per direction; 0: no limit */
	smx_instant rate_interval; /* microseconds; 0 means 1 second */
};

struct dev_fault_stats {
	uint64_t dropped;
	uint64_t corrupted;
	uint64_t too_big;
	uint64_t rate_limited;
};

/* Fields are private; the struct is public so the app can hold one without allocation. */
struct dev_fault {
	struct dev dev;
	struct dev_fault_config cfg;
	uint64_t rng;
	struct dev_fault_stats stats;
	smx_instant last_now;
	smx_instant window_start[2]; /* rate limit windows, rx and tx */
	uint32_t window_count[2];
};

struct dev *dev_fault_init(struct dev_fault *f, const struct dev_fault_config *cfg);

SMX_API_END

#endif
