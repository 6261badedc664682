/* TCP options negotiated on the SYNs, segment by segment: RFC 7323 window scaling (offered from the
 * receive buffer, applied only when both SYNs carry it, never to a SYN's own window) and timestamps
 * (on every segment once agreed, PAWS, RTTM), and RFC 2018 SACK as a receiver (blocks in RFC 2018 4's
 * order, D-SACK per RFC 2883). */
#include "tcp_harness.h"

#include <string.h>

#define BIG_BUF (1u << 20) /* 1 MB: shift 5 makes the field say it (1 MB >> 5 = 32768) */

static int setup_big(void **state)
{
	struct tcp_config cfg;

	th_config(&cfg);
	cfg.rx_buf_size = BIG_BUF;
	cfg.tx_buf_size = BIG_BUF;
	*state = th_new(&cfg);
	return 0;
}

/* The peer's SYN offers a shift and SACK; the SYN-ACK answers with ours, its window unscaled. */
static void test_wscale_passive(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg;

	t->peer_opts.has_wscale = true;
	t->peer_opts.wscale = 7;
	t->peer_opts.sack_permitted = true;
	th_listen(t, 8);
	t->peer_seq = 1000;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .win = 65535, .mss = 1000);
	/* RFC 7323 2.2: a SYN's window is never scaled */
	/* The shift is for the buffer's maximum; the window for its first, autotuned size. */
	seg = th_want(t, .flags = TCP_SYN | TCP_ACK, .wscale = 5, .sack_perm = 1, .win = TCP_RCV_INITIAL);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	t->peer_ack = seg->r.seq + 1;
	t->peer_win = 100; /* 100 << 7 = 12800 bytes */
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	assert_int_equal(t->c->snd_wnd, 100u << 7);
	/* Our window field is the free buffer shifted by 5, rounded up so as not to shrink the window
	 * already offered (RFC 9293 3.8.6.2.2). */
	th_send(t, TCP_ACK | TCP_PSH, "abcd", 4);
	th_advance(t, 200000);
	th_want(t, .ack = t->peer_seq, .win = (TCP_RCV_INITIAL - 4 + 31) >> 5, .nsack = 0);
}

/* A peer that offers no shift gets none, and its windows are taken as they are. */
static void test_wscale_peer_without(void **state)
{
	struct th *t = *state;

	th_listen(t, 8);
	t->peer_seq = 1000;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .win = 65535, .mss = 1000);
	t->peer_ack = th_want(t, .wscale = TH_NONE, .sack_perm = 0)->r.seq + 1;
	t->peer_win = 3000;
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	assert_int_equal(t->c->snd_wnd, 3000);
	th_send(t, TCP_ACK | TCP_PSH, "abcd", 4);
	th_advance(t, 200000);
	/* Not shifted: the buffer's first size offered in the SYN-ACK, less what arrived (receiver SWS
	 * avoidance keeps the right edge until a whole MSS more is free). */
	th_want(t, .win = TCP_RCV_INITIAL - 4);
}

/* Our SYN offers both; a SYN-ACK without them turns both off. */
static void test_wscale_active_refused(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_connect(t);
	t->peer_ack = th_want(t, .flags = TCP_SYN, .wscale = 5, .sack_perm = 1)->r.seq + 1;
	t->peer_seq = 5000;
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .win = 2000, .mss = 1000);
	th_expect(t, &seg);
	th_assert_state(t, TCP_ESTABLISHED);
	assert_int_equal(t->c->rcv_wscale, 0);
	assert_false(t->c->flags & TCP_CF_SACK_OK);
	t->peer_win = 4000;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(t->c->snd_wnd, 4000);
}

/* Active open accepted with a shift: the peer's windows are shifted from the first ACK on. */
static void test_wscale_active_agreed(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_connect(t);
	th_expect(t, &seg);
	t->peer_ack = seg.r.seq + 1;
	t->peer_seq = 5000;
	t->peer_opts.has_wscale = true;
	t->peer_opts.wscale = 20; /* RFC 7323 2.3: more than 14 is taken as 14 */
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .win = 2000, .mss = 1000);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	th_expect(t, &seg);
	assert_int_equal(t->c->snd_wnd, 2000); /* the SYN-ACK's own window: unscaled */
	t->peer_win = 3;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(t->c->snd_wnd, 3u << 14);
	assert_int_equal(t->c->rcv_wscale, 5);
}

static void open_with_sack(struct th *t)
{
	t->peer_opts.sack_permitted = true;
	th_open_passive(t, 1000, 1000);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	assert_true(t->c->flags & TCP_CF_SACK_OK);
}

/* RFC 2018 4: the block of the latest segment first, then the ones reported before. */
static void test_sack_blocks_order(void **state)
{
	struct th *t = *state;
	uint8_t d[1000];
	uint32_t b;

	memset(d, 'x', sizeof(d));
	open_with_sack(t);
	b = t->peer_seq;
	th_send_at(t, b + 1000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 1, .sack = { b + 1000, b + 2000 });
	th_send_at(t, b + 3000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 2, .sack = { b + 3000, b + 4000, b + 1000, b + 2000 });
	th_send_at(t, b + 5000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 3, .sack = { b + 5000, b + 6000, b + 3000, b + 4000, b + 1000, b + 2000 });
	/* Filling [2000, 3000) merges two blocks: the merged one comes first. */
	th_send_at(t, b + 2000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 2, .sack = { b + 1000, b + 4000, b + 5000, b + 6000 });
	/* The hole at the front fills: cumulative ACK jumps, one block left. */
	th_send_at(t, b, TCP_ACK, d, 1000);
	th_want(t, .ack = b + 4000, .nsack = 1, .sack = { b + 5000, b + 6000 });
}

/* RFC 2883: a duplicate below the cumulative ACK, then one of held data, each reported once first. */
static void test_dsack(void **state)
{
	struct th *t = *state;
	uint8_t d[1000];
	uint32_t b;

	memset(d, 'y', sizeof(d));
	open_with_sack(t);
	b = t->peer_seq;
	th_send_at(t, b, TCP_ACK, d, 1000);
	th_send_at(t, b + 1000, TCP_ACK, d, 1000);
	th_advance(t, 100000); /* the delayed ACK */
	th_want(t, .ack = b + 2000, .nsack = 0);
	th_send_at(t, b, TCP_ACK, d, 1000); /* wholly old */
	th_want(t, .ack = b + 2000, .nsack = 1, .sack = { b, b + 1000 });
	th_send_at(t, b + 3000, TCP_ACK, d, 1000);
	th_want(t, .ack = b + 2000, .nsack = 1, .sack = { b + 3000, b + 4000 });
	th_send_at(t, b + 3000, TCP_ACK, d, 500); /* already held */
	th_want(t, .ack = b + 2000, .nsack = 2, .sack = { b + 3000, b + 3500, b + 3000, b + 4000 });
	/* Reported once: the next ACK has the plain block only. */
	th_send_at(t, b + 5000, TCP_ACK, d, 1000);
	th_want(t, .ack = b + 2000, .nsack = 2, .sack = { b + 5000, b + 6000, b + 3000, b + 4000 });
}

/* A full-sized data segment still fits the MTU: its SACK blocks give way, the pure ACK keeps them. */
static void test_sack_blocks_yield_to_mss(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg;
	uint8_t d[1460];
	uint32_t b;

	memset(d, 'w', sizeof(d));
	t->peer_opts.sack_permitted = true;
	th_open_passive(t, 1000, 1460);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	b = t->peer_seq;
	th_send_at(t, b + 1460, TCP_ACK, d, 1460);
	th_want(t, .ack = b, .nsack = 1, .sack = { b + 1460, b + 2920 });
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	seg = th_want(t, .len = 1460, .nsack = 0);
	assert_true(20 + seg->r.header_len + seg->r.payload_len <= 1500);
}

static void open_with_ts(struct th *t, uint32_t tsval)
{
	t->peer_opts.has_timestamp = true;
	t->peer_opts.ts_val = tsval;
	th_open_passive(t, 1000, 1000);
	assert_true(t->c->flags & TCP_CF_TS);
}

/* RFC 7323 3.2: agreed on the SYNs, then on every segment, echoing the peer's latest valid TSval. */
static void test_ts_every_segment(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	open_with_ts(t, 7000);
	t->peer_opts.ts_val = 7005;
	th_send(t, TCP_ACK | TCP_PSH, "hi", 2);
	assert_int_equal(tcp_send(t->s, t->c, "hello", 5), 5);
	/* Our clock ticks in milliseconds: 50 ms later the TSval is 50 more. */
	uint32_t v0 = th_want(t, .ts = 1, .tsecr = 7005, .len = 5)->r.opts.ts_val;
	t->peer_ack += 5;
	th_send(t, TCP_ACK, NULL, 0);
	th_advance(t, 50000);
	assert_int_equal(tcp_send(t->s, t->c, "again", 5), 5);
	th_expect(t, &seg);
	assert_int_equal(seg.r.opts.ts_val - v0, 50);
	/* A full-sized segment's payload is the MSS less the 12 option bytes (RFC 6691). */
	uint8_t big[3000];
	memset(big, 'b', sizeof(big));
	t->peer_opts.ts_val = 7010;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(tcp_send(t->s, t->c, big, sizeof(big)), sizeof(big));
	th_want(t, .len = 1000 - 12, .ts = 1);
}

/* RFC 7323 5.3: a segment with an older timestamp than TS.Recent is an old duplicate: ACKed, dropped. */
static void test_paws(void **state)
{
	struct th *t = *state;

	open_with_ts(t, 7000);
	t->peer_opts.ts_val = 8000;
	th_send(t, TCP_ACK | TCP_PSH, "new", 3);
	th_advance(t, 100000);
	th_want(t, .ack = t->peer_seq);
	t->peer_opts.ts_val = 7999; /* older: wrapped-around or delayed duplicate */
	th_send_at(t, t->peer_seq, TCP_ACK | TCP_PSH, "old", 3);
	th_want(t, .ack = t->peer_seq, .tsecr = 8000); /* an ACK at once, the data not taken */
	assert_int_equal(tcp_recv_avail(t->c), 3);
	assert_int_equal(tcp_stack_stats(t->s)->rx_paws_rejected, 1);
	/* A reset is never refused for its timestamp. */
	t->peer_opts.ts_val = 1;
	th_send_at(t, t->peer_seq, TCP_RST, NULL, 0);
	th_assert_state(t, TCP_CLOSED);
}

/* A zero window is no duplicate ACK to take past PAWS (Linux's window-update test refuses one too):
 * an old-TSval copy of the peer's zero-window ACK is dropped with an ACK, not counted. */
static void test_paws_zero_window_not_disordered(void **state)
{
	struct tcp_config cfg;
	struct th *t;

	(void)state;
	th_config(&cfg);
	t = th_new(&cfg);
	open_with_ts(t, 7000);
	t->peer_opts.ts_val = 8000;
	th_tx(t, .flags = TCP_ACK, .win = 0);
	assert_int_equal(t->c->snd_wnd, 0);
	t->peer_opts.ts_val = 7999;
	th_tx(t, .flags = TCP_ACK, .win = 0);
	assert_int_equal(tcp_stack_stats(t->s)->rx_paws_disordered_acks, 0);
	assert_int_equal(tcp_stack_stats(t->s)->rx_paws_rejected, 1);
	th_want(t, .flags = TCP_ACK, .len = 0, .tsecr = 8000);
	th_free(t);
}

/* RFC 7323 5.3 R1 with Linux's exception for duplicate ACKs the path reordered: on a connection with
 * four segments in flight and TS.Recent at 8000 (from a duplicate ACK, which SACKs the second segment
 * where the row has SACK), one segment whose TSval is behind it. A pure duplicate ACK (with or without
 * SACK blocks) no older than an RTO in ticks is taken and counted; anything else is dropped and
 * answered with an ACK, as R1 says: data, an ACK that would move SND.UNA or the window, one older.
 * (Linux takes any segment one tick behind too, its TCP_PAWS_WINDOW; R1 here does not: the rows one
 * tick behind that are dropped are where the two differ.) */
static void test_paws_disordered_acks(void **state)
{
	enum { RTO = -1 }; /* behind: as far as the peer's clock runs in one RTO (at 1200 Hz) */
	static const struct {
		const char *what;
		int32_t behind;  /* ticks behind TS.Recent, beyond RTO's if at_rto */
		bool at_rto;
		bool sack;       /* SACK agreed, and the ACKs carry a block */
		uint32_t acked;  /* segments it acknowledges beyond SND.UNA */
		uint32_t win;    /* its window, unscaled (the connection's is 65535) */
		uint32_t len;    /* its payload */
		bool taken;
	} rows[] = {
		{ "reordered duplicate ACK", 1, false, false, 0, 65535, 0, true },
		{ "reordered duplicate ACK with SACK", 1, false, true, 0, 65535, 0, true },
		{ "as old as an RTO", 0, true, false, 0, 65535, 0, true },
		{ "older than an RTO", 1, true, false, 0, 65535, 0, false },
		{ "one that acknowledges new data", 1, false, false, 1, 65535, 0, false },
		{ "one with another window", 1, false, false, 0, 60000, 0, false },
		{ "data", 1, false, false, 0, 65535, 10, false },
	};
	static uint8_t data[4 * 988];
	struct tcp_conn_stats st;
	struct th_seg seg;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_config cfg;
		struct th *t;
		uint32_t una, ts, rcv;

		print_message("row: %s\n", rows[i].what);
		th_config(&cfg);
		t = th_new(&cfg);
		t->peer_opts.sack_permitted = rows[i].sack;
		open_with_ts(t, 7000);
		assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
		for (int k = 0; k < 4; k++)
			th_want(t, .len = 988);
		th_expect_none(t);
		una = t->c->snd_una;
		t->peer_opts.ts_val = 8000;
		th_tx(t, .flags = TCP_ACK, .nsack = rows[i].sack ? 1 : 0, .sack = { una + 988, una + 2 * 988 });
		while (th_next(t, &seg)) /* with SACK, RACK resends the first at once (no RTT on virtual time) */
			assert_true(rows[i].sack);
		ts = 8000 - (uint32_t)rows[i].behind;
		if (rows[i].at_rto)
			ts -= tcp_rto_backed_off(t->s, t->c) / 1000 + tcp_rto_backed_off(t->s, t->c) / 5000;
		t->peer_opts.ts_val = ts;
		rcv = t->peer_seq;
		th_tx(t, .flags = TCP_ACK, .ack = una + rows[i].acked * 988, .win = rows[i].win, .data = data,
		      .len = rows[i].len, .nsack = rows[i].sack ? 1 : 0, .sack = { una + 988, una + 2 * 988 });
		tcp_conn_stats(t->c, &st);
		assert_int_equal(tcp_stack_stats(t->s)->rx_paws_disordered_acks, rows[i].taken ? 1 : 0);
		assert_int_equal(tcp_stack_stats(t->s)->rx_paws_rejected, rows[i].taken ? 0 : 1);
		assert_int_equal(st.dup_acks, rows[i].taken ? 2 : 1);
		assert_int_equal(t->c->snd_una, una);
		assert_int_equal(t->c->snd_wnd, 65535);
		assert_int_equal(tcp_recv_avail(t->c), 0);
		assert_int_equal(t->c->ts_recent, 8000); /* R3: never an older one */
		if (rows[i].taken)
			th_expect_none(t);
		else
			th_want(t, .flags = TCP_ACK, .len = 0, .ack = rcv, .tsecr = 8000);
		th_free(t);
	}
}

/* The reordered duplicate ACK counts toward fast retransmit (RFC 5681 3.2): of three duplicates, the
 * last to arrive was sent first. */
static void test_paws_reordered_dupack_recovers(void **state)
{
	struct th *t = *state;
	static uint8_t data[4 * 988];
	struct tcp_conn_stats st;

	open_with_ts(t, 7000);
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	for (int k = 0; k < 4; k++)
		th_want(t, .len = 988);
	const uint32_t ts[] = { 8001, 8003, 8002 };
	for (int k = 0; k < 3; k++) {
		t->peer_opts.ts_val = ts[k];
		th_send(t, TCP_ACK, NULL, 0);
	}
	th_want(t, .off = 0, .len = 988, .tsecr = 8003);
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.dup_acks, 3);
	assert_int_equal(st.fast_retransmits, 1);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(tcp_stack_stats(t->s)->rx_paws_rejected, 0);
}

/* RFC 7323 4.1 (RTTM): a retransmitted segment is not timed (Karn), but the echo times its ACK. */
static void test_ts_rttm(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	open_with_ts(t, 7000);
	assert_int_equal(tcp_send(t->s, t->c, "data", 4), 4);
	th_expect(t, &seg);
	th_advance(t, tcp_poll_at(t->s, t->now) - t->now); /* the RTO: sent again */
	uint32_t echoed = th_want(t, .len = 4)->r.opts.ts_val;
	uint32_t srtt0 = t->c->srtt; /* from the handshake */
	th_advance(t, 30000); /* the ACK comes 30 ms after the retransmission */
	t->peer_ack += 4;
	t->peer_opts.ts_val = 7100;
	t->peer_opts.ts_ecr = echoed;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(t->c->srtt, srtt0 - srtt0 / 8 + 30000 / 8); /* RFC 6298 2.3 with R' = 30 ms */
}

/* After timeouts in a row, an ACK echoing an older copy than the latest is ambiguous (RFC 6298 3):
 * that copy arrived, its ACK was lost, and the ACK now may answer a later copy, which as a duplicate
 * does not update TS.Recent (RFC 7323 5.3, R2 before R3). Its "RTT" would count the backoff between
 * the copies, and the RTO would jump by seconds. No sample, whether the echo is an earlier copy's or
 * the original's; the echo of the latest copy is one. */
static uint32_t rttm_timeouts(struct th *t, int n, uint32_t *tsval)
{
	struct th_seg seg;

	assert_int_equal(tcp_send(t->s, t->c, "data", 4), 4);
	th_expect(t, &seg);
	uint32_t original = seg.r.opts.ts_val;
	for (int i = 0; i < n; i++) {
		th_advance(t, tcp_poll_at(t->s, t->now) - t->now); /* the RTO, backing off: sent again */
		tsval[i] = th_want(t, .len = 4)->r.opts.ts_val;
	}
	assert_int_equal(t->c->backoff, n);
	return original;
}

static void rttm_ack(struct th *t, uint32_t ecr, uint32_t after_us)
{
	th_advance(t, after_us);
	t->peer_ack += 4;
	t->peer_opts.ts_ecr = ecr;
	th_send(t, TCP_ACK, NULL, 0);
}

static void test_ts_rttm_ambiguous_echo(void **state)
{
	struct th *t = *state;
	uint32_t tsval[3];

	open_with_ts(t, 7000);
	uint32_t srtt0 = t->c->srtt, rto0 = t->c->rto;

	rttm_timeouts(t, 3, tsval);
	rttm_ack(t, tsval[0], 1000); /* the first copy's: 0.6 s and 1 ms ago */
	assert_int_equal(t->c->srtt, srtt0);
	assert_int_equal(t->c->rto, rto0);
	assert_int_equal(t->c->backoff, 0); /* new data acknowledged: the RTO is the estimate's again */

	uint32_t original = rttm_timeouts(t, 2, tsval);
	rttm_ack(t, original, 1000); /* 0.6 s and 1 ms ago */
	assert_int_equal(t->c->srtt, srtt0);
	assert_int_equal(t->c->rto, rto0);

	rttm_timeouts(t, 2, tsval);
	rttm_ack(t, tsval[1], 2000); /* the latest copy's: 2 ms, a sample */
	assert_int_equal(t->c->srtt, srtt0 - srtt0 / 8 + 2000 / 8);
}

/* A peer that stamps its SYN only: we keep stamping ours, and take its segments without one. */
static void test_ts_peer_stops(void **state)
{
	struct th *t = *state;

	open_with_ts(t, 7000);
	memset(&t->peer_opts, 0, sizeof(t->peer_opts));
	th_send(t, TCP_ACK | TCP_PSH, "bare", 4);
	th_advance(t, 100000);
	th_want(t, .ack = t->peer_seq, .ts = 1);
	assert_int_equal(tcp_recv_avail(t->c), 4);
}

/* A peer that offers none gets none. */
static void test_ts_not_offered(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	assert_false(t->c->flags & TCP_CF_TS);
	assert_int_equal(tcp_send(t->s, t->c, "x", 1), 1);
	th_want(t, .ts = 0);
}

/* RFC 8985 7: a lost tail is probed after 2 SRTT (plus 2 ms), not left to the 200 ms RTO. */
static void test_tlp_probes_tail(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t d[3000];

	memset(d, 't', sizeof(d));
	open_with_sack(t);
	/* One exchange so an RTT is known. */
	assert_int_equal(tcp_send(t->s, t->c, d, 100), 100);
	th_expect(t, &seg);
	th_advance(t, 100);
	t->peer_ack += 100;
	th_send(t, TCP_ACK, NULL, 0);
	assert_true(t->c->srtt > 0);
	/* Three segments go out; nothing comes back. */
	assert_int_equal(tcp_send(t->s, t->c, d, 3000), 3000);
	for (int i = 0; i < 3; i++)
		th_expect(t, &seg);
	uint32_t last = seg.r.seq;
	th_advance(t, 2 * t->c->srtt + 1900);
	th_expect_none(t);
	th_advance(t, 100); /* 2 SRTT + 2 ms: the last segment again */
	th_want(t, .seq = last);
	assert_int_equal(t->c->st.tlp_probes, 1);
	assert_int_equal(t->c->st.timeouts, 0);
}

/* RFC 6675: SACKs mark a hole lost; it is resent, then the next, each once, within cwnd - pipe. */
static void test_sack_recovery_resends_holes(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t d[20000];
	uint32_t base;

	memset(d, 's', sizeof(d));
	open_with_sack(t);
	t->c->cwnd = 20 * 1000; /* past slow start: a window of 20 segments */
	base = t->c->snd_una;
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	for (int i = 0; i < 20; i++)
		th_expect(t, &seg);
	/* Segments 0 and 5 lost: the peer SACKs 1-4, then 6-9, one ACK each; what the stack sends is
	 * collected after every ACK, as it would leave. */
	bool hole0 = false, hole5 = false;
	struct th_seg s2;
	for (uint32_t k = 1; k <= 9; k++) {
		if (k == 5)
			continue;
		if (k < 5)
			th_tx(t, .flags = TCP_ACK, .nsack = 1, .sack = { base + 1000, base + 1000 * (k + 1) });
		else
			th_tx(t, .flags = TCP_ACK, .nsack = 2,
			      .sack = { base + 6000, base + 1000 * (k + 1), base + 1000, base + 5000 });
		while (th_next(t, &s2)) {
			if (s2.r.payload_len == 0)
				continue;
			if (s2.r.seq == base) {
				assert_false(hole0); /* once */
				hole0 = true;
			} else if (s2.r.seq == base + 5000) {
				assert_false(hole5);
				hole5 = true;
			} else {
				assert_true(tcp_seq_ge(s2.r.seq, base + 20000)); /* new data only */
			}
		}
	}
	assert_true(t->c->flags & TCP_CF_IN_RECOVERY);
	assert_true(hole0 && hole5);
	assert_int_equal(t->c->st.fast_retransmits, 1); /* one recovery */
	/* The cumulative ACK past everything ends it. */
	t->peer_ack = base + 20000;
	th_send(t, TCP_ACK, NULL, 0);
	assert_false(t->c->flags & TCP_CF_IN_RECOVERY);
}

/* Without SACK agreed, ACKs never carry blocks. */
static void test_no_sack_without_permission(void **state)
{
	struct th *t = *state;
	uint8_t d[1000];
	uint32_t b;

	memset(d, 'z', sizeof(d));
	th_open_passive(t, 1000, 1000);
	b = t->peer_seq;
	th_send_at(t, b + 1000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 0);
	th_send_at(t, b + 1000, TCP_ACK, d, 1000);
	th_want(t, .ack = b, .nsack = 0);
}

/* tcp_config.no_sack: a peer's SACK-permitted is not answered, and an active open offers none. */
static void test_no_sack_config(void **state)
{
	struct tcp_config cfg;
	struct th *t;

	(void)state;
	th_config(&cfg);
	cfg.no_sack = true;
	t = th_new(&cfg);
	th_listen(t, 8);
	t->peer_seq = 1000;
	t->peer_opts.sack_permitted = true;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .mss = 1000);
	th_want(t, .flags = TCP_SYN | TCP_ACK, .sack_perm = 0);
	th_connect(t);
	th_want(t, .flags = TCP_SYN, .sack_perm = 0);
	th_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wscale_passive, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_wscale_peer_without, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_wscale_active_refused, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_wscale_active_agreed, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_order, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_dsack, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_yield_to_mss, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_sack_without_permission, setup_big, th_teardown),
		cmocka_unit_test(test_no_sack_config),
		cmocka_unit_test_setup_teardown(test_tlp_probes_tail, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_recovery_resends_holes, setup_big, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_every_segment, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_paws, th_setup, th_teardown),
		cmocka_unit_test(test_paws_disordered_acks),
		cmocka_unit_test(test_paws_zero_window_not_disordered),
		cmocka_unit_test_setup_teardown(test_paws_reordered_dupack_recovers, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_rttm, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_rttm_ambiguous_echo, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_peer_stops, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_not_offered, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
