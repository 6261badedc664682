/* Segment arrival (RFC 9293 3.10.7): closed ports and listeners, SYN-SENT, and the eight steps for
 * every other state, with RFC 5961's defences against blind resets, SYNs and ACK injection. */
#include "tcp_internal.h"

/* RFC 9293 3.10.7.1: the answer to a segment for no connection (tcp_rst_reply builds it). */
void tcp_send_rst_reply(struct tcp_stack *s, const struct ipv4_repr *ip, const struct tcp_repr *seg,
			const struct ip_sender *tx)
{
	struct tcp_repr r;
	struct ip_tx t;
	size_t n;

	if (!tcp_addr_unicast(ip->src) || !tcp_rst_reply(seg, &r))
		return;
	if (!tx || tx->begin(tx->ctx, ip->dst, ip->src, IP_PROTO_TCP, TCP_HEADER_LEN, &t) != IP_TX_OK) {
		s->stats.tx_no_buffer++;
		return;
	}
	n = tcp_emit(&r, t.src, t.dst, t.l4, t.l4_cap);
	if (n == 0) {
		tx->abort(tx->ctx, &t);
		return;
	}
	tx->commit(tx->ctx, &t, n);
	s->stats.rst_sent++;
	s->stats.tx_segs++;
}

/* RFC 5961 7: challenge ACKs are limited per second across all connections. */
static void tcp_challenge_ack(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	if (now - s->chal_window >= 1000000 || now < s->chal_window) {
		s->chal_window = now;
		s->chal_count = 0;
	}
	if (s->chal_count >= s->cfg.challenge_ack_limit) {
		s->stats.challenge_acks_limited++;
		return;
	}
	s->chal_count++;
	s->stats.challenge_acks++;
	c->flags |= TCP_CF_ACK_NOW;
	tcp_conn_ready(s, c);
}

/* The peer's MSS option (RFC 9293 3.7.1), capped by what our own MTU lets us send. */
static void tcp_take_peer_mss(const struct tcp_stack *s, struct tcp_conn *c, const struct tcp_repr *r,
			      const struct ip_sender *tx)
{
	uint32_t peer = r->opts.has_mss ? r->opts.mss : TCP_DEFAULT_MSS;
	uint32_t ours = tcp_our_mss(s, tx);

	if (peer < 64)
		peer = 64; /* a tiny MSS would only make us spray segments */
	if (c->mss_clamp && c->mss_clamp < ours)
		ours = c->mss_clamp;
	c->snd_mss = (uint16_t)SMX_MIN(peer, ours);
	c->st.snd_mss = c->snd_mss;
	tcp_cc_init(c);
}

/* RFC 7323 2.2-2.3 and RFC 2018 2: window scaling and SACK hold only when both SYNs carry them (ours
 * offered them on an active open; a SYN-ACK echoes only what the peer's SYN offered). */
static void tcp_take_syn_options(struct tcp_conn *c, const struct tcp_repr *r, smx_instant now)
{
	if (r->opts.has_timestamp) {
		c->flags |= TCP_CF_TS;
		c->ts_recent = r->opts.ts_val;
		c->ts_recent_at = now;
	} else {
		c->flags &= ~(uint32_t)TCP_CF_TS;
	}
	if (r->opts.has_wscale) {
		/* RFC 7323 2.3: a shift above 14 is taken as 14. */
		c->snd_wscale = (uint8_t)SMX_MIN(r->opts.wscale, TCP_MAX_WSCALE);
		c->flags |= TCP_CF_WSCALE;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
		c->flags &= ~(uint32_t)TCP_CF_WSCALE;
	}
	if (r->opts.sack_permitted && !(c->flags & TCP_CF_NO_SACK))
		c->flags |= TCP_CF_SACK_OK;
	else
		c->flags &= ~(uint32_t)TCP_CF_SACK_OK;
}

/* The window fields from a SYN (never scaled, RFC 7323 2.2), and its options. */
static void tcp_take_syn(struct tcp_conn *c, const struct tcp_repr *r, smx_instant now)
{
	tcp_take_syn_options(c, r, now);
	c->irs = r->seq;
	c->rcv_nxt = r->seq + 1;
	/* The window our SYN (or SYN-ACK) offers, counted from here. */
	c->rcv_adv = c->rcv_nxt + SMX_MIN(tcp_rcvbuf_room(c), TCP_MAX_WINDOW);
	tcp_rcvbuf_offered(c, now);
	c->snd_wnd = r->window;
	c->max_snd_wnd = r->window;
	c->snd_wl1 = r->seq;
	c->snd_wl2 = r->ack;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---- */

/* RFC 4987 3.5: with the backlog (or every slot) full, the oldest half-open connection yields to a
 * new SYN, but only once its SYN-ACK went unanswered for a whole RTO: a SYN flood then cannot shut
 * the listener for the user timeout, while a burst of real clients still completes in order. */
static bool tcp_listener_recycle(struct tcp_stack *s, struct tcp_listener *l)
{
	struct tcp_conn *old = l->syn_q.head != TCP_NIL ? &s->conns[l->syn_q.head] : NULL;

	if (!old || !(old->flags & TCP_CF_SYN_RTX))
		return false;
	s->stats.syn_recv_recycled++;
	tcp_conn_terminate(s, old, TCP_ERROR_NONE);
	return true;
}

static void tcp_listen_input(struct tcp_stack *s, struct tcp_listener *l, const struct ipv4_repr *ip,
			     const struct tcp_repr *r, smx_instant now, const struct ip_sender *tx)
{
	struct tcp_conn *c;

	if (r->flags & TCP_RST)
		return;
	if (r->flags & TCP_ACK) {
		tcp_send_rst_reply(s, ip, r, tx);
		return;
	}
	if (!(r->flags & TCP_SYN) || !tcp_addr_unicast(ip->src))
		return;
	if (l->pending >= l->backlog && !tcp_listener_recycle(s, l)) {
		s->stats.rx_listen_drop++;
		return;
	}
	c = tcp_conn_alloc(s);
	if (!c && tcp_listener_recycle(s, l))
		c = tcp_conn_alloc(s);
	if (!c) {
		s->stats.rx_listen_drop++;
		return;
	}
	c->local_addr = ip->dst;
	c->local_port = r->dst_port;
	c->remote_addr = ip->src;
	c->remote_port = r->src_port;
	c->listener = l;
	l->pending++;
	c->flags |= TCP_CF_PASSIVE;
	c->iss = tcp_isn(s, c->local_addr, c->local_port, c->remote_addr, c->remote_port, now);
	tcp_conn_setup(s, c);
	tcp_take_syn(c, r, now);
	c->rcv_mss = tcp_our_mss(s, tx);
	tcp_take_peer_mss(s, c, r, tx);
	/* Text on a SYN is not queued (RFC 9293 3.10.7.2 allows either): the peer sends it again. */
	tcp_set_state(s, c, TCP_SYN_RECEIVED);
	tcp_conn_set_aux(s, c, TCP_AUX_SYN_QUEUE);
	tcp_conn_hash_insert(s, c);
	tcp_conn_ready(s, c);
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

static void tcp_established(struct tcp_stack *s, struct tcp_conn *c, smx_instant now);
static void tcp_rx_fin(struct tcp_stack *s, struct tcp_conn *c);
static void tcp_rx_text_fin(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_repr *r, uint32_t seq,
			    smx_instant now);

static void tcp_syn_sent_input(struct tcp_stack *s, struct tcp_conn *c, const struct ipv4_repr *ip,
			       const struct tcp_repr *r, smx_instant now, const struct ip_sender *tx)
{
	if (r->flags & TCP_ACK) {
		/* First: an ACK of something we never sent is answered with a reset. */
		if (tcp_seq_le(r->ack, c->iss) || tcp_seq_gt(r->ack, c->snd_max)) {
			if (!(r->flags & TCP_RST))
				tcp_send_rst_reply(s, ip, r, tx);
			s->stats.rx_bad_ack++;
			return;
		}
	}
	if (r->flags & TCP_RST) {
		/* Second: a reset counts only with an acceptable ACK (also RFC 5961 3.2's rule). */
		if (r->flags & TCP_ACK)
			tcp_conn_terminate(s, c, TCP_ERROR_REFUSED);
		return;
	}
	if (!(r->flags & TCP_SYN))
		return;
	tcp_take_syn(c, r, now);
	tcp_take_peer_mss(s, c, r, tx);
	c->last_rx = now;
	if (r->flags & TCP_ACK) {
		c->snd_una = r->ack;
		if (c->flags & TCP_CF_RTT_TIMING) {
			tcp_rtt_sample(s, c, (uint32_t)(now - c->rtt_start));
			c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING;
		}
		c->rtx_at = SMX_INSTANT_NEVER;
		tcp_established(s, c, now);
		c->flags |= TCP_CF_ACK_NOW;
		tcp_conn_ready(s, c);
		tcp_rx_text_fin(s, c, r, r->seq + 1, now);
		return;
	}
	/* Simultaneous open: SYN-RECEIVED, and our SYN goes out again carrying the ACK (of any text too,
	 * queued until ESTABLISHED: RFC 9293 3.10.7.3). */
	tcp_set_state(s, c, TCP_SYN_RECEIVED);
	c->snd_nxt = c->iss;
	tcp_rx_text_fin(s, c, r, r->seq + 1, now);
	tcp_conn_ready(s, c);
}

/* ---- The other states (RFC 9293 3.10.7.4) ---- */

static void tcp_established(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	/* A close the app asked for while opening takes effect now (RFC 9293 3.10.4). */
	tcp_set_state(s, c, (c->flags & TCP_CF_FIN_QUEUED) ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
	s->stats.conns_opened++;
	c->una_since = now;
	/* RFC 6298 5.7: a SYN that timed out leaves the RTO at no less than 3 s for the data. */
	if ((c->flags & TCP_CF_SYN_RTX) && c->srtt == 0 && c->rto < TCP_SYN_RTO_RESET)
		c->rto = TCP_SYN_RTO_RESET;
	c->backoff = 0;
	if (c->flags & TCP_CF_KEEPALIVE) {
		c->keep_at = now + c->keep_idle;
		tcp_timer_arm(s, c, c->keep_at);
	}
	if (c->listener) {
		tcp_conn_set_aux(s, c, TCP_AUX_ACCEPT);
		tcp_listener_event(s, c->listener, TCP_EV_ACCEPTABLE);
	} else {
		tcp_conn_event(s, c, TCP_EV_CONNECTED | TCP_EV_WRITABLE);
	}
	/* A FIN that came with a simultaneous open's SYN, held until now (RFC 9293 3.10.7.3). */
	if ((c->flags & TCP_CF_RCV_FIN) && c->rcv_nxt == c->rcv_fin_seq && !(c->flags & TCP_CF_FIN_RCVD))
		tcp_rx_fin(s, c);
}

/* First step: is any of the segment inside the receive window? */
static bool tcp_seq_acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t wnd = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	bool start_in = seq - c->rcv_nxt < wnd;

	if (len == 0)
		return wnd == 0 ? seq == c->rcv_nxt : start_in;
	if (wnd == 0)
		return false;
	return start_in || (seq + len - 1) - c->rcv_nxt < wnd;
}

/* Second step, with RFC 5961 3.2: only an exact sequence match resets; anything else in the window
 * earns a challenge ACK. */
static void tcp_rx_rst(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_repr *r, smx_instant now)
{
	if (r->seq != c->rcv_nxt) {
		tcp_challenge_ack(s, c, now);
		return;
	}
	switch (c->state) {
	case TCP_SYN_RECEIVED:
		/* Passive: back to LISTEN, which for us means the slot goes away. */
		tcp_conn_terminate(s, c, (c->flags & TCP_CF_PASSIVE) ? TCP_ERROR_RESET : TCP_ERROR_REFUSED);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		tcp_conn_terminate(s, c, TCP_ERROR_RESET);
		break;
	case TCP_TIME_WAIT:
		/* RFC 1337: a reset must not cut TIME-WAIT short (TIME-WAIT assassination). */
		break;
	default:
		/* CLOSING, LAST-ACK: the app already closed; just go. */
		tcp_conn_terminate(s, c, TCP_ERROR_NONE);
		break;
	}
}

static bool tcp_fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_FIN_QUEUED) && tcp_seq_gt(c->snd_una, c->snd_fin_seq);
}

/* News from the peer (SND.UNA moved, or a SACK of data not SACKed before): the next flight may
 * probe again, and the probe timer's watch over retransmissions starts its wait over (tcp_timer.c). */
static void tcp_peer_news(struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TCP_CF_TLP_SENT;
	c->tlp_watches = 0;
}

/* snd_una moves to ack: free acknowledged data, time the RTT, feed congestion control. */
static void tcp_ack_new(struct tcp_stack *s, struct tcp_conn *c, uint32_t ack, uint32_t ts_ecr, smx_instant now)
{
	uint32_t data_seq = tcp_snd_data_seq(c);
	uint32_t acked = ack - c->snd_una;
	uint32_t data_acked = tcp_seq_gt(ack, data_seq) ? SMX_MIN(ack - data_seq, c->tx.len) : 0;

	tcp_ring_consume(c->pool, &c->tx, data_acked);
	c->prev_una = c->snd_una;
	c->snd_una = ack;
	if (tcp_seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	/* HighRxt (RFC 6675) stays within [SND.UNA, SND.MAX]: left behind, a wrap of the sequence space
	 * would one day put it "ahead" again, and pipe would count 2 GB of retransmissions. */
	if (tcp_seq_lt(c->high_rxt, ack))
		c->high_rxt = ack;
	/* The echoed timestamp's RTT (RFC 7323 4.1 RTTM), in our millisecond ticks. */
	uint32_t ts_rtt = UINT32_MAX;
	if (ts_ecr) {
		uint32_t ticks = tcp_ts_now(c, now) - ts_ecr;

		if (ticks < 0x7fffffffu / 1000u)
			ts_rtt = ticks * 1000u;
	}
	/* RFC 6298 3 (Karn): only segments sent once are timed, and timing stops on any retransmit. */
	if ((c->flags & TCP_CF_RTT_TIMING) && tcp_seq_gt(ack, c->rtt_seq)) {
		tcp_rtt_sample(s, c, (uint32_t)(now - c->rtt_start));
		c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING;
	} else if (ts_rtt != UINT32_MAX && ts_rtt >= 2000u &&
		   ((c->flags & TCP_CF_IN_RECOVERY) || c->backoff > 0) && !(tcp_sack_recovery(c) && c->backoff == 0) &&
		   !tcp_rtt_echo_ambiguous(c, ts_ecr)) {
		/* RFC 7323 4.1 (RTTM): in a recovery or after a timeout, where Karn's rule leaves no segment
		 * to time, the echoed timestamp times the ACK (unless it names an earlier copy than the
		 * latest of timeouts in a row: tcp_rtt_echo_ambiguous). Elsewhere the microsecond timing
		 * above is the better clock: ours ticks in milliseconds (a sub-millisecond path reads 0 or 1
		 * tick by where the tick fell, so under 2 ticks nothing is taken), and an echo also counts the
		 * peer's delayed ACK; so in a SACK recovery RACK's timing of what the ACK delivered is
		 * taken instead (tcp_rx_ack): echoes of 2 ms or more only are biased upward there. */
		tcp_rtt_sample(s, c, ts_rtt);
	}
	tcp_cc_rto_undo_check(c, ts_ecr); /* before backoff is forgotten: RFC 3522 */
	c->backoff = 0;
	c->una_since = now;
	tcp_peer_news(c);
	/* Every ACK's echo is a sample for HyStart++ (RFC 9406 4.2 wants several per round, where the
	 * microsecond timing gives one); millisecond ticks suffice against its 4 ms threshold. */
	tcp_cc_on_ack(c, acked, now, ts_rtt);
	/* RFC 6298 5.2 and 5.3. */
	if (c->snd_una == c->snd_max) {
		if (!(c->flags & TCP_CF_PERSIST))
			c->rtx_at = SMX_INSTANT_NEVER;
	} else {
		tcp_rtx_start(s, c, now);
	}
	if (data_acked > 0 && !(c->flags & TCP_CF_FIN_QUEUED))
		tcp_conn_event(s, c, TCP_EV_WRITABLE);
}

/* Fifth step. Returns false when processing stops here. */
static bool tcp_rx_ack(struct tcp_stack *s, struct tcp_conn *c, const struct ipv4_repr *ip,
		       const struct tcp_repr *r, smx_instant now, const struct ip_sender *tx)
{
	uint32_t ack = r->ack;
	uint32_t wnd = (uint32_t)r->window << c->snd_wscale; /* RFC 7323 2.3: never on a SYN, seen here */

	if (c->state == TCP_SYN_RECEIVED) {
		if (!tcp_seq_gt(ack, c->snd_una) || tcp_seq_gt(ack, c->snd_max)) {
			tcp_send_rst_reply(s, ip, r, tx);
			return false;
		}
		c->snd_wnd = wnd;
		c->max_snd_wnd = SMX_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = r->seq;
		c->snd_wl2 = ack;
		tcp_established(s, c, now);
	}
	/* RFC 5961 5.2: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT]; otherwise a (limited)
	 * challenge ACK. RFC 9293 answers an ACK of unsent data with an ACK as well. */
	if (tcp_seq_gt(ack, c->snd_max) || tcp_seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
		s->stats.rx_bad_ack++;
		tcp_challenge_ack(s, c, now);
		return false;
	}
	uint32_t una0 = c->snd_una, sacked0 = (c->flags & TCP_CF_SACK_OK) ? tcp_sb_sacked(c) : 0;
	bool backed_off = c->backoff > 0; /* a timeout's go-back-N: no copy can be timed */
	struct tcp_rack_ack rack;

	if (c->flags & TCP_CF_SACK_OK)
		tcp_rack_ack_begin(c, ack, &r->opts, &rack);
	/* RFC 5681 2: a duplicate ACK (answers to zero-window probes are not: nothing was lost). */
	bool dupack = ack == c->snd_una && r->payload_len == 0 && !(r->flags & (TCP_SYN | TCP_FIN)) &&
		      wnd == c->snd_wnd && c->snd_max != c->snd_una && !(c->flags & TCP_CF_PERSIST);

	if (tcp_seq_gt(ack, c->snd_una)) {
		tcp_ack_new(s, c, ack, (c->flags & TCP_CF_TS) && r->opts.has_timestamp ? r->opts.ts_ecr : 0, now);
		tcp_conn_ready(s, c);
	}
	if (c->flags & TCP_CF_SACK_OK) {
		/* RFC 6675 2: with SACK, an ACK at SND.UNA that SACKs new data is a duplicate too, even
		 * if it carries data or a new window. DeliveredData (RFC 6937) counts both kinds of news. */
		uint32_t dl, dr;

		if (tcp_sb_dsack(c, &r->opts, &dl, &dr))
			tcp_cc_dsack(s, c, dl, dr);
		if (r->opts.sack_count > 0)
			tcp_ranges_attach(c); /* the scoreboard's table, from the pool */
		uint32_t newly = tcp_sb_update(c, &r->opts);

		if (newly > 0)
			tcp_peer_news(c);
		/* In a SACK recovery Karn's rule leaves the one-segment timing nothing to time: the
		 * latest first transmission this ACK delivered does (Linux's RTT from SACKed data).
		 * Looked up only there: elsewhere every ACK would search RACK's tables for nothing. */
		if (tcp_sack_recovery(c) && !backed_off) {
			uint32_t rack_rtt = tcp_rack_rtt_sample(c, &rack, now);

			if (rack_rtt != UINT32_MAX)
				tcp_rtt_sample(s, c, SMX_MAX(rack_rtt, 1u));
		}
		tcp_rack_on_ack(s, c, &r->opts, &rack, now); /* RFC 8985 6.2: loss by time */
		uint32_t sacked1 = tcp_sb_sacked(c);
		int64_t delivered = (int64_t)(c->snd_una - una0) + (int64_t)sacked1 - (int64_t)sacked0;

		if (ack == c->snd_una && c->snd_max != c->snd_una && newly > 0 && !(c->flags & TCP_CF_PERSIST))
			dupack = true;
		tcp_cc_sack_ack(s, c, delivered > 0 ? (uint32_t)delivered : 0, dupack);
		/* An ACK that ends a flight of several RACK ranges (and any recovery) may leave the range
		 * tables empty with nothing more to send: back now, not at the next segment out. */
		tcp_ranges_trim(c);
	} else if (dupack) {
		tcp_cc_on_dupack(s, c);
	}
	/* Window update, guarded by SND.WL1/WL2 against old segments (RFC 9293 3.10.7.4). */
	if (tcp_seq_lt(c->snd_wl1, r->seq) || (c->snd_wl1 == r->seq && tcp_seq_le(c->snd_wl2, ack))) {
		if (wnd > c->snd_wnd)
			tcp_conn_ready(s, c);
		c->snd_wnd = wnd;
		c->snd_wl1 = r->seq;
		c->snd_wl2 = ack;
		c->max_snd_wnd = SMX_MAX(c->max_snd_wnd, c->snd_wnd);
		if (c->snd_wnd > 0 && (c->flags & TCP_CF_PERSIST)) {
			/* The window opened: leave persist and send from snd_una again (a probe byte the
			 * peer did not take goes out with the rest). */
			c->flags &= ~(uint32_t)TCP_CF_PERSIST;
			c->rtx_at = SMX_INSTANT_NEVER;
			c->backoff = 0;
			c->snd_nxt = c->snd_una;
			tcp_conn_ready(s, c);
		}
	}
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (tcp_fin_acked(c)) {
			tcp_set_state(s, c, TCP_FIN_WAIT_2);
			if (c->flags & TCP_CF_RELEASED) {
				c->close_at = now + s->cfg.fin_wait2_timeout;
				tcp_timer_arm(s, c, c->close_at);
			}
		}
		break;
	case TCP_CLOSING:
		if (tcp_fin_acked(c))
			tcp_enter_time_wait(s, c);
		break;
	case TCP_LAST_ACK:
		if (tcp_fin_acked(c)) {
			tcp_conn_terminate(s, c, TCP_ERROR_NONE);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* RFC 2883 4: a duplicate segment is reported as the first SACK block of the next ACK, so the sender
 * learns that a retransmission was needless (and may undo what it did about it). */
static void tcp_note_dsack(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	if (!(c->flags & TCP_CF_SACK_OK) || !tcp_seq_lt(left, right))
		return;
	c->dsack_left = left;
	c->dsack_right = right;
	c->flags |= TCP_CF_DSACK;
}

/* The peer's FIN is in order: eighth step. */
static void tcp_rx_fin(struct tcp_stack *s, struct tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= TCP_CF_FIN_RCVD | TCP_CF_ACK_NOW;
	c->flags &= ~(uint32_t)TCP_CF_RCV_FIN;
	tcp_conn_ready(s, c);
	tcp_conn_event(s, c, TCP_EV_PEER_CLOSED | TCP_EV_READABLE);
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(s, c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (tcp_fin_acked(c))
			tcp_enter_time_wait(s, c);
		else
			tcp_set_state(s, c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		c->close_at = SMX_INSTANT_NEVER;
		tcp_enter_time_wait(s, c);
		break;
	default:
		break;
	}
}

/* Seventh and eighth steps: text into the receive ring (in order, or held for reassembly), then the
 * FIN once everything before it has arrived. `seq` is the first text byte's number (after SYN). */
static void tcp_rx_text_fin(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_repr *r, uint32_t seq,
			    smx_instant now)
{
	const uint8_t *data = r->payload;
	uint32_t len = (uint32_t)r->payload_len;
	bool fin = (r->flags & TCP_FIN) != 0;
	uint32_t fin_seq = seq + len;
	/* RFC 9293 3.10.7.3: text (and a FIN) on the SYN of a simultaneous open is queued for once the
	 * connection is ESTABLISHED; SYN-RECEIVED of an active open takes it in, to deliver then. */
	bool text_ok = c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
		       c->state == TCP_FIN_WAIT_2 ||
		       (c->state == TCP_SYN_RECEIVED && !(c->flags & TCP_CF_PASSIVE));
	uint32_t edge = c->rcv_adv;

	/* Trim to the window: the front that was already received, the tail beyond what we offered. */
	if (tcp_seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;

		if (len > 0)
			tcp_note_dsack(c, seq, seq + SMX_MIN(skip, len));
		if (skip > len) {
			/* All old, the FIN too if there was one. */
			fin = false;
			skip = len;
		}
		data += skip;
		len -= skip;
		seq += skip;
	}
	if (tcp_seq_gt(seq + len, edge)) {
		len = tcp_seq_gt(edge, seq) ? edge - seq : 0;
		fin = false;
		/* Text dropped for want of window (a probe, RFC 1122 4.2.2.17): say where the window is. */
		c->flags |= TCP_CF_ACK_NOW;
		tcp_conn_ready(s, c);
	}
	if (c->flags & TCP_CF_FIN_RCVD) {
		/* Nothing follows the FIN we already took. */
		len = 0;
		fin = false;
	}
	if (len > 0 && text_ok) {
		if (c->flags & TCP_CF_RELEASED) {
			/* RFC 1122 4.2.2.13: data for an app that closed is lost: say so with a reset. */
			c->flags |= TCP_CF_SEND_RST;
			tcp_conn_terminate(s, c, TCP_ERROR_RESET);
			return;
		}
		uint32_t off = seq - c->rcv_nxt;
		uint64_t fits = tcp_ring_room(c->pool, &c->rx);
		bool was_empty = tcp_ring_empty(&c->rx);
		bool reserve = was_empty && off == 0;

		/* A buffer holding data has its window promised (tcp_rcvbuf.c), as far as the pool
		 * could back it. An empty one's is not: it takes free chunks, and the next in-order
		 * segment may take the pool's reserve. What still does not fit is dropped
		 * unacknowledged and counted, and an ACK says where we are (as Linux's tcp_data_queue
		 * drops and ACKs when its memory is short; the peer retransmits). */
		if (off + len > fits)
			fits += (uint64_t)(reserve ? tcp_pool_avail_reserve(c->pool) : tcp_pool_avail(c->pool))
				<< c->pool->shift;
		if (off + len > fits) {
			s->stats.rx_no_buffer++;
			len = fits > off ? (uint32_t)(fits - off) : 0;
			fin = false;
			c->flags |= TCP_CF_ACK_NOW;
			tcp_conn_ready(s, c);
		}
		if (!tcp_ring_write_at(c->pool, &c->rx, c->rx.len + off, data, len, reserve))
			len = 0;
		else if (len > 0 && was_empty)
			tcp_rcvbuf_top_up(s, c); /* it holds data now: its window is promised, or waits */
		if (len > 0 && off == 0) {
			bool filled = c->ooo.count > 0;
			uint32_t end = tcp_asm_advance(&c->ooo, c->rcv_nxt + len);
			uint32_t got = end - c->rcv_nxt;

			tcp_ring_commit(&c->rx, got);
			c->rcv_nxt = end;
			c->rcv_unacked += got;
			c->st.bytes_in += got;
			tcp_conn_event(s, c, TCP_EV_READABLE);
			/* RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full-sized segment, at
			 * once when a hole fills; otherwise within the delayed-ACK time. */
			/* A full-sized segment from a peer stamping every segment carries the MSS less the
			 * timestamp option (RFC 6691), not the MSS. */
			if (filled || c->rcv_unacked >= 2u * tcp_rcv_seg_mss(c)) {
				c->flags |= TCP_CF_ACK_NOW;
				tcp_conn_ready(s, c);
			} else if (c->ack_at == SMX_INSTANT_NEVER) {
				c->ack_at = now + s->cfg.delayed_ack;
				tcp_timer_arm(s, c, c->ack_at);
			}
		} else if (len > 0) {
			if (tcp_asm_holds(&c->ooo, seq, seq + len))
				tcp_note_dsack(c, seq, seq + len);
			else if (tcp_asm_add(&c->ooo, seq, seq + len) ||
				 (tcp_ranges_attach(c) && tcp_asm_add(&c->ooo, seq, seq + len)))
				c->st.ooo_segs++;
			else
				s->stats.rx_ooo_drop++;
			tcp_asm_note(&c->ooo, seq);
			/* RFC 5681 4.2: an out-of-order segment gets an immediate duplicate ACK. */
			c->flags |= TCP_CF_ACK_NOW;
			tcp_conn_ready(s, c);
		}
	}
	if (fin && text_ok) {
		c->rcv_fin_seq = fin_seq;
		c->flags |= TCP_CF_RCV_FIN;
		if (fin_seq != c->rcv_nxt) {
			/* RFC 5681 4.2: out of order, FIN alone included: a duplicate ACK at once. */
			c->flags |= TCP_CF_ACK_NOW;
			tcp_conn_ready(s, c);
		}
	}
	if ((c->flags & TCP_CF_RCV_FIN) && c->rcv_nxt == c->rcv_fin_seq && !(c->flags & TCP_CF_FIN_RCVD) &&
	    tcp_state_synchronized(c->state))
		tcp_rx_fin(s, c);
}

/* A duplicate ACK that the path delivered behind a later one (two queues of a veth, a multipath
 * link): its TSval is older than TS.Recent, which R1 (RFC 7323 5.3) takes for an old duplicate, but
 * it is news that loss recovery counts (RFC 5681 3.2, RFC 6675's SACKs). Taken as Linux takes it
 * (tcp_input.c, the disordered ACK): a pure ACK at RCV.NXT, of SND.UNA, the window unchanged, so it
 * can move nothing but the duplicate count and the scoreboard, whatever the sequence space did (nor
 * a zero window, nor a segment past SND.WL1: Linux's window-update test refuses those too); and
 * behind TS.Recent by no more than the peer's clock runs in one RTO (RFC 7323 5.4's fastest clock, a
 * tick per ms, with a fifth more for the 1200 Hz ones Linux allows for). An ACK that would move
 * SND.UNA or the window is not one of these: R1 drops it. */
static bool tcp_paws_disordered_ack(const struct tcp_stack *s, const struct tcp_conn *c,
				    const struct tcp_repr *r)
{
	uint32_t rto = tcp_rto_backed_off(s, c);
	uint32_t replay = rto / 1000 + rto / 5000;
	uint32_t wnd = (uint32_t)r->window << c->snd_wscale;

	return (r->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) == TCP_ACK && r->payload_len == 0 &&
	       r->seq == c->rcv_nxt && r->ack == c->snd_una && wnd == c->snd_wnd && wnd != 0 &&
	       !tcp_seq_gt(r->seq, c->snd_wl1) && c->ts_recent - r->opts.ts_val <= replay;
}

static void tcp_conn_segment(struct tcp_stack *s, struct tcp_conn *c, const struct ipv4_repr *ip,
			     const struct tcp_repr *r, smx_instant now, const struct ip_sender *tx)
{
	if (c->state == TCP_SYN_SENT) {
		tcp_syn_sent_input(s, c, ip, r, now, tx);
		return;
	}
	/* Our SYN-ACK was lost and the peer sends its SYN again: answer at once. */
	if (c->state == TCP_SYN_RECEIVED && (r->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    r->seq == c->irs) {
		c->snd_nxt = c->iss;
		tcp_conn_ready(s, c);
		return;
	}
	/* Simultaneous open: the peer's SYN-ACK repeats the SYN we already have; its ACK is what
	 * counts (RFC 9293 figure 8, as Linux takes it). */
	if (c->state == TCP_SYN_RECEIVED && (r->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK) &&
	    r->seq == c->irs && !(c->flags & TCP_CF_PASSIVE)) {
		struct tcp_repr r2 = *r;

		r2.flags &= (uint8_t)~TCP_SYN;
		r2.seq = c->irs + 1;
		c->flags |= TCP_CF_ACK_NOW;
		tcp_conn_ready(s, c);
		tcp_conn_segment(s, c, ip, &r2, now, tx);
		return;
	}
	/* TIME-WAIT: the peer's FIN again (our last ACK was lost), exactly or repacketized, starting
	 * further left or overlapping what we had, is acknowledged and restarts the 2*MSL wait (RFC 9293
	 * 3.10.7.4, eighth step). */
	if (c->state == TCP_TIME_WAIT && (r->flags & (TCP_FIN | TCP_RST | TCP_SYN)) == TCP_FIN &&
	    tcp_seq_le(r->seq, c->rcv_nxt)) {
		c->close_at = now + s->cfg.time_wait;
		tcp_timer_arm(s, c, c->close_at);
		c->flags |= TCP_CF_ACK_NOW;
		tcp_conn_ready(s, c);
		return;
	}
	/* RFC 7323 5.3 R1 (PAWS): a segment whose timestamp is older than TS.Recent is an old duplicate
	 * (sequence numbers may have wrapped at these speeds): ACK and drop, unless TS.Recent is over
	 * 24 days old (5.5), or it is a duplicate ACK the path reordered (tcp_paws_disordered_ack). A
	 * segment without a timestamp is taken, as Linux takes it (RFC 7323 3.2's SHOULD drop would
	 * stall a connection whose options a middlebox strips). */
	if ((c->flags & TCP_CF_TS) && r->opts.has_timestamp && !(r->flags & TCP_RST) &&
	    tcp_seq_lt(r->opts.ts_val, c->ts_recent)) {
		if (now - c->ts_recent_at >= TCP_PAWS_IDLE) {
			c->ts_recent = r->opts.ts_val;
			c->ts_recent_at = now;
		} else if (tcp_paws_disordered_ack(s, c, r)) {
			s->stats.rx_paws_disordered_acks++; /* TS.Recent stays: R3 takes no older TSval */
		} else {
			s->stats.rx_paws_rejected++;
			c->flags |= TCP_CF_ACK_NOW;
			tcp_conn_ready(s, c);
			return;
		}
	}
	/* First step. With the window shut, "special allowance should be made to accept valid ACKs,
	 * URGs, and RSTs": a zero-window probe at RCV.NXT still carries them (its text is dropped and
	 * answered below, as BSD does); the peer's probes are often the only news of its window. */
	if (!tcp_seq_acceptable(c, r->seq, tcp_seq_len(r))) {
		s->stats.rx_out_of_window++;
		if (r->payload_len > 0 && tcp_seq_le(r->seq + (uint32_t)r->payload_len, c->rcv_nxt))
			tcp_note_dsack(c, r->seq, r->seq + (uint32_t)r->payload_len);
		if (!(r->seq == c->rcv_nxt && !tcp_seq_gt(c->rcv_adv, c->rcv_nxt))) {
			if (!(r->flags & TCP_RST)) {
				c->flags |= TCP_CF_ACK_NOW;
				tcp_conn_ready(s, c);
			}
			return;
		}
	}
	c->last_rx = now;
	c->keep_probes = 0;
	/* RFC 7323 4.3 (R3): the timestamp to echo is that of the segment our latest ACK was waiting for. */
	if ((c->flags & TCP_CF_TS) && r->opts.has_timestamp && tcp_seq_ge(r->opts.ts_val, c->ts_recent) &&
	    tcp_seq_le(r->seq, c->last_ack_sent)) {
		c->ts_recent = r->opts.ts_val;
		c->ts_recent_at = now;
	}
	/* Second step. */
	if (r->flags & TCP_RST) {
		tcp_rx_rst(s, c, r, now);
		return;
	}
	/* Fourth step: a SYN in a synchronized state (RFC 5961 4.2: challenge, never reset). */
	if (r->flags & TCP_SYN) {
		if (c->state == TCP_SYN_RECEIVED && (c->flags & TCP_CF_PASSIVE)) {
			tcp_conn_terminate(s, c, TCP_ERROR_RESET);
			return;
		}
		tcp_challenge_ack(s, c, now);
		return;
	}
	/* Fifth step. */
	if (!(r->flags & TCP_ACK))
		return;
	if (!tcp_rx_ack(s, c, ip, r, now, tx))
		return;
	/* Sixth (URG: RFC 6093, the data is delivered inline like any other), seventh and eighth. */
	tcp_rx_text_fin(s, c, r, r->seq, now);
}

static void tcp_conn_input(struct tcp_stack *s, struct tcp_conn *c, const struct ipv4_repr *ip,
			   const struct tcp_repr *r, smx_instant now, const struct ip_sender *tx)
{
	c->st.segs_in++;
	tcp_conn_segment(s, c, ip, r, now, tx);
	tcp_conn_ack_now(s, c, tx);
}

void tcp_input(struct tcp_stack *s, smx_instant now, const struct ipv4_repr *ip, const uint8_t *seg,
	       size_t len, enum wire_csum csum, const struct ip_sender *tx)
{
	struct tcp_repr r;
	struct tcp_conn *c;
	struct tcp_listener *l;
	enum wire_err err;

	if (now > s->now)
		s->now = now;
	s->stats.rx_segs++;
	err = tcp_parse(seg, len, ip->src, ip->dst, csum, &r);
	if (err == WIRE_BAD_CHECKSUM) {
		s->stats.rx_bad_checksum++;
		return;
	}
	if (err != WIRE_OK || r.src_port == 0 || r.dst_port == 0 || !tcp_addr_unicast(ip->dst)) {
		s->stats.rx_malformed++;
		return;
	}
	c = tcp_conn_lookup(s, ip->dst, r.dst_port, ip->src, r.src_port);
	if (c && c->state == TCP_TIME_WAIT && (r.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    tcp_seq_gt(r.seq, c->rcv_nxt) && tcp_listener_lookup(s, ip->dst, r.dst_port)) {
		/* RFC 9293 3.6.1 (and RFC 6191): a new SYN above the old sequence space may reopen a
		 * connection still in TIME-WAIT; the old one ends here. */
		tcp_conn_terminate(s, c, TCP_ERROR_NONE);
		c = NULL;
	}
	if (c) {
		tcp_conn_input(s, c, ip, &r, now, tx);
		return;
	}
	l = tcp_listener_lookup(s, ip->dst, r.dst_port);
	if (l) {
		tcp_listen_input(s, l, ip, &r, now, tx);
		return;
	}
	s->stats.rx_no_conn++;
	tcp_send_rst_reply(s, ip, &r, tx);
}

/* RFC 5927 / RFC 1122 4.2.3.9: ICMP errors about our segments. Hard errors end a connection only
 * while it opens; the quoted sequence number must be in flight (RFC 5927 4.1). */
void tcp_icmp_error(struct tcp_stack *s, smx_instant now, const struct icmpv4_repr *icmp)
{
	struct tcp_conn *c;
	uint32_t seq;

	if (now > s->now)
		s->now = now;
	if (!icmp->has_quote || !icmp->quote_has_seq || icmp->quote_ip.protocol != IP_PROTO_TCP)
		return;
	s->stats.icmp_errors++;
	c = tcp_conn_lookup(s, icmp->quote_ip.src, icmp->quote_src_port, icmp->quote_ip.dst,
			    icmp->quote_dst_port);
	if (!c)
		return;
	seq = icmp->quote_seq;
	/* RFC 5927 4.1: SND.UNA <= SEG.SEQ < SND.NXT (our snd_max, the highest sent). */
	if (tcp_seq_lt(seq, c->snd_una) || tcp_seq_ge(seq, c->snd_max))
		return;
	if (icmp->type == ICMPV4_DEST_UNREACH && icmp->code == ICMPV4_UNREACH_FRAG_NEEDED) {
		tcp_pmtu_reduce(s, c, icmp->next_mtu, now); /* RFC 1191, in any state */
		return;
	}
	if (icmp->type != ICMPV4_DEST_UNREACH || c->state != TCP_SYN_SENT)
		return; /* soft errors: retransmission carries on */
	switch (icmp->code) {
	case ICMPV4_UNREACH_PORT:
		tcp_conn_terminate(s, c, TCP_ERROR_REFUSED);
		break;
	case ICMPV4_UNREACH_PROTO:
		tcp_conn_terminate(s, c, TCP_ERROR_PROTO_UNREACHABLE);
		break;
	case ICMPV4_UNREACH_NET:
		tcp_conn_terminate(s, c, TCP_ERROR_NET_UNREACHABLE);
		break;
	case ICMPV4_UNREACH_HOST:
		tcp_conn_terminate(s, c, TCP_ERROR_UNREACHABLE);
		break;
	default:
		break;
	}
}
