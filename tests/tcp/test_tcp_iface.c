/* TCP through the real interface: two interfaces on the loopback device, a TCP stack registered on
 * each as its l4_handler, the fault injector dropping (and corrupting) frames on one end, virtual
 * time. 10 MB each way byte-exact at 0, 1, 5 and 10% loss; corruption caught by the checksums;
 * a connection to a closed port refused. */
#include "tcp_harness.h"
#include "iface_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BULK (10u * 1024 * 1024)

struct pair {
	struct fix f;
	struct tcp_stack *ta, *tb;
	void *mem[2];
};

static struct tcp_stack *pair_tcp(struct iface *ifc, void **mem, uint8_t salt)
{
	struct tcp_config cfg;
	struct tcp_stack *s;
	struct l4_handler h;
	size_t n;

	th_config(&cfg);
	cfg.rx_buf_size = 65535;
	cfg.tx_buf_size = 65536;
	cfg.user_timeout = 3600000000ull;
	cfg.secret[0] = salt;
	n = tcp_mem_size(&cfg);
	*mem = malloc(n);
	assert_non_null(*mem);
	s = tcp_init(*mem, n, &cfg);
	assert_non_null(s);
	tcp_handler(s, &h);
	iface_set_l4_handler(ifc, IP_PROTO_TCP, &h);
	return s;
}

static void pair_init(struct pair *p, uint8_t drop, uint8_t corrupt, uint64_t seed)
{
	struct fix_opts o;

	memset(&o, 0, sizeof(o));
	o.frames = 1024;
	o.fault.drop_pct = drop;
	o.fault.corrupt_pct = corrupt;
	o.fault.seed = seed;
	fix_init(&p->f, &o);
	p->f.now = TH_T0;
	p->ta = pair_tcp(p->f.a, &p->mem[0], 1);
	p->tb = pair_tcp(p->f.b, &p->mem[1], 2);
}

static void pair_free(struct pair *p)
{
	iface_set_l4_handler(p->f.a, IP_PROTO_TCP, NULL);
	iface_set_l4_handler(p->f.b, IP_PROTO_TCP, NULL);
	fix_free(&p->f);
	free(p->mem[0]);
	free(p->mem[1]);
}

/* One poll of both interfaces; when neither did anything, time jumps to the next deadline. */
static void pair_step(struct pair *p)
{
	if (fix_poll(&p->f))
		return;
	smx_instant at = SMX_MIN(iface_poll_at(p->f.a, p->f.now), iface_poll_at(p->f.b, p->f.now));

	if (at == SMX_INSTANT_NEVER)
		at = p->f.now + 1000000;
	p->f.now = at > p->f.now ? at : p->f.now + 1;
}

static void run_bulk(uint8_t drop, uint8_t corrupt, uint64_t seed)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct th_bulk cl = { .dir = 0, .send_total = BULK, .recv_total = BULK };
	struct th_bulk sv = { .dir = 1, .send_total = BULK, .recv_total = BULK };
	struct tcp_listener *l;
	enum tcp_result err;
	uint64_t steps = 0;

	assert_non_null(p);
	pair_init(p, drop, corrupt, seed);
	l = tcp_listen(p->tb, 0, 9000, 4, NULL, &err);
	assert_non_null(l);
	struct tcp_connect_opts o = { FIX_IP_A, 0, FIX_IP_B, 9000, NULL };
	cl.c = tcp_connect(p->ta, &o, &err);
	assert_non_null(cl.c);
	while (!(cl.closed && sv.closed)) {
		if (!sv.c)
			sv.c = tcp_accept(p->tb, l);
		th_bulk_pump(p->ta, &cl);
		th_bulk_pump(p->tb, &sv);
		pair_step(p);
		if (++steps > 50000000 || p->f.now - TH_T0 > 36000000000ull)
			fail_msg("no progress: sent %u/%u recvd %u/%u", cl.sent, sv.sent, cl.recvd, sv.recvd);
	}
	assert_int_equal(cl.recvd, BULK);
	assert_int_equal(sv.recvd, BULK);
	const struct tcp_stats *a = tcp_stack_stats(p->ta), *b = tcp_stack_stats(p->tb);
	print_message("drop %u%% corrupt %u%%: %.1f s virtual, %llu segments, fault dropped %llu corrupted %llu, "
		      "%llu retransmits (%llu fast, %llu timeouts), %llu bad checksums\n",
		      drop, corrupt, (double)(p->f.now - TH_T0) / 1e6, (unsigned long long)(a->tx_segs + b->tx_segs),
		      (unsigned long long)p->f.fault.stats.dropped, (unsigned long long)p->f.fault.stats.corrupted,
		      (unsigned long long)(a->retransmits + b->retransmits),
		      (unsigned long long)(a->fast_retransmits + b->fast_retransmits),
		      (unsigned long long)(a->timeouts + b->timeouts),
		      (unsigned long long)(a->rx_bad_checksum + b->rx_bad_checksum));
	if (drop)
		assert_true(p->f.fault.stats.dropped > 0 && a->retransmits + b->retransmits > 0);
	if (corrupt)
		assert_true(p->f.fault.stats.corrupted > 0);
	pair_free(p);
	free(p);
}

static void test_iface_bulk_0(void **state)
{
	(void)state;
	run_bulk(0, 0, 1);
}

static void test_iface_bulk_1(void **state)
{
	(void)state;
	run_bulk(1, 0, 2);
}

static void test_iface_bulk_5(void **state)
{
	(void)state;
	run_bulk(5, 0, 3);
}

static void test_iface_bulk_10(void **state)
{
	(void)state;
	run_bulk(10, 0, 4);
}

static void test_iface_bulk_corrupt(void **state)
{
	(void)state;
	run_bulk(2, 2, 5);
}

/* The interface delivers ICMP and closed ports are refused by TCP itself. */
static void test_iface_refused(void **state)
{
	struct pair p;
	enum tcp_result err;
	struct tcp_connect_opts o = { FIX_IP_A, 0, FIX_IP_B, 4242, NULL };
	struct tcp_conn *c;

	(void)state;
	pair_init(&p, 0, 0, 1);
	c = tcp_connect(p.ta, &o, &err);
	assert_non_null(c);
	for (int i = 0; i < 100 && tcp_conn_state(c) == TCP_SYN_SENT; i++)
		pair_step(&p);
	assert_int_equal(tcp_conn_state(c), TCP_CLOSED);
	assert_int_equal(tcp_conn_error(c), TCP_ERROR_REFUSED);
	assert_int_equal(tcp_stack_stats(p.tb)->rx_no_conn, 1);
	tcp_close(p.ta, c);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iface_bulk_0),
		cmocka_unit_test(test_iface_bulk_1),
		cmocka_unit_test(test_iface_bulk_5),
		cmocka_unit_test(test_iface_bulk_10),
		cmocka_unit_test(test_iface_bulk_corrupt),
		cmocka_unit_test(test_iface_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
