/* The benchmark histogram: quantiles agree with the exact order statistics of the samples to within
 * one bucket (0.8%), small values are exact, min/max/mean exact, merge equals adding everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench_hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* xorshift64*: a fixed, repeatable sequence. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_empty(void **state)
{
	static struct bench_hist h;
	bench_hist_init(&h);
	assert_int_equal(h.count, 0);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 0);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 0);
}

static void test_small_values_exact(void **state)
{
	static struct bench_hist h;
	bench_hist_init(&h);
	for (uint64_t v = 1; v <= 200; v++)
		bench_hist_add(&h, v);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 100);
	assert_int_equal(bench_hist_quantile(&h, 0.0), 1);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 198);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 200);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 200);
	assert_true(h.sum == 200.0 * 201.0 / 2.0);
}

static void test_quantiles_match_sorted_samples(void **state)
{
	enum { N = 100000 };
	static struct bench_hist h;
	static uint64_t v[N];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	bench_hist_init(&h);
	for (size_t i = 0; i < N; i++) {
		/* Spread over six decades, like RTTs from 1 us to 1 s in nanoseconds. */
		uint64_t r = rnd(&seed);
		v[i] = 1000u + (r % 1000u) * (1u << (r >> 60) % 20u);
		bench_hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	const double qs[] = { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999 };
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)(qs[i] * N + 0.999999); /* ceil, 1-based */
		uint64_t exact = v[rank - 1];
		uint64_t got = bench_hist_quantile(&h, qs[i]);
		/* The bucket's top: never below the true value, at most one bucket (1/128) above it. */
		assert_true(got >= exact);
		assert_true((double)got <= (double)exact * (1.0 + 1.0 / 128.0) + 1.0);
	}
	assert_int_equal(bench_hist_quantile(&h, 1.0), v[N - 1]);
	assert_int_equal(h.min, v[0]);
}

static void test_huge_values(void **state)
{
	static struct bench_hist h;
	bench_hist_init(&h);
	bench_hist_add(&h, UINT64_MAX);
	bench_hist_add(&h, 0);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 0);
	assert_true(bench_hist_quantile(&h, 1.0) == UINT64_MAX);
	assert_true(bench_hist_quantile(&h, 0.9) == UINT64_MAX);
}

static void test_merge(void **state)
{
	static struct bench_hist a, b, all;
	bench_hist_init(&a);
	bench_hist_init(&b);
	bench_hist_init(&all);
	for (uint64_t v = 0; v < 5000; v += 7) {
		bench_hist_add(v % 2 ? &a : &b, v * 13);
		bench_hist_add(&all, v * 13);
	}
	bench_hist_merge(&a, &b);
	assert_int_equal(a.count, all.count);
	assert_int_equal(a.min, all.min);
	assert_int_equal(a.max, all.max);
	for (double q = 0.05; q < 1.0; q += 0.05)
		assert_int_equal(bench_hist_quantile(&a, q), bench_hist_quantile(&all, q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_quantiles_match_sorted_samples),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
