/* UDP sockets between two interfaces on a loopback wire: copying and zero-copy send and receive, views
 * surviving the frame's return, buffer-full drops counted, binding rules, queued sends when the device
 * is out of frames, and 10,000 datagrams exchanged through 20% injected loss with survivors intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"

static void test_send_recv(void **state)
{
	struct fix f;
	char buf[64];
	size_t len;
	struct udp_meta meta;

	fix_init(&f, &(struct fix_opts){0});
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 4, 4);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 4, 4);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, &meta), UDP_ERR_WOULD_BLOCK);
	assert_int_equal(udp_socket_send_to(a, "one", 3, FIX_IP_B, 2000), UDP_OK);
	fix_settle(&f);
	assert_int_equal(udp_socket_rx_queued(b), 1);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, &meta), UDP_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(meta.remote_addr, FIX_IP_A);
	assert_int_equal(meta.remote_port, 1000);
	assert_int_equal(meta.local_addr, FIX_IP_B);

	/* zero-copy send, zero-copy receive */
	uint8_t *payload;
	assert_int_equal(udp_socket_send_begin(b, FIX_IP_A, 1000, 100, &payload), UDP_OK);
	assert_int_equal(udp_socket_send_to(b, "x", 1, FIX_IP_A, 1000), UDP_ERR_INVALID); /* one at a time */
	memcpy(payload, "zero-copy", 9);
	udp_socket_send_commit(b, 9);
	assert_int_equal(udp_socket_send_begin(b, FIX_IP_A, 1000, 100, &payload), UDP_OK);
	udp_socket_send_abort(b); /* nothing sent */
	fix_settle(&f);
	const uint8_t *view;
	assert_int_equal(udp_socket_recv_view(a, &view, &len, &meta), UDP_OK);
	assert_int_equal(len, 9);
	assert_memory_equal(view, "zero-copy", 9);
	assert_int_equal(meta.remote_port, 2000);
	assert_int_equal(udp_socket_recv_view(a, &view, &len, &meta), UDP_ERR_WOULD_BLOCK);

	/* empty datagram, truncation, too big */
	assert_int_equal(udp_socket_send_to(a, "", 0, FIX_IP_B, 2000), UDP_OK);
	assert_int_equal(udp_socket_send_to(a, "0123456789", 10, FIX_IP_B, 2000), UDP_OK);
	fix_settle(&f);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, &meta), UDP_OK);
	assert_int_equal(len, 0);
	assert_int_equal(udp_socket_recv_from(b, buf, 4, &len, &meta), UDP_ERR_TRUNCATED);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "0123", 4);
	/* over the MTU is sent as fragments (test_frag.c); over 65,507 bytes nothing can carry it */
	static uint8_t big[65508];
	assert_int_equal(udp_socket_send_to(a, big, 65508, FIX_IP_B, 2000), UDP_ERR_TOO_BIG);
	assert_int_equal(udp_socket_send_to(a, big, 1472, FIX_IP_B, 2000), UDP_OK);
	assert_int_equal(udp_socket_send_to(a, big, 1, FIX_IP_B, 0), UDP_ERR_INVALID);
	assert_int_equal(udp_socket_send_to(a, big, 1, IPV4_ADDR(192, 168, 1, 1), 53), UDP_ERR_NO_ROUTE);
	fix_settle(&f);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, &meta), UDP_ERR_TRUNCATED);
	assert_int_equal(len, 1472);

	const struct udp_socket_stats *st = udp_socket_get_stats(a);
	assert_int_equal(st->tx_datagrams, 4);
	assert_int_equal(st->rx_datagrams, 1);
	fix_udp_free(a);
	fix_udp_free(b);
	fix_free(&f);
}

static void test_buffer_full(void **state)
{
	struct fix f;
	char buf[16];
	size_t len;

	fix_init(&f, &(struct fix_opts){0});
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 4, 16);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 4, 4);
	fix_settle(&f);
	for (uint8_t i = 0; i < 10; i++)
		assert_int_equal(udp_socket_send_to(a, &i, 1, FIX_IP_B, 2000), UDP_OK);
	fix_settle(&f);
	assert_int_equal(udp_socket_rx_queued(b), 4);
	assert_int_equal(udp_socket_get_stats(b)->rx_dropped_full, 6);
	assert_int_equal(fix_udp_stats(f.b)->rx_buffer_full, 6);
	for (uint8_t i = 0; i < 4; i++) {
		assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL), UDP_OK);
		assert_int_equal(buf[0], i); /* the first four, in order */
	}
	fix_udp_free(a);
	fix_udp_free(b);
	fix_free(&f);
}

/* Views not read before the next poll are copied into the socket's slots and stay intact after the
 * frames go back to the pool and are reused. */
static void test_views_survive_poll(void **state)
{
	struct fix f;
	struct fix_opts o = {.frames = 16};
	const uint8_t *view;
	size_t len;

	fix_init(&f, &o);
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 8, 8);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 8, 8);
	fix_settle(&f);
	char msg[32];
	for (int i = 0; i < 3; i++) {
		int n = snprintf(msg, sizeof(msg), "message %d", i);
		assert_int_equal(udp_socket_send_to(a, msg, (size_t)n, FIX_IP_B, 2000), UDP_OK);
	}
	fix_settle(&f);
	/* Read one as a view now; leave two. */
	assert_int_equal(udp_socket_recv_view(b, &view, &len, NULL), UDP_OK);
	assert_memory_equal(view, "message 0", 9);
	/* More polls and lots of traffic reuse every frame of the pool. */
	struct udp_socket *c = fix_udp_socket(f.b, 3000, 8, 8);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 6; i++)
			udp_socket_send_to(a, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 32, FIX_IP_B, 3000);
		fix_settle(&f);
		while (udp_socket_recv_view(c, &view, &len, NULL) == UDP_OK)
			assert_int_equal(len, 32);
	}
	for (int i = 1; i < 3; i++) {
		assert_int_equal(udp_socket_recv_view(b, &view, &len, NULL), UDP_OK);
		snprintf(msg, sizeof(msg), "message %d", i);
		assert_int_equal(len, strlen(msg));
		assert_memory_equal(view, msg, len);
	}
	fix_udp_free(c);
	fix_udp_free(a);
	fix_udp_free(b);
	iface_release(f.a);
	iface_release(f.b);
	assert_int_equal(dev_loopback_free_frames(f.wire), f.frames);
	fix_free(&f);
}

/* iface_flush sends what the app built after a poll without taking in more frames, and leaves the
 * views of the poll's batch valid. */
static void test_flush_sends_without_receiving(void **state)
{
	struct fix f;
	struct fix_opts o = {.cfg_a = {.rx_batch = 1}};
	uint8_t frame[128], out[256];
	const uint8_t *view;
	size_t len;

	fix_init_raw(&f, &o);
	raw_introduce(&f);
	struct udp_socket *s = fix_udp_socket(f.a, 1000, 8, 8);
	for (int i = 0; i < 2; i++) {
		const char *msg = i == 0 ? "first" : "second";
		raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 5000, 1000, (const uint8_t *)msg,
						  strlen(msg)));
	}
	iface_poll(f.a, f.now); /* takes one frame: rx_batch 1 */
	assert_int_equal(udp_socket_recv_view(s, &view, &len, NULL), UDP_OK);
	assert_memory_equal(view, "first", 5);
	assert_int_equal(udp_socket_send_to(s, view, len, FIX_IP_RAW, 5000), UDP_OK);
	assert_int_equal(raw_recv(&f, out, sizeof(out)), 0); /* built, not yet on the wire */
	assert_true(iface_flush(f.a, f.now));
	size_t n = raw_recv(&f, out, sizeof(out));
	assert_true(n >= ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN + 5); /* padded to 60 */
	assert_memory_equal(out + ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN, "first", 5);
	assert_memory_equal(view, "first", 5); /* the batch is still lent */
	assert_int_not_equal(udp_socket_recv_view(s, &view, &len, NULL), UDP_OK); /* nothing received */
	iface_poll(f.a, f.now);
	assert_int_equal(udp_socket_recv_view(s, &view, &len, NULL), UDP_OK);
	assert_memory_equal(view, "second", 6);
	fix_udp_free(s);
	fix_free(&f);
}

static void test_bind(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	o.udp_a.max_sockets = 3;
	o.cfg_a.addrs[0] = (struct iface_cidr){FIX_IP_A, 24};
	o.cfg_a.addrs[1] = (struct iface_cidr){IPV4_ADDR(10, 0, 1, 1), 24};
	o.cfg_a.addr_count = 2;
	fix_init(&f, &o);

	struct udp_socket *s1 = fix_udp_socket(NULL, 0, 2, 0);
	struct udp_socket *s2 = fix_udp_socket(NULL, 0, 2, 0);
	struct udp_socket *s3 = fix_udp_socket(NULL, 0, 2, 0);
	struct udp_socket *s4 = fix_udp_socket(NULL, 0, 2, 0);
	assert_int_equal(udp_socket_bind(s1, f.ua, 0, 0), UDP_OK);
	assert_int_equal(udp_socket_bind(s2, f.ua, 0, 0), UDP_OK);
	uint16_t p1 = udp_socket_local_port(s1), p2 = udp_socket_local_port(s2);
	assert_in_range(p1, 49152, 65535);
	assert_in_range(p2, 49152, 65535);
	assert_int_not_equal(p1, p2);
	assert_int_equal(udp_socket_bind(s1, f.ua, 0, 7), UDP_ERR_INVALID); /* already bound */
	assert_int_equal(udp_socket_bind(s3, f.ua, 0, p1), UDP_ERR_ADDR_IN_USE);
	assert_int_equal(udp_socket_bind(s3, f.ua, FIX_IP_A, p1), UDP_ERR_ADDR_IN_USE);
	assert_int_equal(udp_socket_bind(s3, f.ua, IPV4_ADDR(10, 9, 9, 9), 7), UDP_ERR_INVALID); /* not ours */
	assert_int_equal(udp_socket_bind(s3, f.ua, FIX_IP_A, 7), UDP_OK);
	assert_int_equal(udp_socket_bind(s4, f.ua, 0, 8), UDP_ERR_TABLE_FULL);
	udp_socket_close(s2);
	assert_int_equal(udp_socket_local_port(s2), 0);
	/* Bound to one address and to the other, same port. */
	assert_int_equal(udp_socket_bind(s4, f.ua, IPV4_ADDR(10, 0, 1, 1), 7), UDP_OK);
	assert_int_equal(udp_socket_bind(s2, f.ua, 0, 0), UDP_ERR_TABLE_FULL);
	udp_socket_close(s1);
	assert_int_equal(udp_socket_bind(s1, f.ua, 0, p1), UDP_OK); /* free again after close */
	/* A queue's share of the ephemeral range (port_split): its two ports, then none. */
	struct udp_socket *e[3] = { fix_udp_socket(NULL, 0, 2, 0), fix_udp_socket(NULL, 0, 2, 0),
				    fix_udp_socket(NULL, 0, 2, 0) };
	{
		struct fix g;
		struct fix_opts go = {0};
		go.udp_a.ephemeral_min = 50000;
		go.udp_a.ephemeral_max = 50001;
		fix_init(&g, &go);
		assert_int_equal(udp_socket_bind(e[0], g.ua, 0, 0), UDP_OK);
		assert_int_equal(udp_socket_bind(e[1], g.ua, 0, 0), UDP_OK);
		assert_in_range(udp_socket_local_port(e[0]), 50000, 50001);
		assert_in_range(udp_socket_local_port(e[1]), 50000, 50001);
		assert_int_equal(udp_socket_bind(e[2], g.ua, 0, 0), UDP_ERR_NO_PORTS);
		for (int i = 0; i < 3; i++)
			fix_udp_free(e[i]);
		fix_free(&g);
	}

	/* Datagrams go to the socket bound to their destination address. */
	struct udp_socket *sb = fix_udp_socket(f.b, 5555, 4, 4);
	fix_settle(&f);
	assert_int_equal(udp_socket_send_to(sb, "to-a", 4, FIX_IP_A, 7), UDP_OK);
	fix_settle(&f);
	assert_int_equal(udp_socket_rx_queued(s3), 1);
	assert_int_equal(udp_socket_rx_queued(s4), 0);
	fix_udp_free(s1);
	fix_udp_free(s2);
	fix_udp_free(s3);
	fix_udp_free(s4);
	fix_udp_free(sb);
	fix_free(&f);
}

/* A device out of transmit frames: datagrams wait in the tx slots, in order, and go out later. */
static void test_queued_send(void **state)
{
	struct fix f;
	char buf[16];
	size_t len;

	fix_init(&f, &(struct fix_opts){.frames = 12});
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 4, 8);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 32, 4);
	fix_settle(&f);
	assert_int_equal(udp_socket_send_to(a, "w", 1, FIX_IP_B, 2000), UDP_OK); /* resolve first */
	fix_settle(&f);
	udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL);
	int ok = 0;
	for (uint8_t i = 0; i < 40; i++)
		ok += udp_socket_send_to(a, &i, 1, FIX_IP_B, 2000) == UDP_OK;
	assert_int_equal(ok, 12 + 8); /* the pool's frames, then the queue */
	/* Only the refused ones are drops: not the queued ones, nor their retries while frames are short. */
	assert_int_equal(fix_udp_stats(f.a)->tx_no_buffer, 40 - 20);
	/* Waiting for frames, a retries soon by itself (not at once: nothing it can do frees one). */
	smx_instant delay = iface_poll_delay(f.a, f.now);
	assert_true(delay > 0 && delay != SMX_INSTANT_NEVER);
	fix_run_until(&f, f.now + 10 * delay);
	assert_int_equal(fix_udp_stats(f.a)->tx_no_buffer, 40 - 20);
	for (uint8_t i = 0; i < 20; i++) {
		assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL), UDP_OK);
		assert_int_equal(buf[0], i);
	}
	assert_int_equal(udp_socket_rx_queued(b), 0);
	fix_udp_free(a);
	fix_udp_free(b);
	fix_free(&f);
}

/* Datagram i carries its number and a pattern derived from it; survivors must match exactly. */
static size_t fill_datagram(uint8_t *buf, uint32_t i)
{
	size_t len = 4 + (i * 37) % 1400;
	put_be32(buf, i);
	for (size_t k = 4; k < len; k++)
		buf[k] = (uint8_t)(i * 131 + k * 7);
	return len;
}

static void check_datagram(const uint8_t *buf, size_t len)
{
	uint8_t want[1500];
	assert_true(len >= 4);
	uint32_t i = get_be32(buf);
	assert_in_range(i, 0, 9999);
	assert_int_equal(fill_datagram(want, i), len);
	assert_memory_equal(buf, want, len);
}

static void test_lossy_exchange(void **state)
{
	struct fix f;
	struct fix_opts o = {.frames = 512};
	o.fault.seed = 2024;
	o.fault.drop_pct = 20;
	fix_init(&f, &o);
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 64, 64);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 64, 64);
	uint8_t buf[1500];
	const uint8_t *view;
	size_t len;
	struct udp_meta meta;
	uint32_t sent = 0, echoed = 0, back = 0;

	for (int guard = 0; sent < 10000 && guard < 100000; guard++) {
		/* a sends a burst, b echoes what arrives (zero-copy both ways), a checks the echoes. */
		for (int k = 0; k < 16 && sent < 10000; k++) {
			size_t n = fill_datagram(buf, sent);
			if (udp_socket_send_to(a, buf, n, FIX_IP_B, 2000) != UDP_OK)
				break;
			sent++;
		}
		f.now += 100;
		fix_poll(&f);
		while (udp_socket_recv_view(b, &view, &len, &meta) == UDP_OK) {
			check_datagram(view, len);
			uint8_t *out;
			if (udp_socket_send_begin(b, meta.remote_addr, meta.remote_port, len, &out) == UDP_OK) {
				memcpy(out, view, len);
				udp_socket_send_commit(b, len);
				echoed++;
			}
		}
		fix_poll(&f);
		while (udp_socket_recv_from(a, buf, sizeof(buf), &len, &meta) == UDP_OK) {
			check_datagram(buf, len);
			back++;
		}
	}
	fix_run_until(&f, f.now + 5000000);
	while (udp_socket_recv_from(a, buf, sizeof(buf), &len, &meta) == UDP_OK) {
		check_datagram(buf, len);
		back++;
	}
	assert_int_equal(sent, 10000);
	/* About 80% reach b and 64% come back; the exact figures depend only on the seed. */
	uint32_t at_b = (uint32_t)udp_socket_get_stats(b)->rx_datagrams;
	assert_in_range(at_b, 7500, 8500);
	assert_in_range(back, 6000, 7000);
	assert_true(echoed <= at_b);
	assert_true(f.fault.stats.dropped > 0);
	assert_int_equal(fix_udp_stats(f.b)->rx_bad_checksum, 0);
	fix_udp_free(a);
	fix_udp_free(b);
	iface_release(f.a);
	iface_release(f.b);
	assert_int_equal(dev_loopback_free_frames(f.wire), f.frames);
	fix_free(&f);
}

/* Corrupted frames are caught by the checksums and counted; none reaches a socket altered. */
static void test_corruption_caught(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	o.fault.seed = 99;
	o.fault.corrupt_pct = 30;
	fix_init(&f, &o);
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 64, 64);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 64, 64);
	uint8_t buf[1500];
	size_t len;
	uint32_t got = 0;

	for (uint32_t i = 0; i < 2000; i++) {
		size_t n = fill_datagram(buf, i);
		udp_socket_send_to(a, buf, n, FIX_IP_B, 2000);
		f.now += 1000;
		fix_settle(&f);
		while (udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL) == UDP_OK) {
			check_datagram(buf, len);
			got++;
		}
	}
	assert_in_range(got, 1000, 1900);
	const uint64_t *c = iface_counters(f.b);
	const struct udp_stats *us = fix_udp_stats(f.b);
	uint64_t caught = us->rx_bad_checksum + c[IFACE_DROP_IPV4_BAD_CHECKSUM] + c[IFACE_DROP_ETH_NOT_FOR_US] +
			  c[IFACE_DROP_IPV4_MALFORMED] + us->rx_malformed;
	assert_true(caught > 0);
	fix_udp_free(a);
	fix_udp_free(b);
	fix_free(&f);
}

/* A zero-copy commit longer than the room lent is refused whole, even a length that would wrap
 * around when the header is added; the frame goes back to the device. */
static void test_zero_copy_commit_too_long(void **state)
{
	struct fix f;
	uint8_t *out;
	char buf[16];
	size_t len;

	fix_init(&f, &(struct fix_opts){0});
	struct udp_socket *a = fix_udp_socket(f.a, 1000, 4, 4);
	struct udp_socket *b = fix_udp_socket(f.b, 2000, 4, 4);
	fix_settle(&f);
	assert_int_equal(udp_socket_send_to(a, "w", 1, FIX_IP_B, 2000), UDP_OK); /* resolve first */
	fix_settle(&f);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL), UDP_OK);
	uint64_t sent = udp_socket_get_stats(a)->tx_datagrams;
	assert_int_equal(udp_socket_send_begin(a, FIX_IP_B, 2000, 10, &out), UDP_OK);
	udp_socket_send_commit(a, SIZE_MAX - 3);
	fix_settle(&f);
	assert_int_equal(udp_socket_rx_queued(b), 0);
	assert_int_equal(udp_socket_get_stats(a)->tx_datagrams, sent);
	/* The socket still works. */
	assert_int_equal(udp_socket_send_begin(a, FIX_IP_B, 2000, 10, &out), UDP_OK);
	memcpy(out, "hello", 5);
	udp_socket_send_commit(a, 5);
	fix_settle(&f);
	assert_int_equal(udp_socket_recv_from(b, buf, sizeof(buf), &len, NULL), UDP_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	fix_udp_free(a);
	fix_udp_free(b);
	iface_release(f.a);
	iface_release(f.b);
	assert_int_equal(dev_loopback_free_frames(f.wire), f.frames);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_recv),
		cmocka_unit_test(test_buffer_full),
		cmocka_unit_test(test_views_survive_poll),
		cmocka_unit_test(test_flush_sends_without_receiving),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_queued_send),
		cmocka_unit_test(test_lossy_exchange),
		cmocka_unit_test(test_corruption_caught),
		cmocka_unit_test(test_zero_copy_commit_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
