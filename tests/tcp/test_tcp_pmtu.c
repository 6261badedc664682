/* Path MTU discovery (RFC 1191): a validated ICMP "fragmentation needed" lowers the send MSS and
 * what was in flight goes again in segments that fit, cwnd untouched; an ICMP never raises it, a
 * forged tiny MTU is floored, a quote outside SND.UNA..SND.NXT is ignored (RFC 5927 4.1), and after
 * ten minutes the original MSS is tried again. */
#include "tcp_harness.h"

#include <string.h>

/* An ICMP "fragmentation needed" from a router on the path, quoting our segment at `seq`. */
static void frag_needed(struct th *t, uint32_t seq, uint16_t mtu)
{
	th_icmp_error(t, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED, seq, mtu);
}

static void test_pmtu_lowers_and_resends(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t d[2920];
	uint32_t base, cwnd;

	th_open_passive(t, 1000, 1460);
	assert_int_equal(t->c->snd_mss, 1460);
	base = t->c->snd_una;
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	th_want(t, .len = 1460);
	th_expect(t, &seg);
	cwnd = t->c->cwnd;
	/* A tunnel of MTU 1400 on the path: the first segment comes back as too big. */
	frag_needed(t, base, 1400);
	assert_int_equal(t->c->snd_mss, 1360);
	assert_int_equal(t->c->cwnd, cwnd); /* not a congestion signal */
	uint32_t next = base;
	while (th_next(t, &seg)) {
		assert_int_equal(seg.r.seq, next);
		assert_true(seg.r.payload_len <= 1360);
		next += seg.r.payload_len;
	}
	assert_int_equal(next, base + 2920); /* all of it again, in smaller segments */
	struct tcp_conn_stats st;
	tcp_conn_stats(t->c, &st);
	assert_int_equal(st.pmtu_reductions, 1);
	assert_int_equal(st.snd_mss, 1360);
	assert_int_equal(st.timeouts, 0);
	/* A larger MTU announced later never raises it; a forged tiny one is floored at 552. */
	frag_needed(t, base, 1500);
	assert_int_equal(t->c->snd_mss, 1360);
	frag_needed(t, base, 100);
	assert_int_equal(t->c->snd_mss, 512);
	/* A quote outside SND.UNA..SND.NXT (RFC 5927 4.1) is ignored. */
	frag_needed(t, base + 5000, 600);
	assert_int_equal(t->c->snd_mss, 512);
}

/* RFC 1191 6.3: ten minutes later the original MSS is tried again. */
static void test_pmtu_raised_after_timeout(void **state)
{
	struct th *t = *state;
	struct th_seg seg;
	static uint8_t d[1460];

	th_open_passive(t, 1000, 1460);
	assert_int_equal(tcp_send(t->s, t->c, d, 100), 100);
	th_expect(t, &seg);
	frag_needed(t, t->c->snd_una, 1000);
	assert_int_equal(t->c->snd_mss, 960);
	while (th_next(t, &seg))
		;
	t->peer_ack = t->c->snd_max;
	th_send(t, TCP_ACK, NULL, 0);
	th_advance(t, 9ull * 60 * 1000000);
	assert_int_equal(tcp_send(t->s, t->c, d, 960), 960);
	th_want(t, .len = 960);
	while (th_next(t, &seg))
		;
	t->peer_ack = t->c->snd_max;
	th_send(t, TCP_ACK, NULL, 0);
	th_advance(t, 61ull * 1000000);
	assert_int_equal(tcp_send(t->s, t->c, d, sizeof(d)), sizeof(d));
	th_want(t, .len = 1460);
}

/* Without the next hop's MTU (an RFC 1191 5 "old" router): the next plateau below the packet that
 * was too big, 1492 below 1500. */
static void test_pmtu_plateau(void **state)
{
	struct th *t = *state;
	struct th_seg seg;

	th_open_passive(t, 1000, 1460);
	assert_int_equal(tcp_send(t->s, t->c, "x", 1), 1);
	th_expect(t, &seg);
	frag_needed(t, t->c->snd_una, 0);
	assert_int_equal(t->c->snd_mss, 1452);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pmtu_lowers_and_resends, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_pmtu_raised_after_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_pmtu_plateau, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
