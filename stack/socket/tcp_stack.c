/* The TCP stack object: configuration, the memory layout carved at init, the listener and event
 * API, and the glue that plugs TCP into the interface (tcp_handler). The slots, the 4-tuple table
 * and the lists it lays out live in tcp_table.c. */
#include "smolxdp/mem.h"
#include "tcp_internal.h"

void tcp_config_default(struct tcp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 64;
	cfg->max_listeners = 8;
	cfg->rx_buf_size = 65535;
	cfg->tx_buf_size = 65536;
	cfg->ephemeral_min = 49152;
	cfg->ephemeral_max = 65535;
	cfg->rto_initial = 1000000;
	cfg->rto_min = 200000;
	cfg->rto_max = 60000000;
	cfg->delayed_ack = 40000;
	cfg->user_timeout = 300000000;
	cfg->time_wait = 60000000;
	cfg->fin_wait2_timeout = 60000000;
	cfg->keepalive_idle = 7200000000ull;
	cfg->keepalive_interval = 75000000;
	cfg->keepalive_count = 9;
	cfg->challenge_ack_limit = 100;
	cfg->nodelay_default = false;
	cfg->no_sack = false;
	cfg->cc = TCP_CC_CUBIC;
}

/* The chunk size: 4 KB, or the smallest power of two holding the larger of the default buffers. */
static uint32_t tcp_chunk_shift(const struct tcp_config *cfg)
{
	uint32_t shift = TCP_CHUNK_SHIFT, most = SMX_MAX(cfg->rx_buf_size, cfg->tx_buf_size);

	while (shift > TCP_CHUNK_MIN_SHIFT && (1u << (shift - 1)) >= most)
		shift--;
	return shift;
}

/* The pool's chunks: buf_pool_size rounded up, or every connection's buffers full both ways and the
 * reserve for in-order data into empty buffers (tcp_internal.h). */
static uint64_t tcp_pool_chunks(const struct tcp_config *cfg)
{
	uint32_t shift = tcp_chunk_shift(cfg);
	uint64_t mask = (1ull << shift) - 1;

	if (cfg->buf_pool_size)
		return (cfg->buf_pool_size + mask) >> shift;
	return (uint64_t)cfg->max_conns *
	       (((cfg->rx_buf_size + mask) >> shift) + ((cfg->tx_buf_size + mask) >> shift)) + TCP_POOL_RESERVE;
}

static bool tcp_config_valid(const struct tcp_config *cfg)
{
	return cfg->max_conns > 0 && cfg->max_conns < (1u << 24) && cfg->rx_buf_size > 0 &&
	       cfg->rx_buf_size < (1u << 30) && cfg->tx_buf_size > 0 && cfg->tx_buf_size < (1u << 30) &&
	       cfg->ephemeral_min > 0 && cfg->ephemeral_min <= cfg->ephemeral_max && cfg->rto_min > 0 &&
	       cfg->rto_initial >= cfg->rto_min && cfg->rto_max >= cfg->rto_initial &&
	       cfg->rto_max <= 0xffffffffu && cfg->keepalive_count < 255 &&
	       (cfg->mss == 0 || cfg->mss >= 64) && (unsigned)cfg->cc < TCP_CC_COUNT &&
	       tcp_pool_chunks(cfg) < TCP_NIL &&
	       (uint64_t)(size_t)(tcp_pool_chunks(cfg) << TCP_CHUNK_SHIFT) ==
		       tcp_pool_chunks(cfg) << TCP_CHUNK_SHIFT;
}

static uint32_t tcp_bucket_count(uint32_t max_conns)
{
	uint32_t n = 16;

	while (n < max_conns)
		n <<= 1;
	return n;
}

/* One walk both measures (base NULL) and lays out. */
static struct tcp_stack *tcp_carve(struct smx_carve *cv, const struct tcp_config *cfg, uint8_t **chunks,
				   uint32_t **links)
{
	uint32_t nchunks = (uint32_t)tcp_pool_chunks(cfg);
	uint32_t nb = tcp_bucket_count(cfg->max_conns);
	struct tcp_stack *s = smx_carve_take(cv, sizeof(struct tcp_stack));
	struct tcp_conn *conns = smx_carve_take(cv, sizeof(struct tcp_conn) * cfg->max_conns);
	struct tcp_listener *ls = smx_carve_take(cv, sizeof(struct tcp_listener) * (cfg->max_listeners + 1));
	uint32_t *buckets = smx_carve_take(cv, sizeof(uint32_t) * nb);
	uint32_t *heap = smx_carve_take(cv, sizeof(uint32_t) * cfg->max_conns);

	*links = smx_carve_take(cv, sizeof(uint32_t) * nchunks);
	/* Last: tcp_mem_usage's `fixed` is everything before it. */
	*chunks = smx_carve_take(cv, (size_t)nchunks << tcp_chunk_shift(cfg));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->conns = conns;
	s->listeners = ls;
	s->buckets = buckets;
	s->bucket_mask = nb - 1;
	s->heap = heap;
	return s;
}

size_t tcp_mem_size(const struct tcp_config *cfg)
{
	struct smx_carve cv;
	uint8_t *chunks;
	uint32_t *links;

	if (!cfg || !tcp_config_valid(cfg))
		return 0;
	smx_carve_start(&cv, NULL);
	tcp_carve(&cv, cfg, &chunks, &links);
	return smx_carve_total(&cv);
}

void tcp_mem_usage(const struct tcp_stack *s, struct tcp_mem_usage *u)
{
	const struct tcp_pool *p = &s->pool;

	memset(u, 0, sizeof(*u));
	u->total = tcp_mem_size(&s->cfg);
	u->chunk_size = p->size;
	u->pool = (size_t)p->count << p->shift;
	u->fixed = u->total - u->pool;
	u->per_conn_fixed = u->fixed / s->cfg.max_conns;
	u->pool_in_use = (size_t)(p->count - p->free) << p->shift;
	u->pool_promised = (size_t)p->promised << p->shift;
	u->pool_peak = (size_t)(p->count - p->low) << p->shift;
	u->pool_short = p->short_count;
}

struct tcp_stack *tcp_init(void *mem, size_t len, const struct tcp_config *cfg)
{
	struct smx_carve cv;
	struct tcp_stack *s;
	uint8_t *chunks;
	uint32_t *links;

	if (!mem || !cfg || !tcp_config_valid(cfg) || len < tcp_mem_size(cfg))
		return NULL;
	smx_carve_start(&cv, mem);
	s = tcp_carve(&cv, cfg, &chunks, &links);
	s->cfg = *cfg;
	tcp_pool_init(&s->pool, chunks, links, (uint32_t)tcp_pool_chunks(cfg), tcp_chunk_shift(cfg));
	for (int k = 0; k < TCP_LIST_KINDS; k++)
		s->lists[k] = (struct tcp_list){ TCP_NIL, TCP_NIL, 0 };
	s->time_wait = (struct tcp_list){ TCP_NIL, TCP_NIL, 0 };
	s->lev_head = s->lev_tail = TCP_NIL;
	memset(s->buckets, 0xff, sizeof(uint32_t) * (s->bucket_mask + 1));
	memset(s->listeners, 0, sizeof(struct tcp_listener) * (cfg->max_listeners + 1));
	for (uint32_t i = 0; i < cfg->max_conns; i++) {
		struct tcp_conn *c = &s->conns[i];

		memset(c, 0, sizeof(*c));
		c->index = i;
		for (int k = 0; k < TCP_LIST_KINDS; k++)
			c->link[k] = (struct tcp_link){ TCP_NIL, TCP_NIL };
		c->pool = &s->pool;
		tcp_ranges_init(c);
		tcp_ring_init(&c->rx, cfg->rx_buf_size);
		tcp_ring_init(&c->tx, cfg->tx_buf_size);
		c->aux_owner = TCP_AUX_FREE;
		tcp_list_push(s, &s->lists[TCP_LIST_AUX], TCP_LIST_AUX, c);
	}
	return s;
}

static void tcp_listener_event_remove(struct tcp_stack *s, struct tcp_listener *l)
{
	uint32_t idx = (uint32_t)(l - s->listeners), prev = TCP_NIL;

	if (!l->ev_queued)
		return;
	for (uint32_t i = s->lev_head; i != TCP_NIL; prev = i, i = s->listeners[i].ev_next) {
		if (i != idx)
			continue;
		if (prev == TCP_NIL)
			s->lev_head = l->ev_next;
		else
			s->listeners[prev].ev_next = l->ev_next;
		if (s->lev_tail == idx)
			s->lev_tail = prev;
		break;
	}
	l->ev_queued = false;
}

bool tcp_next_event(struct tcp_stack *s, struct tcp_event *ev)
{
	if (s->lev_head != TCP_NIL) {
		struct tcp_listener *l = &s->listeners[s->lev_head];

		tcp_listener_event_remove(s, l);
		*ev = (struct tcp_event){ NULL, l, l->user, l->ev_flags };
		l->ev_flags = 0;
		return true;
	}
	struct tcp_conn *c = tcp_list_pop(s, &s->lists[TCP_LIST_EVENT], TCP_LIST_EVENT);

	if (!c)
		return false;
	*ev = (struct tcp_event){ c, NULL, c->user, c->ev_flags };
	c->ev_flags = 0;
	return true;
}

/* ---- Listener API ---- */

struct tcp_listener *tcp_listen(struct tcp_stack *s, ipv4_addr addr, uint16_t port, uint32_t backlog,
				void *user, enum tcp_result *err)
{
	struct tcp_listener *free_l = NULL;
	enum tcp_result e = TCP_OK;

	if (!s || port == 0 || backlog == 0) {
		e = TCP_ERR_INVALID;
		goto out;
	}
	for (uint32_t i = 0; i < s->cfg.max_listeners; i++) {
		struct tcp_listener *l = &s->listeners[i];

		if (l->in_use && l->port == port && (l->addr == addr || l->addr == 0 || addr == 0)) {
			e = TCP_ERR_ADDR_IN_USE;
			goto out;
		}
		if (!l->in_use && !free_l)
			free_l = l;
	}
	if (!free_l) {
		e = TCP_ERR_NO_MEMORY;
		goto out;
	}
	memset(free_l, 0, sizeof(*free_l));
	free_l->in_use = true;
	free_l->addr = addr;
	free_l->port = port;
	free_l->backlog = backlog;
	free_l->user = user;
	free_l->accept_q = (struct tcp_list){ TCP_NIL, TCP_NIL, 0 };
	free_l->syn_q = (struct tcp_list){ TCP_NIL, TCP_NIL, 0 };
	free_l->ev_next = TCP_NIL;
out:
	if (err)
		*err = e;
	return e == TCP_OK ? free_l : NULL;
}

static bool tcp_listener_valid(const struct tcp_stack *s, const struct tcp_listener *l)
{
	return s && l && l >= s->listeners && l < s->listeners + s->cfg.max_listeners && l->in_use;
}

void tcp_listener_close(struct tcp_stack *s, struct tcp_listener *l)
{
	if (!tcp_listener_valid(s, l))
		return;
	/* Connections not yet accepted belong to the listener: reset them (RFC 9293 3.10.5 ABORT). */
	for (uint32_t i = 0; i < s->cfg.max_conns && l->pending > 0; i++) {
		struct tcp_conn *c = &s->conns[i];

		if ((c->flags & TCP_CF_IN_USE) && c->listener == l) {
			tcp_conn_set_aux(s, c, TCP_AUX_NONE);
			c->listener = NULL;
			l->pending--;
			c->flags |= TCP_CF_RELEASED | TCP_CF_SEND_RST;
			tcp_conn_ready(s, c);
		}
	}
	tcp_listener_event_remove(s, l);
	l->in_use = false;
}

struct tcp_conn *tcp_accept(struct tcp_stack *s, struct tcp_listener *l)
{
	struct tcp_conn *c;

	if (!tcp_listener_valid(s, l))
		return NULL;
	c = tcp_list_pop(s, &l->accept_q, TCP_LIST_AUX);
	if (!c)
		return NULL;
	c->aux_owner = TCP_AUX_NONE;
	c->listener = NULL;
	l->pending--;
	c->user = NULL;
	/* What happened before the app had it (data, FIN, reset) is reported now. */
	if (c->ev_flags)
		tcp_conn_event(s, c, 0);
	return c;
}

/* ---- Plugging into the interface ---- */

/* TCP keeps no views: a segment's payload is copied into the connection's ring as it arrives. */
static enum l4_rx tcp_h_input(void *ctx, smx_instant now, const struct ipv4_repr *ip, const uint8_t *l4,
			      size_t len, enum wire_csum csum, const struct ip_sender *tx)
{
	tcp_input(ctx, now, ip, l4, len, csum, tx);
	return L4_RX_DONE; /* a closed port is answered by tcp_input itself, with a RST */
}

static bool tcp_h_output(void *ctx, smx_instant now, const struct ip_sender *tx)
{
	return tcp_output(ctx, now, tx);
}

static smx_instant tcp_h_poll_at(void *ctx, smx_instant now)
{
	return tcp_poll_at(ctx, now);
}

static bool tcp_h_icmp_error(void *ctx, smx_instant now, const struct icmpv4_repr *icmp)
{
	tcp_icmp_error(ctx, now, icmp);
	return true; /* counted in tcp_stats.icmp_errors, whether or not a connection matched */
}

void tcp_handler(struct tcp_stack *s, struct l4_handler *h)
{
	*h = (struct l4_handler){
		.ctx = s,
		.input = tcp_h_input,
		.output = tcp_h_output,
		.poll_at = tcp_h_poll_at,
		.icmp_error = tcp_h_icmp_error,
	};
}

const struct tcp_stats *tcp_stack_stats(const struct tcp_stack *s)
{
	return &s->stats;
}

uint32_t tcp_conn_count(const struct tcp_stack *s)
{
	return s->used;
}
