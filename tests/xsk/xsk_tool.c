/* xsk_tool: drives the AF_XDP device in the xsk integration tests, and doubles as the raw AF_XDP
 * reflector baseline for benchmarks. Modes: reflect (answer ARP for our address, swap MAC/IP/UDP ports
 * and send the frame back from its own buffer), count (verify sequence-numbered frames), send (N
 * sequence-numbered UDP frames, optionally counting at the same time), hold (exhaust the pool, then
 * recover), invalid (bad TX submits and raw bad descriptors), openclose (N cycles).
 * Results are printed as key=value words for the scripts to check. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smolxdp/xsk_dev.h"
#include "xsk_dev_impl.h" /* the invalid mode writes raw descriptors on the TX ring */

#define MAX_QUEUES 8
#define MAX_FLOWS 64
#define BURST 64
#define MAGIC 0x534d5854u /* "SMXT" */
#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8
#define HDRS_LEN (ETH_LEN + IP_LEN + UDP_LEN)
#define PAYLOAD_HDR 10 /* magic(4) seq(4) flow(2) */

struct cfg {
	const char *mode;
	const char *ifname;
	uint32_t queues[MAX_QUEUES];
	int nqueues;
	uint32_t addr;      /* ours, host order */
	uint32_t peer_addr; /* send: destination */
	uint8_t peer_mac[6];
	uint8_t our_mac[6];
	uint16_t peer_port;
	uint64_t count;     /* send: frames to send; openclose: cycles */
	uint64_t expect;    /* frames to receive before stopping (0: until signal/idle) */
	int idle_ms;        /* stop after this long without frames (0: never) */
	uint32_t hold;      /* hold: RX frames to hold */
	int pace_us;        /* send: pause between bursts */
	uint32_t frame_len; /* send: every frame this long (0: lengths varied by sequence number) */
	bool spin;
	bool copy_tx;       /* reflect through tx_reserve + copy instead of in place */
	bool stall;         /* count/reflect: read nothing until SIGUSR1 */
	struct xsk_dev_opts dopts;
	int verbose;
};

struct worker {
	const struct cfg *cfg;
	struct xsk_dev *xd;
	uint32_t queue;
	uint64_t rx, ok, ooo, bad, other, arp, sent, send_retry;
	uint64_t next_seq[MAX_FLOWS];
	uint64_t flow_ok[MAX_FLOWS];
	bool flow_seen[MAX_FLOWS];
	int result;
	bool resumed;
};

static volatile sig_atomic_t stop;
static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[8];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7 + i);
}

/* Length of the frame carrying seq: varies so that sizes from minimum to ~1000 bytes are covered. */
static uint32_t frame_len_for(const struct cfg *c, uint32_t seq)
{
	return c->frame_len ? c->frame_len : HDRS_LEN + PAYLOAD_HDR + (seq * 37) % 960;
}

static uint32_t build_udp(const struct cfg *c, uint8_t *f, uint32_t seq, uint16_t flow)
{
	uint32_t len = frame_len_for(c, seq);
	uint32_t udp_len = len - ETH_LEN - IP_LEN;
	uint8_t *ip = f + ETH_LEN;
	uint8_t *udp = ip + IP_LEN;
	uint8_t *pl = udp + UDP_LEN;
	uint32_t sum;
	size_t i;

	memcpy(f, c->peer_mac, 6);
	memcpy(f + 6, c->our_mac, 6);
	wr16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	wr16(ip + 2, (uint16_t)(len - ETH_LEN));
	wr16(ip + 4, (uint16_t)seq);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	wr16(ip + 10, 0);
	wr32(ip + 12, c->addr);
	wr32(ip + 16, c->peer_addr);
	wr16(ip + 10, fold(sum16(ip, IP_LEN, 0)));
	wr16(udp, (uint16_t)(9000 + flow));
	wr16(udp + 2, c->peer_port);
	wr16(udp + 4, (uint16_t)udp_len);
	wr16(udp + 6, 0);
	wr32(pl, MAGIC);
	wr32(pl + 4, seq);
	wr16(pl + 8, flow);
	for (i = PAYLOAD_HDR; i < udp_len - UDP_LEN; i++)
		pl[i] = pattern(seq, i);
	/* RFC 768: pseudo-header (addresses, protocol, UDP length) plus the datagram. */
	sum = sum16(ip + 12, 8, 0) + 17 + udp_len;
	sum = sum16(udp, udp_len, sum);
	wr16(udp + 6, fold(sum) == 0 ? 0xffff : fold(sum));
	return len;
}

/* An ARP request for our address, turned into the reply in place (RFC 826). Returns the length to
 * send, 0 if the frame is not such a request. */
static uint32_t arp_reply_in_place(const struct cfg *c, uint8_t *f, uint32_t len)
{
	uint8_t *a = f + ETH_LEN;

	if (len < ETH_LEN + 28 || rd16(f + 12) != 0x0806 || rd16(a) != 1 || rd16(a + 2) != 0x0800 ||
	    a[4] != 6 || a[5] != 4 || rd16(a + 6) != 1 || rd32(a + 24) != c->addr)
		return 0;
	wr16(a + 6, 2);
	memcpy(a + 18, a + 8, 10);    /* target := sender */
	memcpy(a + 8, c->our_mac, 6); /* sender := us */
	wr32(a + 14, c->addr);
	memcpy(f, a + 18, 6);
	memcpy(f + 6, c->our_mac, 6);
	return len;
}

/* Swap Ethernet, IPv4 and UDP/TCP endpoints: checksums stay valid (sums are commutative). */
static uint32_t reflect_in_place(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + ETH_LEN;
	uint32_t ihl;

	if (len < ETH_LEN + IP_LEN || rd16(f + 12) != 0x0800)
		return 0;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP_LEN || len < ETH_LEN + ihl)
		return 0;
	swap_bytes(f, f + 6, 6);
	swap_bytes(ip + 12, ip + 16, 4);
	if ((ip[9] == 17 || ip[9] == 6) && len >= ETH_LEN + ihl + 4)
		swap_bytes(ip + ihl, ip + ihl + 2, 2);
	return len;
}

/* Checks a sequence-numbered frame from send mode or tests/xsk/peer.py. */
static void verify_frame(struct worker *w, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_LEN;
	const uint8_t *pl = ip + IP_LEN + UDP_LEN;
	uint32_t seq, n, i;
	uint16_t flow;

	if (len < HDRS_LEN + PAYLOAD_HDR || rd16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17 ||
	    rd32(pl) != MAGIC) {
		w->other++;
		return;
	}
	seq = rd32(pl + 4);
	flow = rd16(pl + 8);
	n = rd16(ip + IP_LEN + 4) - UDP_LEN;
	if (flow >= MAX_FLOWS || n < PAYLOAD_HDR || ETH_LEN + IP_LEN + UDP_LEN + n > len) {
		w->bad++;
		return;
	}
	for (i = PAYLOAD_HDR; i < n; i++) {
		if (pl[i] != pattern(seq, i)) {
			w->bad++;
			return;
		}
	}
	if (seq == w->next_seq[flow]) {
		w->ok++;
		w->flow_ok[flow]++;
	}
	else if (w->ooo++ < 5)
		fprintf(stderr, "q%u flow %u: seq %u, expected %llu\n", w->queue, flow, seq,
			(unsigned long long)w->next_seq[flow]);
	w->next_seq[flow] = seq + 1;
	w->flow_seen[flow] = true;
}

static void wait_rx(struct worker *w)
{
	struct pollfd pfd = { .fd = xsk_dev_fd(w->xd), .events = POLLIN, .revents = 0 };

	if (!w->cfg->spin)
		poll(&pfd, 1, 20);
}

/* One receive pass: ARP for us answered in place; the rest reflected or verified. */
static size_t rx_pass(struct worker *w, bool reflect)
{
	struct dev *dev = xsk_dev_as_dev(w->xd);
	struct dev_frame fr[BURST];
	size_t n = dev_rx_burst(dev, fr, BURST, 0);
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t out = arp_reply_in_place(w->cfg, fr[i].data, fr[i].len);

		w->rx++;
		if (out) {
			w->arp++;
			xsk_dev_tx_forward(w->xd, &fr[i], out);
			continue;
		}
		if (!reflect) {
			verify_frame(w, fr[i].data, fr[i].len);
			dev_rx_release(dev, &fr[i], 1);
			continue;
		}
		out = reflect_in_place(fr[i].data, fr[i].len);
		if (!out) {
			w->other++;
			dev_rx_release(dev, &fr[i], 1);
		} else if (w->cfg->copy_tx) {
			struct dev_frame tx;

			if (dev_tx_reserve(dev, &tx, 0)) {
				memcpy(tx.data, fr[i].data, out);
				tx.len = out;
				dev_tx_submit(dev, &tx);
			}
			dev_rx_release(dev, &fr[i], 1);
		} else {
			xsk_dev_tx_forward(w->xd, &fr[i], out);
		}
	}
	dev_tx_flush(dev, 0);
	return n;
}

/* True once nothing has been received for the idle limit (-w), if one is set. */
static bool idle_expired(struct worker *w, uint64_t *seen, uint64_t *last)
{
	if (w->rx != *seen) {
		*seen = w->rx;
		*last = now_ms();
		return false;
	}
	return w->cfg->idle_ms && now_ms() - *last > (uint64_t)w->cfg->idle_ms;
}

static void run_rx_loop(struct worker *w, bool reflect)
{
	uint64_t last, seen = 0;

	if (w->cfg->stall) {
		/* Let the rings overflow: the kernel must count the drops and the device carry on. */
		printf("STALLING\n");
		fflush(stdout);
		while (!stop && !usr1)
			usleep(10000);
	}
	last = now_ms();
	while (!stop) {
		if (rx_pass(w, reflect) == 0) {
			if (w->cfg->stall && !w->resumed) {
				/* Drained, and the fill ring topped up again: say so. */
				w->resumed = true;
				printf("RESUMED rx=%llu\n", (unsigned long long)w->rx);
				fflush(stdout);
			}
			wait_rx(w);
		}
		if (w->cfg->expect && w->rx - w->arp >= w->cfg->expect)
			break;
		if (idle_expired(w, &seen, &last))
			break;
	}
}

static void run_send(struct worker *w)
{
	struct dev *dev = xsk_dev_as_dev(w->xd);
	uint64_t seq = 0;
	uint64_t last = now_ms();
	uint64_t seen = 0;

	while (!stop) {
		int i;

		for (i = 0; i < BURST && seq < w->cfg->count; i++) {
			struct dev_frame tx;

			if (!dev_tx_reserve(dev, &tx, 0)) {
				w->send_retry++;
				break;
			}
			tx.len = build_udp(w->cfg, tx.data, (uint32_t)seq, (uint16_t)w->queue);
			dev_tx_submit(dev, &tx);
			seq++;
		}
		dev_tx_flush(dev, 0);
		w->sent = seq;
		rx_pass(w, false);
		if (w->cfg->pace_us)
			usleep((useconds_t)w->cfg->pace_us);
		if (seq >= w->cfg->count) {
			bool rx_done = !w->cfg->expect || w->rx - w->arp >= w->cfg->expect;

			if (rx_done && xsk_dev_tx_drain(w->xd) == 0)
				break;
			if (idle_expired(w, &seen, &last))
				break;
			wait_rx(w);
		}
	}
}

/* Hold RX frames until the fill ring runs dry and reserve TX frames until the pool refuses, then
 * give everything back and reflect as usual: overload must degrade to counted drops, never wedge. */
static void run_hold(struct worker *w)
{
	struct dev *dev = xsk_dev_as_dev(w->xd);
	uint32_t cap = w->cfg->hold;
	struct dev_frame *held = calloc(cap, sizeof(*held));
	struct dev_frame *tx = calloc(cap * 4, sizeof(*tx));
	uint32_t nheld = 0, ntx = 0, i;
	struct xsk_dev_stats st;

	if (!held || !tx) {
		w->result = 1;
		goto out;
	}
	while (!stop && nheld < cap) {
		size_t n = dev_rx_burst(dev, held + nheld, cap - nheld, 0);

		nheld += (uint32_t)n;
		if (n == 0)
			wait_rx(w);
	}
	while (!stop && ntx < cap * 4 && dev_tx_reserve(dev, &tx[ntx], 0))
		ntx++;
	printf("HOLDING\n");
	fflush(stdout);
	/* Keep polling with everything held until told to stop: nothing new may arrive, since the
	 * kernel has no fill frames left. */
	while (!stop && !usr1) {
		struct dev_frame extra;

		if (dev_rx_burst(dev, &extra, 1, 0)) {
			w->bad++;
			dev_rx_release(dev, &extra, 1);
		}
		dev_tx_flush(dev, 0);
		usleep(5000);
	}
	xsk_dev_stats(w->xd, &st);
	printf("HOLD-DONE bad=%llu held=%u tx_held=%u tx_pool_empty=%llu fill_ring_empty=%llu "
	       "rx_fill_ring_empty_descs=%llu rx_dropped=%llu frames_free=%u\n",
	       (unsigned long long)w->bad, nheld, ntx,
	       (unsigned long long)st.tx_pool_empty, (unsigned long long)st.fill_ring_empty,
	       (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.rx_dropped,
	       st.frames_free);
	fflush(stdout);
	for (i = 0; i < ntx; i++)
		dev_tx_abort(dev, &tx[i]);
	dev_rx_release(dev, held, nheld);
	w->rx = 0;
	run_rx_loop(w, true);
out:
	free(held);
	free(tx);
}

/* Bad submits through the API (each must be refused and counted), then raw bad descriptors on the
 * TX ring (the kernel must refuse and count them), then one good frame: still sent. */
static void run_invalid(struct worker *w)
{
	struct xsk_dev *xd = w->xd;
	struct dev *dev = xsk_dev_as_dev(xd);
	struct dev_frame f, never;
	struct xsk_dev_stats st;
	uint32_t idx;
	int i;

	dev_tx_reserve(dev, &f, 0);
	f.len = 0;
	dev_tx_submit(dev, &f); /* 1: empty (frame goes back to the pool) */
	dev_tx_reserve(dev, &f, 0);
	f.len = f.cap + 1;
	dev_tx_submit(dev, &f); /* 2: longer than the frame */
	never = f;
	never.handle = (uint64_t)xd->pool.nframes * xd->frame_size; /* 3: outside the UMEM */
	never.len = 60;
	dev_tx_submit(dev, &never);
	dev_tx_submit(dev, &f); /* 4: already given back */
	dev_tx_abort(dev, &f);  /* 5: abort of a frame not lent */
	dev_rx_release(dev, &f, 1); /* rx_invalid 1: release of a frame never received */

	/* Raw: an address past the UMEM, and one of our frames with a length past the frame. Kernels
	 * differ on whether they complete invalid descriptors; either way our frame must come back or
	 * stay accounted, and a completion for an address we never sent is refused. */
	dev_tx_reserve(dev, &f, 0);
	xsk_pool_move(&xd->pool, f.handle, XSK_FRAME_TX_HELD, XSK_FRAME_TX_KERNEL);
	for (i = 0; i < 2; i++) {
		struct xdp_desc *d;

		if (xsk_ring_prod__reserve(&xd->tx, 1, &idx) != 1)
			break;
		d = xsk_ring_prod__tx_desc(&xd->tx, idx);
		d->addr = i == 0 ? xd->area_size + 4096 : f.handle;
		d->len = i == 0 ? 60 : xd->frame_size * 2;
		d->options = 0;
		xsk_ring_prod__submit(&xd->tx, 1);
	}
	xd->kick_pending = true;
	dev_tx_flush(dev, 0);

	if (dev_tx_reserve(dev, &f, 0)) {
		f.len = build_udp(w->cfg, f.data, 0, 0);
		dev_tx_submit(dev, &f);
	}
	for (i = 0; i < 100 && xsk_dev_tx_drain(xd) > 1; i++)
		usleep(1000);
	usleep(20000);
	xsk_dev_tx_drain(xd);
	xsk_dev_stats(xd, &st);
	printf("INVALID tx_invalid=%llu rx_invalid=%llu tx_invalid_descs=%llu tx_frames=%llu "
	       "tx_completions=%llu frames_free=%u frames_tx_kernel=%u\n",
	       (unsigned long long)st.tx_invalid, (unsigned long long)st.rx_invalid,
	       (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.tx_frames,
	       (unsigned long long)st.tx_completions, st.frames_free, st.frames_tx_kernel);
	/* 5 refused submits/aborts (+1 if the kernel completed the foreign address), the bad
	 * release, both raw descriptors refused by the kernel, the good frame sent and completed. */
	w->result = !((st.tx_invalid == 5 || st.tx_invalid == 6) && st.rx_invalid == 1 &&
		      st.tx_invalid_descs == 2 && st.tx_frames == 1 && st.tx_completions >= 1 &&
		      st.frames_tx_kernel <= 1);
}

static void print_dev(struct worker *w)
{
	struct xsk_dev_stats s;

	if (xsk_dev_stats(w->xd, &s) != 0)
		return;
	printf("dev q=%u rx=%llu ok=%llu ooo=%llu bad=%llu other=%llu arp=%llu sent=%llu "
	       "send_retry=%llu flows=", w->queue, (unsigned long long)w->rx,
	       (unsigned long long)w->ok, (unsigned long long)w->ooo, (unsigned long long)w->bad,
	       (unsigned long long)w->other, (unsigned long long)w->arp, (unsigned long long)w->sent,
	       (unsigned long long)w->send_retry);
	for (int i = 0, first = 1; i < MAX_FLOWS; i++) {
		if (w->flow_seen[i]) {
			printf("%s%d", first ? "" : ",", i);
			first = 0;
		}
	}
	printf(" flowok=");
	for (int i = 0, first = 1; i < MAX_FLOWS; i++) {
		if (w->flow_ok[i]) {
			printf("%s%d:%llu", first ? "" : ",", i, (unsigned long long)w->flow_ok[i]);
			first = 0;
		}
	}
	printf(" rx_frames=%llu tx_frames=%llu tx_completions=%llu fill_ring_empty=%llu "
	       "fill_pool_empty=%llu tx_ring_full=%llu tx_pool_empty=%llu tx_invalid=%llu "
	       "rx_invalid=%llu kicks=%llu kick_errors=%llu rx_dropped=%llu rx_invalid_descs=%llu "
	       "tx_invalid_descs=%llu rx_ring_full=%llu rx_fill_ring_empty_descs=%llu "
	       "tx_ring_empty_descs=%llu frames_free=%u frames_rx_kernel=%u frames_rx_held=%u "
	       "frames_tx_held=%u frames_tx_kernel=%u zerocopy=%d\n",
	       (unsigned long long)s.rx_frames, (unsigned long long)s.tx_frames,
	       (unsigned long long)s.tx_completions, (unsigned long long)s.fill_ring_empty,
	       (unsigned long long)s.fill_pool_empty, (unsigned long long)s.tx_ring_full,
	       (unsigned long long)s.tx_pool_empty, (unsigned long long)s.tx_invalid,
	       (unsigned long long)s.rx_invalid, (unsigned long long)s.kicks,
	       (unsigned long long)s.kick_errors, (unsigned long long)s.rx_dropped,
	       (unsigned long long)s.rx_invalid_descs, (unsigned long long)s.tx_invalid_descs,
	       (unsigned long long)s.rx_ring_full, (unsigned long long)s.rx_fill_ring_empty_descs,
	       (unsigned long long)s.tx_ring_empty_descs, s.frames_free, s.frames_rx_kernel,
	       s.frames_rx_held, s.frames_tx_held, s.frames_tx_kernel, xsk_dev_is_zerocopy(w->xd));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const char *m = w->cfg->mode;

	if (strcmp(m, "reflect") == 0)
		run_rx_loop(w, true);
	else if (strcmp(m, "count") == 0)
		run_rx_loop(w, false);
	else if (strcmp(m, "send") == 0)
		run_send(w);
	else if (strcmp(m, "hold") == 0)
		run_hold(w);
	else if (strcmp(m, "invalid") == 0)
		run_invalid(w);
	return NULL;
}

static int count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static int run_openclose(struct cfg *c)
{
	int fds_before = count_fds();
	uint64_t i;

	for (i = 0; i < c->count; i++) {
		struct xsk_dev *xd;
		int err = xsk_dev_open(c->ifname, c->queues[0], &c->dopts, &xd);

		if (err)
			return 1;
		err = xsk_prog_add_addr(xsk_dev_prog(xd), c->addr);
		xsk_dev_close(xd);
		if (err)
			return 1;
	}
	printf("openclose cycles=%llu fds_before=%d fds_after=%d\n", (unsigned long long)i,
	       fds_before, count_fds());
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int if_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int err;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (err)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xsk_tool MODE -i IFACE -a OUR_IP [options]\n"
		"modes: reflect count send hold invalid openclose\n"
		"  -q Q[,Q..]   queues (one thread each; default 0)\n"
		"  -d IP -m MAC peer for send;  -P PORT peer UDP port (default 9999)\n"
		"  -n N         send: frames; openclose: cycles\n"
		"  -e N         stop after receiving N frames;  -w MS stop after MS idle\n"
		"  -H N         hold: RX frames to hold\n"
		"  -p US        send: pause between bursts;  -L LEN send: every frame LEN bytes\n"
		"  -c MODE      bind: auto|zc|copy;  -k MODE attach: auto|native|skb\n"
		"  -b           busy poll (SO_PREFER_BUSY_POLL etc.);  -s spin (never sleep in poll)\n"
		"  -N           no need_wakeup;  -C reflect by copying into a reserved TX frame\n"
		"  -S           count/reflect: read nothing until SIGUSR1 (hold: release on SIGUSR1)\n"
		"  -F N -R N -T N -f N -B N  frames, rx ring, tx ring, fill ring, batch\n"
		"  -v / -V      info / debug messages (libxdp and libbpf included)\n");
}

static int parse_args(int argc, char **argv, struct cfg *c)
{
	int o;

	memset(c, 0, sizeof(*c));
	c->peer_port = 9999;
	c->verbose = XSK_LOG_NOTICE; /* the zero-copy fallback is said as a notice */
	if (argc < 2)
		return -1;
	c->mode = argv[1];
	optind = 2;
	while ((o = getopt(argc, argv, "i:q:a:d:m:P:n:e:w:H:p:L:c:k:bsNCSF:R:T:f:B:vV")) != -1) {
		switch (o) {
		case 'i': c->ifname = optarg; break;
		case 'q': {
			char *s = optarg;

			while (*s && c->nqueues < MAX_QUEUES) {
				c->queues[c->nqueues++] = (uint32_t)strtoul(s, &s, 10);
				if (*s == ',')
					s++;
			}
			break;
		}
		case 'a': if (parse_ip(optarg, &c->addr)) return -1; break;
		case 'd': if (parse_ip(optarg, &c->peer_addr)) return -1; break;
		case 'm': if (parse_mac(optarg, c->peer_mac)) return -1; break;
		case 'P': c->peer_port = (uint16_t)atoi(optarg); break;
		case 'n': c->count = strtoull(optarg, NULL, 10); break;
		case 'e': c->expect = strtoull(optarg, NULL, 10); break;
		case 'w': c->idle_ms = atoi(optarg); break;
		case 'H': c->hold = (uint32_t)atoi(optarg); break;
		case 'p': c->pace_us = atoi(optarg); break;
		case 'L':
			c->frame_len = (uint32_t)atoi(optarg);
			if (c->frame_len < HDRS_LEN + PAYLOAD_HDR || c->frame_len > 1514) {
				fprintf(stderr, "xsk_tool: -L wants %d to 1514 bytes\n", HDRS_LEN + PAYLOAD_HDR);
				return -1;
			}
			break;
		case 'c':
			c->dopts.bind_mode = strcmp(optarg, "zc") == 0 ? XSK_BIND_ZEROCOPY :
					     strcmp(optarg, "copy") == 0 ? XSK_BIND_COPY : XSK_BIND_AUTO;
			break;
		case 'k':
			c->dopts.prog_opts.mode = strcmp(optarg, "native") == 0 ? XSK_ATTACH_NATIVE :
						  strcmp(optarg, "skb") == 0 ? XSK_ATTACH_SKB :
									      XSK_ATTACH_AUTO;
			break;
		case 'b': c->dopts.busy_poll = true; break;
		case 's': c->spin = true; break;
		case 'N': c->dopts.no_need_wakeup = true; break;
		case 'C': c->copy_tx = true; break;
		case 'S': c->stall = true; break;
		case 'F': c->dopts.frame_count = (uint32_t)atoi(optarg); break;
		case 'R': c->dopts.rx_size = (uint32_t)atoi(optarg); break;
		case 'T': c->dopts.tx_size = (uint32_t)atoi(optarg); break;
		case 'f': c->dopts.fill_size = (uint32_t)atoi(optarg); break;
		case 'B': c->dopts.batch_size = (uint32_t)atoi(optarg); break;
		case 'v': c->verbose = XSK_LOG_INFO; break;
		case 'V': c->verbose = XSK_LOG_DEBUG; break;
		default: return -1;
		}
	}
	if (!c->ifname)
		return -1;
	if (c->nqueues == 0)
		c->nqueues = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct cfg c;
	static struct worker w[MAX_QUEUES];
	pthread_t th[MAX_QUEUES];
	struct xsk_prog *prog = NULL;
	struct xsk_prog_stats ps;
	struct xsk_prog_info pi;
	struct sigaction sa;
	int i, err, rc = 0;

	if (parse_args(argc, argv, &c)) {
		usage();
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	c.dopts.log = xsk_log_stderr;
	c.dopts.log_ctx = &c.verbose;
	c.dopts.prog_opts.log = xsk_log_stderr;
	c.dopts.prog_opts.log_ctx = &c.verbose;
	if_mac(c.ifname, c.our_mac);
	if (strcmp(c.mode, "openclose") == 0)
		return run_openclose(&c);

	/* One program for the interface, shared by every queue's socket. */
	err = xsk_prog_attach(c.ifname, &c.dopts.prog_opts, &prog);
	if (err)
		return 1;
	if (c.addr && xsk_prog_add_addr(prog, c.addr)) {
		xsk_prog_detach(prog);
		return 1;
	}
	xsk_prog_get_info(prog, &pi);
	printf("prog id=%u native=%d dispatcher=%d\n", pi.prog_id, pi.native, pi.dispatcher);
	c.dopts.prog = prog;
	for (i = 0; i < c.nqueues; i++) {
		w[i].cfg = &c;
		w[i].queue = c.queues[i];
		err = xsk_dev_open(c.ifname, c.queues[i], &c.dopts, &w[i].xd);
		if (err) {
			rc = 1;
			goto out;
		}
	}
	printf("READY\n");
	fflush(stdout);
	for (i = 0; i < c.nqueues; i++)
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	for (i = 0; i < c.nqueues; i++) {
		pthread_join(th[i], NULL);
		rc |= w[i].result;
	}
	for (i = 0; i < c.nqueues; i++)
		print_dev(&w[i]);
	if (xsk_prog_stats(prog, &ps) == 0)
		printf("prog steered=%llu passed=%llu malformed=%llu no_socket=%llu\n",
		       (unsigned long long)ps.steered, (unsigned long long)ps.passed,
		       (unsigned long long)ps.malformed, (unsigned long long)ps.no_socket);
out:
	for (i = 0; i < c.nqueues; i++)
		xsk_dev_close(w[i].xd);
	xsk_prog_detach(prog);
	fflush(stdout);
	return rc;
}
