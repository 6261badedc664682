/* The device interface: how the stack moves Ethernet frames in batches, knowing nothing of what is
 * underneath (AF_XDP, loopback, a test harness). Frames are (pointer, length) spans in memory the
 * device owns; received frames stay valid until released, transmitted frames are built in place. */
#ifndef SMOLXDP_DEV_H
#define SMOLXDP_DEV_H

#include "smolxdp/base.h"

SMX_API_BEGIN

/* A frame lent by a device. `handle` is the device's own (a UMEM address, a slot index); the stack
 * never interprets it. */
struct dev_frame {
	uint8_t *data;
	uint32_t len; /* RX: bytes received. TX: bytes written, set before submit. */
	uint32_t cap; /* TX: room at data. RX: unused. */
	uint64_t handle;
};

/* Checksum work the device does, so the stack can skip it. 0: the stack does everything. */
enum dev_csum {
	DEV_CSUM_RX_VERIFIED = 1u << 0, /* received IPv4/UDP/TCP/ICMP checksums were verified */
	DEV_CSUM_TX_OFFLOAD = 1u << 1,  /* the device fills in L4 checksums on transmit */
};

struct dev_caps {
	uint32_t max_frame; /* largest Ethernet frame (header included, FCS excluded) it can carry */
	/* Largest 802.1Q-tagged frame: Linux lets a tag ride on top of a full MTU (4 bytes more than
	 * max_frame), so a VLAN's IP MTU is the untagged one. 0: no more than max_frame. */
	uint32_t max_frame_tagged;
	uint32_t rx_batch;  /* frames it is worth asking for at once */
	uint32_t csum;      /* enum dev_csum flags */
};

struct dev;

struct dev_ops {
	/* Receive up to `max` frames into `frames`; returns how many. Each frame belongs to the caller
	 * until given back with rx_release (in any order, any grouping). */
	size_t (*rx_burst)(struct dev *dev, struct dev_frame *frames, size_t max, smx_instant now);
	void (*rx_release)(struct dev *dev, const struct dev_frame *frames, size_t n);
	/* Lend a transmit frame to build in place (frame->data, frame->cap). false: none free now. */
	bool (*tx_reserve)(struct dev *dev, struct dev_frame *frame, smx_instant now);
	/* Queue a reserved frame with frame->len bytes for sending. The device takes it back. */
	void (*tx_submit)(struct dev *dev, const struct dev_frame *frame);
	/* Give back a reserved frame unsent. */
	void (*tx_abort)(struct dev *dev, const struct dev_frame *frame);
	/* Push out what was submitted (kicking the hardware only if it needs it) and reclaim completed
	 * transmissions. Called once per poll after all submits. */
	void (*tx_flush)(struct dev *dev, smx_instant now);
	void (*get_caps)(const struct dev *dev, struct dev_caps *caps);
};

/* Implementations embed `struct dev` as their first member and cast back in their ops. */
struct dev {
	const struct dev_ops *ops;
};

static inline size_t dev_rx_burst(struct dev *d, struct dev_frame *f, size_t max, smx_instant now)
{
	return d->ops->rx_burst(d, f, max, now);
}
static inline void dev_rx_release(struct dev *d, const struct dev_frame *f, size_t n)
{
	d->ops->rx_release(d, f, n);
}
static inline bool dev_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	return d->ops->tx_reserve(d, f, now);
}
static inline void dev_tx_submit(struct dev *d, const struct dev_frame *f)
{
	d->ops->tx_submit(d, f);
}
static inline void dev_tx_abort(struct dev *d, const struct dev_frame *f)
{
	d->ops->tx_abort(d, f);
}
static inline void dev_tx_flush(struct dev *d, smx_instant now)
{
	d->ops->tx_flush(d, now);
}
static inline void dev_get_caps(const struct dev *d, struct dev_caps *c)
{
	d->ops->get_caps(d, c);
}

SMX_API_END

#endif
