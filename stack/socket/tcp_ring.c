/* The byte rings behind each connection's send and receive buffers: fixed capacity given at init,
 * indices only move; out-of-order data is written past the readable end and committed later. */
#include "tcp_internal.h"

void tcp_ring_init(struct tcp_ring *r, uint8_t *buf, uint32_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
}

static uint32_t tcp_ring_pos(const struct tcp_ring *r, uint32_t off)
{
	uint32_t p = r->head + off;

	return p >= r->cap ? p - r->cap : p;
}

void tcp_ring_write_at(struct tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n)
{
	uint32_t p = tcp_ring_pos(r, off);
	uint32_t first = SMX_MIN(n, r->cap - p);

	memcpy(r->buf + p, data, first);
	if (n > first)
		memcpy(r->buf, data + first, n - first);
}

void tcp_ring_read_at(const struct tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
	uint32_t p = tcp_ring_pos(r, off);
	uint32_t first = SMX_MIN(n, r->cap - p);

	memcpy(out, r->buf + p, first);
	if (n > first)
		memcpy(out + first, r->buf, n - first);
}

void tcp_ring_consume(struct tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->head = tcp_ring_pos(r, n);
	r->len -= n;
}

uint32_t tcp_ring_read_span(const struct tcp_ring *r, uint8_t **p)
{
	*p = r->buf + r->head;
	return SMX_MIN(r->len, r->cap - r->head);
}

uint32_t tcp_ring_write_span(const struct tcp_ring *r, uint8_t **p)
{
	uint32_t tail;

	if (r->len == r->cap) {
		*p = r->buf;
		return 0;
	}
	tail = tcp_ring_pos(r, r->len);
	*p = r->buf + tail;
	return tail >= r->head ? r->cap - tail : r->head - tail;
}
