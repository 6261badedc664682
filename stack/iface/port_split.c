/* The port split among queues and the frame classifier dev_handoff asks (smolxdp/port_split.h). The
 * classifier reads only the few header fields it needs, each after checking the frame is long enough,
 * and trusts nothing else: the owner's stack parses and checks the whole frame as usual. */
#include "smolxdp/bytes.h"
#include "smolxdp/dev_handoff.h"
#include "smolxdp/port_split.h"
#include "smolxdp/wire/arp.h"
#include "smolxdp/wire/ethernet.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"

static uint32_t span_of(const struct port_split *ps)
{
	uint32_t range = (uint32_t)ps->port_max - ps->port_min + 1;

	return ps->queues && ps->port_min <= ps->port_max && range >= ps->queues ? range / ps->queues : 0;
}

void port_split_range(const struct port_split *ps, uint32_t q, uint16_t *lo, uint16_t *hi)
{
	uint32_t span = span_of(ps);

	if (span == 0 || q >= ps->queues) {
		*lo = 1;
		*hi = 0; /* empty */
		return;
	}
	*lo = (uint16_t)(ps->port_min + q * span);
	*hi = q == ps->queues - 1 ? ps->port_max : (uint16_t)(ps->port_min + (q + 1) * span - 1);
}

uint32_t port_split_owner(const struct port_split *ps, uint16_t port)
{
	uint32_t span = span_of(ps), q;

	if (span == 0 || port < ps->port_min || port > ps->port_max)
		return ps->queues;
	q = (uint32_t)(port - ps->port_min) / span;
	return q < ps->queues ? q : ps->queues - 1;
}

enum { ARP_OP_AT = 6, ARP_SPA_AT = 14, ARP_TPA_AT = 24 };
enum { IP_FRAG_AT = 6, IP_PROTO_AT = 9, IP_FRAG_OFFSET = 0x1fff /* in 8-byte units */ };

/* ARP: replies, and requests announcing the sender's own address (gratuitous, RFC 5227 3), teach
 * every queue the neighbour; other requests are answered where they land. */
static uint32_t arp_owner(uint32_t self, const uint8_t *p, uint32_t len)
{
	if (len < ARP_LEN)
		return self;
	if (get_be16(p + ARP_OP_AT) == ARP_OP_REPLY || memcmp(p + ARP_SPA_AT, p + ARP_TPA_AT, 4) == 0)
		return DEV_HANDOFF_ALL;
	return self;
}

/* The IPv4 header's length, 0 if the packet is too short or not one. */
static uint32_t ip_header_len(const uint8_t *p, uint32_t len)
{
	uint32_t hl;

	if (len < IPV4_HEADER_LEN || p[0] >> 4 != 4)
		return 0;
	hl = (uint32_t)(p[0] & 0x0f) * 4;
	return hl >= IPV4_HEADER_LEN && hl <= len ? hl : 0;
}

/* An ICMP error quotes our datagram (RFC 792): its source port is ours. */
static uint32_t icmp_owner(const struct port_split *ps, uint32_t self, const uint8_t *p, uint32_t len)
{
	uint32_t hl;
	uint8_t type;

	if (len < ICMPV4_HEADER_LEN)
		return self;
	type = p[0];
	if (type != ICMPV4_DEST_UNREACH && type != ICMPV4_TIME_EXCEEDED && type != ICMPV4_PARAM_PROBLEM)
		return self;
	p += ICMPV4_HEADER_LEN;
	len -= ICMPV4_HEADER_LEN;
	hl = ip_header_len(p, len);
	if (hl == 0 || (p[IP_PROTO_AT] != IP_PROTO_TCP && p[IP_PROTO_AT] != IP_PROTO_UDP) ||
	    (get_be16(p + IP_FRAG_AT) & IP_FRAG_OFFSET) != 0 || len < hl + 2)
		return self;
	uint32_t q = port_split_owner(ps, get_be16(p + hl));
	return q < ps->queues ? q : self;
}

uint32_t port_split_frame_owner(void *ctx, uint32_t self, const uint8_t *frame, uint32_t len)
{
	const struct port_split *ps = ctx;
	uint32_t off = ETH_HEADER_LEN, hl;
	uint16_t type;

	if (len < ETH_HEADER_LEN)
		return self;
	type = get_be16(frame + 12);
	if (type == ETH_TYPE_VLAN || type == 0x88a8) { /* one tag, as the stack takes */
		if (len < ETH_VLAN_HEADER_LEN)
			return self;
		type = get_be16(frame + 16);
		off = ETH_VLAN_HEADER_LEN;
	}
	frame += off;
	len -= off;
	if (type == ETH_TYPE_ARP)
		return arp_owner(self, frame, len);
	if (type != ETH_TYPE_IPV4 || (hl = ip_header_len(frame, len)) == 0)
		return self;
	/* Only the first fragment carries the ports (RFC 791). */
	if ((get_be16(frame + IP_FRAG_AT) & IP_FRAG_OFFSET) != 0)
		return self;
	switch (frame[IP_PROTO_AT]) {
	case IP_PROTO_TCP:
	case IP_PROTO_UDP:
		if (len >= hl + 4) {
			uint32_t q = port_split_owner(ps, get_be16(frame + hl + 2));
			return q < ps->queues ? q : self;
		}
		return self;
	case IP_PROTO_ICMP:
		return icmp_owner(ps, self, frame + hl, len - hl);
	}
	return self;
}
