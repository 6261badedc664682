/* TCP timers: what a connection does when its deadline in the heap (tcp_heap.c) comes due.
 * Retransmission (RFC 6298 5), RACK's reordering timer (RFC 8985 6.3), tail loss probes (RFC 8985 7),
 * persist (RFC 9293 3.8.6.1), delayed ACK (3.8.6.3), keep-alive (3.8.4), user timeout (3.8.3) and
 * TIME-WAIT (3.6.1) all fire from here. */
#include "tcp_internal.h"

/* RFC 8985 7.2: with SACK, outside recovery and once an RTT is known, a probe timeout of 2 SRTT ahead
 * of the RTO, one probe per flight; plus 2 ms, as Linux adds (TCP_TIMEOUT_MIN), against a clock's
 * granularity and an ACK held for a moment, or plus a worst-case delayed ACK when a single segment
 * is out. (A floor of 10 ms had a 0.1 ms path wait 100 RTTs for every probe.) During a SACK recovery the same timer watches the retransmissions: any
 * still unanswered when it fires are taken as lost again (the role RACK's reordering timer plays in
 * RFC 8985 6.3, on a coarser clock), instead of waiting for the RTO. */
void tcp_tlp_arm(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	smx_instant pto;

	c->tlp_at = SMX_INSTANT_NEVER;
	if ((c->flags & (TCP_CF_SACK_OK | TCP_CF_TLP_SENT | TCP_CF_PERSIST)) != TCP_CF_SACK_OK || c->srtt == 0 ||
	    c->backoff > 0 || c->rtx_at == SMX_INSTANT_NEVER || !tcp_state_synchronized(c->state) ||
	    c->state == TCP_TIME_WAIT)
		return;
	pto = 2ull * c->srtt;
	if (!(c->flags & TCP_CF_IN_RECOVERY) && tcp_flight_size(c) <= tcp_seg_mss(c))
		pto += 200000; /* RFC 8985 7.2's WCDelAckT */
	else
		pto += 2000;
	/* The watch takes a retransmission as lost on silence alone, so each it takes with no news from
	 * the peer since doubles the wait for the next, as the RTO backs off (RFC 6298 5.5): under heavy
	 * loss a copy every PTO still saves timeouts, but into a dead path it sent one every PTO, each
	 * pushing the RTO on, for as long as the user timeout. */
	pto <<= SMX_MIN(c->tlp_watches, 20u);
	if (now + pto >= c->rtx_at)
		return;
	c->tlp_at = now + pto;
	tcp_timer_arm(s, c, c->tlp_at);
}

void tcp_rtx_start(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	c->flags &= ~(uint32_t)TCP_CF_PERSIST;
	c->rtx_at = now + tcp_rto_backed_off(s, c);
	tcp_timer_arm(s, c, c->rtx_at);
	tcp_tlp_arm(s, c, now);
}

static smx_instant tcp_conn_next_deadline(const struct tcp_conn *c)
{
	smx_instant t = c->rtx_at;

	t = SMX_MIN(t, c->ack_at);
	t = SMX_MIN(t, c->close_at);
	t = SMX_MIN(t, c->keep_at);
	t = SMX_MIN(t, c->tlp_at);
	t = SMX_MIN(t, c->rack_at);
	return t;
}

/* RFC 6298 5.4-5.6 plus RFC 5681 3.1 eq. 4 and RFC 6582 4 (in tcp_cc_on_timeout). */
static void tcp_rtx_timeout(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	/* An open that outlasts its connect timeout ends with its own reason. */
	if ((c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) && c->connect_timeout &&
	    now - c->una_since >= c->connect_timeout) {
		s->stats.conns_timed_out++;
		tcp_conn_terminate(s, c, TCP_ERROR_CONNECT_TIMED_OUT);
		return;
	}
	/* RFC 9293 3.8.3: data (or our SYN) unacknowledged for the user timeout ends the connection. */
	if (now - c->una_since >= c->user_timeout) {
		s->stats.conns_timed_out++;
		tcp_conn_terminate(s, c, TCP_ERROR_TIMED_OUT);
		return;
	}
	s->stats.timeouts++;
	c->st.timeouts++;
	c->backoff++;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		c->flags |= TCP_CF_SYN_RTX;
	else {
		tcp_cc_rto_undo_arm(c, now);
		tcp_cc_on_timeout(c);
	}
	/* Go back N: resend from the oldest unacknowledged byte (Karn: no RTT sample from it). */
	c->snd_nxt = c->snd_una;
	c->flags &= ~(uint32_t)(TCP_CF_RTT_TIMING | TCP_CF_FAST_RTX);
	c->dupacks = 0;
	tcp_conn_ready(s, c);
}

/* RFC 1122 4.2.3.6: probes after `idle` without a segment from the peer, every `interval`, until
 * `count` went unanswered. Any segment from the peer counts as an answer (input zeroes keep_probes). */
static void tcp_keepalive_check(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	smx_instant due;

	c->keep_at = SMX_INSTANT_NEVER;
	if (!(c->flags & TCP_CF_KEEPALIVE) || !tcp_state_synchronized(c->state) || c->state == TCP_TIME_WAIT)
		return;
	due = c->last_rx + c->keep_idle + (smx_instant)c->keep_probes * c->keep_interval;
	if (now < due) {
		c->keep_at = due;
		return;
	}
	if (c->keep_probes >= c->keep_count) {
		s->stats.conns_timed_out++;
		c->flags |= TCP_CF_SEND_RST;
		tcp_conn_terminate(s, c, TCP_ERROR_TIMED_OUT);
		return;
	}
	c->keep_probes++;
	c->flags |= TCP_CF_KEEP_PROBE;
	c->keep_at = now + c->keep_interval;
	tcp_conn_ready(s, c);
}

static void tcp_conn_timers(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	if (c->close_at <= now) {
		/* TIME-WAIT over (RFC 9293 3.10.8), or the FIN-WAIT-2 wait for an app that is gone. */
		c->close_at = SMX_INSTANT_NEVER;
		tcp_conn_terminate(s, c, TCP_ERROR_NONE);
		return;
	}
	if (c->rack_at <= now) {
		/* RFC 8985 6.3: the reordering window of a segment sent before a delivered one ran out. */
		c->rack_at = SMX_INSTANT_NEVER;
		if ((c->flags & TCP_CF_SACK_OK) && tcp_state_synchronized(c->state) && tcp_rack_detect(s, c, now))
			tcp_cc_sack_ack(s, c, 0, false);
	}
	if (c->tlp_at <= now) {
		c->tlp_at = SMX_INSTANT_NEVER;
		if (c->rtx_at == SMX_INSTANT_NEVER || c->rtx_at <= now || (c->flags & TCP_CF_PERSIST)) {
			/* nothing to probe: the RTO (or persist) has it */
		} else if (tcp_sack_recovery(c) && tcp_seq_gt(c->high_rxt, c->snd_una)) {
			c->high_rxt = c->snd_una;
			c->rtx_mark_count = 0;
			if (c->tlp_watches < UINT8_MAX)
				c->tlp_watches++; /* the next watch waits twice as long (tcp_tlp_arm) */
			c->flags |= TCP_CF_RTX_LOST; /* RFC 5681 4.3: a second reduction */
			c->st.lost_retransmits++;
			s->stats.lost_retransmits++;
			tcp_conn_ready(s, c);
		} else {
			c->flags |= TCP_CF_TLP_PROBE | TCP_CF_TLP_SENT;
			tcp_conn_ready(s, c);
		}
	}
	if (c->rtx_at <= now) {
		c->rtx_at = SMX_INSTANT_NEVER;
		c->tlp_at = SMX_INSTANT_NEVER;
		if (c->flags & TCP_CF_PERSIST) {
			/* RFC 1122 4.2.2.17 keeps probing a zero window as long as the receiver answers
			 * (RFC 6429); a peer that answers no probe for the user timeout (RFC 9293 3.8.3) is
			 * gone, and would otherwise hold the slot forever, even after the app closed. */
			if (now - c->last_rx >= c->user_timeout) {
				s->stats.conns_timed_out++;
				tcp_conn_terminate(s, c, TCP_ERROR_TIMED_OUT);
				return;
			}
			c->flags |= TCP_CF_PROBE;
			tcp_conn_ready(s, c);
		} else {
			tcp_rtx_timeout(s, c, now);
			if (!(c->flags & TCP_CF_IN_USE) || c->state == TCP_CLOSED)
				return;
		}
	}
	if (c->ack_at <= now) {
		c->ack_at = SMX_INSTANT_NEVER;
		c->flags |= TCP_CF_ACK_NOW;
		tcp_conn_ready(s, c);
	}
	if (c->keep_at <= now) {
		tcp_keepalive_check(s, c, now);
		if (!(c->flags & TCP_CF_IN_USE) || c->state == TCP_CLOSED)
			return;
	}
}

void tcp_timers_run(struct tcp_stack *s, smx_instant now)
{
	while (s->heap_len > 0) {
		struct tcp_conn *c = &s->conns[s->heap[0]];

		if (c->timer_at > now)
			break;
		tcp_timer_remove(s, c);
		tcp_conn_timers(s, c, now);
		if ((c->flags & TCP_CF_IN_USE) && c->state != TCP_CLOSED)
			tcp_timer_arm(s, c, tcp_conn_next_deadline(c));
	}
}

smx_instant tcp_poll_at(struct tcp_stack *s, smx_instant now)
{
	if (now > s->now)
		s->now = now;
	if (s->lists[TCP_LIST_READY].count > 0)
		return now;
	if (s->heap_len == 0)
		return SMX_INSTANT_NEVER;
	return s->conns[s->heap[0]].timer_at;
}
