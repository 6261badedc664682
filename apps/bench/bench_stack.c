/* The smolxdp-stack transport of smolxdp-bench: an AF_XDP device on (iface, queue), an interface with
 * the client's own address, one UDP socket per flow (zero-copy send into TX frames, zero-copy receive
 * views) or ICMP echo requests (RFC 792) built in place through the interface's IPv4 sender. The
 * measurement loop drives iface_poll itself: a spinning client makes no syscall but the TX kick. */
#define _GNU_SOURCE
#include "bench_stack.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_parse.h"
#include "smolxdp/iface.h"
#include "smolxdp/udp.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"
#include "smolxdp/xsk_dev.h"

#define ICMP_PENDING 512 /* echo replies one poll can hand over (a poll takes at most rx_batch frames) */

#define MAX_QUEUES 8

/* One stack instance per queue (device + interface, same address), sharing only their neighbours (a
 * reply to one queue's ARP request may come to another); flow f lives on queue f % nq, and a server
 * answers on the queue it was asked on, so replies come back there. */
struct sctx {
	enum bench_proto proto;
	unsigned flows;
	unsigned nq;
	struct xsk_dev *xd[MAX_QUEUES];
	struct iface *iface[MAX_QUEUES];
	void *iface_mem[MAX_QUEUES];
	struct udp_stack *udp[MAX_QUEUES];
	void *udp_mem[MAX_QUEUES];
	void *neigh_mem; /* the queues' shared neighbour table, with several */
	struct udp_socket **socks;
	void *sock_mem;
	const struct ip_sender *ip;
	ipv4_addr server;
	uint16_t port;
	uint16_t ident_base;
	uint64_t *foreign;
	struct bench_rx pending[ICMP_PENDING];
	size_t npending;
	uint64_t pending_dropped;
};

static smx_instant now_us(void)
{
	return bench_now_ns() / 1000u;
}

bool bench_stack_available(void)
{
	return true;
}

/* Echo replies to our identifiers are parsed straight out of the frame during iface_poll. */
static void on_icmp(void *ctx, smx_instant now, const struct ipv4_repr *ip, const struct icmpv4_repr *icmp)
{
	struct sctx *s = ctx;
	struct bench_rx rx;
	if (icmp->type != ICMPV4_ECHO_REPLY || ip->src != s->server ||
	    (uint16_t)(icmp->ident - s->ident_base) >= s->flows || !bench_msg_parse(icmp->data, icmp->data_len, &rx.hdr)) {
		(*s->foreign)++;
		return;
	}
	if (s->npending == ICMP_PENDING) {
		s->pending_dropped++;
		return;
	}
	rx.len = icmp->data_len;
	s->pending[s->npending++] = rx;
}

static int send_icmp(struct sctx *s, unsigned flow, const struct bench_msg_hdr *hdr, size_t len)
{
	struct ip_tx tx;
	if (s->ip->begin(s->ip->ctx, 0, s->server, IP_PROTO_ICMP, ICMPV4_HEADER_LEN + len, &tx) != IP_TX_OK)
		return 0;
	/* The data goes where icmpv4_emit wants it (after the header), so emit moves nothing. */
	bench_msg_fill(tx.l4 + ICMPV4_HEADER_LEN, len, hdr);
	struct icmpv4_repr r = {
		.type = ICMPV4_ECHO_REQUEST,
		.ident = (uint16_t)(s->ident_base + flow),
		.seq = (uint16_t)hdr->seq,
		.data = tx.l4 + ICMPV4_HEADER_LEN,
		.data_len = len,
	};
	size_t n = icmpv4_emit(&r, tx.l4, tx.l4_cap);
	if (n == 0) {
		s->ip->abort(s->ip->ctx, &tx);
		return 0;
	}
	s->ip->commit(s->ip->ctx, &tx, n);
	return 1;
}

static int send_udp(struct sctx *s, unsigned flow, const struct bench_msg_hdr *hdr, size_t len)
{
	uint8_t *payload;
	enum udp_err e = udp_socket_send_begin(s->socks[flow], s->server, s->port, len, &payload);
	if (e == UDP_ERR_WOULD_BLOCK)
		return 0;
	if (e != UDP_OK)
		return -EIO;
	bench_msg_fill(payload, len, hdr);
	udp_socket_send_commit(s->socks[flow], len);
	return 1;
}

static int s_send(void *ctx, unsigned flow, const struct bench_msg_hdr *hdrs, size_t n, size_t len)
{
	struct sctx *s = ctx;
	size_t done = 0;
	for (; done < n; done++) {
		int r = s->proto == BENCH_UDP ? send_udp(s, flow, &hdrs[done], len) : send_icmp(s, flow, &hdrs[done], len);
		if (r < 0)
			return r;
		if (r == 0)
			break;
	}
	/* What was built goes to the device now; receiving waits for s_recv. */
	iface_flush(s->iface[flow % s->nq], now_us());
	return (int)done;
}

/* Hands over what the last poll delivered: pending echo replies, or datagrams queued on the sockets. */
static size_t take(struct sctx *s, struct bench_rx *out, size_t max)
{
	size_t got = 0;
	if (s->proto == BENCH_ICMP) {
		got = SMX_BENCH_MIN(max, s->npending);
		memcpy(out, s->pending, got * sizeof(*out));
		memmove(s->pending, s->pending + got, (s->npending - got) * sizeof(*out));
		s->npending -= got;
		return got;
	}
	for (unsigned f = 0; f < s->flows && got < max; f++) {
		const uint8_t *data;
		size_t len;
		struct udp_meta meta;
		while (got < max && udp_socket_recv_view(s->socks[f], &data, &len, &meta) == UDP_OK) {
			if (meta.remote_addr != s->server || !bench_msg_parse(data, len, &out[got].hdr)) {
				(*s->foreign)++;
				continue;
			}
			out[got++].len = len;
		}
	}
	return got;
}

static int s_recv(void *ctx, struct bench_rx *out, size_t max, enum bench_wait wait, uint64_t deadline_ns)
{
	struct sctx *s = ctx;
	for (;;) {
		size_t got = take(s, out, max);
		if (got)
			return (int)got;
		smx_instant t = now_us();
		for (unsigned q = 0; q < s->nq; q++)
			iface_poll(s->iface[q], t);
		got = take(s, out, max);
		if (got || wait == BENCH_SPIN)
			return (int)got;
		uint64_t now = bench_now_ns();
		if (now >= deadline_ns)
			return 0;
		/* Sleep until the device has frames, a timer of the interface is due, or the deadline. */
		uint64_t wait_ns = deadline_ns - now;
		struct pollfd p[MAX_QUEUES];
		for (unsigned q = 0; q < s->nq; q++) {
			smx_instant delay = iface_poll_delay(s->iface[q], now / 1000u);
			if (delay != SMX_INSTANT_NEVER && delay * 1000u < wait_ns)
				wait_ns = delay * 1000u;
			p[q] = (struct pollfd){ .fd = xsk_dev_fd(s->xd[q]), .events = POLLIN };
		}
		struct timespec ts = { (time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u) };
		if (ppoll(p, s->nq, &ts, NULL) < 0 && errno != EINTR)
			return -errno;
	}
}

static void s_close(void *ctx)
{
	struct sctx *s = ctx;
	if (s->socks) {
		for (unsigned f = 0; f < s->flows; f++)
			if (s->socks[f])
				udp_socket_close(s->socks[f]);
	}
	/* Queue 0's device owns the steering program the others joined: it closes last. */
	for (unsigned q = MAX_QUEUES; q-- > 0;) {
		if (s->iface[q])
			iface_release(s->iface[q]);
		if (!s->xd[q])
			continue;
		struct xsk_dev_stats st;
		if (xsk_dev_stats(s->xd[q], &st) == 0 && (st.rx_dropped || st.rx_ring_full || st.tx_ring_full))
			fprintf(stderr, "smolxdp-bench: queue %u AF_XDP drops: rx_dropped %llu rx_ring_full %llu tx_ring_full %llu\n",
				q, (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
				(unsigned long long)st.tx_ring_full);
		xsk_dev_close(s->xd[q]);
		free(s->iface_mem[q]);
		free(s->udp_mem[q]);
	}
	if (s->pending_dropped)
		fprintf(stderr, "smolxdp-bench: %llu echo replies dropped (pending list full)\n",
			(unsigned long long)s->pending_dropped);
	free(s->socks);
	free(s->sock_mem);
	free(s->neigh_mem);
	free(s);
}

int bench_stack_open(struct bench_transport *t, const struct bench_opts *o, const struct bench_stack_opts *so)
{
	int err = -ENOMEM;
	if (!so->ifname) {
		fprintf(stderr, "smolxdp-bench: --backend stack needs --iface\n");
		return -EINVAL;
	}
	struct sctx *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->proto = o->proto;
	s->flows = o->flows;
	s->port = so->port;
	s->foreign = &t->foreign;
	s->ident_base = (uint16_t)(getpid() * 16);

	struct iface_config cfg = { .addr_count = 1 };
	if (app_parse_mac(so->mac, &cfg.mac) < 0 || app_parse_cidr(so->ip, &cfg.addrs[0]) < 0 ||
	    app_parse_ipv4(so->server, &s->server) < 0) {
		fprintf(stderr, "smolxdp-bench: bad --mac, --ip or server address\n");
		err = -EINVAL;
		goto fail;
	}
	cfg.seed = bench_now_ns();
	cfg.vlan_id = so->vlan_id;
	cfg.vlan_prio = so->vlan_prio;
	/* Said explicitly: iface_mem_size cannot see the device's batch, and sizes for its own default. */
	cfg.rx_batch = 64;

	s->nq = so->queues ? so->queues : 1;
	if (s->nq > MAX_QUEUES || s->nq > o->flows) {
		fprintf(stderr, "smolxdp-bench: --queues must be 1..%d and at most --flows\n", MAX_QUEUES);
		err = -EINVAL;
		goto fail;
	}
	if (s->nq > 1) {
		size_t nsz = iface_neigh_table_mem_size(0);
		s->neigh_mem = malloc(nsz);
		cfg.neigh_shared = s->neigh_mem ? iface_neigh_table_init(s->neigh_mem, nsz, 0) : NULL;
		if (!cfg.neigh_shared) {
			err = -ENOMEM;
			goto fail;
		}
	}
	for (unsigned q = 0; q < s->nq; q++) {
		struct xsk_dev_opts xo = {
			.batch_size = 64,
			.bind_mode = so->bind_mode == 1 ? XSK_BIND_COPY : so->bind_mode == 2 ? XSK_BIND_ZEROCOPY : XSK_BIND_AUTO,
			.busy_poll = so->busy_poll,
			.prog = q ? xsk_dev_prog(s->xd[0]) : NULL,
			.prog_opts = { .vlan_id = so->vlan_id },
		};
		err = xsk_dev_open(so->ifname, so->queue + q, &xo, &s->xd[q]);
		if (err < 0) {
			fprintf(stderr, "smolxdp-bench: %s\n", xsk_last_error());
			goto fail;
		}
		if (q == 0) {
			err = xsk_prog_add_addr(xsk_dev_prog(s->xd[0]), cfg.addrs[0].addr);
			if (err < 0) {
				fprintf(stderr, "smolxdp-bench: cannot steer %s to the socket: %s\n", so->ip, strerror(-err));
				goto fail;
			}
		}
		err = -ENOMEM;
		size_t isz = iface_mem_size(&cfg);
		s->iface_mem[q] = malloc(isz);
		if (!s->iface_mem[q])
			goto fail;
		s->iface[q] = iface_init(s->iface_mem[q], isz, &cfg, xsk_dev_as_dev(s->xd[q]));
		if (!s->iface[q]) {
			fprintf(stderr, "smolxdp-bench: the interface refused its configuration\n");
			err = -EINVAL;
			goto fail;
		}
		if (o->proto == BENCH_ICMP)
			iface_set_icmp_handler(s->iface[q], on_icmp, s);
		struct udp_config udc = { .max_sockets = o->flows + 1, .seed = cfg.seed + q };
		size_t usz = udp_mem_size(&udc);
		s->udp_mem[q] = malloc(usz);
		s->udp[q] = s->udp_mem[q] ? udp_init(s->udp_mem[q], usz, &udc) : NULL;
		if (!s->udp[q])
			goto fail;
		struct l4_handler uh;
		udp_handler(s->udp[q], &uh);
		iface_set_l4_handler(s->iface[q], IP_PROTO_UDP, &uh);
	}
	/* ICMP echo requests all leave through queue 0's interface. */
	s->ip = iface_ip_sender(s->iface[0]);
	if (o->proto == BENCH_UDP) {
		/* Each socket can hold its flow's whole share of the window. */
		struct udp_socket_config uc = { .rx_slots = o->window + 16, .rx_slot_size = (uint32_t)o->size,
						.tx_slots = 16, .tx_slot_size = (uint32_t)o->size };
		size_t ssz = udp_socket_mem_size(&uc);
		s->socks = calloc(o->flows, sizeof(*s->socks));
		s->sock_mem = malloc(ssz * o->flows);
		if (!s->socks || !s->sock_mem)
			goto fail;
		for (unsigned f = 0; f < o->flows; f++) {
			struct udp_socket *u = udp_socket_init((uint8_t *)s->sock_mem + ssz * f, ssz, &uc);
			if (!u || udp_socket_bind(u, s->udp[f % s->nq], 0, 0) != UDP_OK) {
				err = -EADDRINUSE;
				goto fail;
			}
			s->socks[f] = u;
		}
	}
	for (unsigned q = 0; q < s->nq; q++)
		iface_poll(s->iface[q], now_us()); /* the gratuitous ARP */
	t->ctx = s;
	t->send = s_send;
	t->recv = s_recv;
	t->close = s_close;
	return 0;
fail:
	s_close(s);
	return err;
}
