/* The receive buffer's size, tuned to the connection (as Linux's tcp_rcv_space_adjust): a new
 * connection offers a 64 KB window, and once per RTT the buffer grows to twice what the app read in
 * that RTT, and more while the rate rises (slow start), up to the connection's maximum. Its chunks
 * come from the shared pool. A short pool offers less and never takes back what was offered (RFC
 * 9293 3.8.6). While the buffer holds data (the app is behind, or there are holes) the window
 * offered is promised, so what arrives within it fits. An empty buffer promises nothing: an idle
 * connection costs its control block only, and its window is overcommitted, drawn from the chunks
 * the pool has free when data comes; with none free the data is dropped unacknowledged and counted
 * (the peer retransmits it), as Linux drops when its TCP memory is exhausted. A connection that
 * receives faster than its app reads holds data, so its window is backed while that matters. */
#include "tcp_internal.h"

/* The interval between measurements before the connection has an RTT (its SYN or SYN-ACK was
 * retransmitted, RFC 6298 Karn): longer rather than shorter, since a short one would measure less
 * than an RTT's data and offer too small a window. */
#define TCP_RCV_RTT_DEFAULT 100000u
#define TCP_RCV_IW (10u * 1460u) /* RFC 6928's initial window of ten segments */

void tcp_rcvbuf_init(struct tcp_conn *c, smx_instant now, uint32_t slots)
{
	/* One chunk when what the pool has left, shared among all the slots, is less than a first
	 * window: a pool too small for every connection's first window gives each one a chunk, and
	 * keeps the rest for the connections that grow. */
	uint64_t share = (uint64_t)tcp_pool_avail(c->pool) / SMX_MAX(slots, 1u) << c->pool->shift;
	uint32_t full = SMX_MIN(TCP_RCV_INITIAL, c->rx.max);

	c->rcv_space = share >= full ? full : SMX_MIN(c->pool->size, c->rx.max);
	/* The first RTT brings at most an initial congestion window (RFC 6928: ten segments), as
	 * Linux's rcvq_space starts: more than that is a rising rate. */
	c->rcv_space_last = SMX_MIN(c->rcv_space, TCP_RCV_IW);
	c->rcv_space_read = c->rcv_read = 0;
	c->rcv_space_at = now;
	c->rcv_rtt = 0;
	c->rcv_rtt_at = SMX_INSTANT_NEVER;
}

uint32_t tcp_rcvbuf_room_short(const struct tcp_conn *c, uint32_t want, uint32_t tables, uint32_t can)
{
	const struct tcp_pool *p = c->pool;
	uint32_t slack = tcp_rcvbuf_slack(c), win;
	uint64_t more = (uint64_t)want + tables + slack - can;

	can += (uint32_t)SMX_MIN((uint64_t)tcp_pool_avail(p) << p->shift, more);
	can = can > slack ? can - slack : 0;
	win = SMX_MIN(want, can);
	if (tables && win > p->size)
		win = SMX_MAX(SMX_MIN(win, can - p->size), p->size);
	return win;
}

/* An empty buffer backs no window: its promises (the range tables' too) go back. */
static void tcp_rcvbuf_unback(struct tcp_conn *c)
{
	c->ranges_promised = false;
	tcp_ring_reserve(c->pool, &c->rx, 0);
}

void tcp_rcvbuf_offered(struct tcp_conn *c, smx_instant now)
{
	uint32_t win = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	if (c->srtt == 0 && c->rcv_rtt_at == SMX_INSTANT_NEVER && win > 0) {
		c->rcv_rtt_seq = c->rcv_adv;
		c->rcv_rtt_at = now;
	}
	tcp_rcvbuf_back(c);
}

void tcp_rcvbuf_back(struct tcp_conn *c)
{
	uint32_t win = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	if (tcp_ring_empty(&c->rx)) {
		tcp_rcvbuf_unback(c);
		return;
	}
	/* A window of more than a chunk may bring more holes than ooo's few slots: its range tables
	 * are promised with it (tcp_rcvbuf_room left room for them). */
	c->ranges_promised = tcp_ranges_wanted(c);
	/* What the next window may offer is promised already (not only this one, which receiver SWS
	 * avoidance may hold back): tcp_rcvbuf_room then finds it so at once, segment after segment. */
	if (win > 0)
		win = SMX_MAX(win, tcp_rcvbuf_room(c)) + tcp_rcvbuf_slack(c);
	tcp_ring_reserve(c->pool, &c->rx, win + (c->ranges_promised ? c->pool->size : 0));
}

void tcp_rcvbuf_top_up(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t win = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	c->flags &= ~(uint32_t)TCP_CF_POOL_RX;
	if (tcp_ring_empty(&c->rx) || (c->flags & TCP_CF_RCV_FIN))
		return;
	tcp_rcvbuf_back(c);
	if (tcp_ring_room(c->pool, &c->rx) < win) {
		c->flags |= TCP_CF_POOL_RX;
		tcp_pool_wait(s, c);
	}
}

void tcp_rcvbuf_close(struct tcp_conn *c)
{
	tcp_rcvbuf_unback(c);
}

void tcp_rcvbuf_read(struct tcp_conn *c, uint32_t n, smx_instant now)
{
	uint32_t rtt = c->srtt ? c->srtt : c->rcv_rtt ? c->rcv_rtt : TCP_RCV_RTT_DEFAULT;
	uint32_t copied;
	uint64_t win;

	if (c->rcv_rtt_at != SMX_INSTANT_NEVER && tcp_seq_ge(c->rcv_nxt, c->rcv_rtt_seq)) {
		/* A window filled: a sample, the smallest kept (each is an RTT or more). */
		uint64_t sample = SMX_MAX(now - c->rcv_rtt_at, (uint64_t)TCP_CLOCK_GRANULARITY);

		if (c->rcv_rtt == 0 || sample < c->rcv_rtt)
			c->rcv_rtt = (uint32_t)SMX_MIN(sample, (uint64_t)UINT32_MAX);
		c->rcv_rtt_at = SMX_INSTANT_NEVER;
	}
	c->rcv_read += n;
	if (tcp_ring_empty(&c->rx))
		tcp_rcvbuf_unback(c); /* all read: idle until more comes */
	if (now < c->rcv_space_at + rtt)
		return;
	copied = c->rcv_read - c->rcv_space_read;
	c->rcv_space_read = c->rcv_read;
	c->rcv_space_at = now;
	if (copied <= c->rcv_space_last)
		return; /* the rate did not rise: the buffer stays (it never shrinks, as Linux's) */
	/* Twice the bytes of an RTT, plus room for a few segments; and as much again per doubling
	 * of the rate, since a sender in slow start doubles its window every RTT. */
	win = 2ull * copied + 16ull * tcp_rcv_seg_mss(c);
	win += 2 * win * (copied - c->rcv_space_last) / c->rcv_space_last;
	c->rcv_space_last = copied;
	if (win > c->rcv_space)
		c->rcv_space = (uint32_t)SMX_MIN(win, (uint64_t)c->rx.max);
}

void tcp_rcvbuf_sent(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t size = SMX_MIN(c->rcv_space, c->rx.max);
	uint32_t want = size > c->rx.len ? size - c->rx.len : 0;

	tcp_ranges_trim(c);
	/* Cheap first: only a pool nearly empty can have held the window back. */
	if (want == 0 || tcp_pool_avail(c->pool) > (want >> c->pool->shift) + 2 ||
	    !tcp_state_synchronized(c->state) || (c->flags & TCP_CF_RCV_FIN))
		return;
	if (tcp_rcvbuf_room(c) < want)
		tcp_pool_wait(s, c);
}
