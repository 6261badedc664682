/* One netsim run (see netsim.h): build the two-stack network, pump a bulk transfer A->B on virtual time
 * (time jumps to the next deadline whenever nothing happened), then take it apart and check that every
 * loopback frame came home. */
#include "netsim.h"

#include <stdlib.h>
#include <string.h>

#include "smolxdp/dev_fault.h"
#include "smolxdp/dev_loopback.h"
#include "smolxdp/dev_path.h"
#include "smolxdp/iface.h"
#include "smolxdp/mem.h"
#include "smolxdp/tcp.h"

#define NS_T0 1000000000ull  /* virtual time starts at 1000 s: nothing may take 0 as "never" */
#define NS_HELD 2048u        /* frames each path emulator may hold */
#define NS_POOL (2 * NS_HELD + 512) /* the wire's frames: both paths full and a window in flight */
#define NS_PORT 9000
#define NS_MAX_STEPS 200000000ull

static const ipv4_addr ns_ip[2] = {IPV4_ADDR(10, 0, 0, 1), IPV4_ADDR(10, 0, 0, 2)};

/* One end: loopback end -> fault (loss on receive) -> path (delay, rate, queue, reorder) -> iface. */
struct ns_end {
	struct dev_fault fault;
	struct dev_path *path;
	struct iface *ifc;
	struct tcp_stack *tcp;
	void *mem_path, *mem_iface, *mem_tcp;
};

struct ns_net {
	struct dev_loopback *wire;
	void *mem_wire;
	struct ns_end end[2];
	smx_instant now;
};

struct ns_bulk {
	struct tcp_conn *c;
	uint64_t sent, recvd;
	bool shut, eof, closed;
	smx_instant done_at;  /* receiver: when the last byte was read */
	smx_instant open_at;  /* sender: when the connection was first seen established */
	smx_instant progress_at; /* receiver: when bytes last arrived (from the accept) */
};

static void *ns_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* A different, fixed seed per component, so changing one part of the setup leaves the others' dice. */
static uint64_t ns_seed(uint64_t seed, unsigned side, unsigned what)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + side * 0x100000001b3ull + what * 0xbf58476d1ce4e5b9ull + 1;
	smx_rand_next(&s);
	return s;
}

/* Position-dependent, so a segment misplaced by any multiple of 256 bytes shows. */
uint8_t netsim_byte(uint64_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;
	return (uint8_t)((x >> 24) ^ i ^ (i >> 32));
}

static bool ns_end_init(struct ns_net *net, unsigned side, const struct netsim_config *cfg)
{
	struct ns_end *e = &net->end[side];
	struct dev_fault_config fc = {
		.inner = dev_loopback_end(net->wire, side),
		.seed = ns_seed(cfg->seed, side, 1),
		.dirs = DEV_FAULT_RX, /* receive only: each direction is lost once, at its receiving end */
		.drop_pct = cfg->loss_pct,
	};
	struct dev_path_config pc = {
		.inner = dev_fault_init(&e->fault, &fc),
		.delay = cfg->rtt / 2,
		.rate = cfg->rate,
		.queue = cfg->queue,
		.reorder_pct = cfg->reorder_pct,
		.reorder_extra = cfg->reorder_extra,
		.seed = ns_seed(cfg->seed, side, 2),
		.max_held = NS_HELD,
	};
	size_t n = dev_path_mem_size(&pc);
	if (n == 0)
		return false;
	e->mem_path = ns_alloc(n);
	e->path = dev_path_init(e->mem_path, n, &pc);
	if (!e->path)
		return false;

	struct iface_config ic;
	memset(&ic, 0, sizeof(ic));
	ic.mac = (struct eth_addr){{0x02, 0, 0, 0, 0, (uint8_t)(0x0a + side)}};
	ic.addrs[0].addr = ns_ip[side];
	ic.addrs[0].prefix_len = 24;
	ic.addr_count = 1;
	ic.seed = ns_seed(cfg->seed, side, 3);
	n = iface_mem_size(&ic);
	e->mem_iface = ns_alloc(n);
	e->ifc = iface_init(e->mem_iface, n, &ic, dev_path_dev(e->path));
	if (!e->ifc)
		return false;

	struct tcp_config tc;
	tcp_config_default(&tc);
	tc.max_conns = 4;
	tc.max_listeners = 2;
	tc.rx_buf_size = cfg->buf;
	tc.tx_buf_size = cfg->buf;
	tc.no_sack = cfg->no_sack;
	uint64_t r = ns_seed(cfg->seed, side, 4);
	for (size_t i = 0; i < sizeof(tc.secret); i++)
		tc.secret[i] = (uint8_t)smx_rand_next(&r);
	n = tcp_mem_size(&tc);
	if (n == 0)
		return false;
	e->mem_tcp = ns_alloc(n);
	e->tcp = tcp_init(e->mem_tcp, n, &tc);
	if (!e->tcp)
		return false;
	struct l4_handler h;
	tcp_handler(e->tcp, &h);
	iface_set_l4_handler(e->ifc, IP_PROTO_TCP, &h);
	return true;
}

static bool ns_net_init(struct ns_net *net, const struct netsim_config *cfg)
{
	struct dev_loopback_config lc = {.frames = NS_POOL, .frame_size = 1514, .rx_batch = 64};
	size_t n = dev_loopback_mem_size(&lc);

	memset(net, 0, sizeof(*net));
	net->now = NS_T0;
	net->mem_wire = ns_alloc(n);
	net->wire = dev_loopback_init(net->mem_wire, n, &lc);
	return net->wire && ns_end_init(net, 0, cfg) && ns_end_init(net, 1, cfg);
}

/* Takes the network apart; returns the loopback frames not back in the pool. Frames still on the wire
 * or held by a path are drained through the path at the end of time, so they count as home too. */
static uint32_t ns_net_free(struct ns_net *net)
{
	uint32_t leaked = 0;

	for (unsigned s = 0; s < 2; s++) {
		struct ns_end *e = &net->end[s];
		if (e->ifc) {
			iface_set_l4_handler(e->ifc, IP_PROTO_TCP, NULL);
			iface_release(e->ifc);
		}
		if (e->path) {
			struct dev_frame f[64];
			size_t k;
			while ((k = dev_rx_burst(dev_path_dev(e->path), f, 64, SMX_INSTANT_NEVER - 1)) > 0)
				dev_rx_release(dev_path_dev(e->path), f, k);
			dev_path_release_all(e->path);
		}
	}
	if (net->wire)
		leaked = NS_POOL - dev_loopback_free_frames(net->wire);
	for (unsigned s = 0; s < 2; s++) {
		free(net->end[s].mem_path);
		free(net->end[s].mem_iface);
		free(net->end[s].mem_tcp);
	}
	free(net->mem_wire);
	return leaked;
}

static void ns_fail(struct netsim_result *res, const char *what, const struct ns_bulk *b)
{
	if (res->why[0])
		return; /* keep the first reason */
	snprintf(res->why, sizeof(res->why), "%s (state %s, error %s)", what,
		 b->c ? tcp_state_name(tcp_conn_state(b->c)) : "-",
		 b->c ? tcp_error_name(tcp_conn_error(b->c)) : "-");
}

static bool ns_can_close(const struct ns_bulk *b)
{
	enum tcp_state st = tcp_conn_state(b->c);
	return b->eof && b->shut && (st == TCP_TIME_WAIT || st == TCP_CLOSED || st == TCP_LAST_ACK);
}

/* Sender A: fill the send buffer with the pattern, shut down after the last byte, close once B's FIN
 * is in. */
static void ns_pump_sender(struct tcp_stack *s, struct ns_bulk *b, uint64_t total, smx_instant now,
			   struct netsim_result *res)
{
	uint8_t junk[256];
	struct tcp_conn_stats st;

	if (!b->c || b->closed)
		return;
	if (!b->open_at && tcp_conn_state(b->c) >= TCP_ESTABLISHED)
		b->open_at = now;
	tcp_conn_stats(b->c, &st);
	if (st.srtt_us != 0 && st.rto_us > res->max_rto_us)
		res->max_rto_us = st.rto_us; /* from samples: not the initial RTO, nor a lost SYN's 3 s */
	while (b->sent < total) {
		uint8_t *span;
		size_t room = tcp_send_buf(s, b->c, &span);
		if (room == 0)
			break;
		room = (size_t)SMX_MIN((uint64_t)room, total - b->sent);
		for (size_t k = 0; k < room; k++)
			span[k] = netsim_byte(b->sent + k);
		tcp_send_commit(s, b->c, room);
		b->sent += room;
	}
	if (b->sent == total && !b->shut) {
		if (tcp_shutdown(s, b->c) != TCP_OK)
			ns_fail(res, "sender: shutdown refused", b);
		b->shut = true;
	}
	if (tcp_recv(s, b->c, junk, sizeof(junk)) > 0)
		ns_fail(res, "sender: received data", b);
	if (tcp_eof(b->c))
		b->eof = true;
	if (tcp_conn_error(b->c) != TCP_ERROR_NONE)
		ns_fail(res, "sender: connection failed", b);
	else if (ns_can_close(b)) {
		tcp_close(s, b->c);
		b->closed = true;
	}
}

/* Receiver B: read and check every byte in place, shut down at EOF (it has nothing to send), close. */
static void ns_pump_receiver(struct tcp_stack *s, struct ns_bulk *b, uint64_t total, smx_instant now,
			     struct netsim_result *res)
{
	const uint8_t *span;
	size_t n;

	if (!b->c || b->closed)
		return;
	while ((n = tcp_recv_peek(s, b->c, &span)) > 0) {
		for (size_t k = 0; k < n && res->byte_exact; k++) {
			if (span[k] != netsim_byte(b->recvd + k)) {
				res->byte_exact = false;
				snprintf(res->why, sizeof(res->why), "receiver: byte %llu differs",
					 (unsigned long long)(b->recvd + k));
			}
		}
		tcp_recv_consume(s, b->c, n);
		b->recvd += n;
		if (now - b->progress_at > res->max_stall_us)
			res->max_stall_us = now - b->progress_at;
		b->progress_at = now;
		if (b->recvd >= total && !b->done_at)
			b->done_at = now;
	}
	if (tcp_eof(b->c) && !b->eof) {
		b->eof = true;
		if (b->recvd != total) {
			res->byte_exact = false;
			ns_fail(res, "receiver: EOF before all bytes", b);
		}
		if (tcp_shutdown(s, b->c) != TCP_OK)
			ns_fail(res, "receiver: shutdown refused", b);
		b->shut = true;
	}
	if (tcp_conn_error(b->c) != TCP_ERROR_NONE)
		ns_fail(res, "receiver: connection failed", b);
	else if (ns_can_close(b)) {
		tcp_close(s, b->c);
		b->closed = true;
	}
}

/* One poll of both interfaces; when neither did anything, time jumps to the next deadline of either
 * interface or either path. */
static void ns_step(struct ns_net *net)
{
	bool any = iface_poll(net->end[0].ifc, net->now);

	any |= iface_poll(net->end[1].ifc, net->now);
	if (any)
		return;
	smx_instant at = SMX_INSTANT_NEVER;
	for (unsigned s = 0; s < 2; s++) {
		at = SMX_MIN(at, iface_poll_at(net->end[s].ifc, net->now));
		at = SMX_MIN(at, dev_path_next_at(net->end[s].path));
	}
	if (at == SMX_INSTANT_NEVER)
		at = net->now + 1000000; /* nothing scheduled anywhere: a stall; the time limit ends it */
	net->now = at > net->now ? at : net->now + 1;
}

static void ns_collect(struct ns_net *net, struct netsim_result *res)
{
	const struct tcp_stats *a = tcp_stack_stats(net->end[0].tcp);
	const struct tcp_stats *b = tcp_stack_stats(net->end[1].tcp);

	res->retransmits = a->retransmits;
	res->fast_retransmits = a->fast_retransmits;
	res->timeouts = a->timeouts;
	res->segs_a = a->tx_segs;
	res->segs_b = b->tx_segs;
	for (unsigned s = 0; s < 2; s++) {
		const struct dev_path_stats *ps = dev_path_stats(net->end[s].path);
		res->loss_drops += net->end[s].fault.stats.dropped;
		res->queue_drops += ps->dropped_queue;
		res->full_drops += ps->dropped_full;
		res->reordered += ps->reordered;
	}
}

static void ns_transfer(struct ns_net *net, const struct netsim_config *cfg, smx_instant limit,
			struct netsim_result *res)
{
	struct ns_bulk a = {0}, b = {0};
	struct tcp_listener *l;
	enum tcp_result err;
	struct tcp_connect_opts o = {ns_ip[0], 0, ns_ip[1], NS_PORT, NULL};

	/* Both stacks see the clock before the connect, as in an app that has been polling; cold_connect
	 * connects first (a regression test: the SYN's user timeout once counted from time 0). */
	if (!cfg->cold_connect) {
		iface_poll(net->end[0].ifc, net->now);
		iface_poll(net->end[1].ifc, net->now);
	}
	l = tcp_listen(net->end[1].tcp, 0, NS_PORT, 4, NULL, &err);
	a.c = tcp_connect(net->end[0].tcp, &o, &err);
	if (!l || !a.c) {
		snprintf(res->why, sizeof(res->why), "listen/connect failed");
		return;
	}
	while (!(a.closed && b.closed) && !res->why[0]) {
		if (!b.c && (b.c = tcp_accept(net->end[1].tcp, l)) != NULL)
			b.progress_at = net->now;
		ns_pump_sender(net->end[0].tcp, &a, cfg->bytes, net->now, res);
		ns_pump_receiver(net->end[1].tcp, &b, cfg->bytes, net->now, res);
		if (a.closed && b.closed)
			break;
		ns_step(net);
		if (++res->steps > NS_MAX_STEPS || net->now - NS_T0 > limit) {
			snprintf(res->why, sizeof(res->why),
				 "no completion after %.1f s simulated: sent %llu, received %llu, A %s, B %s",
				 (double)(net->now - NS_T0) / 1e6, (unsigned long long)a.sent,
				 (unsigned long long)b.recvd, a.closed ? "closed" : tcp_state_name(tcp_conn_state(a.c)),
				 b.closed ? "closed" : b.c ? tcp_state_name(tcp_conn_state(b.c)) : "not accepted");
		}
	}
	res->completed = a.closed && b.closed && !res->why[0];
	res->received = b.recvd;
	res->byte_exact = res->byte_exact && b.recvd == cfg->bytes;
	res->sim_s = (double)(net->now - NS_T0) / 1e6;
	res->open_s = a.open_at ? (double)(a.open_at - NS_T0) / 1e6 : res->sim_s;
	res->data_s = b.done_at ? (double)(b.done_at - NS_T0) / 1e6 : res->sim_s;
	if (res->data_s > 0)
		res->goodput_bps = (double)b.recvd * 8 / res->data_s;
	/* Connections the app still holds are aborted so their stacks are idle before the teardown. */
	if (!a.closed)
		tcp_abort(net->end[0].tcp, a.c);
	if (b.c && !b.closed)
		tcp_abort(net->end[1].tcp, b.c);
	tcp_listener_close(net->end[1].tcp, l);
}

bool netsim_run(const struct netsim_config *cfg, struct netsim_result *res)
{
	struct ns_net *net = ns_alloc(sizeof(*net));
	smx_instant limit = cfg->time_limit ? cfg->time_limit : NETSIM_TIME_LIMIT;

	memset(res, 0, sizeof(*res));
	res->byte_exact = true;
	if (ns_net_init(net, cfg))
		ns_transfer(net, cfg, limit, res);
	else
		snprintf(res->why, sizeof(res->why), "setup failed (config?)");
	if (net->end[0].tcp && net->end[1].tcp && net->end[0].path && net->end[1].path)
		ns_collect(net, res);
	res->frames_leaked = ns_net_free(net);
	if (res->frames_leaked && !res->why[0])
		snprintf(res->why, sizeof(res->why), "%u loopback frames leaked", res->frames_leaked);
	free(net);
	return res->completed && res->byte_exact && res->frames_leaked == 0;
}
