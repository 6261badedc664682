/* The SACK sender's scoreboard (RFC 6675): what the peer holds above SND.UNA, as the ranges its SACK
 * blocks reported (kept in a tcp_assembler: sorted, merged), and from it the three things loss
 * recovery asks: which unSACKed bytes are lost (IsLost), how much is in the network (SetPipe), and
 * what to retransmit next (NextSeg). O(ranges) each, never per segment. */
#include "tcp_internal.h"

void tcp_sb_reset(struct tcp_conn *c)
{
	c->sb.count = 0;
	c->sb.recent_count = 0;
	c->high_rxt = c->snd_una;
	c->rtx_mark_count = 0;
}

/* RFC 2018 / RFC 2883: take the blocks of one ACK (snd_una already advanced). Blocks outside
 * (SND.UNA, SND.MAX], malformed, or D-SACKs (below the cumulative ACK) add nothing. Returns the bytes
 * newly SACKed. */
uint32_t tcp_sb_update(struct tcp_conn *c, const struct tcp_options *o)
{
	uint32_t before = tcp_sb_sacked(c);

	tcp_asm_advance(&c->sb, c->snd_una);
	for (unsigned i = 0; i < o->sack_count; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;

		if (!tcp_seq_lt(l, r) || tcp_seq_le(r, c->snd_una) || tcp_seq_gt(r, c->snd_max))
			continue;
		if (tcp_seq_lt(l, c->snd_una))
			l = c->snd_una;
		/* A full table forgets its lowest range for a block above it: the news is at the top
		 * (IsLost and pipe are counted from there), and bytes forgotten at the bottom are at worst
		 * sent again, which the peer D-SACKs. Dropping the new block instead would leave IsLost
		 * blind to every later loss until a timeout. */
		while (!tcp_asm_add(&c->sb, l, r) && c->sb.count > 0 && tcp_seq_gt(l, c->sb.right[0]))
			tcp_asm_advance(&c->sb, c->sb.left[0]);
	}
	uint32_t after = tcp_sb_sacked(c);
	return after > before ? after - before : 0;
}

/* RFC 2883 4: the first block reports a duplicate when it lies below the cumulative ACK (snd_una,
 * already advanced) or inside the second block. */
bool tcp_sb_dsack(const struct tcp_conn *c, const struct tcp_options *o, uint32_t *left, uint32_t *right)
{
	uint32_t l, r;

	if (o->sack_count == 0)
		return false;
	l = o->sack[0].left;
	r = o->sack[0].right;
	if (!tcp_seq_lt(l, r) || r - l > c->max_snd_wnd + (1u << 16))
		return false;
	if (!tcp_seq_le(r, c->snd_una) &&
	    !(o->sack_count > 1 && tcp_seq_ge(l, o->sack[1].left) && tcp_seq_le(r, o->sack[1].right)))
		return false;
	*left = l;
	*right = r;
	return true;
}

/* DupThresh for this connection (RFC 6675 2: 3, "or an adaptive value"): raised by reordering the
 * peer's D-SACKs revealed, but never above half the segments in flight, so a small window still
 * recovers by SACKs (as Linux bounds its reordering degree by packets_out) instead of a timeout. */
uint32_t tcp_sb_dupthresh(const struct tcp_conn *c)
{
	uint32_t half = tcp_flight_size(c) / tcp_seg_mss(c) / 2;

	return SMX_MAX(3u, SMX_MIN((uint32_t)c->dupthresh, half));
}

uint32_t tcp_sb_sacked(const struct tcp_conn *c)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < c->sb.count; i++)
		n += c->sb.right[i] - c->sb.left[i];
	return n;
}

/* RFC 6675 IsLost(seq): DupThresh SACKed ranges above seq, or more than (DupThresh - 1) * SMSS SACKed
 * bytes above it. Both grow as seq goes down, so every hole below some edge is lost and none above:
 * that edge is returned (snd_una when nothing is lost). RACK (RFC 8985 6.2) declares first
 * transmissions lost by time, up to rack_lost: the higher edge of the two wins. */
uint32_t tcp_sb_lost_edge(const struct tcp_conn *c)
{
	uint32_t bytes = 0, mss = tcp_seg_mss(c), dupthresh = tcp_sb_dupthresh(c), edge = c->snd_una;

	for (int i = (int)c->sb.count - 1; i >= 0; i--) {
		bytes += c->sb.right[i] - c->sb.left[i];
		if ((unsigned)(c->sb.count - i) >= dupthresh || bytes > (dupthresh - 1) * mss) {
			edge = c->sb.left[i];
			break;
		}
	}
	if (tcp_seq_gt(c->rack_lost, edge) && tcp_seq_le(c->rack_lost, c->snd_max))
		edge = c->rack_lost;
	return edge;
}

/* Unsacked bytes in [from, to). */
static uint32_t tcp_sb_unsacked(const struct tcp_conn *c, uint32_t from, uint32_t to)
{
	uint32_t n;

	if (!tcp_seq_lt(from, to))
		return 0;
	n = to - from;
	for (unsigned i = 0; i < c->sb.count; i++) {
		uint32_t l = tcp_seq_gt(c->sb.left[i], from) ? c->sb.left[i] : from;
		uint32_t r = tcp_seq_lt(c->sb.right[i], to) ? c->sb.right[i] : to;

		if (tcp_seq_lt(l, r))
			n -= r - l;
	}
	return n;
}

/* RFC 6675 SetPipe, per octet rather than per segment: an unSACKed octet counts once if it is not
 * lost, and once more if it was retransmitted (below HighRxt). With the lost edge L that is the
 * unSACKed bytes in [L, SND.MAX) plus those in [SND.UNA, HighRxt). */
uint32_t tcp_sb_pipe(const struct tcp_conn *c)
{
	uint32_t edge = tcp_sb_lost_edge(c);

	return tcp_sb_unsacked(c, edge, c->snd_max) + tcp_sb_unsacked(c, c->snd_una, c->high_rxt);
}

/* Past any retransmission still in flight at seq: once RACK moved HighRxt back over a lost one, the
 * later ones above it are not sent again while they may still arrive. */
static uint32_t tcp_sb_skip_rtx(const struct tcp_conn *c, uint32_t seq)
{
	for (unsigned i = 0; i < c->rtx_mark_count; i++) {
		const struct tcp_rack_rtx *m = &c->rtx_marks[(c->rtx_mark_head + i) % TCP_RTX_MARKS];

		if (tcp_seq_ge(seq, m->seq) && tcp_seq_lt(seq, m->end)) {
			seq = m->end;
			i = UINT32_MAX; /* start over: marks are in time order, not sequence order */
		}
	}
	return seq;
}

/* RFC 6675 NextSeg rule (1): the first unSACKed bytes above HighRxt (and SND.UNA) that are lost, up
 * to one segment, never into SACKed data. False when nothing lost is left to resend. */
bool tcp_sb_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	uint32_t edge = tcp_sb_lost_edge(c);
	uint32_t s = tcp_seq_gt(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;

	s = tcp_sb_skip_rtx(c, s);
	for (unsigned i = 0; i < c->sb.count && tcp_seq_lt(s, edge); i++) {
		if (tcp_seq_ge(s, c->sb.right[i]))
			continue;
		if (tcp_seq_lt(s, c->sb.left[i])) {
			uint32_t end = tcp_seq_lt(c->sb.left[i], edge) ? c->sb.left[i] : edge;

			*seq = s;
			*len = SMX_MIN(end - s, tcp_seg_mss(c));
			return true;
		}
		s = tcp_sb_skip_rtx(c, c->sb.right[i]); /* inside a SACKed range: skip it */
	}
	if (tcp_seq_lt(s, edge)) {
		*seq = s;
		*len = SMX_MIN(edge - s, tcp_seg_mss(c));
		return true;
	}
	return false;
}

/* Where sending from seq would resend SACKed data, the end of that range; else seq. And how far
 * from seq the peer is missing everything (to the next SACKed range), capped at `cap`. */
uint32_t tcp_sb_skip(const struct tcp_conn *c, uint32_t seq, uint32_t cap, uint32_t *room)
{
	*room = cap;
	for (unsigned i = 0; i < c->sb.count; i++) {
		if (tcp_seq_le(c->sb.right[i], seq))
			continue;
		if (tcp_seq_le(c->sb.left[i], seq)) {
			seq = c->sb.right[i];
			continue;
		}
		*room = SMX_MIN(cap, c->sb.left[i] - seq);
		break;
	}
	return seq;
}

/* A retransmission during a recovery, and when it went out, for RACK (tcp_rack.c) to tell when it is
 * lost too. A ring in time order; when full, the oldest is forgotten (left to the RTO). */
void tcp_sb_mark_rtx(struct tcp_conn *c, uint32_t seq, uint32_t end, smx_instant now)
{
	unsigned i = (c->rtx_mark_head + c->rtx_mark_count) % TCP_RTX_MARKS;

	if (!c->rtx_marks)
		return; /* no range tables (the pool was short): lost retransmissions wait for the RTO */
	if (c->rtx_mark_count == TCP_RTX_MARKS)
		c->rtx_mark_head = (uint8_t)((c->rtx_mark_head + 1) % TCP_RTX_MARKS);
	else
		c->rtx_mark_count++;
	c->rtx_marks[i].seq = seq;
	c->rtx_marks[i].end = end;
	c->rtx_marks[i].ts = (uint32_t)now;
}
