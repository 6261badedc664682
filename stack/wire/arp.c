/* ARP for Ethernet and IPv4 (RFC 826): only hardware type 1 with protocol 0x0800 is understood; a
 * gratuitous ARP (RFC 5227 3) names the same address as sender and target. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/arp.h"
#include "smolxdp/wire/ethernet.h"

#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24
#define ARP_HTYPE_ETHERNET 1

enum wire_err arp_parse(const uint8_t *buf, size_t len, struct arp_repr *out)
{
	memset(out, 0, sizeof(*out));
	/* The fixed part first: hardware and protocol types and lengths decide the rest's size. */
	if (len < ARP_OFF_OP)
		return WIRE_TRUNCATED;
	if (get_be16(buf + ARP_OFF_HTYPE) != ARP_HTYPE_ETHERNET || get_be16(buf + ARP_OFF_PTYPE) != ETH_TYPE_IPV4)
		return WIRE_UNSUPPORTED;
	if (buf[ARP_OFF_HLEN] != 6 || buf[ARP_OFF_PLEN] != 4)
		return WIRE_MALFORMED;
	if (len < ARP_LEN)
		return WIRE_TRUNCATED;
	out->op = get_be16(buf + ARP_OFF_OP);
	memcpy(out->sha.b, buf + ARP_OFF_SHA, 6);
	out->spa = get_be32(buf + ARP_OFF_SPA);
	memcpy(out->tha.b, buf + ARP_OFF_THA, 6);
	out->tpa = get_be32(buf + ARP_OFF_TPA);
	return WIRE_OK;
}

size_t arp_emit(const struct arp_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < ARP_LEN)
		return 0;
	put_be16(buf + ARP_OFF_HTYPE, ARP_HTYPE_ETHERNET);
	put_be16(buf + ARP_OFF_PTYPE, ETH_TYPE_IPV4);
	buf[ARP_OFF_HLEN] = 6;
	buf[ARP_OFF_PLEN] = 4;
	put_be16(buf + ARP_OFF_OP, r->op);
	memcpy(buf + ARP_OFF_SHA, r->sha.b, 6);
	put_be32(buf + ARP_OFF_SPA, r->spa);
	memcpy(buf + ARP_OFF_THA, r->tha.b, 6);
	put_be32(buf + ARP_OFF_TPA, r->tpa);
	return ARP_LEN;
}

bool arp_is_gratuitous(const struct arp_repr *r)
{
	return r->spa == r->tpa;
}

/* tcpdump style: "ARP request who-has 10.0.0.2 tell 10.0.0.1 (aa:..)", "ARP reply 10.0.0.2 is-at aa:.." */
void arp_print(const struct arp_repr *r, struct strbuf *sb)
{
	switch (r->op) {
	case ARP_OP_REQUEST:
		strbuf_puts(sb, "ARP request who-has ");
		strbuf_ipv4(sb, r->tpa);
		strbuf_puts(sb, " tell ");
		strbuf_ipv4(sb, r->spa);
		strbuf_puts(sb, " (");
		strbuf_mac(sb, &r->sha);
		strbuf_putc(sb, ')');
		break;
	case ARP_OP_REPLY:
		strbuf_puts(sb, "ARP reply ");
		strbuf_ipv4(sb, r->spa);
		strbuf_puts(sb, " is-at ");
		strbuf_mac(sb, &r->sha);
		strbuf_puts(sb, " to ");
		strbuf_ipv4(sb, r->tpa);
		strbuf_puts(sb, " (");
		strbuf_mac(sb, &r->tha);
		strbuf_putc(sb, ')');
		break;
	default:
		strbuf_puts(sb, "ARP op ");
		strbuf_dec(sb, r->op);
		strbuf_puts(sb, " sender ");
		strbuf_ipv4(sb, r->spa);
		strbuf_puts(sb, " (");
		strbuf_mac(sb, &r->sha);
		strbuf_puts(sb, ") target ");
		strbuf_ipv4(sb, r->tpa);
		strbuf_puts(sb, " (");
		strbuf_mac(sb, &r->tha);
		strbuf_putc(sb, ')');
		break;
	}
	if (arp_is_gratuitous(r))
		strbuf_puts(sb, " gratuitous");
}
