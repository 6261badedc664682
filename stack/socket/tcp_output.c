/* What a connection sends (RFC 9293 3.8.6, 3.10.7; RFC 5681; RFC 6298 5): SYNs, data cut to the
 * peer's MSS within the send and congestion windows, Nagle (3.7.4) and sender SWS avoidance
 * (3.8.6.2.1), FIN, retransmissions, zero-window and keep-alive probes, ACKs and window updates
 * (receiver SWS avoidance, 3.8.6.2.2). Only connections on the ready list are looked at. */
#include "tcp_internal.h"

enum tcp_tx_result {
	TCP_TX_SENT = 0,
	TCP_TX_LOST,    /* no route or too big: treated as lost in the network, timers retry */
	TCP_TX_BLOCKED, /* no transmit buffer now: try again on a later poll */
};

/* RFC 9293 3.8.6.2.2: offer more window only once it grows by min(half the buffer, one MSS). In
 * bytes, up to what the 16-bit field can say under our RFC 7323 shift. */
uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t max = TCP_MAX_WINDOW << c->rcv_wscale;
	uint32_t free = SMX_MIN(tcp_rcvbuf_room(c), max);
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = SMX_MIN(c->rx.max / 2, tcp_rcv_seg_mss(c));

	if (free <= cur)
		return SMX_MIN(cur, max);
	return free - cur >= step ? free : cur;
}

/* The window field: the window shifted right (RFC 7323 2.3), rounded down, except that it never
 * takes back the right edge already advertised (RFC 9293 3.8.6.2.2 forbids shrinking it). */
uint16_t tcp_rcv_window_field(const struct tcp_conn *c)
{
	uint32_t win = tcp_rcv_window(c);
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t field = win >> c->rcv_wscale;

	if ((field << c->rcv_wscale) < cur)
		field = (cur + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
	return (uint16_t)SMX_MIN(field, TCP_MAX_WINDOW);
}

/* Whether the app read enough for a window update to be worth a segment of its own. */
bool tcp_rcv_window_opens(const struct tcp_conn *c)
{
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	return ((uint32_t)tcp_rcv_window_field(c) << c->rcv_wscale) > cur;
}

/* The options of a SYN: MSS always; window scale, SACK-permitted and timestamps on an active open,
 * and on a SYN-ACK only when the peer's SYN offered them (RFC 7323 2.2 and 3.2, RFC 2018 2). */
static void tcp_syn_options(const struct tcp_stack *s, const struct tcp_conn *c, struct tcp_options *o)
{
	bool offer = !(c->flags & TCP_CF_PASSIVE);

	/* RFC 7323 3.2: TSecr is zero on our SYN, the peer's TSval on a SYN-ACK. */
	if (offer || (c->flags & TCP_CF_TS)) {
		o->has_timestamp = true;
		o->ts_val = tcp_ts_now(c, s->now);
		o->ts_ecr = (c->flags & TCP_CF_TS) ? c->ts_recent : 0;
	}
	o->has_mss = true;
	o->mss = c->rcv_mss;
	if (offer || (c->flags & TCP_CF_WSCALE)) {
		o->has_wscale = true;
		o->wscale = c->rcv_wscale;
	}
	o->sack_permitted = (offer && !(c->flags & TCP_CF_NO_SACK)) || (c->flags & TCP_CF_SACK_OK);
}

/* RFC 2018 4: every ACK while data is held out of order carries the blocks, a D-SACK first (RFC
 * 2883 4) when a duplicate just arrived. Four fit without timestamps. */
static void tcp_sack_options(struct tcp_conn *c, struct tcp_options *o)
{
	unsigned n = 0;

	if (!(c->flags & TCP_CF_SACK_OK))
		return;
	if (c->flags & TCP_CF_DSACK) {
		o->sack[0].left = c->dsack_left;
		o->sack[0].right = c->dsack_right;
		n = 1;
		c->flags &= ~(uint32_t)TCP_CF_DSACK;
	}
	n += tcp_asm_sack_blocks(&c->ooo, o->sack + n, TCP_MAX_SACK_BLOCKS - n);
	o->sack_count = (uint8_t)n;
}

/* One segment: header, MSS option on SYNs, `len` bytes from the send ring at `off`. */
static enum tcp_tx_result tcp_send_segment(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx,
					   uint32_t seq, uint8_t flags, uint32_t off, uint32_t len)
{
	struct tcp_repr r;
	struct ip_tx t;
	enum ip_tx_err e;
	size_t hlen, n;

	memset(&r, 0, sizeof(r));
	r.src_port = c->local_port;
	r.dst_port = c->remote_port;
	r.seq = seq;
	r.flags = flags;
	if (flags & TCP_ACK)
		r.ack = c->rcv_nxt;
	if (flags & TCP_SYN) {
		/* RFC 7323 2.2: the window of a SYN is never scaled. */
		r.window = (uint16_t)SMX_MIN(tcp_rcvbuf_room(c), TCP_MAX_WINDOW);
		tcp_syn_options(s, c, &r.opts);
	} else if (flags & TCP_ACK) {
		r.window = tcp_rcv_window_field(c);
		/* RFC 7323 3.2: once agreed, timestamps go on every segment (RSTs aside, as Linux). */
		if ((c->flags & TCP_CF_TS) && !(flags & TCP_RST)) {
			r.opts.has_timestamp = true;
			r.opts.ts_val = tcp_ts_now(c, s->now);
			r.opts.ts_ecr = c->ts_recent;
		}
		if (!(flags & TCP_RST))
			tcp_sack_options(c, &r.opts);
	}
	r.payload_len = len;
	/* A full-sized segment must still fit the MTU: its SACK blocks yield (RFC 2018 3 lets a sender
	 * include fewer; the next pure ACK carries them all). */
	while (r.opts.sack_count > 0 && tx->mtu >= 20 && tcp_repr_len(&r) > (size_t)tx->mtu - 20u)
		r.opts.sack_count--;
	hlen = tcp_repr_len(&r) - len;
	e = tx->begin(tx->ctx, c->local_addr, c->remote_addr, IP_PROTO_TCP, hlen + len, &t);
	if (e == IP_TX_NO_BUFFER) {
		s->stats.tx_no_buffer++;
		return TCP_TX_BLOCKED;
	}
	if (e != IP_TX_OK)
		return TCP_TX_LOST;
	/* Straight from the ring into the frame, summed on the way (the data is read once). */
	if (len > 0)
		n = tcp_emit_summed(&r, t.src, t.dst, t.l4, t.l4_cap,
				    tcp_ring_read_csum(c->pool, &c->tx, off, t.l4 + hlen, len));
	else
		n = tcp_emit(&r, t.src, t.dst, t.l4, t.l4_cap);
	if (n == 0) {
		tx->abort(tx->ctx, &t);
		return TCP_TX_LOST;
	}
	tx->commit(tx->ctx, &t, n);
	if (flags & TCP_ACK) {
		/* Every ACK we send carries the latest rcv_nxt and window: delayed-ACK state resets. */
		uint32_t adv = (flags & TCP_SYN) ? r.window : (uint32_t)r.window << c->rcv_wscale;

		if (tcp_seq_gt(c->rcv_nxt + adv, c->rcv_adv)) {
			c->rcv_adv = c->rcv_nxt + adv;
			tcp_rcvbuf_offered(c, s->now); /* the chunks behind the new right edge */
		}
		c->last_ack_sent = c->rcv_nxt;
		c->rcv_unacked = 0;
		c->ack_at = SMX_INSTANT_NEVER;
		c->flags &= ~(uint32_t)TCP_CF_ACK_NOW;
	}
	c->st.segs_out++;
	s->stats.tx_segs++;
	tcp_rcvbuf_sent(s, c); /* range tables back to the pool; a window it held back waits */
	return TCP_TX_SENT;
}

static bool tcp_state_sends_data(uint8_t st)
{
	return st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_1 || st == TCP_CLOSING ||
	       st == TCP_LAST_ACK;
}

/* The sequence number just past the data (where the FIN goes). */
static uint32_t tcp_data_end(const struct tcp_conn *c)
{
	return tcp_snd_data_seq(c) + c->tx.len;
}

/* Sent [seq, seq + n): bookkeeping shared by new data, retransmissions and probes. */
static void tcp_sent(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t n, smx_instant now)
{
	bool fresh = tcp_seq_ge(seq, c->snd_max);

	if (c->snd_una == c->snd_max)
		c->una_since = now; /* RFC 9293 3.8.3: the user timeout counts from here */
	if (fresh) {
		/* New data: time one segment at a time (RFC 6298 3). */
		if (!(c->flags & TCP_CF_RTT_TIMING)) {
			c->flags |= TCP_CF_RTT_TIMING;
			c->rtt_seq = seq;
			c->rtt_start = now;
		}
	} else {
		c->st.retransmits++;
		s->stats.retransmits++;
		/* Karn: a retransmitted range makes any sample through it ambiguous. */
		if ((c->flags & TCP_CF_RTT_TIMING) && tcp_seq_ge(c->rtt_seq, seq))
			c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING;
	}
	tcp_rack_sent(c, seq, seq + n, now); /* RFC 8985 6.1: when each segment went out */
	if (tcp_seq_gt(seq + n, c->snd_max)) {
		c->st.bytes_out += (uint32_t)(seq + n - c->snd_max);
		c->snd_max = seq + n;
	}
	/* RFC 6298 5.1: the timer runs whenever data is outstanding. */
	if (c->rtx_at == SMX_INSTANT_NEVER)
		tcp_rtx_start(s, c, now);
	else if (fresh && !(c->flags & TCP_CF_IN_RECOVERY))
		tcp_tlp_arm(s, c, now); /* RFC 8985 7.2: the probe timer restarts with new data */
}

static enum tcp_tx_result tcp_output_syn(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx,
					 smx_instant now)
{
	uint8_t flags = c->state == TCP_SYN_RECEIVED ? TCP_SYN | TCP_ACK : TCP_SYN;
	enum tcp_tx_result res;

	if (c->state == TCP_SYN_SENT && c->snd_max == c->iss && tx->mtu >= TCP_MIN_MTU) {
		/* First SYN of an active open: now we know the MTU to offer an MSS from. */
		uint32_t mss = tcp_our_mss(s, tx);

		if (c->mss_clamp && c->mss_clamp < mss)
			mss = c->mss_clamp;
		c->rcv_mss = (uint16_t)mss;
	}
	res = tcp_send_segment(s, c, tx, c->iss, flags, 0, 0);
	if (res == TCP_TX_BLOCKED)
		return res;
	if (c->flags & TCP_CF_SYN_RTX) {
		c->st.retransmits++;
		s->stats.retransmits++;
	} else if (c->snd_max == c->iss) {
		/* RFC 9293 3.8.3: the user timeout counts from the first SYN sent, not from tcp_connect, which
		 * may come before the stack ever saw the clock (its 'now' still 0). */
		c->una_since = now;
		c->last_rx = now;
		c->flags |= TCP_CF_RTT_TIMING;
		c->rtt_seq = c->iss;
		c->rtt_start = now;
	}
	c->snd_nxt = c->iss + 1;
	if (tcp_seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (c->rtx_at == SMX_INSTANT_NEVER)
		tcp_rtx_start(s, c, now);
	return res;
}

/* Fast retransmit or a NewReno partial ACK: the segment at snd_una once more. */
static enum tcp_tx_result tcp_output_fast_rtx(struct tcp_stack *s, struct tcp_conn *c,
					      const struct ip_sender *tx, smx_instant now)
{
	uint32_t data_seq = tcp_snd_data_seq(c), end = tcp_data_end(c);
	uint32_t len = tcp_seq_lt(c->snd_una, end) ? SMX_MIN(end - c->snd_una, tcp_seg_mss(c)) : 0;
	bool fin = (c->flags & TCP_CF_FIN_QUEUED) && c->snd_una + len == c->snd_fin_seq &&
		   tcp_seq_gt(c->snd_max, c->snd_fin_seq);
	enum tcp_tx_result res;

	c->flags &= ~(uint32_t)TCP_CF_FAST_RTX;
	if (len == 0 && !fin)
		return TCP_TX_LOST;
	res = tcp_send_segment(s, c, tx, c->snd_una, (uint8_t)(TCP_ACK | (fin ? TCP_FIN : 0)),
			       c->snd_una - data_seq, len);
	if (res == TCP_TX_BLOCKED) {
		c->flags |= TCP_CF_FAST_RTX;
		return res;
	}
	tcp_sent(s, c, c->snd_una, len + (fin ? 1 : 0), now);
	if (c->flags & TCP_CF_IN_RECOVERY)
		tcp_cc_count_rtx(c);
	if (tcp_seq_lt(c->snd_nxt, c->snd_una + len + (fin ? 1 : 0)))
		c->snd_nxt = c->snd_una + len + (fin ? 1 : 0);
	return res;
}

/* RFC 6675 5 (C): while cwnd - pipe allows a segment, the next lost bytes (NextSeg rule 1), each
 * moving HighRxt; new data (rule 2) is then tcp_output_data's, with pipe as what is in flight. */
static enum tcp_tx_result tcp_output_sack_rtx(struct tcp_stack *s, struct tcp_conn *c,
					      const struct ip_sender *tx, smx_instant now, bool *sent)
{
	uint32_t data_seq = tcp_snd_data_seq(c), end = tcp_data_end(c), mss = tcp_seg_mss(c);
	uint32_t seq, len;

	while (tcp_sb_next_lost(c, &seq, &len) && c->cwnd >= tcp_sb_pipe(c) + mss) {
		/* The FIN's place in a hole (it took a sequence number too) goes with the data before it. */
		uint32_t data = tcp_seq_gt(seq + len, end) ? (tcp_seq_gt(end, seq) ? end - seq : 0) : len;
		bool fin = (c->flags & TCP_CF_FIN_QUEUED) && seq + data == c->snd_fin_seq &&
			   tcp_seq_gt(c->snd_max, c->snd_fin_seq);
		enum tcp_tx_result res;

		if (data == 0 && !fin)
			break;
		res = tcp_send_segment(s, c, tx, seq, (uint8_t)(TCP_ACK | (fin ? TCP_FIN : 0)), seq - data_seq, data);
		if (res == TCP_TX_BLOCKED)
			return res;
		tcp_sent(s, c, seq, data + (fin ? 1 : 0), now);
		tcp_cc_count_rtx(c);
		tcp_sb_mark_rtx(c, seq, seq + data + (fin ? 1 : 0), now);
		c->high_rxt = seq + data + (fin ? 1 : 0);
		c->prr_out += data;
		*sent |= res == TCP_TX_SENT;
		/* Watch the retransmission: the probe timer in a recovery takes it as lost again if it is
		 * not answered (tcp_timer.c). When it is SND.UNA's, the RTO restarts too (as Linux does):
		 * else one set long ago by the last cumulative ACK fires first, though a lost
		 * retransmission of the head with nothing sent after it (a window of one or two
		 * segments) is found this way, one PTO on, without the RTO's collapse to one segment. */
		if (seq == c->snd_una)
			tcp_rtx_start(s, c, now);
		else
			tcp_tlp_arm(s, c, now);
	}
	return TCP_TX_SENT;
}

/* RFC 8985 7.3: the tail loss probe, so that a lost tail draws SACKs (and a fast recovery) instead
 * of waiting for the RTO; then the RTO runs again from now. The last segment sent, once more, where
 * RFC 8985 would rather send a new one: a segment wholly received before is answered at once (RFC
 * 9293 3.10.7.4: an unacceptable segment is ACKed), while a lone new one waits for the peer's
 * delayed ACK (Linux: 40 ms and more). On a fast path that wait was what a lost last ACK of a
 * flight cost: at 1% loss each way on veth, about 25 stalls of 42-45 ms a second, half the time
 * (a capture: the flight ACKed, that ACK lost, a new segment probed 3 ms later, ACKed 42 ms after).
 * A new segment only when nothing sent is unacknowledged but the FIN. */
static enum tcp_tx_result tcp_output_tlp(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx,
					 smx_instant now, bool *sent)
{
	uint32_t data_seq = tcp_snd_data_seq(c), end = tcp_data_end(c), mss = tcp_seg_mss(c);
	uint32_t rwnd_end = c->snd_una + c->snd_wnd, seq, len;
	uint32_t sent_end = tcp_seq_lt(c->snd_max, end) ? c->snd_max : end;
	bool fin;
	enum tcp_tx_result res;

	c->flags &= ~(uint32_t)TCP_CF_TLP_PROBE;
	if (!tcp_seq_gt(sent_end, data_seq) && c->snd_nxt == c->snd_max && tcp_seq_lt(c->snd_nxt, end) &&
	    tcp_seq_gt(rwnd_end, c->snd_nxt)) {
		seq = c->snd_nxt;
		len = SMX_MIN(SMX_MIN(end - seq, mss), rwnd_end - seq);
	} else {
		seq = tcp_seq_gt(sent_end - SMX_MIN(sent_end - data_seq, mss), c->snd_una)
			      ? sent_end - SMX_MIN(sent_end - data_seq, mss) : c->snd_una;
		len = tcp_seq_gt(sent_end, seq) ? sent_end - seq : 0;
	}
	fin = (c->flags & TCP_CF_FIN_QUEUED) && seq + len == c->snd_fin_seq && tcp_seq_gt(c->snd_max, c->snd_fin_seq);
	if (len == 0 && !fin)
		return TCP_TX_LOST;
	res = tcp_send_segment(s, c, tx, seq, (uint8_t)(TCP_ACK | (fin ? TCP_FIN : 0)), seq - data_seq, len);
	if (res == TCP_TX_BLOCKED) {
		c->flags |= TCP_CF_TLP_PROBE;
		return res;
	}
	c->st.tlp_probes++;
	s->stats.tlp_probes++;
	if (tcp_seq_lt(seq, c->snd_max)) {
		tcp_cc_count_rtx(c); /* a probe sent again: its D-SACK must not count for another */
		c->tlp_rtx_seq = seq; /* and which copy an ACK of it answers is unknown (Karn) */
		c->tlp_rtx_end = seq + len;
	}
	tcp_sent(s, c, seq, len + (fin ? 1 : 0), now);
	if (tcp_seq_lt(c->snd_nxt, seq + len + (fin ? 1 : 0)))
		c->snd_nxt = seq + len + (fin ? 1 : 0);
	tcp_rtx_start(s, c, now);
	*sent = true;
	return res;
}

/* RFC 9293 3.8.6.1: with the window shut, one byte now and then, backing off. */
static enum tcp_tx_result tcp_output_probe(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx,
					   smx_instant now)
{
	uint32_t data_seq = tcp_snd_data_seq(c), end = tcp_data_end(c);
	enum tcp_tx_result res = TCP_TX_LOST;

	c->flags &= ~(uint32_t)TCP_CF_PROBE;
	if (tcp_seq_lt(c->snd_una, end)) {
		res = tcp_send_segment(s, c, tx, c->snd_una, TCP_ACK, c->snd_una - data_seq, 1);
		if (res == TCP_TX_BLOCKED) {
			c->flags |= TCP_CF_PROBE;
			return res;
		}
		c->st.zero_window_probes++;
		if (c->snd_una == c->snd_max)
			c->una_since = now;
		if (tcp_seq_lt(c->snd_nxt, c->snd_una + 1))
			c->snd_nxt = c->snd_una + 1;
		if (tcp_seq_lt(c->snd_max, c->snd_nxt)) {
			c->st.bytes_out += c->snd_nxt - c->snd_max;
			c->snd_max = c->snd_nxt;
		}
	}
	if (c->snd_wnd == 0 || tcp_seq_lt(c->snd_nxt, end)) {
		c->backoff++;
		c->flags |= TCP_CF_PERSIST;
		c->rtx_at = now + SMX_MIN(tcp_rto_backed_off(s, c), TCP_PERSIST_MAX);
		tcp_timer_arm(s, c, c->rtx_at);
	}
	return res;
}

/* New data (and retransmission after a timeout, from snd_nxt), then the FIN. */
static enum tcp_tx_result tcp_output_data(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx,
					  smx_instant now, bool *sent)
{
	uint32_t data_seq = tcp_snd_data_seq(c), end = tcp_data_end(c);
	uint32_t mss = tcp_seg_mss(c);
	bool fin_q = (c->flags & TCP_CF_FIN_QUEUED) != 0;

	for (;;) {
		uint32_t room = mss;
		/* Going back after a timeout, what the peer SACKed is skipped (RFC 6675 5.1). */
		if ((c->flags & TCP_CF_SACK_OK) && c->sb.count > 0 && tcp_seq_lt(c->snd_nxt, c->snd_max))
			c->snd_nxt = tcp_sb_skip(c, c->snd_nxt, mss, &room);
		uint32_t avail = tcp_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
		/* In flight: RFC 6675's pipe during a SACK recovery, else all that was sent. */
		uint32_t inflight = tcp_sack_recovery(c) ? tcp_sb_pipe(c) : c->snd_nxt - c->snd_una;
		uint32_t cwnd = tcp_cc_send_window(c);
		uint32_t rwnd_end = c->snd_una + c->snd_wnd;
		uint32_t usable = SMX_MIN(cwnd > inflight ? cwnd - inflight : 0,
					  tcp_seq_gt(rwnd_end, c->snd_nxt) ? rwnd_end - c->snd_nxt : 0);
		uint32_t len = SMX_MIN(SMX_MIN(avail, usable), room);
		bool fin, fresh = tcp_seq_ge(c->snd_nxt, c->snd_max);
		enum tcp_tx_result res;

		if (avail == 0 && !(fin_q && c->snd_nxt == c->snd_fin_seq))
			break;
		if (avail > 0) {
			if (len == 0)
				break;
			/* Both rules are about new data: a hole being filled goes as it is. */
			if (fresh && len < mss && len < avail && len < c->max_snd_wnd / 2)
				break; /* sender SWS avoidance: wait for a useful window */
			if (fresh && len < mss && len == avail && !fin_q && !(c->flags & TCP_CF_NODELAY) &&
			    c->snd_nxt != c->snd_una)
				break; /* Nagle: one small segment outstanding at a time */
		}
		fin = fin_q && c->snd_nxt + len == c->snd_fin_seq;
		res = tcp_send_segment(s, c, tx, c->snd_nxt,
				       (uint8_t)(TCP_ACK | (len > 0 && len == avail ? TCP_PSH : 0) |
						 (fin ? TCP_FIN : 0)),
				       c->snd_nxt - data_seq, len);
		if (res == TCP_TX_BLOCKED)
			return res;
		*sent = true;
		tcp_sent(s, c, c->snd_nxt, len + (fin ? 1 : 0), now);
		if (!fresh)
			tcp_cc_count_rtx(c); /* go-back-N: one more for D-SACKs to undo a timeout */
		if (tcp_sack_recovery(c))
			c->prr_out += len;
		c->snd_nxt += len + (fin ? 1 : 0);
		if (fin)
			break;
	}
	/* Unsent data, nothing outstanding, and the window will not take it: probe (persist). After a
	 * timeout with the window shrunk to zero (RFC 1122 4.2.2.16), snd_nxt went back to snd_una but
	 * snd_max did not, and no retransmission timer runs: that counts as nothing outstanding too, or
	 * nothing would ever ask about the window again. */
	if (tcp_seq_lt(c->snd_nxt, end) && c->snd_nxt == c->snd_una &&
	    (c->snd_max == c->snd_una || c->rtx_at == SMX_INSTANT_NEVER) && !(c->flags & TCP_CF_PERSIST)) {
		c->flags |= TCP_CF_PERSIST;
		c->rtx_at = now + SMX_MIN(tcp_rto_backed_off(s, c), TCP_PERSIST_MAX);
		tcp_timer_arm(s, c, c->rtx_at);
	}
	return TCP_TX_SENT;
}

static enum tcp_tx_result tcp_output_rst(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx)
{
	/* RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (our snd_max: the highest sent, which is what
	 * the peer expects next), with the ACK Linux also sends. */
	enum tcp_tx_result res = tcp_send_segment(s, c, tx, c->snd_max, TCP_RST | TCP_ACK, 0, 0);

	if (res == TCP_TX_BLOCKED)
		return res;
	s->stats.rst_sent++;
	c->flags &= ~(uint32_t)TCP_CF_SEND_RST;
	if ((c->flags & TCP_CF_RELEASED) || c->listener)
		tcp_conn_free(s, c);
	return res;
}

/* The sequence number of a pure ACK: snd_max (see below), except while probing a shut window. The
 * peer acknowledged snd_una with a zero window, so it accepts an empty segment only at SEG.SEQ =
 * RCV.NXT = snd_una (RFC 9293 3.10.7.4's table); at snd_max, past our probe byte, every window update
 * we send would be dropped and the peer would learn of our window only from our backed-off probes. */
static uint32_t tcp_pure_ack_seq(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_PERSIST) && c->snd_wnd == 0 ? c->snd_una : c->snd_max;
}

bool tcp_conn_output(struct tcp_stack *s, struct tcp_conn *c, smx_instant now, const struct ip_sender *tx,
		     bool *blocked)
{
	bool sent = false;
	enum tcp_tx_result res = TCP_TX_SENT;

	*blocked = false;
	tcp_pmtu_check(c, now);
	if (c->flags & TCP_CF_SEND_RST) {
		res = tcp_output_rst(s, c, tx);
		*blocked = res == TCP_TX_BLOCKED;
		return res == TCP_TX_SENT;
	}
	if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
		return false;
	if (c->flags & TCP_CF_POOL_RX)
		tcp_rcvbuf_top_up(s, c); /* woken by chunks coming back */
	if ((c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) && c->snd_nxt == c->iss) {
		res = tcp_output_syn(s, c, tx, now);
		sent = res == TCP_TX_SENT;
		goto out;
	}
	if (tcp_state_sends_data(c->state)) {
		if (c->flags & TCP_CF_FAST_RTX) {
			res = tcp_output_fast_rtx(s, c, tx, now);
			if (res == TCP_TX_BLOCKED)
				goto out;
			sent |= res == TCP_TX_SENT;
		}
		if (tcp_sack_recovery(c)) {
			res = tcp_output_sack_rtx(s, c, tx, now, &sent);
			if (res == TCP_TX_BLOCKED)
				goto out;
		}
		if (c->flags & TCP_CF_TLP_PROBE) {
			res = tcp_output_tlp(s, c, tx, now, &sent);
			if (res == TCP_TX_BLOCKED)
				goto out;
		}
		if (c->flags & TCP_CF_PROBE) {
			res = tcp_output_probe(s, c, tx, now);
			if (res == TCP_TX_BLOCKED)
				goto out;
			sent |= res == TCP_TX_SENT;
		}
		res = tcp_output_data(s, c, tx, now, &sent);
		if (res == TCP_TX_BLOCKED)
			goto out;
	}
	if (c->flags & TCP_CF_KEEP_PROBE) {
		/* RFC 9293 3.8.4: an ACK for an old sequence number draws an ACK from a live peer. */
		res = tcp_send_segment(s, c, tx, c->snd_una - 1, TCP_ACK, 0, 0);
		if (res == TCP_TX_BLOCKED)
			goto out;
		c->flags &= ~(uint32_t)TCP_CF_KEEP_PROBE;
		sent = true;
	}
	if (c->state == TCP_SYN_SENT)
		goto out;
	/* A pure ACK when one is owed, or when the app freed enough space for a window update. */
	if ((c->flags & TCP_CF_ACK_NOW) || tcp_rcv_window_opens(c)) {
		/* At snd_max, not snd_nxt: while going back after a timeout, snd_nxt may lie below what
		 * the peer already has, and a segment left of its window is dropped ACK and all (the
		 * same choice BSD makes). */
		res = tcp_send_segment(s, c, tx, tcp_pure_ack_seq(c), TCP_ACK, 0, 0);
		sent |= res == TCP_TX_SENT;
	}
out:
	*blocked = res == TCP_TX_BLOCKED;
	return sent;
}

/* An ACK owed at once, sent from input (RFC 5681 4.2: out-of-order segments and every second
 * full-sized segment), so a batch of received frames still yields one ACK per event rather than
 * one per batch: the peer's fast retransmit counts duplicate ACKs, slow start counts ACKs. */
void tcp_conn_ack_now(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx)
{
	if (!tx || !(c->flags & TCP_CF_IN_USE) || !(c->flags & TCP_CF_ACK_NOW) || (c->flags & TCP_CF_SEND_RST))
		return;
	if (c->state < TCP_SYN_RECEIVED || (c->state == TCP_SYN_RECEIVED && c->snd_nxt == c->iss))
		return;
	tcp_send_segment(s, c, tx, tcp_pure_ack_seq(c), TCP_ACK, 0, 0);
}

bool tcp_output(struct tcp_stack *s, smx_instant now, const struct ip_sender *tx)
{
	bool any = false;
	uint32_t n;

	if (now > s->now)
		s->now = now;
	tcp_timers_run(s, now);
	if (s->lists[TCP_LIST_POOL].count > 0)
		tcp_pool_wake(s);
	n = s->lists[TCP_LIST_READY].count;
	while (n-- > 0) {
		struct tcp_conn *c = tcp_list_pop(s, &s->lists[TCP_LIST_READY], TCP_LIST_READY);
		bool blocked;

		if (!c)
			break;
		any |= tcp_conn_output(s, c, now, tx, &blocked);
		if (blocked) {
			tcp_conn_ready(s, c);
			break;
		}
	}
	return any;
}
