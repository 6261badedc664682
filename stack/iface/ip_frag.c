/* Fragmentation on send (RFC 791 3.2, RFC 1122 3.3.3) for datagrams larger than the MTU: UDP sends
 * above MTU - 28, echo replies to large pings. Why a staging buffer: a transport builds its datagram in
 * place at tx->l4 and sums its checksum over all of it (UDP, ICMP), so it needs the datagram in one
 * span, while frames hold an MTU each. So the interface lends one buffer of frag_max_len bytes for the
 * datagram, and at commit cuts it into frames, each sent as any packet is (iface_ip_begin: route,
 * neighbour, frame or ARP wait slot), with one copy - only for datagrams that need cutting; every other
 * send stays zero-copy. One buffer is enough: begin and commit come in pairs within one call of the
 * transport, but for an app's zero-copy UDP send, which holds it until its commit (a large send
 * meanwhile is refused for now, counted drop_frag_tx_busy, and retried as any send without a frame).
 * A transport that learned a smaller path MTU to dst (RFC 1191; UDP) asks for fragments of that
 * size (begin_frag). Fragments carry no DF; their IDs come from a counter of their own, seeded at init, so that one ID
 * recurs only after 65,536 fragmented datagrams (RFC 6864 4.3), however many atomic ones go between. */
#include "iface_internal.h"

void ip_frag_layout(struct smx_carve *c, const struct iface_config *cfg, struct iface *ifc)
{
	uint8_t *stage = smx_carve_take(c, cfg->frag_max_len - IPV4_HEADER_LEN);

	if (!c->base)
		return;
	ifc->frag_stage = stage;
	ifc->frag_stage_cap = cfg->frag_max_len - IPV4_HEADER_LEN;
}

enum ip_tx_err ip_frag_begin(struct iface *ifc, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			     uint16_t mtu, struct ip_tx *tx)
{
	if (l4_len > ifc->frag_stage_cap)
		return IP_TX_TOO_BIG;
	if (ifc->frag_stage_lent) {
		ifc->tx_fail = IFACE_DROP_FRAG_TX_BUSY;
		return IP_TX_NO_BUFFER;
	}
	ifc->frag_stage_lent = true;
	tx->l4 = ifc->frag_stage;
	tx->l4_cap = ifc->frag_stage_cap;
	tx->src = src;
	tx->dst = dst;
	tx->proto = proto;
	tx->priv_kind = TX_KIND_STAGE;
	tx->priv_frame = ifc->frag_stage;
	tx->priv_cap = ifc->frag_stage_cap;
	tx->priv_handle = mtu >= 68 && mtu < ifc->mtu ? mtu : ifc->mtu; /* the fragments' MTU */
	return IP_TX_OK;
}

void ip_frag_abort(struct iface *ifc, struct ip_tx *tx)
{
	ifc->frag_stage_lent = false;
	tx->priv_kind = 0;
}

/* Each fragment is a packet of its own through iface_ip_begin. While the next hop is being resolved,
 * the fragments wait in ARP wait slots: all of them, or the datagram is dropped (a part is worth
 * nothing). Should the device run out of frames midway, the fragments sent are wasted, as in Linux's
 * ip_do_fragment; the rest are dropped and counted. */
void ip_frag_commit(struct iface *ifc, struct ip_tx *tx, size_t l4_len)
{
	const uint8_t *stage = tx->l4;
	size_t per = ((size_t)tx->priv_handle - IPV4_HEADER_LEN) & ~(size_t)7; /* RFC 791: 8-byte units */
	size_t n = l4_len == 0 ? 1 : (l4_len + per - 1) / per;
	struct ipv4_repr ip = {
		.src = tx->src,
		.dst = tx->dst,
		.protocol = tx->proto,
		.ttl = ifc->cfg.ttl,
		.header_len = IPV4_HEADER_LEN,
	};

	ifc->frag_stage_lent = false;
	tx->priv_kind = 0;
	if (l4_len > tx->l4_cap) /* a transport bug: never send past the room lent */
		return;
	/* Shrunk to an MTU at commit: one atomic packet, as any other. */
	ip.ident = n == 1 ? ifc->ip_ident++ : ifc->frag_ident++;
	ip.dont_frag = n == 1;
	for (size_t i = 0; i < n; i++) {
		size_t off = i * per, len = SMX_MIN(per, l4_len - off);
		struct ip_tx f;
		enum ip_tx_err e = iface_ip_begin(ifc, tx->src, tx->dst, tx->proto, len, &f);
		if (e != IP_TX_OK) {
			iface_count_tx_fail(ifc, e);
			return;
		}
		if (i == 0 && f.priv_kind == TX_KIND_WAIT && ifc->wait_slots - ifc->wait_used + 1 < n) {
			iface_ip_abort(ifc, &f);
			iface_count(ifc, IFACE_DROP_TX_ARP_QUEUE_FULL);
			return;
		}
		memcpy(f.l4, stage + off, len);
		ip.more_frags = i + 1 < n;
		ip.frag_offset = (uint16_t)off;
		ip.total_len = (uint16_t)(IPV4_HEADER_LEN + len);
		iface_ip_send(ifc, &f, &ip, len);
	}
	if (n > 1) {
		iface_count(ifc, IFACE_FRAG_TX_DATAGRAMS);
		ifc->counters[IFACE_FRAG_TX_FRAGMENTS] += n;
	}
}
