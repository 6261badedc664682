/* The AF_XDP device's fast path without a socket: fake rings in memory stand in for the kernel's, so
 * what the device does with what the kernel hands it can be checked exactly. Also the option checks
 * xsk_dev_open makes before any system call. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xsk_dev_impl.h"

#define NFRAMES 4
#define FRAME 2048

static uint64_t pool_mem[(NFRAMES * 9 + 7) / 8];
static uint8_t area[NFRAMES * FRAME];
static uint64_t comp_ring[NFRAMES];
static uint32_t comp_prod, comp_cons, comp_flags;

static void fake_dev(struct xsk_dev *xd)
{
	memset(xd, 0, sizeof(*xd));
	xd->dev.ops = &xsk_dev_ops;
	xd->area = area;
	xd->frame_size = FRAME;
	xd->chunk_size = FRAME;
	xd->max_frame = FRAME - 256;
	xd->max_frame_tagged = FRAME - 256;
	xd->batch = 4;
	xd->comp_size = NFRAMES;
	xd->fd = -1;
	xsk_pool_init(&xd->pool, pool_mem, NFRAMES, FRAME);
	comp_prod = comp_cons = 0;
	xd->comp.mask = NFRAMES - 1;
	xd->comp.size = NFRAMES;
	xd->comp.producer = &comp_prod;
	xd->comp.consumer = &comp_cons;
	xd->comp.ring = comp_ring;
	xd->comp.flags = &comp_flags;
}

/* With every frame lent, a completion naming a frame that is not in the kernel (a bogus descriptor)
 * must not make tx_reserve lend a frame anyway: that frame would be on two lists. */
static void test_reserve_after_bogus_completion(void **state)
{
	struct xsk_dev xd;
	struct dev_frame held[NFRAMES], f;
	(void)state;

	fake_dev(&xd);
	for (int i = 0; i < NFRAMES; i++)
		assert_true(xsk_dev_ops.tx_reserve(&xd.dev, &held[i], 0));
	comp_ring[0] = held[0].handle; /* reserved by the stack, never sent */
	__atomic_store_n(&comp_prod, 1, __ATOMIC_RELEASE);
	assert_false(xsk_dev_ops.tx_reserve(&xd.dev, &f, 0));
	assert_int_equal(xd.st.tx_invalid, 1);
	assert_int_equal(xd.st.tx_pool_empty, 1);
	assert_int_equal(xd.pool.count[XSK_FRAME_TX_HELD], NFRAMES);
	/* A frame given back is lent again. */
	xsk_dev_ops.tx_abort(&xd.dev, &held[2]);
	assert_true(xsk_dev_ops.tx_reserve(&xd.dev, &f, 0));
	assert_int_equal(f.handle, held[2].handle);
}

static int logged_errors;
static char logged[256];

static void log_capture(void *ctx, enum xsk_log_level level, const char *msg)
{
	(void)ctx;
	if (level == XSK_LOG_ERROR) {
		logged_errors++;
		snprintf(logged, sizeof(logged), "%s", msg);
	}
}

/* A completion ring smaller than the TX ring could not take back every frame the TX ring holds:
 * open refuses it with one clear line, before touching any interface (this one does not exist). */
static void test_open_rejects_small_completion_ring(void **state)
{
	struct xsk_dev_opts o = {.comp_size = 512, .tx_size = 1024, .log = log_capture};
	struct xsk_dev *xd = (struct xsk_dev *)&o; /* must come back NULL */
	(void)state;

	logged_errors = 0;
	assert_int_equal(xsk_dev_open("smx-no-such-if", 0, &o, &xd), -EINVAL);
	assert_null(xd);
	assert_int_equal(logged_errors, 1);
	assert_non_null(strstr(logged, "completion ring 512"));
	assert_non_null(strstr(xsk_last_error(), "TX ring 1024"));
	/* Equal sizes pass this check: the open fails later, on the missing interface. */
	o.comp_size = 1024;
	assert_true(xsk_dev_open("smx-no-such-if", 0, &o, &xd) < 0);
	assert_null(strstr(xsk_last_error(), "completion ring"));
	/* Defaults are consistent. */
	o.comp_size = o.tx_size = 0;
	assert_true(xsk_dev_open("smx-no-such-if", 0, &o, &xd) < 0);
	assert_null(strstr(xsk_last_error(), "completion ring"));
}

/* Multi-buffer (jumbo MTU): frames of 4 chunks, rings of MB_RING descriptors. */
#define MB_CHUNK 2048
#define MB_FRAME (4 * MB_CHUNK)
#define MB_NFRAMES 8
#define MB_RING 8

static uint64_t mb_pool_mem[(MB_NFRAMES * 9 + 7) / 8];
static uint8_t mb_area[MB_NFRAMES * MB_FRAME];
static struct xdp_desc mb_rx_ring[MB_RING], mb_tx_ring[MB_RING];
static uint64_t mb_comp_ring[MB_RING];
static uint32_t mb_rx_prod, mb_rx_cons, mb_tx_prod, mb_tx_cons, mb_comp_prod, mb_comp_cons, mb_flags;

static void fake_mb_dev(struct xsk_dev *xd)
{
	memset(xd, 0, sizeof(*xd));
	xd->dev.ops = &xsk_dev_ops;
	xd->area = mb_area;
	xd->frame_size = MB_FRAME;
	xd->chunk_size = MB_CHUNK;
	xd->multi_buffer = true;
	xd->max_frame = 5000;
	xd->max_frame_tagged = 5004;
	xd->batch = 8;
	xd->comp_size = MB_RING;
	xd->fd = -1;
	xsk_pool_init(&xd->pool, mb_pool_mem, MB_NFRAMES, MB_FRAME);
	mb_rx_prod = mb_rx_cons = mb_tx_prod = mb_tx_cons = mb_comp_prod = mb_comp_cons = mb_flags = 0;
	xd->rx = (struct xsk_ring_cons){.mask = MB_RING - 1, .size = MB_RING, .producer = &mb_rx_prod,
				       .consumer = &mb_rx_cons, .ring = mb_rx_ring, .flags = &mb_flags};
	xd->tx = (struct xsk_ring_prod){.cached_cons = MB_RING, .mask = MB_RING - 1, .size = MB_RING,
				       .producer = &mb_tx_prod, .consumer = &mb_tx_cons, .ring = mb_tx_ring,
				       .flags = &mb_flags};
	xd->comp = (struct xsk_ring_cons){.mask = MB_RING - 1, .size = MB_RING, .producer = &mb_comp_prod,
					 .consumer = &mb_comp_cons, .ring = mb_comp_ring, .flags = &mb_flags};
}

/* The kernel hands a chain: descriptors at 256 into each chunk it took from the fill ring,
 * XDP_PKT_CONTD on all but the last. */
static void kernel_rx_chain(struct xsk_dev *xd, const uint32_t *lens, int n, uint8_t seed)
{
	uint8_t v = seed;

	for (int i = 0; i < n; i++) {
		uint64_t a = 0;

		assert_int_equal(xsk_pool_take(&xd->pool, &a, 1, XSK_FRAME_RX_KERNEL), 1);
		a += 256;
		for (uint32_t j = 0; j < lens[i]; j++)
			mb_area[a + j] = v++;
		mb_rx_ring[mb_rx_prod & (MB_RING - 1)] =
			(struct xdp_desc){.addr = a, .len = lens[i], .options = i + 1 < n ? XDP_PKT_CONTD : 0};
		__atomic_store_n(&mb_rx_prod, mb_rx_prod + 1, __ATOMIC_RELEASE);
	}
}

static void assert_pattern(const uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t j = 0; j < len; j++)
		assert_int_equal(p[j], (uint8_t)(seed + j));
}

/* A chain is copied into one frame, its chunks freed at once, even when it straddles two bursts;
 * one longer than the largest frame is dropped and counted, nothing leaking. */
static void test_rx_chain_linearized(void **state)
{
	static const uint32_t lens[] = {1792, 1792, 500};
	static const uint32_t too_long[] = {1792, 1792, 1792};
	struct dev_frame f[4];
	struct xsk_dev xd;
	(void)state;

	fake_mb_dev(&xd);
	kernel_rx_chain(&xd, lens, 3, 7);
	assert_int_equal(xsk_dev_ops.rx_burst(&xd.dev, f, 4, 0), 1);
	assert_int_equal(f[0].len, 4084);
	assert_pattern(f[0].data, 4084, 7);
	assert_int_equal(xd.st.rx_linearized, 1);
	assert_int_equal(xd.pool.count[XSK_FRAME_RX_HELD], 1);
	assert_int_equal(xd.pool.count[XSK_FRAME_RX_KERNEL], 0);
	xsk_dev_ops.rx_release(&xd.dev, f, 1);
	assert_int_equal(xd.pool.count[XSK_FRAME_FREE], MB_NFRAMES);

	kernel_rx_chain(&xd, lens, 3, 99);
	assert_int_equal(xsk_dev_ops.rx_burst(&xd.dev, f, 2, 0), 0); /* the chain's first two */
	assert_int_equal(xsk_dev_ops.rx_burst(&xd.dev, f, 2, 0), 1);
	assert_int_equal(f[0].len, 4084);
	assert_pattern(f[0].data, 4084, 99);
	xsk_dev_ops.rx_release(&xd.dev, f, 1);

	kernel_rx_chain(&xd, too_long, 3, 1); /* 5376 bytes: above max_frame_tagged */
	kernel_rx_chain(&xd, lens + 2, 1, 3); /* and a single-buffer frame after it */
	assert_int_equal(xsk_dev_ops.rx_burst(&xd.dev, f, 4, 0), 1);
	assert_int_equal(f[0].len, 500);
	assert_pattern(f[0].data, 500, 3);
	assert_int_equal(xd.st.rx_chain_dropped, 1);
	xsk_dev_ops.rx_release(&xd.dev, f, 1);
	assert_int_equal(xd.pool.count[XSK_FRAME_FREE], MB_NFRAMES);
	assert_int_equal(xd.st.rx_invalid, 0);
}

/* A frame beyond its first chunk goes as a chain of descriptors over its consecutive chunks, and
 * comes back free after the completions of all of them. */
static void test_tx_chain(void **state)
{
	struct dev_frame f;
	struct xsk_dev xd;
	(void)state;

	fake_mb_dev(&xd);
	assert_true(xsk_dev_ops.tx_reserve(&xd.dev, &f, 0));
	assert_int_equal(f.cap, 5004);
	f.len = 5000;
	xsk_dev_ops.tx_submit(&xd.dev, &f);
	assert_int_equal(xd.tx_unpublished, 3);
	assert_int_equal(mb_tx_ring[0].addr, f.handle);
	assert_int_equal(mb_tx_ring[0].len, MB_CHUNK);
	assert_int_equal(mb_tx_ring[0].options, XDP_PKT_CONTD);
	assert_int_equal(mb_tx_ring[1].addr, f.handle + MB_CHUNK);
	assert_int_equal(mb_tx_ring[1].options, XDP_PKT_CONTD);
	assert_int_equal(mb_tx_ring[2].addr, f.handle + 2 * MB_CHUNK);
	assert_int_equal(mb_tx_ring[2].len, 5000 - 2 * MB_CHUNK);
	assert_int_equal(mb_tx_ring[2].options, 0);
	assert_int_equal(xd.st.tx_chained, 1);
	for (int i = 0; i < 3; i++)
		mb_comp_ring[i] = mb_tx_ring[i].addr;
	__atomic_store_n(&mb_comp_prod, 3, __ATOMIC_RELEASE);
	assert_int_equal(xsk_dev_reclaim(&xd), 3);
	assert_int_equal(xd.pool.count[XSK_FRAME_FREE], MB_NFRAMES);
	assert_int_equal(xd.st.tx_invalid, 0);
	/* One chunk's worth is one descriptor, as without multi-buffer. */
	assert_true(xsk_dev_ops.tx_reserve(&xd.dev, &f, 0));
	f.len = MB_CHUNK;
	xsk_dev_ops.tx_submit(&xd.dev, &f);
	assert_int_equal(xd.tx_unpublished, 4);
	assert_int_equal(mb_tx_ring[3].len, MB_CHUNK);
	assert_int_equal(mb_tx_ring[3].options, 0);
	assert_int_equal(xd.st.tx_chained, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_after_bogus_completion),
		cmocka_unit_test(test_open_rejects_small_completion_ring),
		cmocka_unit_test(test_rx_chain_linearized),
		cmocka_unit_test(test_tx_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
