/* The application's side of TCP (RFC 9293 3.9.1 user calls): OPEN (connect, listen/accept), SEND,
 * RECEIVE, CLOSE (shutdown, close), ABORT, and the options and counters an app can read. Nothing
 * here sends: calls put the connection on the ready list and the next output does the work. */
#include "tcp_internal.h"

static bool tcp_port_taken(struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
			   uint16_t rport)
{
	return tcp_conn_lookup(s, laddr, lport, raddr, rport) || tcp_listener_lookup(s, laddr, lport);
}

/* RFC 6056 3.3.3, algorithm 3: start from a keyed hash of the destination so each peer sees its own
 * unpredictable sequence, and step a shared counter past ports already in use. */
static uint16_t tcp_pick_port(struct tcp_stack *s, ipv4_addr laddr, ipv4_addr raddr, uint16_t rport)
{
	uint32_t num = (uint32_t)s->cfg.ephemeral_max - s->cfg.ephemeral_min + 1;
	uint32_t offset = tcp_port_offset(s, laddr, raddr, rport);

	for (uint32_t count = 0; count < num; count++) {
		uint16_t port = (uint16_t)(s->cfg.ephemeral_min + (offset + s->port_counter) % num);

		s->port_counter++;
		if (!tcp_port_taken(s, laddr, port, raddr, rport))
			return port;
	}
	return 0;
}

struct tcp_conn *tcp_connect(struct tcp_stack *s, const struct tcp_connect_opts *o, enum tcp_result *err)
{
	struct tcp_conn *c = NULL;
	enum tcp_result e = TCP_OK;
	uint16_t lport;

	if (!s || !o || !tcp_addr_unicast(o->local_addr) || !tcp_addr_unicast(o->remote_addr) ||
	    o->remote_port == 0) {
		e = TCP_ERR_INVALID;
		goto out;
	}
	lport = o->local_port;
	if (lport == 0) {
		lport = tcp_pick_port(s, o->local_addr, o->remote_addr, o->remote_port);
		if (lport == 0) {
			e = TCP_ERR_NO_PORT;
			goto out;
		}
	} else if (tcp_conn_lookup(s, o->local_addr, lport, o->remote_addr, o->remote_port)) {
		e = TCP_ERR_ADDR_IN_USE;
		goto out;
	}
	c = tcp_conn_alloc(s);
	if (!c) {
		e = TCP_ERR_NO_MEMORY;
		goto out;
	}
	c->local_addr = o->local_addr;
	c->local_port = lport;
	c->remote_addr = o->remote_addr;
	c->remote_port = o->remote_port;
	c->user = o->user;
	c->iss = tcp_isn(s, c->local_addr, c->local_port, c->remote_addr, c->remote_port, s->now);
	tcp_conn_setup(s, c);
	c->rcv_mss = s->cfg.mss ? s->cfg.mss : (uint16_t)tcp_mss_for_mtu(TCP_ASSUMED_MTU);
	tcp_set_state(s, c, TCP_SYN_SENT);
	tcp_conn_hash_insert(s, c);
	tcp_conn_ready(s, c);
out:
	if (err)
		*err = e;
	return c;
}

static bool tcp_can_send(const struct tcp_conn *c)
{
	return !(c->flags & TCP_CF_FIN_QUEUED) &&
	       (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED || c->state == TCP_ESTABLISHED ||
		c->state == TCP_CLOSE_WAIT);
}

/* A send found no room: if the pool, not the connection's maximum, was short, WRITABLE comes once
 * chunks are free again (an ACK of its own data may never come: it may have none in flight). */
static void tcp_send_short(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->tx.len < c->tx.max && tcp_pool_avail(c->pool) == 0) {
		c->flags |= TCP_CF_POOL_TX;
		tcp_pool_wait(s, c);
	}
}

size_t tcp_send(struct tcp_stack *s, struct tcp_conn *c, const void *data, size_t len)
{
	uint32_t n;

	if (!tcp_conn_valid(s, c) || !tcp_can_send(c))
		return 0;
	n = (uint32_t)SMX_MIN(len, (size_t)tcp_ring_free(c->pool, &c->tx));
	if (n < len)
		tcp_send_short(s, c);
	if (n == 0 || !tcp_ring_write_at(c->pool, &c->tx, c->tx.len, data, n, false))
		return 0;
	tcp_ring_commit(&c->tx, n);
	tcp_conn_ready(s, c);
	return n;
}

size_t tcp_send_buf(struct tcp_stack *s, struct tcp_conn *c, uint8_t **span)
{
	uint32_t n;

	*span = NULL;
	if (!tcp_conn_valid(s, c) || !tcp_can_send(c))
		return 0;
	n = tcp_ring_write_span(c->pool, &c->tx, span);
	if (n == 0)
		tcp_send_short(s, c);
	return n;
}

void tcp_send_commit(struct tcp_stack *s, struct tcp_conn *c, size_t n)
{
	uint8_t *span;

	if (!tcp_conn_valid(s, c) || !tcp_can_send(c))
		return;
	n = SMX_MIN(n, (size_t)tcp_ring_write_span(c->pool, &c->tx, &span));
	if (n == 0)
		return;
	tcp_ring_commit(&c->tx, (uint32_t)n);
	tcp_conn_ready(s, c);
}

/* After the app consumed n bytes: the buffer's size follows the rate it reads at, and a window
 * update goes out once it is worth one (RFC 9293 3.8.6.2.2). */
static void tcp_rx_consumed(struct tcp_stack *s, struct tcp_conn *c, uint32_t n)
{
	tcp_rcvbuf_read(c, n, s->now);
	if (tcp_state_synchronized(c->state) && tcp_rcv_window_opens(c))
		tcp_conn_ready(s, c);
}

size_t tcp_recv(struct tcp_stack *s, struct tcp_conn *c, void *buf, size_t cap)
{
	uint32_t n;

	if (!tcp_conn_valid(s, c))
		return 0;
	n = (uint32_t)SMX_MIN(cap, (size_t)c->rx.len);
	if (n == 0)
		return 0;
	tcp_ring_read_at(c->pool, &c->rx, 0, buf, n);
	tcp_ring_consume(c->pool, &c->rx, n);
	tcp_rx_consumed(s, c, n);
	return n;
}

size_t tcp_recv_peek(struct tcp_stack *s, struct tcp_conn *c, const uint8_t **span)
{
	uint8_t *p;
	uint32_t n;

	*span = NULL;
	if (!tcp_conn_valid(s, c))
		return 0;
	n = tcp_ring_read_span(c->pool, &c->rx, &p);
	*span = p;
	return n;
}

void tcp_recv_consume(struct tcp_stack *s, struct tcp_conn *c, size_t n)
{
	if (!tcp_conn_valid(s, c))
		return;
	n = SMX_MIN(n, (size_t)c->rx.len);
	tcp_ring_consume(c->pool, &c->rx, (uint32_t)n);
	tcp_rx_consumed(s, c, (uint32_t)n);
}

size_t tcp_recv_avail(const struct tcp_conn *c)
{
	return c->rx.len;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
	return tcp_can_send(c) ? tcp_ring_free(c->pool, &c->tx) : 0;
}

bool tcp_eof(const struct tcp_conn *c)
{
	return c->rx.len == 0 && ((c->flags & TCP_CF_FIN_RCVD) || c->state == TCP_CLOSED);
}

/* RFC 9293 3.10.4 CLOSE, as a half-close: the FIN follows the queued data. */
enum tcp_result tcp_shutdown(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!tcp_conn_valid(s, c))
		return TCP_ERR_INVALID;
	if (c->flags & TCP_CF_FIN_QUEUED)
		return TCP_OK;
	switch (c->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		/* Queued until the connection is established. */
		break;
	case TCP_ESTABLISHED:
		tcp_set_state(s, c, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(s, c, TCP_LAST_ACK);
		break;
	default:
		return TCP_ERR_STATE;
	}
	c->flags |= TCP_CF_FIN_QUEUED;
	c->snd_fin_seq = tcp_snd_data_seq(c) + c->tx.len;
	tcp_conn_ready(s, c);
	return TCP_OK;
}

static void tcp_release(struct tcp_stack *s, struct tcp_conn *c)
{
	c->flags |= TCP_CF_RELEASED;
	c->ev_flags = 0;
	c->user = NULL;
	tcp_list_remove(s, &s->lists[TCP_LIST_EVENT], TCP_LIST_EVENT, c);
}

void tcp_abort(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!tcp_conn_valid(s, c))
		return;
	tcp_release(s, c);
	/* RFC 9293 3.10.5: a reset for a synchronized connection; otherwise the TCB just goes. */
	if (c->state == TCP_SYN_RECEIVED || (tcp_state_synchronized(c->state) && c->state != TCP_TIME_WAIT))
		c->flags |= TCP_CF_SEND_RST;
	tcp_ring_clear(c->pool, &c->tx);
	tcp_ring_clear(c->pool, &c->rx);
	tcp_conn_terminate(s, c, TCP_ERROR_NONE);
}

void tcp_close(struct tcp_stack *s, struct tcp_conn *c)
{
	if (!tcp_conn_valid(s, c))
		return;
	/* RFC 1122 4.2.2.13: closing with unread data loses it: tell the peer with a reset. */
	if (c->rx.len > 0 && c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT) {
		tcp_abort(s, c);
		return;
	}
	switch (c->state) {
	case TCP_CLOSED:
	case TCP_SYN_SENT:
		tcp_release(s, c);
		tcp_conn_terminate(s, c, TCP_ERROR_NONE);
		return;
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tcp_shutdown(s, c);
		break;
	case TCP_FIN_WAIT_2:
		c->close_at = s->now + s->cfg.fin_wait2_timeout;
		tcp_timer_arm(s, c, c->close_at);
		break;
	default:
		break;
	}
	tcp_release(s, c);
}

void tcp_set_nodelay(struct tcp_stack *s, struct tcp_conn *c, bool nodelay)
{
	if (!tcp_conn_valid(s, c))
		return;
	if (nodelay) {
		c->flags |= TCP_CF_NODELAY;
		tcp_conn_ready(s, c); /* a segment Nagle held may go now */
	} else {
		c->flags &= ~(uint32_t)TCP_CF_NODELAY;
	}
}

void tcp_set_keepalive(struct tcp_stack *s, struct tcp_conn *c, bool on)
{
	if (!tcp_conn_valid(s, c))
		return;
	if (!on) {
		c->flags &= ~(uint32_t)TCP_CF_KEEPALIVE;
		return;
	}
	c->flags |= TCP_CF_KEEPALIVE;
	c->keep_probes = 0;
	if (tcp_state_synchronized(c->state) && c->state != TCP_TIME_WAIT) {
		c->keep_at = c->last_rx + c->keep_idle;
		tcp_timer_arm(s, c, c->keep_at);
	}
}

void tcp_set_user_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t us)
{
	if (tcp_conn_valid(s, c) && us > 0)
		c->user_timeout = us;
}

void tcp_set_keepalive_params(struct tcp_stack *s, struct tcp_conn *c, uint64_t idle, uint64_t interval,
			      uint32_t count)
{
	if (!tcp_conn_valid(s, c))
		return;
	if (idle)
		c->keep_idle = idle;
	if (interval)
		c->keep_interval = interval;
	if (count)
		c->keep_count = count < 255 ? (uint8_t)count : 254;
	tcp_set_keepalive(s, c, true);
}

void tcp_set_connect_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t us)
{
	if (tcp_conn_valid(s, c))
		c->connect_timeout = us;
}

const char *tcp_cc_name(enum tcp_cc cc)
{
	switch (cc) {
	case TCP_CC_CUBIC:
		return "cubic";
	case TCP_CC_NEWRENO:
		return "newreno";
	default:
		return "?";
	}
}

/* A switch takes effect at the next ACK: the new algorithm starts from the window as it is (CUBIC
 * with a fresh epoch, as after slow start). */
enum tcp_result tcp_set_congestion_control(struct tcp_stack *s, struct tcp_conn *c, enum tcp_cc cc)
{
	if (!tcp_conn_valid(s, c) || (unsigned)cc >= TCP_CC_COUNT)
		return TCP_ERR_INVALID;
	if (c->cc != cc)
		tcp_cubic_reset(c);
	c->cc = (uint8_t)cc;
	c->st.cc = cc;
	return TCP_OK;
}

/* Buffer maximums are byte counts below 1 GB (as tcp_config's), 0 keeping one as it is. */
static bool tcp_buf_max_valid(uint32_t rx_max, uint32_t tx_max)
{
	return rx_max < (1u << 30) && tx_max < (1u << 30);
}

enum tcp_result tcp_set_buffer_sizes(struct tcp_stack *s, struct tcp_conn *c, uint32_t rx_max, uint32_t tx_max)
{
	if (!tcp_conn_valid(s, c) || !tcp_buf_max_valid(rx_max, tx_max))
		return TCP_ERR_INVALID;
	if (rx_max) {
		/* A lower maximum offers less from now on; what was offered stays promised. */
		c->rx.max = rx_max;
		/* RFC 7323 2.3: the shift is chosen once, on our SYN: until it goes out it follows. */
		if (c->state == TCP_SYN_SENT && c->snd_max == c->iss)
			tcp_conn_set_wscale(c);
	}
	if (tx_max)
		c->tx.max = tx_max;
	return TCP_OK;
}

enum tcp_result tcp_listener_set_buffer_sizes(struct tcp_stack *s, struct tcp_listener *l, uint32_t rx_max,
					      uint32_t tx_max)
{
	if (!s || !l || l < s->listeners || l >= s->listeners + s->cfg.max_listeners || !l->in_use ||
	    !tcp_buf_max_valid(rx_max, tx_max))
		return TCP_ERR_INVALID;
	l->rx_max = rx_max;
	l->tx_max = tx_max;
	return TCP_OK;
}

void tcp_set_mss_clamp(struct tcp_stack *s, struct tcp_conn *c, uint16_t mss)
{
	if (!tcp_conn_valid(s, c))
		return;
	if (mss < 64)
		mss = 64;
	c->mss_clamp = mss;
	if (c->rcv_mss > mss)
		c->rcv_mss = mss;
	if (c->snd_mss > mss)
		c->snd_mss = mss;
}

uint32_t tcp_listener_pending(const struct tcp_listener *l)
{
	return l ? l->accept_q.count : 0;
}

void tcp_conn_set_user(struct tcp_conn *c, void *user)
{
	c->user = user;
}

void *tcp_conn_user(const struct tcp_conn *c)
{
	return c->user;
}

enum tcp_state tcp_conn_state(const struct tcp_conn *c)
{
	return (enum tcp_state)c->state;
}

enum tcp_error tcp_conn_error(const struct tcp_conn *c)
{
	return (enum tcp_error)c->error;
}

void tcp_conn_endpoints(const struct tcp_conn *c, struct tcp_endpoints *ep)
{
	ep->local_addr = c->local_addr;
	ep->local_port = c->local_port;
	ep->remote_addr = c->remote_addr;
	ep->remote_port = c->remote_port;
}

void tcp_conn_stats(const struct tcp_conn *c, struct tcp_conn_stats *st)
{
	*st = c->st;
	st->srtt_us = c->srtt;
	st->rttvar_us = c->rttvar;
	st->rto_us = c->rto;
	st->cwnd = c->cwnd;
	st->ssthresh = c->ssthresh;
	st->snd_mss = c->snd_mss;
}
