/* Per-connection settings after init (tcp.h "Options and introspection"): connect timeout,
 * keep-alive parameters, MSS clamp, a listener's pending count, and the close reasons ICMP errors give. */
#include "tcp_harness.h"

#include <string.h>

static void test_listener_pending(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_listen(t, 8);
	assert_int_equal(tcp_listener_pending(t->l), 0);
	for (uint16_t port = 41000; port < 41002; port++) {
		th_send_raw(t, port, TH_LPORT, 5000, 0, TCP_SYN, 8192, NULL, 0, 1000);
		th_expect(t, &seg);
		th_send_raw(t, port, TH_LPORT, 5001, seg.r.seq + 1, TCP_ACK, 8192, NULL, 0, 0);
	}
	assert_int_equal(tcp_listener_pending(t->l), 2);
	assert_non_null(tcp_accept(t->s, t->l));
	assert_int_equal(tcp_listener_pending(t->l), 1);
	assert_int_equal(tcp_listener_pending(NULL), 0);
}

static void test_connect_timeout(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_connect(t);
	tcp_set_connect_timeout(t->s, t->c, 2500000);
	th_expect(t, &seg);
	th_advance(t, 1000000); /* SYN again at 1 s */
	th_want(t, .flags = TCP_SYN);
	th_assert_state(t, TCP_SYN_SENT);
	th_advance(t, 2000000); /* the next RTO, at 3 s, is past 2.5 s */
	th_assert_state(t, TCP_CLOSED);
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_CONNECT_TIMED_OUT);
	assert_string_equal(tcp_error_name(TCP_ERROR_CONNECT_TIMED_OUT), "connect timed out");
}

static void test_keepalive_params(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_open_passive(t, 1000, 1000);
	tcp_set_keepalive_params(t->s, t->c, 1000000, 500000, 2);
	th_advance(t, 1000000);
	th_want(t, .seq = t->c->snd_una - 1); /* the first probe after 1 s of quiet: an old sequence number */
	th_advance(t, 500000);
	th_expect(t, &seg); /* the second, 0.5 s later */
	th_advance(t, 500000);
	th_assert_state(t, TCP_CLOSED); /* two unanswered: given up */
	assert_int_equal(tcp_conn_error(t->c), TCP_ERROR_TIMED_OUT);
}

static void test_mss_clamp(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	uint8_t d[2000];

	th_connect(t);
	tcp_set_mss_clamp(t->s, t->c, 500);
	t->peer_ack = th_want(t, .mss = 500)->r.seq + 1;
	t->peer_seq = 9000;
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .win = 65535, .mss = 1460);
	th_expect(t, &seg);
	memset(d, 'c', sizeof(d));
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	th_want(t, .len = 500); /* the peer's 1460 clamped too */
}

/* RFC 1122 4.2.3.9: while opening, each kind of unreachable ends the connection with its own reason. */
static void test_unreachable_reasons(void **state)
{
	static const struct {
		uint8_t code;
		enum tcp_error err;
	} rows[] = {
		{ ICMPV4_UNREACH_NET, TCP_ERROR_NET_UNREACHABLE },
		{ ICMPV4_UNREACH_HOST, TCP_ERROR_UNREACHABLE },
		{ ICMPV4_UNREACH_PROTO, TCP_ERROR_PROTO_UNREACHABLE },
		{ ICMPV4_UNREACH_PORT, TCP_ERROR_REFUSED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_config cfg;
		th_config(&cfg);
		struct th *t = th_new(&cfg);

		th_reach_state(t, TCP_SYN_SENT);
		th_icmp_error(t, ICMPV4_DEST_UNREACH, rows[i].code, t->peer_ack - 1, 0);
		th_assert_state(t, TCP_CLOSED);
		assert_int_equal(tcp_conn_error(t->c), rows[i].err);
		th_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listener_pending, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_params, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_mss_clamp, th_setup, th_teardown),
		cmocka_unit_test(test_unreachable_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
