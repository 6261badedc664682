/* The connection table: slots, the 4-tuple hash table (O(1) lookup for any number of
 * connections), listener lookup, and the intrusive lists that let output and the app find work
 * without scanning every connection. The bottom of the TCP files: lower layers raise work and
 * events here (tcp_conn_ready, tcp_conn_event), for output and the app to take. */
#include "tcp_internal.h"

/* ---- Intrusive lists ---- */

void tcp_list_push(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k, struct tcp_conn *c)
{
	c->link[k].prev = l->tail;
	c->link[k].next = TCP_NIL;
	if (l->tail != TCP_NIL)
		s->conns[l->tail].link[k].next = c->index;
	else
		l->head = c->index;
	l->tail = c->index;
	l->count++;
	c->on_lists |= (uint8_t)(1u << k);
}

void tcp_list_remove(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k, struct tcp_conn *c)
{
	struct tcp_link *lk = &c->link[k];

	if (!tcp_list_has(c, k))
		return;
	if (lk->prev != TCP_NIL)
		s->conns[lk->prev].link[k].next = lk->next;
	else
		l->head = lk->next;
	if (lk->next != TCP_NIL)
		s->conns[lk->next].link[k].prev = lk->prev;
	else
		l->tail = lk->prev;
	lk->prev = lk->next = TCP_NIL;
	l->count--;
	c->on_lists &= (uint8_t)~(1u << k);
}

struct tcp_conn *tcp_list_pop(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k)
{
	struct tcp_conn *c;

	if (l->head == TCP_NIL)
		return NULL;
	c = &s->conns[l->head];
	tcp_list_remove(s, l, k, c);
	return c;
}

/* The list a connection's AUX link is on. */
static struct tcp_list *tcp_aux_list(struct tcp_stack *s, struct tcp_conn *c)
{
	switch (c->aux_owner) {
	case TCP_AUX_FREE:
		return &s->lists[TCP_LIST_AUX];
	case TCP_AUX_ACCEPT:
		return &c->listener->accept_q;
	case TCP_AUX_TIME_WAIT:
		return &s->time_wait;
	case TCP_AUX_SYN_QUEUE:
		return &c->listener->syn_q;
	default:
		return NULL;
	}
}

static void tcp_aux_remove(struct tcp_stack *s, struct tcp_conn *c)
{
	struct tcp_list *l = tcp_aux_list(s, c);

	if (l)
		tcp_list_remove(s, l, TCP_LIST_AUX, c);
	c->aux_owner = TCP_AUX_NONE;
}

/* ---- Slots and the 4-tuple table ---- */

struct tcp_conn *tcp_conn_alloc(struct tcp_stack *s)
{
	struct tcp_conn *c = tcp_list_pop(s, &s->lists[TCP_LIST_AUX], TCP_LIST_AUX);

	if (!c) {
		/* Every slot is busy: a connection in TIME-WAIT only guards against old duplicates, so the
		 * oldest one yields its slot (as RFC 6191 lets TIME-WAIT yield to a new SYN). */
		c = s->time_wait.head != TCP_NIL ? &s->conns[s->time_wait.head] : NULL;
		if (!c || !(c->flags & TCP_CF_RELEASED))
			return NULL;
		s->stats.time_wait_recycled++;
		tcp_conn_free(s, c);
		c = tcp_list_pop(s, &s->lists[TCP_LIST_AUX], TCP_LIST_AUX);
	}
	c->aux_owner = TCP_AUX_NONE;
	c->flags = TCP_CF_IN_USE;
	if (s->cfg.nodelay_default)
		c->flags |= TCP_CF_NODELAY;
	if (s->cfg.no_sack)
		c->flags |= TCP_CF_NO_SACK;
	c->user_timeout = s->cfg.user_timeout;
	c->keep_idle = s->cfg.keepalive_idle;
	c->keep_interval = s->cfg.keepalive_interval;
	c->keep_count = (uint8_t)s->cfg.keepalive_count;
	c->connect_timeout = 0;
	c->mss_clamp = 0;
	c->cc = (uint8_t)s->cfg.cc;
	s->used++;
	return c;
}

static bool tcp_conn_matches(const struct tcp_conn *c, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
			     uint16_t rport)
{
	return c->local_port == lport && c->remote_port == rport && c->local_addr == laddr &&
	       c->remote_addr == raddr;
}

struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
				 uint16_t rport)
{
	uint32_t i = s->buckets[tcp_tuple_hash(s, laddr, lport, raddr, rport) & s->bucket_mask];

	while (i != TCP_NIL) {
		struct tcp_conn *c = &s->conns[i];

		if (tcp_conn_matches(c, laddr, lport, raddr, rport))
			return c;
		i = c->hash_next;
	}
	return NULL;
}

void tcp_conn_hash_insert(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t *b = &s->buckets[tcp_tuple_hash(s, c->local_addr, c->local_port, c->remote_addr,
						 c->remote_port) & s->bucket_mask];

	c->hash_next = *b;
	*b = c->index;
	c->flags |= TCP_CF_HASHED;
}

void tcp_conn_hash_remove(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t *p;

	if (!(c->flags & TCP_CF_HASHED))
		return;
	c->flags &= ~(uint32_t)TCP_CF_HASHED;
	p = &s->buckets[tcp_tuple_hash(s, c->local_addr, c->local_port, c->remote_addr,
						 c->remote_port) & s->bucket_mask];

	while (*p != TCP_NIL) {
		if (*p == c->index) {
			*p = c->hash_next;
			return;
		}
		p = &s->conns[*p].hash_next;
	}
}

void tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!(c->flags & TCP_CF_IN_USE))
		return;
	tcp_conn_hash_remove(s, c);
	tcp_list_remove(s, &s->lists[TCP_LIST_READY], TCP_LIST_READY, c);
	tcp_list_remove(s, &s->lists[TCP_LIST_EVENT], TCP_LIST_EVENT, c);
	tcp_list_remove(s, &s->lists[TCP_LIST_POOL], TCP_LIST_POOL, c);
	tcp_aux_remove(s, c);
	tcp_timer_remove(s, c);
	if (c->listener)
		c->listener->pending--;
	uint32_t index = c->index;

	/* Its buffers go back to the pool, promises too: no window is offered any more. */
	tcp_ranges_release(c);
	tcp_ring_clear(c->pool, &c->rx);
	tcp_ring_clear(c->pool, &c->tx);
	memset(c, 0, sizeof(*c));
	c->index = index;
	c->pool = &s->pool;
	tcp_ranges_init(c);
	for (int k = 0; k < TCP_LIST_KINDS; k++)
		c->link[k] = (struct tcp_link){ TCP_NIL, TCP_NIL };
	tcp_ring_init(&c->rx, s->cfg.rx_buf_size);
	tcp_ring_init(&c->tx, s->cfg.tx_buf_size);
	c->aux_owner = TCP_AUX_FREE;
	tcp_list_push(s, &s->lists[TCP_LIST_AUX], TCP_LIST_AUX, c);
	s->used--;
}

bool tcp_conn_valid(const struct tcp_stack *s, const struct tcp_conn *c)
{
	uintptr_t off;

	if (!s || !c || c < s->conns || c >= s->conns + s->cfg.max_conns)
		return false;
	off = (uintptr_t)c - (uintptr_t)s->conns;
	if (off % sizeof(struct tcp_conn) != 0)
		return false;
	return (c->flags & (TCP_CF_IN_USE | TCP_CF_RELEASED)) == TCP_CF_IN_USE;
}

void tcp_conn_set_aux(struct tcp_stack *s, struct tcp_conn *c, enum tcp_aux_owner owner)
{
	tcp_aux_remove(s, c);
	c->aux_owner = (uint8_t)owner;
	if (owner == TCP_AUX_ACCEPT)
		tcp_list_push(s, &c->listener->accept_q, TCP_LIST_AUX, c);
	else if (owner == TCP_AUX_TIME_WAIT)
		tcp_list_push(s, &s->time_wait, TCP_LIST_AUX, c);
	else if (owner == TCP_AUX_SYN_QUEUE)
		tcp_list_push(s, &c->listener->syn_q, TCP_LIST_AUX, c);
}

/* ---- Listeners ---- */

struct tcp_listener *tcp_listener_lookup(struct tcp_stack *s, ipv4_addr addr, uint16_t port)
{
	struct tcp_listener *any = NULL;

	for (uint32_t i = 0; i < s->cfg.max_listeners; i++) {
		struct tcp_listener *l = &s->listeners[i];

		if (!l->in_use || l->port != port)
			continue;
		if (l->addr == addr)
			return l;
		if (l->addr == 0)
			any = l;
	}
	return any;
}

/* ---- Work and event queues ---- */

void tcp_conn_ready(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!tcp_list_has(c, TCP_LIST_READY))
		tcp_list_push(s, &s->lists[TCP_LIST_READY], TCP_LIST_READY, c);
}

void tcp_conn_event(struct tcp_stack *s, struct tcp_conn *c, uint32_t flags)
{
	if (c->flags & TCP_CF_RELEASED)
		return;
	c->ev_flags |= flags;
	/* Not yet accepted: the app learns of it through the listener, and accept queues these. */
	if (c->listener)
		return;
	if (!tcp_list_has(c, TCP_LIST_EVENT))
		tcp_list_push(s, &s->lists[TCP_LIST_EVENT], TCP_LIST_EVENT, c);
}

void tcp_listener_event(struct tcp_stack *s, struct tcp_listener *l, uint32_t flags)
{
	l->ev_flags |= flags;
	if (l->ev_queued)
		return;
	uint32_t idx = (uint32_t)(l - s->listeners);

	l->ev_queued = true;
	l->ev_next = TCP_NIL;
	if (s->lev_tail != TCP_NIL)
		s->listeners[s->lev_tail].ev_next = idx;
	else
		s->lev_head = idx;
	s->lev_tail = idx;
}

void tcp_pool_wait(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!tcp_list_has(c, TCP_LIST_POOL))
		tcp_list_push(s, &s->lists[TCP_LIST_POOL], TCP_LIST_POOL, c);
}

void tcp_pool_wake(struct tcp_stack *s)
{
	uint32_t n = SMX_MIN(s->lists[TCP_LIST_POOL].count, tcp_pool_avail(&s->pool));

	while (n-- > 0) {
		struct tcp_conn *c = tcp_list_pop(s, &s->lists[TCP_LIST_POOL], TCP_LIST_POOL);

		tcp_conn_ready(s, c);
		if (c->flags & TCP_CF_POOL_TX) {
			c->flags &= ~(uint32_t)TCP_CF_POOL_TX;
			tcp_conn_event(s, c, TCP_EV_WRITABLE);
		}
	}
}
