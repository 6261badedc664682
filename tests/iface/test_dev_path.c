/* The path emulator (dev_path): delay, the bottleneck's spacing and drop-tail queue, reordering,
 * first-in-first-out among frames due together, the held-frame limit, transmit pass-through, and that
 * every frame goes back to the loopback pool (delivered and released, dropped, or released at teardown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smolxdp/dev_loopback.h"
#include "smolxdp/dev_path.h"

#define POOL 64

struct rig {
	void *lo_mem, *path_mem;
	struct dev_loopback *lo;
	struct dev *tx;   /* end 0: frames sent here cross the path */
	struct dev *rx;   /* end 1 behind the path */
	struct dev_path *path;
};

static void rig_init(struct rig *r, struct dev_path_config pc)
{
	struct dev_loopback_config lc = {.frames = POOL, .frame_size = 1514};
	size_t n = dev_loopback_mem_size(&lc);

	memset(r, 0, sizeof(*r));
	r->lo_mem = malloc(n);
	r->lo = dev_loopback_init(r->lo_mem, n, &lc);
	assert_non_null(r->lo);
	r->tx = dev_loopback_end(r->lo, 0);
	pc.inner = dev_loopback_end(r->lo, 1);
	n = dev_path_mem_size(&pc);
	assert_true(n > 0);
	r->path_mem = malloc(n);
	r->path = dev_path_init(r->path_mem, n, &pc);
	assert_non_null(r->path);
	r->rx = dev_path_dev(r->path);
}

/* Teardown doubles as the leak check: held frames given back, the pool full again. */
static void rig_free(struct rig *r)
{
	dev_path_release_all(r->path);
	assert_int_equal(dev_path_held(r->path), 0);
	assert_int_equal(dev_path_next_at(r->path), SMX_INSTANT_NEVER);
	assert_int_equal(dev_loopback_free_frames(r->lo), POOL);
	free(r->path_mem);
	free(r->lo_mem);
}

/* Sends one frame of len bytes whose first byte is id, and flushes it onto the wire. */
static void send_id(struct rig *r, uint8_t id, uint32_t len)
{
	struct dev_frame f;

	assert_true(dev_tx_reserve(r->tx, &f, 0));
	memset(f.data, 0, len);
	f.data[0] = id;
	f.len = len;
	dev_tx_submit(r->tx, &f);
	dev_tx_flush(r->tx, 0);
}

/* Receives at now; returns how many frames, their ids in ids[], all released. */
static size_t recv_ids(struct rig *r, smx_instant now, uint8_t *ids, size_t max)
{
	struct dev_frame f[POOL];
	size_t n = dev_rx_burst(r->rx, f, SMX_MIN(max, (size_t)POOL), now);

	for (size_t i = 0; i < n; i++)
		ids[i] = f[i].data[0];
	dev_rx_release(r->rx, f, n);
	return n;
}

static void test_path_delay(void **state)
{
	struct rig r;
	uint8_t ids[4];

	rig_init(&r, (struct dev_path_config){.delay = 1000});
	send_id(&r, 7, 100);
	assert_int_equal(recv_ids(&r, 5000, ids, 4), 0); /* taken in (stamped) at 5000 */
	assert_int_equal(dev_path_held(r.path), 1);
	assert_int_equal(dev_path_next_at(r.path), 6000);
	assert_int_equal(recv_ids(&r, 5999, ids, 4), 0);
	assert_int_equal(recv_ids(&r, 6000, ids, 4), 1);
	assert_int_equal(ids[0], 7);
	const struct dev_path_stats *st = dev_path_stats(r.path);
	assert_int_equal(st->in, 1);
	assert_int_equal(st->delivered, 1);
	rig_free(&r);
}

/* 8 Mbit/s: 1000 bytes take 1000 us; back-to-back frames leave one serialisation time apart, and a
 * frame arriving at an idle link starts at once. */
static void test_path_rate_spacing(void **state)
{
	struct rig r;
	uint8_t ids[4];

	rig_init(&r, (struct dev_path_config){.rate = 8000000, .delay = 50});
	for (uint8_t i = 0; i < 3; i++)
		send_id(&r, i, 1000);
	assert_int_equal(recv_ids(&r, 0, ids, 4), 0);
	for (uint8_t i = 0; i < 3; i++) {
		smx_instant due = 1000u * (i + 1u) + 50;
		assert_int_equal(dev_path_next_at(r.path), due);
		assert_int_equal(recv_ids(&r, due - 1, ids, 4), 0);
		assert_int_equal(recv_ids(&r, due, ids, 4), 1);
		assert_int_equal(ids[0], i);
	}
	send_id(&r, 9, 500);
	assert_int_equal(recv_ids(&r, 10000, ids, 4), 0);
	assert_int_equal(dev_path_next_at(r.path), 10000 + 500 + 50);
	rig_free(&r);
}

/* 100 Mbit/s: 1514 bytes take 121.12 us; 50 back-to-back frames end at exactly 6056 us, with no
 * rounding carried from frame to frame. */
static void test_path_rate_fraction(void **state)
{
	struct rig r;
	uint8_t ids[POOL];
	size_t got = 0;

	rig_init(&r, (struct dev_path_config){.rate = 100000000});
	for (uint8_t i = 0; i < 50; i++)
		send_id(&r, i, 1514);
	assert_int_equal(recv_ids(&r, 0, ids, POOL), 0);
	assert_int_equal(dev_path_next_at(r.path), 122); /* rounded up to the microsecond */
	got += recv_ids(&r, 6055, ids, POOL);
	assert_int_equal(got, 49);
	got += recv_ids(&r, 6056, ids, POOL);
	assert_int_equal(got, 50);
	assert_int_equal(ids[0], 49);
	rig_free(&r);
}

/* Queue of 3000 bytes at 8 Mbit/s: three 1000-byte frames fit, the next two are tail-dropped; once the
 * first has left (t = 1000) there is room for one more. */
static void test_path_queue_drops(void **state)
{
	struct rig r;
	uint8_t ids[8];
	const struct dev_path_stats *st;

	rig_init(&r, (struct dev_path_config){.rate = 8000000, .queue = 3000});
	st = dev_path_stats(r.path);
	for (uint8_t i = 0; i < 5; i++)
		send_id(&r, i, 1000);
	assert_int_equal(recv_ids(&r, 0, ids, 8), 0);
	assert_int_equal(st->in, 5);
	assert_int_equal(st->dropped_queue, 2);
	assert_int_equal(dev_path_held(r.path), 3);
	assert_int_equal(dev_loopback_free_frames(r.lo), POOL - 3); /* drops went straight back */

	send_id(&r, 5, 1000);
	assert_int_equal(recv_ids(&r, 999, ids, 8), 0);
	assert_int_equal(st->dropped_queue, 3); /* the first frame has not left yet */
	send_id(&r, 6, 1000);
	assert_int_equal(recv_ids(&r, 1000, ids, 8), 1);
	assert_int_equal(ids[0], 0);
	assert_int_equal(st->dropped_queue, 3);
	assert_int_equal(dev_path_held(r.path), 3);
	assert_int_equal(recv_ids(&r, 4000, ids, 8), 3);
	assert_memory_equal(ids, ((uint8_t[]){1, 2, 6}), 3);
	rig_free(&r);
}

/* Frames due together come out in arrival order, however few the caller asks for at a time. */
static void test_path_fifo(void **state)
{
	struct rig r;
	uint8_t ids[POOL];
	size_t got = 0;

	rig_init(&r, (struct dev_path_config){.delay = 100});
	for (uint8_t i = 0; i < 40; i++)
		send_id(&r, i, 60);
	assert_int_equal(recv_ids(&r, 0, ids, 3), 0);
	while (got < 40) {
		size_t n = recv_ids(&r, 100, ids + got, 3);
		assert_true(n > 0 && n <= 3);
		got += n;
	}
	for (uint8_t i = 0; i < 40; i++)
		assert_int_equal(ids[i], i);
	rig_free(&r);
}

/* One frame every 10 us, delay 100, half of them held 25 us more: each arrives at exactly +100 or
 * +125 (as many +125 as counted), and some are overtaken. The same seed gives the same order. */
static void reorder_run(uint64_t seed, uint8_t *order, size_t n)
{
	struct rig r;
	smx_instant sent[POOL];
	uint8_t ids[POOL];
	size_t got = 0;
	uint64_t extra = 0;

	rig_init(&r, (struct dev_path_config){.delay = 100, .reorder_pct = 50, .reorder_extra = 25, .seed = seed});
	for (smx_instant t = 0; got < n; t++) {
		if (t % 10 == 0 && t / 10 < n) {
			sent[t / 10] = t;
			send_id(&r, (uint8_t)(t / 10), 60);
		}
		size_t k = recv_ids(&r, t, ids, POOL);
		for (size_t i = 0; i < k; i++) {
			smx_instant lag = t - sent[ids[i]];
			assert_true(lag == 100 || lag == 125);
			extra += lag == 125;
			order[got++] = ids[i];
		}
	}
	assert_int_equal(dev_path_stats(r.path)->reordered, extra);
	assert_true(extra > 0 && extra < n);
	rig_free(&r);
}

static void test_path_reorder(void **state)
{
	uint8_t a[40], b[40];
	size_t overtaken = 0;

	reorder_run(3, a, 40);
	for (size_t i = 1; i < 40; i++)
		overtaken += a[i] < a[i - 1];
	assert_true(overtaken > 0);
	reorder_run(3, b, 40);
	assert_memory_equal(a, b, 40);
}

/* max_held 4: the fifth and sixth frames are dropped and go straight back to the pool. */
static void test_path_full(void **state)
{
	struct rig r;
	uint8_t ids[8];

	rig_init(&r, (struct dev_path_config){.delay = 10, .max_held = 4});
	for (uint8_t i = 0; i < 6; i++)
		send_id(&r, i, 60);
	assert_int_equal(recv_ids(&r, 0, ids, 8), 0);
	assert_int_equal(dev_path_stats(r.path)->dropped_full, 2);
	assert_int_equal(dev_path_held(r.path), 4);
	assert_int_equal(dev_loopback_free_frames(r.lo), POOL - 4);
	assert_int_equal(recv_ids(&r, 10, ids, 8), 4);
	assert_memory_equal(ids, ((uint8_t[]){0, 1, 2, 3}), 4);
	rig_free(&r);
}

/* Frames still held at teardown are given back by dev_path_release_all (checked in rig_free), and
 * frames delivered but not yet released are the caller's: they go back through rx_release. */
static void test_path_release_all(void **state)
{
	struct rig r;
	struct dev_frame f[2];

	rig_init(&r, (struct dev_path_config){.delay = 1000, .rate = 1000000});
	for (uint8_t i = 0; i < 10; i++)
		send_id(&r, i, 200);
	assert_int_equal(dev_rx_burst(r.rx, f, 2, 0), 0);
	assert_int_equal(dev_rx_burst(r.rx, f, 2, 1000 + 3200), 2);
	assert_int_equal(dev_path_held(r.path), 8);
	dev_path_release_all(r.path);
	assert_int_equal(dev_loopback_free_frames(r.lo), POOL - 2);
	dev_rx_release(r.rx, f, 2);
	/* The bottleneck is empty again: a new frame is not queued behind the released ones. */
	send_id(&r, 11, 200);
	assert_int_equal(dev_rx_burst(r.rx, f, 2, 5000), 0);
	assert_int_equal(dev_path_next_at(r.path), 5000 + 1600 + 1000);
	rig_free(&r);
}

/* Transmit passes straight through to the inner device, untouched by the path. */
static void test_path_tx_passthrough(void **state)
{
	struct rig r;
	struct dev_frame f, rx[2];
	struct dev_caps caps;

	rig_init(&r, (struct dev_path_config){.delay = 1000, .rate = 1000});
	assert_true(dev_tx_reserve(r.rx, &f, 0));
	memset(f.data, 0x42, 80);
	f.len = 80;
	dev_tx_submit(r.rx, &f);
	dev_tx_flush(r.rx, 0);
	assert_int_equal(dev_rx_burst(r.tx, rx, 2, 0), 1);
	assert_int_equal(rx[0].len, 80);
	dev_rx_release(r.tx, rx, 1);
	assert_true(dev_tx_reserve(r.rx, &f, 0));
	dev_tx_abort(r.rx, &f);
	dev_get_caps(r.rx, &caps);
	assert_int_equal(caps.max_frame, 1514);
	rig_free(&r);
}

static void test_path_bad_config(void **state)
{
	struct dev_path_config none = {.delay = 1};
	struct dev_path_config huge = {.inner = (struct dev *)&none, .max_held = 1u << 30};
	uint8_t mem[64];

	assert_int_equal(dev_path_mem_size(&none), 0);
	assert_null(dev_path_init(mem, sizeof(mem), &none));
	assert_int_equal(dev_path_mem_size(&huge), 0);
	huge.max_held = 4;
	assert_null(dev_path_init(mem, sizeof(mem), &huge)); /* too small */
	assert_null(dev_path_init(NULL, 1u << 20, &huge));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_delay),
		cmocka_unit_test(test_path_rate_spacing),
		cmocka_unit_test(test_path_rate_fraction),
		cmocka_unit_test(test_path_queue_drops),
		cmocka_unit_test(test_path_fifo),
		cmocka_unit_test(test_path_reorder),
		cmocka_unit_test(test_path_full),
		cmocka_unit_test(test_path_release_all),
		cmocka_unit_test(test_path_tx_passthrough),
		cmocka_unit_test(test_path_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
