/* RTT histogram for the benchmark tools: log-linear buckets (HDR-histogram-like, 128 sub-buckets per
 * power of two, so any reported percentile is within 0.8% of the true sample) in fixed memory, with the
 * exact minimum, maximum and mean kept beside it. Values are nanoseconds. */
#ifndef SMX_BENCH_HIST_H
#define SMX_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
/* shifts 0..56 cover every uint64_t; each shift owns SUB buckets past the first 2*SUB. */
#define BENCH_HIST_BUCKETS (57u * BENCH_HIST_SUB + BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t buckets[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t value);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* The value at quantile q (0..1): the upper edge of its bucket, capped by the exact maximum. 0 if empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
/* Writes "rtt_us cumulative_fraction" lines, one per non-empty bucket, for gnuplot. */
void bench_hist_write_cdf(const struct bench_hist *h, FILE *out);

#endif
