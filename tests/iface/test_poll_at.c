/* When the interface asks to be polled again (iface_poll_at): queued work that cannot progress yet (a full
 * ARP wait queue for a neighbour that does not answer, a device out of transmit frames) must not make it
 * ask for "now" after every poll (a 100% CPU spin), yet must come back by itself and go out in order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"
#include "smolxdp/tcp.h"

#define SEC 1000000ull

/* Runs a alone the way an event loop would: poll, then sleep until poll_at, while that is before
 * `until`; f->now stays at the last poll. Fails if, right after a poll, the interface asks to be polled
 * again at once. Returns the wakeups; counts the frames a sent. */
static unsigned run_loop(struct fix *f, smx_instant until, size_t *frames_out)
{
	unsigned wakeups = 0;

	for (;;) {
		iface_poll(f->a, f->now);
		wakeups++;
		*frames_out += raw_drain(f);
		smx_instant at = iface_poll_at(f->a, f->now);
		assert_true(at > f->now);
		if (at >= until)
			return wakeups;
		f->now = at;
	}
}

/* Receives one UDP datagram from a; returns its one-byte payload. */
static uint8_t expect_udp_byte(struct fix *f)
{
	uint8_t buf[2048];
	struct ipv4_repr ip;
	struct udp_repr u;
	size_t n = raw_recv(f, buf, sizeof(buf));

	assert_true(n > 34);
	assert_int_equal(ipv4_parse(buf + 14, n - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
	assert_int_equal(ip.protocol, IP_PROTO_UDP);
	assert_int_equal(udp_parse(buf + 34, ipv4_payload_len(&ip), ip.src, ip.dst, WIRE_CSUM_VERIFY, &u), WIRE_OK);
	assert_int_equal(u.payload_len, 1);
	return u.payload[0];
}

/* Takes every free frame of the shared pool but `leave`. */
static size_t hold_frames(struct fix *f, struct dev_frame *held, size_t leave)
{
	size_t n = 0;
	while (dev_loopback_free_frames(f->wire) > leave)
		assert_true(dev_tx_reserve(f->dev_a, &held[n++], f->now));
	return n;
}

static void release_frames(struct fix *f, struct dev_frame *held, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dev_tx_abort(f->dev_a, &held[i]);
}

/* A datagram queued behind a full ARP wait queue for a silent neighbour: the interface wakes only for
 * the ARP retries and timeouts (one per second), and everything ends dropped and counted. */
static void test_arp_queue_full_no_spin(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	size_t out = 0;

	o.cfg_a.arp_wait_slots = 2;
	fix_init_raw(&f, &o);
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(udp_socket_send_to(s, &i, 1, FIX_IP_RAW, 7), UDP_OK);
	smx_instant t0 = f.now;
	unsigned wakeups = run_loop(&f, t0 + 10 * SEC, &out);
	/* Requests at t0..t0+5s: three for the two first packets, three for the one that took a freed
	 * slot at t0+3s; then it times out too, and nothing is left to wake for. */
	assert_int_equal(out, 6);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REQUESTS_SENT), 1 + 6);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_UNRESOLVED), 3);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_QUEUE_FULL), 0);
	assert_int_equal(udp_socket_get_stats(s)->tx_datagrams, 3);
	assert_true(wakeups <= 8);
	assert_int_equal(iface_poll_at(f.a, f.now), SMX_INSTANT_NEVER);
	fix_udp_free(s);
	fix_free(&f);
}

/* Datagrams queued while the device has no transmit frame: polling does not spin, but the interface
 * comes back by itself (no input arrives) and sends them in order once frames are free. */
static void test_no_frame_no_spin(void **state)
{
	struct fix f;
	struct dev_frame held[256];
	size_t out = 0;

	fix_init_raw(&f, &(struct fix_opts){0});
	raw_introduce(&f);
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	size_t nheld = hold_frames(&f, held, 0);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(udp_socket_send_to(s, &i, 1, FIX_IP_RAW, 7), UDP_OK);
	/* Starved for a while: a few retries, nothing sent, nothing dropped. */
	unsigned wakeups = run_loop(&f, f.now + 1000, &out);
	assert_true(wakeups >= 2); /* it came back by itself, without input */
	assert_int_equal(out, 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_FRAME), 0);
	smx_instant at = iface_poll_at(f.a, f.now);
	assert_true(at > f.now && at != SMX_INSTANT_NEVER);
	release_frames(&f, held, nheld);
	f.now = at;
	iface_poll(f.a, f.now);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(expect_udp_byte(&f), i);
	assert_int_equal(iface_poll_at(f.a, f.now), SMX_INSTANT_NEVER);
	fix_udp_free(s);
	fix_free(&f);
}

/* The ARP reply comes while the device is out of frames: the resolved packets wait without a spin and
 * leave, in order, on a later poll the interface asks for itself. */
static void test_resolved_waiters_no_frame(void **state)
{
	struct fix f;
	struct dev_frame held[256];
	uint8_t buf[64];
	size_t out = 0;

	fix_init_raw(&f, &(struct fix_opts){0});
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(udp_socket_send_to(s, &i, 1, FIX_IP_RAW, 7), UDP_OK);
	run_loop(&f, f.now + 1, &out);
	assert_int_equal(out, 1); /* the ARP request */
	/* Leave one frame: the reply travels in it, so the interface has none to send with. */
	size_t nheld = hold_frames(&f, held, 1);
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, FIX_IP_RAW, &FIX_MAC_A, FIX_IP_A));
	iface_poll(f.a, f.now);
	/* The reply's frame came back after input: the oldest packet went out in it, the others wait. */
	smx_instant at = iface_poll_at(f.a, f.now);
	assert_true(at > f.now && at != SMX_INSTANT_NEVER);
	assert_int_equal(expect_udp_byte(&f), 0);
	assert_int_equal(raw_drain(&f), 0);
	release_frames(&f, held, nheld);
	f.now = at;
	iface_poll(f.a, f.now);
	assert_int_equal(expect_udp_byte(&f), 1);
	assert_int_equal(expect_udp_byte(&f), 2);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_FRAME), 0);
	assert_int_equal(iface_poll_at(f.a, f.now), SMX_INSTANT_NEVER);
	fix_udp_free(s);
	fix_free(&f);
}

/* A TCP SYN refused a buffer (the one ARP wait slot is taken by a datagram for the same silent
 * neighbour): TCP says "now" until it goes, yet the interface retries it on a timer, not in a spin;
 * the SYN takes the slot when the datagram times out, and leaves when the neighbour answers. */
static void test_tcp_blocked_no_spin(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	struct tcp_config tc;
	struct l4_handler h;
	enum tcp_result err;
	size_t out = 0;
	uint8_t buf[2048];

	o.cfg_a.arp_wait_slots = 1;
	fix_init_raw(&f, &o);
	tcp_config_default(&tc);
	tc.max_conns = 4;
	tc.max_listeners = 1;
	size_t n = tcp_mem_size(&tc);
	void *mem = malloc(n);
	struct tcp_stack *tcp = tcp_init(mem, n, &tc);
	assert_non_null(tcp);
	tcp_handler(tcp, &h);
	iface_set_l4_handler(f.a, IP_PROTO_TCP, &h);
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "x", 1, FIX_IP_RAW, 7), UDP_OK);
	struct tcp_connect_opts co = {.local_addr = FIX_IP_A, .remote_addr = FIX_IP_RAW, .remote_port = 80};
	struct tcp_conn *c = tcp_connect(tcp, &co, &err);
	assert_non_null(c);
	smx_instant t0 = f.now;
	run_loop(&f, t0 + 5 * SEC, &out);
	assert_true(tcp_stack_stats(tcp)->tx_no_buffer > 0); /* it was blocked */
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_UNRESOLVED), 1); /* the datagram, at t0+3s */
	assert_true(out >= 5); /* ARP requests, one a second */
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, FIX_IP_RAW, &FIX_MAC_A, FIX_IP_A));
	iface_poll(f.a, f.now);
	struct ipv4_repr ip;
	struct tcp_repr t;
	n = raw_recv(&f, buf, sizeof(buf));
	assert_true(n > 34);
	assert_int_equal(ipv4_parse(buf + 14, n - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
	assert_int_equal(ip.protocol, IP_PROTO_TCP);
	assert_int_equal(tcp_parse(buf + 34, ipv4_payload_len(&ip), ip.src, ip.dst, WIRE_CSUM_VERIFY, &t), WIRE_OK);
	assert_int_equal(t.flags & (TCP_SYN | TCP_ACK), TCP_SYN);
	assert_int_equal(t.dst_port, 80);
	tcp_abort(tcp, c);
	iface_poll(f.a, f.now);
	raw_drain(&f);
	fix_udp_free(s);
	fix_free(&f);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_queue_full_no_spin),
		cmocka_unit_test(test_no_frame_no_spin),
		cmocka_unit_test(test_resolved_waiters_no_frame),
		cmocka_unit_test(test_tcp_blocked_no_spin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
