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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_after_bogus_completion),
		cmocka_unit_test(test_open_rejects_small_completion_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
