/* The shared buffer pool on virtual time: buffers grow with the rate (autotuning) and go back to the
 * pool when drained and on close; a short pool offers smaller windows but takes in everything sent
 * within a window already offered while the buffer holds data (RFC 9293 3.8.6); an idle connection
 * holds nothing, and what comes into its window when the pool is empty is dropped unacknowledged,
 * counted, and taken when retransmitted; zero-copy spans stop at a chunk's end and data
 * crosses chunks intact; and 100,000 connections, established and flooding, in the memory the config
 * says, with the 4-tuple table's chains short under the keyed hash. */
#include "tcp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

static void fill(uint8_t *buf, uint32_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(off + (uint32_t)i);
}

/* 16 chunks to share, and the reserve in-order data into an empty buffer may take besides. */
#define POOL16 ((16 + TCP_POOL_RESERVE) * TCP_CHUNK_SIZE)

static struct th *th_with(uint32_t rx, uint32_t tx, uint64_t pool, uint32_t conns)
{
	struct tcp_config cfg;

	th_config(&cfg);
	cfg.rx_buf_size = rx;
	cfg.tx_buf_size = tx;
	cfg.buf_pool_size = pool;
	cfg.max_conns = conns;
	return th_new(&cfg);
}

/* The right edge of the window a segment offers. */
static uint32_t edge_of(const struct th *t, const struct th_seg *seg)
{
	uint32_t shift = (seg->r.flags & TCP_SYN) ? 0 : t->c->rcv_wscale;

	return seg->r.ack + ((uint32_t)seg->r.window << shift);
}

/* Drains what the stack sent; the right edge it offered never moves left (RFC 9293 3.8.6). */
static uint32_t drain_acks(struct th *t, uint32_t *edge)
{
	struct th_seg seg;
	uint32_t n = 0;

	while (th_next(t, &seg)) {
		if (!(seg.r.flags & TCP_ACK))
			continue;
		assert_true(tcp_seq_ge(edge_of(t, &seg), *edge));
		*edge = edge_of(t, &seg);
		n++;
	}
	return n;
}

static const struct tcp_pool *pool_of(const struct th *t)
{
	return &t->s->pool;
}

/* A fast sender: the buffer grows from its first 64 KB toward the maximum as the app reads more per
 * RTT, and the chunks go back once all is read. */
static void test_pool_grows_with_rate(void **state)
{
	struct th *t = th_with(1u << 20, 16384, 0, 2);
	static uint8_t data[1000];
	uint32_t edge, sent = 0;

	(void)state;
	t->peer_opts.has_wscale = true;
	t->peer_opts.wscale = 7;
	th_listen(t, 8);
	t->peer_seq = 1000;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .win = 65535, .mss = 1000);
	/* The shift is for the 1 MB maximum, the window for the first size. */
	t->peer_ack = th_want(t, .flags = TCP_SYN | TCP_ACK, .wscale = 5, .win = TCP_RCV_INITIAL)->r.seq + 1;
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	edge = t->c->rcv_adv;
	assert_int_equal(edge - t->c->rcv_nxt, TCP_RCV_INITIAL);
	drain_acks(t, &edge);
	t->c->srtt = 10000;
	for (int round = 0; round < 10; round++) {
		/* Each RTT the peer sends twice as much as the last, within the window offered. */
		uint32_t want = 10000u << SMX_MIN(round, 8), bytes = 0;

		while (bytes + sizeof(data) <= want && tcp_seq_le(t->peer_seq + sizeof(data), edge)) {
			fill(data, sent, sizeof(data));
			th_send(t, TCP_ACK, data, sizeof(data));
			bytes += sizeof(data);
			sent += sizeof(data);
		}
		drain_acks(t, &edge);
		th_advance(t, 10000);
		while (tcp_recv_avail(t->c) > 0) {
			uint8_t buf[4096];
			size_t n = tcp_recv(t->s, t->c, buf, sizeof(buf));

			assert_true(n > 0);
		}
		th_advance(t, 1000);
		drain_acks(t, &edge);
	}
	/* Grown past its first size (a rate of 2.56 MB per RTT wants more than 1 MB), never past the
	 * maximum, and the window offered with it. */
	assert_int_equal(t->c->rcv_space, 1u << 20);
	assert_true(edge - t->c->rcv_nxt > TCP_RCV_INITIAL);
	assert_true(edge - t->c->rcv_nxt <= (1u << 20));
	/* All read: idle, the connection holds no chunk and no promise (its window is not backed). */
	assert_int_equal(t->c->rx.chunks, 0);
	assert_int_equal(pool_of(t)->count - pool_of(t)->free, 0);
	assert_int_equal(pool_of(t)->promised, 0);
	th_free(t);
}

/* A pool of 16 chunks (and the reserve) for two slots. The connection's first window (32 KB, its maximum: 8 chunks, a
 * share of the pool) is backed once its buffer holds data (here a segment out of order): 8 chunks
 * and a ninth for the range tables out-of-order data may need, drawn or promised; then the app's
 * sends take the rest. Everything the peer sends within the window offered is taken in, out of
 * order first, across chunks; with the pool empty the window closes at the same right edge (never
 * shrinks); read, the chunks come back and the window opens again. */
static void test_pool_exhausted_keeps_window(void **state)
{
	struct th *t = th_with(8 * TCP_CHUNK_SIZE, 65536, POOL16, 2);
	static uint8_t out[65536], in[8 * TCP_CHUNK_SIZE], got[8 * TCP_CHUNK_SIZE];
	uint32_t edge, base;
	size_t n;

	(void)state;
	th_open_passive(t, 1000, 1000);
	edge = t->c->rcv_adv;
	base = t->c->rcv_nxt;
	assert_int_equal(edge - base, 8 * TCP_CHUNK_SIZE);
	assert_int_equal(pool_of(t)->promised, 0); /* empty: nothing backed yet */
	fill(in, 0, sizeof(in));
	th_tx(t, .flags = TCP_ACK, .seq = base + sizeof(in) - 1024, .data = in + sizeof(in) - 1024, .len = 1024);
	drain_acks(t, &edge);
	assert_int_equal(t->c->rx.chunks + pool_of(t)->promised, 9);
	/* The app wants to send 64 KB: the pool has 7 chunks for it. */
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), 7 * TCP_CHUNK_SIZE);
	assert_int_equal(tcp_send_space(t->c), 0);
	assert_int_equal(tcp_pool_avail(pool_of(t)), 0);
	drain_acks(t, &edge);
	/* The peer fills the window it was offered: every other segment first (16 holes, more than
	 * the control block's slots: the range tables come from their promise), then the rest. */
	for (int odd = 0; odd < 2; odd++) {
		for (int i = (int)(sizeof(in) / 1024) - 1; i >= 0; i--)
			if ((i & 1) != odd)
				th_tx(t, .flags = TCP_ACK, .seq = base + (uint32_t)i * 1024, .data = in + i * 1024,
				      .len = 1024);
		if (odd == 0) {
			assert_int_equal(t->c->ooo.count, 16);
			assert_true(t->c->ranges != TCP_NIL);
		}
	}
	t->peer_seq = base + sizeof(in);
	th_advance(t, 1000);
	drain_acks(t, &edge);
	assert_int_equal(t->c->rcv_nxt, base + sizeof(in));
	assert_int_equal(tcp_stack_stats(t->s)->rx_ooo_drop, 0);
	assert_int_equal(edge, base + sizeof(in)); /* closed at the same edge: nothing to promise now */
	n = tcp_recv(t->s, t->c, got, sizeof(got));
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(got, in, sizeof(in));
	/* Read: the chunks come back (the buffer is empty: not promised) and the window opens. */
	th_advance(t, 1000);
	drain_acks(t, &edge);
	assert_int_equal(edge - t->c->rcv_nxt, 8 * TCP_CHUNK_SIZE);
	th_free(t);
}

/* The range tables' chunk: with 4 KB chunks it holds 176 out-of-order ranges (and as many SACKed
 * ones), so a window with a hole in every other segment (a slow start's overflow of a drop-tail
 * queue) is held whole, not just its first 64 ranges; the 177th is refused and counted. */
static void test_ooo_ranges_fill_chunk(void **state)
{
	struct th *t = th_with(16 * TCP_CHUNK_SIZE, 16 * TCP_CHUNK_SIZE, 64 * TCP_CHUNK_SIZE, 2);
	static uint8_t in[50];
	uint32_t base;

	(void)state;
	th_open_passive(t, 1000, 1000);
	base = t->c->rcv_nxt;
	assert_true(t->c->rcv_adv - base >= 177 * 100);
	for (uint32_t i = 0; i < 177; i++)
		th_tx(t, .flags = TCP_ACK, .seq = base + 100 * i + 50, .data = in, .len = sizeof(in));
	assert_int_equal(t->c->ooo.cap, 176);
	assert_int_equal(t->c->sb.cap, 176);
	assert_int_equal(t->c->ooo.count, 176);
	assert_int_equal(tcp_stack_stats(t->s)->rx_ooo_drop, 1);
	th_free(t);
}

/* A second connection finds the pool empty: its SYN-ACK offers no window, and data sent into it
 * anyway is not taken (nothing was promised), while the first connection's window stays whole. */
static void test_pool_exhausted_new_conn(void **state)
{
	struct th *t = th_with(8 * TCP_CHUNK_SIZE, 65536, POOL16, 2);
	static uint8_t out[65536];
	struct th_seg seg;

	(void)state;
	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, out, sizeof(out));
	assert_int_equal(tcp_pool_avail(pool_of(t)), 0);
	while (th_next(t, &seg))
		;
	th_send_raw(t, TH_RPORT + 1, TH_LPORT, 5000, 0, TCP_SYN, 65535, NULL, 0, 1000);
	th_expect(t, &seg);
	assert_int_equal(seg.r.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(seg.r.window, 0);
	th_send_raw(t, TH_RPORT + 1, TH_LPORT, 5001, seg.r.seq + 1, TCP_ACK, 65535, "data", 4, 0);
	th_expect(t, &seg);
	assert_int_equal(seg.r.ack, 5001); /* not taken: outside the (empty) window */
	assert_int_equal(seg.r.window, 0);
	assert_int_equal(t->c->rcv_adv - t->c->rcv_nxt, 8 * TCP_CHUNK_SIZE);
	th_free(t);
}

/* Overcommit: an idle connection backs none of the window it offered. The app's send takes the
 * whole pool but its reserve; a segment the peer then sends out of order within the window is
 * dropped, not acknowledged, and counted, and the window's right edge stays (RFC 9293 3.8.6); the
 * next in-order one takes the reserve (a stack whose pool is full of sends still takes the ACKs'
 * carrier), and the rest of the window is promised as chunks come back; the dropped segment,
 * retransmitted, is taken. Read, nothing stays promised. */
static void test_pool_overcommit_idle(void **state)
{
	struct th *t = th_with(8 * TCP_CHUNK_SIZE, 65536, POOL16, 2);
	static uint8_t out[65536], in[2000], got[2000];
	uint32_t edge, base;
	struct th_seg seg;

	(void)state;
	th_open_passive(t, 1000, 1000);
	edge = t->c->rcv_adv;
	base = t->c->rcv_nxt;
	assert_int_equal(edge - base, 8 * TCP_CHUNK_SIZE);
	assert_int_equal(pool_of(t)->promised, 0);
	assert_int_equal(pool_of(t)->free, pool_of(t)->count);
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), sizeof(out));
	assert_int_equal(tcp_pool_avail(pool_of(t)), 0);
	assert_int_equal(tcp_pool_avail_reserve(pool_of(t)), TCP_POOL_RESERVE);
	drain_acks(t, &edge);
	fill(in, 0, sizeof(in));
	th_tx(t, .flags = TCP_ACK, .seq = base + 1000, .data = in + 1000, .len = 1000);
	seg = *th_want(t, .flags = TCP_ACK, .ack = base);
	assert_true(tcp_seq_ge(edge_of(t, &seg), edge)); /* the edge never goes back */
	assert_int_equal(tcp_stack_stats(t->s)->rx_no_buffer, 1);
	assert_int_equal(t->c->ooo.count, 0);
	/* In order into the empty buffer: the reserve takes it. */
	th_tx(t, .flags = TCP_ACK, .seq = base, .data = in, .len = 1000);
	assert_int_equal(tcp_recv_avail(t->c), 1000);
	assert_int_equal(tcp_stack_stats(t->s)->rx_no_buffer, 1);
	/* The peer acknowledges what is sent, round after round: the send's chunks come back, and
	 * the window of the buffer now holding data is promised. */
	for (int round = 0; round < 10 && tcp_pool_avail(pool_of(t)) == 0; round++) {
		t->peer_ack = t->c->snd_max;
		th_tx(t, .flags = TCP_ACK, .seq = base + 1000);
		drain_acks(t, &edge);
	}
	assert_true(pool_of(t)->promised > 0);
	assert_true(tcp_ring_room(pool_of(t), &t->c->rx) >= edge - t->c->rcv_nxt);
	th_tx(t, .flags = TCP_ACK, .seq = base + 1000, .data = in + 1000, .len = 1000);
	assert_int_equal(tcp_recv_avail(t->c), sizeof(in));
	assert_int_equal(tcp_recv(t->s, t->c, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, in, sizeof(in));
	assert_int_equal(pool_of(t)->promised, 0); /* read: idle again, at once */
	assert_int_equal(tcp_stack_stats(t->s)->rx_no_buffer, 1);
	th_free(t);
}

/* The second connection, offered no window and refused a send by an empty pool, is not forgotten:
 * once the first one's data is acknowledged and its chunks come back, the second is told WRITABLE
 * and offers a window (an update of its own, without waiting for the peer's probe). */
static void test_pool_waiters_woken(void **state)
{
	struct th *t = th_with(8 * TCP_CHUNK_SIZE, 65536, POOL16, 2);
	static uint8_t out[65536];
	struct tcp_conn *b;
	struct th_seg seg;
	bool updated = false;

	(void)state;
	th_open_passive(t, 1000, 1000);
	/* The first connection's window is not backed (nothing received): its send takes the pool. */
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), 16 * TCP_CHUNK_SIZE);
	while (th_next(t, &seg))
		;
	th_send_raw(t, TH_RPORT + 1, TH_LPORT, 5000, 0, TCP_SYN, 65535, NULL, 0, 1000);
	th_expect(t, &seg);
	assert_int_equal(seg.r.window, 0);
	th_send_raw(t, TH_RPORT + 1, TH_LPORT, 5001, seg.r.seq + 1, TCP_ACK, 65535, NULL, 0, 0);
	b = tcp_accept(t->s, t->l);
	assert_non_null(b);
	assert_int_equal(tcp_send(t->s, b, "x", 1), 0);
	/* Data into the closed window: refused, with an ACK that still offers nothing. */
	th_send_raw(t, TH_RPORT + 1, TH_LPORT, 5001, seg.r.seq + 1, TCP_ACK, 65535, "data", 4, 0);
	th_expect(t, &seg);
	assert_int_equal(seg.r.window, 0);
	th_events(t, NULL, NULL);
	/* The first connection's data is acknowledged, round after round: its chunks come back. */
	for (int round = 0; round < 10 && !updated; round++) {
		t->peer_ack = t->c->snd_max;
		th_send(t, TCP_ACK, NULL, 0);
		while (th_next(t, &seg))
			if (seg.r.dst_port == TH_RPORT + 1 && seg.r.window > 0)
				updated = true;
	}
	assert_true(updated);
	assert_true(th_events(t, b, NULL) & TCP_EV_WRITABLE);
	assert_int_equal(tcp_send(t->s, b, "x", 1), 1);
	th_free(t);
}

/* Acknowledged data gives its chunks back; a close gives back all, promises too. */
static void test_pool_returned_on_ack_and_close(void **state)
{
	struct th *t = th_with(65536, 65536, 0, 4);
	static uint8_t out[3 * TCP_CHUNK_SIZE];
	const struct tcp_pool *p = pool_of(t);
	struct th_seg seg;

	(void)state;
	th_open_passive(t, 1000, 1460);
	assert_int_equal(p->free, p->count);
	th_send(t, TCP_ACK | TCP_PSH, "request", 7);
	assert_int_equal(p->count - p->free, 1); /* one chunk holds the request */
	assert_int_equal(tcp_recv(t->s, t->c, out, sizeof(out)), 7);
	assert_int_equal(p->free, p->count);  /* drained: back */
	fill(out, 0, sizeof(out));
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), sizeof(out));
	assert_int_equal(p->count - p->free, 3);
	while (t->c->snd_una != t->c->iss + 1 + sizeof(out)) {
		while (th_next(t, &seg))
			;
		t->peer_ack = t->c->snd_max;
		th_send(t, TCP_ACK, NULL, 0);
	}
	assert_int_equal(p->free, p->count); /* acknowledged: back */
	/* Close both ways: TIME-WAIT offers no window, so nothing stays promised. */
	tcp_close(t->s, t->c);
	th_want(t, .flags = TCP_FIN | TCP_ACK);
	t->peer_ack++;
	th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
	th_want(t, .flags = TCP_ACK);
	assert_int_equal(t->c->state, TCP_TIME_WAIT);
	assert_int_equal(p->free, p->count);
	assert_int_equal(p->promised, 0);
	th_free(t);
}

/* An abort with data queued both ways and out-of-order data held gives back everything at once. */
static void test_pool_returned_on_abort(void **state)
{
	struct th *t = th_with(65536, 65536, 0, 4);
	static uint8_t out[20000];
	const struct tcp_pool *p = pool_of(t);

	(void)state;
	th_open_passive(t, 1000, 1460);
	t->peer_win = 0;
	th_send(t, TCP_ACK, "unread", 6);
	tcp_send(t->s, t->c, out, sizeof(out));
	/* Six holes: more than the control block's four slots, so the range tables are drawn. */
	for (uint32_t i = 1; i <= 6; i++)
		th_tx(t, .flags = TCP_ACK, .seq_off = 2000 * i, .data = out, .len = 1000);
	assert_true(t->c->ranges != TCP_NIL);
	assert_true(p->count - p->free > 5);
	tcp_abort(t->s, t->c);
	th_poll(t);
	assert_int_equal(p->free, p->count);
	assert_int_equal(p->promised, 0);
	th_free(t);
}

/* Zero copy: a span ends where its chunk ends; the next is the rest of that chunk, then a new one;
 * segments that cross the boundary carry the bytes in order. */
static void test_pool_span_across_chunks(void **state)
{
	struct th *t = th_with(65536, 65536, 0, 4);
	static uint8_t want[TCP_CHUNK_SIZE + 1000];
	uint8_t *span;
	uint32_t off = 0;

	(void)state;
	th_open_passive(t, 1000, 1460);
	t->c->cwnd = 10 * 1460;
	tcp_set_nodelay(t->s, t->c, true);
	fill(want, 0, sizeof(want));
	assert_int_equal(tcp_send_buf(t->s, t->c, &span), TCP_CHUNK_SIZE);
	memcpy(span, want, 4000);
	tcp_send_commit(t->s, t->c, 4000);
	assert_int_equal(tcp_send_buf(t->s, t->c, &span), TCP_CHUNK_SIZE - 4000);
	memcpy(span, want + 4000, TCP_CHUNK_SIZE - 4000);
	tcp_send_commit(t->s, t->c, TCP_CHUNK_SIZE - 4000);
	assert_int_equal(tcp_send_buf(t->s, t->c, &span), TCP_CHUNK_SIZE);
	memcpy(span, want + TCP_CHUNK_SIZE, 1000);
	tcp_send_commit(t->s, t->c, 1000);
	assert_int_equal(t->c->tx.chunks, 2);
	while (off < sizeof(want)) {
		uint32_t len = SMX_MIN(1460u, (uint32_t)sizeof(want) - off);

		th_want(t, .off = off, .len = len, .data = want + off);
		off += len;
	}
	th_free(t);
}

/* A span handed out stays the app's across a poll in which an ACK drains everything before it: its
 * chunk is not given back under it. */
static void test_pool_span_kept_across_ack(void **state)
{
	struct th *t = th_with(65536, 65536, 0, 4);
	const struct tcp_pool *p = pool_of(t);
	uint8_t *span, *again;

	(void)state;
	th_open_passive(t, 1000, 1460);
	assert_int_equal(tcp_send(t->s, t->c, "first", 5), 5);
	th_want(t, .off = 0, .len = 5, .data = "first");
	assert_int_equal(tcp_send_buf(t->s, t->c, &span), TCP_CHUNK_SIZE - 5);
	t->peer_ack = t->c->iss + 1 + 5;
	th_send(t, TCP_ACK, NULL, 0); /* all acknowledged: the ring is empty, the span's chunk stays */
	assert_int_equal(p->count - p->free, 1);
	memcpy(span, "second", 6);
	tcp_send_commit(t->s, t->c, 6);
	th_want(t, .off = 5, .len = 6, .data = "second");
	assert_int_equal(tcp_send_buf(t->s, t->c, &again), TCP_CHUNK_SIZE - 11);
	assert_ptr_equal(again, span + 6);
	th_free(t);
}

/* Per-connection maximums: an active open set to 4 MB before its SYN offers the shift for 4 MB
 * (RFC 7323 2.3), and once the SYN is out the shift stays; a listener's maximums go to the
 * connections it opens; invalid sizes are refused. */
static void test_pool_buffer_sizes(void **state)
{
	struct th *t = th_with(8192, 16384, 64ull << 20, 4);
	static uint8_t out[32768];

	(void)state;
	th_connect(t);
	assert_int_equal(tcp_set_buffer_sizes(t->s, t->c, 4u << 20, 0), TCP_OK);
	th_want(t, .flags = TCP_SYN, .wscale = 7);
	assert_int_equal(tcp_set_buffer_sizes(t->s, t->c, 1u << 20, 32768), TCP_OK);
	assert_int_equal(t->c->rcv_wscale, 7); /* the SYN said 7 */
	assert_int_equal(t->c->rx.max, 1u << 20);
	assert_int_equal(t->c->tx.max, 32768);
	assert_int_equal(tcp_set_buffer_sizes(t->s, t->c, 1u << 30, 0), TCP_ERR_INVALID);
	tcp_abort(t->s, t->c);
	th_free(t);

	t = th_with(8192, 16384, 64ull << 20, 4);
	th_listen(t, 8);
	assert_int_equal(tcp_listener_set_buffer_sizes(t->s, t->l, 2u << 20, 32768), TCP_OK);
	t->peer_opts.has_wscale = true;
	t->peer_opts.wscale = 7;
	t->peer_seq = 1000;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .win = 65535, .mss = 1460);
	t->peer_ack = th_want(t, .flags = TCP_SYN | TCP_ACK, .wscale = 6)->r.seq + 1; /* for 2 MB */
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	assert_int_equal(t->c->rx.max, 2u << 20);
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), 32768); /* the listener's 32 KB */
	assert_int_equal(tcp_listener_set_buffer_sizes(t->s, t->l, 0, 1u << 31), TCP_ERR_INVALID);
	th_free(t);
}

/* ---- Scale: 100,000 connections ---- */

#define MANY 100000u
#define MANY_POOL (512ull << 20)

/* The peer at address i / 50000 + 1, port i % 50000 + 10000: 100,000 distinct 4-tuples. */
static void many_tuple(uint32_t i, ipv4_addr *addr, uint16_t *port)
{
	*addr = IPV4_ADDR(10, 1, (uint8_t)(i / 50000), 2);
	*port = (uint16_t)(i % 50000 + 10000);
}

static void many_inject(struct th *t, ipv4_addr src, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
			const void *data, size_t len)
{
	uint8_t buf[256];
	struct tcp_repr r;
	struct ipv4_repr ip;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.src_port = sport;
	r.dst_port = TH_LPORT;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = 65535;
	r.payload = data;
	r.payload_len = len;
	if (flags & TCP_SYN) {
		r.opts.has_mss = true;
		r.opts.mss = 1460;
	}
	n = tcp_emit(&r, src, TH_LOCAL, buf, sizeof(buf));
	assert_true(n > 0);
	memset(&ip, 0, sizeof(ip));
	ip.src = src;
	ip.dst = TH_LOCAL;
	ip.protocol = IP_PROTO_TCP;
	ip.ttl = 64;
	ip.header_len = 20;
	ip.total_len = (uint16_t)(20 + n);
	tcp_input(t->s, t->now, &ip, buf, n, WIRE_CSUM_VERIFY, &t->cap->sender);
}

/* The longest chain in the 4-tuple table: what a lookup walks at worst. */
static uint32_t longest_chain(const struct tcp_stack *s)
{
	uint32_t most = 0;

	for (uint32_t b = 0; b <= s->bucket_mask; b++) {
		uint32_t n = 0;

		for (uint32_t i = s->buckets[b]; i != TCP_NIL; i = s->conns[i].hash_next)
			n++;
		most = SMX_MAX(most, n);
	}
	return most;
}

static void print_mem(const char *what, const struct tcp_stack *s, uint32_t conns)
{
	struct tcp_mem_usage u;

	tcp_mem_usage(s, &u);
	printf("%s: %u connections; memory %zu MB = fixed %zu MB (%zu bytes per slot) + pool %zu MB; "
	       "in buffers now %zu bytes per connection holding data, %zu promised to windows\n",
	       what, conns, u.total >> 20, u.fixed >> 20, u.per_conn_fixed, u.pool >> 20,
	       conns ? u.pool_in_use / conns : 0, conns ? u.pool_promised / conns : 0);
	assert_true(u.pool_in_use + u.pool_promised <= u.pool);
	assert_true(u.pool_peak <= u.pool);
}

/* 100,000 established connections, each sending a short request the app reads: the memory is the
 * config's (slots plus a 512 MB pool), every connection gets a window (one chunk: the pool has not
 * 64 KB for every slot), the
 * requests' chunks come back as they are read, and the table's chains stay short. */
static void test_many_established(void **state)
{
	struct th *t = th_with(65536, 65536, MANY_POOL, MANY);
	struct th_seg seg;
	struct tcp_conn *c;
	uint32_t accepted = 0;

	(void)state;
	assert_non_null(t);
	th_listen(t, MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		ipv4_addr a;
		uint16_t p;

		many_tuple(i, &a, &p);
		many_inject(t, a, p, 1000, 0, TCP_SYN, NULL, 0);
		th_expect(t, &seg);
		assert_int_equal(seg.r.flags, TCP_SYN | TCP_ACK);
		assert_true(seg.r.window >= TCP_CHUNK_SIZE);
		many_inject(t, a, p, 1001, seg.r.seq + 1, TCP_ACK, NULL, 0);
		many_inject(t, a, p, 1001, seg.r.seq + 1, TCP_ACK | TCP_PSH, "GET /\r\n", 7);
		while ((c = tcp_accept(t->s, t->l)) != NULL) {
			uint8_t buf[16];

			assert_int_equal(tcp_recv(t->s, c, buf, sizeof(buf)), 7);
			accepted++;
		}
		if (i % 1000 == 999)
			while (th_next(t, &seg))
				;
	}
	assert_int_equal(accepted, MANY);
	assert_int_equal(tcp_conn_count(t->s), MANY);
	print_mem("established", t->s, MANY);
	/* Every request read: no data held, and no window backed (idle costs the control block only). */
	assert_int_equal(pool_of(t)->count - pool_of(t)->free, 0);
	assert_int_equal(pool_of(t)->promised, 0);
	printf("established: longest chain in the 4-tuple table %u (%u buckets)\n", longest_chain(t->s),
	       t->s->bucket_mask + 1);
	assert_true(longest_chain(t->s) <= 16);
	th_free(t);
}

/* A SYN flood of 100,000 distinct 4-tuples, then a set crafted to collide under an unkeyed hash
 * (address xor port constant, as a naive table would fold them): SipHash keyed with the secret
 * (RFC 6528's key) keeps every chain short, so demultiplexing stays O(1). */
static void test_many_syn_flood(void **state)
{
	struct th *t = th_with(65536, 65536, MANY_POOL, MANY);
	struct th_seg seg;
	uint32_t longest;

	(void)state;
	th_listen(t, MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		ipv4_addr a;
		uint16_t p;

		many_tuple(i, &a, &p);
		many_inject(t, a, p, 1000, 0, TCP_SYN, NULL, 0);
		if (i % 1000 == 999)
			while (th_next(t, &seg))
				;
	}
	assert_int_equal(tcp_conn_count(t->s), MANY);
	longest = longest_chain(t->s);
	print_mem("SYN flood", t->s, MANY);
	printf("SYN flood: longest chain %u\n", longest);
	assert_true(longest <= 16);
	th_free(t);

	/* Colliding under addr ^ port: the pairs differ, the xor does not. */
	t = th_with(65536, 65536, MANY_POOL, MANY);
	th_listen(t, MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		uint16_t p = (uint16_t)(1024 + i % 60000);
		ipv4_addr a = (IPV4_ADDR(10, 2, 0, 0) + i / 60000 * 65536u) ^ p ^ 0x5555u;

		many_inject(t, a, p, 1000, 0, TCP_SYN, NULL, 0);
		if (i % 1000 == 999)
			while (th_next(t, &seg))
				;
	}
	assert_int_equal(tcp_conn_count(t->s), MANY);
	longest = longest_chain(t->s);
	printf("crafted collisions: longest chain %u\n", longest);
	assert_true(longest <= 16);
	th_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_grows_with_rate),
		cmocka_unit_test(test_pool_exhausted_keeps_window),
		cmocka_unit_test(test_pool_exhausted_new_conn),
		cmocka_unit_test(test_ooo_ranges_fill_chunk),
		cmocka_unit_test(test_pool_waiters_woken),
		cmocka_unit_test(test_pool_overcommit_idle),
		cmocka_unit_test(test_pool_returned_on_ack_and_close),
		cmocka_unit_test(test_pool_returned_on_abort),
		cmocka_unit_test(test_pool_span_across_chunks),
		cmocka_unit_test(test_pool_span_kept_across_ack),
		cmocka_unit_test(test_pool_buffer_sizes),
		cmocka_unit_test(test_many_established),
		cmocka_unit_test(test_many_syn_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
