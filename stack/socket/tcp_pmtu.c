/* Path MTU discovery for TCP (RFC 1191): an ICMP "fragmentation needed" that passed RFC 5927's
 * check (tcp_icmp_error) lowers the connection's send MSS to what the next hop can carry, and what
 * was in flight in larger segments is sent again at once, as Linux's tcp_simple_retransmit does:
 * it was dropped for its size, not for congestion, so cwnd is left alone. An ICMP never raises the
 * MSS; after RFC 1191 6.3's ten minutes the original MSS is tried again (and lowered again by the
 * next ICMP if the path is still narrow). The MSS we offer in the first place, from the MTU of the
 * link a segment leaves by (RFC 9293 3.7.1, RFC 6691), is here too: input and output both need it. */
#include "tcp_internal.h"

/* Below this a next-hop MTU is taken as this (Linux's min_pmtu): forged ICMPs announcing a tiny MTU
 * would otherwise make us spray 28-byte segments (RFC 5927 7.2). */
#define TCP_PMTU_MIN 552u
#define TCP_PMTU_TIMEOUT (10ull * 60 * 1000000) /* RFC 1191 6.3: 10 minutes */

/* The MSS we offer: the sender's MTU's (tcp_mss_for_mtu), or the config's if smaller. */
uint16_t tcp_our_mss(const struct tcp_stack *s, const struct ip_sender *tx)
{
	uint32_t mtu = tx && tx->mtu >= TCP_MIN_MTU ? tx->mtu : TCP_ASSUMED_MTU;
	uint32_t mss = tcp_mss_for_mtu(mtu);

	if (s->cfg.mss && s->cfg.mss < mss)
		mss = s->cfg.mss;
	return (uint16_t)mss;
}

void tcp_pmtu_reduce(struct tcp_stack *s, struct tcp_conn *c, uint16_t next_mtu, smx_instant now)
{
	uint32_t mtu = next_mtu ? next_mtu : icmpv4_mtu_plateau(c->snd_mss + 40u);
	uint32_t mss;

	if (mtu < TCP_PMTU_MIN)
		mtu = TCP_PMTU_MIN;
	mss = mtu - 40u; /* RFC 6691: the MSS counts no options; tcp_seg_mss takes the timestamps off */
	if (mss >= c->snd_mss)
		return;
	if (c->pmtu_mss == 0)
		c->pmtu_mss = c->snd_mss;
	c->snd_mss = (uint16_t)mss;
	c->st.snd_mss = c->snd_mss;
	c->pmtu_at = now;
	c->st.pmtu_reductions++;
	s->stats.pmtu_reductions++;
	if (tcp_state_synchronized(c->state) && c->snd_nxt != c->snd_una) {
		/* Go back: everything unacknowledged leaves again in segments that fit (RTT timing off:
		 * Karn). */
		c->snd_nxt = c->snd_una;
		c->flags &= ~(uint32_t)TCP_CF_RTT_TIMING;
	}
	tcp_conn_ready(s, c);
}

void tcp_pmtu_check(struct tcp_conn *c, smx_instant now)
{
	if (c->pmtu_mss == 0 || now - c->pmtu_at < TCP_PMTU_TIMEOUT)
		return;
	c->snd_mss = c->pmtu_mss;
	c->st.snd_mss = c->snd_mss;
	c->pmtu_mss = 0;
}
