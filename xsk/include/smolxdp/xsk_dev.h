/* The AF_XDP device: one socket on one (interface, RX queue) with its own UMEM, implementing the
 * stack's device interface (smolxdp/dev.h) so nothing under stack/ knows about AF_XDP. Frames are
 * received in batches, transmitted frames are built in place in UMEM and recycled on completion.
 * One device per queue and thread; several devices share one xsk_prog. */
#ifndef SMOLXDP_XSK_DEV_H
#define SMOLXDP_XSK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "smolxdp/dev.h"
#include "smolxdp/xsk_log.h"
#include "smolxdp/xsk_prog.h"

SMX_API_BEGIN

enum xsk_bind_mode {
	XSK_BIND_AUTO = 0, /* zero-copy if the driver can, else copy (said once, as a notice) */
	XSK_BIND_ZEROCOPY = 1,
	XSK_BIND_COPY = 2,
};

/* Zero means "default" for every number. */
struct xsk_dev_opts {
	uint32_t frame_size;  /* UMEM chunk: 2048 or 4096 (default 4096) */
	/* Frames in the UMEM (default 4096); must exceed fill_size. Where the interface's MTU needs
	 * more than one chunk (jumbo frames), the socket is bound for multi-buffer (XDP_USE_SG) and a
	 * frame is a run of chunks large enough for the MTU (default 1024 of them). */
	uint32_t frame_count;
	uint32_t fill_size;   /* fill ring (default 2048; 512 with jumbo frames); also caps the frames
			       * lent to RX */
	uint32_t comp_size;   /* completion ring (default 2048); must be >= tx_size */
	uint32_t rx_size;     /* RX ring (default 2048) */
	uint32_t tx_size;     /* TX ring (default 2048) */
	uint32_t batch_size;  /* frames per rx_burst and per ring operation (default 64) */
	enum xsk_bind_mode bind_mode;
	bool no_need_wakeup;  /* default: XDP_USE_NEED_WAKEUP, so the fast path makes no syscall */
	bool busy_poll;       /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL + SO_BUSY_POLL_BUDGET; the device
			       * then drives the driver with a syscall per rx_burst / tx_flush */
	uint32_t busy_poll_usec;   /* SO_BUSY_POLL (default 20) */
	uint32_t busy_poll_budget; /* SO_BUSY_POLL_BUDGET (default batch_size) */
	/* The steering program whose XSKMAP this socket joins. NULL: the device attaches and owns one
	 * (prog_opts apply), reachable through xsk_dev_prog() to set addresses. */
	struct xsk_prog *prog;
	struct xsk_prog_opts prog_opts;
	xsk_log_fn log;
	void *log_ctx;
};

struct xsk_dev_stats {
	/* The device's own counters. */
	uint64_t rx_frames;
	uint64_t rx_bursts;        /* rx_burst calls that returned frames */
	uint64_t tx_frames;        /* frames put on the TX ring */
	uint64_t tx_completions;   /* frames the kernel gave back */
	uint64_t fill_ring_empty;  /* times the kernel was found with no fill frames left (it drops) */
	uint64_t fill_pool_empty;  /* top-ups cut short because no frame was free */
	uint64_t tx_ring_full;     /* submitted frames dropped because the TX ring was full */
	uint64_t tx_pool_empty;    /* tx_reserve calls that found no free frame */
	uint64_t tx_invalid;       /* submits rejected: frame not reserved, length 0 or beyond cap */
	uint64_t rx_invalid;       /* rx_release of a frame that was not lent out for RX */
	uint64_t kicks;            /* wake-up syscalls made (RX and TX) */
	uint64_t kick_errors;      /* of those, ones failing with a transient errno (not fatal) */
	/* Multi-buffer (jumbo MTU): frames that came in several descriptors and were copied into one
	 * contiguous frame; chains dropped (no free frame, or longer than the largest frame); frames
	 * sent as a chain of descriptors. */
	uint64_t rx_linearized;
	uint64_t rx_chain_dropped;
	uint64_t tx_chained;
	/* The kernel's XDP_STATISTICS for the socket. */
	uint64_t rx_dropped;
	uint64_t rx_invalid_descs;
	uint64_t tx_invalid_descs;
	uint64_t rx_ring_full;
	uint64_t rx_fill_ring_empty_descs;
	uint64_t tx_ring_empty_descs;
	/* Where the frames are now; they always add up to frame_count. */
	uint32_t frames_free;
	uint32_t frames_rx_kernel; /* on the fill or RX ring */
	uint32_t frames_rx_held;   /* received, not yet released by the stack */
	uint32_t frames_tx_held;   /* reserved by the stack, not yet submitted */
	uint32_t frames_tx_kernel; /* on the TX or completion ring */
};

struct xsk_dev;

/* Open a socket on (ifname, queue). Returns 0 and *out, or a negative errno with xsk_last_error()
 * saying why in one line. */
int xsk_dev_open(const char *ifname, uint32_t queue, const struct xsk_dev_opts *opts,
		 struct xsk_dev **out);
/* Up front, before anything is attached: whether this process may attach the steering program
 * and open `sockets` devices with opts (their UMEMs locked in memory). 0, or -EPERM with
 * xsk_last_error() naming every missing capability (and RLIMIT_MEMLOCK where it falls short) and the
 * setcap line that grants them. */
int xsk_check_privileges(uint32_t sockets, const struct xsk_dev_opts *opts);
/* Close the socket, free the UMEM, and detach the program if the device owns it. NULL is fine. */
void xsk_dev_close(struct xsk_dev *xd);

/* The stack's view of it. */
static inline struct dev *xsk_dev_as_dev(struct xsk_dev *xd)
{
	return (struct dev *)xd; /* struct dev is the first member */
}

/* Reads the kernel's statistics (one getsockopt) and copies the device's own. */
int xsk_dev_stats(struct xsk_dev *xd, struct xsk_dev_stats *stats);
/* For poll()/epoll: readable when RX frames are waiting. */
int xsk_dev_fd(const struct xsk_dev *xd);
bool xsk_dev_is_zerocopy(const struct xsk_dev *xd);
uint32_t xsk_dev_queue(const struct xsk_dev *xd);
struct xsk_prog *xsk_dev_prog(const struct xsk_dev *xd);
/* Send a received frame's own buffer (modified in place, len bytes from rx->data) instead of
 * releasing it: a reply or forward with no copy. The frame is the device's again either way; false
 * if it could not be queued (counted as tx_invalid or tx_ring_full). */
bool xsk_dev_tx_forward(struct xsk_dev *xd, const struct dev_frame *rx, uint32_t len);
/* Reclaim TX completions and retry a pending kick without sending anything new. Returns the number
 * of frames still in the kernel's TX or completion ring. */
uint32_t xsk_dev_tx_drain(struct xsk_dev *xd);

SMX_API_END

#endif
