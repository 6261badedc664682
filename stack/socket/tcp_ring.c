/* The byte rings behind each connection's send and receive buffers: a list of chunks from the pool,
 * grown as data is written and given back as it is consumed, at most `max` bytes. Out-of-order data
 * is written past the readable end (holes stay inside the chunks) and committed later. */
#include "tcp_internal.h"
#include "smolxdp/wire/checksum.h"

void tcp_ring_init(struct tcp_ring *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->first = r->last = r->cur = TCP_NIL;
	r->max = max;
}

/* cover follows chunks, promised and head: every function that moves one of them ends here. */
static void tcp_ring_sync(const struct tcp_pool *p, struct tcp_ring *r)
{
	uint64_t end = (uint64_t)(r->chunks + r->promised) << p->shift;

	r->cover = end > r->head ? (uint32_t)SMX_MIN(end - r->head, (uint64_t)UINT32_MAX) : 0;
}

uint32_t tcp_ring_free(const struct tcp_pool *p, const struct tcp_ring *r)
{
	uint64_t room = (uint64_t)tcp_ring_room(p, r) + ((uint64_t)tcp_pool_avail(p) << p->shift);
	uint32_t left = r->max > r->len ? r->max - r->len : 0;

	return (uint32_t)SMX_MIN(room, (uint64_t)left);
}

/* Chunk k of the list (k < chunks): the first or the last at once (the app reads at the one and
 * writes at the other), else from the cursor when it is at or before k (output reading on from where
 * it read last, input writing on from where it wrote). */
static uint32_t tcp_ring_chunk(struct tcp_pool *p, struct tcp_ring *r, uint32_t k)
{
	uint32_t c = r->first, i = 0;

	if (k == 0)
		return r->first;
	if (k + 1 == r->chunks)
		return r->last;
	if (r->cur != TCP_NIL && r->cur_k <= k) {
		c = r->cur;
		i = r->cur_k;
	}
	for (; i < k; i++)
		c = p->next[c];
	r->cur = c;
	r->cur_k = k;
	return c;
}

/* Draw chunks until the list covers `end` bytes from the start of the first (promised ones first,
 * then free ones, and the reserve's if reserve). */
static bool tcp_ring_cover(struct tcp_pool *p, struct tcp_ring *r, uint64_t end, bool reserve)
{
	uint64_t need = (end + p->size - 1) >> p->shift;

	if (need - SMX_MIN(need, (uint64_t)r->chunks) >
	    (uint64_t)r->promised + (reserve ? tcp_pool_avail_reserve(p) : tcp_pool_avail(p))) {
		p->short_count++;
		return false;
	}
	while (r->chunks < need) {
		uint32_t c = tcp_pool_take(p, r->promised > 0 ? TCP_TAKE_PROMISED :
					      reserve ? TCP_TAKE_RESERVE : TCP_TAKE_FREE);

		if (c == TCP_NIL) {
			tcp_ring_sync(p, r);
			return false;
		}
		if (r->promised > 0)
			r->promised--;
		if (r->last == TCP_NIL)
			r->first = c;
		else
			p->next[r->last] = c;
		r->last = c;
		r->chunks++;
	}
	tcp_ring_sync(p, r);
	return true;
}

bool tcp_ring_write_at(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n,
		       bool reserve)
{
	uint32_t pos = r->head + off;

	if (n == 0)
		return true;
	if (!tcp_ring_cover(p, r, (uint64_t)pos + n, reserve))
		return false;
	if (off + n > r->hi)
		r->hi = off + n;
	while (n > 0) {
		uint32_t in = pos & (p->size - 1);
		uint32_t step = SMX_MIN(n, p->size - in);

		memcpy(tcp_pool_chunk(p, tcp_ring_chunk(p, r, pos >> p->shift)) + in, data, step);
		data += step;
		pos += step;
		n -= step;
	}
	return true;
}

void tcp_ring_read_at(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t pos = r->head + off;

	while (n > 0) {
		uint32_t in = pos & (p->size - 1);
		uint32_t step = SMX_MIN(n, p->size - in);

		memcpy(out, tcp_pool_chunk(p, tcp_ring_chunk(p, r, pos >> p->shift)) + in, step);
		out += step;
		pos += step;
		n -= step;
	}
}

uint32_t tcp_ring_read_csum(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t pos = r->head + off, sum = 0, done = 0;

	while (done < n) {
		uint32_t in = pos & (p->size - 1);
		uint32_t step = SMX_MIN(n - done, p->size - in);
		uint32_t part = csum_copy(out + done, tcp_pool_chunk(p, tcp_ring_chunk(p, r, pos >> p->shift)) + in,
					  step);

		/* A piece after an odd number of bytes has its bytes in the other halves of the words. */
		sum += (done & 1) ? csum_odd(part) : csum_fold(part);
		done += step;
		pos += step;
	}
	return sum;
}

static void tcp_ring_drop_first(struct tcp_pool *p, struct tcp_ring *r)
{
	uint32_t c = r->first;

	r->first = p->next[c];
	if (r->first == TCP_NIL)
		r->last = TCP_NIL;
	tcp_pool_give(p, c);
	r->chunks--;
	if (r->cur == c || r->cur_k == 0)
		r->cur = TCP_NIL;
	else
		r->cur_k--;
}

void tcp_ring_consume(struct tcp_pool *p, struct tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->head += n;
	r->len -= n;
	r->hi -= n;
	while (r->chunks > 0 && r->head >= p->size) {
		tcp_ring_drop_first(p, r);
		r->head -= p->size;
	}
	if (r->hi == 0 && !r->span_out) {
		/* Drained: every chunk goes back (but the one under a span the app is writing into). */
		while (r->chunks > 0)
			tcp_ring_drop_first(p, r);
		r->head = 0;
	}
	tcp_ring_sync(p, r);
}

uint32_t tcp_ring_read_span(const struct tcp_pool *p, const struct tcp_ring *r, uint8_t **ptr)
{
	if (r->len == 0 || r->first == TCP_NIL) {
		*ptr = NULL;
		return 0;
	}
	*ptr = tcp_pool_chunk(p, r->first) + r->head;
	return SMX_MIN(r->len, p->size - r->head);
}

uint32_t tcp_ring_write_span(struct tcp_pool *p, struct tcp_ring *r, uint8_t **ptr)
{
	uint64_t end = (uint64_t)r->head + r->len;
	uint32_t in = (uint32_t)(end & (p->size - 1));
	uint32_t left = r->max > r->len ? r->max - r->len : 0;

	*ptr = NULL;
	if (left == 0 || !tcp_ring_cover(p, r, end + 1, false))
		return 0;
	*ptr = tcp_pool_chunk(p, tcp_ring_chunk(p, r, (uint32_t)(end >> p->shift))) + in;
	r->span_out = true;
	return SMX_MIN(left, p->size - in);
}

uint32_t tcp_ring_reserve(struct tcp_pool *p, struct tcp_ring *r, uint32_t want)
{
	uint64_t end = (uint64_t)r->head + r->hi;
	uint64_t need = ((uint64_t)r->head + r->len + want + p->size - 1) >> p->shift;
	uint64_t has = (uint64_t)r->chunks + r->promised;

	/* Never below what out-of-order data already holds. */
	need = SMX_MAX(need, (end + p->size - 1) >> p->shift);
	if (need > has) {
		uint32_t more = (uint32_t)SMX_MIN(need - has, (uint64_t)tcp_pool_avail(p));

		if (more < need - has)
			p->short_count++;
		r->promised += more;
		p->promised += more;
	} else {
		uint32_t less = (uint32_t)SMX_MIN(has - need, (uint64_t)r->promised);

		r->promised -= less;
		p->promised -= less;
	}
	tcp_ring_sync(p, r);
	return tcp_ring_room(p, r);
}

void tcp_ring_clear(struct tcp_pool *p, struct tcp_ring *r)
{
	uint32_t max = r->max;

	while (r->chunks > 0)
		tcp_ring_drop_first(p, r);
	p->promised -= r->promised;
	tcp_ring_init(r, max);
}

void tcp_ring_promise_taken(struct tcp_pool *p, struct tcp_ring *r)
{
	r->promised--;
	tcp_ring_sync(p, r);
}

void tcp_ring_promise_one(struct tcp_pool *p, struct tcp_ring *r)
{
	p->promised++;
	r->promised++;
	tcp_ring_sync(p, r);
}
