/* The AF_XDP device's state, shared by its set-up (xsk_dev.c) and its fast path (xsk_dev_io.c).
 * Internal to xsk/ (and its tests). */
#ifndef SMX_XSK_DEV_IMPL_H
#define SMX_XSK_DEV_IMPL_H

#include <xdp/xsk.h>

#include "smolxdp/xsk_dev.h"
#include "xsk_internal.h"
#include "xsk_pool.h"

/* Multi-buffer AF_XDP (Linux 6.6), missing from older uapi headers. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

struct xsk_dev {
	struct dev dev; /* first, so the stack's struct dev * is this device */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_pool pool;
	uint8_t *area;        /* the UMEM */
	/* A frame of the pool: one UMEM chunk, or with multi-buffer (jumbo MTU, XDP_USE_SG) a run of
	 * 2^n consecutive chunks, so a frame larger than a chunk is built contiguously and sent as a
	 * chain of descriptors (XDP_PKT_CONTD) without a copy. */
	uint32_t frame_size;
	uint32_t chunk_size;    /* the UMEM chunk: what one descriptor may hold */
	bool multi_buffer;      /* bound with XDP_USE_SG */
	/* A received chain being linearized into rx_chain (a fresh frame): its length so far, and
	 * whether it is being dropped (no frame free, or too long). */
	uint64_t rx_chain;
	uint32_t rx_chain_len;
	bool rx_chain_open;
	bool rx_chain_drop;
	uint32_t batch;
	uint32_t fill_size;
	uint32_t comp_size;
	uint32_t rx_frames_max; /* frames lent to RX (fill + RX ring + held) never exceed this */
	uint32_t max_frame;     /* largest untagged frame we receive or send, FCS excluded */
	uint32_t max_frame_tagged; /* the same with an 802.1Q tag: 4 bytes more where the UMEM frame
				    * has room, as Linux counts no tag in an MTU; the TX limit */
	uint32_t tx_unpublished; /* descriptors written to the TX ring, producer not yet advanced */
	bool need_wakeup;
	bool busy_poll;
	bool zerocopy;
	bool fill_empty;        /* the last top-up found the kernel without fill frames */
	bool kick_pending;      /* the last TX kick left work in the ring (EAGAIN and friends) */
	int fd;
	uint32_t queue;
	struct xsk_dev_stats st; /* own counters; the kernel's are read by xsk_dev_stats */
	/* Set-up state. */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	size_t area_size;
	void *pool_mem;
	struct xsk_prog *prog;
	bool own_prog;
	char ifname[16];
	struct xsk_logger log;
};

extern const struct dev_ops xsk_dev_ops;

/* Put free frames on the fill ring, up to the RX share. */
void xsk_dev_fill_top_up(struct xsk_dev *xd);
/* Return completed transmissions to the pool. Returns how many. */
uint32_t xsk_dev_reclaim(struct xsk_dev *xd);

#endif
