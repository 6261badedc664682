/* RACK-TLP (RFC 8985) segment by segment on virtual time, on a path with a 10 ms RTT: a lost
 * retransmission is sent again about one RTT after it went out (not at the RTO), a lost tail is
 * probed at PTO = 2 SRTT + 2 ms and then repaired, and a segment that arrives late but within the
 * reordering window (min_RTT / 4) is not retransmitted, while one that never arrives is, once the
 * window has passed, with no need for three duplicates; a lost retransmission with nothing sent
 * after it is found by the probe timer, which backs off while the peer says nothing. The times
 * checked are the virtual clock's. */
#include "tcp_harness.h"

#include <string.h>

#define MSS 1000u
#define RTT 10000u /* us */

static int setup_big(void **state)
{
	struct tcp_config cfg;

	th_config(&cfg);
	cfg.rx_buf_size = 1u << 20;
	cfg.tx_buf_size = 1u << 20;
	*state = th_new(&cfg);
	return 0;
}

/* SACK agreed, no timestamps, MSS 1000; one segment timed so SRTT (and RACK's min_RTT) is 10 ms; a
 * window of `cwnd` segments. Returns the first unsent data byte. */
static uint32_t rack_conn(struct th *t, uint32_t cwnd)
{
	static uint8_t d[1000];
	struct th_seg seg;

	t->peer_opts.sack_permitted = true;
	th_open_passive(t, 1000, MSS);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	assert_true(t->c->flags & TCP_CF_SACK_OK);
	assert_int_equal(tcp_send(t->s, t->c, d, MSS), MSS);
	th_expect(t, &seg);
	th_advance(t, RTT);
	t->peer_ack = t->c->snd_max;
	th_tx(t, .flags = TCP_ACK);
	assert_int_equal(t->c->rack_min_rtt, RTT);
	t->c->srtt = RTT; /* as if every sample had said so (the handshake's did not) */
	t->c->cwnd = cwnd * MSS;
	t->c->ssthresh = 2 * cwnd * MSS;
	return t->c->snd_una;
}

/* What the stack sends, each with the virtual time it left. */
struct sent_log {
	uint32_t seq[512], len[512];
	smx_instant at[512];
	unsigned n;
};

static void collect(struct th *t, struct sent_log *log)
{
	struct th_seg seg;

	while (th_next(t, &seg)) {
		if (seg.r.payload_len == 0 || log->n == 512)
			continue;
		log->seq[log->n] = seg.r.seq;
		log->len[log->n] = (uint32_t)seg.r.payload_len;
		log->at[log->n++] = seg.at;
	}
}

/* The times segment `seq` was sent, in order; how many. */
static unsigned sends_of(const struct sent_log *log, uint32_t seq, smx_instant *at, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < log->n && n < max; i++)
		if (log->seq[i] == seq)
			at[n++] = log->at[i];
	return n;
}

static void send_bytes(struct th *t, uint32_t n)
{
	static uint8_t d[64000];

	assert_true(n <= sizeof(d));
	assert_int_equal(tcp_send(t->s, t->c, d, n), n);
}

/* `bytes` go out (as far as the window lets them) and an RTT passes. */
static void flight(struct th *t, struct sent_log *log, uint32_t bytes)
{
	send_bytes(t, bytes);
	th_advance(t, RTT);
	collect(t, log);
}

/* Segment 0 of a window of four is lost: the three SACKs after it start a recovery, which sends it
 * again. Returns SND.UNA (segment 0). */
static uint32_t recovery_of_four(struct th *t, struct sent_log *log)
{
	smx_instant at[2];
	uint32_t base = rack_conn(t, 4);

	flight(t, log, 4 * MSS);
	assert_int_equal(log->n, 4);
	for (uint32_t k = 1; k < 4; k++) {
		th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + MSS * (k + 1) });
		th_advance(t, 100);
	}
	collect(t, log);
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_int_equal(sends_of(log, base, at, 2), 2);
	return base;
}

/* Segment 0 of 20 is lost; three SACKs start a recovery and it goes again at R; that retransmission
 * is lost too. New data sent after R is SACKed one RTT later: RACK (RFC 8985 6.2) sees a segment
 * sent after the retransmission delivered while it is not, so it sends segment 0 a third time, about
 * one RTT after R, where RFC 6675 alone would wait for the RTO (200 ms at least). */
static void test_rack_lost_retransmission(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[4] = { 0 };
	uint32_t base = rack_conn(t, 20);

	flight(t, &log, 40000);
	assert_int_equal(log.n, 20);
	for (uint32_t k = 1; k < 20; k++) {
		th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + MSS * (k + 1) });
		th_advance(t, 100);
	}
	collect(t, &log);
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_int_equal(sends_of(&log, base, at, 4), 2);
	smx_instant r = at[1];
	/* The first segment sent after the retransmission is SACKed one RTT after it left. */
	unsigned first_new = 0;
	while (first_new < log.n && !(log.at[first_new] > r && tcp_seq_ge(log.seq[first_new], base + 20 * MSS)))
		first_new++;
	assert_true(first_new < log.n);
	th_advance(t, log.at[first_new] + RTT - t->now);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 2); /* nothing yet: no news since */
	th_tx(t, .flags = TCP_ACK, .nsack = 1,
	      .sack = { base + MSS, log.seq[first_new] + log.len[first_new] });
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 3);
	/* About one RTT after the lost retransmission: not before the RTT, well before a second. */
	assert_true(at[2] - r >= RTT);
	assert_true(at[2] - r <= RTT + 2000);
	assert_int_equal(t->c->st.lost_retransmits, 1);
	assert_int_equal(t->c->st.timeouts, 0);
	/* Its delivery ends the recovery; RFC 5681 4.3: the window was reduced twice. */
	assert_true(t->c->flags & TCP_CF_CUT_TWICE);
	t->peer_ack = t->c->snd_max;
	th_tx(t, .flags = TCP_ACK);
	assert_false(t->c->flags & TCP_CF_IN_RECOVERY);
}

/* A flight limited by cwnd with more data waiting, whose last ACK is lost (the peer has it all):
 * the probe at 2 SRTT + 2 ms sends the last segment again, not a new one, so the peer, which has
 * it, answers at once (RFC 9293 3.10.7.4) with a D-SACK, where a lone new segment would wait for
 * its delayed ACK (40 ms from Linux); and nothing is taken as lost. */
static void test_tlp_probes_last_segment(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	uint32_t base = rack_conn(t, 4);

	flight(t, &log, 10 * MSS);
	assert_int_equal(log.n, 4);
	th_advance(t, RTT + 2000);
	collect(t, &log);
	assert_int_equal(log.n, 5);
	assert_int_equal(log.seq[4], base + 3 * MSS);
	assert_int_equal(log.len[4], MSS);
	assert_int_equal(t->c->st.tlp_probes, 1);
	/* The answer: everything, and a D-SACK of the probe. */
	t->peer_ack = base + 4 * MSS;
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + 3 * MSS, base + 4 * MSS });
	collect(t, &log);
	assert_true(log.n > 5);
	assert_int_equal(log.seq[5], base + 4 * MSS); /* new data again, at once */
	assert_false(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_int_equal(t->c->st.timeouts, 0);
}

/* RTT in a SACK recovery, where Karn's rule leaves the one-segment timing nothing to time: each SACK
 * of a first transmission times it to the microsecond, so an SRTT inflated earlier (by delayed
 * ACKs' echoes, as on a 0.1 ms path at 1% loss, where it reached 25 ms) comes down to the path's
 * RTT. A hole filled by its retransmission is no sample (which copy arrived is unknown), nor are
 * bytes SACKed before that a later SACK block repeats. */
static void test_rack_rtt_in_recovery(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	uint32_t base = rack_conn(t, 20), srtt;

	t->c->srtt = 4 * RTT;
	send_bytes(t, 20 * MSS);
	collect(t, &log);
	assert_int_equal(log.n, 20);
	/* Segments 0 and 10 are lost; the rest is SACKed an RTT after it left. */
	th_advance(t, RTT);
	for (uint32_t k = 1; k < 20; k++) {
		if (k < 10)
			th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + MSS * (k + 1) });
		else if (k > 10)
			th_tx(t, .flags = TCP_ACK, .nsack = 2, .sack = { base + 11 * MSS, base + MSS * (k + 1),
									   base + MSS, base + 10 * MSS });
	}
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	/* 16 samples of 10 ms from the third SACK on: 40 ms x (7/8)^16 + 10 ms x (1 - (7/8)^16). */
	assert_true(t->c->srtt >= RTT && t->c->srtt < RTT + RTT / 2);
	/* The same SACKs again, much later: nothing new, no sample. */
	srtt = t->c->srtt;
	th_advance(t, 5 * RTT);
	th_tx(t, .flags = TCP_ACK, .nsack = 2, .sack = { base + 11 * MSS, base + 20 * MSS, base + MSS, base + 10 * MSS });
	assert_int_equal(t->c->srtt, srtt);
	/* Segment 0, retransmitted, arrives: the ACK (partial: 10 is still missing) delivers only it,
	 * and it is no sample. */
	collect(t, &log);
	t->peer_ack = base + 10 * MSS;
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + 11 * MSS, base + 20 * MSS });
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_int_equal(t->c->srtt, srtt);
}

/* The last three of ten segments are lost. The ACK for the first seven comes; nothing more. At
 * PTO = 2 SRTT + 2 ms after it, the last segment is probed (RFC 8985 7.3); its SACK shows the two
 * before it were sent before a delivered segment, and once the reordering window passes RACK sends
 * them again: the tail is repaired in a few RTTs, with no timeout. */
static void test_rack_tail_probe(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[4] = { 0 };
	uint32_t base = rack_conn(t, 10);

	flight(t, &log, 10 * MSS);
	assert_int_equal(log.n, 10);
	t->peer_ack = base + 7 * MSS;
	th_tx(t, .flags = TCP_ACK);
	smx_instant acked = t->now;
	collect(t, &log);
	assert_int_equal(log.n, 10);
	th_advance(t, 2 * RTT + 2000 - 100);
	collect(t, &log);
	assert_int_equal(log.n, 10); /* not before the PTO */
	th_advance(t, 100);
	collect(t, &log);
	assert_int_equal(log.n, 11);
	assert_int_equal(log.seq[10], base + 9 * MSS); /* the last segment, at 2 SRTT + 2 ms */
	assert_int_equal(log.at[10] - acked, 2 * RTT + 2000);
	assert_int_equal(t->c->st.tlp_probes, 1);
	/* The probe's SACK one RTT later. */
	th_advance(t, RTT);
	collect(t, &log);
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + 9 * MSS, base + 10 * MSS });
	collect(t, &log);
	th_advance(t, RTT);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base + 7 * MSS, at, 4), 2);
	assert_true(at[1] - log.at[10] <= RTT + RTT / 4 + 1000); /* an RTT and the reordering window */
	/* PRR (RFC 6937) let one segment out for none delivered; its ACK lets the next go. */
	t->peer_ack = base + 8 * MSS;
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + 9 * MSS, base + 10 * MSS });
	collect(t, &log);
	assert_int_equal(sends_of(&log, base + 8 * MSS, at, 4), 2);
	assert_int_equal(t->c->st.timeouts, 0);
	t->peer_ack = base + 10 * MSS;
	th_tx(t, .flags = TCP_ACK);
	assert_int_equal(t->c->snd_una, t->c->snd_max);
}

/* Segment 0 of 10 is SACKed past (segment 1 arrives first); it arrives 1 ms later, inside the
 * reordering window of min_RTT / 4 = 2.5 ms (RFC 8985 6.2 step 4): no retransmission, and RACK now
 * knows the path reorders. Then, in a second flight, segment 0 never arrives: one SACK suffices
 * (no three duplicates) once the window has passed. */
static void test_rack_reordering_window(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[4] = { 0 };
	uint32_t base = rack_conn(t, 10);

	flight(t, &log, 10 * MSS);
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + 2 * MSS });
	collect(t, &log);
	th_advance(t, 1000);
	collect(t, &log);
	t->peer_ack = base + 2 * MSS;
	th_tx(t, .flags = TCP_ACK);
	th_advance(t, 5000);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 1);
	assert_int_equal(t->c->st.retransmits, 0);
	assert_int_equal(t->c->st.fast_retransmits, 0);
	assert_true(t->c->rack_reo_seen);
	/* Everything acknowledged; a second flight. */
	t->peer_ack = base + 10 * MSS;
	th_tx(t, .flags = TCP_ACK);
	collect(t, &log);
	base = t->c->snd_una;
	send_bytes(t, 10 * MSS);
	collect(t, &log);
	smx_instant sent = t->now;
	th_advance(t, RTT);
	collect(t, &log);
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + 2 * MSS });
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 1);
	th_advance(t, 5000);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 2);
	/* Sent at `sent`, lost at sent + RACK.rtt + reo_wnd, reo_wnd = min_RTT / 4. */
	assert_int_equal(at[1] - sent, RTT + RTT / 4);
	assert_int_equal(t->c->st.timeouts, 0);
}

/* Segment 0 of the last four is lost, and then its retransmission too, with nothing sent after it
 * for RACK to compare with: the probe timer, 2 SRTT + 2 ms after the retransmission, takes it as
 * lost again, well before the RTO (200 ms at least), which the retransmission of SND.UNA's segment
 * restarted. */
static void test_lost_retransmission_of_the_last(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[4] = { 0 };
	uint32_t base = rack_conn(t, 4);

	flight(t, &log, 4 * MSS);
	assert_int_equal(log.n, 4);
	for (uint32_t k = 1; k < 4; k++) {
		if (k == 3) {
			/* As when the last cumulative ACK came long ago: the RTO is due before a probe
			 * timeout would be, 15 ms from now. */
			t->c->rtx_at = t->now + 15000;
			tcp_timer_arm(t->s, t->c, t->c->rtx_at);
		}
		th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + MSS * (k + 1) });
		th_advance(t, 100);
	}
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 2);
	assert_int_equal(log.n, 5); /* nothing but the retransmission */
	th_advance(t, 2 * RTT + 3000);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 3);
	assert_true(at[2] - at[1] <= 2 * RTT + 3000);
	assert_int_equal(t->c->st.timeouts, 0);
	assert_int_equal(t->c->st.lost_retransmits, 1);
}

/* The probe timer's watch over retransmissions in a recovery takes a retransmission as lost on
 * silence alone, so without news from the peer it backs off. Segment 0 of four is lost, three SACKs
 * start a recovery, and then the path goes dark: the watch sends segment 0 again one PTO (22 ms)
 * later, then after 44, 88 and 176 ms, until the RTO (restarted by each copy of SND.UNA's segment)
 * comes first, and then the timeouts back off (400 ms). Before, a copy went every PTO, each
 * pushing the RTO on: 45 a second into a dead path, for as long as the user timeout. */
static void test_recovery_watch_backs_off(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[16] = { 0 };
	uint32_t base = recovery_of_four(t, &log);

	for (unsigned i = 0; i < 100; i++) {
		th_advance(t, 10000);
		collect(t, &log);
	}
	assert_int_equal(sends_of(&log, base, at, 16), 8);
	for (unsigned k = 2; k < 6; k++) /* the watch's copies: 22 ms, then twice the gap before */
		assert_true(at[k] - at[k - 1] >= ((smx_instant)2 * RTT + 2000) << (k - 2));
	assert_int_equal(at[6] - at[5], 200000); /* the RTO, restarted by the last copy */
	assert_int_equal(at[7] - at[6], 400000); /* backed off */
	assert_int_equal(t->c->st.timeouts, 2);
	/* News from the peer starts it over: a SACK of data not SACKed before (the second timeout
	 * forgot the scoreboard, RFC 2018 8), with no cumulative ACK, will do. */
	assert_int_equal(t->c->tlp_watches, 4);
	assert_int_equal(t->c->sb.count, 0);
	th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + MSS, base + 4 * MSS });
	assert_int_equal(t->c->snd_una, base);
	assert_int_equal(t->c->tlp_watches, 0);
}

/* PRR with nothing in flight. A recovery whose retransmission of segment 0 was taken as lost a
 * second time (RFC 5681 4.3's second cut already made), by RACK's timer between ACKs, with more sent
 * than delivered since the cut: PRR's conservative bound (RFC 6937 PRR-CRB) allows nothing, and
 * with pipe 0 no ACK would ever come to allow more. One segment goes at once, not at the RTO. */
static void test_prr_nothing_in_flight(void **state)
{
	struct th *t = *state;
	struct sent_log log = { .n = 0 };
	smx_instant at[4] = { 0 };
	uint32_t base = recovery_of_four(t, &log);

	/* As tcp_rack_detect leaves it when it finds that retransmission lost too. */
	t->c->high_rxt = t->c->snd_una;
	t->c->rtx_mark_count = 0;
	t->c->flags |= TCP_CF_RTX_LOST | TCP_CF_CUT_TWICE;
	t->c->prr_delivered = 0;
	t->c->prr_out = 2 * MSS;
	assert_int_equal(tcp_sb_pipe(t->c), 0);
	tcp_cc_sack_ack(t->s, t->c, 0, false);
	assert_int_equal(t->c->cwnd, MSS);
	th_advance(t, 100);
	collect(t, &log);
	assert_int_equal(sends_of(&log, base, at, 4), 3);
	assert_int_equal(t->c->st.timeouts, 0);
}

/* Where RACK's transmit times live: one range in the control block while a flight takes SRTT/8 (here
 * 1.25 ms) or less; a later send needs a second range and draws the range tables' chunk (32 ranges);
 * the ACK of everything gives it back. With the pool empty the one range takes the later send too
 * (legal: loss by time is declared later, never earlier) and the short pool is counted. A receive
 * buffer of one chunk, so no window promises the tables a chunk. */
static void test_rack_ranges_from_pool(void **state)
{
	static uint32_t taken[1u << 16];
	struct th *t = *state;
	struct tcp_pool *p = &t->s->pool;
	uint32_t base = rack_conn(t, 20), n = 0;
	uint64_t short0;

	assert_true(sizeof(struct tcp_conn) < 1024);
	send_bytes(t, 2 * MSS);
	th_poll(t);
	assert_int_equal(t->c->rack_sent_count, 1);
	assert_int_equal(t->c->ranges, TCP_NIL);
	th_advance(t, 2000);
	send_bytes(t, MSS);
	th_poll(t);
	assert_int_not_equal(t->c->ranges, TCP_NIL);
	assert_int_equal(t->c->rack_sent_count, 2);
	assert_int_equal(t->c->rack_sent_cap, TCP_RACK_SENT);
	assert_int_equal(t->c->rack_sent[t->c->rack_sent_head].seq, base);
	assert_int_equal(t->c->rack_sent[t->c->rack_sent_head].end, base + 2 * MSS);
	t->peer_ack = t->c->snd_max;
	th_tx(t, .flags = TCP_ACK);
	assert_int_equal(t->c->rack_sent_count, 0);
	assert_int_equal(t->c->ranges, TCP_NIL); /* back on the ACK, nothing sent since */
	assert_int_equal(p->free, p->count);

	/* The pool empty but for the send ring's chunk, which has room for all four segments. */
	base = t->c->snd_max;
	send_bytes(t, 3 * MSS);
	th_poll(t);
	while (n < sizeof(taken) / sizeof(taken[0]) && (taken[n] = tcp_pool_take(p, TCP_TAKE_FREE)) != TCP_NIL)
		n++;
	short0 = p->short_count;
	th_advance(t, 2000);
	send_bytes(t, MSS);
	th_poll(t);
	assert_int_equal(t->c->snd_max, base + 4 * MSS);
	assert_int_equal(t->c->ranges, TCP_NIL);
	assert_int_equal(t->c->rack_sent_count, 1);
	assert_int_equal(t->c->rack_sent[t->c->rack_sent_head].end, base + 4 * MSS);
	assert_true(p->short_count > short0);
	while (n > 0)
		tcp_pool_give(p, taken[--n]);
	t->peer_ack = t->c->snd_max;
	th_tx(t, .flags = TCP_ACK);
	assert_int_equal(p->free, p->count);
}

static int setup_one_chunk_rx(void **state)
{
	struct tcp_config cfg;

	th_config(&cfg);
	cfg.rx_buf_size = TCP_CHUNK_SIZE;
	cfg.tx_buf_size = 1u << 20;
	*state = th_new(&cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rack_lost_retransmission, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_tail_probe, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_rtt_in_recovery, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_tlp_probes_last_segment, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_reordering_window, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_watch_backs_off, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_prr_nothing_in_flight, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_lost_retransmission_of_the_last, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_ranges_from_pool, setup_one_chunk_rx, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
