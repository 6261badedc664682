/* A device that counts the frames and bytes crossing the device it wraps, each way: what the
 * --stats line turns into frames/s and Mbit/s. It changes nothing that passes through. */
#ifndef SMX_SERVER_METER_H
#define SMX_SERVER_METER_H

#include <stdint.h>

#include "smolxdp/dev.h"

struct srv_meter {
	struct dev dev; /* first: the ops cast back */
	struct dev *inner;
	uint64_t rx_frames, rx_bytes; /* received from inner */
	uint64_t tx_frames, tx_bytes; /* submitted to inner */
};

struct dev *srv_meter_init(struct srv_meter *m, struct dev *inner);

#endif
