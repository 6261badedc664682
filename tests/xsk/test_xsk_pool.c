/* The UMEM frame pool: every frame is in exactly one state, the counts add up, and frames given
 * back twice, never lent, or from outside the UMEM are refused without corrupting the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "xsk_pool.h"

#define NFRAMES 64
#define FRAME 4096

static uint64_t mem[(NFRAMES * 9 + 7) / 8];

static void check_invariants(const struct xsk_pool *p)
{
	uint32_t by_state[XSK_FRAME_NSTATES] = { 0 };
	uint32_t i, total = 0;

	for (i = 0; i < p->nframes; i++)
		by_state[p->state[i]]++;
	for (i = 0; i < XSK_FRAME_NSTATES; i++) {
		assert_int_equal(by_state[i], p->count[i]);
		total += p->count[i];
	}
	assert_int_equal(total, p->nframes);
	assert_int_equal(p->nfree, p->count[XSK_FRAME_FREE]);
	/* Every free-list entry is a distinct free frame base. */
	for (i = 0; i < p->nfree; i++) {
		assert_int_equal(p->free[i] & ((1u << p->frame_shift) - 1), 0);
		assert_int_equal(p->state[p->free[i] >> p->frame_shift], XSK_FRAME_FREE);
		for (uint32_t j = i + 1; j < p->nfree; j++)
			assert_true(p->free[i] != p->free[j]);
	}
}

static void test_init(void **state)
{
	struct xsk_pool p;

	(void)state;
	assert_true(xsk_pool_mem_size(NFRAMES) <= sizeof(mem));
	xsk_pool_init(&p, mem, NFRAMES, FRAME);
	assert_int_equal(p.nfree, NFRAMES);
	assert_int_equal(p.frame_shift, 12);
	check_invariants(&p);
}

static void test_take_all_then_empty(void **state)
{
	struct xsk_pool p;
	uint64_t a[NFRAMES + 4];

	(void)state;
	xsk_pool_init(&p, mem, NFRAMES, FRAME);
	assert_int_equal(xsk_pool_take(&p, a, 10, XSK_FRAME_RX_KERNEL), 10);
	assert_int_equal(a[0], 0); /* frames come from the start of the UMEM */
	assert_int_equal(xsk_pool_take(&p, a + 10, NFRAMES, XSK_FRAME_TX_HELD), NFRAMES - 10);
	assert_int_equal(xsk_pool_take(&p, a, 1, XSK_FRAME_TX_HELD), 0);
	assert_int_equal(p.count[XSK_FRAME_RX_KERNEL], 10);
	assert_int_equal(p.count[XSK_FRAME_TX_HELD], NFRAMES - 10);
	check_invariants(&p);
}

static void test_lifecycle_rx_and_tx(void **state)
{
	struct xsk_pool p;
	uint64_t a = 0;

	(void)state;
	xsk_pool_init(&p, mem, NFRAMES, FRAME);
	/* RX: fill -> received (with the kernel's headroom offset) -> released. */
	xsk_pool_take(&p, &a, 1, XSK_FRAME_RX_KERNEL);
	assert_true(xsk_pool_move(&p, a + 256, XSK_FRAME_RX_KERNEL, XSK_FRAME_RX_HELD));
	check_invariants(&p);
	assert_true(xsk_pool_move(&p, a + 256, XSK_FRAME_RX_HELD, XSK_FRAME_FREE));
	check_invariants(&p);
	/* TX: reserved -> submitted -> completed. */
	xsk_pool_take(&p, &a, 1, XSK_FRAME_TX_HELD);
	assert_true(xsk_pool_move(&p, a, XSK_FRAME_TX_HELD, XSK_FRAME_TX_KERNEL));
	assert_true(xsk_pool_move(&p, a, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE));
	check_invariants(&p);
	/* Forward in place: received -> sent from its own buffer. */
	xsk_pool_take(&p, &a, 1, XSK_FRAME_RX_KERNEL);
	assert_true(xsk_pool_move(&p, a, XSK_FRAME_RX_KERNEL, XSK_FRAME_RX_HELD));
	assert_true(xsk_pool_move(&p, a + 300, XSK_FRAME_RX_HELD, XSK_FRAME_TX_KERNEL));
	assert_true(xsk_pool_move(&p, a + 300, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE));
	assert_int_equal(p.nfree, NFRAMES);
	check_invariants(&p);
}

static void test_refuses_bad_moves(void **state)
{
	struct xsk_pool p;
	uint64_t a = 0;

	(void)state;
	xsk_pool_init(&p, mem, NFRAMES, FRAME);
	xsk_pool_take(&p, &a, 1, XSK_FRAME_RX_HELD);
	assert_true(xsk_pool_move(&p, a, XSK_FRAME_RX_HELD, XSK_FRAME_FREE));
	/* Released twice. */
	assert_false(xsk_pool_move(&p, a, XSK_FRAME_RX_HELD, XSK_FRAME_FREE));
	/* A free frame cannot be "moved" from free (only taken). */
	assert_false(xsk_pool_move(&p, a, XSK_FRAME_FREE, XSK_FRAME_TX_KERNEL));
	/* Outside the UMEM. */
	assert_false(xsk_pool_move(&p, (uint64_t)NFRAMES * FRAME, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE));
	assert_false(xsk_pool_move(&p, UINT64_MAX, XSK_FRAME_TX_KERNEL, XSK_FRAME_FREE));
	/* Wrong state: a TX-held frame is not an RX frame. */
	xsk_pool_take(&p, &a, 1, XSK_FRAME_TX_HELD);
	assert_false(xsk_pool_move(&p, a, XSK_FRAME_RX_HELD, XSK_FRAME_FREE));
	assert_int_equal(p.nfree, NFRAMES - 1);
	check_invariants(&p);
}

static void test_random_walk(void **state)
{
	struct xsk_pool p;
	uint64_t held[NFRAMES];
	uint8_t st[NFRAMES];
	uint32_t n = 0;
	unsigned int seed = 12345;
	int step;

	(void)state;
	xsk_pool_init(&p, mem, NFRAMES, 2048);
	for (step = 0; step < 20000; step++) {
		uint32_t r = (uint32_t)rand_r(&seed);

		if (r % 3 == 0 && n < NFRAMES) {
			if (xsk_pool_take(&p, &held[n], 1, XSK_FRAME_RX_KERNEL) == 1)
				st[n++] = XSK_FRAME_RX_KERNEL;
		} else if (n > 0) {
			uint32_t i = r % n;
			enum xsk_frame_state to = st[i] == XSK_FRAME_RX_KERNEL ? XSK_FRAME_RX_HELD :
						  st[i] == XSK_FRAME_RX_HELD ? XSK_FRAME_TX_KERNEL :
									       XSK_FRAME_FREE;

			assert_true(xsk_pool_move(&p, held[i] + r % 2048, st[i], to));
			if (to == XSK_FRAME_FREE) {
				held[i] = held[n - 1];
				st[i] = st[n - 1];
				n--;
			} else {
				st[i] = (uint8_t)to;
			}
		}
		if (step % 1000 == 0)
			check_invariants(&p);
	}
	check_invariants(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_take_all_then_empty),
		cmocka_unit_test(test_lifecycle_rx_and_tx),
		cmocka_unit_test(test_refuses_bad_moves),
		cmocka_unit_test(test_random_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
