/* TCP data transfer on virtual time: segmentation to the MSS, delayed ACK, reassembly, window edges
 * and updates, zero-window probes, Nagle, RTO timing and backoff, RTT estimation with Karn's rule,
 * fast retransmit with NewReno, keep-alive, sequence wrap-around, zero-copy calls, full buffers. */
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

/* Relative sequence number of what we send (0 = first data byte). */
static uint32_t rel(struct th *t, uint32_t seq)
{
	return seq - (t->c->iss + 1);
}

/* The peer acknowledges up to relative offset `off`. */
static void peer_ack_to(struct th *t, uint32_t off)
{
	t->peer_ack = t->c->iss + 1 + off;
	th_send(t, TCP_ACK, NULL, 0);
}

static void test_segmentation_and_slow_start(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg = NULL;
	uint8_t data[10000];
	uint32_t next = 0;

	th_open_passive(t, 1000, 1000);
	fill(data, 0, sizeof(data));
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	/* RFC 5681 3.1: IW = 4 * SMSS for SMSS <= 1095, cut to the peer's MSS. */
	for (int i = 0; i < 4; i++) {
		th_want(t, .off = next, .len = 1000, .data = data + next);
		next += 1000;
	}
	th_expect_none(t);
	/* One ACK for all four: slow start adds two SMSS (RFC 3465 byte counting, L = 2). */
	peer_ack_to(t, 4000);
	for (int i = 0; i < 6; i++) {
		seg = th_want(t, .off = next, .len = 1000);
		next += 1000;
	}
	assert_true(seg->r.flags & TCP_PSH); /* the last of the buffer */
	th_expect_none(t);
}

static void test_mss_capped_by_mtu(void **state)
{
	struct th *t = *state;
	static uint8_t data[4000];

	th_open_passive(t, 1000, 9000);
	tcp_send(t->s, t->c, data, sizeof(data));
	th_want(t, .len = 1460);
}

static void test_delayed_ack(void **state)
{
	struct th *t = *state;
	uint8_t data[1460];

	th_open_passive(t, 1000, 1460);
	th_send(t, TCP_ACK | TCP_PSH, "hello", 5);
	th_advance(t, 39999);
	th_expect_none(t);
	th_advance(t, 1);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
	/* Two full-sized segments: ACK at once (RFC 9293 3.8.6.3). */
	memset(data, 'x', sizeof(data));
	th_send(t, TCP_ACK, data, sizeof(data));
	th_expect_none(t);
	th_send(t, TCP_ACK, data, sizeof(data));
	th_want(t, .ack = t->peer_seq);
	/* Data going out carries the ACK: no separate one later. */
	th_send(t, TCP_ACK, "abc", 3);
	tcp_send(t->s, t->c, "reply", 5);
	th_want(t, .ack = t->peer_seq, .len = 5);
	th_advance(t, 100000);
	th_expect_none(t);
}

static void test_out_of_order_reassembly(void **state)
{
	struct th *t = *state;
	uint8_t data[300], got[400];
	uint32_t base;

	th_open_passive(t, 1000, 1000);
	base = t->peer_seq;
	fill(data, 0, sizeof(data));
	th_send_at(t, base + 200, TCP_ACK, data + 200, 100);
	th_want(t, .ack = base); /* RFC 5681 4.2: immediate duplicate ACK */
	assert_int_equal(tcp_recv_avail(t->c), 0);
	th_send_at(t, base + 100, TCP_ACK, data + 100, 100);
	th_want(t, .ack = base);
	/* An overlapping duplicate of held data changes nothing. */
	th_send_at(t, base + 150, TCP_ACK, data + 150, 100);
	th_want(t, .ack = base);
	assert_int_equal(th_events(t, t->c, NULL), 0);
	th_send_at(t, base, TCP_ACK, data, 100);
	th_want(t, .ack = base + 300); /* the hole filled: ACK at once */
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_READABLE);
	assert_int_equal(tcp_recv(t->s, t->c, got, sizeof(got)), 300);
	assert_memory_equal(got, data, 300);
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.ooo_segs, 2); /* the duplicate held nothing new */
	assert_int_equal(st.bytes_in, 300);
}

static void test_out_of_order_fin(void **state)
{
	struct th *t = *state;
	uint32_t base;
	char got[16];

	th_open_passive(t, 1000, 1000);
	base = t->peer_seq;
	th_send_at(t, base + 5, TCP_ACK | TCP_FIN, "world", 5);
	th_want(t, .ack = base);
	th_assert_state(t, TCP_ESTABLISHED);
	th_send_at(t, base, TCP_ACK, "hello", 5);
	th_want(t, .ack = base + 11); /* data and the FIN */
	th_assert_state(t, TCP_CLOSE_WAIT);
	assert_int_equal(tcp_recv(t->s, t->c, got, sizeof(got)), 10);
	assert_memory_equal(got, "helloworld", 10);
	assert_true(tcp_eof(t->c));
}

static void test_receive_window_edges(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	uint8_t data[1500], got[4000];
	uint32_t base;

	(void)state;
	th_config(&cfg);
	cfg.rx_buf_size = 2000;
	t = th_new(&cfg);
	th_open_passive(t, 1000, 1000);
	base = t->peer_seq;
	fill(data, 0, sizeof(data));
	th_send_at(t, base, TCP_ACK, data, 1500);
	/* 1000 more, only 500 of them inside the offered window: the rest is cut off. */
	th_send_at(t, base + 1500, TCP_ACK, data, 1000);
	th_advance(t, 40000);
	th_want(t, .ack = base + 2000, .win = 0);
	/* Zero window: an empty segment at RCV.NXT is acceptable, data is not (ACKed, dropped). */
	th_send_at(t, base + 2000, TCP_ACK, NULL, 0);
	th_expect_none(t);
	th_send_at(t, base + 2000, TCP_ACK, data, 1);
	th_want(t, .ack = base + 2000, .win = 0);
	assert_int_equal(tcp_stack_stats(t->s)->rx_out_of_window, 1);
	/* The app reads a little: not worth a window update (SWS avoidance, RFC 9293 3.8.6.2.2). */
	assert_int_equal(tcp_recv(t->s, t->c, got, 100), 100);
	th_expect_none(t);
	/* Reading enough sends one. */
	assert_int_equal(tcp_recv(t->s, t->c, got + 100, 1000), 1000);
	th_want(t, .win = 1100);
	/* An old segment straddling the left edge: only the new part is taken. */
	th_send_at(t, base + 1900, TCP_ACK, data, 300);
	th_expect_none(t); /* delayed */
	assert_int_equal(tcp_recv(t->s, t->c, got + 1100, sizeof(got) - 1100), 1100);
	assert_memory_equal(got, data, 1500);
	assert_memory_equal(got + 1500, data, 500);
	assert_memory_equal(got + 2000, data + 100, 200);
	/* Entirely old: an ACK to resynchronize. */
	th_send_at(t, base, TCP_ACK, data, 100);
	th_want(t, .ack = base + 2200);
	th_free(t);
}

static void test_rto_backoff_and_user_timeout(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	smx_instant last;
	uint64_t expect = 200000; /* rto_min: the handshake RTT was 0 */

	th_open_passive(t, 1000, 1000);
	tcp_set_user_timeout(t->s, t->c, 10000000);
	tcp_send(t->s, t->c, "data", 4);
	th_expect(t, &seg);
	last = t->now;
	for (int i = 0; i < 5; i++) {
		th_advance(t, expect - 1);
		th_expect_none(t);
		th_advance(t, 1);
		th_want(t, .len = 4, .off = 0);
		assert_int_equal(t->now - last, expect);
		last = t->now;
		expect *= 2;
	}
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.retransmits, 5);
	assert_int_equal(st.timeouts, 5);
	/* 6.2 s after the first send; the next expiry (12.6 s) is past the 10 s user timeout. */
	th_advance(t, expect);
	th_expect_none(t);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_TIMED_OUT);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_CLOSED);
}

static void test_rto_max_and_ack_resets_backoff(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	struct th_seg seg;
	smx_instant last;

	(void)state;
	th_config(&cfg);
	cfg.rto_initial = 1000000;
	cfg.rto_max = 1000000;
	t = th_new(&cfg);
	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, "0123456789", 10);
	th_expect(t, &seg);
	th_advance(t, 200000);
	th_expect(t, &seg);
	last = t->now;
	for (int i = 0; i < 3; i++) {
		th_advance(t, 1000000);
		th_expect(t, &seg);
		assert_int_equal(t->now - last, 1000000);
		last = t->now;
	}
	/* An ACK of new data ends the backoff: the next timeout is one RTO again. */
	peer_ack_to(t, 5);
	th_advance(t, 199999);
	th_expect_none(t);
	th_advance(t, 1);
	th_want(t, .off = 5);
	th_free(t);
}

static void test_rtt_estimation_and_karn(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	struct tcp_conn_stats st;

	th_connect(t);
	th_expect(t, &seg);
	t->peer_ack = seg.r.seq + 1;
	t->peer_seq = 5000;
	th_advance(t, 100000);
	th_expect_none(t);
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .mss = 1000);
	th_expect(t, &seg);
	/* RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR. */
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.srtt_us, 100000);
	assert_int_equal(st.rttvar_us, 50000);
	assert_int_equal(st.rto_us, 300000);
	/* 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R. */
	tcp_send(t->s, t->c, "abc", 3);
	th_expect(t, &seg);
	th_advance(t, 60000);
	peer_ack_to(t, 3);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.rttvar_us, 37500 + 10000);
	assert_int_equal(st.srtt_us, 87500 + 7500);
	assert_int_equal(st.rto_us, 95000 + 4 * 47500);
	/* Karn: an ACK for a retransmitted segment gives no sample. */
	tcp_send(t->s, t->c, "defg", 4);
	th_expect(t, &seg);
	th_advance(t, st.rto_us);
	th_want(t, .off = 3);
	th_advance(t, 5000);
	peer_ack_to(t, 7);
	struct tcp_conn_stats st2;
	tcp_conn_stats(t->c, &st2);
	assert_int_equal(st2.srtt_us, st.srtt_us);
	assert_int_equal(st2.rttvar_us, st.rttvar_us);
}

/* An established connection (SMSS 1000) with NewReno, cwnd as given (0: the initial window), and
 * `len` bytes of the pattern queued. */
static void newreno_sending(struct th *t, uint32_t cwnd, uint8_t *data, size_t len)
{
	th_open_passive(t, 1000, 1000);
	assert_int_equal(tcp_set_congestion_control(t->s, t->c, TCP_CC_NEWRENO), TCP_OK);
	if (cwnd)
		t->c->cwnd = cwnd;
	fill(data, 0, len);
	tcp_send(t->s, t->c, data, len);
}

static void test_fast_retransmit_newreno(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[16000];
	struct tcp_conn_stats st;

	newreno_sending(t, 0, data, sizeof(data));
	while (th_next(t, &seg))
		;
	peer_ack_to(t, 4000); /* cwnd 6000 (L = 2) */
	while (th_next(t, &seg))
		;
	peer_ack_to(t, 9000); /* cwnd 8000: all of 9000..16000 in flight (9000 went out before) */
	for (int i = 1; i < 7; i++) {
		th_want(t, .off = 9000 + 1000u * i);
	}
	th_expect_none(t);
	/* 9000 and 11000 lost. Two duplicate ACKs find nothing new to let out (RFC 3042); the third
	 * triggers fast retransmit (RFC 5681 3.2). */
	th_send(t, TCP_ACK, NULL, 0);
	th_expect_none(t);
	th_send(t, TCP_ACK, NULL, 0);
	th_expect_none(t);
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 9000, .len = 1000, .data = data + 9000);
	th_expect_none(t);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.ssthresh, 3500); /* FlightSize 7000 / 2 */
	assert_int_equal(st.cwnd, 6500);     /* ssthresh + 3 SMSS */
	assert_int_equal(st.fast_retransmits, 1);
	assert_int_equal(st.dup_acks, 3);
	/* Each further duplicate inflates cwnd by one SMSS. */
	th_send(t, TCP_ACK, NULL, 0);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.cwnd, 7500);
	th_expect_none(t);
	/* Partial ACK (RFC 6582 3.2 step 4): the next hole goes out at once. */
	peer_ack_to(t, 11000);
	th_expect(t, &seg);
	assert_int_equal(rel(t, seg.r.seq), 11000);
	assert_memory_equal(seg.data, data + 11000, 1000);
	while (th_next(t, &seg))
		assert_true(rel(t, seg.r.seq) >= 16000 || rel(t, seg.r.seq) == 11000);
	/* Full ACK: recovery ends, cwnd = min(ssthresh, flight + SMSS). */
	peer_ack_to(t, 16000);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.cwnd, 2000); /* flight 0: max(0, SMSS) + SMSS */
	assert_int_equal(st.fast_retransmits, 1);
	assert_int_equal(st.retransmits, 2);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_WRITABLE);
}

/* RFC 6582 4: after a timeout, `recover` is the highest sequence sent, and duplicate ACKs below it
 * start no recovery unless the last advance was small (4.2's heuristic): go-back-N resends what the
 * peer already holds, and each such segment draws a duplicate. Here 0 and 6000 of 0..9999 were lost;
 * the timeout's copy of 0 brings the ACK to 6000 (6 SMSS at once); 6000 is lost again, and the copies
 * of 7000.. draw three duplicates: no fast retransmit, no second reduction; the RTO resends 6000. */
static void test_dupacks_after_timeout(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[10000];
	struct tcp_conn_stats st;

	newreno_sending(t, 10000, data, sizeof(data));
	for (int i = 0; i < 10; i++)
		th_want(t, .off = 1000u * i);
	th_advance(t, tcp_poll_at(t->s, t->now) - t->now);
	th_want(t, .off = 0);
	th_expect_none(t);
	peer_ack_to(t, 6000);
	tcp_conn_stats(t->c, &st);
	uint32_t ssthresh = st.ssthresh;
	uint32_t off = 6000;
	while (th_next(t, &seg)) /* go-back-N from 6000, in slow start */
		assert_int_equal(rel(t, seg.r.seq), off), off += 1000;
	assert_true(off >= 8000);
	for (int i = 0; i < 3; i++) {
		th_send(t, TCP_ACK, NULL, 0);
		while (th_next(t, &seg)) /* limited transmit: the rest of go-back-N */
			assert_true(rel(t, seg.r.seq) >= 8000);
	}
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.fast_retransmits, 0);
	assert_int_equal(st.ssthresh, ssthresh);
	assert_int_equal(st.timeouts, 1);
	th_advance(t, tcp_poll_at(t->s, t->now) - t->now);
	th_want(t, .off = 6000);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.timeouts, 2);
}

/* RFC 3042: the first two duplicate ACKs each let one new segment out, beyond cwnd. */
static void test_limited_transmit(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[10000];

	th_open_passive(t, 1000, 1000);
	fill(data, 0, sizeof(data));
	tcp_send(t->s, t->c, data, sizeof(data));
	for (int i = 0; i < 4; i++)
		th_expect(t, &seg); /* the initial window */
	th_expect_none(t);
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 4000);
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 5000);
	th_expect_none(t);
}

/* RFC 5681 2 (e): an ACK that changes the window is no duplicate (Linux's FLAG_WIN_UPDATE keeps such
 * an ACK from counting alike): of four ACKs at SND.UNA the second opens the window, and the fast
 * retransmit waits for the fourth. With SACK, RFC 6675 2 counts an ACK that SACKs new data whatever
 * its window (Linux counts the SACKed segments, not the ACK, to the same effect). */
static void test_dupack_window_update(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[4000];
	struct tcp_conn_stats st;

	t->peer_win = 50000;
	newreno_sending(t, 0, data, sizeof(data));
	for (int i = 0; i < 4; i++)
		th_want(t, .off = 1000u * i);
	th_send(t, TCP_ACK, NULL, 0);
	th_tx(t, .flags = TCP_ACK, .win = 60000);
	t->peer_win = 60000;
	th_send(t, TCP_ACK, NULL, 0);
	th_expect_none(t);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dup_acks, 2);
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 0, .len = 1000);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dup_acks, 3);
	assert_int_equal(st.fast_retransmits, 1);

	struct tcp_config cfg;
	th_config(&cfg);
	struct th *t2 = th_new(&cfg);
	t2->peer_win = 50000;
	t2->peer_opts.sack_permitted = true;
	newreno_sending(t2, 0, data, sizeof(data));
	while (th_next(t2, &seg))
		;
	uint32_t una = t2->c->snd_una;
	th_tx(t2, .flags = TCP_ACK, .nsack = 1, .sack = { una + 1000, una + 2000 });
	th_tx(t2, .flags = TCP_ACK, .win = 60000, .nsack = 1, .sack = { una + 1000, una + 3000 });
	tcp_conn_stats(t2->c, &st);
	assert_int_equal(st.dup_acks, 2);
	th_free(t2);
}

static void test_zero_window_probe(void **state)
{
	struct th *t = *state;
	uint8_t data[100];
	smx_instant last;

	th_open_passive(t, 1000, 1000);
	t->peer_win = 0;
	th_send(t, TCP_ACK, NULL, 0);
	fill(data, 0, sizeof(data));
	tcp_send(t->s, t->c, data, sizeof(data));
	th_expect_none(t);
	last = t->now;
	/* Probes of one byte, backing off (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17). */
	for (int i = 0; i < 4; i++) {
		th_advance(t, tcp_poll_at(t->s, t->now) - t->now);
		th_want(t, .off = 0, .len = 1);
		assert_int_equal(t->now - last, 200000u << i);
		last = t->now;
		th_send(t, TCP_ACK, NULL, 0); /* the peer's window is still shut */
		th_expect_none(t);
	}
	th_assert_state(t, TCP_ESTABLISHED); /* probing never gives up while answered */
	/* The window opens: everything goes. */
	t->peer_win = 65535;
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 0, .len = 100, .data = data);
	peer_ack_to(t, 100);
	th_advance(t, 10000000);
	th_expect_none(t);
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.zero_window_probes, 4);
}

static void test_nagle(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, "aaaaaaaaaa", 10);
	th_want(t, .len = 10); /* nothing outstanding: goes at once */
	tcp_send(t->s, t->c, "bbbbbbbbbb", 10);
	th_expect_none(t); /* RFC 9293 3.7.4: held while data is unacknowledged */
	tcp_send(t->s, t->c, "cccccccccc", 10);
	th_expect_none(t);
	peer_ack_to(t, 10);
	th_want(t, .len = 20, .data = "bbbbbbbbbbcccccccccc");
	/* A full segment is never held. */
	static uint8_t big[1500];
	tcp_send(t->s, t->c, big, sizeof(big));
	th_want(t, .len = 1000);
	th_expect_none(t); /* the 500-byte tail waits */
	/* Nagle off: the tail goes now. */
	tcp_set_nodelay(t->s, t->c, true);
	th_want(t, .len = 500);
	tcp_send(t->s, t->c, "d", 1);
	th_want(t, .len = 1);
}

static void test_keepalive(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	struct th_seg seg;

	(void)state;
	th_config(&cfg);
	cfg.keepalive_idle = 10000000;
	cfg.keepalive_interval = 1000000;
	cfg.keepalive_count = 3;
	t = th_new(&cfg);
	th_open_passive(t, 1000, 1000);
	th_advance(t, 20000000);
	th_expect_none(t); /* off by default (RFC 1122 4.2.3.6) */
	tcp_set_keepalive(t->s, t->c, true);
	th_send(t, TCP_ACK, NULL, 0); /* activity now */
	th_advance(t, 9999999);
	th_expect_none(t);
	th_advance(t, 1);
	/* RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1, no data. */
	th_want(t, .seq = t->peer_ack - 1, .len = 0);
	/* Answered: idle again from here. */
	th_send(t, TCP_ACK, NULL, 0);
	th_advance(t, 1000000);
	th_expect_none(t);
	th_advance(t, 9000000);
	th_expect(t, &seg);
	/* Unanswered: one probe per interval, then the connection is reset. */
	th_advance(t, 1000000);
	th_expect(t, &seg);
	th_advance(t, 1000000);
	th_expect(t, &seg);
	th_assert_state(t, TCP_ESTABLISHED);
	th_advance(t, 1000000);
	th_expect(t, &seg);
	assert_true(seg.r.flags & TCP_RST);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_TIMED_OUT);
	th_free(t);
}

/* More than 2 GB sent: SND.UNA is then "before" ISS in modular arithmetic (RFC 9293 3.4), and a send
 * buffer found from that comparison was read 2^31 bytes off (a crash of smolxdp-server's source
 * service after about 3 s at 5 Gbit/s). Only the distance from ISS matters, so the test moves ISS
 * back instead of sending 2 GB. */
static void test_more_than_2gb_sent(void **state)
{
	struct th *t = *state;
	uint8_t data[3000];
	uint32_t una;

	th_open_passive(t, 1000, 1000);
	t->c->iss -= 0x80000000u; /* as if 2 GB had been sent and acknowledged */
	una = t->c->snd_una;
	fill(data, 0, sizeof(data));
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	th_want(t, .seq = una, .len = 1000, .data = data);
	th_want(t, .seq = una + 1000, .len = 1000, .data = data + 1000);
	th_want(t, .seq = una + 2000, .len = 1000, .data = data + 2000);
	t->peer_ack = una + 3000;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(t->c->snd_una, una + 3000);
	assert_int_equal(tcp_send(t->s, t->c, data, 500), 500);
	th_want(t, .seq = una + 3000, .len = 500, .data = data);
}

static void test_sequence_wraparound(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t out[100000], in[100000], got[100000];
	uint32_t sent = 0, recvd = 0, acked = 0, read_total = 0;

	th_connect(t);
	th_set_iss(t, 0xffffff00u); /* our sequence numbers wrap after 255 bytes */
	th_open_active(t, 0xffffff80u, 1000);
	fill(out, 0, sizeof(out));
	fill(in, 5, sizeof(in));
	while (acked < sizeof(out) || recvd < sizeof(in)) {
		sent += (uint32_t)tcp_send(t->s, t->c, out + sent, sizeof(out) - sent);
		while (th_next(t, &seg)) {
			uint32_t off = seg.r.seq - 0xffffff01u;

			if (seg.r.payload_len) {
				assert_true(off + seg.r.payload_len <= sizeof(out));
				assert_memory_equal(seg.data, out + off, seg.r.payload_len);
				if (off + seg.r.payload_len > acked)
					acked = off + (uint32_t)seg.r.payload_len;
			}
		}
		peer_ack_to(t, acked);
		if (recvd < sizeof(in)) {
			uint32_t n = SMX_MIN(1000u, (uint32_t)sizeof(in) - recvd);

			th_send(t, TCP_ACK, in + recvd, n);
			recvd += n;
		}
		read_total += (uint32_t)tcp_recv(t->s, t->c, got + read_total, sizeof(got) - read_total);
	}
	assert_int_equal(read_total, sizeof(in));
	assert_memory_equal(got, in, sizeof(in));
	assert_true(tcp_seq_gt(t->c->snd_una, 0xffffff00u + 50000)); /* it wrapped and kept going */
	assert_int_equal(t->c->snd_una, (uint32_t)(0xffffff01u + sizeof(out)));
	assert_int_equal(t->c->rcv_nxt, (uint32_t)(0xffffff81u + sizeof(in)));
}

static void test_send_buffer_full_and_writable(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[20000];

	th_open_passive(t, 1000, 1000);
	assert_int_equal(tcp_send_space(t->c), 16384);
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), 16384);
	assert_int_equal(tcp_send(t->s, t->c, data, 1), 0);
	assert_int_equal(tcp_send_space(t->c), 0);
	while (th_next(t, &seg))
		;
	th_events(t, NULL, NULL);
	peer_ack_to(t, 3000);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_WRITABLE);
	assert_int_equal(tcp_send_space(t->c), 3000);
}

static void test_zero_copy_calls(void **state)
{
	struct th *t = *state;
	uint8_t *span;
	const uint8_t *rspan;
	size_t n;

	th_open_passive(t, 1000, 1000);
	n = tcp_send_buf(t->s, t->c, &span);
	assert_int_equal(n, TCP_CHUNK_SIZE); /* contiguous: up to the end of the buffer's first chunk */
	memcpy(span, "in place", 8);
	tcp_send_commit(t->s, t->c, 8);
	th_want(t, .len = 8, .data = "in place");
	th_send(t, TCP_ACK | TCP_PSH, "view me", 7);
	n = tcp_recv_peek(t->s, t->c, &rspan);
	assert_int_equal(n, 7);
	assert_memory_equal(rspan, "view me", 7);
	tcp_recv_consume(t->s, t->c, 4);
	assert_int_equal(tcp_recv_avail(t->c), 3);
	n = tcp_recv_peek(t->s, t->c, &rspan);
	assert_int_equal(n, 3);
	assert_memory_equal(rspan, " me", 3);
}

static void test_tx_no_buffer_retries(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	t->cap->no_buffer = true;
	tcp_send(t->s, t->c, "later", 5);
	th_poll(t);
	assert_int_equal(tcp_poll_at(t->s, t->now), t->now); /* still wants to send */
	assert_true(tcp_stack_stats(t->s)->tx_no_buffer > 0);
	t->cap->no_buffer = false;
	th_want(t, .len = 5);
	assert_int_equal(tcp_poll_at(t->s, t->now), t->now + 200000); /* only the RTO now */
}

static void test_icmp_unreachable_while_opening(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_SYN_SENT);
	/* A quoted sequence number that is not in flight is ignored (RFC 5927 4.1). */
	th_icmp_error(t, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, 0x12000000, 0);
	th_assert_state(t, TCP_SYN_SENT);
	uint32_t iss = t->peer_ack - 1;
	/* Nor one at SND.NXT: nothing was sent there (RFC 5927 4.1: SND.UNA <= SEG.SEQ < SND.NXT). */
	th_icmp_error(t, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, iss + 1, 0);
	th_assert_state(t, TCP_SYN_SENT);
	th_icmp_error(t, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, iss, 0);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_segmentation_and_slow_start, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_limited_transmit, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dupack_window_update, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_mss_capped_by_mtu, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_delayed_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_reassembly, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_fin, th_setup, th_teardown),
		cmocka_unit_test(test_receive_window_edges),
		cmocka_unit_test_setup_teardown(test_rto_backoff_and_user_timeout, th_setup, th_teardown),
		cmocka_unit_test(test_rto_max_and_ack_resets_backoff),
		cmocka_unit_test_setup_teardown(test_rtt_estimation_and_karn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit_newreno, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dupacks_after_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_probe, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_nagle, th_setup, th_teardown),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test_setup_teardown(test_sequence_wraparound, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_more_than_2gb_sent, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_send_buffer_full_and_writable, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_zero_copy_calls, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tx_no_buffer_retries, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_unreachable_while_opening, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
