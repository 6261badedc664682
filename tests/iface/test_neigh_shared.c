/* The neighbour table shared by the interfaces of one link (one per receive queue): two interfaces
 * with the same address and MAC ("queue 0" and "queue 1"), each on its own wire to the raw peer, on
 * one virtual clock. What one learns the other uses; a packet waiting on one leaves when the other
 * hears the reply; a bounded table evicts; and two threads updating it never let a reader see an
 * entry half written. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"
#include "../../stack/iface/iface_internal.h" /* the table's own calls, for the two-thread test */

static const struct eth_addr ZERO_MAC;
static const struct eth_addr NEW_MAC = {{0x02, 0, 0, 0, 0, 0x99}};

struct link {
	struct fix q0, q1;
	struct iface_neigh_table *t;
	void *mem;
};

static void link_init(struct link *l, uint32_t entries)
{
	size_t n = iface_neigh_table_mem_size(entries);
	l->mem = malloc(n);
	assert_non_null(l->mem);
	assert_null(iface_neigh_table_init(l->mem, n - 1, entries)); /* too small */
	l->t = iface_neigh_table_init(l->mem, n, entries);
	assert_non_null(l->t);
	struct fix_opts o = {.cfg_a = {.neigh_shared = l->t}};
	fix_init_raw(&l->q0, &o);
	fix_init_raw(&l->q1, &o);
	l->q1.now = l->q0.now;
}

static void link_free(struct link *l)
{
	fix_free(&l->q0);
	fix_free(&l->q1);
	free(l->mem);
}

/* Both queues' clocks move together; each settles. */
static void link_advance(struct link *l, smx_instant dt)
{
	fix_advance(&l->q0, dt);
	fix_advance(&l->q1, dt);
}

/* An ARP packet from the raw peer with sender spa at mac. */
static size_t arp_from(uint8_t *buf, uint16_t op, ipv4_addr spa, const struct eth_addr *mac, ipv4_addr tpa)
{
	const struct eth_addr *dst = op == ARP_OP_REQUEST ? &ETH_ADDR_BROADCAST : &FIX_MAC_A;
	size_t n = raw_build_arp(buf, op, dst, spa, op == ARP_OP_REQUEST ? &ZERO_MAC : &FIX_MAC_A, tpa);
	memcpy(buf + 6, mac->b, 6);      /* Ethernet source */
	memcpy(buf + 14 + 8, mac->b, 6); /* ARP sender hardware address */
	return n;
}

/* Reads one frame the interface sent; its ethertype. */
static uint16_t next_frame(struct fix *f, uint8_t *buf, size_t cap, struct eth_repr *eth)
{
	size_t n = raw_recv(f, buf, cap);
	assert_true(n > 0);
	assert_int_equal(eth_parse(buf, n, eth), WIRE_OK);
	return eth->ethertype;
}

static void test_learn_on_one_resolve_on_other(void **state)
{
	struct link l;
	struct eth_addr mac;
	struct eth_repr eth;
	uint8_t buf[2048];

	link_init(&l, 0);
	assert_false(iface_neighbor_lookup(l.q1.a, FIX_IP_RAW, &mac, l.q1.now));
	raw_introduce(&l.q0); /* a request for us, heard by queue 0 only */
	assert_true(iface_neighbor_lookup(l.q1.a, FIX_IP_RAW, &mac, l.q1.now));
	assert_true(eth_addr_eq(&mac, &FIX_MAC_RAW));

	/* Queue 1 sends to the peer at once: no request of its own. */
	uint64_t requests = fix_count(l.q1.a, IFACE_ARP_REQUESTS_SENT);
	struct udp_socket *s = fix_udp_socket(l.q1.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "hi", 2, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&l.q1);
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_IPV4);
	assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
	assert_int_equal(fix_count(l.q1.a, IFACE_ARP_REQUESTS_SENT), requests);

	/* The peer's address changes (a gratuitous ARP, heard by queue 0): queue 1, which cached the
	 * old one, uses the new one from its next poll, not a minute later. */
	raw_send(&l.q0, buf, arp_from(buf, ARP_OP_REQUEST, FIX_IP_RAW, &NEW_MAC, FIX_IP_RAW));
	fix_settle(&l.q0);
	link_advance(&l, 1);
	assert_int_equal(udp_socket_send_to(s, "hi", 2, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&l.q1);
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_IPV4);
	assert_true(eth_addr_eq(&eth.dst, &NEW_MAC));
	fix_udp_free(s);
	link_free(&l);
}

static void test_pending_released_by_reply_on_other(void **state)
{
	struct link l;
	struct eth_repr eth;
	uint8_t buf[2048];

	link_init(&l, 0);
	struct udp_socket *s = fix_udp_socket(l.q1.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "wait", 4, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&l.q1);
	/* Queue 1 asks; the datagram waits. */
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_ARP);
	assert_int_equal(raw_drain(&l.q1), 0);
	/* Queue 0 wants the same address within the second: it waits for queue 1's request (one a
	 * second for the host, RFC 1122 2.3.2.1). */
	struct udp_socket *s0 = fix_udp_socket(l.q0.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s0, "me too", 6, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&l.q0);
	assert_int_equal(raw_drain(&l.q0), 0);
	assert_int_equal(fix_count(l.q0.a, IFACE_ARP_REQUESTS_SENT), 1); /* its announcement only */
	/* The reply comes to queue 0, which asked nothing itself: merged all the same (the link asked),
	 * and its own datagram leaves. */
	raw_send(&l.q0, buf, arp_from(buf, ARP_OP_REPLY, FIX_IP_RAW, &FIX_MAC_RAW, FIX_IP_A));
	fix_settle(&l.q0);
	assert_int_equal(next_frame(&l.q0, buf, sizeof(buf), &eth), ETH_TYPE_IPV4);
	assert_int_equal(fix_count(l.q0.a, IFACE_ARP_REQUESTS_SENT), 1);
	/* Queue 1, asleep, is due to look again at once (it reads the table in its poll_at), and in
	 * any case within NEIGH_SHARED_CHECK however long its ARP timers are. */
	assert_true(iface_poll_at(l.q1.a, l.q1.now) <= l.q1.now);
	fix_poll(&l.q1);
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_IPV4);
	assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
	assert_int_equal(fix_count(l.q1.a, IFACE_DROP_TX_ARP_UNRESOLVED), 0);

	/* Waiting with no reply anywhere: queue 1 wakes every NEIGH_SHARED_CHECK to look. */
	ipv4_addr other = IPV4_ADDR(10, 0, 0, 20);
	assert_int_equal(udp_socket_send_to(s, "wait", 4, other, 7), UDP_OK);
	fix_settle(&l.q1);
	raw_drain(&l.q1);
	assert_true(iface_poll_at(l.q1.a, l.q1.now) <= l.q1.now + NEIGH_SHARED_CHECK);
	/* A reply nobody asked for teaches neither queue (RFC 826: only known pairs are merged). */
	ipv4_addr stranger = IPV4_ADDR(10, 0, 0, 21);
	struct eth_addr mac;
	raw_send(&l.q0, buf, arp_from(buf, ARP_OP_REPLY, stranger, &NEW_MAC, FIX_IP_A));
	fix_settle(&l.q0);
	assert_false(iface_neighbor_lookup(l.q0.a, stranger, &mac, l.q0.now));
	assert_false(iface_neighbor_lookup(l.q1.a, stranger, &mac, l.q1.now));
	fix_udp_free(s);
	fix_udp_free(s0);
	link_free(&l);
}

/* After a minute the address has expired everywhere; queue 1 asks again and the reply comes to queue
 * 0, which never cached it: the expired entry in the table is a request again, and merged into. */
static void test_reply_on_other_after_expiry(void **state)
{
	struct link l;
	struct eth_repr eth;
	uint8_t buf[2048];

	link_init(&l, 0);
	raw_introduce(&l.q1);
	link_advance(&l, iface_get_config(l.q1.a)->arp_expiry + 1);
	struct udp_socket *s = fix_udp_socket(l.q1.a, 5000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, "again", 5, FIX_IP_RAW, 7), UDP_OK);
	fix_settle(&l.q1);
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_ARP);
	raw_send(&l.q0, buf, arp_from(buf, ARP_OP_REPLY, FIX_IP_RAW, &FIX_MAC_RAW, FIX_IP_A));
	fix_settle(&l.q0);
	fix_poll(&l.q1);
	assert_int_equal(next_frame(&l.q1, buf, sizeof(buf), &eth), ETH_TYPE_IPV4);
	assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
	fix_udp_free(s);
	link_free(&l);
}

static void test_table_full_evicts(void **state)
{
	struct link l;
	struct eth_addr mac;
	uint8_t buf[64];
	ipv4_addr ip[3] = {IPV4_ADDR(10, 0, 0, 30), IPV4_ADDR(10, 0, 0, 31), IPV4_ADDR(10, 0, 0, 32)};

	link_init(&l, 2); /* two entries, three neighbours */
	for (int i = 0; i < 3; i++) {
		raw_send(&l.q0, buf, arp_from(buf, ARP_OP_REQUEST, ip[i], &FIX_MAC_RAW, FIX_IP_A));
		fix_settle(&l.q0);
		raw_drain(&l.q0);
		link_advance(&l, 1000000);
	}
	/* The first learned expires first: it made room. Queue 0's own cache still has all three. */
	assert_false(iface_neighbor_lookup(l.q1.a, ip[0], &mac, l.q1.now));
	assert_true(iface_neighbor_lookup(l.q1.a, ip[1], &mac, l.q1.now));
	assert_true(iface_neighbor_lookup(l.q1.a, ip[2], &mac, l.q1.now));
	for (int i = 0; i < 3; i++)
		assert_true(iface_neighbor_lookup(l.q0.a, ip[i], &mac, l.q0.now));
	/* Expiry: after arp_expiry nobody trusts them. */
	link_advance(&l, iface_get_config(l.q0.a)->arp_expiry);
	assert_false(iface_neighbor_lookup(l.q1.a, ip[2], &mac, l.q1.now));
	assert_false(iface_neighbor_lookup(l.q0.a, ip[2], &mac, l.q0.now));
	link_free(&l);
}

/* Two threads put and get the same few addresses in a table too small for them (so slots change
 * hands too). Every value written is self-consistent (all of its MAC's first four bytes equal, the
 * rest naming the address, the expiry naming both): a torn read would show a mix. No timing. */
#define STRESS_ROUNDS 1000000
#define STRESS_IPS 6
#define STRESS_BASE (1ull << 20) /* expiries: this plus a byte naming the writer, and the address's low byte */

struct stress {
	struct iface_neigh_table *t;
	uint8_t id;
	unsigned torn, reads;
};

static void *stress_run(void *arg)
{
	struct stress *s = arg;

	for (uint32_t r = 0; r < STRESS_ROUNDS; r++) {
		ipv4_addr ip = IPV4_ADDR(10, 1, 0, 1 + r % STRESS_IPS);
		uint8_t b = (uint8_t)(s->id << 7 | (r & 0x7f)), lo = (uint8_t)ip;
		struct eth_addr m = {{b, b, b, b, lo, (uint8_t)(lo ^ 0xff)}};
		if (r % 7)
			neigh_shared_put(s->t, ip, &m, STRESS_BASE + (smx_instant)b * 256 + lo);
		else
			neigh_shared_ask(s->t, ip, 0, STRESS_BASE + (smx_instant)b * 256 + lo);

		struct neigh_shared_view v;
		ipv4_addr q = IPV4_ADDR(10, 1, 0, 1 + (r * 5) % STRESS_IPS);
		if (!neigh_shared_get(s->t, q, 0, &v))
			continue;
		s->reads++;
		uint8_t qlo = (uint8_t)q, qflip = (uint8_t)(qlo ^ 0xffu);
		if (!v.known) {
			s->torn += v.expires < STRESS_BASE || (uint8_t)v.expires != qlo;
			continue;
		}
		uint8_t vb = v.mac.b[0];
		s->torn += v.mac.b[1] != vb || v.mac.b[2] != vb || v.mac.b[3] != vb || v.mac.b[4] != qlo ||
			   v.mac.b[5] != qflip;
		/* The expiry comes from the same write, unless a request since left the address (kept). */
		s->torn += v.expires != STRESS_BASE + (smx_instant)vb * 256 + qlo;
	}
	return NULL;
}

static void test_two_threads_no_torn_entry(void **state)
{
	size_t n = iface_neigh_table_mem_size(4);
	void *mem = malloc(n);
	struct iface_neigh_table *t = iface_neigh_table_init(mem, n, 4);
	struct stress s[2] = {{.t = t, .id = 0}, {.t = t, .id = 1}};
	pthread_t th;

	assert_non_null(t);
	assert_int_equal(pthread_create(&th, NULL, stress_run, &s[1]), 0);
	stress_run(&s[0]);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s[0].torn + s[1].torn, 0);
	assert_true(s[0].reads > 0 && s[1].reads > 0);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_on_one_resolve_on_other),
		cmocka_unit_test(test_pending_released_by_reply_on_other),
		cmocka_unit_test(test_reply_on_other_after_expiry),
		cmocka_unit_test(test_table_full_evicts),
		cmocka_unit_test(test_two_threads_no_torn_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
