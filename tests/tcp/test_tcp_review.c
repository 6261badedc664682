/* TCP review cases on virtual time, each playing a hostile or unusual peer segment by segment: a
 * window shrunk to zero under data in flight, a SYN flood against a listener's backlog, and ACKs
 * carried by segments our zero window cannot take. */
#include "tcp_harness.h"

#include <string.h>

/* RFC 1122 4.2.2.16/4.2.2.17, RFC 9293 3.8.6.1: the peer shrinks its window to zero while data is in
 * flight. The retransmission timer fires and can send nothing; the sender must then probe the window
 * rather than fall silent with no timer running (a lost window update would stall it for good). */
static void test_window_shrunk_to_zero_keeps_probing(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t data[2000];
	uint32_t base;

	memset(data, 'x', sizeof(data));
	th_open_passive(t, 1000, 1000);
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	th_expect(t, &seg);
	base = seg.r.seq;
	th_want(t, .seq = base + 1000);
	th_expect_none(t);
	/* The first segment is acknowledged, the window shut: the second one is now beyond it. */
	t->peer_win = 0;
	t->peer_ack = base + 1000;
	th_send(t, TCP_ACK, NULL, 0);
	th_expect_none(t);
	/* Whatever the timers do, the sender keeps asking about the window. */
	int probes = 0;
	for (int i = 0; i < 8; i++) {
		smx_instant at = tcp_poll_at(t->s, t->now);

		assert_true(at != SMX_INSTANT_NEVER);
		th_advance(t, at - t->now);
		while (th_next(t, &seg)) {
			assert_int_equal(seg.r.seq, base + 1000);
			assert_true(seg.r.payload_len <= 1);
			probes++;
			th_send(t, TCP_ACK, NULL, 0); /* still shut */
		}
	}
	assert_true(probes >= 4);
	th_assert_state(t, TCP_ESTABLISHED);
	/* The window opens: the rest goes. */
	t->peer_win = 65535;
	th_send(t, TCP_ACK, NULL, 0);
	th_want(t, .seq = base + 1000, .len = 1000);
}

/* RFC 6429 / RFC 9293 3.8.3: a zero-window peer that answers probes is kept forever (the test above);
 * one that falls silent is given up after the user timeout, even once the app has closed, instead of
 * holding its slot with probes for ever. */
static void test_silent_zero_window_peer_times_out(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t data[1000];

	memset(data, 'y', sizeof(data));
	th_open_passive(t, 1000, 1000);
	tcp_set_user_timeout(t->s, t->c, 30000000);
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	th_expect(t, &seg);
	t->peer_win = 0;
	t->peer_ack = seg.r.seq + (uint32_t)seg.r.payload_len;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(tcp_send(t->s, t->c, data, sizeof(data)), sizeof(data));
	tcp_close(t->s, t->c);
	int probes = 0;
	for (int i = 0; i < 64 && tcp_conn_count(t->s) > 0; i++) {
		smx_instant at = tcp_poll_at(t->s, t->now);

		assert_true(at != SMX_INSTANT_NEVER);
		th_advance(t, at - t->now);
		while (th_next(t, &seg))
			probes++; /* never answered */
	}
	assert_true(probes >= 2);
	assert_int_equal(tcp_conn_count(t->s), 0);
	assert_true(tcp_stack_stats(t->s)->conns_timed_out >= 1);
}

/* RFC 4987 3.5: a SYN flood fills the backlog with half-open connections that never complete. Once
 * their SYN-ACKs went unanswered for an RTO, a real client's SYN takes the oldest one's place instead
 * of being dropped until the user timeout (minutes) frees the backlog. A burst of fresh SYNs still
 * sees the backlog full. */
static void test_syn_flood_recycles_half_open(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_listen(t, 3);
	for (int i = 0; i < 3; i++) {
		th_send_raw(t, (uint16_t)(3000 + i), TH_LPORT, 7000u * i, 0, TCP_SYN, 1000, NULL, 0, 1000);
		th_want(t, .flags = TCP_SYN | TCP_ACK);
	}
	/* Fresh half-open connections are not given up. */
	th_send_raw(t, 3999, TH_LPORT, 1, 0, TCP_SYN, 1000, NULL, 0, 1000);
	th_expect_none(t);
	assert_int_equal(tcp_stack_stats(t->s)->rx_listen_drop, 1);
	/* The flood's SYN-ACKs go unanswered for an RTO. */
	th_advance(t, 1500000);
	while (th_next(t, &seg))
		assert_int_equal(seg.r.flags, TCP_SYN | TCP_ACK);
	/* A real client now gets in, and its connection completes. */
	th_tx(t, .flags = TCP_SYN, .sport = 4000, .seq = 90000, .ack = 0, .win = 1000, .mss = 1000);
	uint32_t iss = th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = 90001)->r.seq;
	assert_int_equal(tcp_stack_stats(t->s)->syn_recv_recycled, 1);
	th_tx(t, .flags = TCP_ACK, .sport = 4000, .seq = 90001, .ack = iss + 1, .win = 1000);
	struct tcp_conn *c = tcp_accept(t->s, t->l);
	struct tcp_endpoints ep;

	assert_non_null(c);
	tcp_conn_endpoints(c, &ep);
	assert_int_equal(ep.remote_port, 4000);
	assert_int_equal(tcp_conn_state(c), TCP_ESTABLISHED);
	/* The recycled one (the oldest, port 3000) is gone: its late ACK meets the listener. */
	assert_int_equal(tcp_conn_count(t->s), 3);
	th_tx(t, .flags = TCP_ACK, .sport = 3000, .seq = 1, .ack = 12345, .win = 1000);
	th_want(t, .flags = TCP_RST, .seq = 12345);
}

/* The receive window shut by an app that does not read, the peer's zero-window probe (one byte at
 * RCV.NXT) acknowledges our data: RFC 9293 3.10.7.4 makes "special allowance" for the ACK it carries.
 * Its byte is dropped and answered with an ACK showing the window still shut. */
static void test_ack_on_probe_into_zero_window(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t data[1000], out[100];
	uint32_t our_base;

	memset(data, 'p', sizeof(data));
	memset(out, 'o', sizeof(out));
	th_open_passive(t, 1000, 1000);
	our_base = t->peer_ack;
	/* The peer fills our 8192-byte receive buffer; the app reads none of it. */
	for (int i = 0; i < 9; i++)
		th_send(t, TCP_ACK, data, i < 8 ? 1000 : 192);
	th_advance(t, 100000);
	while (th_next(t, &seg))
		;
	assert_int_equal(tcp_rcv_window(t->c), 0);
	/* We send; the peer's only segments are probes into our shut window. */
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), sizeof(out));
	th_want(t, .seq = our_base, .len = 100);
	t->peer_ack = our_base + 100;
	th_send_at(t, t->peer_seq, TCP_ACK, data, 1);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq, .win = 0);
	assert_int_equal(tcp_recv_avail(t->c), 8192);
	/* Our data was taken: nothing is retransmitted, the send buffer is free again. */
	assert_int_equal(tcp_send_space(t->c), t->cfg.tx_buf_size);
	th_advance(t, 5000000);
	th_expect_none(t);
}

/* Both windows shut: the peer's (we probe it) and ours (the app has not read). When our app reads,
 * the window update must be acceptable to a peer whose window is zero: SEG.SEQ = RCV.NXT, the snd_una
 * the peer acknowledged, not one past the probe byte it refused (Linux and BSD drop that, and would
 * only learn of our window from our next backed-off probe). */
static void test_window_update_while_probing(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t data[1000], out[100], got[8192];
	uint32_t our_base;

	memset(data, 'p', sizeof(data));
	memset(out, 'o', sizeof(out));
	th_open_passive(t, 1000, 1000);
	our_base = t->peer_ack;
	for (int i = 0; i < 9; i++)
		th_send(t, TCP_ACK, data, i < 8 ? 1000 : 192);
	th_advance(t, 100000);
	while (th_next(t, &seg))
		;
	assert_int_equal(tcp_rcv_window(t->c), 0);
	/* The peer's window shuts too; our data waits and we probe. */
	t->peer_win = 0;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(tcp_send(t->s, t->c, out, sizeof(out)), sizeof(out));
	th_expect_none(t);
	th_advance(t, tcp_poll_at(t->s, t->now) - t->now);
	th_want(t, .seq = our_base, .len = 1);
	th_send(t, TCP_ACK, NULL, 0); /* refused: still acknowledges our_base, window 0 */
	th_expect_none(t);
	/* Our app reads everything: the window update goes where the peer can take it. */
	assert_int_equal(tcp_recv(t->s, t->c, got, sizeof(got)), sizeof(got));
	assert_true(th_want(t, .flags = TCP_ACK, .len = 0, .seq = our_base)->r.window > 0);
}

/* RFC 9293 3.7.1 / RFC 6691: on a link below 576 bytes the MSS is still the MTU less 40, offered on
 * our SYN, on a SYN-ACK, and the size of what we send. */
static void test_mss_on_small_mtu(void **state)
{
	struct th *t = *state;
	uint8_t d[1000];

	t->cap->mtu = t->cap->sender.mtu = 296;
	th_connect(t);
	th_want(t, .mss = 256);
	/* Passive: the SYN-ACK offers 256 too, and data goes in 256-byte segments. */
	t->lport = TH_LPORT; /* th_connect took another */
	th_listen(t, 8);
	t->peer_seq = 7000;
	th_tx(t, .flags = TCP_SYN, .sport = 40001, .ack = 0, .win = 65535, .mss = 1460);
	t->rport = 40001;
	t->peer_ack = th_want(t, .flags = TCP_SYN | TCP_ACK, .mss = 256)->r.seq + 1;
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	memset(d, 'm', sizeof(d));
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	th_want(t, .len = 256);
}

/* RFC 9293 3.10.7.4: in TIME-WAIT the peer's FIN again, repacketized to start left of RCV.NXT, is
 * acknowledged and restarts the 2 MSL wait. */
static void test_time_wait_refin_overlapping(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_TIME_WAIT);
	th_advance(t, 1000000);
	/* "abc" + FIN from two bytes left of the FIN: overlapping it, not an exact repeat. */
	th_send_at(t, t->peer_seq - 3, TCP_FIN | TCP_ACK, "abc", 3);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
	assert_int_equal(t->c->close_at, t->now + t->cfg.time_wait);
	th_assert_state(t, TCP_TIME_WAIT);
}

/* RFC 5681 4.2: an out-of-order FIN, with no data, is answered with a duplicate ACK at once. */
static void test_ooo_fin_acked_at_once(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_ESTABLISHED);
	th_send_at(t, t->peer_seq + 100, TCP_FIN | TCP_ACK, NULL, 0);
	th_want(t, .ack = t->peer_seq);
	th_assert_state(t, TCP_ESTABLISHED);
}

/* RFC 9293 3.10.7.3: a simultaneous open whose SYN carries text and a FIN: both are queued, and
 * delivered once our SYN is acknowledged (ESTABLISHED, then CLOSE-WAIT). */
static void test_simultaneous_open_syn_with_text_and_fin(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	char got[8];

	th_connect(t);
	th_expect(t, &seg);
	uint32_t iss = seg.r.seq;
	t->peer_seq = 3000;
	th_send_raw(t, t->rport, t->lport, t->peer_seq, 0, TCP_SYN | TCP_FIN, 8192, "hi", 2, 1000);
	th_assert_state(t, TCP_SYN_RECEIVED);
	/* our SYN again, acknowledging their SYN and the text */
	th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = 3000 + 1 + 2);
	/* Their ACK of our SYN: ESTABLISHED, the text readable, the FIN taken. */
	t->peer_seq = 3000 + 1 + 2 + 1;
	t->peer_ack = iss + 1;
	th_send(t, TCP_ACK, NULL, 0);
	th_assert_state(t, TCP_CLOSE_WAIT);
	assert_int_equal(tcp_recv(t->s, t->c, got, sizeof(got)), 2);
	assert_memory_equal(got, "hi", 2);
	assert_true(tcp_eof(t->c));
	th_want(t, .ack = 3000 + 1 + 2 + 1); /* the FIN acknowledged */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_silent_zero_window_peer_times_out, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_window_shrunk_to_zero_keeps_probing, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_flood_recycles_half_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_on_probe_into_zero_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_window_update_while_probing, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_mss_on_small_mtu, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_refin_overlapping, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ooo_fin_acked_at_once, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_open_syn_with_text_and_fin, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
