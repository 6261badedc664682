/* The AF_XDP device's fast path (struct dev_ops): batch receive from the RX ring, TX frames built in
 * place and queued on the TX ring, completions recycled, the fill ring topped up. No allocation; the
 * only syscalls are the wake-ups the kernel asks for (need_wakeup), or every poll with busy polling. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "xsk_dev_impl.h"

/* Copy mode sends at most this many frames per sendto (the kernel's TX budget) and says EAGAIN
 * when more are waiting. */
#define XSK_COPY_TX_BUDGET 32
/* No frame held (a chain being dropped for want of one). */
#define XSK_NO_FRAME UINT64_MAX

static struct xsk_dev *to_xsk(struct dev *dev)
{
	return (struct xsk_dev *)dev;
}

/* Wake-up errors that only mean "try again later": never fatal. */
static bool kick_transient(int err)
{
	return err == EAGAIN || err == EBUSY || err == ENOBUFS || err == ENETDOWN || err == EINTR;
}

void xsk_dev_fill_top_up(struct xsk_dev *xd)
{
	uint32_t owned = xd->pool.count[XSK_FRAME_RX_KERNEL] + xd->pool.count[XSK_FRAME_RX_HELD];
	uint32_t want = owned < xd->rx_frames_max ? xd->rx_frames_max - owned : 0;
	uint32_t n = want < xd->pool.nfree ? want : xd->pool.nfree;
	uint32_t i, idx;
	bool empty;

	if (n < want)
		xd->st.fill_pool_empty++;
	if (n == 0) {
		/* Nothing to add: note when the kernel has drained the ring (one shared load), once per
		 * episode, since it must then drop what arrives. */
		empty = xd->pool.count[XSK_FRAME_RX_KERNEL] == 0 ||
			xsk_prod_nb_free(&xd->fill, xd->fill_size) == xd->fill_size;
		if (empty && !xd->fill_empty)
			xd->st.fill_ring_empty++;
		xd->fill_empty = empty;
		return;
	}
	xd->fill_empty = false;
	/* Room is certain: frames on the ring are counted in `owned`, and rx_frames_max <= fill_size. */
	if (xsk_ring_prod__reserve(&xd->fill, n, &idx) != n)
		return;
	for (i = 0; i < n; i++) {
		uint64_t addr = 0;

		xsk_pool_take(&xd->pool, &addr, 1, XSK_FRAME_RX_KERNEL);
		*xsk_ring_prod__fill_addr(&xd->fill, idx + i) = addr;
	}
	xsk_ring_prod__submit(&xd->fill, n);
}

uint32_t xsk_dev_reclaim(struct xsk_dev *xd)
{
	uint32_t idx, i;
	uint32_t n = xsk_ring_cons__peek(&xd->comp, xd->comp_size, &idx);

	for (i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&xd->comp, idx + i);

		/* A chained frame completes once per descriptor: the first, in the frame's first chunk,
		 * frees it (the kernel completes a packet's descriptors together); the rest are no news. */
		if ((addr & (xd->frame_size - 1)) >= xd->chunk_size)
			continue;
		if (!xsk_pool_move(&xd->pool, addr, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE))
			xd->st.tx_invalid++; /* not a frame we sent: never seen, but never trusted */
	}
	if (n) {
		xsk_ring_cons__release(&xd->comp, n);
		xd->st.tx_completions += n;
	}
	return n;
}

static void kick_rx(struct xsk_dev *xd)
{
	xd->st.kicks++;
	if (recvfrom(xd->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL) < 0 && errno != EAGAIN)
		xd->st.kick_errors++;
}

/* TX ring entries the kernel has not consumed yet. */
static uint32_t tx_ring_used(struct xsk_dev *xd)
{
	return xd->tx.size - xsk_prod_nb_free(&xd->tx, xd->tx.size);
}

/* Kick the kernel until the TX ring is drained or it says "later". In copy mode each sendto sends a
 * budget of frames and answers EAGAIN while more wait, so the number of tries is bounded by the ring
 * size over that budget. */
static void kick_tx(struct xsk_dev *xd)
{
	uint32_t tries = xd->tx.size / XSK_COPY_TX_BUDGET + 1;

	xd->kick_pending = false;
	while (tries-- > 0) {
		xd->st.kicks++;
		if (sendto(xd->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			break;
		if (errno == ENOBUFS) {
			/* No room on the completion ring or no skb: reclaim and come back next flush. */
			xsk_dev_reclaim(xd);
			xd->st.kick_errors++;
			xd->kick_pending = true;
			return;
		}
		if (errno != EAGAIN) {
			if (kick_transient(errno)) {
				xd->st.kick_errors++;
				xd->kick_pending = true;
			} else {
				xd->st.kick_errors++; /* e.g. ENXIO: the device went away; keep going */
			}
			return;
		}
		if (tx_ring_used(xd) == 0)
			break;
	}
	if (tx_ring_used(xd) != 0)
		xd->kick_pending = true;
}

static bool tx_needs_kick(struct xsk_dev *xd)
{
	return xd->busy_poll || !xd->need_wakeup || xsk_ring_prod__needs_wakeup(&xd->tx);
}

static void tx_publish(struct xsk_dev *xd)
{
	if (xd->tx_unpublished) {
		xsk_ring_prod__submit(&xd->tx, xd->tx_unpublished);
		xd->tx_unpublished = 0;
		xd->kick_pending = true;
	}
	if (xd->kick_pending) {
		if (tx_needs_kick(xd))
			kick_tx(xd);
		else
			xd->kick_pending = false; /* the driver is already working on the ring */
	}
}

/* Multi-buffer receive (XDP_USE_SG): a frame larger than a chunk arrives as descriptors flagged
 * XDP_PKT_CONTD but the last. The stack takes a frame as one span, so the chain is copied into a
 * free frame (a run of chunks, room for the largest) and its chunks go back at once; the copy is
 * for jumbo frames only. A chain may straddle two bursts. Returns whether *out is a whole frame. */
static bool rx_chain_add(struct xsk_dev *xd, const struct xdp_desc *d, struct dev_frame *out)
{
	bool last = !(d->options & XDP_PKT_CONTD);
	uint64_t offset = d->addr & (xd->frame_size - 1);

	if (!xd->rx_chain_open) {
		xd->rx_chain_open = true;
		xd->rx_chain_len = 0;
		xd->rx_chain_drop = xsk_pool_take(&xd->pool, &xd->rx_chain, 1, XSK_FRAME_RX_HELD) != 1;
		if (xd->rx_chain_drop)
			xd->rx_chain = XSK_NO_FRAME;
	}
	if (!xsk_pool_move(&xd->pool, d->addr, XSK_FRAME_RX_KERNEL, XSK_FRAME_FREE)) {
		xd->st.rx_invalid++;
		xd->rx_chain_drop = true;
	} else if (!xd->rx_chain_drop && offset + d->len <= xd->chunk_size &&
		   d->len <= xd->max_frame_tagged - xd->rx_chain_len) {
		memcpy(xd->area + xd->rx_chain + xd->rx_chain_len, xd->area + d->addr, d->len);
		xd->rx_chain_len += d->len;
	} else {
		xd->rx_chain_drop = true;
	}
	if (!last)
		return false;
	xd->rx_chain_open = false;
	if (xd->rx_chain_drop || xd->rx_chain_len == 0) {
		xd->st.rx_chain_dropped++;
		if (xd->rx_chain != XSK_NO_FRAME)
			xsk_pool_move(&xd->pool, xd->rx_chain, XSK_FRAME_RX_HELD, XSK_FRAME_FREE);
		return false;
	}
	xd->st.rx_linearized++;
	out->data = xd->area + xd->rx_chain;
	out->len = xd->rx_chain_len;
	out->cap = 0;
	out->handle = xd->rx_chain;
	return true;
}

static size_t xsk_rx_burst(struct dev *dev, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct xsk_dev *xd = to_xsk(dev);
	uint32_t idx, i, n, got = 0;

	(void)now;
	if (max > xd->batch)
		max = xd->batch;
	xsk_dev_fill_top_up(xd);
	n = xsk_ring_cons__peek(&xd->rx, (uint32_t)max, &idx);
	if (n == 0) {
		if (!xd->busy_poll && !(xd->need_wakeup && xsk_ring_prod__needs_wakeup(&xd->fill)))
			return 0;
		/* Busy polling: this syscall runs the driver's NAPI here. need_wakeup: the driver
		 * sleeps until told there are fill frames. */
		kick_rx(xd);
		n = xsk_ring_cons__peek(&xd->rx, (uint32_t)max, &idx);
		if (n == 0)
			return 0;
	}
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&xd->rx, idx + i);

		if (__builtin_expect((d->options & XDP_PKT_CONTD) || xd->rx_chain_open, 0)) {
			if (rx_chain_add(xd, d, &frames[got]))
				got++;
			continue;
		}
		if (!xsk_pool_move(&xd->pool, d->addr, XSK_FRAME_RX_KERNEL, XSK_FRAME_RX_HELD)) {
			xd->st.rx_invalid++;
			continue;
		}
		frames[got].data = xd->area + d->addr;
		frames[got].len = d->len;
		frames[got].cap = 0;
		frames[got].handle = d->addr;
		got++;
	}
	xsk_ring_cons__release(&xd->rx, n);
	xd->st.rx_frames += got;
	xd->st.rx_bursts++;
	return got;
}

static void xsk_rx_release(struct dev *dev, const struct dev_frame *frames, size_t n)
{
	struct xsk_dev *xd = to_xsk(dev);
	size_t i;

	/* Back to the free pool; the next rx_burst or tx_flush puts them on the fill ring. */
	for (i = 0; i < n; i++)
		if (!xsk_pool_move(&xd->pool, frames[i].handle, XSK_FRAME_RX_HELD, XSK_FRAME_FREE))
			xd->st.rx_invalid++;
}

static bool xsk_tx_reserve(struct dev *dev, struct dev_frame *frame, smx_instant now)
{
	struct xsk_dev *xd = to_xsk(dev);
	uint64_t addr = 0;

	(void)now;
	/* Completions that name no frame of ours are refused by reclaim, so the pool can still be
	 * empty after it found some: check what was taken, never hand out frame 0 by default. */
	if (xd->pool.nfree == 0)
		xsk_dev_reclaim(xd);
	if (xsk_pool_take(&xd->pool, &addr, 1, XSK_FRAME_TX_HELD) != 1) {
		xd->st.tx_pool_empty++;
		return false;
	}
	frame->data = xd->area + addr;
	frame->len = 0;
	frame->cap = xd->max_frame_tagged; /* the stack keeps untagged frames within max_frame */
	frame->handle = addr;
	return true;
}

/* Descriptors a frame of len bytes at addr takes: one per chunk it touches (a frame beyond its
 * first chunk goes as a multi-buffer chain, XDP_PKT_CONTD on all but the last). */
static uint32_t tx_desc_count(const struct xsk_dev *xd, uint64_t addr, uint32_t len)
{
	uint32_t first = xd->chunk_size - (uint32_t)(addr & (xd->chunk_size - 1));

	return len <= first ? 1 : 1 + (len - first + xd->chunk_size - 1) / xd->chunk_size;
}

static void tx_write_chain(struct xsk_dev *xd, uint32_t idx, uint32_t ndesc, uint64_t addr, uint32_t len)
{
	uint32_t k;

	for (k = 0; k < ndesc; k++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&xd->tx, idx + k);
		uint32_t room = xd->chunk_size - (uint32_t)(addr & (xd->chunk_size - 1));

		d->addr = addr;
		d->len = len < room ? len : room;
		d->options = k + 1 < ndesc ? XDP_PKT_CONTD : 0;
		addr += d->len;
		len -= d->len;
	}
	xd->st.tx_chained++;
}

/* Put a frame (already in state TX_KERNEL) on the TX ring. false: the ring stayed full, the frame is
 * back in the pool and counted. */
static bool tx_enqueue(struct xsk_dev *xd, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d;
	uint32_t idx;
	uint32_t ndesc = tx_desc_count(xd, addr, len);

	if (xsk_ring_prod__reserve(&xd->tx, ndesc, &idx) != ndesc) {
		/* Full: hand over what is queued and let the kernel make room once. */
		tx_publish(xd);
		xsk_dev_reclaim(xd);
		if (xsk_ring_prod__reserve(&xd->tx, ndesc, &idx) != ndesc) {
			xd->st.tx_ring_full++;
			xsk_pool_move(&xd->pool, addr, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE);
			return false;
		}
	}
	if (ndesc == 1) {
		d = xsk_ring_prod__tx_desc(&xd->tx, idx);
		d->addr = addr;
		d->len = len;
		d->options = 0;
	} else {
		tx_write_chain(xd, idx, ndesc, addr, len);
	}
	xd->tx_unpublished += ndesc;
	xd->st.tx_frames++;
	/* Keep batches reasonable even if the caller never flushes mid-burst. */
	if (xd->tx_unpublished >= xd->batch)
		tx_publish(xd);
	return true;
}

static void xsk_tx_submit(struct dev *dev, const struct dev_frame *frame)
{
	struct xsk_dev *xd = to_xsk(dev);

	if (frame->len == 0 || frame->len > xd->max_frame_tagged ||
	    xsk_pool_frame_base(&xd->pool, frame->handle) != frame->handle) {
		xd->st.tx_invalid++;
		/* The device takes the frame back either way, if it was lent at all. */
		xsk_pool_move(&xd->pool, frame->handle, XSK_FRAME_TX_HELD, XSK_FRAME_FREE);
		return;
	}
	if (!xsk_pool_move(&xd->pool, frame->handle, XSK_FRAME_TX_HELD, XSK_FRAME_TX_KERNEL)) {
		xd->st.tx_invalid++;
		return;
	}
	tx_enqueue(xd, frame->handle, frame->len);
}

bool xsk_dev_tx_forward(struct xsk_dev *xd, const struct dev_frame *rx, uint32_t len)
{
	uint64_t offset = rx->handle - xsk_pool_frame_base(&xd->pool, rx->handle);

	if (len == 0 || len > xd->max_frame_tagged || offset + len > xd->frame_size) {
		xd->st.tx_invalid++;
		if (!xsk_pool_move(&xd->pool, rx->handle, XSK_FRAME_RX_HELD, XSK_FRAME_FREE))
			xd->st.rx_invalid++;
		return false;
	}
	if (!xsk_pool_move(&xd->pool, rx->handle, XSK_FRAME_RX_HELD, XSK_FRAME_TX_KERNEL)) {
		xd->st.rx_invalid++;
		return false;
	}
	return tx_enqueue(xd, rx->handle, len);
}

static void xsk_tx_abort(struct dev *dev, const struct dev_frame *frame)
{
	struct xsk_dev *xd = to_xsk(dev);

	if (!xsk_pool_move(&xd->pool, frame->handle, XSK_FRAME_TX_HELD, XSK_FRAME_FREE))
		xd->st.tx_invalid++;
}

static void xsk_tx_flush(struct dev *dev, smx_instant now)
{
	struct xsk_dev *xd = to_xsk(dev);

	(void)now;
	tx_publish(xd);
	xsk_dev_reclaim(xd);
	xsk_dev_fill_top_up(xd);
}

uint32_t xsk_dev_tx_drain(struct xsk_dev *xd)
{
	xsk_dev_reclaim(xd);
	if (tx_ring_used(xd) > 0)
		xd->kick_pending = true;
	tx_publish(xd);
	xsk_dev_reclaim(xd);
	return xd->pool.count[XSK_FRAME_TX_KERNEL];
}

static void xsk_get_caps(const struct dev *dev, struct dev_caps *caps)
{
	const struct xsk_dev *xd = (const struct xsk_dev *)dev;

	caps->max_frame = xd->max_frame;
	caps->max_frame_tagged = xd->max_frame_tagged;
	caps->rx_batch = xd->batch;
	caps->csum = 0; /* AF_XDP gives raw frames: the stack checks and fills every checksum */
}

const struct dev_ops xsk_dev_ops = {
	.rx_burst = xsk_rx_burst,
	.rx_release = xsk_rx_release,
	.tx_reserve = xsk_tx_reserve,
	.tx_submit = xsk_tx_submit,
	.tx_abort = xsk_tx_abort,
	.tx_flush = xsk_tx_flush,
	.get_caps = xsk_get_caps,
};
