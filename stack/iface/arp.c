/* ARP (RFC 826) and the neighbour cache: replies for our addresses, learning per the RFC's merge rule
 * (update a known sender; add one only when the packet is addressed to us), at most one request per
 * second per address (RFC 1122 2.3.2.1), a gratuitous announcement at start (RFC 5227 2.3), and the
 * bounded queue of packets waiting for an answer, sent in order when it comes. With a shared table
 * (the link's other queues, neigh_shared.c) the cache sits in front of it: what is learned here is
 * published there, a miss here is looked up there, and "known" in the merge rule means known to any. */
#include "iface_internal.h"

#define NEIGH_PROBES 8 /* open addressing: an address lives within this many slots of its hash */

static const struct eth_addr zero; /* the unknown target address of a request; never a sender */

static uint32_t neigh_hash(const struct iface *ifc, ipv4_addr ip)
{
	return ((ip * 2654435761u) >> 7) & ifc->neigh_mask;
}

static struct neigh *neigh_find(struct iface *ifc, ipv4_addr ip)
{
	uint32_t h = neigh_hash(ifc, ip);
	uint32_t probes = SMX_MIN(NEIGH_PROBES, ifc->neigh_mask + 1);

	for (uint32_t i = 0; i < probes; i++) {
		struct neigh *n = &ifc->neigh[(h + i) & ifc->neigh_mask];
		if (n->state != NEIGH_FREE && n->ip == ip)
			return n;
	}
	return NULL;
}

/* A slot for a new address: a free one near its hash, else the one that expires first (a bounded
 * cache forgets; the forgotten neighbour is simply asked again). */
static struct neigh *neigh_claim(struct iface *ifc, ipv4_addr ip)
{
	uint32_t h = neigh_hash(ifc, ip);
	uint32_t probes = SMX_MIN(NEIGH_PROBES, ifc->neigh_mask + 1);
	struct neigh *victim = &ifc->neigh[h];

	for (uint32_t i = 0; i < probes; i++) {
		struct neigh *n = &ifc->neigh[(h + i) & ifc->neigh_mask];
		if (n->state == NEIGH_FREE) {
			victim = n;
			break;
		}
		if (n->expires < victim->expires)
			victim = n;
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

const struct neigh *neigh_lookup(struct iface *ifc, ipv4_addr ip, smx_instant now)
{
	const struct neigh *n = neigh_find(ifc, ip);

	if (n && n->state == NEIGH_VALID && now < n->expires)
		return n;
	return NULL;
}

static void arp_send(struct iface *ifc, uint16_t op, const struct eth_addr *eth_dst, const struct eth_addr *tha,
		     ipv4_addr spa, ipv4_addr tpa)
{
	struct dev_frame f;
	struct arp_repr a = {.op = op, .sha = ifc->cfg.mac, .spa = spa, .tha = *tha, .tpa = tpa};

	if (!dev_tx_reserve(ifc->dev, &f, ifc->now)) {
		iface_count(ifc, IFACE_DROP_TX_NO_FRAME);
		return;
	}
	size_t l2 = iface_l2_len(ifc);
	if (f.cap < ETH_MIN_FRAME || f.cap < l2 + ARP_LEN) {
		dev_tx_abort(ifc->dev, &f);
		return;
	}
	iface_eth_put(ifc, f.data, eth_dst, ETH_TYPE_ARP);
	arp_emit(&a, f.data + l2, f.cap - l2);
	f.len = (uint32_t)(l2 + ARP_LEN);
	iface_frame_send(ifc, &f);
	iface_count(ifc, op == ARP_OP_REQUEST ? IFACE_ARP_REQUESTS_SENT : IFACE_ARP_REPLIES_SENT);
}

/* The source address a request for ip goes out with: ours on ip's subnet, else the first. */
static ipv4_addr arp_source_for(const struct iface *ifc, ipv4_addr ip)
{
	for (unsigned i = 0; i < ifc->cfg.addr_count; i++) {
		const struct iface_cidr *c = &ifc->cfg.addrs[i];
		uint32_t m = c->prefix_len ? 0xffffffffu << (32 - c->prefix_len) : 0;
		if ((ip & m) == (c->addr & m))
			return c->addr;
	}
	return ifc->cfg.addrs[0].addr;
}

void neigh_solicit(struct iface *ifc, ipv4_addr ip)
{
	struct neigh *n = neigh_find(ifc, ip);

	if (!n) {
		n = neigh_claim(ifc, ip);
		n->state = NEIGH_INCOMPLETE;
		n->expires = ifc->now + ifc->cfg.arp_timeout; /* for eviction order only */
	}
	if (n->requested && ifc->now - n->last_request < SEC)
		return;
	n->requested = true;
	n->last_request = ifc->now;
	/* With a shared table: one request a second for the host, not per queue (RFC 1122 2.3.2.1), and
	 * an entry for whichever queue hears the reply to merge it into (RFC 826). */
	if (ifc->neigh_shared &&
	    !neigh_shared_ask(ifc->neigh_shared, ip, ifc->now, ifc->now + ifc->cfg.arp_timeout))
		return;
	arp_send(ifc, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, &zero, arp_source_for(ifc, ip), ip);
}

void arp_announce(struct iface *ifc)
{
	for (unsigned i = 0; i < ifc->cfg.addr_count; i++) {
		ipv4_addr a = ifc->cfg.addrs[i].addr;
		arp_send(ifc, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, &zero, a, a);
	}
}

/* Sends the oldest packet waiting for ip; false when none is left or no frame is free. */
static bool wait_send_oldest(struct iface *ifc, ipv4_addr ip, const struct eth_addr *mac)
{
	struct arp_wait *oldest = NULL;
	struct dev_frame f;

	for (uint32_t i = 0; i < ifc->wait_slots; i++) {
		struct arp_wait *w = &ifc->wait[i];
		if (w->state == WAIT_READY && w->next_hop == ip &&
		    (!oldest || (int32_t)(w->seq - oldest->seq) < 0))
			oldest = w;
	}
	if (!oldest)
		return false;
	if (!dev_tx_reserve(ifc->dev, &f, ifc->now)) {
		iface_tx_starved(ifc); /* stays queued; egress retries on a later poll */
		return false;
	}
	if (f.cap < oldest->len) {
		dev_tx_abort(ifc->dev, &f);
		iface_count(ifc, IFACE_DROP_TX_NO_FRAME);
	} else {
		iface_eth_put(ifc, oldest->frame, mac, ETH_TYPE_IPV4);
		memcpy(f.data, oldest->frame, oldest->len);
		f.len = oldest->len;
		iface_frame_send(ifc, &f);
	}
	oldest->state = WAIT_FREE;
	ifc->wait_used--;
	return true;
}

static void wait_flush(struct iface *ifc, ipv4_addr ip, const struct eth_addr *mac)
{
	while (ifc->wait_used > 0 && wait_send_oldest(ifc, ip, mac))
		;
}

/* Caches ip at mac (sending what waited for it): learned here, or from the shared table. */
static const struct neigh *neigh_set(struct iface *ifc, ipv4_addr ip, const struct eth_addr *mac, smx_instant expires)
{
	struct neigh *n = neigh_find(ifc, ip);

	if (!n)
		n = neigh_claim(ifc, ip);
	n->mac = *mac;
	n->state = NEIGH_VALID;
	n->expires = expires;
	n->requested = false;
	wait_flush(ifc, ip, mac);
	return n;
}

static void neigh_learn(struct iface *ifc, ipv4_addr ip, const struct eth_addr *mac, bool create)
{
	struct neigh_shared_view v;
	smx_instant expires = ifc->now + ifc->cfg.arp_expiry;

	/* RFC 826's "if the pair is already in my table": in the link's, since any of its queues may
	 * have asked (and the reply come to another). */
	if (!create && !neigh_find(ifc, ip) &&
	    !(ifc->neigh_shared && neigh_shared_get(ifc->neigh_shared, ip, ifc->now, &v)))
		return;
	neigh_set(ifc, ip, mac, expires);
	if (ifc->neigh_shared)
		neigh_shared_put(ifc->neigh_shared, ip, mac, expires);
}

const struct neigh *neigh_lookup_shared(struct iface *ifc, ipv4_addr ip)
{
	struct neigh_shared_view v;

	if (!ifc->neigh_shared || !neigh_shared_get(ifc->neigh_shared, ip, ifc->now, &v) || !v.known)
		return NULL;
	return neigh_set(ifc, ip, &v.mac, v.expires);
}

void neigh_shared_sync(struct iface *ifc)
{
	uint64_t version = neigh_shared_version(ifc->neigh_shared);

	if (version == ifc->neigh_shared_seen)
		return;
	ifc->neigh_shared_seen = version;
	/* An address another queue saw change (a gratuitous ARP, a host replaced) is not used here a
	 * minute longer. */
	for (uint32_t i = 0; i <= ifc->neigh_mask; i++) {
		struct neigh *n = &ifc->neigh[i];
		struct neigh_shared_view v;
		if (n->state == NEIGH_VALID && neigh_shared_get(ifc->neigh_shared, n->ip, ifc->now, &v) && v.known &&
		    !eth_addr_eq(&v.mac, &n->mac)) {
			n->mac = v.mac;
			n->expires = v.expires;
		}
	}
}

void arp_input(struct iface *ifc, const uint8_t *buf, size_t len)
{
	struct arp_repr a;

	/* No host has a zero or group (multicast, broadcast) hardware address: such a sender is bogus,
	 * and answering or learning it would send our packets nowhere or to everyone. */
	if (arp_parse(buf, len, &a) != WIRE_OK || (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY) ||
	    eth_addr_eq(&a.sha, &zero) || eth_addr_is_multicast(&a.sha)) {
		iface_count(ifc, IFACE_DROP_ARP_MALFORMED);
		return;
	}
	/* Our own announcement looped back (a hub, a loopback wire) is not a request to answer. */
	bool for_us = iface_is_our_addr(ifc, a.tpa) && !eth_addr_eq(&a.sha, &ifc->cfg.mac);
	/* RFC 826 "Packet reception": merge the sender into the table if it is there, add it if the
	 * packet is a request for us (we are about to talk to it). A reply we did not ask for only
	 * updates an entry we have (ours asked: it is INCOMPLETE), so unsolicited replies cannot fill
	 * the cache. Probes (sender 0.0.0.0, RFC 5227) teach nothing. */
	if (a.spa != 0 && !iface_is_our_addr(ifc, a.spa) && !iface_is_broadcast_addr(ifc, a.spa))
		neigh_learn(ifc, a.spa, &a.sha, for_us && a.op == ARP_OP_REQUEST);
	if (!for_us) {
		iface_count(ifc, IFACE_DROP_ARP_NOT_FOR_US);
		return;
	}
	if (a.op == ARP_OP_REQUEST)
		arp_send(ifc, ARP_OP_REPLY, &a.sha, &a.sha, a.tpa, a.spa);
}

bool arp_wait_egress(struct iface *ifc)
{
	for (uint32_t i = 0; i < ifc->wait_slots; i++) {
		struct arp_wait *w = &ifc->wait[i];
		if (w->state != WAIT_READY)
			continue;
		const struct neigh *n = neigh_lookup(ifc, w->next_hop, ifc->now);
		if (!n) /* another queue may have heard the reply */
			n = neigh_lookup_shared(ifc, w->next_hop);
		if (n) {
			wait_flush(ifc, w->next_hop, &n->mac);
		} else if (ifc->now - w->queued_at >= ifc->cfg.arp_timeout) {
			w->state = WAIT_FREE;
			ifc->wait_used--;
			iface_count(ifc, IFACE_DROP_TX_ARP_UNRESOLVED);
		} else {
			neigh_solicit(ifc, w->next_hop);
		}
	}
	return ifc->activity;
}

smx_instant arp_wait_poll_at(struct iface *ifc, smx_instant now)
{
	smx_instant at = SMX_INSTANT_NEVER;

	for (uint32_t i = 0; i < ifc->wait_slots; i++) {
		const struct arp_wait *w = &ifc->wait[i];
		if (w->state != WAIT_READY)
			continue;
		at = SMX_MIN(at, w->queued_at + ifc->cfg.arp_timeout);
		const struct neigh *n = neigh_find(ifc, w->next_hop);
		if (n && n->state == NEIGH_VALID && now < n->expires) {
			/* Resolved but still here: the flush found no frame (else it is due now). */
			if (!ifc->tx_retry_at)
				return now;
			at = SMX_MIN(at, ifc->tx_retry_at);
			continue;
		}
		if (!n || !n->requested)
			return now;
		at = SMX_MIN(at, n->last_request + SEC);
		/* The reply may come to another queue, which cannot wake this one: look again soon. */
		if (ifc->neigh_shared) {
			struct neigh_shared_view v;
			if (neigh_shared_get(ifc->neigh_shared, w->next_hop, now, &v) && v.known)
				return now;
			at = SMX_MIN(at, now + NEIGH_SHARED_CHECK);
		}
	}
	return at;
}
