/* Log-linear RTT histogram: bucket index = shift * SUB + (v >> shift), where shift is how far v's top
 * bit lies above the sub-bucket bits, so small values are exact and large ones keep 7 bits of mantissa. */
#include "bench_hist.h"

#include <string.h>

static unsigned bucket_of(uint64_t v)
{
	unsigned msb = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
	unsigned shift = msb > BENCH_HIST_SUB_BITS ? msb - BENCH_HIST_SUB_BITS : 0;
	return shift * BENCH_HIST_SUB + (unsigned)(v >> shift);
}

/* The largest value that falls in bucket i. */
static uint64_t bucket_top(unsigned i)
{
	if (i < 2 * BENCH_HIST_SUB)
		return i;
	unsigned shift = i / BENCH_HIST_SUB - 1;
	uint64_t mant = i - shift * BENCH_HIST_SUB; /* in [SUB, 2*SUB) */
	return ((mant + 1) << shift) - 1;
}

void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void bench_hist_add(struct bench_hist *h, uint64_t value)
{
	h->buckets[bucket_of(value)]++;
	h->count++;
	h->sum += (double)value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	/* The rank of the sample at quantile q, 1-based: ceil(q * count), at least 1. */
	double r = q * (double)h->count;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t top = bucket_top(i);
			if (top > h->max)
				top = h->max;
			if (top < h->min)
				top = h->min;
			return top;
		}
	}
	return h->max;
}

void bench_hist_write_cdf(const struct bench_hist *h, FILE *out)
{
	uint64_t seen = 0;
	fprintf(out, "# rtt_us cumulative_fraction (%llu samples)\n", (unsigned long long)h->count);
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS && seen < h->count; i++) {
		if (!h->buckets[i])
			continue;
		seen += h->buckets[i];
		uint64_t top = bucket_top(i);
		if (top > h->max)
			top = h->max;
		fprintf(out, "%.3f %.6f\n", (double)top / 1000.0, (double)seen / (double)h->count);
	}
}
