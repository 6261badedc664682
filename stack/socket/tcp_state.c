/* TCP state transitions and their side effects (RFC 9293 3.3.2, figure 5): the names the RFC gives
 * the states, entering TIME-WAIT, and ending a connection with the error the app will see. */
#include "tcp_internal.h"

static const char *const tcp_state_names[] = {
	[TCP_CLOSED] = "CLOSED",
	[TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_CLOSING] = "CLOSING",
	[TCP_LAST_ACK] = "LAST-ACK",
	[TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state st)
{
	if ((unsigned)st >= SMX_ARRAY_LEN(tcp_state_names))
		return "?";
	return tcp_state_names[st];
}

const char *tcp_error_name(enum tcp_error e)
{
	switch (e) {
	case TCP_ERROR_NONE:
		return "none";
	case TCP_ERROR_REFUSED:
		return "connection refused";
	case TCP_ERROR_RESET:
		return "connection reset";
	case TCP_ERROR_TIMED_OUT:
		return "timed out";
	case TCP_ERROR_UNREACHABLE:
		return "host unreachable";
	case TCP_ERROR_NET_UNREACHABLE:
		return "network unreachable";
	case TCP_ERROR_PROTO_UNREACHABLE:
		return "protocol unreachable";
	case TCP_ERROR_CONNECT_TIMED_OUT:
		return "connect timed out";
	}
	return "?";
}

void tcp_set_state(struct tcp_stack *s, struct tcp_conn *c, enum tcp_state st)
{
	(void)s;
	c->state = (uint8_t)st;
}

/* Fresh sequence and timer state for a slot about to open; the caller sets the 4-tuple and ISS. */
void tcp_conn_setup(struct tcp_stack *s, struct tcp_conn *c)
{
	c->rto = (uint32_t)s->cfg.rto_initial;
	c->st.rto_us = c->rto;
	c->rtx_at = c->ack_at = c->close_at = c->keep_at = c->tlp_at = c->rack_at = SMX_INSTANT_NEVER;
	c->timer_at = SMX_INSTANT_NEVER;
	c->last_rx = s->now;
	c->una_since = s->now;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss; /* RFC 6582 3.2 step 1 */
	tcp_sb_reset(c);     /* an empty scoreboard, HighRxt at SND.UNA */
	tcp_rack_reset(c);
	c->rcv_mss = TCP_DEFAULT_MSS;
	c->snd_mss = TCP_DEFAULT_MSS;
	/* A listener's buffer maximums, then the window scale they need, and the buffer's first size. */
	if (c->listener && c->listener->rx_max)
		c->rx.max = c->listener->rx_max;
	if (c->listener && c->listener->tx_max)
		c->tx.max = c->listener->tx_max;
	tcp_conn_set_wscale(c);
	tcp_rcvbuf_init(c, s->now, s->cfg.max_conns);
	c->snd_wscale = 0;
	c->ts_offset = tcp_ts_offset(s, c->local_addr, c->local_port, c->remote_addr, c->remote_port);
	tcp_cc_init(c);
}

void tcp_enter_time_wait(struct tcp_stack *s, struct tcp_conn *c)
{
	tcp_set_state(s, c, TCP_TIME_WAIT);
	/* Only the 2*MSL timer runs in TIME-WAIT (RFC 9293 3.10.7.4, eighth step). */
	c->rtx_at = c->ack_at = c->keep_at = c->tlp_at = c->rack_at = SMX_INSTANT_NEVER;
	c->flags &= ~(uint32_t)TCP_CF_PERSIST;
	c->close_at = s->now + s->cfg.time_wait;
	/* The peer's FIN is in: nothing more will arrive, so the window's promise goes back; and all
	 * ours is acknowledged, so the range tables too: TIME-WAIT holds the control block only. */
	tcp_rcvbuf_close(c);
	tcp_ranges_release(c);
	tcp_timer_arm(s, c, c->close_at);
	tcp_conn_set_aux(s, c, TCP_AUX_TIME_WAIT);
	tcp_conn_event(s, c, TCP_EV_CLOSED);
}

void tcp_conn_terminate(struct tcp_stack *s, struct tcp_conn *c, enum tcp_error err)
{
	bool app_has_it = !(c->flags & TCP_CF_RELEASED) && !c->listener;

	if (err == TCP_ERROR_RESET || err == TCP_ERROR_REFUSED)
		s->stats.conns_reset++;
	c->error = (uint8_t)err;
	tcp_set_state(s, c, TCP_CLOSED);
	tcp_conn_hash_remove(s, c);
	tcp_conn_set_aux(s, c, TCP_AUX_NONE);
	tcp_timer_remove(s, c);
	c->rtx_at = c->ack_at = c->close_at = c->keep_at = c->tlp_at = c->rack_at = SMX_INSTANT_NEVER;
	c->flags &= ~(uint32_t)(TCP_CF_ACK_NOW | TCP_CF_FAST_RTX | TCP_CF_PROBE | TCP_CF_KEEP_PROBE |
				TCP_CF_PERSIST | TCP_CF_TLP_PROBE);
	tcp_ranges_release(c);
	/* RFC 9293 3.10.7.4: on reset "all segment queues should be flushed". Either way no window is
	 * offered any more, and nothing out of order will be delivered: only unread data stays. */
	if (err != TCP_ERROR_NONE) {
		tcp_ring_clear(c->pool, &c->tx);
		tcp_ring_clear(c->pool, &c->rx);
	} else {
		c->rx.hi = c->rx.len;
		tcp_rcvbuf_close(c);
	}
	if (c->flags & TCP_CF_SEND_RST) {
		/* Output sends the RST, then frees the slot unless the app still holds it. */
		tcp_conn_ready(s, c);
		if (app_has_it)
			tcp_conn_event(s, c, TCP_EV_CLOSED);
		return;
	}
	tcp_list_remove(s, &s->lists[TCP_LIST_READY], TCP_LIST_READY, c);
	if (app_has_it)
		tcp_conn_event(s, c, TCP_EV_CLOSED);
	else
		tcp_conn_free(s, c);
}

void tcp_conn_set_wscale(struct tcp_conn *c)
{
	/* RFC 7323 2.3: the smallest shift that lets the field say the whole receive buffer at its
	 * maximum (offered on the SYN, kept only if the peer's SYN carries a shift too). */
	c->rcv_wscale = 0;
	while (c->rcv_wscale < TCP_MAX_WSCALE && (c->rx.max >> c->rcv_wscale) > TCP_MAX_WINDOW)
		c->rcv_wscale++;
}
