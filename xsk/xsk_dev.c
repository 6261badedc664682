/* Opening and closing the AF_XDP device: checks that give one-line errors for what users hit (no
 * privileges, no such interface or queue, UMEM refused, zero-copy unsupported), the UMEM and its
 * frame pool, the socket joined to the steering program's XSKMAP, and statistics. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smolxdp/xsk_rss.h"
#include "xsk_dev_impl.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
#ifndef XDP_PACKET_HEADROOM
#define XDP_PACKET_HEADROOM 256
#endif

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4 /* IEEE 802.1Q */

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint32_t or_default(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

static int if_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int mtu = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* The interface's driver (ETHTOOL_GDRVINFO: veth has no device link in sysfs to read it from), or
 * "unknown". */
static void if_driver(const char *ifname, char *out, size_t cap)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(out, cap, "unknown");
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && info.driver[0]) {
		info.driver[sizeof(info.driver) - 1] = '\0';
		snprintf(out, cap, "%s", info.driver);
	}
	close(fd);
}

/* The largest untagged frame a multi-buffer socket takes: a 9,216-byte MTU (the jumbo size switches
 * commonly allow) and its Ethernet header. Bounds the run of chunks each frame takes. */
#define XSK_MAX_JUMBO_FRAME (9216 + ETH_HDR_LEN)

/* Whether the MTU's frames (tagged) outgrow one chunk, which holds chunk - XDP_PACKET_HEADROOM
 * bytes on receive (copy mode puts the headroom in the chunk; drivers in zero-copy do likewise). */
static bool needs_multi_buffer(int mtu, uint32_t chunk)
{
	return mtu > 0 && (uint32_t)mtu + ETH_HDR_LEN + VLAN_TAG_LEN > chunk - XDP_PACKET_HEADROOM;
}

static int check_opts(struct xsk_dev *xd, const struct xsk_dev_opts *o, bool jumbo, uint32_t *count,
		      uint32_t *rx_size, uint32_t *tx_size)
{
	xd->chunk_size = or_default(o->frame_size, XSK_UMEM__DEFAULT_FRAME_SIZE);
	xd->frame_size = xd->chunk_size;
	/* Jumbo frames: a frame is a run of chunks (a power of two, for the pool's shift) holding the
	 * largest tagged frame, and fewer frames by default so the UMEM stays near its usual size. */
	xd->fill_size = or_default(o->fill_size, jumbo ? 512 : XSK_RING_PROD__DEFAULT_NUM_DESCS);
	*count = or_default(o->frame_count, jumbo ? 1024 : 4096);
	xd->comp_size = or_default(o->comp_size, XSK_RING_CONS__DEFAULT_NUM_DESCS);
	xd->batch = or_default(o->batch_size, 64);
	*rx_size = or_default(o->rx_size, XSK_RING_CONS__DEFAULT_NUM_DESCS);
	*tx_size = or_default(o->tx_size, XSK_RING_PROD__DEFAULT_NUM_DESCS);

	/* Aligned UMEM chunks: a power of two from 2048 up to the page size (net/xdp/xdp_umem.c; larger
	 * chunks are refused, whence multi-buffer for jumbo frames). */
	if (!is_pow2(xd->chunk_size) || xd->chunk_size < 2048 ||
	    xd->chunk_size > (uint32_t)sysconf(_SC_PAGESIZE))
		return xsk_fail(&xd->log, EINVAL, "frame size %u: must be 2048 or 4096", xd->chunk_size);
	if (jumbo)
		while (xd->frame_size < XSK_MAX_JUMBO_FRAME + VLAN_TAG_LEN)
			xd->frame_size *= 2;
	if (!is_pow2(xd->fill_size) || !is_pow2(xd->comp_size) || !is_pow2(*rx_size) ||
	    !is_pow2(*tx_size))
		return xsk_fail(&xd->log, EINVAL, "ring sizes must be powers of two (fill %u, comp %u, "
				"rx %u, tx %u)", xd->fill_size, xd->comp_size, *rx_size, *tx_size);
	/* Every descriptor on the TX ring comes back through the completion ring; a smaller one makes the
	 * kernel stall transmission whenever it is full, however many frames are free. */
	if (xd->comp_size < *tx_size)
		return xsk_fail(&xd->log, EINVAL, "completion ring %u is smaller than the TX ring %u: it must "
				"be at least as large", xd->comp_size, *tx_size);
	if (*count <= xd->fill_size)
		return xsk_fail(&xd->log, EINVAL, "frame count %u must exceed the fill ring size %u, "
				"or nothing is left to transmit with", *count, xd->fill_size);
	if (*count > (1u << 24))
		return xsk_fail(&xd->log, EINVAL, "frame count %u is too large", *count);
	xd->rx_frames_max = xd->fill_size;
	return 0;
}

static int check_interface(struct xsk_dev *xd, const char *ifname, uint32_t queue, int *mtu)
{
	uint32_t nq;
	int err;

	err = xsk_ifindex(&xd->log, ifname);
	if (err < 0)
		return err;
	snprintf(xd->ifname, sizeof(xd->ifname), "%s", ifname);
	nq = xsk_rx_queue_count(ifname);
	if (nq && queue >= nq)
		return xsk_fail(&xd->log, EINVAL, "queue %u out of range: %s has %u RX queue%s (0..%u)",
				queue, ifname, nq, nq == 1 ? "" : "s", nq - 1);
	*mtu = if_mtu(ifname);
	return 0;
}

/* The largest frames: the interface's MTU, as far as a chunk (or with multi-buffer, a frame of
 * chunks up to XSK_MAX_JUMBO_FRAME) holds on receive. */
static void set_max_frame(struct xsk_dev *xd, int mtu)
{
	uint32_t room = xd->multi_buffer ? XSK_MAX_JUMBO_FRAME + VLAN_TAG_LEN :
					   xd->chunk_size - XDP_PACKET_HEADROOM;

	xd->max_frame = SMX_MIN(room, XSK_MAX_JUMBO_FRAME);
	xd->max_frame_tagged = room;
	if (mtu > 0 && (uint32_t)mtu + ETH_HDR_LEN < xd->max_frame) {
		xd->max_frame = (uint32_t)mtu + ETH_HDR_LEN;
		xd->max_frame_tagged = SMX_MIN(xd->max_frame + VLAN_TAG_LEN, xd->max_frame_tagged);
	}
}

static int create_umem(struct xsk_dev *xd)
{
	struct xsk_umem_config cfg = {
		.fill_size = xd->fill_size,
		.comp_size = xd->comp_size,
		.frame_size = xd->chunk_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct rlimit rl;
	char limit[32] = "unknown";
	int err;

	err = xsk_umem__create(&xd->umem, xd->area, xd->area_size, &xd->fill, &xd->comp, &cfg);
	if (!err)
		return 0;
	xd->umem = NULL;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		if (rl.rlim_cur == RLIM_INFINITY)
			snprintf(limit, sizeof(limit), "unlimited");
		else
			snprintf(limit, sizeof(limit), "%llu KiB", (unsigned long long)rl.rlim_cur / 1024);
	}
	if (err == -ENOBUFS || err == -ENOMEM || err == -EPERM || err == -EAGAIN)
		return xsk_fail(&xd->log, -err, "UMEM registration of %zu KiB refused (%s): likely "
				"RLIMIT_MEMLOCK (now %s) without CAP_IPC_LOCK; raise it (ulimit -l "
				"unlimited) or use fewer/smaller frames", xd->area_size / 1024,
				strerror(-err), limit);
	return xsk_fail(&xd->log, -err, "UMEM registration refused: %s", strerror(-err));
}

/* Returns 0, or a negative errno: *umem_refused says whether the UMEM (message set) or the bind
 * failed. */
static int bind_socket(struct xsk_dev *xd, uint32_t queue, uint32_t rx_size, uint32_t tx_size,
		       uint16_t mode_flag, bool *umem_refused)
{
	struct xsk_socket_config cfg = {
		.rx_size = rx_size,
		.tx_size = tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = (uint16_t)(mode_flag | (xd->need_wakeup ? XDP_USE_NEED_WAKEUP : 0) |
					 (xd->multi_buffer ? XDP_USE_SG : 0)),
	};
	int tries;
	int err;

	err = create_umem(xd);
	*umem_refused = err != 0;
	if (err)
		return err;
	/* A socket just closed on this queue releases it from a kernel work item, so a quick
	 * re-open may see EBUSY for a moment: retry briefly before calling the queue taken. */
	for (tries = 0; tries < 25; tries++) {
		err = xsk_socket__create(&xd->xsk, xd->ifname, queue, xd->umem, &xd->rx, &xd->tx,
					 &cfg);
		if (err != -EBUSY)
			break;
		usleep(10000);
	}
	if (err) {
		/* A failed bind leaves the UMEM's rings half set up: start over with a fresh one. */
		xd->xsk = NULL;
		xsk_umem__delete(xd->umem);
		xd->umem = NULL;
	}
	return err;
}

static int bind_fail(struct xsk_dev *xd, uint32_t queue, int err, const char *mode)
{
	if (err == -EBUSY)
		return xsk_fail(&xd->log, EBUSY, "queue %u of %s already has an AF_XDP socket bound",
				queue, xd->ifname);
	if (err == -EPERM || err == -EACCES)
		return xsk_fail(&xd->log, EPERM, "permission denied creating an AF_XDP socket: need "
				"root or CAP_NET_RAW and CAP_NET_ADMIN");
	if (err == -EOPNOTSUPP)
		return xsk_fail(&xd->log, EOPNOTSUPP, "%s mode unsupported on %s queue %u", mode,
				xd->ifname, queue);
	return xsk_fail(&xd->log, -err, "cannot bind an AF_XDP socket to %s queue %u (%s mode): %s",
			xd->ifname, queue, mode, strerror(-err));
}

static int open_socket(struct xsk_dev *xd, uint32_t queue, const struct xsk_dev_opts *o,
		       uint32_t rx_size, uint32_t tx_size)
{
	static int zc_fallback_said;
	bool umem_refused = false;
	int err = 0;

	if (o->bind_mode != XSK_BIND_COPY) {
		err = bind_socket(xd, queue, rx_size, tx_size, XDP_ZEROCOPY, &umem_refused);
		if (!err || umem_refused)
			return err;
		if (err == -EBUSY || err == -EPERM || o->bind_mode == XSK_BIND_ZEROCOPY)
			return bind_fail(xd, queue, err, "zero-copy");
		/* Expected on veth and most virtual NICs: said once per process, as information. */
		if (!__atomic_exchange_n(&zc_fallback_said, 1, __ATOMIC_RELAXED)) {
			char drv[32];

			if_driver(xd->ifname, drv, sizeof(drv));
			xsk_say(&xd->log, XSK_LOG_NOTICE, "zero-copy unsupported on %s (driver %s); "
				"using copy mode", xd->ifname, drv);
		}
	}
	err = bind_socket(xd, queue, rx_size, tx_size, XDP_COPY, &umem_refused);
	if (err && !umem_refused)
		return bind_fail(xd, queue, err, "copy");
	return err;
}

static void set_busy_poll(struct xsk_dev *xd, const struct xsk_dev_opts *o)
{
	int prefer = 1;
	int usec = (int)or_default(o->busy_poll_usec, 20);
	int budget = (int)or_default(o->busy_poll_budget, xd->batch);

	/* Busy polling is an optimisation: without it the device still works, so a refusal (old
	 * kernel, usec above net.core.busy_poll without CAP_NET_ADMIN) is a warning. */
	if (setsockopt(xd->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &prefer, sizeof(prefer)) != 0 ||
	    setsockopt(xd->fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) != 0 ||
	    setsockopt(xd->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) != 0)
		xsk_say(&xd->log, XSK_LOG_WARN, "busy polling refused on %s: %s", xd->ifname,
			strerror(errno));
}

static int setup_pool(struct xsk_dev *xd, uint32_t count)
{
	xd->pool_mem = malloc(xsk_pool_mem_size(count));
	if (!xd->pool_mem)
		return xsk_fail(&xd->log, ENOMEM, "out of memory for %u frames", count);
	xsk_pool_init(&xd->pool, xd->pool_mem, count, xd->frame_size);
	return 0;
}

int xsk_check_privileges(uint32_t sockets, const struct xsk_dev_opts *opts)
{
	static const struct xsk_dev_opts defaults;
	struct xsk_logger lg = { NULL, NULL };
	uint64_t umem;

	if (!opts)
		opts = &defaults;
	lg.fn = opts->log;
	lg.ctx = opts->log_ctx;
	umem = (uint64_t)or_default(opts->frame_count, 4096) *
	       or_default(opts->frame_size, XSK_UMEM__DEFAULT_FRAME_SIZE) * (sockets ? sockets : 1);
	return xsk_check_caps(&lg, XSK_NEED_ATTACH | XSK_NEED_SOCKET | XSK_NEED_MEMLOCK, umem);
}

int xsk_dev_open(const char *ifname, uint32_t queue, const struct xsk_dev_opts *opts,
		 struct xsk_dev **out)
{
	static const struct xsk_dev_opts defaults;
	struct xdp_options xo;
	socklen_t len = sizeof(xo);
	uint32_t count, rx_size, tx_size;
	struct xsk_dev *xd;
	int mtu = -1;
	int err;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	xd = calloc(1, sizeof(*xd));
	if (!xd)
		return -ENOMEM;
	xd->dev.ops = &xsk_dev_ops;
	xd->log.fn = opts->log;
	xd->log.ctx = opts->log_ctx;
	xd->fd = -1;
	xd->queue = queue;
	xd->need_wakeup = !opts->no_need_wakeup;
	xd->busy_poll = opts->busy_poll;
	xsk_lib_log_begin(&xd->log);

	/* The options first, before touching any interface; again with the interface's MTU known. */
	err = check_opts(xd, opts, false, &count, &rx_size, &tx_size);
	if (!err)
		err = check_interface(xd, ifname, queue, &mtu);
	if (!err && needs_multi_buffer(mtu, xd->chunk_size)) {
		xd->multi_buffer = true;
		err = check_opts(xd, opts, true, &count, &rx_size, &tx_size);
	}
	if (!err)
		err = xsk_check_caps(&xd->log, XSK_NEED_SOCKET | XSK_NEED_MEMLOCK | (opts->prog ? 0 : XSK_NEED_ATTACH),
				     (uint64_t)count * xd->frame_size);
	if (err)
		goto fail;
	set_max_frame(xd, mtu);
	if (opts->prog) {
		xd->prog = opts->prog;
	} else {
		struct xsk_prog_opts po = opts->prog_opts;

		if (!po.log) {
			po.log = opts->log;
			po.log_ctx = opts->log_ctx;
		}
		err = xsk_prog_attach(ifname, &po, &xd->prog);
		if (err)
			goto fail;
		xd->own_prog = true;
		xsk_lib_log_begin(&xd->log);
	}
	err = setup_pool(xd, count);
	if (err)
		goto fail;
	xd->area_size = (size_t)count * xd->frame_size;
	xd->area = mmap(NULL, xd->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (xd->area == MAP_FAILED) {
		xd->area = NULL;
		err = xsk_fail(&xd->log, errno, "cannot map a %zu KiB UMEM: %s", xd->area_size / 1024,
			       strerror(errno));
		goto fail;
	}
	err = open_socket(xd, queue, opts, rx_size, tx_size);
	if (err)
		goto fail;
	xd->fd = xsk_socket__fd(xd->xsk);
	err = xsk_socket__update_xskmap(xd->xsk, xsk_prog_xskmap_fd(xd->prog));
	if (err) {
		err = xsk_fail(&xd->log, -err, "cannot register queue %u in the steering map: %s", queue,
			       strerror(-err));
		goto fail;
	}
	if (getsockopt(xd->fd, SOL_XDP, XDP_OPTIONS, &xo, &len) == 0)
		xd->zerocopy = (xo.flags & XDP_OPTIONS_ZEROCOPY) != 0;
	if (xd->busy_poll)
		set_busy_poll(xd, opts);
	xsk_dev_fill_top_up(xd);
	memset(&xd->st, 0, sizeof(xd->st)); /* the first top-up's "ring empty" is not news */
	xsk_say(&xd->log, XSK_LOG_INFO, "AF_XDP socket on %s queue %u (%s mode, %u frames of %u%s)",
		ifname, queue, xd->zerocopy ? "zero-copy" : "copy", count, xd->frame_size,
		xd->multi_buffer ? ", multi-buffer" : "");
	xsk_lib_log_end();
	*out = xd;
	return 0;
fail:
	xsk_lib_log_end();
	xsk_dev_close(xd);
	return err;
}

void xsk_dev_close(struct xsk_dev *xd)
{
	if (!xd)
		return;
	xsk_lib_log_begin(&xd->log);
	/* Closing the socket also removes it from the XSKMAP. */
	if (xd->xsk)
		xsk_socket__delete(xd->xsk);
	if (xd->umem)
		xsk_umem__delete(xd->umem);
	if (xd->area)
		munmap(xd->area, xd->area_size);
	free(xd->pool_mem);
	xsk_lib_log_end();
	if (xd->own_prog)
		xsk_prog_detach(xd->prog);
	free(xd);
}

int xsk_dev_stats(struct xsk_dev *xd, struct xsk_dev_stats *stats)
{
	struct xdp_statistics ks;
	socklen_t len = sizeof(ks);

	*stats = xd->st;
	stats->frames_free = xd->pool.count[XSK_FRAME_FREE];
	stats->frames_rx_kernel = xd->pool.count[XSK_FRAME_RX_KERNEL];
	stats->frames_rx_held = xd->pool.count[XSK_FRAME_RX_HELD];
	stats->frames_tx_held = xd->pool.count[XSK_FRAME_TX_HELD];
	stats->frames_tx_kernel = xd->pool.count[XSK_FRAME_TX_KERNEL];
	memset(&ks, 0, sizeof(ks));
	if (getsockopt(xd->fd, SOL_XDP, XDP_STATISTICS, &ks, &len) != 0)
		return -errno;
	stats->rx_dropped = ks.rx_dropped;
	stats->rx_invalid_descs = ks.rx_invalid_descs;
	stats->tx_invalid_descs = ks.tx_invalid_descs;
	stats->rx_ring_full = ks.rx_ring_full;
	stats->rx_fill_ring_empty_descs = ks.rx_fill_ring_empty_descs;
	stats->tx_ring_empty_descs = ks.tx_ring_empty_descs;
	return 0;
}

int xsk_dev_fd(const struct xsk_dev *xd)
{
	return xd->fd;
}

bool xsk_dev_is_zerocopy(const struct xsk_dev *xd)
{
	return xd->zerocopy;
}

uint32_t xsk_dev_queue(const struct xsk_dev *xd)
{
	return xd->queue;
}

struct xsk_prog *xsk_dev_prog(const struct xsk_dev *xd)
{
	return xd->prog;
}
