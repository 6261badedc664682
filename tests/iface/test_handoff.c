/* Hand-off between queues: the frame ring's semantics (order, wrap-around, full, sizes) and a
 * two-thread producer/consumer run in which every frame must arrive once, intact and in order; the
 * hand-off device over loopback wires (frames for another queue reach it, copies to all, full rings
 * counted, ring frames freed in any release order, no inner frame leaked); the port split's shares
 * and its frame classifier on TCP, UDP, VLAN, ARP, ICMP errors, fragments and every truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "smolxdp/dev_handoff.h"
#include "smolxdp/dev_loopback.h"
#include "smolxdp/frame_ring.h"
#include "smolxdp/port_split.h"

static struct frame_ring *ring_new(uint32_t slots, uint32_t slot_size, void **mem)
{
	size_t n = frame_ring_mem_size(slots, slot_size);
	assert_true(n > 0);
	*mem = malloc(n);
	struct frame_ring *r = frame_ring_init(*mem, n, slots, slot_size);
	assert_non_null(r);
	return r;
}

static void test_ring_sizes(void **state)
{
	uint8_t mem[64];

	(void)state;
	assert_int_equal(frame_ring_mem_size(3, 100), 0);    /* not a power of two */
	assert_int_equal(frame_ring_mem_size(1, 100), 0);
	assert_int_equal(frame_ring_mem_size(4, 0), 0);
	assert_int_equal(frame_ring_mem_size(131072, 100), 0);
	assert_null(frame_ring_init(mem, sizeof(mem), 4, 100)); /* too little memory */
	assert_null(frame_ring_init(NULL, 1 << 20, 4, 100));
}

static void test_ring_order_full_wrap(void **state)
{
	void *mem;
	struct frame_ring *r = ring_new(4, 100, &mem);
	uint8_t buf[101], *p;

	(void)state;
	assert_int_equal(frame_ring_slots(r), 4);
	assert_int_equal(frame_ring_slot_size(r), 100);
	assert_int_equal(frame_ring_count(r), 0);
	memset(buf, 0xab, sizeof(buf));
	assert_false(frame_ring_push(r, buf, 0));   /* nothing to carry */
	assert_false(frame_ring_push(r, buf, 101)); /* beyond a slot */
	for (uint8_t i = 0; i < 4; i++) {
		buf[0] = i;
		assert_true(frame_ring_push(r, buf, 10u + i));
	}
	buf[0] = 9;
	assert_false(frame_ring_push(r, buf, 10)); /* full */
	assert_int_equal(frame_ring_count(r), 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(frame_ring_peek(r, i, &p), 10 + i);
		assert_int_equal(p[0], i);
		assert_true(frame_ring_owns(r, p, NULL));
	}
	assert_false(frame_ring_owns(r, buf, NULL));
	frame_ring_pop(r, 1);
	assert_true(frame_ring_push(r, buf, 10)); /* room again, in the slot just freed */
	assert_int_equal(frame_ring_peek(r, 3, &p), 10);
	assert_int_equal(p[0], 9);
	uint32_t slot;
	assert_true(frame_ring_owns(r, p, &slot));
	assert_int_equal(slot, 0);
	assert_int_equal(frame_ring_slot_of(r, 3), 0);
	frame_ring_pop(r, 4); /* the last push is counted without asking frame_ring_count again */
	assert_int_equal(frame_ring_count(r), 0);
	frame_ring_pop(r, 1); /* never past what was published */
	assert_int_equal(frame_ring_count(r), 0);

	/* Many laps, at every fill level: order and bytes survive the indices' wrap-around. */
	uint32_t next_in = 0, next_out = 0;
	for (uint32_t lap = 0; lap < 1000; lap++) {
		uint32_t k = 1 + lap % 4;
		for (uint32_t i = 0; i < k; i++, next_in++) {
			memset(buf, (int)(next_in & 0xff), sizeof(buf));
			assert_true(frame_ring_push(r, buf, 1 + next_in % 100));
		}
		assert_int_equal(frame_ring_count(r), k);
		for (uint32_t i = 0; i < k; i++, next_out++) {
			uint32_t len = frame_ring_peek(r, 0, &p);
			assert_int_equal(len, 1 + next_out % 100);
			assert_int_equal(p[len - 1], next_out & 0xff);
			frame_ring_pop(r, 1);
		}
	}
	free(mem);
}

/* Two threads: the producer pushes STRESS_FRAMES numbered frames of varying length (retrying while
 * full), the consumer checks each one's number, length and bytes in arrival order. */
#define STRESS_FRAMES 300000u

struct stress {
	struct frame_ring *r;
	uint64_t full_retries;
};

static uint32_t stress_len(uint32_t seq)
{
	return 4 + seq % 97;
}

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	uint8_t buf[128];

	for (uint32_t seq = 0; seq < STRESS_FRAMES; seq++) {
		uint32_t len = stress_len(seq);
		memcpy(buf, &seq, 4);
		for (uint32_t i = 4; i < len; i++)
			buf[i] = (uint8_t)(seq + i);
		while (!frame_ring_push(s->r, buf, len))
			s->full_retries++;
	}
	return NULL;
}

static void test_ring_two_threads(void **state)
{
	void *mem;
	struct stress s = { .r = ring_new(64, 128, &mem) };
	pthread_t t;
	uint32_t expect = 0, bad = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, stress_producer, &s), 0);
	while (expect < STRESS_FRAMES) {
		uint32_t n = frame_ring_count(s.r);
		for (uint32_t i = 0; i < n; i++, expect++) {
			uint8_t *p;
			uint32_t len = frame_ring_peek(s.r, i, &p), seq;
			memcpy(&seq, p, 4);
			bad += seq != expect || len != stress_len(expect);
			for (uint32_t j = 4; j < len; j++)
				bad += p[j] != (uint8_t)(expect + j);
		}
		frame_ring_pop(s.r, n);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(expect, STRESS_FRAMES);
	assert_int_equal(frame_ring_count(s.r), 0); /* nothing extra */
	free(mem);
}

/* The hand-off device over two loopback wires: end 0 of wire q plays the network, end 1 is queue q's
 * own device. The test's owner rule: a frame's first byte names its queue (0xff: all). */
static uint32_t first_byte_owner(void *ctx, uint32_t self, const uint8_t *f, uint32_t len)
{
	(void)ctx;
	(void)self;
	return len && f[0] == 0xff ? DEV_HANDOFF_ALL : (len ? f[0] : 0);
}

struct queues {
	uint32_t n;
	void *lo_mem[3], *g_mem;
	struct dev_loopback *lo[3];
	struct dev_handoff_group *g;
	struct dev *q[3];
};

static void queues_new(struct queues *t, uint32_t queues, uint32_t ring_slots)
{
	struct dev_loopback_config lc = { .frames = 16, .frame_size = 1514 };
	struct dev_handoff_config hc = { .queues = queues, .ring_slots = ring_slots, .slot_size = 200,
					 .owner = first_byte_owner };

	t->n = queues;
	for (uint32_t i = 0; i < queues; i++) {
		size_t n = dev_loopback_mem_size(&lc);
		t->lo_mem[i] = malloc(n);
		t->lo[i] = dev_loopback_init(t->lo_mem[i], n, &lc);
		assert_non_null(t->lo[i]);
	}
	size_t n = dev_handoff_mem_size(&hc);
	assert_true(n > 0);
	t->g_mem = malloc(n);
	t->g = dev_handoff_init(t->g_mem, n, &hc);
	assert_non_null(t->g);
	for (uint32_t i = 0; i < queues; i++) {
		t->q[i] = dev_handoff_queue(t->g, i, dev_loopback_end(t->lo[i], 1));
		assert_non_null(t->q[i]);
	}
}

static void queues_free(struct queues *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		assert_int_equal(dev_loopback_free_frames(t->lo[i]), 16); /* no inner frame kept */
		free(t->lo_mem[i]);
	}
	free(t->g_mem);
}

/* The network sends a frame of len bytes, first byte owner, the rest fill, towards queue q. */
static void net_send(struct queues *t, uint32_t q, uint8_t owner, uint8_t fill, uint32_t len)
{
	struct dev *net = dev_loopback_end(t->lo[q], 0);
	struct dev_frame f;

	assert_true(dev_tx_reserve(net, &f, 0));
	memset(f.data, fill, len);
	f.data[0] = owner;
	f.len = len;
	dev_tx_submit(net, &f);
	dev_tx_flush(net, 0);
}

static void test_handoff_device(void **state)
{
	struct queues t;
	struct dev_frame rx[8];
	struct dev_handoff_stats st;

	(void)state;
	queues_new(&t, 2, 4);
	net_send(&t, 1, 0, 0xa0, 60);    /* queue 0's, landing on 1 */
	net_send(&t, 1, 1, 0xa1, 61);    /* 1's own */
	net_send(&t, 1, 0xff, 0xa2, 62); /* everyone's */
	net_send(&t, 1, 0, 0xa3, 300);   /* queue 0's, longer than a slot */
	assert_int_equal(dev_rx_burst(t.q[1], rx, 8, 0), 2);
	assert_int_equal(rx[0].data[1], 0xa1);
	assert_int_equal(rx[1].data[1], 0xa2);
	dev_rx_release(t.q[1], rx, 2);
	dev_handoff_stats(t.g, 1, &st);
	assert_int_equal(st.handed_off, 2);
	assert_int_equal(st.too_big, 1);
	assert_int_equal(st.received, 0);

	net_send(&t, 0, 0, 0xb0, 63); /* queue 0's own, with what was handed over */
	assert_int_equal(dev_handoff_pending(t.g, 0), 2);
	assert_int_equal(dev_rx_burst(t.q[0], rx, 8, 0), 3);
	assert_int_equal(rx[0].len, 63);
	assert_int_equal(rx[1].len, 60);
	assert_int_equal(rx[1].data[1], 0xa0);
	assert_int_equal(rx[2].len, 62);
	assert_int_equal(rx[2].data[1], 0xa2);
	assert_int_equal(dev_handoff_pending(t.g, 0), 0);
	/* Released last first, and the inner frame in the middle: each goes where it came from. */
	dev_rx_release(t.q[0], &rx[2], 1);
	dev_rx_release(t.q[0], &rx[0], 2);
	dev_handoff_stats(t.g, 0, &st);
	assert_int_equal(st.received, 2);
	assert_int_equal(st.handed_off, 0);

	/* A full ring loses what does not fit, counted; what fits arrives in order. */
	for (uint8_t i = 0; i < 6; i++)
		net_send(&t, 1, 0, (uint8_t)(0xc0 + i), 60);
	assert_int_equal(dev_rx_burst(t.q[1], rx, 8, 0), 0);
	dev_handoff_stats(t.g, 1, &st);
	assert_int_equal(st.handed_off, 2 + 4);
	assert_int_equal(st.ring_full, 2);
	/* Half a batch at most for the rings while its own device has frames. */
	net_send(&t, 0, 0, 0xb1, 64);
	assert_int_equal(dev_rx_burst(t.q[0], rx, 2, 0), 2);
	assert_int_equal(rx[0].data[1], 0xb1);
	assert_int_equal(rx[1].data[1], 0xc0);
	assert_int_equal(dev_rx_burst(t.q[0], rx + 2, 8, 0), 3);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rx[1 + i].data[1], 0xc0 + i);
	/* Out of order: nothing is freed until the oldest is released. */
	dev_rx_release(t.q[0], &rx[2], 3);
	net_send(&t, 1, 0, 0xd0, 60);
	assert_int_equal(dev_rx_burst(t.q[1], rx + 5, 3, 0), 0);
	dev_handoff_stats(t.g, 1, &st);
	assert_int_equal(st.ring_full, 3);
	dev_rx_release(t.q[0], &rx[0], 2);
	net_send(&t, 1, 0, 0xd1, 60);
	assert_int_equal(dev_rx_burst(t.q[1], rx, 4, 0), 0);
	assert_int_equal(dev_rx_burst(t.q[0], rx, 8, 0), 1);
	assert_int_equal(rx[0].data[1], 0xd1);
	dev_rx_release(t.q[0], rx, 1);
	queues_free(&t);
}

/* Three queues: each pair's own ring, copies to all, and an owner beyond the queues kept. */
static void test_handoff_three(void **state)
{
	struct queues t;
	struct dev_frame rx[8];
	struct dev_handoff_stats st;

	(void)state;
	queues_new(&t, 3, 8);
	assert_null(dev_handoff_queue(t.g, 3, dev_loopback_end(t.lo[0], 1)));
	net_send(&t, 0, 2, 0x01, 60);    /* 0 -> 2 */
	net_send(&t, 1, 2, 0x02, 60);    /* 1 -> 2 */
	net_send(&t, 2, 0xff, 0x03, 60); /* 2 -> everyone */
	net_send(&t, 1, 7, 0x04, 60);    /* no such queue: stays on 1 */
	assert_int_equal(dev_rx_burst(t.q[0], rx, 8, 0), 0);
	assert_int_equal(dev_rx_burst(t.q[1], rx, 8, 0), 1);
	assert_int_equal(rx[0].data[1], 0x04);
	dev_rx_release(t.q[1], rx, 1);
	assert_int_equal(dev_rx_burst(t.q[2], rx, 8, 0), 3); /* its own, then 0's, then 1's */
	assert_int_equal(rx[0].data[1], 0x03);
	assert_int_equal(rx[1].data[1], 0x01);
	assert_int_equal(rx[2].data[1], 0x02);
	dev_rx_release(t.q[2], rx, 3);
	for (uint32_t q = 0; q < 2; q++) {
		assert_int_equal(dev_handoff_pending(t.g, q), 1);
		assert_int_equal(dev_rx_burst(t.q[q], rx, 8, 0), 1);
		assert_int_equal(rx[0].data[1], 0x03);
		dev_rx_release(t.q[q], rx, 1);
	}
	dev_handoff_stats(t.g, 2, &st);
	assert_int_equal(st.handed_off, 2);
	assert_int_equal(st.received, 2);
	for (uint32_t q = 0; q < 3; q++)
		assert_int_equal(dev_handoff_pending(t.g, q), 0);
	queues_free(&t);
}

/* Frames for the classifier: Ethernet (optionally tagged), IPv4, then the transport's first bytes. */
static uint32_t frame_ip(uint8_t *f, bool vlan, uint8_t proto, uint16_t frag, const uint8_t *l4,
			 uint32_t l4_len)
{
	uint32_t off = 12;

	memset(f, 0, 12);
	if (vlan) {
		f[off++] = 0x81, f[off++] = 0x00, f[off++] = 0x00, f[off++] = 0x05;
	}
	f[off++] = 0x08, f[off++] = 0x00;
	uint8_t *ip = f + off;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag;
	ip[9] = proto;
	memcpy(ip + 20, l4, l4_len);
	return off + 20 + l4_len;
}

static uint32_t frame_arp(uint8_t *f, uint16_t op, uint8_t spa_last, uint8_t tpa_last)
{
	memset(f, 0, 42);
	f[12] = 0x08, f[13] = 0x06;
	uint8_t *a = f + 14;
	a[0] = 0, a[1] = 1, a[2] = 8, a[3] = 0, a[4] = 6, a[5] = 4, a[6] = 0, a[7] = (uint8_t)op;
	a[14] = 192, a[15] = 168, a[16] = 70, a[17] = spa_last;
	a[24] = 192, a[25] = 168, a[26] = 70, a[27] = tpa_last;
	return 42;
}

/* Every prefix of a frame is classified without reading past it, as self or its full verdict. */
static void check_truncations(struct port_split *ps, const uint8_t *f, uint32_t len, uint32_t self)
{
	for (uint32_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any read past it */
		memcpy(copy, f, n);
		uint32_t o = port_split_frame_owner(ps, self, copy, n);
		assert_true(o == self || o == DEV_HANDOFF_ALL || o < ps->queues);
		free(copy);
	}
}

static void test_port_split(void **state)
{
	struct port_split ps = { .port_min = 49152, .port_max = 65535, .queues = 4 };
	uint16_t lo, hi;
	uint8_t f[128];
	uint32_t n;

	(void)state;
	port_split_range(&ps, 0, &lo, &hi);
	assert_int_equal(lo, 49152);
	assert_int_equal(hi, 53247);
	port_split_range(&ps, 3, &lo, &hi);
	assert_int_equal(lo, 61440);
	assert_int_equal(hi, 65535);
	assert_int_equal(port_split_owner(&ps, 49152), 0);
	assert_int_equal(port_split_owner(&ps, 53247), 0);
	assert_int_equal(port_split_owner(&ps, 53248), 1);
	assert_int_equal(port_split_owner(&ps, 65535), 3);
	assert_int_equal(port_split_owner(&ps, 6969), 4); /* nobody's share */
	/* Uneven: the last queue takes the remainder; every port has exactly one owner. */
	struct port_split odd = { .port_min = 100, .port_max = 110, .queues = 3 };
	for (uint32_t q = 0; q < 3; q++) {
		port_split_range(&odd, q, &lo, &hi);
		for (uint32_t p = lo; p <= hi; p++)
			assert_int_equal(port_split_owner(&odd, (uint16_t)p), q);
	}
	assert_int_equal(hi, 110);
	struct port_split bad = { .port_min = 100, .port_max = 101, .queues = 3 };
	port_split_range(&bad, 0, &lo, &hi);
	assert_true(lo > hi);
	assert_int_equal(port_split_owner(&bad, 100), 3);

	/* TCP and UDP by destination port; tagged the same; listeners' ports stay. */
	uint8_t tcp_to_q2[] = { 0x1b, 0x39, 0xe0, 0x01 }; /* 6969 -> 57345 */
	uint8_t tcp_to_listener[] = { 0xe0, 0x01, 0x1b, 0x39 };
	n = frame_ip(f, false, 6, 0x4000, tcp_to_q2, 4);
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 2);
	check_truncations(&ps, f, n, 0);
	n = frame_ip(f, true, 17, 0, tcp_to_q2, 4);
	assert_int_equal(port_split_frame_owner(&ps, 1, f, n), 2);
	check_truncations(&ps, f, n, 1);
	n = frame_ip(f, false, 6, 0, tcp_to_listener, 4);
	assert_int_equal(port_split_frame_owner(&ps, 1, f, n), 1);
	/* A first fragment (MF) goes by its ports; a later one has none and stays. */
	n = frame_ip(f, false, 17, 0x2000, tcp_to_q2, 4);
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 2);
	n = frame_ip(f, false, 17, 0x0010, tcp_to_q2, 4);
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 0);
	/* An ICMP error quoting our datagram from port 61441 (queue 3); ping stays. */
	uint8_t icmp[8 + 20 + 8] = { 3, 3 };
	icmp[8] = 0x45, icmp[8 + 9] = 17;
	icmp[28] = 0xf0, icmp[29] = 0x01;
	n = frame_ip(f, false, 1, 0, icmp, sizeof(icmp));
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 3);
	check_truncations(&ps, f, n, 0);
	icmp[0] = 8;
	n = frame_ip(f, false, 1, 0, icmp, sizeof(icmp));
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 0);
	/* ARP: replies and gratuitous requests to everyone, requests where they land. */
	n = frame_arp(f, 2, 100, 1);
	assert_int_equal(port_split_frame_owner(&ps, 1, f, n), DEV_HANDOFF_ALL);
	check_truncations(&ps, f, n, 1);
	n = frame_arp(f, 1, 100, 1);
	assert_int_equal(port_split_frame_owner(&ps, 1, f, n), 1);
	n = frame_arp(f, 1, 100, 100);
	assert_int_equal(port_split_frame_owner(&ps, 1, f, n), DEV_HANDOFF_ALL);
	/* Not IPv4 (bad version, IHL below 5) or not ours to judge: stays. */
	n = frame_ip(f, false, 6, 0, tcp_to_q2, 4);
	f[14] = 0x44;
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 0);
	f[14] = 0x65;
	assert_int_equal(port_split_frame_owner(&ps, 0, f, n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_sizes),
		cmocka_unit_test(test_ring_order_full_wrap),
		cmocka_unit_test(test_ring_two_threads),
		cmocka_unit_test(test_handoff_device),
		cmocka_unit_test(test_handoff_three),
		cmocka_unit_test(test_port_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
