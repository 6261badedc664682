/* TCP against blind and off-path attacks and unpredictability: RFC 5961 (in-window RST and SYN draw
 * challenge ACKs, ACK range checks, the rate limit), RFC 6528 ISNs, RFC 6056 ephemeral ports, and
 * the pieces underneath (SipHash-2-4 vectors, the byte ring, the reassembly ranges). */
#include "tcp_harness.h"
#include "smolxdp/wire/checksum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5961 3.2: exact RCV.NXT resets; elsewhere in the window: challenge ACK; outside: nothing. */
static void test_rst_in_window_challenged(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	th_send_at(t, t->peer_seq + 100, TCP_RST, NULL, 0);
	th_assert_state(t, TCP_ESTABLISHED);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
	assert_int_equal(tcp_stack_stats(t->s)->challenge_acks, 1);
	/* Out of the window: silently dropped (first check; no ACK for a RST). */
	th_send_at(t, t->peer_seq + 100000, TCP_RST, NULL, 0);
	th_send_at(t, t->peer_seq - 1, TCP_RST, NULL, 0);
	th_expect_none(t);
	th_assert_state(t, TCP_ESTABLISHED);
	/* The challenge's answer, a RST at exactly RCV.NXT, is believed. */
	th_send_at(t, t->peer_seq, TCP_RST, NULL, 0);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_RESET);
}

/* RFC 5961 4.2: a SYN in a synchronized state, wherever it falls, is challenged, never obeyed. */
static void test_syn_in_established_challenged(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	th_send_at(t, t->peer_seq + 10, TCP_SYN, NULL, 0);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
	th_assert_state(t, TCP_ESTABLISHED);
	/* Out of window: the first check answers with an ACK too; still no reset. */
	th_send_at(t, t->peer_seq + 1000000, TCP_SYN, NULL, 0);
	th_want(t, .flags = TCP_ACK);
	th_assert_state(t, TCP_ESTABLISHED);
	assert_int_equal(tcp_stack_stats(t->s)->challenge_acks, 1);
	assert_int_equal(tcp_stack_stats(t->s)->rst_sent, 0);
}

/* RFC 5961 5.2: ACKs outside [SND.UNA - MAX.SND.WND, SND.NXT] are dropped, data and all. */
static void test_ack_range_checked(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint32_t una = t->peer_ack;
	char buf[16];

	th_open_passive(t, 1000, 1000);
	una = t->peer_ack;
	/* Acknowledging data never sent. */
	th_tx(t, .flags = TCP_ACK | TCP_PSH, .seq_off = 0, .ack = una + 5000, .win = 65535, .data = "evil", .len = 4);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq); /* the data was not taken */
	assert_int_equal(tcp_recv_avail(t->c), 0);
	/* Too old: more than the largest window the peer ever offered (65535) below SND.UNA. */
	th_tx(t, .flags = TCP_ACK | TCP_PSH, .seq_off = 0, .ack = una - 70000, .win = 65535, .data = "evil", .len = 4);
	th_expect(t, &seg);
	assert_int_equal(tcp_recv_avail(t->c), 0);
	assert_int_equal(tcp_stack_stats(t->s)->rx_bad_ack, 2);
	/* Old but within the range: an ordinary old duplicate, the data is taken. */
	th_tx(t, .flags = TCP_ACK | TCP_PSH, .seq_off = 0, .ack = una - 1000, .win = 65535, .data = "fine", .len = 4);
	assert_int_equal(tcp_recv(t->s, t->c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "fine", 4);
	th_assert_state(t, TCP_ESTABLISHED);
}

/* RFC 5961 7: challenge ACKs are rate-limited across connections. */
static void test_challenge_ack_rate_limit(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	struct th_seg seg;
	int n = 0;

	(void)state;
	th_config(&cfg);
	cfg.challenge_ack_limit = 3;
	t = th_new(&cfg);
	th_open_passive(t, 1000, 1000);
	for (int i = 0; i < 10; i++)
		th_send_at(t, t->peer_seq + 1 + (uint32_t)i, TCP_RST, NULL, 0);
	while (th_next(t, &seg))
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(tcp_stack_stats(t->s)->challenge_acks_limited, 7);
	th_advance(t, 1000000);
	th_send_at(t, t->peer_seq + 1, TCP_SYN, NULL, 0);
	th_expect(t, &seg);
	th_assert_state(t, TCP_ESTABLISHED);
	th_free(t);
}

/* A blind RST guessing RCV.NXT on the wrong port pair goes nowhere; on SYN-SENT only an acceptable
 * ACK makes a RST count (RFC 9293 3.10.7.3, RFC 5961 3.2). */
static void test_syn_sent_rst_needs_ack(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_SYN_SENT);
	th_tx(t, .flags = TCP_RST, .seq = 0, .ack = 0, .win = 0);
	th_assert_state(t, TCP_SYN_SENT);
	th_tx(t, .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = t->peer_ack - 1, .win = 0);
	th_assert_state(t, TCP_SYN_SENT);
}

/* RFC 6528: keyed by the 4-tuple, advancing with a 4 us clock. */
static void test_isn(void **state)
{
	struct th *t = *state;
	uint32_t a = tcp_isn(t->s, TH_LOCAL, 80, TH_REMOTE, 1000, 0);
	uint32_t b = tcp_isn(t->s, TH_LOCAL, 80, TH_REMOTE, 1001, 0);
	uint32_t c = tcp_isn(t->s, TH_LOCAL, 80, TH_REMOTE, 1000, 4000000);
	struct tcp_config cfg;
	struct th *t2;

	assert_int_not_equal(a, b);
	assert_int_equal(c - a, 1000000);
	th_config(&cfg);
	cfg.secret[3] ^= 1;
	t2 = th_new(&cfg);
	assert_int_not_equal(tcp_isn(t2->s, TH_LOCAL, 80, TH_REMOTE, 1000, 0), a);
	th_free(t2);
	/* Two passive opens from the same peer get unrelated ISNs. */
	struct th_seg s1, s2;
	th_listen(t, 8);
	th_tx(t, .flags = TCP_SYN, .sport = 1111, .seq = 1, .ack = 0, .win = 1000);
	th_expect(t, &s1);
	th_tx(t, .flags = TCP_SYN, .sport = 1112, .seq = 1, .ack = 0, .win = 1000);
	th_expect(t, &s2);
	assert_true(s2.r.seq - s1.r.seq > 1000000 && s1.r.seq - s2.r.seq > 1000000);
}

/* RFC 6056 algorithm 3: ports in range, distinct per destination, hash-offset per destination. */
static void test_ephemeral_ports(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	static bool used[65536];
	struct tcp_connect_opts o = { TH_LOCAL, 0, TH_REMOTE, 80, NULL };
	enum tcp_result err;
	uint16_t first_a, first_b;
	struct tcp_endpoints ep;

	(void)state;
	th_config(&cfg);
	cfg.max_conns = 200;
	cfg.ephemeral_min = 50000;
	cfg.ephemeral_max = 50149;
	t = th_new(&cfg);
	memset(used, 0, sizeof(used));
	for (int i = 0; i < 150; i++) {
		struct tcp_conn *c = tcp_connect(t->s, &o, &err);

		assert_non_null(c);
		tcp_conn_endpoints(c, &ep);
		assert_true(ep.local_port >= 50000 && ep.local_port <= 50149);
		assert_false(used[ep.local_port]);
		used[ep.local_port] = true;
		if (i == 0)
			first_a = ep.local_port;
	}
	/* The range is exhausted for this destination. */
	assert_null(tcp_connect(t->s, &o, &err));
	assert_int_equal(err, TCP_ERR_NO_PORT);
	/* Another destination port has its own 4-tuples (and its own offset). */
	o.remote_port = 81;
	struct tcp_conn *c = tcp_connect(t->s, &o, &err);
	assert_non_null(c);
	tcp_conn_endpoints(c, &ep);
	first_b = ep.local_port;
	(void)first_a;
	(void)first_b;
	/* An explicit port that is taken is refused. */
	o.local_port = ep.local_port;
	assert_null(tcp_connect(t->s, &o, &err));
	assert_int_equal(err, TCP_ERR_ADDR_IN_USE);
	th_free(t);
}

static void test_port_offsets_differ(void **state)
{
	struct th *t = *state;
	int same = 0;

	for (uint16_t p = 1; p < 100; p++)
		same += tcp_port_offset(t->s, TH_LOCAL, TH_REMOTE, p) == tcp_port_offset(t->s, TH_LOCAL, TH_REMOTE, 1);
	assert_int_equal(same, 1);
}

/* SipHash-2-4 reference vectors (the paper's appendix: key 00..0f, message 00..0e; and the empty
 * message from the reference implementation's vectors.h). */
static void test_siphash_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_true(tcp_siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
	assert_true(tcp_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(tcp_siphash(key, msg, 8) == 0x93f5f5799a932462ull);
	assert_true(tcp_siphash(key, msg, 63) == 0x958a324ceb064572ull);
}

/* A ring of chunks from a 3-chunk pool: bytes across a chunk boundary, spans that stop there,
 * chunks back to the pool as they are consumed. */
static void test_ring(void **state)
{
	static uint8_t mem[3 * TCP_CHUNK_SIZE];
	static uint8_t in[2 * TCP_CHUNK_SIZE + 100], out[sizeof(in)];
	uint32_t links[3];
	struct tcp_pool p;
	struct tcp_ring r;
	uint8_t *span;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	tcp_pool_init(&p, mem, links, 3, TCP_CHUNK_SHIFT);
	tcp_ring_init(&r, 2 * TCP_CHUNK_SIZE + 100);
	assert_int_equal(tcp_ring_free(&p, &r), 2 * TCP_CHUNK_SIZE + 100);
	assert_true(tcp_ring_write_at(&p, &r, 0, in, 10, false));
	tcp_ring_commit(&r, 10);
	assert_int_equal(p.free, 2);
	tcp_ring_consume(&p, &r, 5);
	assert_int_equal(r.len, 5);
	/* Past the first chunk's end: a second chunk, and the bytes read back whole. */
	assert_true(tcp_ring_write_at(&p, &r, r.len, in + 10, TCP_CHUNK_SIZE, false));
	tcp_ring_commit(&r, TCP_CHUNK_SIZE);
	assert_int_equal(p.free, 1);
	tcp_ring_read_at(&p, &r, 0, out, r.len);
	assert_memory_equal(out, in + 5, r.len);
	/* A read span ends at the chunk boundary. */
	assert_int_equal(tcp_ring_read_span(&p, &r, &span), TCP_CHUNK_SIZE - 5);
	assert_memory_equal(span, in + 5, TCP_CHUNK_SIZE - 5);
	/* Read and summed at once, across the chunk boundary at odd and even offsets: the bytes, and
	 * the sum csum_add gives them (the first piece is odd for even offsets). */
	for (uint32_t off = 0; off < 8; off++) {
		uint32_t n = r.len - off - 3;

		memset(out, 0, sizeof(out));
		assert_int_equal(csum_fold(tcp_ring_read_csum(&p, &r, off, out, n)),
				 csum_fold(csum_add(0, in + 5 + off, n)));
		assert_memory_equal(out, in + 5 + off, n);
	}
	/* Consuming past the boundary gives the first chunk back. */
	tcp_ring_consume(&p, &r, TCP_CHUNK_SIZE - 5);
	assert_int_equal(p.free, 2);
	tcp_ring_read_at(&p, &r, 0, out, r.len);
	assert_memory_equal(out, in + TCP_CHUNK_SIZE, r.len);
	/* Drained: everything back. */
	tcp_ring_consume(&p, &r, r.len);
	assert_int_equal(p.free, 3);
	assert_int_equal(r.chunks, 0);
}

static void test_assembler(void **state)
{
	uint32_t left[TCP_ASM_MAX], right[TCP_ASM_MAX];
	struct tcp_assembler a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_false(tcp_asm_add(&a, 1, 2)); /* no table yet */
	a.left = left;
	a.right = right;
	a.cap = TCP_ASM_MAX;
	/* Ranges near the wrap point. */
	uint32_t b = 0xfffffff0u;
	assert_true(tcp_asm_add(&a, b + 30, b + 40));
	assert_true(tcp_asm_add(&a, b + 10, b + 20));
	assert_true(tcp_asm_add(&a, b + 50, b + 60));
	assert_int_equal(a.count, 3);
	assert_true(tcp_asm_add(&a, b + 20, b + 30)); /* joins the first two */
	assert_int_equal(a.count, 2);
	assert_int_equal(a.left[0], b + 10);
	assert_int_equal(a.right[0], b + 40);
	assert_true(tcp_asm_add(&a, b + 5, b + 70)); /* swallows all */
	assert_int_equal(a.count, 1);
	assert_int_equal(tcp_asm_advance(&a, b + 4), b + 4); /* a hole before it */
	assert_int_equal(tcp_asm_advance(&a, b + 5), b + 70);
	assert_int_equal(a.count, 0);
	/* Full: a range needing a new slot is refused, one that merges is not. */
	for (uint32_t i = 0; i < TCP_ASM_MAX; i++)
		assert_true(tcp_asm_add(&a, 100 * i, 100 * i + 10));
	assert_false(tcp_asm_add(&a, 50, 60));
	assert_true(tcp_asm_add(&a, 10, 20));
	assert_int_equal(tcp_asm_advance(&a, 0), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rst_in_window_challenged, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_in_established_challenged, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_range_checked, th_setup, th_teardown),
		cmocka_unit_test(test_challenge_ack_rate_limit),
		cmocka_unit_test_setup_teardown(test_syn_sent_rst_needs_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_isn, th_setup, th_teardown),
		cmocka_unit_test(test_ephemeral_ports),
		cmocka_unit_test_setup_teardown(test_port_offsets_differ, th_setup, th_teardown),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_assembler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
