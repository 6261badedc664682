/* The timer heap: one min-heap of connections keyed by their earliest deadline, so finding what is due
 * costs O(1) and re-arming O(log n) however many connections exist. Deadlines are armed lazily: a
 * deadline pushed later leaves the heap alone and the connection wakes early, finds nothing due and
 * re-arms (tcp_timer.c decides what fires). */
#include "tcp_internal.h"

static bool tcp_heap_less(const struct tcp_stack *s, uint32_t a, uint32_t b)
{
	return s->conns[s->heap[a]].timer_at < s->conns[s->heap[b]].timer_at;
}

static void tcp_heap_swap(struct tcp_stack *s, uint32_t a, uint32_t b)
{
	uint32_t t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->conns[s->heap[a]].heap_idx = a;
	s->conns[s->heap[b]].heap_idx = b;
}

static void tcp_heap_up(struct tcp_stack *s, uint32_t i)
{
	while (i > 0 && tcp_heap_less(s, i, (i - 1) / 2)) {
		tcp_heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void tcp_heap_down(struct tcp_stack *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->heap_len && tcp_heap_less(s, l, m))
			m = l;
		if (r < s->heap_len && tcp_heap_less(s, r, m))
			m = r;
		if (m == i)
			return;
		tcp_heap_swap(s, i, m);
		i = m;
	}
}

void tcp_timer_arm(struct tcp_stack *s, struct tcp_conn *c, smx_instant when)
{
	if (when == SMX_INSTANT_NEVER)
		return;
	if (c->flags & TCP_CF_HEAP) {
		if (when >= c->timer_at)
			return;
		c->timer_at = when;
		tcp_heap_up(s, c->heap_idx);
		return;
	}
	c->flags |= TCP_CF_HEAP;
	c->timer_at = when;
	c->heap_idx = s->heap_len;
	s->heap[s->heap_len++] = c->index;
	tcp_heap_up(s, c->heap_idx);
}

void tcp_timer_remove(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t i = c->heap_idx;

	if (!(c->flags & TCP_CF_HEAP))
		return;
	c->flags &= ~(uint32_t)TCP_CF_HEAP;
	s->heap_len--;
	if (i != s->heap_len) {
		s->heap[i] = s->heap[s->heap_len];
		s->conns[s->heap[i]].heap_idx = i;
		tcp_heap_down(s, i);
		tcp_heap_up(s, i);
	}
	c->timer_at = SMX_INSTANT_NEVER;
}
