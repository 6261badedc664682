/* Path MTU discovery for UDP (RFC 1191, RFC 8085 3.2): every datagram that fits the MTU leaves with
 * DF (the interface's IP_PMTUDISC_WANT), so a narrower hop answers "fragmentation needed". One that
 * quotes a datagram the socket really sent (RFC 5927's check: for UDP, its destination, ports, length
 * and checksum, which an off-path forger cannot know) lowers the path MTU to that destination: later
 * datagrams are fragmented to it, or refused (UDP_ERR_TOO_BIG) on a dont_frag socket, and the socket
 * is told (udp_error.next_mtu). An ICMP never raises it; after RFC 1191 6.3's ten minutes it is
 * forgotten and the interface's MTU tried again. */
#include "smolxdp/bytes.h"
#include "udp_internal.h"


void udp_pmtu_layout(struct smx_carve *c, const struct udp_config *cfg, struct udp_stack *u)
{
	struct udp_pmtu *p = smx_carve_take(c, cfg->pmtu_entries * sizeof(struct udp_pmtu));

	if (c->base)
		u->pmtu = p;
}

/* Sockets send through pmtu_tx exactly while some path MTU is known. */
static void udp_pmtu_route(struct udp_stack *u)
{
	u->tx = u->iface_tx && u->pmtu_used ? &u->pmtu_tx : u->iface_tx;
}

static void udp_pmtu_forget(struct udp_stack *u, uint32_t i)
{
	u->pmtu[i] = u->pmtu[--u->pmtu_used];
	udp_pmtu_route(u);
}

uint16_t udp_pmtu_get(struct udp_stack *u, ipv4_addr dst)
{
	uint16_t mtu = udp_pmtu_peek(u, dst);

	if (mtu == 0)
		for (uint32_t i = 0; i < u->pmtu_used; i++)
			if (u->pmtu[i].dst == dst)
				udp_pmtu_forget(u, i);
	return mtu;
}

/* Remembers mtu for dst, in its entry, a free one, or the oldest's. */
static void udp_pmtu_set(struct udp_stack *u, ipv4_addr dst, uint16_t mtu)
{
	uint32_t slot = 0;

	while (slot < u->pmtu_used && u->pmtu[slot].dst != dst)
		slot++;
	if (slot == u->pmtu_used) {
		if (u->cfg.pmtu_entries == 0)
			return;
		if (u->pmtu_used < u->cfg.pmtu_entries) {
			u->pmtu_used++;
		} else {
			slot = 0;
			for (uint32_t i = 1; i < u->pmtu_used; i++)
				if (u->pmtu[i].at < u->pmtu[slot].at)
					slot = i;
		}
	}
	u->pmtu[slot] = (struct udp_pmtu){ .dst = dst, .mtu = mtu, .at = u->now };
	udp_pmtu_route(u);
}

void udp_pmtu_sent(struct udp_socket *s, ipv4_addr dst, const uint8_t *l4)
{
	struct udp_sent *r = &s->sent[s->sent_next];

	s->sent_next = (uint8_t)((s->sent_next + 1) % UDP_SENT_KEPT);
	r->dst = dst;
	r->dst_port = get_be16(l4 + 2);
	r->udp_len = get_be16(l4 + 4);
	r->csum = get_be16(l4 + 6);
}

/* Whether the quoted UDP header (8 bytes from the quote's transport header) is one s sent to dst. */
static bool udp_pmtu_quotes_ours(const struct udp_socket *s, const struct icmpv4_repr *icmp)
{
	size_t hlen = icmp->quote_ip.header_len;

	if (icmp->data_len < hlen + UDP_HEADER_LEN)
		return false; /* RFC 792's 8 bytes are missing: nothing to check the quote by */
	const uint8_t *q = icmp->data + hlen;
	for (unsigned i = 0; i < UDP_SENT_KEPT; i++) {
		const struct udp_sent *r = &s->sent[i];
		if (r->udp_len != 0 && r->dst == icmp->quote_ip.dst && r->dst_port == get_be16(q + 2) &&
		    r->udp_len == get_be16(q + 4) && r->csum == get_be16(q + 6))
			return true;
	}
	return false;
}

bool udp_pmtu_icmp(struct udp_stack *u, struct udp_socket *s, const struct icmpv4_repr *icmp, uint16_t *mtu)
{
	ipv4_addr dst = icmp->quote_ip.dst;

	/* Only a whole datagram sent with DF draws a fragmentation needed (RFC 1191 3). */
	if (!icmp->quote_ip.dont_frag || icmp->quote_ip.frag_offset != 0 || !udp_pmtu_quotes_ours(s, icmp)) {
		u->stats.pmtu_unverified++;
		return false;
	}
	uint32_t now_mtu = udp_pmtu_get(u, dst);
	if (now_mtu == 0)
		now_mtu = u->iface_tx ? u->iface_tx->mtu : 0;
	/* RFC 1191 5: no next-hop MTU (an old router): the plateau below the datagram's size. */
	uint32_t m = icmp->next_mtu ? icmp->next_mtu : icmpv4_mtu_plateau(icmp->quote_ip.total_len);
	if (m < UDP_PMTU_MIN)
		m = UDP_PMTU_MIN;
	*mtu = (uint16_t)SMX_MIN(m, now_mtu);
	/* An MTU at least the datagram's own size names no hop it could not pass: RFC 1191 never
	 * raises the estimate from an ICMP. */
	if (m >= icmp->quote_ip.total_len || m >= now_mtu)
		return true;
	udp_pmtu_set(u, dst, (uint16_t)m);
	u->stats.pmtu_reductions++;
	return true;
}

/* pmtu_tx: the interface's sender, but a datagram over its destination's path MTU goes as fragments
 * of that size (begin_frag). */
static enum ip_tx_err pmtu_begin(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
				 struct ip_tx *tx)
{
	struct udp_stack *u = ctx;
	const struct ip_sender *ip = u->iface_tx;
	uint16_t mtu = udp_pmtu_get(u, dst);

	if (mtu && l4_len + IPV4_HEADER_LEN > mtu && ip->begin_frag)
		return ip->begin_frag(ip->ctx, src, dst, proto, l4_len, mtu, tx);
	return ip->begin(ip->ctx, src, dst, proto, l4_len, tx);
}

static void pmtu_commit(void *ctx, struct ip_tx *tx, size_t l4_len)
{
	const struct ip_sender *ip = ((struct udp_stack *)ctx)->iface_tx;

	ip->commit(ip->ctx, tx, l4_len);
}

static void pmtu_abort(void *ctx, struct ip_tx *tx)
{
	const struct ip_sender *ip = ((struct udp_stack *)ctx)->iface_tx;

	ip->abort(ip->ctx, tx);
}

static bool pmtu_is_local(void *ctx, ipv4_addr addr)
{
	const struct ip_sender *ip = ((struct udp_stack *)ctx)->iface_tx;

	return ip->is_local && ip->is_local(ip->ctx, addr);
}

void udp_pmtu_attach(struct udp_stack *u, const struct ip_sender *tx)
{
	u->iface_tx = tx;
	if (tx)
		u->pmtu_tx = (struct ip_sender){
			.ctx = u,
			.begin = pmtu_begin,
			.commit = pmtu_commit,
			.abort = pmtu_abort,
			.is_local = tx->is_local ? pmtu_is_local : NULL,
			.mtu = tx->mtu,
			.begin_frag = NULL, /* pmtu_begin is the only caller of the interface's */
		};
	udp_pmtu_route(u);
}
