/* RTT estimation and the retransmission timeout (RFC 6298), and congestion control (SMSS is RFC
 * 5681's: the largest payload, so the MSS less the timestamp option when every segment has one):
 * slow start (RFC 5681 3.1, ended early by HyStart++, RFC 9406, in tcp_cubic.c) and congestion
 * avoidance by CUBIC (RFC 9438, tcp_cubic.c) or NewReno (RFC 5681 3.1), per connection; fast
 * retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial-ACK handling (RFC 6582 3.2),
 * limited transmit (RFC 3042), SACK recovery with PRR (RFC 6675, RFC 6937), and the loss window
 * after a timeout. The multiplicative decrease is the algorithm's own: 1/2 for NewReno, 0.7 CUBIC. */
#include "tcp_internal.h"

/* RFC 6298 2.2 and 2.3, with RTO = SRTT + max(G, 4 * RTTVAR), clamped by 2.4 and 2.5. */
void tcp_rtt_sample(struct tcp_stack *s, struct tcp_conn *c, uint32_t r)
{
	uint64_t rto;

	if (c->srtt == 0) {
		c->srtt = r > 0 ? r : 1;
		c->rttvar = r / 2;
	} else {
		uint32_t delta = c->srtt > r ? c->srtt - r : r - c->srtt;

		/* RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4; then
		 * SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8 (in that order, 2.3). */
		c->rttvar = c->rttvar - c->rttvar / 4 + delta / 4;
		c->srtt = c->srtt - c->srtt / 8 + r / 8;
		if (c->srtt == 0)
			c->srtt = 1;
	}
	rto = (uint64_t)c->srtt + SMX_MAX((uint64_t)TCP_CLOCK_GRANULARITY, 4ull * c->rttvar);
	if (rto < s->cfg.rto_min)
		rto = s->cfg.rto_min;
	if (rto > s->cfg.rto_max)
		rto = s->cfg.rto_max;
	c->rto = (uint32_t)rto;
	/* A fresh sample ends any backoff (RFC 6298 5.7 keeps it only until then). */
	c->backoff = 0;
	if (r > 0 && r < c->hs_delay_min)
		c->hs_delay_min = r; /* the ACK train's yardstick (tcp_cubic.c), to the microsecond */
	c->st.srtt_us = c->srtt;
	c->st.rttvar_us = c->rttvar;
	c->st.rto_us = c->rto;
}

/* Whether an ACK's echo, after timeouts in a row, names an older copy of the data than the latest:
 * then that copy (or the original) arrived but its ACK was lost, and this ACK may answer a later
 * copy, which as a duplicate left TS.Recent alone (RFC 7323 5.3 rejects it, R2, before R3 would take
 * its TSval). Timestamps do not resolve this ambiguity (RFC 6298 3 says they do), and its RTT would
 * count the backoff between the copies: 1.4 s after three timeouts of 0.2 s, an RTO near 1.6 s from
 * it, the next episode's copies waiting that long doubled and echoed alike (13.6 s samples and 60 s
 * stalls seen with 10% loss each way). So no sample, as Karn's rule. After a single timeout the echo
 * of the original flight is still one: RFC 3522's spurious timeout, a late ACK whose RTT is real (or
 * a lost one, whose sample is an RTO more than the RTT, no worse); and the echo of the latest copy
 * is unambiguous. A path whose RTT outgrows two RTOs at once is then learned only from data sent
 * once, and meanwhile each of its timeouts proves spurious and is undone (tcp_cc_rto_undo_check). */
bool tcp_rtt_echo_ambiguous(const struct tcp_conn *c, uint32_t ts_ecr)
{
	return c->backoff >= 2 && (int32_t)(ts_ecr - c->rto_tsval) < 0;
}

/* RFC 6298 5.5: the timer backs off by doubling, up to the maximum. */
uint32_t tcp_rto_backed_off(const struct tcp_stack *s, const struct tcp_conn *c)
{
	uint64_t rto = c->rto;

	for (uint32_t i = 0; i < c->backoff && rto < s->cfg.rto_max; i++)
		rto *= 2;
	return (uint32_t)SMX_MIN(rto, s->cfg.rto_max);
}

/* The congestion window output may use now: cwnd, plus RFC 3042's allowance after one or two
 * duplicate ACKs outside recovery. */
uint32_t tcp_cc_send_window(const struct tcp_conn *c)
{
	if (!(c->flags & TCP_CF_IN_RECOVERY) && c->dupacks > 0 && c->dupacks < 3)
		return c->cwnd + (uint32_t)c->dupacks * tcp_seg_mss(c);
	return c->cwnd;
}

/* RFC 5681 3.1: the initial window, by the sender's MSS. */
void tcp_cc_init(struct tcp_conn *c)
{
	uint32_t mss = tcp_seg_mss(c);

	if (mss > 2190)
		c->cwnd = 2 * mss;
	else if (mss > 1095)
		c->cwnd = 3 * mss;
	else
		c->cwnd = 4 * mss;
	c->ssthresh = UINT32_MAX / 2; /* "arbitrarily high" (RFC 5681 3.1) */
	tcp_cubic_reset(c);
	tcp_hystart_init(c);
	c->dupthresh = TCP_DUPTHRESH;
	c->undo_retrans = -1;
	c->st.dupthresh = c->dupthresh;
	c->st.cc = c->cc;
	c->st.cwnd = c->cwnd;
	c->st.ssthresh = c->ssthresh;
}

static void tcp_cc_stats(struct tcp_conn *c)
{
	c->st.cwnd = c->cwnd;
	c->st.ssthresh = c->ssthresh;
}

/* A congestion event: the new ssthresh. NewReno: RFC 5681 3.1 eq. 4, max(FlightSize / 2, 2 * SMSS);
 * CUBIC: RFC 9438 4.6. Either way slow start is over for HyStart++ (RFC 9406 4.2: not used again). */
static uint32_t tcp_cc_loss_ssthresh(struct tcp_conn *c)
{
	c->hs_state = TCP_HS_DONE;
	if (c->cc == TCP_CC_CUBIC)
		return tcp_cubic_on_congestion(c);
	return SMX_MAX(tcp_cc_loss_flight(c) / 2, 2u * tcp_seg_mss(c));
}

/* RFC 7661's point, as Linux applies it: a window the sender did not fill was not tested by the
 * network, so it grows only while at least half of it was in flight (an application- or
 * receiver-limited connection would otherwise grow cwnd without bound, and its first loss would
 * meet a window far above any it used). `flight` is what was outstanding before this ACK. */
static bool tcp_cc_window_used(const struct tcp_conn *c, uint32_t flight)
{
	return (uint64_t)flight * 2 >= c->cwnd;
}

/* An ACK that acknowledged `acked` new bytes, snd_una already moved (prev_una is where it was);
 * rtt_us: the ACK's RTT sample from its echoed timestamp, UINT32_MAX if none (HyStart++). */
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked, smx_instant now, uint32_t rtt_us)
{
	uint32_t mss = tcp_seg_mss(c);

	c->dupacks = 0;
	if (tcp_sack_recovery(c)) {
		/* RFC 6937: recovery ends with cwnd = ssthresh; before that, PRR sets it (tcp_cc_sack_ack). */
		if (tcp_seq_ge(c->snd_una, c->recover)) {
			c->cwnd = c->ssthresh;
			c->flags &= ~(uint32_t)TCP_CF_IN_RECOVERY;
			tcp_rack_recovery_end(c);
		}
		tcp_cc_stats(c);
		return;
	}
	if (c->flags & TCP_CF_IN_RECOVERY) {
		if (tcp_seq_ge(c->snd_una, c->recover)) {
			/* RFC 6582 3.2 step 3 full ACK: deflate to min(ssthresh, FlightSize + SMSS). */
			c->cwnd = SMX_MIN(c->ssthresh, SMX_MAX(tcp_flight_size(c), mss) + mss);
			c->flags &= ~(uint32_t)TCP_CF_IN_RECOVERY;
		} else {
			/* RFC 6582 3.2 step 4 partial ACK: retransmit the next hole, deflate by the amount
			 * acknowledged, add back one SMSS if at least that much was acknowledged. */
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= mss)
				c->cwnd += mss;
			if (c->cwnd < mss)
				c->cwnd = mss;
			c->flags |= TCP_CF_FAST_RTX;
		}
	} else if (!tcp_cc_window_used(c, c->snd_max - c->prev_una)) {
		/* Not limited by cwnd: no growth. */
	} else if (c->cwnd < c->ssthresh) {
		/* Slow start, RFC 5681 3.1 eq. 2 with RFC 3465 byte counting, L = 2 SMSS: a receiver that
		 * acknowledges every second segment (or more, as Linux's coalesced ACKs do) still doubles
		 * the window each round trip. HyStart++ slows it (conservative slow start) or ends it. */
		c->cwnd += SMX_MIN(acked, 2u * mss) / tcp_hystart_ack(c, rtt_us, now);
	} else if (c->cc == TCP_CC_CUBIC) {
		tcp_cubic_grow(c, acked, now);
	} else {
		/* Congestion avoidance, RFC 5681 3.1 eq. 3 counted in bytes (RFC 3465 2.1): about one SMSS
		 * per window acknowledged, however many segments each ACK covers. */
		uint32_t inc = (uint32_t)((uint64_t)mss * SMX_MIN(acked, c->cwnd) / c->cwnd);

		c->cwnd += inc > 0 ? inc : 1;
	}
	/* Keep `recover` within reach of sequence comparison on long loss-free runs: once SND.UNA is
	 * far past it, not while it lies ahead (after a timeout it is SND.MAX, and RFC 6582 4 needs it
	 * there until go-back-N passes it, so that the duplicates the resent segments draw do not start a
	 * recovery of their own). */
	if (!(c->flags & TCP_CF_IN_RECOVERY) && tcp_seq_gt(c->snd_una, c->recover) &&
	    c->snd_una - c->recover > 0x40000000u)
		c->recover = c->snd_una - 1;
	/* Far beyond any window a peer can offer (RFC 7323: under 2^30), and no overflow. */
	if (c->cwnd > TCP_MAX_CWND)
		c->cwnd = TCP_MAX_CWND;
	tcp_cc_stats(c);
}

/* RFC 6582 4.2, the ACK heuristic: below `recover` (after a timeout, go-back-N may resend what the
 * peer has, and its duplicates mean nothing), duplicates still signal a loss if cwnd is above one
 * SMSS and the last cumulative ACK advanced by at most 4 SMSS: a resent segment the peer already
 * had would have made the cumulative ACK jump further. */
static bool tcp_cc_ack_heuristic(const struct tcp_conn *c)
{
	return c->cwnd > tcp_seg_mss(c) && c->snd_una - c->prev_una <= 4u * tcp_seg_mss(c);
}

/* A duplicate ACK as RFC 5681 2 defines it (the caller checked). */
void tcp_cc_on_dupack(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t mss = tcp_seg_mss(c);

	c->st.dup_acks++;
	if (c->flags & TCP_CF_IN_RECOVERY) {
		/* RFC 5681 3.2 step 4: each further duplicate inflates the window by one SMSS. */
		c->cwnd += mss;
		tcp_cc_stats(c);
		tcp_conn_ready(s, c);
		return;
	}
	if (c->dupacks < 255)
		c->dupacks++;
	if (c->dupacks < 3) {
		/* RFC 3042 limited transmit: the first two duplicates each let one new segment out, so
		 * small windows still produce the third duplicate instead of waiting for the RTO. */
		tcp_conn_ready(s, c);
		return;
	}
	if (c->dupacks != 3)
		return;
	/* RFC 6582 3.2 step 2: only when the ACK covers more than `recover`, the highest sequence
	 * number sent when the last recovery began (we keep recover one past it, at that snd_max), so
	 * duplicates caused by our own retransmissions after a timeout do not start a second one. */
	if (!tcp_seq_ge(c->snd_una, c->recover) && !tcp_cc_ack_heuristic(c))
		return;
	c->ssthresh = tcp_cc_loss_ssthresh(c);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + 3 * mss;
	c->flags |= TCP_CF_IN_RECOVERY | TCP_CF_FAST_RTX;
	c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING; /* Karn */
	c->st.fast_retransmits++;
	s->stats.fast_retransmits++;
	tcp_cc_stats(c);
	tcp_conn_ready(s, c);
}

/* RFC 6675 5 with RFC 6937, for a connection with SACK, on every ACK once the scoreboard took it
 * (`delivered`: bytes newly cumulatively or selectively acknowledged). Loss is declared by DupThresh
 * duplicates or by the scoreboard (IsLost(SND.UNA)); during recovery Proportional Rate Reduction
 * sets cwnd = pipe + sndcnt, so what is sent tracks what is delivered, down to ssthresh. */
void tcp_cc_sack_ack(struct tcp_stack *s, struct tcp_conn *c, uint32_t delivered, bool dupack)
{
	uint32_t mss = tcp_seg_mss(c), pipe;
	int64_t sndcnt;

	if (dupack)
		c->st.dup_acks++;
	if (!(c->flags & TCP_CF_IN_RECOVERY)) {
		/* RACK (RFC 8985 6.2) may find a loss without a duplicate: on an ACK, or by its timer. */
		bool lost = tcp_sb_lost_edge(c) != c->snd_una;

		if (!dupack && !lost)
			return;
		if (dupack && c->dupacks < 255)
			c->dupacks++;
		if (c->dupacks < tcp_sb_dupthresh(c) && !lost) {
			tcp_conn_ready(s, c); /* RFC 3042 limited transmit */
			return;
		}
		/* RFC 6675 5 (the RecoveryPoint condition, as RFC 6582's) and RFC 6582 4.2's heuristic. */
		if (!tcp_seq_ge(c->snd_una, c->recover) && !tcp_cc_ack_heuristic(c))
			return;
		/* What an undo restores, should D-SACKs show every retransmission of this episode was
		 * needless (tcp_cc_dsack). */
		c->undo_cwnd = c->cwnd;
		c->undo_ssthresh = c->ssthresh;
		c->undo_wmax = c->cubic_wmax;
		c->undo_marker = c->snd_una;
		c->undo_retrans = 0;
		c->ssthresh = tcp_cc_loss_ssthresh(c);
		c->recover = c->snd_max;
		c->recover_fs = SMX_MAX(tcp_flight_size(c), 1u);
		c->prr_delivered = 0;
		c->prr_out = 0;
		if (tcp_seq_lt(c->high_rxt, c->snd_una))
			c->high_rxt = c->snd_una;
		c->flags &= ~(uint32_t)(TCP_CF_RTX_LOST | TCP_CF_CUT_TWICE);
		c->flags |= TCP_CF_IN_RECOVERY;
		c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING; /* Karn */
		c->st.fast_retransmits++;
		s->stats.fast_retransmits++;
	}
	if ((c->flags & (TCP_CF_RTX_LOST | TCP_CF_CUT_TWICE)) == TCP_CF_RTX_LOST) {
		/* RFC 5681 4.3: "the loss of a retransmission" is a second indication of congestion, and
		 * cwnd and ssthresh "MUST be lowered twice". PRR starts over from here toward the lower
		 * ssthresh (as Linux re-enters recovery), its first segment (the lost one) going at once. */
		c->ssthresh = tcp_cc_loss_ssthresh(c);
		c->recover = c->snd_max;
		c->recover_fs = SMX_MAX(tcp_sb_pipe(c), 1u);
		c->prr_delivered = 0;
		c->prr_out = 0;
		c->flags |= TCP_CF_CUT_TWICE;
	}
	c->prr_delivered += delivered;
	pipe = tcp_sb_pipe(c);
	if (pipe > c->ssthresh) {
		/* RFC 6937 3: proportional, sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out. */
		sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh + c->recover_fs - 1) / c->recover_fs) -
			 (int64_t)c->prr_out;
	} else if (c->flags & TCP_CF_RTX_LOST) {
		/* PRR-CRB (RFC 6937 3.1): with a retransmission lost, no more than was delivered, as Linux
		 * does once it sees one (slow start into a path that just dropped it feeds a storm). */
		sndcnt = SMX_MIN((int64_t)(c->ssthresh - pipe), (int64_t)c->prr_delivered - (int64_t)c->prr_out);
	} else {
		/* PRR-SSRB: back up to ssthresh, at most one MSS beyond what was delivered. */
		int64_t limit = SMX_MAX((int64_t)c->prr_delivered - (int64_t)c->prr_out, (int64_t)delivered) + mss;

		sndcnt = SMX_MIN((int64_t)(c->ssthresh - pipe), limit);
	}
	/* As Linux does: the first retransmission goes at once, whatever the proportion says. And with
	 * nothing in flight (pipe 0: all of it delivered or taken as lost, as RACK's timer does between
	 * ACKs), no ACK will come to clock PRR on: one segment goes, which is what the RTO would send
	 * (RFC 5681 3.1's loss window), without waiting for it. Linux gets there by keeping cwnd when its
	 * timer marks a loss; here cwnd follows pipe, and stood at 0 until the RTO: at 10% loss in the
	 * simulated grid, a tenth of the timeouts. */
	if (sndcnt < (int64_t)mss && (c->prr_out == 0 || pipe == 0))
		sndcnt = mss;
	c->cwnd = pipe + (uint32_t)(sndcnt > 0 ? sndcnt : 0);
	tcp_cc_stats(c);
	tcp_conn_ready(s, c);
}

/* A retransmission during a recovery: one more for D-SACKs to account for before an undo. */
void tcp_cc_count_rtx(struct tcp_conn *c)
{
	if (c->undo_retrans >= 0 && c->undo_retrans < INT32_MAX)
		c->undo_retrans++;
}

/* A D-SACK (RFC 2883) for [left, right). The peer got those bytes twice: if we had retransmitted
 * them in the current (or the last) recovery, that retransmission was needless, and the segment had
 * been delayed, not lost: reordering, so DupThresh doubles (RFC 6675 2 allows an adaptive one; RFC
 * 4653 and Linux raise theirs alike), up to TCP_MAX_DUPTHRESH. Once every retransmission of the
 * episode is accounted for so, the reduction was a mistake and is undone (RFC 3708 3, with the
 * response of RFC 4015: cwnd and ssthresh as before, CUBIC's W_max too). */
void tcp_cc_dsack(struct tcp_stack *s, struct tcp_conn *c, uint32_t left, uint32_t right)
{
	uint32_t mss = tcp_seg_mss(c);

	(void)s;
	c->st.dsacks++;
	tcp_rack_dsack(c);
	if (c->undo_retrans <= 0 || !tcp_seq_ge(left, c->undo_marker) || !tcp_seq_lt(left, c->snd_max))
		return;
	c->dupthresh = (uint8_t)SMX_MIN(2u * c->dupthresh, TCP_MAX_DUPTHRESH);
	c->st.dupthresh = c->dupthresh;
	c->undo_retrans -= (int32_t)SMX_MAX(1u, (right - left) / mss);
	if (c->undo_retrans > 0)
		return;
	c->undo_retrans = -1;
	c->cwnd = SMX_MAX(c->cwnd, c->undo_cwnd);
	c->ssthresh = SMX_MAX(c->ssthresh, c->undo_ssthresh);
	c->cubic_wmax = SMX_MAX(c->cubic_wmax, c->undo_wmax);
	c->cubic_epoch = SMX_INSTANT_NEVER;
	/* The recovery is over, and with it RFC 6582's one-reduction-per-window guard (recover): the
	 * reduction it guarded is undone, so a real loss later in this window starts a recovery of its
	 * own instead of waiting for the timer. */
	c->flags &= ~(uint32_t)TCP_CF_IN_RECOVERY;
	c->recover = c->snd_una;
	c->dupacks = 0;
	c->st.undos++;
	tcp_cc_stats(c);
}

/* RFC 5681 3.1 eq. 4 and the loss window; RFC 6582 4 records recover at the highest sent. With SACK
 * (RFC 6675 5.1) the scoreboard survives a timeout and go-back-N skips what the peer holds, but a
 * second timeout in a row forgets it, in case the peer reneged (RFC 2018 8). */
void tcp_cc_on_timeout(struct tcp_conn *c)
{
	/* Nothing to undo after a timeout; and a reordering estimate that let a loss wait for the
	 * timer is forgotten (as Linux's tcp_enter_loss does). */
	c->undo_retrans = -1;
	c->dupthresh = TCP_DUPTHRESH;
	c->st.dupthresh = c->dupthresh;
	tcp_rack_on_timeout(c);
	if (c->flags & TCP_CF_SACK_OK) {
		if (c->backoff >= 2)
			tcp_sb_reset(c);
		c->high_rxt = c->snd_una;
	}
	/* A timeout during a recovery is the same congestion: the recovery's ssthresh stands (as
	 * Linux's tcp_enter_loss), rather than one taken from a flight that the losses inflated. */
	if (c->backoff <= 1 && !(c->flags & TCP_CF_IN_RECOVERY))
		c->ssthresh = tcp_cc_loss_ssthresh(c);
	c->cwnd = tcp_seg_mss(c);
	c->recover = c->snd_max;
	c->flags &= ~(uint32_t)TCP_CF_IN_RECOVERY;
	/* Without timestamps, D-SACKs for all of go-back-N's retransmissions undo it (tcp_cc_dsack). */
	if (c->backoff == 1 &&
	    (c->flags & (TCP_CF_RTO_UNDO | TCP_CF_TS | TCP_CF_SACK_OK)) == (TCP_CF_RTO_UNDO | TCP_CF_SACK_OK))
		c->undo_retrans = 0;
	tcp_cc_stats(c);
}

/* Before a timeout's reduction: when its retransmissions begin (every timeout), and what an undo
 * would restore, should the timeout prove spurious. The latter at the first timeout of an episode
 * only (a backed-off one keeps the first's), and within a recovery the values from before it. With
 * timestamps the retransmissions' TSval tells (Eifel detection, RFC 3522); without, D-SACKs for
 * every retransmission do, as after a recovery (RFC 3708). */
void tcp_cc_rto_undo_arm(struct tcp_conn *c, smx_instant now)
{
	c->rto_tsval = tcp_ts_now(c, now);
	if (c->backoff != 1)
		return;
	if (!((c->flags & TCP_CF_IN_RECOVERY) && c->undo_retrans >= 0)) {
		c->undo_cwnd = c->cwnd;
		c->undo_ssthresh = c->ssthresh;
		c->undo_wmax = c->cubic_wmax;
	}
	c->undo_marker = c->snd_una;
	c->undo_rto_tsval = c->rto_tsval;
	c->flags |= TCP_CF_RTO_UNDO;
}

/* RFC 3522 2: the first ACK of new data after a timeout echoes a TSval older than the
 * retransmission's: the original arrived, the timeout was spurious. The response is RFC 4015's:
 * cwnd, ssthresh and CUBIC's W_max as before, and transmission resumes with new data (SND.NXT =
 * SND.MAX) instead of going back over what the peer has. True if so. */
bool tcp_cc_rto_undo_check(struct tcp_conn *c, uint32_t ts_ecr)
{
	bool spurious;

	if (!(c->flags & TCP_CF_RTO_UNDO))
		return false;
	c->flags &= ~(uint32_t)TCP_CF_RTO_UNDO;
	spurious = (c->flags & TCP_CF_TS) && ts_ecr != 0 && (int32_t)(ts_ecr - c->undo_rto_tsval) < 0;
	if (!spurious)
		return false;
	c->cwnd = SMX_MAX(c->cwnd, c->undo_cwnd);
	c->ssthresh = SMX_MAX(c->ssthresh, c->undo_ssthresh);
	c->cubic_wmax = SMX_MAX(c->cubic_wmax, c->undo_wmax);
	c->cubic_epoch = SMX_INSTANT_NEVER;
	c->undo_retrans = -1;
	c->recover = c->snd_una;
	if (tcp_seq_lt(c->snd_nxt, c->snd_max))
		c->snd_nxt = c->snd_max;
	c->st.undos++;
	c->st.spurious_rtos++;
	tcp_cc_stats(c);
	return true;
}
