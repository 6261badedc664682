/* Two TCP stacks joined by a fake wire on virtual time: seeded, deterministic loss, reordering
 * (extra delay) and duplication. 10 MB each way byte-exact at 0, 1, 5 and 10% loss and with
 * reordering and duplication; then 10,000 concurrent connections through one listener. */
#include "tcp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W_MAX_PKTS 65536
#define W_MTU 1500
#define W_LATENCY 500 /* us, one way */

struct w_pkt {
	smx_instant at;
	uint64_t order;
	int to;
	ipv4_addr src, dst;
	uint16_t len;
	uint8_t data[W_MTU];
};

struct w_end {
	struct wire *w;
	int id;
	ipv4_addr addr;
	struct tcp_stack *s;
	void *mem;
	struct ip_sender sender;
	uint8_t scratch[W_MTU];
};

struct wire {
	struct w_end end[2];
	struct w_pkt *pkts; /* unordered pool; delivery picks the earliest */
	uint32_t npkts;
	uint64_t order;
	smx_instant now;
	uint64_t rng;
	unsigned loss_pct, dup_pct, reorder_pct;
	uint64_t sent, dropped, duplicated, reordered;
};

static uint32_t w_rand(struct wire *w, uint32_t n)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (uint32_t)(((x * 0x2545f4914f6cdd1dull) >> 32) % n);
}

static enum ip_tx_err w_begin(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			      struct ip_tx *tx)
{
	struct w_end *e = ctx;

	if (l4_len + 20 > W_MTU)
		return IP_TX_TOO_BIG;
	memset(tx, 0, sizeof(*tx));
	tx->l4 = e->scratch;
	tx->l4_cap = sizeof(e->scratch) - 20;
	tx->src = src ? src : e->addr;
	tx->dst = dst;
	tx->proto = proto;
	return IP_TX_OK;
}

static void w_enqueue(struct wire *w, int to, const struct ip_tx *tx, size_t len, smx_instant at)
{
	struct w_pkt *p;

	assert_true(w->npkts < W_MAX_PKTS);
	p = &w->pkts[w->npkts++];
	p->at = at;
	p->order = w->order++;
	p->to = to;
	p->src = tx->src;
	p->dst = tx->dst;
	p->len = (uint16_t)len;
	memcpy(p->data, tx->l4, len);
}

static void w_commit(void *ctx, struct ip_tx *tx, size_t l4_len)
{
	struct w_end *e = ctx;
	struct wire *w = e->w;
	smx_instant at = w->now + W_LATENCY;

	w->sent++;
	if (w->loss_pct && w_rand(w, 100) < w->loss_pct) {
		w->dropped++;
		return;
	}
	if (w->reorder_pct && w_rand(w, 100) < w->reorder_pct) {
		at += 1 + w_rand(w, 3000); /* overtaken by later packets */
		w->reordered++;
	}
	w_enqueue(w, 1 - e->id, tx, l4_len, at);
	if (w->dup_pct && w_rand(w, 100) < w->dup_pct) {
		w->duplicated++;
		w_enqueue(w, 1 - e->id, tx, l4_len, at + w_rand(w, 1000));
	}
}

static void w_abort(void *ctx, struct ip_tx *tx)
{
	(void)ctx;
	(void)tx;
}

static void w_init(struct wire *w, const struct tcp_config *cfg, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->pkts = malloc(sizeof(struct w_pkt) * W_MAX_PKTS);
	assert_non_null(w->pkts);
	w->rng = seed;
	w->now = TH_T0;
	for (int i = 0; i < 2; i++) {
		struct w_end *e = &w->end[i];
		struct tcp_config c = *cfg;
		size_t n;

		c.secret[0] = (uint8_t)(c.secret[0] + i); /* each stack its own secret */
		e->w = w;
		e->id = i;
		e->addr = IPV4_ADDR(10, 0, 0, 1 + i);
		n = tcp_mem_size(&c);
		e->mem = malloc(n);
		assert_non_null(e->mem);
		e->s = tcp_init(e->mem, n, &c);
		assert_non_null(e->s);
		e->sender.ctx = e;
		e->sender.begin = w_begin;
		e->sender.commit = w_commit;
		e->sender.abort = w_abort;
		e->sender.mtu = W_MTU;
	}
}

static void w_fini(struct wire *w)
{
	for (int i = 0; i < 2; i++)
		free(w->end[i].mem);
	free(w->pkts);
}

/* Deliver every packet due by now, earliest first. */
static void w_deliver(struct wire *w)
{
	for (;;) {
		uint32_t best = UINT32_MAX;

		for (uint32_t i = 0; i < w->npkts; i++) {
			struct w_pkt *p = &w->pkts[i];

			if (p->at <= w->now && (best == UINT32_MAX || p->at < w->pkts[best].at ||
						(p->at == w->pkts[best].at && p->order < w->pkts[best].order)))
				best = i;
		}
		if (best == UINT32_MAX)
			return;
		struct w_pkt pkt = w->pkts[best];
		w->pkts[best] = w->pkts[--w->npkts];
		struct ipv4_repr ip = { .src = pkt.src, .dst = pkt.dst, .protocol = IP_PROTO_TCP, .ttl = 64,
					.header_len = 20, .total_len = (uint16_t)(pkt.len + 20) };
		struct w_end *e = &w->end[pkt.to];

		tcp_input(e->s, w->now, &ip, pkt.data, pkt.len, WIRE_CSUM_VERIFY, &e->sender);
	}
}

/* One step of the network: output, delivery, then time moves to the next thing due. */
static void w_step(struct wire *w)
{
	smx_instant next = SMX_INSTANT_NEVER;

	for (int i = 0; i < 2; i++)
		tcp_output(w->end[i].s, w->now, &w->end[i].sender);
	w_deliver(w);
	for (int i = 0; i < 2; i++)
		next = SMX_MIN(next, tcp_poll_at(w->end[i].s, w->now));
	for (uint32_t i = 0; i < w->npkts; i++)
		next = SMX_MIN(next, w->pkts[i].at);
	if (next > w->now && next != SMX_INSTANT_NEVER)
		w->now = next;
}

/* ---- 10 MB each way ---- */

#define BULK (10u * 1024 * 1024)

/* Both ways at once unless one_way (then only the client sends: ACKs are pure, so duplicate ACKs
 * exist and fast retransmit gets its chance; piggybacked ACKs are never duplicates, RFC 5681 2). */
static void run_bulk(unsigned loss, unsigned reorder, unsigned dup, uint64_t seed, bool one_way)
{
	struct tcp_config cfg;
	struct wire *w = calloc(1, sizeof(*w));
	struct th_bulk cl = { .dir = 0, .send_total = BULK, .recv_total = one_way ? 0 : BULK };
	struct th_bulk sv = { .dir = 1, .send_total = one_way ? 0 : BULK, .recv_total = BULK };
	smx_instant t_done;
	struct tcp_listener *l;
	struct tcp_connect_opts o;
	enum tcp_result err;
	uint64_t steps = 0;

	assert_non_null(w);
	th_config(&cfg);
	cfg.rx_buf_size = 65535;
	cfg.tx_buf_size = 65536;
	cfg.user_timeout = 3600000000ull; /* 10% loss both ways can stall a while; never give up here */
	w_init(w, &cfg, seed);
	w->loss_pct = loss;
	w->reorder_pct = reorder;
	w->dup_pct = dup;
	l = tcp_listen(w->end[1].s, 0, 9000, 4, NULL, &err);
	assert_non_null(l);
	o = (struct tcp_connect_opts){ w->end[0].addr, 0, w->end[1].addr, 9000, NULL };
	cl.c = tcp_connect(w->end[0].s, &o, &err);
	assert_non_null(cl.c);
	while (!(cl.closed && sv.closed)) {
		if (!sv.c)
			sv.c = tcp_accept(w->end[1].s, l);
		th_bulk_pump(w->end[0].s, &cl);
		th_bulk_pump(w->end[1].s, &sv);
		w_step(w);
		steps++;
		if (steps > 20000000 || w->now - TH_T0 > 36000000000ull)
			fail_msg("no progress: sent %u/%u recvd %u/%u", cl.sent, sv.sent, cl.recvd, sv.recvd);
	}
	assert_int_equal(cl.recvd, cl.recv_total);
	assert_int_equal(sv.recvd, BULK);
	t_done = w->now;
	/* The server closed last (passive close): its slot is gone once its FIN is acknowledged; the
	 * client waits in TIME-WAIT. Run the clock out: both stacks end empty. */
	for (int i = 0; i < 100000 && (tcp_conn_count(w->end[0].s) || tcp_conn_count(w->end[1].s)); i++) {
		w_step(w);
		if (w->npkts == 0 && tcp_poll_at(w->end[0].s, w->now) == SMX_INSTANT_NEVER &&
		    tcp_poll_at(w->end[1].s, w->now) == SMX_INSTANT_NEVER)
			break;
	}
	assert_int_equal(tcp_conn_count(w->end[0].s), 0);
	assert_int_equal(tcp_conn_count(w->end[1].s), 0);
	const struct tcp_stats *a = tcp_stack_stats(w->end[0].s), *b = tcp_stack_stats(w->end[1].s);
	uint64_t fast = a->fast_retransmits + b->fast_retransmits;
	print_message("%s loss %u%% reorder %u%% dup %u%%: %.1f s virtual, %llu packets, %llu dropped, "
		      "%llu retransmits, %llu fast, %llu timeouts, %llu reordered, %llu duplicated\n",
		      one_way ? "one way" : "both ways", loss, reorder, dup, (double)(t_done - TH_T0) / 1e6,
		      (unsigned long long)w->sent,
		      (unsigned long long)w->dropped, (unsigned long long)(a->retransmits + b->retransmits),
		      (unsigned long long)fast,
		      (unsigned long long)(a->timeouts + b->timeouts), (unsigned long long)w->reordered,
		      (unsigned long long)w->duplicated);
	if (loss == 0 && reorder == 0 && dup == 0)
		assert_int_equal(a->retransmits + b->retransmits, 0);
	if (loss)
		assert_true(a->retransmits + b->retransmits > 0);
	if (one_way && loss)
		assert_true(fast > 0); /* losses inside a window are repaired without waiting for the RTO */
	w_fini(w);
	free(w);
}

static void test_bulk_no_loss(void **state)
{
	(void)state;
	run_bulk(0, 0, 0, 1, false);
}

static void test_bulk_loss_1(void **state)
{
	(void)state;
	run_bulk(1, 0, 0, 2, false);
}

static void test_bulk_loss_5(void **state)
{
	(void)state;
	run_bulk(5, 0, 0, 3, false);
}

static void test_bulk_loss_10(void **state)
{
	(void)state;
	run_bulk(10, 0, 0, 4, false);
}

static void test_bulk_reorder_dup(void **state)
{
	(void)state;
	run_bulk(0, 20, 5, 5, false);
}

static void test_bulk_everything(void **state)
{
	(void)state;
	run_bulk(5, 10, 5, 6, false);
}

static void test_bulk_one_way_loss_5(void **state)
{
	(void)state;
	run_bulk(5, 0, 0, 7, true);
}

static void test_bulk_one_way_loss_1(void **state)
{
	(void)state;
	run_bulk(1, 0, 0, 8, true);
}

/* ---- 10,000 connections at once ---- */

#define MANY 10000

static void test_ten_thousand_connections(void **state)
{
	struct tcp_config cfg;
	struct wire *w = calloc(1, sizeof(*w));
	static struct tcp_conn *cl[MANY];
	static bool cl_done[MANY];
	struct tcp_listener *l;
	enum tcp_result err;
	uint32_t done = 0, served = 0;
	uint64_t steps = 0;

	(void)state;
	assert_non_null(w);
	th_config(&cfg);
	cfg.max_conns = MANY + 16;
	cfg.rx_buf_size = 512;
	cfg.tx_buf_size = 512;
	w_init(w, &cfg, 77);
	l = tcp_listen(w->end[1].s, 0, 7, MANY, NULL, &err);
	assert_non_null(l);
	for (uint32_t i = 0; i < MANY; i++) {
		struct tcp_connect_opts o = { w->end[0].addr, 0, w->end[1].addr, 7, (void *)(uintptr_t)(i + 1) };
		char msg[16];

		cl[i] = tcp_connect(w->end[0].s, &o, &err);
		assert_non_null(cl[i]);
		snprintf(msg, sizeof(msg), "conn %05u\n", i);
		assert_int_equal(tcp_send(w->end[0].s, cl[i], msg, 11), 11);
		assert_int_equal(tcp_shutdown(w->end[0].s, cl[i]), TCP_OK);
	}
	assert_int_equal(tcp_conn_count(w->end[0].s), MANY);
	while (done < MANY) {
		struct tcp_event ev;
		struct tcp_conn *c;

		/* The server: echo each request, then close (events only, no scanning). */
		while ((c = tcp_accept(w->end[1].s, l)) != NULL)
			tcp_conn_set_user(c, c);
		while (tcp_next_event(w->end[1].s, &ev)) {
			uint8_t buf[64];
			size_t n;

			if (!ev.conn)
				continue;
			while ((n = tcp_recv(w->end[1].s, ev.conn, buf, sizeof(buf))) > 0)
				assert_int_equal(tcp_send(w->end[1].s, ev.conn, buf, n), n);
			if (tcp_eof(ev.conn)) {
				tcp_close(w->end[1].s, ev.conn);
				served++;
			}
		}
		/* The client: each answer must be its own request. */
		while (tcp_next_event(w->end[0].s, &ev)) {
			uint32_t i = (uint32_t)(uintptr_t)ev.user - 1;
			char buf[64], want[16];
			size_t n;

			assert_true(i < MANY);
			if (cl_done[i])
				continue;
			n = tcp_recv(w->end[0].s, ev.conn, buf, sizeof(buf));
			if (n == 0)
				continue;
			snprintf(want, sizeof(want), "conn %05u\n", i);
			assert_int_equal(n, 11);
			assert_memory_equal(buf, want, 11);
			cl_done[i] = true;
			tcp_close(w->end[0].s, ev.conn);
			done++;
		}
		w_step(w);
		if (++steps > 10000000)
			fail_msg("stuck at %u done", done);
	}
	assert_int_equal(served, MANY);
	assert_int_equal(tcp_stack_stats(w->end[1].s)->conns_opened, MANY);
	/* Server slots free once their FINs are acknowledged; the clients sit in TIME-WAIT. */
	for (int i = 0; i < 1000 && tcp_conn_count(w->end[1].s) > 0; i++)
		w_step(w);
	assert_int_equal(tcp_conn_count(w->end[1].s), 0);
	assert_int_equal(tcp_conn_count(w->end[0].s), MANY);
	w_fini(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_no_loss),
		cmocka_unit_test(test_bulk_loss_1),
		cmocka_unit_test(test_bulk_loss_5),
		cmocka_unit_test(test_bulk_loss_10),
		cmocka_unit_test(test_bulk_reorder_dup),
		cmocka_unit_test(test_bulk_everything),
		cmocka_unit_test(test_bulk_one_way_loss_1),
		cmocka_unit_test(test_bulk_one_way_loss_5),
		cmocka_unit_test(test_ten_thousand_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
