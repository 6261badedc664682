/* IPv4 output (RFC 791, RFC 1122 3.3.1): route by prefix (on-link) or via the default gateway, pick
 * the source address, resolve the next hop, and build the packet in place in a transmit frame - or,
 * while ARP is still resolving, in a slot of the bounded wait queue (arp.c sends it on the reply). */
#include "iface_internal.h"

struct route {
	ipv4_addr src;
	ipv4_addr next_hop;
	bool broadcast;
};

static bool route_find(const struct iface *ifc, ipv4_addr src, ipv4_addr dst, struct route *r)
{
	const struct iface_cidr *addrs = ifc->cfg.addrs;

	r->broadcast = false;
	r->next_hop = dst;
	r->src = src ? src : addrs[0].addr;
	if (src && !iface_is_our_addr(ifc, src))
		return false;
	/* RFC 1122 3.2.1.3: {0, <any>} and {127, <any>} never go on the wire as a destination; class D
	 * needs group membership we do not have and class E is reserved. Without this check, a reply
	 * to a booting host's 0.0.0.0 (or to a forged 127.0.0.1) would be sent via the gateway. */
	if (dst != 0xffffffffu && ((dst >> 24) == 0 || (dst >> 24) == 127 || (dst >> 28) >= 0xe))
		return false;
	if (dst == 0xffffffffu) {
		r->broadcast = true;
		return true;
	}
	for (unsigned i = 0; i < ifc->cfg.addr_count; i++) {
		uint32_t m = ifc->mask[i];
		if ((dst & m) != (addrs[i].addr & m))
			continue;
		if (!src)
			r->src = addrs[i].addr;
		r->broadcast = dst == ifc->bcast[i];
		return true;
	}
	if (ifc->cfg.gateway == 0)
		return false;
	r->next_hop = ifc->cfg.gateway;
	if (!src) {
		for (unsigned i = 0; i < ifc->cfg.addr_count; i++) {
			uint32_t m = ifc->mask[i];
			if ((ifc->cfg.gateway & m) == (addrs[i].addr & m)) {
				r->src = addrs[i].addr;
				break;
			}
		}
	}
	return true;
}

/* The next hop's entry; the latest one found is tried first, as a run of packets mostly goes to one
 * neighbour (a slot reused for another address, or expired, fails the check and is looked up). */
static const struct neigh *next_hop_lookup(struct iface *ifc, ipv4_addr ip)
{
	const struct neigh *n = ifc->neigh_last;

	if (n && n->ip == ip && n->state == NEIGH_VALID && ifc->now < n->expires)
		return n;
	n = neigh_lookup(ifc, ip, ifc->now);
	if (!n) /* another queue of the link may know it */
		n = neigh_lookup_shared(ifc, ip);
	if (n)
		ifc->neigh_last = n;
	return n;
}

static inline __attribute__((always_inline)) enum ip_tx_err begin_in_frame(struct iface *ifc,
									    const struct eth_addr *mac,
									    size_t l4_len, struct ip_tx *tx)
{
	struct dev_frame f;

	if (!dev_tx_reserve(ifc->dev, &f, ifc->now)) {
		ifc->tx_fail = IFACE_DROP_TX_NO_FRAME;
		return IP_TX_NO_BUFFER;
	}
	uint32_t cap = SMX_MIN(f.cap, (uint32_t)(iface_l2_len(ifc) + ifc->mtu));
	if (cap < iface_l4_off(ifc) + l4_len) {
		dev_tx_abort(ifc->dev, &f);
		return IP_TX_TOO_BIG;
	}
	iface_eth_put(ifc, f.data, mac, ETH_TYPE_IPV4);
	tx->l4 = f.data + iface_l4_off(ifc);
	tx->l4_cap = cap - iface_l4_off(ifc);
	tx->priv_kind = TX_KIND_FRAME;
	tx->priv_frame = f.data;
	tx->priv_handle = f.handle;
	tx->priv_cap = f.cap;
	return IP_TX_OK;
}

static enum ip_tx_err begin_in_wait(struct iface *ifc, ipv4_addr next_hop, struct ip_tx *tx)
{
	neigh_solicit(ifc, next_hop);
	for (uint32_t i = 0; i < ifc->wait_slots; i++) {
		struct arp_wait *w = &ifc->wait[i];
		if (w->state != WAIT_FREE)
			continue;
		w->state = WAIT_BUILDING;
		w->next_hop = next_hop;
		w->queued_at = ifc->now;
		w->seq = ifc->wait_seq++;
		ifc->wait_used++;
		tx->l4 = w->frame + iface_l4_off(ifc);
		tx->l4_cap = (size_t)ifc->mtu - IPV4_HEADER_LEN;
		tx->priv_kind = TX_KIND_WAIT;
		tx->priv_handle = i;
		tx->priv_frame = w->frame;
		return IP_TX_OK;
	}
	ifc->tx_fail = IFACE_DROP_TX_ARP_QUEUE_FULL;
	return IP_TX_NO_BUFFER;
}

/* The path of every packet: inlined into the transports' sender (l4_sender_begin) by force, since
 * the compiler stops doing it by itself once the function has grown (fragments, VLANs): about 16
 * instructions per packet. */
static inline __attribute__((always_inline)) enum ip_tx_err ip_begin(struct iface *ifc, ipv4_addr src,
								      ipv4_addr dst, uint8_t proto, size_t l4_len,
								      struct ip_tx *tx)
{
	struct route r;
	const struct neigh *n;
	enum ip_tx_err err;

	if (!route_find(ifc, src, dst, &r)) {
		iface_count(ifc, IFACE_DROP_TX_NO_ROUTE);
		return IP_TX_NO_ROUTE;
	}
	/* Over the MTU: built whole in the staging buffer, cut into fragments at commit (ip_frag.c). */
	if (l4_len > (size_t)ifc->mtu - IPV4_HEADER_LEN)
		return ip_frag_begin(ifc, r.src, dst, proto, l4_len, 0, tx);
	/* begin_in_frame is folded into this, the path of every packet (always_inline: ip_begin itself is
	 * inlined in two places). */
	const struct eth_addr *mac = NULL;
	if (r.broadcast)
		mac = &ETH_ADDR_BROADCAST;
	else if ((n = next_hop_lookup(ifc, r.next_hop)) != NULL)
		mac = &n->mac;
	if (mac)
		err = begin_in_frame(ifc, mac, l4_len, tx);
	else
		err = begin_in_wait(ifc, r.next_hop, tx);
	if (err != IP_TX_OK)
		return err;
	tx->src = r.src;
	tx->dst = dst;
	tx->proto = proto;
	return IP_TX_OK;
}

enum ip_tx_err iface_ip_begin(struct iface *ifc, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			      struct ip_tx *tx)
{
	return ip_begin(ifc, src, dst, proto, l4_len, tx);
}

void iface_count_tx_fail(struct iface *ifc, enum ip_tx_err err)
{
	if (err == IP_TX_NO_BUFFER)
		iface_count(ifc, ifc->tx_fail);
}

void iface_frame_send(struct iface *ifc, struct dev_frame *f)
{
	f->len = eth_pad(f->data, f->len, f->cap);
	dev_tx_submit(ifc->dev, f);
	iface_count(ifc, IFACE_TX_FRAMES);
	ifc->activity = true;
}

void iface_ip_commit(struct iface *ifc, struct ip_tx *tx, size_t l4_len)
{
	if (tx->priv_kind == TX_KIND_STAGE) {
		ip_frag_commit(ifc, tx, l4_len);
		return;
	}
	/* What fits the MTU goes whole, with DF: fragmented on the path it would not reach a host that
	 * cannot take it (Linux's IP_PMTUDISC_WANT); RFC 6864 4.1 lets atomic datagrams use any ID. */
	struct ipv4_repr ip = {
		.src = tx->src,
		.dst = tx->dst,
		.protocol = tx->proto,
		.ttl = ifc->cfg.ttl,
		.ident = ifc->ip_ident++,
		.dont_frag = true,
		.header_len = IPV4_HEADER_LEN,
		.total_len = (uint16_t)(IPV4_HEADER_LEN + l4_len),
	};

	iface_ip_send(ifc, tx, &ip, l4_len);
}

void iface_ip_send(struct iface *ifc, struct ip_tx *tx, const struct ipv4_repr *ip, size_t l4_len)
{
	if (l4_len > tx->l4_cap) { /* a transport bug: never send past the room lent */
		iface_ip_abort(ifc, tx);
		return;
	}
	ipv4_emit(ip, tx->l4 - IPV4_HEADER_LEN, IPV4_HEADER_LEN);
	if (tx->priv_kind == TX_KIND_FRAME) {
		struct dev_frame f = {
			.data = tx->priv_frame,
			.len = (uint32_t)(iface_l4_off(ifc) + l4_len),
			.cap = tx->priv_cap,
			.handle = tx->priv_handle,
		};
		iface_frame_send(ifc, &f);
	} else if (tx->priv_kind == TX_KIND_WAIT && tx->priv_handle < ifc->wait_slots) {
		struct arp_wait *w = &ifc->wait[tx->priv_handle];
		w->len = (uint32_t)(iface_l4_off(ifc) + l4_len);
		w->state = WAIT_READY;
	}
	tx->priv_kind = 0;
}

void iface_ip_abort(struct iface *ifc, struct ip_tx *tx)
{
	if (tx->priv_kind == TX_KIND_STAGE) {
		ip_frag_abort(ifc, tx);
		return;
	}
	if (tx->priv_kind == TX_KIND_FRAME) {
		struct dev_frame f = {.data = tx->priv_frame, .cap = tx->priv_cap, .handle = tx->priv_handle};
		dev_tx_abort(ifc->dev, &f);
	} else if (tx->priv_kind == TX_KIND_WAIT && tx->priv_handle < ifc->wait_slots) {
		ifc->wait[tx->priv_handle].state = WAIT_FREE;
		ifc->wait_used--;
	}
	tx->priv_kind = 0;
}

static enum ip_tx_err sender_begin(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
				   struct ip_tx *tx)
{
	return iface_ip_begin(ctx, src, dst, proto, l4_len, tx);
}

static void sender_commit(void *ctx, struct ip_tx *tx, size_t l4_len)
{
	iface_ip_commit(ctx, tx, l4_len);
}

static void sender_abort(void *ctx, struct ip_tx *tx)
{
	iface_ip_abort(ctx, tx);
}

static bool sender_is_local(void *ctx, ipv4_addr addr)
{
	return iface_is_our_addr(ctx, addr);
}

void iface_sender_setup(struct iface *ifc)
{
	ifc->sender.ctx = ifc;
	ifc->sender.begin = sender_begin;
	ifc->sender.commit = sender_commit;
	ifc->sender.abort = sender_abort;
	ifc->sender.is_local = sender_is_local;
	ifc->sender.mtu = ifc->mtu;
}

/* A transport's sender: the same, but a refused buffer is noted as what blocks that transport. */
static void l4_note_blocked(struct iface_l4 *l4, struct iface *ifc, enum ip_tx_err e)
{
	if (e == IP_TX_NO_BUFFER) {
		/* The staging buffer, lent to an app's send, comes back at its commit: as a frame would. */
		if (ifc->tx_fail == IFACE_DROP_TX_NO_FRAME || ifc->tx_fail == IFACE_DROP_FRAG_TX_BUSY) {
			l4->blocked = L4_BLOCKED_FRAME;
			iface_tx_starved(ifc);
		} else if (l4->blocked != L4_BLOCKED_FRAME) {
			l4->blocked = L4_BLOCKED_ARP_SLOT;
		}
	}
}

static enum ip_tx_err l4_sender_begin(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
				      struct ip_tx *tx)
{
	struct iface_l4 *l4 = ctx;
	enum ip_tx_err e = ip_begin(l4->ifc, src, dst, proto, l4_len, tx);

	if (e != IP_TX_OK)
		l4_note_blocked(l4, l4->ifc, e);
	return e;
}

/* A datagram over a path MTU the transport learned (RFC 1191), below the interface's: fragments of
 * that size, as Linux does for a socket whose route has a smaller PMTU. */
static enum ip_tx_err l4_sender_begin_frag(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto,
					   size_t l4_len, uint16_t mtu, struct ip_tx *tx)
{
	struct iface_l4 *l4 = ctx;
	struct iface *ifc = l4->ifc;
	struct route r;
	enum ip_tx_err e;

	if (mtu >= ifc->mtu || l4_len + IPV4_HEADER_LEN <= mtu)
		return l4_sender_begin(ctx, src, dst, proto, l4_len, tx);
	if (!route_find(ifc, src, dst, &r)) {
		iface_count(ifc, IFACE_DROP_TX_NO_ROUTE);
		return IP_TX_NO_ROUTE;
	}
	e = ip_frag_begin(ifc, r.src, dst, proto, l4_len, mtu, tx);
	if (e != IP_TX_OK)
		l4_note_blocked(l4, ifc, e);
	return e;
}

static void l4_sender_commit(void *ctx, struct ip_tx *tx, size_t l4_len)
{
	iface_ip_commit(((struct iface_l4 *)ctx)->ifc, tx, l4_len);
}

static void l4_sender_abort(void *ctx, struct ip_tx *tx)
{
	iface_ip_abort(((struct iface_l4 *)ctx)->ifc, tx);
}

static bool l4_sender_is_local(void *ctx, ipv4_addr addr)
{
	return iface_is_our_addr(((struct iface_l4 *)ctx)->ifc, addr);
}

void iface_l4_sender_setup(struct iface *ifc, struct iface_l4 *l4)
{
	l4->ifc = ifc;
	l4->tx.ctx = l4;
	l4->tx.begin = l4_sender_begin;
	l4->tx.begin_frag = l4_sender_begin_frag;
	l4->tx.commit = l4_sender_commit;
	l4->tx.abort = l4_sender_abort;
	l4->tx.is_local = l4_sender_is_local;
	l4->tx.mtu = ifc->mtu;
}
