/* CUBIC (RFC 9438): the window's growth in congestion avoidance and its reduction on a congestion
 * event; and HyStart++ (RFC 9406), which ends slow start when the RTT rises, before the queue
 * overflows, with Linux's ACK-train test besides (for a sender without pacing). Windows are in
 * bytes. CUBIC's time is in units of 2^-10 s (as Linux's), so that C * (t - K)^3 is integer
 * arithmetic: the stack has no floating point. */
#include "tcp_internal.h"

/* RFC 9438 4.6: beta_cubic = 0.7; 4.2: C = 0.4 = 2/5 segments per s^3. */
#define CUBIC_BETA_NUM 7u
#define CUBIC_BETA_DEN 10u
#define CUBIC_TIME_SHIFT 10
/* Beyond 64 s from K the window is far past any cap; the bound keeps t^3 * MSS within 64 bits. */
#define CUBIC_MAX_OFFSET (1u << 16)

/* RFC 9406 4.3's constants. */
#define HS_MIN_RTT_THRESH 4000u  /* us */
#define HS_MAX_RTT_THRESH 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_GROWTH_DIVISOR 4u
#define HS_CSS_ROUNDS 5u
#define HS_NONE UINT32_MAX
/* The ACK train, as Linux's HyStart has it (RFC 9406 has no such test): ACKs at most ACK_DELTA us
 * apart make one train, looked at from a window of LOW_WINDOW segments on. */
#define HS_ACK_DELTA 2000u
#define HS_LOW_WINDOW 16u

static uint64_t cubic_units(uint64_t us)
{
	return (us << CUBIC_TIME_SHIFT) / 1000000u;
}

/* The largest r with r^3 <= x (cbrt(2^64) < 2642246): once per congestion epoch, so a binary search. */
static uint32_t cubic_cbrt(uint64_t x)
{
	uint32_t lo = 0, hi = 2642245;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if ((uint64_t)mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* RFC 9438 4.2 eq. 1: W_cubic(t) = C * (t - K)^3 + W_max, t in 2^-10 s since the epoch began. */
static uint64_t cubic_window(const struct tcp_conn *c, uint64_t t)
{
	uint64_t offs = t > c->cubic_k ? t - c->cubic_k : c->cubic_k - t;
	uint64_t delta;

	if (offs > CUBIC_MAX_OFFSET)
		offs = CUBIC_MAX_OFFSET;
	/* C * offs^3 / 2^30 segments of SMSS bytes, with C = 2/5 (the shift first: no overflow). */
	delta = ((offs * offs * offs) >> CUBIC_TIME_SHIFT) * tcp_seg_mss(c) * 2 / (5ull << (2 * CUBIC_TIME_SHIFT));
	if (t > c->cubic_k)
		return c->cubic_wmax + delta;
	return delta < c->cubic_wmax ? c->cubic_wmax - delta : 0;
}

/* No epoch: the next ACK in congestion avoidance starts one (RFC 9438 4.2, after slow start or a
 * congestion event), and nothing is known of W_max before the first congestion event. */
void tcp_cubic_reset(struct tcp_conn *c)
{
	c->cubic_epoch = SMX_INSTANT_NEVER;
	c->cubic_wmax = 0;
	c->cubic_prior = 0;
	c->cubic_k = 0;
	c->cubic_west = 0;
}

static void cubic_epoch_start(struct tcp_conn *c, smx_instant now)
{
	uint32_t mss = tcp_seg_mss(c);

	c->cubic_epoch = now;
	/* RFC 9438 4.3: W_est starts at cwnd_epoch, the window the epoch begins with. */
	c->cubic_west = c->cwnd;
	if (c->cwnd < c->cubic_wmax) {
		/* 4.2 eq. 2: K = cbrt((W_max - cwnd_epoch) / C), in segments and seconds; here
		 * cbrt(diff / SMSS * 5/2 * 2^30) in 2^-10 s. */
		uint64_t diff = c->cubic_wmax - c->cwnd;

		c->cubic_k = cubic_cbrt(diff * (5ull << (3 * CUBIC_TIME_SHIFT - 1)) / mss);
	} else {
		/* Above the last maximum (or none yet): the curve starts here, convex at once. */
		c->cubic_k = 0;
		c->cubic_wmax = c->cwnd;
	}
}

/* RFC 9438 4.2-4.5, per ACK of `acked` new bytes in congestion avoidance. */
void tcp_cubic_grow(struct tcp_conn *c, uint32_t acked, smx_instant now)
{
	uint32_t mss = tcp_seg_mss(c);
	uint64_t t, target, w_t;

	if (c->cubic_epoch == SMX_INSTANT_NEVER || now < c->cubic_epoch)
		cubic_epoch_start(c, now);
	t = cubic_units(now - c->cubic_epoch);
	w_t = cubic_window(c, t);
	/* 4.3, the Reno-friendly region: W_est grows by alpha_cubic = 3 (1 - beta) / (1 + beta) = 9/17
	 * segments per window acknowledged, by 1 once past cwnd_prior; where W_cubic(t) lags it, CUBIC
	 * is as fast as Reno would be. */
	c->cubic_west += (uint32_t)((uint64_t)acked * mss * (c->cubic_west >= c->cubic_prior ? 17u : 9u) /
				    (17ull * c->cwnd));
	if (w_t < c->cubic_west) {
		if (c->cubic_west > c->cwnd)
			c->cwnd = c->cubic_west;
		return;
	}
	/* 4.4 and 4.5: toward W_cubic(t + RTT), at most 1.5 cwnd, by (target - cwnd) / cwnd per SMSS. */
	target = cubic_window(c, t + cubic_units(c->srtt));
	if (target > (uint64_t)c->cwnd * 3 / 2)
		target = (uint64_t)c->cwnd * 3 / 2;
	if (target > c->cwnd)
		c->cwnd += (uint32_t)((target - c->cwnd) * acked / c->cwnd);
}

/* RFC 9438 4.6 and 4.7, on a congestion event (fast retransmit, SACK recovery or timeout): returns
 * ssthresh = FlightSize * beta_cubic (at least 2 SMSS, RFC 5681 eq. 4). W_max is the window the loss
 * came at (the flight, capped by cwnd: tcp_cc_loss_flight), or with fast convergence (4.7) less,
 * when the last maximum was not reached: room for new flows. */
uint32_t tcp_cubic_on_congestion(struct tcp_conn *c)
{
	uint32_t flight = tcp_cc_loss_flight(c);
	uint32_t prior = flight;

	if (prior < c->cubic_wmax)
		c->cubic_wmax = (uint32_t)((uint64_t)prior * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) / (2 * CUBIC_BETA_DEN));
	else
		c->cubic_wmax = prior;
	c->cubic_prior = prior;
	c->cubic_epoch = SMX_INSTANT_NEVER;
	return SMX_MAX((uint32_t)((uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN), 2u * tcp_seg_mss(c));
}

void tcp_hystart_init(struct tcp_conn *c)
{
	c->hs_state = TCP_HS_SLOW_START;
	c->hs_samples = 0;
	c->hs_css_rounds = 0;
	c->hs_window_end = c->snd_una;
	c->hs_last_min = HS_NONE;
	c->hs_cur_min = HS_NONE;
	c->hs_css_base = HS_NONE;
	c->hs_delay_min = HS_NONE;
	c->hs_train_start = c->hs_train_last = 0;
}

/* Whether this ACK, at t, makes an ACK train longer than half the lowest RTT. A sender without pacing
 * sends what each ACK allows at once, so its ACKs come back as trains spaced by the bottleneck, with
 * idle time between them. A train longer than half the round trip means the window keeps the
 * bottleneck busy that long: doubling it from there is the burst that overflows a drop-tail queue of
 * about a BDP, and RFC 9406's per-round minimum RTT does not see it coming, for the first segments
 * after each idle time find the queue drained (on a 50 ms, 100 Mbit/s path the minimum stays at
 * 50 ms until the queue overflows). Linux's HyStart ends slow start on such a train (tcp_cubic.c
 * hystart_update); so does this. Linux times the train from the round's first ACK only; here a gap
 * starts a new one too, since the round's edge (SND.NXT when the last round ended) may fall inside a
 * train and split each window's ACKs into two trains of half its length. */
static bool tcp_hystart_train(struct tcp_conn *c, smx_instant now)
{
	uint32_t t = (uint32_t)now;

	if (c->hs_delay_min == HS_NONE || c->cwnd < HS_LOW_WINDOW * tcp_seg_mss(c))
		return false;
	if (t - c->hs_train_last > HS_ACK_DELTA)
		c->hs_train_start = t; /* a gap: a new train begins */
	c->hs_train_last = t;
	return t - c->hs_train_start > c->hs_delay_min / 2;
}

/* RFC 9406 4.2, for each ACK of new data in slow start with `rtt_us` its RTT sample (HS_NONE: none;
 * samples come from echoed timestamps, so without them slow start ends only by loss, as before).
 * Returns the divisor of slow start's growth: CSS_GROWTH_DIVISOR in conservative slow start, else 1.
 * After CSS_ROUNDS rounds of conservative slow start, ssthresh = cwnd: congestion avoidance. */
uint32_t tcp_hystart_ack(struct tcp_conn *c, uint32_t rtt_us, smx_instant now)
{
	bool enough;

	if (c->hs_state == TCP_HS_DONE)
		return 1;
	/* Whole ticks of our millisecond timestamps, 2 or more (as RTTM takes them, tcp_input.c). */
	if (rtt_us != HS_NONE && rtt_us >= 2000u && rtt_us < c->hs_delay_min)
		c->hs_delay_min = rtt_us;
	if (tcp_hystart_train(c, now)) {
		c->ssthresh = c->cwnd;
		c->hs_state = TCP_HS_DONE;
		c->st.hystart_exits++;
		return 1;
	}
	if (rtt_us != HS_NONE) {
		c->hs_cur_min = SMX_MIN(c->hs_cur_min, rtt_us);
		if (c->hs_samples < 255)
			c->hs_samples++;
	}
	enough = c->hs_samples >= HS_N_RTT_SAMPLE && c->hs_cur_min != HS_NONE;
	if (c->hs_state == TCP_HS_SLOW_START) {
		if (enough && c->hs_last_min != HS_NONE) {
			uint32_t thresh = SMX_MAX(HS_MIN_RTT_THRESH,
						  SMX_MIN(c->hs_last_min / HS_MIN_RTT_DIVISOR, HS_MAX_RTT_THRESH));

			if (c->hs_cur_min >= c->hs_last_min + thresh) {
				c->hs_css_base = c->hs_cur_min;
				c->hs_state = TCP_HS_CSS;
				c->hs_css_rounds = 0;
			}
		}
	} else if (enough && c->hs_cur_min < c->hs_css_base) {
		/* The rise was spurious: back to slow start. */
		c->hs_css_base = HS_NONE;
		c->hs_state = TCP_HS_SLOW_START;
	}
	if (tcp_seq_ge(c->snd_una, c->hs_window_end)) {
		/* A round ends: the next begins with what is sent from here. */
		if (c->hs_state == TCP_HS_CSS && ++c->hs_css_rounds >= HS_CSS_ROUNDS) {
			c->ssthresh = c->cwnd;
			c->hs_state = TCP_HS_DONE;
			c->st.hystart_exits++;
		}
		c->hs_last_min = c->hs_cur_min;
		c->hs_cur_min = HS_NONE;
		c->hs_samples = 0;
		c->hs_window_end = c->snd_nxt;
		c->hs_train_start = c->hs_train_last = (uint32_t)now;
	}
	return c->hs_state == TCP_HS_CSS ? HS_CSS_GROWTH_DIVISOR : 1;
}
