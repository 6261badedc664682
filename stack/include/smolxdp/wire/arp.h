/* ARP for Ethernet and IPv4 (RFC 826): request, reply, gratuitous. */
#ifndef SMOLXDP_WIRE_ARP_H
#define SMOLXDP_WIRE_ARP_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

#define ARP_LEN 28

enum arp_op {
	ARP_OP_REQUEST = 1,
	ARP_OP_REPLY = 2,
};

struct arp_repr {
	uint16_t op;
	struct eth_addr sha; /* sender hardware address */
	ipv4_addr spa;       /* sender protocol address */
	struct eth_addr tha;
	ipv4_addr tpa;
};

/* WIRE_UNSUPPORTED when hardware type is not Ethernet or protocol is not IPv4; WIRE_MALFORMED when
 * hlen != 6 or plen != 4 for them. Trailing padding is allowed. */
enum wire_err arp_parse(const uint8_t *buf, size_t len, struct arp_repr *out);
size_t arp_emit(const struct arp_repr *r, uint8_t *buf, size_t cap); /* ARP_LEN, or 0 */
void arp_print(const struct arp_repr *r, struct strbuf *sb);
/* A gratuitous ARP announces its sender: spa == tpa. */
bool arp_is_gratuitous(const struct arp_repr *r);

SMX_API_END

#endif
