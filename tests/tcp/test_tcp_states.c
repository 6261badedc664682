/* TCP state machine tests, the peer played segment by segment on virtual time: every state against
 * SYN, RST, FIN, ACK and data (RFC 9293 3.10.7), opens, closes, TIME-WAIT, listener backlog. */
#include "tcp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(tcp_state_name(TCP_CLOSED), "CLOSED");
	assert_string_equal(tcp_state_name(TCP_LISTEN), "LISTEN");
	assert_string_equal(tcp_state_name(TCP_SYN_SENT), "SYN-SENT");
	assert_string_equal(tcp_state_name(TCP_SYN_RECEIVED), "SYN-RECEIVED");
	assert_string_equal(tcp_state_name(TCP_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(tcp_state_name(TCP_FIN_WAIT_1), "FIN-WAIT-1");
	assert_string_equal(tcp_state_name(TCP_FIN_WAIT_2), "FIN-WAIT-2");
	assert_string_equal(tcp_state_name(TCP_CLOSE_WAIT), "CLOSE-WAIT");
	assert_string_equal(tcp_state_name(TCP_CLOSING), "CLOSING");
	assert_string_equal(tcp_state_name(TCP_LAST_ACK), "LAST-ACK");
	assert_string_equal(tcp_state_name(TCP_TIME_WAIT), "TIME-WAIT");
	assert_string_equal(tcp_state_name((enum tcp_state)99), "?");
}

/* ---- Every state against every kind of arrival ---- */

enum arrival { A_SYN, A_RST, A_FIN, A_ACK, A_DATA };
static const char *const arrival_names[] = { "SYN", "RST", "FIN", "ACK", "data" };

struct matrix_case {
	enum tcp_state from;
	enum arrival what;
	enum tcp_state to;
	uint8_t reply; /* flags of the one segment sent at once, 0: none */
};

static const struct matrix_case matrix[] = {
	/* SYN-SENT (RFC 9293 3.10.7.3): a SYN alone is a simultaneous open; without a SYN nothing. */
	{ TCP_SYN_SENT, A_SYN, TCP_SYN_RECEIVED, TCP_SYN | TCP_ACK },
	{ TCP_SYN_SENT, A_RST, TCP_SYN_SENT, 0 }, /* RST without ACK: ignored */
	{ TCP_SYN_SENT, A_FIN, TCP_SYN_SENT, 0 },
	{ TCP_SYN_SENT, A_ACK, TCP_SYN_SENT, 0 },
	{ TCP_SYN_SENT, A_DATA, TCP_SYN_SENT, 0 },
	/* SYN-RECEIVED from a listener: SYN or RST return it to LISTEN (the slot goes). */
	{ TCP_SYN_RECEIVED, A_SYN, TCP_CLOSED, 0 },
	{ TCP_SYN_RECEIVED, A_RST, TCP_CLOSED, 0 },
	{ TCP_SYN_RECEIVED, A_FIN, TCP_CLOSE_WAIT, TCP_ACK },
	{ TCP_SYN_RECEIVED, A_ACK, TCP_ESTABLISHED, 0 },
	{ TCP_SYN_RECEIVED, A_DATA, TCP_ESTABLISHED, 0 }, /* the ACK is delayed */
	/* Synchronized states: SYN gets a challenge ACK (RFC 5961 4.2), an exact RST resets. */
	{ TCP_ESTABLISHED, A_SYN, TCP_ESTABLISHED, TCP_ACK },
	{ TCP_ESTABLISHED, A_RST, TCP_CLOSED, 0 },
	{ TCP_ESTABLISHED, A_FIN, TCP_CLOSE_WAIT, TCP_ACK },
	{ TCP_ESTABLISHED, A_ACK, TCP_ESTABLISHED, 0 },
	{ TCP_ESTABLISHED, A_DATA, TCP_ESTABLISHED, 0 },
	{ TCP_FIN_WAIT_1, A_SYN, TCP_FIN_WAIT_1, TCP_ACK },
	{ TCP_FIN_WAIT_1, A_RST, TCP_CLOSED, 0 },
	{ TCP_FIN_WAIT_1, A_FIN, TCP_CLOSING, TCP_ACK }, /* simultaneous close */
	{ TCP_FIN_WAIT_1, A_ACK, TCP_FIN_WAIT_1, 0 },    /* does not cover our FIN */
	{ TCP_FIN_WAIT_1, A_DATA, TCP_FIN_WAIT_1, 0 },
	{ TCP_FIN_WAIT_2, A_SYN, TCP_FIN_WAIT_2, TCP_ACK },
	{ TCP_FIN_WAIT_2, A_RST, TCP_CLOSED, 0 },
	{ TCP_FIN_WAIT_2, A_FIN, TCP_TIME_WAIT, TCP_ACK },
	{ TCP_FIN_WAIT_2, A_ACK, TCP_FIN_WAIT_2, 0 },
	{ TCP_FIN_WAIT_2, A_DATA, TCP_FIN_WAIT_2, 0 }, /* half-close: still receiving */
	/* After the peer's FIN, "FIN" is its retransmission (our ACK was lost): ACK it again. */
	{ TCP_CLOSE_WAIT, A_SYN, TCP_CLOSE_WAIT, TCP_ACK },
	{ TCP_CLOSE_WAIT, A_RST, TCP_CLOSED, 0 },
	{ TCP_CLOSE_WAIT, A_FIN, TCP_CLOSE_WAIT, TCP_ACK },
	{ TCP_CLOSE_WAIT, A_ACK, TCP_CLOSE_WAIT, 0 },
	{ TCP_CLOSE_WAIT, A_DATA, TCP_CLOSE_WAIT, 0 }, /* text after FIN is ignored */
	{ TCP_CLOSING, A_SYN, TCP_CLOSING, TCP_ACK },
	{ TCP_CLOSING, A_RST, TCP_CLOSED, 0 },
	{ TCP_CLOSING, A_FIN, TCP_CLOSING, TCP_ACK },
	{ TCP_CLOSING, A_ACK, TCP_TIME_WAIT, 0 }, /* covers our FIN */
	{ TCP_CLOSING, A_DATA, TCP_TIME_WAIT, 0 },
	{ TCP_LAST_ACK, A_SYN, TCP_LAST_ACK, TCP_ACK },
	{ TCP_LAST_ACK, A_RST, TCP_CLOSED, 0 },
	{ TCP_LAST_ACK, A_FIN, TCP_LAST_ACK, TCP_ACK },
	{ TCP_LAST_ACK, A_ACK, TCP_CLOSED, 0 },
	{ TCP_LAST_ACK, A_DATA, TCP_CLOSED, 0 },
	{ TCP_TIME_WAIT, A_SYN, TCP_TIME_WAIT, TCP_ACK }, /* not above rcv_nxt: no reopening */
	{ TCP_TIME_WAIT, A_RST, TCP_TIME_WAIT, 0 },       /* RFC 1337 */
	{ TCP_TIME_WAIT, A_FIN, TCP_TIME_WAIT, TCP_ACK },
	{ TCP_TIME_WAIT, A_ACK, TCP_TIME_WAIT, 0 },
	{ TCP_TIME_WAIT, A_DATA, TCP_TIME_WAIT, 0 },
};

static bool peer_fin_sent(enum tcp_state st)
{
	return st == TCP_CLOSE_WAIT || st == TCP_CLOSING || st == TCP_LAST_ACK || st == TCP_TIME_WAIT;
}

static void run_case(const struct matrix_case *mc)
{
	struct tcp_config cfg;
	struct th *t;
	struct th_seg seg;
	static const char data[100] = "some data";
	char what[96];

	th_config(&cfg);
	t = th_new(&cfg);
	snprintf(what, sizeof(what), "%s + %s", tcp_state_name(mc->from), arrival_names[mc->what]);
	th_reach_state(t, mc->from);
	if (mc->from == TCP_SYN_SENT)
		t->peer_seq = 1000;
	switch (mc->what) {
	case A_SYN:
		th_send_at(t, t->peer_seq, TCP_SYN, NULL, 0);
		break;
	case A_RST:
		th_send_at(t, t->peer_seq, TCP_RST, NULL, 0);
		break;
	case A_FIN:
		th_send_at(t, peer_fin_sent(mc->from) ? t->peer_seq - 1 : t->peer_seq, TCP_FIN | TCP_ACK, NULL, 0);
		break;
	case A_ACK:
		th_send_at(t, t->peer_seq, TCP_ACK, NULL, 0);
		break;
	case A_DATA:
		th_send_at(t, t->peer_seq, TCP_ACK | TCP_PSH, data, sizeof(data));
		break;
	}
	if (strcmp(tcp_state_name(tcp_conn_state(t->c)), tcp_state_name(mc->to)) != 0)
		fail_msg("%s: state %s, expected %s", what, tcp_state_name(tcp_conn_state(t->c)),
			 tcp_state_name(mc->to));
	if (mc->reply) {
		if (!th_next(t, &seg))
			fail_msg("%s: expected a reply", what);
		if (seg.r.flags != mc->reply)
			fail_msg("%s: reply flags %#x, expected %#x", what, seg.r.flags, mc->reply);
		uint32_t want = t->peer_seq;

		if ((mc->what == A_FIN && !peer_fin_sent(mc->from)) || (mc->what == A_SYN && mc->from == TCP_SYN_SENT))
			want++;
		if ((mc->reply & TCP_ACK) && seg.r.ack != want)
			fail_msg("%s: reply acks %u, expected %u", what, seg.r.ack, want);
	}
	if (th_next(t, &seg))
		fail_msg("%s: unexpected segment flags %#x", what, seg.r.flags);
	th_free(t);
}

static void test_state_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < SMX_ARRAY_LEN(matrix); i++)
		run_case(&matrix[i]);
}

/* ---- Closed ports (RFC 9293 3.10.7.1) ---- */

static void test_closed_port_rst(void **state)
{
	struct th *t = *state;

	/* No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the SYN counts one. */
	th_send_raw(t, 1234, 81, 5000, 0, TCP_SYN, 1000, NULL, 0, 0);
	th_want(t, .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 5001, .sport = 81, .dport = 1234);
	/* With ACK: <SEQ=SEG.ACK><CTL=RST>. */
	th_send_raw(t, 1234, 81, 5000, 777, TCP_ACK | TCP_PSH, 1000, "xyz", 3, 0);
	th_want(t, .flags = TCP_RST, .seq = 777);
	/* A RST is never answered. */
	th_send_raw(t, 1234, 81, 5000, 777, TCP_RST, 1000, NULL, 0, 0);
	th_expect_none(t);
	/* Data with FIN, no ACK: the length counts data and FIN. */
	th_send_raw(t, 1234, 81, 5000, 0, TCP_FIN, 1000, "abcd", 4, 0);
	th_want(t, .ack = 5005);
	assert_int_equal(tcp_stack_stats(t->s)->rx_no_conn, 4);
	assert_int_equal(tcp_stack_stats(t->s)->rst_sent, 3);
}

static void test_bad_segments_dropped(void **state)
{
	struct th *t = *state;
	uint8_t buf[64];
	struct tcp_repr r;
	struct ipv4_repr ip = { .src = TH_REMOTE, .dst = TH_LOCAL, .protocol = IP_PROTO_TCP };
	size_t n;

	memset(&r, 0, sizeof(r));
	r.src_port = 1;
	r.dst_port = 80;
	r.flags = TCP_SYN;
	n = tcp_emit(&r, TH_REMOTE, TH_LOCAL, buf, sizeof(buf));
	buf[n - 1] ^= 0xff; /* break the checksum (covers the urgent pointer) */
	tcp_input(t->s, t->now, &ip, buf, n, WIRE_CSUM_VERIFY, &t->cap->sender);
	assert_int_equal(tcp_stack_stats(t->s)->rx_bad_checksum, 1);
	tcp_input(t->s, t->now, &ip, buf, 10, WIRE_CSUM_VERIFY, &t->cap->sender); /* truncated */
	assert_int_equal(tcp_stack_stats(t->s)->rx_malformed, 1);
	/* From a broadcast source: no RST (RFC 1122 4.2.3.10). */
	ip.src = 0xffffffff;
	buf[n - 1] ^= 0xff;
	tcp_input(t->s, t->now, &ip, buf, n, WIRE_CSUM_IGNORE, &t->cap->sender);
	th_expect_none(t);
}

/* ---- Opening ---- */

static void test_passive_open(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg;

	th_listen(t, 4);
	th_tx(t, .flags = TCP_SYN, .seq = 7000, .ack = 0, .win = 30000, .mss = 1200);
	/* MSS: MTU 1500 - 40 */
	seg = th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = 7001, .mss = 1460, .win = 8192);
	assert_null(tcp_accept(t->s, t->l)); /* not until the handshake completes */
	assert_int_equal(th_events(t, NULL, t->l), 0);
	th_tx(t, .flags = TCP_ACK, .seq = 7001, .ack = seg->r.seq + 1, .win = 30000);
	assert_int_equal(th_events(t, NULL, t->l), TCP_EV_ACCEPTABLE);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	th_assert_state(t, TCP_ESTABLISHED);
	assert_null(tcp_accept(t->s, t->l));
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.snd_mss, 1200);
	struct tcp_endpoints ep;
	tcp_conn_endpoints(t->c, &ep);
	assert_int_equal(ep.local_port, TH_LPORT);
	assert_int_equal(ep.remote_port, TH_RPORT);
	assert_int_equal(ep.remote_addr, TH_REMOTE);
	th_expect_none(t);
}

static void test_listen_rules(void **state)
{
	struct th *t = *state;
	enum tcp_result err;

	th_listen(t, 4);
	assert_null(tcp_listen(t->s, 0, TH_LPORT, 4, NULL, &err));
	assert_int_equal(err, TCP_ERR_ADDR_IN_USE);
	assert_null(tcp_listen(t->s, 0, 0, 4, NULL, &err));
	assert_int_equal(err, TCP_ERR_INVALID);
	/* LISTEN: RST ignored, an ACK draws <SEQ=SEG.ACK><CTL=RST>, plain data ignored. */
	th_tx(t, .flags = TCP_RST, .seq = 1, .ack = 2, .win = 100);
	th_expect_none(t);
	th_tx(t, .flags = TCP_ACK, .seq = 1, .ack = 2222, .win = 100);
	th_want(t, .flags = TCP_RST, .seq = 2222);
	th_tx(t, .flags = TCP_PSH, .seq = 1, .ack = 0, .win = 100, .data = "ab", .len = 2);
	th_expect_none(t);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_active_open(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg;
	struct tcp_connect_opts o = { TH_LOCAL, 0, TH_REMOTE, 5000, (void *)0x1234 };
	enum tcp_result err;

	t->c = tcp_connect(t->s, &o, &err);
	assert_non_null(t->c);
	th_assert_state(t, TCP_SYN_SENT);
	seg = th_want(t, .flags = TCP_SYN, .mss = 1460);
	assert_true(seg->r.src_port >= 49152);
	t->rport = 5000;
	t->lport = seg->r.src_port;
	t->peer_ack = seg->r.seq + 1;
	t->peer_seq = 0xfffffff0u;
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .win = 5000);
	th_want(t, .flags = TCP_ACK, .ack = 0xfffffff1u);
	th_assert_state(t, TCP_ESTABLISHED);
	struct tcp_event ev;
	assert_true(tcp_next_event(t->s, &ev));
	assert_ptr_equal(ev.conn, t->c);
	assert_ptr_equal(ev.user, (void *)0x1234);
	assert_int_equal(ev.flags, TCP_EV_CONNECTED | TCP_EV_WRITABLE);
	assert_false(tcp_next_event(t->s, &ev));
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.snd_mss, 536); /* no MSS option: RFC 9293 3.7.1 default */
}

static void test_syn_sent_refused(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_SYN_SENT);
	/* An unacceptable ACK is answered with a reset and changes nothing. */
	th_tx(t, .flags = TCP_ACK, .seq = 1, .ack = t->peer_ack + 10, .win = 100);
	th_want(t, .flags = TCP_RST, .seq = t->peer_ack + 10);
	th_assert_state(t, TCP_SYN_SENT);
	/* A RST with an unacceptable ACK is dropped. */
	th_tx(t, .flags = TCP_RST | TCP_ACK, .seq = 1, .ack = t->peer_ack + 10, .win = 100);
	th_assert_state(t, TCP_SYN_SENT);
	/* RST,ACK acknowledging our SYN: connection refused. */
	th_tx(t, .flags = TCP_RST | TCP_ACK, .seq = 0, .win = 0);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_REFUSED);
	assert_string_equal(tcp_error_name(TCP_ERROR_REFUSED), "connection refused");
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_CLOSED);
	th_expect_none(t);
	/* Closing a dead connection releases its slot. */
	tcp_close(t->s, t->c);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_syn_retransmit_and_timeout(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	smx_instant sent[8];
	int n = 0;

	th_reach_state(t, TCP_SYN_SENT);
	tcp_set_user_timeout(t->s, t->c, 20000000); /* 20 s */
	sent[n++] = t->now;
	while (tcp_conn_state(t->c) == TCP_SYN_SENT && n < 8) {
		th_advance(t, tcp_poll_at(t->s, t->now) - t->now);
		if (th_next(t, &seg)) {
			assert_int_equal(seg.r.flags, TCP_SYN);
			assert_int_equal(seg.r.seq + 1, t->peer_ack);
			sent[n++] = t->now;
		}
	}
	/* RFC 6298 2.1 and 5.5: 1 s, then doubling: 1, 2, 4, 8 s; gives up at 20 s. */
	assert_int_equal(n, 5);
	assert_int_equal(sent[1] - sent[0], 1000000);
	assert_int_equal(sent[2] - sent[1], 2000000);
	assert_int_equal(sent[3] - sent[2], 4000000);
	assert_int_equal(sent[4] - sent[3], 8000000);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_TIMED_OUT);
	assert_int_equal(t->now - sent[0], 31000000); /* the expiry after 20 s is noticed at 15 + 16 s */
}

static void test_simultaneous_open(void **state)
{
	struct th *t = *state;
	uint32_t iss;

	th_reach_state(t, TCP_SYN_SENT);
	iss = t->peer_ack - 1;
	t->peer_seq = 3000;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .win = 4000, .mss = 1000);
	th_assert_state(t, TCP_SYN_RECEIVED);
	th_want(t, .flags = TCP_SYN | TCP_ACK, .seq = iss, .ack = 3001);
	/* The peer's SYN-ACK completes it. */
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .seq = 3000, .ack = iss + 1, .win = 4000, .mss = 1000);
	th_assert_state(t, TCP_ESTABLISHED);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_CONNECTED | TCP_EV_WRITABLE);
	th_want(t, .flags = TCP_ACK, .seq = iss + 1, .ack = 3001); /* an ACK of it */
	/* Data flows. */
	assert_int_equal(tcp_send(t->s, t->c, "hi", 2), 2);
	th_want(t, .seq = iss + 1, .len = 2);
}

static void test_active_close_to_time_wait(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	tcp_close(t->s, t->c); /* the app is gone; the stack finishes alone */
	th_want(t, .flags = TCP_FIN | TCP_ACK);
	assert_int_equal(t->c->state, TCP_FIN_WAIT_1);
	t->peer_ack++;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(t->c->state, TCP_FIN_WAIT_2);
	th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
	assert_int_equal(t->c->state, TCP_TIME_WAIT);
	/* The peer's FIN again (our ACK lost): ACK again, restart 2*MSL. */
	th_advance(t, 30000000);
	th_tx(t, .flags = TCP_FIN | TCP_ACK, .seq_off = -1);
	th_want(t, .ack = t->peer_seq);
	th_advance(t, 59000000);
	assert_int_equal(t->c->state, TCP_TIME_WAIT);
	assert_int_equal(tcp_conn_count(t->s), 1);
	th_advance(t, 1000000);
	assert_int_equal(tcp_conn_count(t->s), 0); /* freed: TIME-WAIT over, app long gone */
	th_expect_none(t);
}

static void test_passive_close(void **state)
{
	struct th *t = *state;
	char buf[16];

	th_open_passive(t, 1000, 1000);
	th_send(t, TCP_ACK | TCP_PSH | TCP_FIN, "bye", 3);
	assert_int_equal(t->c->state, TCP_CLOSE_WAIT);
	th_want(t, .ack = t->peer_seq);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_READABLE | TCP_EV_PEER_CLOSED);
	assert_false(tcp_eof(t->c));
	assert_int_equal(tcp_recv(t->s, t->c, buf, sizeof(buf)), 3);
	assert_true(tcp_eof(t->c));
	/* CLOSE-WAIT: we may still send (half-close from the peer). */
	assert_int_equal(tcp_send(t->s, t->c, "reply", 5), 5);
	th_want(t, .len = 5);
	tcp_close(t->s, t->c);
	th_want(t, .flags = TCP_FIN | TCP_ACK);
	assert_int_equal(t->c->state, TCP_LAST_ACK);
	t->peer_ack += 6;
	th_send(t, TCP_ACK, NULL, 0);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_simultaneous_close(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_reach_state(t, TCP_CLOSING);
	th_send(t, TCP_ACK, NULL, 0);
	th_assert_state(t, TCP_TIME_WAIT);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_NONE);
	th_advance(t, 60000000);
	th_assert_state(t, TCP_CLOSED);
	th_expect_none(t);
	tcp_close(t->s, t->c);
	assert_int_equal(tcp_conn_count(t->s), 0);
	(void)seg;
}

static void test_half_close_receive(void **state)
{
	struct th *t = *state;
	char buf[64];

	th_reach_state(t, TCP_FIN_WAIT_2);
	assert_int_equal(tcp_send(t->s, t->c, "x", 1), 0); /* our side is shut */
	for (int i = 0; i < 3; i++)
		th_send(t, TCP_ACK | TCP_PSH, "0123456789", 10);
	assert_int_equal(tcp_recv(t->s, t->c, buf, sizeof(buf)), 30);
	th_advance(t, 40000); /* delayed ACK */
	th_want(t, .ack = t->peer_seq);
	/* FIN-WAIT-2 is not timed out while the app holds the connection. */
	th_advance(t, 600000000);
	th_assert_state(t, TCP_FIN_WAIT_2);
	th_send(t, TCP_ACK | TCP_FIN, NULL, 0);
	th_assert_state(t, TCP_TIME_WAIT);
}

static void test_fin_wait_2_timeout_after_close(void **state)
{
	struct th *t = *state;

	th_reach_state(t, TCP_FIN_WAIT_2);
	tcp_close(t->s, t->c);
	th_advance(t, 59000000);
	assert_int_equal(tcp_conn_count(t->s), 1);
	th_advance(t, 1000000);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_close_with_unread_data_resets(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	th_send(t, TCP_ACK | TCP_PSH, "unread", 6);
	tcp_close(t->s, t->c);
	th_want(t, .flags = TCP_RST | TCP_ACK);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_data_after_close_resets(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_open_passive(t, 1000, 1000);
	tcp_close(t->s, t->c);
	th_want(t, .flags = TCP_FIN | TCP_ACK);
	th_send(t, TCP_ACK | TCP_PSH, "late", 4); /* RFC 1122 4.2.2.13 */
	th_expect(t, &seg);
	assert_true(seg.r.flags & TCP_RST);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_abort(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, "abc", 3);
	tcp_abort(t->s, t->c);
	th_want(t, .flags = TCP_RST | TCP_ACK, .seq = t->peer_ack);
	assert_int_equal(tcp_conn_count(t->s), 0);
	th_expect_none(t);
	/* The handle is dead: calls on it are refused, not crashes. */
	assert_int_equal(tcp_send(t->s, t->c, "x", 1), 0);
	assert_int_equal(tcp_shutdown(t->s, t->c), TCP_ERR_INVALID);
}

static void test_peer_reset_established(void **state)
{
	struct th *t = *state;

	th_open_passive(t, 1000, 1000);
	tcp_send(t->s, t->c, "abc", 3);
	th_send(t, TCP_RST, NULL, 0);
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_RESET);
	assert_int_equal(th_events(t, t->c, NULL), TCP_EV_CLOSED);
	assert_int_equal(tcp_send(t->s, t->c, "x", 1), 0);
	tcp_close(t->s, t->c);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_time_wait_reopened_by_syn(void **state)
{
	struct th *t = *state;
	const struct th_seg *seg;

	th_reach_state(t, TCP_TIME_WAIT);
	tcp_close(t->s, t->c);
	/* RFC 9293 3.6.1: a SYN above the old sequence space starts a new incarnation. */
	th_tx(t, .flags = TCP_SYN, .seq_off = 100000, .ack = 0, .win = 1000, .mss = 1000);
	seg = th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = t->peer_seq + 100001);
	th_tx(t, .flags = TCP_ACK, .seq_off = 100001, .ack = seg->r.seq + 1, .win = 1000);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	th_assert_state(t, TCP_ESTABLISHED);
}

static void test_syn_received_retransmits(void **state)
{
	struct th *t = *state;
	struct th_seg seg, first;

	th_listen(t, 4);
	th_tx(t, .flags = TCP_SYN, .seq = 500, .ack = 0, .win = 1000, .mss = 1000);
	th_expect(t, &first);
	/* The peer's SYN again: our SYN-ACK was lost; answer at once. */
	th_tx(t, .flags = TCP_SYN, .seq = 500, .ack = 0, .win = 1000, .mss = 1000);
	th_want(t, .flags = TCP_SYN | TCP_ACK, .seq = first.r.seq);
	/* And on the retransmission timer. */
	th_advance(t, 1000000);
	th_want(t, .flags = TCP_SYN | TCP_ACK, .seq = first.r.seq);
	/* An ACK that does not acknowledge our SYN: <SEQ=SEG.ACK><CTL=RST>. */
	th_tx(t, .flags = TCP_ACK, .seq = 501, .ack = first.r.seq + 5, .win = 1000);
	th_want(t, .flags = TCP_RST, .seq = first.r.seq + 5);
	/* Never answered: the slot goes away after the user timeout. */
	th_advance(t, 400000000);
	while (th_next(t, &seg))
		assert_int_equal(seg.r.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(tcp_conn_count(t->s), 0);
}

static void test_listener_backlog(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint32_t our_seq[5];

	th_listen(t, 3);
	for (int i = 0; i < 5; i++) {
		th_send_raw(t, (uint16_t)(2000 + i), TH_LPORT, 100u * i, 0, TCP_SYN, 1000, NULL, 0, 1000);
		if (i < 3) {
			th_expect(t, &seg);
			our_seq[i] = seg.r.seq;
		} else {
			th_expect_none(t);
		}
	}
	assert_int_equal(tcp_stack_stats(t->s)->rx_listen_drop, 2);
	for (int i = 0; i < 3; i++)
		th_send_raw(t, (uint16_t)(2000 + i), TH_LPORT, 100u * i + 1, our_seq[i] + 1, TCP_ACK, 1000, NULL, 0, 0);
	/* Still full until the app accepts. */
	th_send_raw(t, 2009, TH_LPORT, 9, 0, TCP_SYN, 1000, NULL, 0, 1000);
	th_expect_none(t);
	for (int i = 0; i < 3; i++) {
		struct tcp_conn *c = tcp_accept(t->s, t->l);
		struct tcp_endpoints ep;

		assert_non_null(c);
		tcp_conn_endpoints(c, &ep);
		assert_int_equal(ep.remote_port, 2000 + i); /* in order of completion */
	}
	assert_null(tcp_accept(t->s, t->l));
	th_send_raw(t, 2009, TH_LPORT, 9, 0, TCP_SYN, 1000, NULL, 0, 1000);
	th_want(t, .flags = TCP_SYN | TCP_ACK);
	/* Closing the listener resets the connection it still holds. */
	tcp_listener_close(t->s, t->l);
	th_expect(t, &seg);
	assert_true(seg.r.flags & TCP_RST);
	assert_int_equal(tcp_conn_count(t->s), 3);
}

static void test_no_slots(void **state)
{
	struct tcp_config cfg;
	struct th *t;
	struct th_seg seg;

	(void)state;
	th_config(&cfg);
	cfg.max_conns = 2;
	t = th_new(&cfg);
	th_listen(t, 10);
	for (int i = 0; i < 3; i++)
		th_send_raw(t, (uint16_t)(2000 + i), TH_LPORT, 0, 0, TCP_SYN, 1000, NULL, 0, 1000);
	assert_int_equal(tcp_conn_count(t->s), 2);
	assert_int_equal(tcp_stack_stats(t->s)->rx_listen_drop, 1);
	while (th_next(t, &seg))
		;
	struct tcp_connect_opts o = { TH_LOCAL, 0, TH_REMOTE, 1, NULL };
	enum tcp_result err;
	assert_null(tcp_connect(t->s, &o, &err));
	assert_int_equal(err, TCP_ERR_NO_MEMORY);
	th_free(t);
}

static void test_config_and_memory(void **state)
{
	struct tcp_config cfg;
	static uint8_t small[64];

	(void)state;
	tcp_config_default(&cfg);
	assert_true(tcp_mem_size(&cfg) > (size_t)cfg.max_conns * (cfg.rx_buf_size + cfg.tx_buf_size));
	assert_null(tcp_init(small, sizeof(small), &cfg));
	cfg.max_conns = 0;
	assert_int_equal(tcp_mem_size(&cfg), 0);
	tcp_config_default(&cfg);
	cfg.rto_min = 0;
	assert_int_equal(tcp_mem_size(&cfg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_matrix),
		cmocka_unit_test_setup_teardown(test_closed_port_rst, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments_dropped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_passive_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_listen_rules, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_sent_refused, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_retransmit_and_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_close_to_time_wait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_passive_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_half_close_receive, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fin_wait_2_timeout_after_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_close_with_unread_data_resets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_after_close_resets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_abort, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_peer_reset_established, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_reopened_by_syn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_received_retransmits, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_listener_backlog, th_setup, th_teardown),
		cmocka_unit_test(test_no_slots),
		cmocka_unit_test(test_config_and_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
