/* One stack instance of smolxdp-server: an AF_XDP device on one RX queue (optionally behind the fault
 * injector and the pcap recorder), an interface, and the UDP echo socket; and its event loop, which
 * spins (--spin, or --busy-poll with socket busy polling) or sleeps in poll() until the interface's next
 * timer or the socket is readable. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"
#include "smolxdp/wire/ethernet.h"

#define SLEEP_MAX_MS 100 /* wake at least this often to notice a stop request */

static smx_instant now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (smx_instant)ts.tv_sec * 1000000u + (smx_instant)ts.tv_nsec / 1000u;
}

/* The wall clock minus the monotonic one, now: what turns instants into the pcap's Unix times. */
static uint64_t wall_offset_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u - now_us();
}

static void pcap_write(void *ctx, const void *data, size_t len)
{
	fwrite(data, 1, len, ctx); /* buffered by stdio: no syscall per frame */
}

static int open_wrappers(struct srv_queue *q, const struct srv_opts *o)
{
	q->dev = srv_meter_init(&q->meter, xsk_dev_as_dev(q->xd));
	if (o->drop_pct || o->corrupt_pct) {
		struct dev_fault_config fc = {
			.inner = q->dev,
			.seed = o->seed + q->queue,
			.dirs = o->fault_dirs,
			.drop_pct = o->drop_pct,
			.corrupt_pct = o->corrupt_pct,
		};
		q->dev = dev_fault_init(&q->fault, &fc);
	}
	if (o->pcap_path) {
		char path[4096];
		if (o->queues > 1)
			snprintf(path, sizeof(path), "%s.q%u", o->pcap_path, q->queue);
		else
			snprintf(path, sizeof(path), "%s", o->pcap_path);
		q->pcap_file = fopen(path, "wb");
		if (!q->pcap_file) {
			int err = -errno;
			fprintf(stderr, "smolxdp-server: cannot write %s: %s\n", path, strerror(errno));
			return err;
		}
		struct dev_pcap_config pc = {
			.inner = q->dev, .write = pcap_write, .ctx = q->pcap_file, .wall_offset_us = wall_offset_us()};
		q->dev = dev_pcap_init(&q->pcap, &pc);
	}
	return 0;
}

int srv_queue_open(struct srv_queue *q, const struct srv_opts *o, uint32_t queue, struct xsk_prog *prog,
		   struct iface_neigh_table *neigh)
{
	int err;

	memset(q, 0, sizeof(*q));
	q->opts = o;
	q->queue = queue;
	struct xsk_dev_opts xo = {
		.bind_mode = o->bind_mode,
		.busy_poll = o->busy_poll,
		.prog = prog,
		.log = xsk_log_app_stderr,
		.log_ctx = o->log,
	};
	err = xsk_dev_open(o->ifname, queue, &xo, &q->xd);
	if (err < 0) {
		/* The message names the queue where it matters ("queue 5 out of range: ..."). */
		fprintf(stderr, "smolxdp-server: %s\n", xsk_last_error());
		return err;
	}
	err = open_wrappers(q, o);
	if (err < 0)
		return err;

	struct dev_caps caps;
	dev_get_caps(q->dev, &caps); /* the device's largest frame follows IFACE's MTU (jumbo too) */
	struct iface_config cfg = {
		.mac = o->mac,
		.addrs = {o->ip},
		.addr_count = 1,
		.gateway = o->gateway,
		.mtu = o->mtu ? o->mtu : (uint16_t)SMX_MIN(caps.max_frame - ETH_HEADER_LEN, 65535u),
		.vlan_id = o->vlan_id,
		.vlan_prio = o->vlan_prio,
		.seed = (uint64_t)now_us() ^ ((uint64_t)queue << 48),
		.neigh_shared = neigh,
	};
	size_t n = iface_mem_size(&cfg);
	q->iface_mem = malloc(n);
	if (!q->iface_mem)
		return -ENOMEM;
	q->iface = iface_init(q->iface_mem, n, &cfg, q->dev);
	if (!q->iface) {
		fprintf(stderr, "smolxdp-server: the interface refused its configuration (MTU %u: more than "
			"the device's %u, or too small?)\n", cfg.mtu, caps.max_frame - ETH_HEADER_LEN);
		return -EINVAL;
	}

	/* Echo replies are built straight into transmit frames; the slots only hold overflow. They take
	 * --udp-max bytes each (up to 65,507, datagrams the interface reassembles): their memory is
	 * touched only by a datagram not read, or not sent, at once. */
	struct udp_socket_config sc = {
		.rx_slots = 256, .rx_slot_size = o->udp_max, .tx_slots = 64, .tx_slot_size = o->udp_max,
	};
	struct udp_config uc = {.max_sockets = 8, .seed = cfg.seed};
	size_t un = udp_mem_size(&uc);
	n = udp_socket_mem_size(&sc);
	q->echo_mem = malloc(un + n);
	if (!q->echo_mem)
		return -ENOMEM;
	q->udp = udp_init(q->echo_mem, un, &uc);
	struct l4_handler uh;
	udp_handler(q->udp, &uh);
	iface_set_l4_handler(q->iface, IP_PROTO_UDP, &uh);
	q->echo = udp_socket_init((uint8_t *)q->echo_mem + un, n, &sc);
	if (!q->echo || udp_socket_bind(q->echo, q->udp, 0, o->echo_port) != UDP_OK) {
		fprintf(stderr, "smolxdp-server: cannot bind UDP port %u\n", o->echo_port);
		return -EINVAL;
	}
	if (o->tcp_conns) {
		struct srv_tcp_opts to = {
			.max_conns = o->tcp_conns,
			.buf_size = o->tcp_buf,
			.pool_size = o->tcp_pool,
			.rto_min_ms = o->tcp_rto_min_ms,
			.conn_log = o->tcp_log ? stdout : NULL,
		};
		err = srv_tcp_open(&q->tcp, q->iface, &to);
		if (err < 0) {
			fprintf(stderr, "smolxdp-server: cannot start the TCP services: %s\n", strerror(-err));
			return err;
		}
	}
	if (o->verbose)
		fprintf(stderr, "smolxdp-server: queue %u open, %s mode, MTU %u\n", queue,
			xsk_dev_is_zerocopy(q->xd) ? "zero-copy" : "copy", iface_mtu(q->iface));
	return 0;
}

/* Sends every received datagram back where it came from, payload unchanged. Returns whether any was. */
static bool echo_all(struct srv_queue *q)
{
	const uint8_t *data;
	size_t len;
	struct udp_meta m;
	bool any = false;

	while (udp_socket_recv_view(q->echo, &data, &len, &m) == UDP_OK) {
		uint8_t *out;
		any = true;
		if (udp_socket_send_begin(q->echo, m.remote_addr, m.remote_port, len, &out) == UDP_OK) {
			memcpy(out, data, len);
			udp_socket_send_commit(q->echo, len);
		} else if (udp_socket_send_to(q->echo, data, len, m.remote_addr, m.remote_port) != UDP_OK) {
			q->echo_dropped++;
			continue;
		}
		q->echoed++;
	}
	return any;
}

static void take_snapshot(struct srv_queue *q, smx_instant now)
{
	struct srv_snapshot *s = &q->snap;

	s->at = now;
	s->rx_frames = q->meter.rx_frames;
	s->rx_bytes = q->meter.rx_bytes;
	s->tx_frames = q->meter.tx_frames;
	s->tx_bytes = q->meter.tx_bytes;
	s->tcp_opened = q->tcp.s ? srv_tcp_opened(&q->tcp) : 0;
	s->tcp_ended = q->tcp.s ? srv_tcp_ended(&q->tcp) : 0;
	s->tcp_open = q->tcp.open;
	s->drops = srv_queue_drops(q);
}

/* Answers the main thread's request for a snapshot, if there is one: a load per loop otherwise. */
static void answer_snapshot(struct srv_queue *q)
{
	uint32_t req = __atomic_load_n(&q->snap_req, __ATOMIC_ACQUIRE);

	if (req == __atomic_load_n(&q->snap_done, __ATOMIC_RELAXED))
		return;
	take_snapshot(q, now_us());
	__atomic_store_n(&q->snap_done, req, __ATOMIC_RELEASE);
}

void *srv_queue_run(void *arg)
{
	struct srv_queue *q = arg;
	struct pollfd pfd = {.fd = xsk_dev_fd(q->xd), .events = POLLIN};

	while (!srv_stop) {
		answer_snapshot(q);
		bool active = iface_poll(q->iface, now_us());
		bool answered = echo_all(q);
		if (q->tcp.s)
			answered |= srv_tcp_run(&q->tcp);
		/* Replies leave now, not after the next poll's receive. */
		if (answered)
			iface_flush(q->iface, now_us());
		if (active || answered || q->opts->busy_poll || q->opts->spin)
			continue;
		/* Idle: sleep until a frame arrives or the interface's next timer (ARP retry, TCP, and
		 * while a packet waits for ARP a look at the neighbours the other queues learned). */
		smx_instant delay = iface_poll_delay(q->iface, now_us());
		int timeout = SLEEP_MAX_MS;
		if (delay != SMX_INSTANT_NEVER && delay < (smx_instant)SLEEP_MAX_MS * 1000)
			timeout = (int)((delay + 999) / 1000);
		if (timeout > 0 && poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			q->error = -errno;
			srv_stop = 1;
		}
	}
	/* Connections still open end here, with a reset the peers see now rather than at their next
	 * segment (which, once our program is detached, the kernel would answer with a reset). */
	if (q->tcp.s) {
		srv_tcp_stop(&q->tcp);
		iface_flush(q->iface, now_us());
	}
	return NULL;
}

uint64_t srv_queue_drops(struct srv_queue *q)
{
	const uint64_t *c = iface_counters(q->iface);
	struct xsk_dev_stats xs;
	uint64_t n = q->echo_dropped + q->fault.stats.dropped;

	/* By name: a counter added to the interface later is summed too. */
	for (int i = 0; i < IFACE_COUNTER_COUNT; i++)
		if (strncmp(iface_counter_name((enum iface_counter)i), "drop_", 5) == 0)
			n += c[i];
	if (q->tcp.s)
		n += srv_tcp_drops(&q->tcp);
	if (q->udp) {
		const struct udp_stats *u = udp_stack_stats(q->udp);

		n += u->rx_malformed + u->rx_bad_checksum + u->rx_no_socket + u->rx_buffer_full + u->rx_too_big +
		     u->tx_no_buffer;
	}
	if (xsk_dev_stats(q->xd, &xs) == 0)
		n += xs.rx_dropped + xs.rx_ring_full + xs.tx_ring_full;
	return n;
}

void srv_queue_print_stats(struct srv_queue *q, FILE *out, bool all)
{
	const uint64_t *c = iface_counters(q->iface);
	const struct udp_socket_stats *us = udp_socket_get_stats(q->echo);
	struct xsk_dev_stats xs;

	fprintf(out, "queue %u: echoed %llu datagrams (%llu bytes), %llu replies dropped\n", q->queue,
		(unsigned long long)q->echoed, (unsigned long long)us->rx_bytes,
		(unsigned long long)q->echo_dropped);
	for (int i = 0; i < IFACE_COUNTER_COUNT; i++)
		if (all || c[i])
			fprintf(out, "  %-28s %llu\n", iface_counter_name((enum iface_counter)i), (unsigned long long)c[i]);
	if (q->udp) {
		/* UDP's own counters (the interface hands it datagrams; it counts what it drops). */
		const struct udp_stats *u = udp_stack_stats(q->udp);
		const struct {
			const char *name;
			uint64_t v;
		} rows[] = {
			{ "udp_delivered", u->rx_datagrams },        { "udp_tx_datagrams", u->tx_datagrams },
			{ "drop_udp_malformed", u->rx_malformed },   { "drop_udp_bad_checksum", u->rx_bad_checksum },
			{ "drop_udp_no_socket", u->rx_no_socket },   { "drop_udp_buffer_full", u->rx_buffer_full },
			{ "drop_udp_too_big", u->rx_too_big },       { "drop_udp_tx_no_buffer", u->tx_no_buffer },
			{ "udp_pmtu_reductions", u->pmtu_reductions }, { "drop_udp_pmtu_unverified", u->pmtu_unverified },
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			if (all || rows[i].v)
				fprintf(out, "  %-28s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
	}
	if (us->rx_dropped_full || us->rx_dropped_too_big)
		fprintf(out, "  %-28s %llu\n  %-28s %llu\n", "echo_rx_dropped_full", (unsigned long long)us->rx_dropped_full,
			"echo_rx_dropped_too_big", (unsigned long long)us->rx_dropped_too_big);
	if (q->tcp.s)
		srv_tcp_print_stats(&q->tcp, out);
	if (q->opts->drop_pct || q->opts->corrupt_pct)
		fprintf(out, "  fault injector: dropped %llu, corrupted %llu\n", (unsigned long long)q->fault.stats.dropped,
			(unsigned long long)q->fault.stats.corrupted);
	if (xsk_dev_stats(q->xd, &xs) == 0)
		fprintf(out, "  xsk: rx %llu, tx %llu, kicks %llu, kernel rx_dropped %llu, rx_ring_full %llu, "
			"fill_ring_empty %llu, tx_ring_full %llu\n", (unsigned long long)xs.rx_frames,
			(unsigned long long)xs.tx_frames, (unsigned long long)xs.kicks, (unsigned long long)xs.rx_dropped,
			(unsigned long long)xs.rx_ring_full, (unsigned long long)xs.fill_ring_empty,
			(unsigned long long)xs.tx_ring_full);
	if (xs.rx_linearized || xs.rx_chain_dropped || xs.tx_chained)
		fprintf(out, "  xsk multi-buffer: rx_linearized %llu, rx_chain_dropped %llu, tx_chained %llu\n",
			(unsigned long long)xs.rx_linearized, (unsigned long long)xs.rx_chain_dropped,
			(unsigned long long)xs.tx_chained);
}

void srv_queue_close(struct srv_queue *q)
{
	if (q->echo)
		udp_socket_close(q->echo);
	srv_tcp_close(&q->tcp);
	if (q->iface)
		iface_release(q->iface);
	if (q->xd)
		xsk_dev_tx_drain(q->xd);
	xsk_dev_close(q->xd);
	if (q->pcap_file)
		fclose(q->pcap_file);
	free(q->echo_mem);
	free(q->iface_mem);
	memset(q, 0, sizeof(*q));
}
