/* Ethernet II framing (IEEE 802.3 clause 3.2.6 type field) with one 802.1Q tag recognised; frames whose
 * type/length field is a length (< 0x0600) are 802.3 framing, which the stack does not speak. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/ethernet.h"

#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12
#define ETH_OFF_TCI 14
#define ETH_OFF_INNER_TYPE 16
#define ETH_TYPE_MIN 0x0600 /* below this the field is an 802.3 length */

const struct eth_addr ETH_ADDR_BROADCAST = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

enum wire_err eth_parse(const uint8_t *buf, size_t len, struct eth_repr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < ETH_HEADER_LEN)
		return WIRE_TRUNCATED;
	memcpy(out->dst.b, buf + ETH_OFF_DST, 6);
	memcpy(out->src.b, buf + ETH_OFF_SRC, 6);
	out->ethertype = get_be16(buf + ETH_OFF_TYPE);
	out->header_len = ETH_HEADER_LEN;
	if (out->ethertype == ETH_TYPE_VLAN) {
		if (len < ETH_VLAN_HEADER_LEN)
			return WIRE_TRUNCATED;
		out->vlan = true;
		out->vlan_tci = get_be16(buf + ETH_OFF_TCI);
		out->ethertype = get_be16(buf + ETH_OFF_INNER_TYPE);
		out->header_len = ETH_VLAN_HEADER_LEN;
	}
	if (out->ethertype < ETH_TYPE_MIN)
		return WIRE_UNSUPPORTED;
	return WIRE_OK;
}

size_t eth_repr_len(const struct eth_repr *r)
{
	return r->vlan ? ETH_VLAN_HEADER_LEN : ETH_HEADER_LEN;
}

size_t eth_emit(const struct eth_repr *r, uint8_t *buf, size_t cap)
{
	size_t n = eth_repr_len(r);

	if (cap < n)
		return 0;
	memcpy(buf + ETH_OFF_DST, r->dst.b, 6);
	memcpy(buf + ETH_OFF_SRC, r->src.b, 6);
	if (r->vlan) {
		put_be16(buf + ETH_OFF_TYPE, ETH_TYPE_VLAN);
		put_be16(buf + ETH_OFF_TCI, r->vlan_tci);
		put_be16(buf + ETH_OFF_INNER_TYPE, r->ethertype);
	} else {
		put_be16(buf + ETH_OFF_TYPE, r->ethertype);
	}
	return n;
}

const char *eth_type_name(uint16_t ethertype)
{
	switch (ethertype) {
	case ETH_TYPE_IPV4:
		return "IPv4";
	case ETH_TYPE_ARP:
		return "ARP";
	case ETH_TYPE_VLAN:
		return "802.1Q";
	case ETH_TYPE_IPV6:
		return "IPv6";
	}
	return NULL;
}

/* "aa:bb:cc:dd:ee:ff > 11:22:33:44:55:66, vlan 5 p 0, ethertype IPv4 (0x0800)" */
void eth_print(const struct eth_repr *r, struct strbuf *sb)
{
	const char *name = eth_type_name(r->ethertype);

	strbuf_mac(sb, &r->src);
	strbuf_puts(sb, " > ");
	strbuf_mac(sb, &r->dst);
	if (r->vlan) {
		strbuf_puts(sb, ", vlan ");
		strbuf_dec(sb, r->vlan_tci & 0x0fff);
		strbuf_puts(sb, " p ");
		strbuf_dec(sb, r->vlan_tci >> 13);
	}
	if (r->ethertype < ETH_TYPE_MIN) {
		strbuf_puts(sb, ", 802.3 length ");
		strbuf_dec(sb, r->ethertype);
		return;
	}
	strbuf_puts(sb, ", ethertype ");
	strbuf_puts(sb, name != NULL ? name : "unknown");
	strbuf_puts(sb, " (0x");
	strbuf_hex(sb, r->ethertype, 4);
	strbuf_putc(sb, ')');
}

bool eth_addr_is_multicast(const struct eth_addr *a)
{
	return (a->b[0] & 0x01) != 0; /* the I/G bit, IEEE 802 clause 8.2 */
}
