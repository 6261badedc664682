/* Congestion control on virtual time: CUBIC's curve and reduction (RFC 9438), its Reno-friendly
 * region, NewReno kept per connection, HyStart++ (RFC 9406) and its ACK train, and no growth for
 * a window the sender does not use. The curve is driven through tcp_cc_on_ack with a sender that
 * keeps its window full; the decrease through a real fast retransmit. Undo: of a recovery whose
 * retransmissions were all D-SACKed (RFC 3708), and of a timeout that the echoed timestamp shows
 * spurious (RFC 3522). */
#include "tcp_harness.h"

#include <string.h>

#define MSS 1000u

/* An established connection whose SMSS is 1000, past its handshake; cwnd and ssthresh as given. */
static struct tcp_conn *cc_conn(struct th *t, uint32_t cwnd, uint32_t ssthresh)
{
	th_open_passive(t, 1000, MSS);
	t->c->cwnd = cwnd;
	t->c->ssthresh = ssthresh;
	t->c->snd_nxt = t->c->snd_max = t->c->snd_una + cwnd; /* a full window out */
	return t->c;
}

/* One window's worth of ACKs over one RTT (`chunk` bytes each, spread evenly), the sender refilling
 * the window after each: what a bulk sender sees in a round trip. */
static void cc_round(struct th *t, uint32_t rtt_us, uint32_t chunk, uint32_t rtt_sample)
{
	struct tcp_conn *c = t->c;
	uint32_t n = c->cwnd / chunk;

	if (n == 0)
		n = 1;
	for (uint32_t i = 0; i < n; i++) {
		t->now += rtt_us / n;
		c->prev_una = c->snd_una;
		c->snd_una += chunk;
		tcp_cc_on_ack(c, chunk, t->now, rtt_sample);
		c->snd_nxt = c->snd_max = c->snd_una + c->cwnd;
	}
}

/* The same window's ACKs as a train in the first fifth of the RTT, then nothing: a sender without
 * pacing below the path's BDP, its bursts drained by a bottleneck five times the rate it uses. */
static void hs_round(struct th *t, uint32_t rtt_us, uint32_t chunk, uint32_t rtt_sample)
{
	smx_instant t0 = t->now;

	cc_round(t, rtt_us / 5, chunk, rtt_sample);
	t->now = t0 + rtt_us;
}

/* RFC 9438 4.2: after a loss at W_max = 100 segments, cwnd restarts at 0.7 W_max and follows
 * W_cubic(t) = 0.4 (t - K)^3 + W_max, K = cbrt(W_max (1 - 0.7) / 0.4) = 4.22 s: concave up to W_max,
 * flat near K, convex beyond. On a 100 ms RTT path the Reno-friendly estimate stays below it. */
static void test_cubic_curve(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 100 * MSS, 10 * MSS);
	const double k = 4.2172; /* cbrt(100 * 0.3 / 0.4) */

	c->srtt = 100000;
	assert_int_equal(c->cc, TCP_CC_CUBIC);
	/* RFC 9438 4.6: ssthresh = 0.7 FlightSize. */
	uint32_t ssthresh = tcp_cubic_on_congestion(c);
	assert_int_equal(ssthresh, 70 * MSS);
	assert_int_equal(c->cubic_wmax, 100 * MSS);
	c->ssthresh = c->cwnd = ssthresh;
	c->snd_nxt = c->snd_max = c->snd_una + c->cwnd;

	smx_instant t0 = t->now;
	uint32_t at_half_k = 0, at_k = 0, at_2k = 0;
	while (t->now - t0 < (smx_instant)(2 * k * 1e6)) {
		cc_round(t, 100000, MSS, UINT32_MAX);
		double secs = (double)(t->now - t0) / 1e6;
		if (!at_half_k && secs >= k / 2)
			at_half_k = c->cwnd;
		if (!at_k && secs >= k)
			at_k = c->cwnd;
	}
	at_2k = c->cwnd;
	/* W_cubic(t + RTT) at K/2 is 100 - 0.4 (k/2 - 0.1)^3 = 96.6 segments: concave, most of the way
	 * back in the first half (Reno would have regained about 11). */
	assert_true(at_half_k > 93 * MSS && at_half_k < 100 * MSS);
	/* Around K the window sits at W_max. */
	assert_true(at_k >= 99 * MSS && at_k <= 101 * MSS);
	/* At 2K: W_cubic = 100 + 0.4 k^3 = 130 segments, probing beyond. */
	assert_true(at_2k > 125 * MSS && at_2k < 135 * MSS);
}

/* RFC 9438 4.3: on a short RTT, W_est (Reno's pace with alpha = 9/17, then 1) outgrows the cubic
 * curve, and cwnd follows W_est. After 1 s at 1 ms RTT the curve is at 87 segments; Reno-friendly
 * growth is far past W_max. */
static void test_cubic_reno_friendly(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 100 * MSS, 10 * MSS);

	c->srtt = 1000;
	c->ssthresh = c->cwnd = tcp_cubic_on_congestion(c);
	c->snd_nxt = c->snd_max = c->snd_una + c->cwnd;
	for (int i = 0; i < 1000; i++)
		cc_round(t, 1000, MSS, UINT32_MAX);
	assert_true(c->cwnd > 150 * MSS);
	assert_true(c->cwnd >= c->cubic_west - MSS);
}

/* RFC 9438 4.7: a loss before the last W_max was regained lowers W_max further, to
 * cwnd (1 + beta) / 2, leaving room to newer flows. */
static void test_cubic_fast_convergence(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 100 * MSS, 10 * MSS);

	tcp_cubic_on_congestion(c);
	c->cwnd = 80 * MSS;
	c->snd_max = c->snd_una + c->cwnd;
	assert_int_equal(tcp_cubic_on_congestion(c), 56 * MSS);
	assert_int_equal(c->cubic_wmax, 68 * MSS); /* 80 * 0.85 */
	assert_int_equal(c->cubic_prior, 80 * MSS);
}

/* The decrease through a real fast retransmit (RFC 5681 3.2 with RFC 9438 4.6): flight 7000, so
 * ssthresh 4900 under CUBIC where NewReno (test_tcp_data) takes 3500. */
static void test_cubic_fast_retransmit(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t data[16000];
	struct tcp_conn_stats st;

	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, data, sizeof(data));
	while (th_next(t, &seg))
		;
	t->peer_ack = t->c->iss + 1 + 4000;
	th_send(t, TCP_ACK, NULL, 0);
	while (th_next(t, &seg))
		;
	t->peer_ack = t->c->iss + 1 + 9000;
	th_send(t, TCP_ACK, NULL, 0);
	while (th_next(t, &seg))
		;
	for (int i = 0; i < 3; i++)
		th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .off = 9000);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.cc, TCP_CC_CUBIC);
	assert_int_equal(st.ssthresh, 4900);
	assert_int_equal(st.cwnd, 7900);
	assert_string_equal(tcp_cc_name(st.cc), "cubic");
}

/* Per connection: the choice, an unknown one refused, and the default from tcp_config. */
static void test_cc_choice(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, MSS);
	assert_int_equal(tcp_set_congestion_control(t->s, t->c, TCP_CC_COUNT), TCP_ERR_INVALID);
	assert_int_equal(tcp_set_congestion_control(t->s, t->c, TCP_CC_NEWRENO), TCP_OK);
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.cc, TCP_CC_NEWRENO);
	assert_string_equal(tcp_cc_name(TCP_CC_NEWRENO), "newreno");
	t->c->cwnd = 100 * MSS;
	t->c->snd_max = t->c->snd_una + t->c->cwnd;
	/* NewReno's ssthresh after three duplicates: half the flight. */
	t->c->dupacks = 2;
	tcp_cc_on_dupack(t->s, t->c);
	assert_int_equal(t->c->ssthresh, 50 * MSS);

	struct tcp_config cfg;
	th_config(&cfg);
	cfg.cc = TCP_CC_NEWRENO;
	struct th *t2 = th_new(&cfg);
	th_open_passive(t2, 1000, MSS);
	assert_int_equal(t2->c->cc, TCP_CC_NEWRENO);
	th_free(t2);
	cfg.cc = TCP_CC_COUNT;
	assert_int_equal(tcp_mem_size(&cfg), 0);
}

/* RFC 9406 4.2: a round whose minimum RTT rose by the threshold (max(4 ms, min(last / 8, 16 ms)))
 * starts conservative slow start, growing a quarter as fast; after CSS_ROUNDS more rounds, ssthresh
 * is cwnd (congestion avoidance), without a loss. A flat RTT never ends slow start. */
static void test_hystart(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 10 * MSS, UINT32_MAX / 2);
	struct tcp_conn_stats st;

	c->hs_window_end = c->snd_nxt;
	/* Flat 10 ms: slow start doubles each round. */
	for (int i = 0; i < 3; i++)
		hs_round(t, 10000, 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	assert_true(c->cwnd >= 70 * MSS);
	/* The delay rises by 3 ms: under the 4 ms floor, nothing. */
	hs_round(t, 13000, 2 * MSS, 13000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	/* By 5 ms over the last round's minimum: conservative slow start. */
	uint32_t before = c->cwnd;
	hs_round(t, 18000, 2 * MSS, 18000);
	assert_int_equal(c->hs_state, TCP_HS_CSS);
	/* Growth a quarter of slow start's within the next round. */
	before = c->cwnd;
	hs_round(t, 18000, 2 * MSS, 18000);
	assert_true(c->cwnd - before <= before / 4 + 2 * MSS);
	assert_true(c->cwnd > before);
	for (int i = 0; i < 5 && c->hs_state == TCP_HS_CSS; i++)
		hs_round(t, 18000, 2 * MSS, 18000);
	assert_int_equal(c->hs_state, TCP_HS_DONE);
	/* ssthresh = cwnd at the round's end; the rest of this round grew it in congestion avoidance. */
	assert_true(c->ssthresh <= c->cwnd && c->cwnd - c->ssthresh <= 4 * MSS);
	tcp_conn_stats(c, &st);
	assert_int_equal(st.hystart_exits, 1);
}

/* RFC 9406 4.2: a lower RTT in conservative slow start than its baseline means the rise was
 * spurious: back to slow start. And without RTT samples (no timestamps) it never leaves it. */
static void test_hystart_spurious_and_no_samples(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 10 * MSS, UINT32_MAX / 2);

	c->hs_window_end = c->snd_nxt;
	hs_round(t, 10000, 2 * MSS, 10000);
	hs_round(t, 20000, 2 * MSS, 20000);
	assert_int_equal(c->hs_state, TCP_HS_CSS);
	hs_round(t, 10000, 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);

	struct th *t2 = th_new(&t->cfg);
	c = cc_conn(t2, 10 * MSS, UINT32_MAX / 2);
	for (int i = 0; i < 6; i++)
		hs_round(t2, 10000 * (i + 1), 2 * MSS, UINT32_MAX);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	assert_true(c->cwnd >= 320 * MSS);
	th_free(t2);
}

/* The ACK train (Linux's HyStart): a sender without pacing gets each round's ACKs back as a train
 * spaced by the bottleneck; one longer than half the lowest RTT means the window keeps the bottleneck
 * busy that long, and slow start ends there (ssthresh = cwnd), before the burst that doubles it
 * overflows the queue, with a flat RTT. Not below 16 segments; ACKs over 2 ms apart make no train. */
static void test_hystart_ack_train(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 4 * MSS, UINT32_MAX / 2);
	struct tcp_conn_stats st;

	c->hs_window_end = c->snd_nxt;
	/* A small window: its ACKs fill the whole 10 ms round trip, but it is under 16 segments. */
	cc_round(t, 10000, 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	assert_true(c->cwnd < 16 * MSS);
	/* Trains of a fifth of the RTT: slow start goes on. */
	while (c->cwnd < 40 * MSS)
		hs_round(t, 10000, 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	/* ACKs 2.5 ms apart over the whole round trip: no train, however long the round. */
	for (int i = 0; i < 2; i++)
		cc_round(t, 2500 * (c->cwnd / (2 * MSS)), 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_SLOW_START);
	/* A train over the whole round trip: out of slow start once it is 5 ms long, half way through
	 * the round, the window grown by half. */
	uint32_t before = c->cwnd;
	cc_round(t, 10000, 2 * MSS, 10000);
	assert_int_equal(c->hs_state, TCP_HS_DONE);
	assert_true(c->ssthresh > before + before / 4 && c->ssthresh < before + before * 3 / 4);
	assert_true(c->ssthresh <= c->cwnd);
	tcp_conn_stats(c, &st);
	assert_int_equal(st.hystart_exits, 1);
}

/* RFC 7661's point: a sender using under half its window (application- or receiver-limited) does
 * not grow it, in slow start or after. */
static void test_no_growth_unused_window(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 100 * MSS, UINT32_MAX / 2);

	for (int i = 0; i < 50; i++) {
		t->now += 1000;
		c->snd_max = c->snd_nxt = c->snd_una + 10 * MSS; /* 10 segments out of a 100 window */
		c->prev_una = c->snd_una;
		c->snd_una += MSS;
		tcp_cc_on_ack(c, MSS, t->now, UINT32_MAX);
	}
	assert_int_equal(c->cwnd, 100 * MSS);
	c->ssthresh = 50 * MSS;
	for (int i = 0; i < 50; i++) {
		t->now += 1000;
		c->snd_max = c->snd_nxt = c->snd_una + 10 * MSS;
		c->prev_una = c->snd_una;
		c->snd_una += MSS;
		tcp_cc_on_ack(c, MSS, t->now, UINT32_MAX);
	}
	assert_int_equal(c->cwnd, 100 * MSS);
}

/* A connection with SACK agreed, 16 segments of 1000 in flight from `base`; segment 0 then seems lost:
 * the peer SACKs 1-3 (three duplicates), so it goes out again in a recovery. */
static uint32_t cc_sack_recovery(struct th *t, struct tcp_conn_stats *before)
{
	static uint8_t d[16000];
	struct th_seg seg;
	uint32_t base;

	t->peer_opts.sack_permitted = true;
	th_open_passive(t, 1000, MSS);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	assert_true(t->c->flags & TCP_CF_SACK_OK);
	t->c->cwnd = 16 * MSS;
	t->c->ssthresh = 12 * MSS;
	tcp_conn_stats(t->c, before);
	base = t->c->snd_una;
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	for (int i = 0; i < 16; i++)
		th_expect(t, &seg);
	bool resent = false;
	for (uint32_t k = 1; k <= 3; k++) {
		th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + MSS * (k + 1) });
		while (th_next(t, &seg))
			resent |= seg.r.seq == base && seg.r.payload_len == MSS;
	}
	assert_true(resent);
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_true(t->c->ssthresh < before->ssthresh);
	return base;
}

/* RFC 3708 with RFC 4015's response: segment 0 was only delayed; the peer's ACK covering all of it
 * carries a D-SACK for the retransmission (RFC 2883 4, a block below the cumulative ACK). The one
 * retransmission of the episode was needless: cwnd and ssthresh return to what they were, and the
 * reordering raises DupThresh (RFC 6675 2, adaptive). */
static void test_dsack_undo(void **state)
{
	struct th *t = *state;
	struct tcp_conn_stats before, st;
	uint32_t base = cc_sack_recovery(t, &before);

	t->peer_ack = base + 4 * MSS;
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base, base + MSS });
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dsacks, 1);
	assert_int_equal(st.undos, 1);
	assert_int_equal(st.ssthresh, before.ssthresh);
	assert_true(st.cwnd >= before.cwnd);
	assert_int_equal(st.dupthresh, 6);
	assert_false(t->c->flags & TCP_CF_IN_RECOVERY);
}

/* No undo while a retransmission of the episode is still unaccounted for (a real loss), nor for a
 * D-SACK below the episode's start (an older duplicate). (A duplicate the network made of a segment
 * retransmitted in the episode cannot be told from the retransmission's own: Linux undoes too.) */
static void test_dsack_no_undo(void **state)
{
	struct th *t = *state;
	struct tcp_conn_stats before, st;
	uint32_t base = cc_sack_recovery(t, &before);
	uint32_t ssthresh = t->c->ssthresh;

	t->c->undo_retrans = 2; /* two retransmissions out in this episode */
	t->peer_ack = base + 4 * MSS;
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base, base + MSS });
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dsacks, 1);
	assert_int_equal(st.undos, 0);
	assert_int_equal(t->c->ssthresh, ssthresh);
	assert_int_equal(t->c->undo_retrans, 1);
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base - 500, base });
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dsacks, 2);
	assert_int_equal(st.undos, 0);
	assert_int_equal(t->c->undo_retrans, 1);
}

/* DupThresh adapts, but within half the flight: a small window still recovers on SACKs. And a
 * timeout forgets it. */
static void test_dupthresh_bounds(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c = cc_conn(t, 100 * MSS, 10 * MSS);

	c->dupthresh = 64;
	c->snd_max = c->snd_una + 100 * MSS;
	assert_int_equal(tcp_sb_dupthresh(c), 50);
	c->snd_max = c->snd_una + 4 * MSS;
	assert_int_equal(tcp_sb_dupthresh(c), 3);
	tcp_cc_on_timeout(c);
	assert_int_equal(c->dupthresh, 3);
}

/* A connection with timestamps and SACK agreed, SMSS 1000 - 12 (the option on every segment), its
 * window full of 10 segments sent at once; no ACK comes back until after the RTO. Returns the
 * first segment's TSval (every one of the flight carries it). */
static uint32_t cc_rto(struct th *t, struct tcp_conn_stats *before)
{
	static uint8_t d[10000];
	struct th_seg seg;

	t->peer_opts.sack_permitted = true;
	t->peer_opts.has_timestamp = true;
	t->peer_opts.ts_val = 500;
	th_open_passive(t, 1000, MSS);
	assert_true((t->c->flags & (TCP_CF_TS | TCP_CF_SACK_OK)) == (TCP_CF_TS | TCP_CF_SACK_OK));
	t->c->cwnd = 10 * tcp_seg_mss(t->c);
	t->c->ssthresh = 8 * tcp_seg_mss(t->c);
	tcp_conn_stats(t->c, before);
	assert_int_equal(tcp_send(t->s, t->c, d, 10 * tcp_seg_mss(t->c)), 10 * tcp_seg_mss(t->c));
	th_expect(t, &seg);
	uint32_t tsval = seg.r.opts.ts_val;
	while (th_next(t, &seg))
		assert_int_equal(seg.r.opts.ts_val, tsval);
	/* A tail probe, then at the RTO the first segment again. */
	for (int ms = 0; ms < 2000 && t->c->st.timeouts == 0; ms++)
		th_advance(t, 1000);
	bool resent = false;
	while (th_next(t, &seg)) {
		resent |= seg.r.seq == t->c->snd_una;
		assert_true(seg.r.opts.ts_val != tsval);
	}
	assert_true(resent);
	assert_int_equal(t->c->st.timeouts, 1);
	assert_int_equal(t->c->cwnd, tcp_seg_mss(t->c));
	return tsval;
}

/* RFC 3522 (Eifel) with RFC 4015's response: the ACK after the timeout echoes the original
 * flight's TSval, so the originals arrived and the timeout was spurious: cwnd and ssthresh as
 * before it, and no more going back (SND.NXT = SND.MAX: the rest of the flight is not resent). */
static void test_spurious_rto_undo(void **state)
{
	struct th *t = *state;
	struct tcp_conn_stats before, st;
	uint32_t tsval = cc_rto(t, &before);
	struct th_seg seg;

	t->peer_opts.ts_ecr = tsval;
	t->peer_ack = t->c->snd_una + 2 * tcp_seg_mss(t->c);
	th_tx(t, .flags = TCP_ACK);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.spurious_rtos, 1);
	assert_int_equal(st.ssthresh, before.ssthresh);
	assert_true(st.cwnd >= before.cwnd);
	assert_int_equal(t->c->snd_nxt, t->c->snd_max);
	while (th_next(t, &seg))
		assert_true(seg.r.payload_len == 0); /* nothing resent */
	assert_int_equal(st.retransmits, 2); /* the tail probe and the timeout's, no more */
}

/* The same timeout, but the ACK echoes the retransmission's TSval: a real loss, no undo. */
static void test_rto_no_undo(void **state)
{
	struct th *t = *state;
	struct tcp_conn_stats before, st;

	cc_rto(t, &before);
	t->peer_opts.ts_ecr = tcp_ts_now(t->c, t->now);
	t->peer_ack = t->c->snd_una + tcp_seg_mss(t->c);
	th_tx(t, .flags = TCP_ACK);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.spurious_rtos, 0);
	assert_true(st.ssthresh < before.ssthresh);
	assert_true(st.cwnd < before.cwnd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cubic_curve, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cubic_reno_friendly, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cubic_fast_convergence, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cubic_fast_retransmit, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cc_choice, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_hystart, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_hystart_spurious_and_no_samples, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_hystart_ack_train, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_growth_unused_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_undo, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_no_undo, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dupthresh_bounds, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_spurious_rto_undo, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rto_no_undo, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
