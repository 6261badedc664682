/* The pool every connection's buffers are drawn from: fixed-size chunks laid out at init, a free list
 * through a link per chunk, and a count of chunks promised to the receive windows of buffers holding
 * data, so that what arrives within such a window has a place (RFC 9293 3.8.6: the right edge
 * offered is never taken back; tcp_rcvbuf.c says why empty buffers promise nothing). No allocation
 * after init: an empty pool gives TCP_NIL. */
#include "tcp_internal.h"

void tcp_pool_init(struct tcp_pool *p, uint8_t *mem, uint32_t *next, uint32_t count, uint32_t shift)
{
	memset(p, 0, sizeof(*p));
	p->shift = shift;
	p->size = 1u << shift;
	p->mem = mem;
	p->next = next;
	p->count = count;
	p->free = count;
	p->reserve = SMX_MIN(TCP_POOL_RESERVE, count / 4);
	p->low = count;
	p->free_head = count > 0 ? 0 : TCP_NIL;
	for (uint32_t i = 0; i < count; i++)
		next[i] = i + 1 < count ? i + 1 : TCP_NIL;
}

uint32_t tcp_pool_take(struct tcp_pool *p, enum tcp_take from)
{
	uint32_t c = p->free_head;

	if (from == TCP_TAKE_PROMISED) {
		if (p->promised == 0 || c == TCP_NIL)
			return TCP_NIL; /* a promise without a chunk behind it: a bug, but never a crash */
		p->promised--;
	} else if ((from == TCP_TAKE_RESERVE ? tcp_pool_avail_reserve(p) : tcp_pool_avail(p)) == 0) {
		p->short_count++;
		return TCP_NIL;
	}
	p->free_head = p->next[c];
	p->next[c] = TCP_NIL;
	p->free--;
	if (p->free - p->promised < p->low)
		p->low = p->free - p->promised;
	return c;
}

void tcp_pool_give(struct tcp_pool *p, uint32_t chunk)
{
	p->next[chunk] = p->free_head;
	p->free_head = chunk;
	p->free++;
}
