/* ARP on virtual time against a raw peer: gratuitous announcement, replies and learning, resolution
 * with queued packets sent in order, the 1-per-second request limit, the wait queue's bound and
 * timeout, cache expiry and eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"

static const struct eth_addr ZERO_MAC;

/* Receives one frame from a; fails unless it is ARP. */
static void expect_arp(struct fix *f, struct eth_repr *eth, struct arp_repr *arp)
{
	uint8_t buf[2048];
	size_t n = raw_recv(f, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(eth_parse(buf, n, eth), WIRE_OK);
	assert_int_equal(eth->ethertype, ETH_TYPE_ARP);
	assert_int_equal(arp_parse(buf + 14, n - 14, arp), WIRE_OK);
}

static void test_gratuitous(void **state)
{
	struct fix f;
	struct eth_repr eth;
	struct arp_repr arp;

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	fix_poll(&f);
	expect_arp(&f, &eth, &arp);
	assert_true(eth_addr_is_broadcast(&eth.dst));
	assert_true(eth_addr_eq(&eth.src, &FIX_MAC_A));
	assert_int_equal(arp.op, ARP_OP_REQUEST);
	assert_true(arp_is_gratuitous(&arp));
	assert_int_equal(arp.spa, FIX_IP_A);
	assert_true(eth_addr_eq(&arp.sha, &FIX_MAC_A));
	assert_int_equal(raw_drain(&f), 0); /* only once */
	fix_advance(&f, 10000000);
	assert_int_equal(raw_drain(&f), 0);
	fix_free(&f);
}

static void test_reply_and_learn(void **state)
{
	struct fix f;
	struct eth_repr eth;
	struct arp_repr arp;
	struct eth_addr mac;
	uint8_t buf[64];

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	fix_settle(&f);
	raw_drain(&f);
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A));
	fix_settle(&f);
	expect_arp(&f, &eth, &arp);
	assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
	assert_int_equal(arp.op, ARP_OP_REPLY);
	assert_int_equal(arp.spa, FIX_IP_A);
	assert_true(eth_addr_eq(&arp.sha, &FIX_MAC_A));
	assert_int_equal(arp.tpa, FIX_IP_RAW);
	assert_true(eth_addr_eq(&arp.tha, &FIX_MAC_RAW));
	assert_true(iface_neighbor_lookup(f.a, FIX_IP_RAW, &mac, f.now));
	assert_true(eth_addr_eq(&mac, &FIX_MAC_RAW));
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 1);

	/* A request for someone else: no reply, nothing learned, counted. */
	ipv4_addr other = IPV4_ADDR(10, 0, 0, 77);
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, other, &ZERO_MAC,
					IPV4_ADDR(10, 0, 0, 50)));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_false(iface_neighbor_lookup(f.a, other, &mac, f.now));
	assert_int_equal(fix_count(f.a, IFACE_DROP_ARP_NOT_FOR_US), 1);

	/* Truncated ARP is counted, not answered. */
	size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
	raw_send(&f, buf, n - 10);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ARP_MALFORMED), 1);
	fix_free(&f);
}

static void test_resolve_sends_queue_in_order(void **state)
{
	struct fix f;
	struct eth_repr eth;
	struct arp_repr arp;
	uint8_t buf[2048];

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	fix_settle(&f);
	raw_drain(&f);
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(udp_socket_send_to(s, &i, 1, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&f);
	expect_arp(&f, &eth, &arp);
	assert_true(eth_addr_is_broadcast(&eth.dst));
	assert_int_equal(arp.op, ARP_OP_REQUEST);
	assert_int_equal(arp.tpa, FIX_IP_RAW);
	assert_int_equal(arp.spa, FIX_IP_A);
	assert_int_equal(raw_drain(&f), 0); /* one request for three packets */

	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, FIX_IP_RAW, &FIX_MAC_A, FIX_IP_A));
	fix_settle(&f);
	for (uint8_t i = 0; i < 3; i++) {
		size_t n = raw_recv(&f, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(eth_parse(buf, n, &eth), WIRE_OK);
		assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
		struct ipv4_repr ip;
		struct udp_repr u;
		assert_int_equal(ipv4_parse(buf + 14, n - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
		assert_int_equal(ip.dst, FIX_IP_RAW);
		assert_int_equal(udp_parse(buf + 34, ipv4_payload_len(&ip), ip.src, ip.dst, WIRE_CSUM_VERIFY, &u),
				 WIRE_OK);
		assert_int_equal(u.payload_len, 1);
		assert_int_equal(u.payload[0], i);
	}
	assert_int_equal(raw_drain(&f), 0);
	/* Later packets go straight out. */
	assert_int_equal(udp_socket_send_to(s, "x", 1, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 1);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REQUESTS_SENT), 2); /* the announcement and one request */
	fix_udp_free(s);
	fix_free(&f);
}

static void test_rate_limit_and_timeout(void **state)
{
	struct fix f;
	struct fix_opts o = {.raw_peer = true};
	o.cfg_a.arp_wait_slots = 4;
	fix_init(&f, &o);
	fix_settle(&f);
	raw_drain(&f);
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 0);
	smx_instant t0 = f.now;

	/* Four packets fill the wait queue; more are refused and counted. */
	for (int i = 0; i < 6; i++) {
		enum udp_err e = udp_socket_send_to(s, "abc", 3, FIX_IP_RAW, 7);
		assert_int_equal(e, i < 4 ? UDP_OK : UDP_ERR_WOULD_BLOCK);
		fix_advance(&f, 100000);
	}
	assert_int_equal(fix_udp_stats(f.a)->tx_no_buffer, 2); /* UDP's refusals, counted by UDP */
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_QUEUE_FULL), 0);
	/* Requests: at most one per second while the packets wait (t0, t0+1s, t0+2s). */
	fix_run_until(&f, t0 + 2500000);
	assert_int_equal(raw_drain(&f), 3);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_UNRESOLVED), 0);
	/* After arp_timeout (3 s) the waiting packets are dropped and counted. */
	fix_run_until(&f, t0 + 4000000);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_UNRESOLVED), 4);
	raw_drain(&f);
	assert_int_equal(iface_poll_delay(f.a, f.now), SMX_INSTANT_NEVER);
	/* The queue is free again. */
	assert_int_equal(udp_socket_send_to(s, "abc", 3, FIX_IP_RAW, 7), UDP_OK);
	fix_udp_free(s);
	fix_free(&f);
}

static void test_expiry(void **state)
{
	struct fix f;
	struct eth_addr mac;
	struct eth_repr eth;
	struct arp_repr arp;

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	fix_settle(&f);
	raw_drain(&f);
	raw_introduce(&f);
	assert_true(iface_neighbor_lookup(f.a, FIX_IP_RAW, &mac, f.now));
	fix_advance(&f, 59 * 1000000ull);
	assert_true(iface_neighbor_lookup(f.a, FIX_IP_RAW, &mac, f.now));
	fix_advance(&f, 2 * 1000000ull);
	assert_false(iface_neighbor_lookup(f.a, FIX_IP_RAW, &mac, f.now));
	/* Sending now asks again. */
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 0);
	assert_int_equal(udp_socket_send_to(s, "abc", 3, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&f);
	expect_arp(&f, &eth, &arp);
	assert_int_equal(arp.op, ARP_OP_REQUEST);
	assert_int_equal(arp.tpa, FIX_IP_RAW);
	fix_udp_free(s);
	fix_free(&f);
}

static void test_cache_bounded(void **state)
{
	struct fix f;
	struct fix_opts o = {.raw_peer = true};
	struct eth_addr mac;
	uint8_t buf[64];
	o.cfg_a.arp_cache_entries = 4;
	fix_init(&f, &o);
	fix_settle(&f);
	raw_drain(&f);
	for (int i = 0; i < 40; i++) {
		raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, IPV4_ADDR(10, 0, 0, 100 + i),
						&ZERO_MAC, FIX_IP_A));
		fix_advance(&f, 1000);
		assert_true(iface_neighbor_lookup(f.a, IPV4_ADDR(10, 0, 0, 100 + i), &mac, f.now));
	}
	int known = 0;
	for (int i = 0; i < 40; i++)
		known += iface_neighbor_lookup(f.a, IPV4_ADDR(10, 0, 0, 100 + i), &mac, f.now);
	assert_int_equal(known, 4);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 40);
	fix_free(&f);
}

/* Two interfaces find each other by themselves. */
static void test_pair_resolves(void **state)
{
	struct fix f;
	struct eth_addr mac;

	fix_init(&f, &(struct fix_opts){0});
	struct udp_socket *sa = fix_udp_socket(f.a, 1111, 4, 4);
	struct udp_socket *sb = fix_udp_socket(f.b, 2222, 4, 4);
	fix_settle(&f);
	assert_int_equal(udp_socket_send_to(sa, "hello", 5, FIX_IP_B, 2222), UDP_OK);
	fix_settle(&f);
	char got[16];
	size_t len;
	struct udp_meta meta;
	assert_int_equal(udp_socket_recv_from(sb, got, sizeof(got), &len, &meta), UDP_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(got, "hello", 5);
	assert_true(iface_neighbor_lookup(f.a, FIX_IP_B, &mac, f.now));
	assert_true(eth_addr_eq(&mac, &FIX_MAC_B));
	assert_true(iface_neighbor_lookup(f.b, FIX_IP_A, &mac, f.now)); /* learned from the request */
	fix_udp_free(sa);
	fix_udp_free(sb);
	iface_release(f.a);
	iface_release(f.b);
	assert_int_equal(dev_loopback_free_frames(f.wire), f.frames); /* every frame back in the pool */
	fix_free(&f);
}

/* A reply nobody asked for creates no entry (it could fill the cache or plant a neighbour); once we
 * have asked, or know the sender, a reply updates the entry (RFC 826 merge). */
static void test_unsolicited_reply(void **state)
{
	struct fix f;
	struct eth_addr mac;
	uint8_t buf[64];
	ipv4_addr stranger = IPV4_ADDR(10, 0, 0, 66);

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	fix_settle(&f);
	raw_drain(&f);
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, stranger, &FIX_MAC_A, FIX_IP_A));
	fix_settle(&f);
	assert_false(iface_neighbor_lookup(f.a, stranger, &mac, f.now));
	assert_int_equal(raw_drain(&f), 0);
	/* Asked for: the reply is taken. */
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "x", 1, stranger, 7), UDP_OK);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 1); /* the request */
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, stranger, &FIX_MAC_A, FIX_IP_A));
	fix_settle(&f);
	assert_true(iface_neighbor_lookup(f.a, stranger, &mac, f.now));
	assert_true(eth_addr_eq(&mac, &FIX_MAC_RAW));
	assert_int_equal(raw_drain(&f), 1); /* the waiting datagram */
	fix_udp_free(s);
	fix_free(&f);
}

/* A sender hardware address no host can have (zero, broadcast, multicast) is bogus: the packet is
 * dropped and counted, neither answered (a reply to 00:00:00:00:00:00) nor learned, not even to
 * complete a resolution we asked for. */
static void test_bogus_sender_mac(void **state)
{
	static const struct eth_addr bad[] = {
		{{0, 0, 0, 0, 0, 0}},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}},
	};
	struct fix f;
	struct eth_addr mac;
	uint8_t buf[64];
	ipv4_addr stranger = IPV4_ADDR(10, 0, 0, 66);

	fix_init_raw(&f, &(struct fix_opts){0});
	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "x", 1, stranger, 7), UDP_OK);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 1); /* the request for stranger */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
		memcpy(buf + 14 + 8, bad[i].b, 6); /* the sender hardware address */
		raw_send(&f, buf, n);
		n = raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, stranger, &FIX_MAC_A, FIX_IP_A);
		memcpy(buf + 14 + 8, bad[i].b, 6);
		raw_send(&f, buf, n);
		fix_settle(&f);
		assert_int_equal(raw_drain(&f), 0);
		assert_false(iface_neighbor_lookup(f.a, FIX_IP_RAW, &mac, f.now));
		assert_false(iface_neighbor_lookup(f.a, stranger, &mac, f.now));
		assert_int_equal(fix_count(f.a, IFACE_DROP_ARP_MALFORMED), 2 * (i + 1));
	}
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 0);
	/* The real reply still resolves it. */
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REPLY, &FIX_MAC_A, stranger, &FIX_MAC_A, FIX_IP_A));
	fix_settle(&f);
	assert_true(iface_neighbor_lookup(f.a, stranger, &mac, f.now));
	assert_int_equal(raw_drain(&f), 1); /* the waiting datagram */
	fix_udp_free(s);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gratuitous),
		cmocka_unit_test(test_reply_and_learn),
		cmocka_unit_test(test_resolve_sends_queue_in_order),
		cmocka_unit_test(test_rate_limit_and_timeout),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_cache_bounded),
		cmocka_unit_test(test_pair_resolves),
		cmocka_unit_test(test_unsolicited_reply),
		cmocka_unit_test(test_bogus_sender_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
