/* RACK (RFC 8985 6): loss detection by time. A segment is lost once a segment sent after it was
 * delivered and a reordering window has passed beyond one RTT since it went out, so a lost
 * retransmission is found about an RTT after it was sent, not at the RTO. The transmit times live in
 * two fixed tables per connection (tcp_internal.h: rack_sent and rtx_marks, in the pool chunk of its
 * range tables while there is more than one range to keep), never per segment; what is lost reaches RFC 6675's scoreboard as an edge below which first transmissions are lost
 * (rack_lost, read by tcp_sb_lost_edge) and as HighRxt moved back over a lost retransmission. */
#include "tcp_internal.h"

#define TCP_RACK_REO_PERSIST 16 /* RFC 8985 6.2 step 4: recoveries a raised window lasts */

static bool tcp_ts_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* RFC 8985 6.2, RACK_sent_after: (t1, seq1) was sent after (t2, seq2). */
static bool tcp_rack_sent_after(uint32_t t1, uint32_t seq1, uint32_t t2, uint32_t seq2)
{
	return tcp_ts_after(t1, t2) || (t1 == t2 && tcp_seq_gt(seq1, seq2));
}

void tcp_rack_reset(struct tcp_conn *c)
{
	c->rack_sent_head = c->rack_sent_count = 0;
	c->rtx_mark_head = c->rtx_mark_count = 0;
	c->rack_reo_mult = 1;
	c->rack_reo_persist = 0;
	c->rack_reo_seen = false;
	c->rack_valid = false;
	c->rack_min_rtt = UINT32_MAX;
	c->rack_fack = c->snd_una;
	c->rack_dsack_round = c->snd_una;
	c->rack_lost = c->snd_una;
	c->rack_at = SMX_INSTANT_NEVER;
}

static struct tcp_rack_sent *tcp_rack_at(struct tcp_conn *c, unsigned i)
{
	return &c->rack_sent[(c->rack_sent_head + i) % c->rack_sent_cap];
}

/* A transmission of [seq, end) at now. Only what extends the table in sequence order is recorded:
 * first transmissions, and go-back-N after a timeout emptied it; retransmissions in a recovery have
 * rtx_marks (tcp_sb_mark_rtx), and a probe that resends the last segment keeps its earlier time,
 * which errs early only for that one segment's own probe. Without SACK nothing reads them (RACK
 * needs to know what was delivered above a hole). */
void tcp_rack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end, smx_instant now)
{
	uint32_t t = (uint32_t)now;
	struct tcp_rack_sent *last = c->rack_sent_count ? tcp_rack_at(c, c->rack_sent_count - 1u) : NULL;

	if (!(c->flags & TCP_CF_SACK_OK) || !tcp_seq_lt(seq, end) || (last && tcp_seq_lt(seq, last->end)))
		return;
	/* A range that began before the latest retransmission is closed: what follows is sent after
	 * it, and RACK must be able to tell (a lost retransmission is found by that). */
	bool rtx_since = last && c->rtx_mark_count > 0 &&
			 tcp_ts_after(c->rtx_marks[(c->rtx_mark_head + c->rtx_mark_count - 1u) % TCP_RTX_MARKS].ts,
				      last->first - 1u);
	bool joins = last && last->end == seq && (uint32_t)(t - last->first) <= c->srtt / 8 && !rtx_since;

	/* A second range: the control block's one slot becomes the range tables' (from the pool; if it
	 * has none, the slot takes everything, which only makes loss by time later). */
	if (!joins && c->rack_sent_count == c->rack_sent_cap && c->ranges == TCP_NIL && tcp_ranges_attach(c))
		last = tcp_rack_at(c, c->rack_sent_count - 1u);
	if (last && last->end == seq && (joins || c->rack_sent_count == c->rack_sent_cap)) {
		last->end = end;
		last->last = t;
		return;
	}
	if (c->rack_sent_count == c->rack_sent_cap) {
		/* Full, and not contiguous (cannot happen with in-order sending): the oldest goes. */
		c->rack_sent_head = (uint8_t)((c->rack_sent_head + 1) % c->rack_sent_cap);
		c->rack_sent_count--;
	}
	last = tcp_rack_at(c, c->rack_sent_count++);
	last->seq = seq;
	last->end = end;
	last->first = last->last = t;
}

/* The end of the highest bytes of [l, r) not SACKed before (the scoreboard's ranges are sorted and
 * disjoint); l or less if it has none. */
static uint32_t tcp_rack_new_end(const struct tcp_conn *c, uint32_t l, uint32_t r)
{
	for (unsigned i = c->sb.count; i-- > 0 && tcp_seq_gt(r, l);) {
		if (tcp_seq_ge(c->sb.left[i], r))
			continue;
		if (tcp_seq_lt(c->sb.right[i], r))
			break;
		r = c->sb.left[i]; /* r - 1 was SACKed before: the new bytes end below this range */
	}
	return r;
}

/* Before an ACK changes anything: RACK.fack, SND.UNA, and the lowest sequence it newly delivers, for
 * RFC 8985 6.2 step 3's reordering test. "Clean" when no retransmission can be what was delivered:
 * outside a recovery, no timeout pending, no retransmission outstanding. */
void tcp_rack_ack_begin(const struct tcp_conn *c, uint32_t ack, const struct tcp_options *o,
			struct tcp_rack_ack *a)
{
	a->una0 = c->snd_una;
	a->fack0 = tcp_seq_gt(c->rack_fack, c->snd_una) ? c->rack_fack : c->snd_una;
	a->clean = !(c->flags & TCP_CF_IN_RECOVERY) && c->backoff == 0 && c->rtx_mark_count == 0;
	a->news = false;
	a->low_new = c->snd_max;
	a->high_new = c->snd_una;
	/* SND.UNA's segment when the ACK moves past it, unless it was SACKed already. */
	if (tcp_seq_gt(ack, c->snd_una) && !(c->sb.count > 0 && c->sb.left[0] == c->snd_una)) {
		a->low_new = c->snd_una;
		a->high_new = tcp_rack_new_end(c, c->snd_una, ack);
		a->news = true;
	}
	for (unsigned i = 0; i < o->sack_count; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;

		uint32_t room;

		if (!tcp_seq_lt(l, r) || !tcp_seq_gt(l, c->snd_una) || tcp_seq_gt(r, c->snd_max))
			continue;
		l = tcp_sb_skip(c, l, r - l, &room); /* the first byte of it not SACKed before */
		if (!tcp_seq_lt(l, r))
			continue;
		a->news = true;
		if (tcp_seq_lt(l, a->low_new))
			a->low_new = l;
		r = tcp_rack_new_end(c, l, r);
		if (tcp_seq_gt(r, a->high_new))
			a->high_new = r;
	}
}

uint32_t tcp_rack_rtt_sample(struct tcp_conn *c, const struct tcp_rack_ack *a, smx_instant now)
{
	uint32_t last = a->high_new - 1;

	if (!a->news || !tcp_seq_gt(a->high_new, a->una0))
		return UINT32_MAX;
	if (tcp_seq_le(c->tlp_rtx_seq, last) && tcp_seq_lt(last, c->tlp_rtx_end))
		return UINT32_MAX; /* a probe sent it again */
	for (unsigned i = 0; i < c->rtx_mark_count; i++) {
		struct tcp_rack_rtx m = c->rtx_marks[(c->rtx_mark_head + i) % TCP_RTX_MARKS];

		if (tcp_seq_le(m.seq, last) && tcp_seq_lt(last, m.end))
			return UINT32_MAX; /* retransmitted: which copy arrived is unknown */
	}
	for (unsigned i = 0; i < c->rack_sent_count; i++) {
		struct tcp_rack_sent *r = tcp_rack_at(c, i);

		if (tcp_seq_lt(last, r->seq))
			break;
		if (tcp_seq_lt(last, r->end)) {
			/* A range's segments went out within SRTT/8 of its first: its end's time is its
			 * last, any other's is taken as its first (late by less than that). */
			uint32_t sent = a->high_new == r->end ? r->last : r->first;

			return (uint32_t)now - sent;
		}
	}
	return UINT32_MAX;
}

/* RFC 8985 6.2 step 2: the delivered segment (ts, end) becomes RACK's if it was sent later than
 * RACK's. A retransmission delivered faster than the minimum RTT must have been delivered by an
 * earlier transmission, and says nothing. (min_RTT is the connection's lowest, not RFC 8985's
 * windowed minimum: the window it sets is a quarter of it, and a path that grew slower only gets a
 * smaller reordering window than it could.) */
static void tcp_rack_update(struct tcp_conn *c, uint32_t ts, uint32_t end, bool rtx, smx_instant now)
{
	uint32_t rtt = (uint32_t)now - ts;

	if (rtx && c->rack_min_rtt != UINT32_MAX && rtt < c->rack_min_rtt)
		return;
	if (rtt < c->rack_min_rtt)
		c->rack_min_rtt = rtt;
	if (c->rack_valid && !tcp_rack_sent_after(ts, end, c->rack_xmit_ts, c->rack_end_seq))
		return;
	c->rack_valid = true;
	c->rack_rtx = rtx;
	c->rack_xmit_ts = ts;
	c->rack_end_seq = end;
	c->rack_rtt = rtt;
}

/* Whether [seq, end) is delivered: cumulatively, or SACKed whole. */
static bool tcp_rack_delivered(const struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	uint32_t room;

	return tcp_seq_le(end, c->snd_una) || tcp_seq_ge(tcp_sb_skip(c, seq, end - seq, &room), end);
}

/* RFC 8985 6.2 step 4, RACK_update_reo_wnd's result: none before reordering is seen once a recovery
 * runs or DupThresh segments are SACKed (so RACK is no slower than RFC 6675), else a quarter of the
 * minimum RTT per D-SACKed round, at most SRTT. */
static uint32_t tcp_rack_reo_wnd(const struct tcp_conn *c)
{
	if (!c->rack_reo_seen &&
	    ((c->flags & TCP_CF_IN_RECOVERY) || tcp_sb_sacked(c) >= tcp_sb_dupthresh(c) * tcp_seg_mss(c)))
		return 0;
	uint32_t min_rtt = c->rack_min_rtt != UINT32_MAX ? c->rack_min_rtt : c->srtt;

	return (uint32_t)SMX_MIN((uint64_t)c->rack_reo_mult * min_rtt / 4, (uint64_t)c->srtt);
}

/* RFC 8985 6.2 step 5 (RACK_detect_loss) and 6.3's timer: every segment sent before RACK's that has
 * waited RACK.rtt + reo_wnd since it went out is lost; the earliest still waiting sets the timer.
 * First transmissions are in time order, so the lost ones are a prefix: rack_lost moves up over them.
 * A lost retransmission moves HighRxt back so NextSeg sends it once more. True if anything was lost. */
bool tcp_rack_detect(struct tcp_stack *s, struct tcp_conn *c, smx_instant now)
{
	uint32_t t = (uint32_t)now, reo = tcp_rack_reo_wnd(c), wait = UINT32_MAX;
	bool lost = false;

	c->rack_at = SMX_INSTANT_NEVER;
	if (!c->rack_valid)
		return false;
	if (tcp_seq_lt(c->rack_lost, c->snd_una))
		c->rack_lost = c->snd_una;
	for (unsigned i = 0; i < c->rack_sent_count; i++) {
		struct tcp_rack_sent *r = tcp_rack_at(c, i);
		/* Sent before RACK's segment: first transmissions below it when that was one (they went
		 * out in order), else those whose range ended before it went out. */
		uint32_t end = r->end;
		int64_t left = (int64_t)c->rack_rtt + reo - (uint32_t)(t - r->last);

		if (!c->rack_rtx) {
			if (!tcp_seq_lt(r->seq, c->rack_end_seq))
				break;
			if (tcp_seq_lt(c->rack_end_seq, end))
				end = c->rack_end_seq;
		} else if (!tcp_ts_after(c->rack_xmit_ts, r->last)) {
			break;
		}
		if (left > 0) {
			wait = (uint32_t)left;
			break;
		}
		if (tcp_seq_gt(end, c->rack_lost)) {
			c->rack_lost = end;
			lost = true;
		}
		if (end != r->end)
			break;
	}
	/* Retransmissions: the ring is in time order; what is lost leaves it. One sent in the same
	 * microsecond as RACK's segment went after it (retransmissions follow new data in a poll only
	 * when sent in a later one), so the sequence tie-break is not for them. */
	unsigned kept = 0, n = c->rtx_mark_count;
	for (unsigned i = 0; i < n; i++) {
		struct tcp_rack_rtx m = c->rtx_marks[(c->rtx_mark_head + i) % TCP_RTX_MARKS];
		int64_t left = (int64_t)c->rack_rtt + reo - (uint32_t)(t - m.ts);
		bool before = tcp_ts_after(c->rack_xmit_ts, m.ts);

		if (before && left <= 0) {
			if (tcp_seq_lt(m.seq, c->high_rxt))
				c->high_rxt = tcp_seq_gt(m.seq, c->snd_una) ? m.seq : c->snd_una;
			c->st.lost_retransmits++;
			s->stats.lost_retransmits++;
			c->flags |= TCP_CF_RTX_LOST;
			lost = true;
			continue;
		}
		if (before)
			wait = SMX_MIN(wait, (uint32_t)left);
		c->rtx_marks[(c->rtx_mark_head + kept++) % TCP_RTX_MARKS] = m;
	}
	c->rtx_mark_count = (uint8_t)kept;
	if (wait != UINT32_MAX) {
		c->rack_at = now + SMX_MAX(wait, 1u);
		tcp_timer_arm(s, c, c->rack_at);
	}
	return lost;
}

/* An ACK, once the scoreboard took it: RFC 8985 6.2 steps 2 to 5. True if a loss was found. */
bool tcp_rack_on_ack(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_options *o,
		     const struct tcp_rack_ack *a, smx_instant now)
{
	uint32_t top = c->snd_una;

	/* Step 2, first transmissions: the most recently sent of what this ACK delivered is the
	 * highest (they went out in sequence order). */
	for (unsigned i = 0; i < o->sack_count; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;

		if (tcp_seq_lt(l, r) && tcp_seq_gt(r, top) && tcp_seq_le(r, c->snd_max) && tcp_seq_gt(l, c->snd_una))
			top = r;
	}
	if (a->news || tcp_seq_gt(c->snd_una, a->una0)) {
		for (unsigned i = 0; i < c->rack_sent_count; i++) {
			struct tcp_rack_sent *r = tcp_rack_at(c, i);

			if (tcp_seq_lt(top - 1, r->seq))
				break;
			if (tcp_seq_lt(top - 1, r->end)) {
				tcp_rack_update(c, r->first, top, false, now);
				break;
			}
		}
	}
	/* ... and retransmissions delivered, which leave the ring. */
	unsigned kept = 0, n = c->rtx_mark_count;
	for (unsigned i = 0; i < n; i++) {
		struct tcp_rack_rtx m = c->rtx_marks[(c->rtx_mark_head + i) % TCP_RTX_MARKS];

		if (tcp_rack_delivered(c, m.seq, m.end)) {
			tcp_rack_update(c, m.ts, m.end, true, now);
			continue;
		}
		c->rtx_marks[(c->rtx_mark_head + kept++) % TCP_RTX_MARKS] = m;
	}
	c->rtx_mark_count = (uint8_t)kept;
	/* Acknowledged ranges leave the table. */
	while (c->rack_sent_count > 0 && tcp_seq_le(tcp_rack_at(c, 0)->end, c->snd_una)) {
		c->rack_sent_head = (uint8_t)((c->rack_sent_head + 1) % c->rack_sent_cap);
		c->rack_sent_count--;
	}
	if (c->rack_sent_count > 0 && tcp_seq_lt(tcp_rack_at(c, 0)->seq, c->snd_una))
		tcp_rack_at(c, 0)->seq = c->snd_una;
	/* Step 3: a first transmission delivered below RACK.fack came late: reordering. */
	if (a->clean && a->news && tcp_seq_lt(a->low_new, a->fack0) && tcp_seq_lt(a->low_new, top))
		c->rack_reo_seen = true;
	if (tcp_seq_gt(top, c->rack_fack))
		c->rack_fack = top;
	return tcp_rack_detect(s, c, now);
}

/* RFC 8985 6.2 step 4: a D-SACK widens the window, once per round trip, for 16 recoveries. */
void tcp_rack_dsack(struct tcp_conn *c)
{
	c->rack_reo_seen = true;
	if (tcp_seq_lt(c->snd_una, c->rack_dsack_round) && c->rack_reo_persist > 0)
		return;
	c->rack_dsack_round = c->snd_max;
	if (c->rack_reo_mult < UINT8_MAX)
		c->rack_reo_mult++;
	c->rack_reo_persist = TCP_RACK_REO_PERSIST;
}

void tcp_rack_recovery_end(struct tcp_conn *c)
{
	if (c->rack_reo_persist > 0 && --c->rack_reo_persist == 0)
		c->rack_reo_mult = 1;
}

/* After a timeout, go-back-N sends everything again from SND.UNA: its times start afresh. */
void tcp_rack_on_timeout(struct tcp_conn *c)
{
	c->rack_sent_head = c->rack_sent_count = 0;
	c->rtx_mark_count = 0;
	c->rack_valid = false; /* what was sent before it is being sent again */
	c->rack_lost = c->snd_una;
	c->rack_at = SMX_INSTANT_NEVER;
}
