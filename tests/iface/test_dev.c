/* The devices: loopback delivery after flush and pool accounting, the pcap stream's bytes, and the
 * fault injector's drops, corruption, limits and determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smolxdp/dev_fault.h"
#include "smolxdp/dev_loopback.h"
#include "smolxdp/dev_pcap.h"

static struct dev_loopback *lo_new(uint32_t frames, bool self, void **mem)
{
	struct dev_loopback_config c = {.frames = frames, .frame_size = 1514, .loop_to_self = self};
	size_t n = dev_loopback_mem_size(&c);
	*mem = malloc(n);
	struct dev_loopback *lo = dev_loopback_init(*mem, n, &c);
	assert_non_null(lo);
	return lo;
}

static void send_at(struct dev *d, uint8_t fill, uint32_t len, smx_instant now)
{
	struct dev_frame f;
	assert_true(dev_tx_reserve(d, &f, now));
	assert_true(f.cap >= len);
	memset(f.data, fill, len);
	f.len = len;
	dev_tx_submit(d, &f);
}

static void send_bytes(struct dev *d, uint8_t fill, uint32_t len)
{
	send_at(d, fill, len, 0);
}

static void test_loopback_pair(void **state)
{
	void *mem;
	struct dev_loopback *lo = lo_new(8, false, &mem);
	struct dev *a = dev_loopback_end(lo, 0), *b = dev_loopback_end(lo, 1);
	struct dev_frame rx[8];

	send_bytes(a, 0x11, 100);
	send_bytes(a, 0x22, 60);
	assert_int_equal(dev_rx_burst(b, rx, 8, 0), 0); /* not before the flush */
	dev_tx_flush(a, 0);
	assert_int_equal(dev_rx_burst(a, rx, 8, 0), 0); /* the other end only */
	assert_int_equal(dev_rx_burst(b, rx, 8, 0), 2);
	assert_int_equal(rx[0].len, 100);
	assert_int_equal(rx[0].data[99], 0x11);
	assert_int_equal(rx[1].len, 60);
	assert_int_equal(rx[1].data[0], 0x22);
	assert_int_equal(dev_loopback_free_frames(lo), 6);
	dev_rx_release(b, rx, 2);
	assert_int_equal(dev_loopback_free_frames(lo), 8);

	/* Exhaust the pool: reserve fails and is counted; abort gives frames back. */
	struct dev_frame f[9];
	for (int i = 0; i < 8; i++)
		assert_true(dev_tx_reserve(b, &f[i], 0));
	assert_false(dev_tx_reserve(b, &f[8], 0));
	assert_int_equal(dev_loopback_stats(lo, 1)->tx_no_frame, 1);
	for (int i = 0; i < 8; i++)
		dev_tx_abort(b, &f[i]);
	assert_int_equal(dev_loopback_free_frames(lo), 8);
	free(mem);
}

static void test_loopback_self(void **state)
{
	void *mem;
	struct dev_loopback *lo = lo_new(4, true, &mem);
	struct dev *a = dev_loopback_end(lo, 0);
	struct dev_frame rx[4];

	send_bytes(a, 0x33, 70);
	dev_tx_flush(a, 0);
	assert_int_equal(dev_rx_burst(a, rx, 4, 0), 1);
	assert_int_equal(rx[0].len, 70);
	dev_rx_release(a, rx, 1);
	free(mem);
}

struct membuf {
	uint8_t data[65536];
	size_t len;
};

static void membuf_write(void *ctx, const void *data, size_t len)
{
	struct membuf *m = ctx;
	assert_true(m->len + len <= sizeof(m->data));
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_pcap(void **state)
{
	void *mem;
	struct dev_loopback *lo = lo_new(8, false, &mem);
	static struct membuf out;
	struct dev_pcap pa;
	struct dev_pcap_config pc = {.inner = dev_loopback_end(lo, 0), .write = membuf_write, .ctx = &out};
	struct dev *a = dev_pcap_init(&pa, &pc);
	struct dev *b = dev_loopback_end(lo, 1);
	struct dev_frame rx[2];

	out.len = 0;
	assert_int_equal(out.len, 0);
	pa.last_now = 0;
	dev_pcap_init(&pa, &pc);
	assert_int_equal(out.len, 24);
	assert_int_equal(le32(out.data), 0xa1b2c3d4u);
	assert_int_equal(le32(out.data + 20), 1); /* LINKTYPE_ETHERNET */

	struct dev_frame f;
	assert_true(dev_tx_reserve(a, &f, 3500001));
	memset(f.data, 0xab, 64);
	f.len = 64;
	dev_tx_submit(a, &f);
	dev_tx_flush(a, 3500001);
	assert_int_equal(out.len, 24 + 16 + 64);
	assert_int_equal(le32(out.data + 24), 3);      /* seconds */
	assert_int_equal(le32(out.data + 28), 500001); /* microseconds */
	assert_int_equal(le32(out.data + 32), 64);
	assert_int_equal(le32(out.data + 36), 64);
	assert_int_equal(out.data[24 + 16 + 63], 0xab);
	assert_int_equal(dev_rx_burst(b, rx, 2, 0), 1);
	dev_rx_release(b, rx, 1);

	/* Received frames are recorded too. */
	send_bytes(b, 0xcd, 80);
	dev_tx_flush(b, 0);
	assert_int_equal(dev_rx_burst(a, rx, 2, 7000000), 1);
	assert_int_equal(out.len, 24 + 80 + 96);
	assert_int_equal(le32(out.data + 104), 7);
	assert_int_equal(out.data[104 + 16], 0xcd);
	dev_rx_release(a, rx, 1);
	assert_int_equal(dev_loopback_free_frames(lo), 8);
	free(mem);
}

/* Stamps are wall-clock times: the app's offset (wall clock at instant 0) is added to every instant. */
static void test_pcap_wall_clock(void **state)
{
	void *mem;
	struct dev_loopback *lo = lo_new(8, false, &mem);
	static struct membuf out;
	struct dev_pcap pa;
	/* 2024-01-01T00:00:00.900000Z at instant 0 */
	struct dev_pcap_config pc = {.inner = dev_loopback_end(lo, 0), .write = membuf_write, .ctx = &out,
				     .wall_offset_us = 1704067200900000ull};
	struct dev *a;
	struct dev_frame f;

	out.len = 0;
	a = dev_pcap_init(&pa, &pc);
	assert_true(dev_tx_reserve(a, &f, 3500001));
	memset(f.data, 0xab, 64);
	f.len = 64;
	dev_tx_submit(a, &f);
	dev_tx_flush(a, 3500001);
	assert_int_equal(out.len, 24 + 16 + 64);
	assert_int_equal(le32(out.data + 24), 1704067204u); /* 3.5 s + 0.9 s carried into the seconds */
	assert_int_equal(le32(out.data + 28), 400001);
	free(mem);
}

/* Sends n frames through a fault injector on end 0 and returns how many arrive at end 1. */
static size_t fault_run(const struct dev_fault_config *fc, size_t n, uint32_t len, uint64_t *digest,
			struct dev_fault_stats *stats)
{
	void *mem;
	struct dev_loopback *lo = lo_new(64, false, &mem);
	struct dev_fault f;
	struct dev_fault_config c = *fc;
	c.inner = dev_loopback_end(lo, 0);
	struct dev *a = dev_fault_init(&f, &c);
	struct dev *b = dev_loopback_end(lo, 1);
	size_t got = 0;

	*digest = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		send_at(a, 0x5a, len, i * 1000);
		dev_tx_flush(a, i * 1000);
		struct dev_frame rx[2];
		size_t k = dev_rx_burst(b, rx, 2, i * 1000);
		for (size_t j = 0; j < k; j++) {
			for (uint32_t x = 0; x < rx[j].len; x++)
				*digest = (*digest ^ rx[j].data[x]) * 1099511628211ull;
			got++;
		}
		dev_rx_release(b, rx, k);
	}
	assert_int_equal(dev_loopback_free_frames(lo), 64); /* nothing leaked by drops */
	*stats = f.stats;
	free(mem);
	return got;
}

static void test_fault(void **state)
{
	uint64_t d1, d2;
	struct dev_fault_stats st;

	struct dev_fault_config none = {.seed = 1};
	assert_int_equal(fault_run(&none, 100, 60, &d1, &st), 100);

	struct dev_fault_config drop_all = {.seed = 1, .drop_pct = 100};
	assert_int_equal(fault_run(&drop_all, 100, 60, &d1, &st), 0);
	assert_int_equal(st.dropped, 100);

	/* 20% drop: about 800 of 1000 arrive; the same seed gives the same run, another seed another. */
	struct dev_fault_config drop = {.seed = 42, .drop_pct = 20, .corrupt_pct = 10};
	size_t got = fault_run(&drop, 1000, 60, &d1, &st);
	assert_in_range(got, 700, 900);
	assert_int_equal(st.dropped, 1000 - got);
	assert_in_range(st.corrupted, 40, 130);
	assert_int_equal(fault_run(&drop, 1000, 60, &d2, &st), got);
	assert_true(d1 == d2);
	drop.seed = 43;
	fault_run(&drop, 1000, 60, &d2, &st);
	assert_true(d1 != d2);

	/* Corruption flips exactly one byte per frame. */
	void *mem;
	struct dev_loopback *lo = lo_new(4, false, &mem);
	struct dev_fault f;
	struct dev_fault_config cc = {.seed = 7, .corrupt_pct = 100, .inner = dev_loopback_end(lo, 0)};
	struct dev *a = dev_fault_init(&f, &cc);
	for (int i = 0; i < 50; i++) {
		struct dev_frame rx;
		send_bytes(a, 0, 100);
		dev_tx_flush(a, 0);
		assert_int_equal(dev_rx_burst(dev_loopback_end(lo, 1), &rx, 1, 0), 1);
		int changed = 0;
		for (int x = 0; x < 100; x++)
			changed += rx.data[x] != 0;
		assert_int_equal(changed, 1);
		dev_rx_release(dev_loopback_end(lo, 1), &rx, 1);
	}
	free(mem);

	struct dev_fault_config big = {.seed = 1, .max_size = 100};
	assert_int_equal(fault_run(&big, 10, 101, &d1, &st), 0);
	assert_int_equal(st.too_big, 10);
	assert_int_equal(fault_run(&big, 10, 100, &d1, &st), 10);

	/* 3 frames per 10 ms, one frame sent per ms: 3 of every 10 pass. */
	struct dev_fault_config rate = {.seed = 1, .rate_frames = 3, .rate_interval = 10000};
	assert_int_equal(fault_run(&rate, 100, 60, &d1, &st), 30);
	assert_int_equal(st.rate_limited, 70);
}

/* Faults on receive give the dropped frames back to the inner device. */
static void test_fault_rx(void **state)
{
	void *mem;
	struct dev_loopback *lo = lo_new(16, false, &mem);
	struct dev_fault f;
	struct dev_fault_config c = {.seed = 3, .drop_pct = 50, .dirs = DEV_FAULT_RX, .inner = dev_loopback_end(lo, 1)};
	struct dev *b = dev_fault_init(&f, &c);
	struct dev *a = dev_loopback_end(lo, 0);
	struct dev_frame rx[16];

	for (int i = 0; i < 16; i++)
		send_bytes(a, (uint8_t)i, 60);
	dev_tx_flush(a, 0);
	size_t got = dev_rx_burst(b, rx, 16, 0);
	assert_int_equal(got + f.stats.dropped, 16);
	assert_in_range(got, 1, 15);
	assert_int_equal(dev_loopback_free_frames(lo), 16 - got);
	dev_rx_release(b, rx, got);
	assert_int_equal(dev_loopback_free_frames(lo), 16);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_pair),
		cmocka_unit_test(test_loopback_self),
		cmocka_unit_test(test_pcap),
		cmocka_unit_test(test_pcap_wall_clock),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_fault_rx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
