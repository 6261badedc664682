/* IPv4 reassembly (RFC 791 3.2, with RFC 815's hole descriptors): a fixed number of slots, each with a
 * buffer for a whole datagram, sized at init; a timeout with ICMP time exceeded (RFC 1122 3.3.2).
 * Overlapping fragments drop the whole datagram, as RFC 5722 says for IPv6 and Linux does for IPv4
 * (a fragment whose bytes have all come already is a duplicate, ignored, as Linux does); a first
 * fragment that cuts the transport header is refused (RFC 1858 3.1); the oldest incomplete datagram
 * makes way for a new one. A datagram delivered is handed up from its slot, in place, and the slot is
 * held until the transports release their views, like a received frame. */
#include "iface_internal.h"

#define REASM_NONE 0xffffu /* end of the hole list */
#define REASM_INF 0xffffu  /* a hole's end while the datagram's end is unknown */
#define REASM_MAX_DATA (65535u - IPV4_HEADER_LEN)

/* RFC 815: each hole's descriptor sits in the hole itself, at its first byte: its end (exclusive) and
 * the next hole's offset, 4 bytes. Holes start at 0 or where a fragment with MF set ends (a multiple of
 * 8) and end where a fragment starts (a multiple of 8), so a hole is at least 8 bytes long; only the
 * last hole can end at the datagram's end, and only after the last fragment filled its end, so never
 * short either. The hole without an end sits at most at the largest end taken, within the slot's 8
 * spare bytes. The list stays sorted by offset. */
static uint8_t *reasm_data(const struct reasm_slot *s)
{
	return s->buf + REASM_HDR_ROOM;
}

static uint16_t hole_end(const struct reasm_slot *s, uint16_t h)
{
	return get_be16(reasm_data(s) + h);
}

static uint16_t hole_next(const struct reasm_slot *s, uint16_t h)
{
	return get_be16(reasm_data(s) + h + 2);
}

static void hole_put(struct reasm_slot *s, uint16_t h, uint16_t end, uint16_t next)
{
	put_be16(reasm_data(s) + h, end);
	put_be16(reasm_data(s) + h + 2, next);
}

/* Points prev's link (the list head when prev is REASM_NONE) at h. */
static void hole_link(struct reasm_slot *s, uint16_t prev, uint16_t h)
{
	if (prev == REASM_NONE)
		s->holes = h;
	else
		put_be16(reasm_data(s) + prev + 2, h);
}

void ip_reasm_layout(struct smx_carve *c, const struct iface_config *cfg, struct iface *ifc)
{
	size_t cap = cfg->reasm_max_len - IPV4_HEADER_LEN;
	size_t stride = (REASM_HDR_ROOM + cap + 8 + SMX_MEM_ALIGN - 1) & ~(size_t)(SMX_MEM_ALIGN - 1);
	struct reasm_slot *slots = smx_carve_take(c, cfg->reasm_slots * sizeof(struct reasm_slot));
	uint8_t *bufs = smx_carve_take(c, cfg->reasm_slots * stride);

	if (!c->base)
		return;
	memset(slots, 0, cfg->reasm_slots * sizeof(struct reasm_slot));
	for (uint32_t i = 0; i < cfg->reasm_slots; i++)
		slots[i].buf = bufs + i * stride;
	ifc->reasm = slots;
	ifc->reasm_slots = cfg->reasm_slots;
	ifc->reasm_cap = (uint32_t)cap;
}

static void slot_free(struct iface *ifc, struct reasm_slot *s)
{
	if (s->state == REASM_ACTIVE)
		ifc->reasm_active--;
	else if (s->state == REASM_HELD)
		ifc->reasm_held--;
	s->state = REASM_FREE;
}

/* The whole datagram goes, counted as why. */
static void slot_kill(struct iface *ifc, struct reasm_slot *s, enum iface_counter why)
{
	iface_count(ifc, why);
	slot_free(ifc, s);
}

/* RFC 791: a datagram is known by source, destination, protocol and identification. */
static struct reasm_slot *slot_find(struct iface *ifc, const struct ipv4_repr *ip)
{
	for (uint32_t i = 0; i < ifc->reasm_slots; i++) {
		struct reasm_slot *s = &ifc->reasm[i];
		if (s->state == REASM_ACTIVE && s->ident == ip->ident && s->src == ip->src && s->dst == ip->dst &&
		    s->proto == ip->protocol)
			return s;
	}
	return NULL;
}

static struct reasm_slot *slot_free_one(struct iface *ifc)
{
	for (uint32_t i = 0; i < ifc->reasm_slots; i++)
		if (ifc->reasm[i].state == REASM_FREE)
			return &ifc->reasm[i];
	return NULL;
}

/* A slot for a new datagram: a free one; else the delivered ones, once their views are copied out
 * (costs copies, harms nobody); else the oldest incomplete one is evicted, so a flood of fragments
 * that never complete keeps cycling through the slots while datagrams that do complete get through. */
static struct reasm_slot *slot_new(struct iface *ifc, const struct rx_ip *rx)
{
	struct reasm_slot *s = slot_free_one(ifc);

	if (!s && ifc->reasm_held > 0) {
		iface_views_settle(ifc);
		s = slot_free_one(ifc);
	}
	if (!s) {
		for (uint32_t i = 0; i < ifc->reasm_slots; i++) {
			struct reasm_slot *o = &ifc->reasm[i];
			if (o->state == REASM_ACTIVE && (!s || o->started < s->started))
				s = o;
		}
		if (!s)
			return NULL;
		slot_kill(ifc, s, IFACE_DROP_FRAG_EVICTED);
	}
	*s = (struct reasm_slot){
		.state = REASM_ACTIVE,
		.proto = rx->ip.protocol,
		.ident = rx->ip.ident,
		.holes = 0,
		.src = rx->ip.src,
		.dst = rx->ip.dst,
		.started = ifc->now,
		.expires = ifc->now + ifc->cfg.reasm_timeout,
		.buf = s->buf,
	};
	hole_put(s, 0, REASM_INF, REASM_NONE); /* RFC 815: one hole, from 0 to infinity */
	ifc->reasm_active++;
	if (ifc->reasm_active == 1 || s->expires < ifc->reasm_next_expiry)
		ifc->reasm_next_expiry = s->expires;
	return s;
}

/* The transport header a first fragment must hold whole (RFC 1858 3.1 asks it of TCP, against
 * filters fooled by flags in a later fragment; the same keeps every transport's header in one piece). */
static size_t l4_header_min(uint8_t proto, const uint8_t *l4, size_t len)
{
	switch (proto) {
	case IP_PROTO_TCP:
		return len >= 13 ? SMX_MAX((size_t)(l4[12] >> 4) * 4, (size_t)20) : 20;
	case IP_PROTO_UDP:
		return 8;
	case IP_PROTO_ICMP:
		return ICMPV4_HEADER_LEN;
	default:
		return 0;
	}
}

enum fill { FILL_OK, FILL_DUPLICATE, FILL_OVERLAP };

/* RFC 815's step: the fragment [off, end) must lie within one hole, which it splits into the holes
 * before and after it. Touching no hole, all its bytes came already: a duplicate. Lying partly in a
 * hole, it overlaps bytes already here (holes are never adjacent). */
static enum fill hole_fill(struct reasm_slot *s, uint16_t off, uint16_t end, const uint8_t *data)
{
	uint16_t prev = REASM_NONE;

	for (uint16_t h = s->holes; h != REASM_NONE; prev = h, h = hole_next(s, h)) {
		uint16_t last = hole_end(s, h), next = hole_next(s, h);
		if (off >= last)
			continue;
		if (end <= h)
			return FILL_DUPLICATE; /* between the previous hole and this one */
		if (off < h || end > last)
			return FILL_OVERLAP;
		memcpy(reasm_data(s) + off, data, (size_t)(end - off));
		uint16_t after = next;
		if (end < last) {
			hole_put(s, end, last, next);
			after = end;
		}
		if (off > h)
			hole_put(s, h, off, after); /* the hole keeps its start; its descriptor stays put */
		else
			hole_link(s, prev, after);
		return FILL_OK;
	}
	return FILL_DUPLICATE;
}

/* The last fragment (MF clear) fixes the datagram's end: the last hole, the only one without an end,
 * ends there. Bytes already here past it make the set inconsistent. */
static bool set_total(struct reasm_slot *s, uint16_t total)
{
	uint16_t prev = REASM_NONE, h = s->holes;

	if (s->total_known)
		return total == s->total;
	while (h != REASM_NONE && hole_next(s, h) != REASM_NONE) {
		prev = h;
		h = hole_next(s, h);
	}
	if (h == REASM_NONE || hole_end(s, h) != REASM_INF || h > total)
		return false;
	if (h == total)
		hole_link(s, prev, REASM_NONE);
	else
		hole_put(s, h, total, REASM_NONE);
	s->total = total;
	s->total_known = true;
	return true;
}

/* The first fragment's header goes right before the data, so header and data are one packet. */
static void keep_first(struct reasm_slot *s, const struct rx_ip *rx)
{
	uint8_t *hdr = s->buf + REASM_HDR_ROOM - rx->ip.header_len;

	memcpy(hdr, rx->packet, rx->ip.header_len);
	s->hdr_len = (uint8_t)rx->ip.header_len;
	s->first = rx->ip;
	s->first.options = rx->ip.header_len > IPV4_HEADER_LEN ? hdr + IPV4_HEADER_LEN : NULL;
}

/* The datagram complete: its header says so (total length, no fragment fields, a new checksum), for
 * an ICMP error that quotes it, and rx describes it as one packet. Transports verify their checksum
 * over it: no device verified it whole. */
static bool deliver(struct iface *ifc, struct reasm_slot *s, struct rx_ip *rx)
{
	uint32_t total_len = (uint32_t)s->hdr_len + s->total;

	if (s->hdr_len == 0) { /* cannot be: no hole left means offset 0 came */
		slot_kill(ifc, s, IFACE_DROP_FRAG_MALFORMED);
		return false;
	}
	if (total_len > 65535u || s->total > ifc->reasm_cap) { /* RFC 791: 65,535 at most */
		slot_kill(ifc, s, IFACE_DROP_FRAG_TOO_LONG);
		return false;
	}
	uint8_t *hdr = s->buf + REASM_HDR_ROOM - s->hdr_len;
	put_be16(hdr + 2, (uint16_t)total_len);
	put_be16(hdr + 6, s->first.dont_frag ? 0x4000 : 0);
	put_be16(hdr + 10, 0);
	put_be16(hdr + 10, csum_ipv4_header(hdr, s->hdr_len));
	rx->ip = s->first;
	rx->ip.total_len = (uint16_t)total_len;
	rx->ip.more_frags = false;
	rx->ip.frag_offset = 0;
	rx->packet = hdr;
	rx->l4 = reasm_data(s);
	rx->l4_len = s->total;
	rx->csum = WIRE_CSUM_VERIFY;
	rx->link_broadcast = s->link_broadcast;
	ifc->reasm_active--;
	ifc->reasm_held++;
	s->state = REASM_HELD;
	iface_count(ifc, IFACE_FRAG_REASSEMBLED);
	return true;
}

bool ip_reasm_input(struct iface *ifc, struct rx_ip *rx)
{
	const struct ipv4_repr *ip = &rx->ip;
	uint32_t len = ipv4_payload_len(ip);
	uint32_t off = ip->frag_offset, end = off + len;
	const uint8_t *data = rx->packet + ip->header_len;
	struct reasm_slot *s;

	iface_count(ifc, IFACE_FRAG_RX_FRAGMENTS);
	/* RFC 791: every fragment but the last carries a multiple of 8 bytes, and some. */
	if (ip->more_frags && (len == 0 || len % 8 != 0)) {
		iface_count(ifc, IFACE_DROP_FRAG_MALFORMED);
		return false;
	}
	s = slot_find(ifc, ip);
	/* Past 65,535 bytes (the "ping of death"), or past what a slot holds: the datagram goes too. */
	if (end > REASM_MAX_DATA || end > ifc->reasm_cap) {
		if (s)
			slot_free(ifc, s);
		iface_count(ifc, IFACE_DROP_FRAG_TOO_LONG);
		return false;
	}
	if (off == 0 && len < l4_header_min(ip->protocol, data, len)) {
		if (s)
			slot_free(ifc, s);
		iface_count(ifc, IFACE_DROP_FRAG_TINY);
		return false;
	}
	if (!s && !(s = slot_new(ifc, rx))) {
		iface_count(ifc, IFACE_DROP_FRAG_NO_SLOT);
		return false;
	}
	/* A second, different end, or bytes past the end: no datagram can be made of these. */
	if (!ip->more_frags ? !set_total(s, (uint16_t)end) : (s->total_known && end > s->total)) {
		slot_kill(ifc, s, IFACE_DROP_FRAG_MALFORMED);
		return false;
	}
	enum fill r = len > 0 ? hole_fill(s, (uint16_t)off, (uint16_t)end, data) : FILL_OK;
	if (r == FILL_OVERLAP) {
		slot_kill(ifc, s, IFACE_DROP_FRAG_OVERLAP);
		return false;
	}
	/* A duplicate brings nothing, but a last fragment's end may still complete the datagram. */
	if (r == FILL_DUPLICATE)
		iface_count(ifc, IFACE_DROP_FRAG_DUPLICATE);
	else if (off == 0)
		keep_first(s, rx);
	s->link_broadcast |= rx->link_broadcast;
	if (!s->total_known || s->holes != REASM_NONE)
		return false;
	return deliver(ifc, s, rx);
}

/* RFC 1122 3.3.2: time exceeded, code 1, only if fragment zero has come; it quotes that fragment. */
static void time_exceeded(struct iface *ifc, struct reasm_slot *s)
{
	struct rx_ip rx = {
		.ip = s->first,
		.packet = s->buf + REASM_HDR_ROOM - s->hdr_len,
		.l4 = reasm_data(s),
		.l4_len = ipv4_payload_len(&s->first),
		.broadcast = !iface_is_our_addr(ifc, s->dst),
		.link_broadcast = s->link_broadcast,
	};

	if (s->hdr_len > 0)
		icmp_send_error(ifc, &rx, ICMPV4_TIME_EXCEEDED, 1);
}

void ip_reasm_expire(struct iface *ifc)
{
	smx_instant next = SMX_INSTANT_NEVER;

	if (ifc->reasm_active == 0 || ifc->now < ifc->reasm_next_expiry)
		return;
	for (uint32_t i = 0; i < ifc->reasm_slots; i++) {
		struct reasm_slot *s = &ifc->reasm[i];
		if (s->state != REASM_ACTIVE)
			continue;
		if (s->expires > ifc->now) {
			next = SMX_MIN(next, s->expires);
			continue;
		}
		time_exceeded(ifc, s);
		slot_kill(ifc, s, IFACE_DROP_FRAG_TIMEOUT);
	}
	ifc->reasm_next_expiry = next;
}

smx_instant ip_reasm_poll_at(const struct iface *ifc)
{
	return ifc->reasm_active > 0 ? ifc->reasm_next_expiry : SMX_INSTANT_NEVER;
}

void ip_reasm_release_held(struct iface *ifc)
{
	if (ifc->reasm_held == 0)
		return;
	for (uint32_t i = 0; i < ifc->reasm_slots; i++)
		if (ifc->reasm[i].state == REASM_HELD)
			slot_free(ifc, &ifc->reasm[i]);
}
