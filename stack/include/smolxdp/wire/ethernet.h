/* Ethernet II frames, with 802.1Q tags recognised (one tag) and 802.3 length framing refused. */
#ifndef SMOLXDP_WIRE_ETHERNET_H
#define SMOLXDP_WIRE_ETHERNET_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

#define ETH_HEADER_LEN 14
#define ETH_VLAN_HEADER_LEN 18
#define ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded on send */

enum eth_type {
	ETH_TYPE_IPV4 = 0x0800,
	ETH_TYPE_ARP = 0x0806,
	ETH_TYPE_VLAN = 0x8100,
	ETH_TYPE_IPV6 = 0x86dd,
};

struct eth_repr {
	struct eth_addr dst;
	struct eth_addr src;
	uint16_t ethertype; /* of the payload (the inner one when tagged) */
	bool vlan;          /* carried an 802.1Q tag */
	uint16_t vlan_tci;
	uint16_t header_len; /* 14, or 18 when tagged: where the payload starts */
};

/* WIRE_UNSUPPORTED for 802.3 frames (type/length < 0x0600); the repr is still filled. */
enum wire_err eth_parse(const uint8_t *buf, size_t len, struct eth_repr *out);
size_t eth_repr_len(const struct eth_repr *r);
/* Writes the header; returns bytes written, 0 if cap is too small. */
size_t eth_emit(const struct eth_repr *r, uint8_t *buf, size_t cap);
void eth_print(const struct eth_repr *r, struct strbuf *sb);
const char *eth_type_name(uint16_t ethertype); /* NULL when unknown */

/* Inline: every received frame is checked against our address and the broadcast one. */
static inline bool eth_addr_eq(const struct eth_addr *a, const struct eth_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static inline bool eth_addr_is_broadcast(const struct eth_addr *a)
{
	static const struct eth_addr all_ones = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	return eth_addr_eq(a, &all_ones);
}

bool eth_addr_is_multicast(const struct eth_addr *a);
extern const struct eth_addr ETH_ADDR_BROADCAST;

SMX_API_END

#endif
