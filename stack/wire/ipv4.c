/* IPv4 headers (RFC 791 3.1): version, IHL and total length checked against the frame, header checksum
 * verified, fragments reported, options skipped by the header length (never interpreted). */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/checksum.h"
#include "smolxdp/wire/ipv4.h"

#define IPV4_OFF_VIHL 0
#define IPV4_OFF_TOS 1
#define IPV4_OFF_TOTAL_LEN 2
#define IPV4_OFF_IDENT 4
#define IPV4_OFF_FRAG 6
#define IPV4_OFF_TTL 8
#define IPV4_OFF_PROTO 9
#define IPV4_OFF_CSUM 10
#define IPV4_OFF_SRC 12
#define IPV4_OFF_DST 16
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_MASK 0x1fff

/* On WIRE_TRUNCATED because the total length runs past len, the repr is filled (the header itself is
 * present): ICMP error quotes rely on this, as they carry only the start of the datagram. */
enum wire_err ipv4_parse(const uint8_t *buf, size_t len, enum wire_csum csum, struct ipv4_repr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < IPV4_HEADER_LEN)
		return WIRE_TRUNCATED;
	if (buf[IPV4_OFF_VIHL] >> 4 != 4)
		return WIRE_MALFORMED;
	/* RFC 791 3.1: "the minimum value for a correct header is 5" (IHL, in 32-bit words). */
	size_t hlen = (size_t)(buf[IPV4_OFF_VIHL] & 0x0f) * 4;
	if (hlen < IPV4_HEADER_LEN)
		return WIRE_MALFORMED;
	if (hlen > len)
		return WIRE_TRUNCATED;
	uint16_t frag = get_be16(buf + IPV4_OFF_FRAG);
	out->header_len = (uint16_t)hlen;
	out->tos = buf[IPV4_OFF_TOS];
	out->total_len = get_be16(buf + IPV4_OFF_TOTAL_LEN);
	out->ident = get_be16(buf + IPV4_OFF_IDENT);
	out->dont_frag = (frag & IPV4_FLAG_DF) != 0;
	out->more_frags = (frag & IPV4_FLAG_MF) != 0;
	out->frag_offset = (uint16_t)((frag & IPV4_FRAG_MASK) * 8);
	out->ttl = buf[IPV4_OFF_TTL];
	out->protocol = buf[IPV4_OFF_PROTO];
	out->checksum = get_be16(buf + IPV4_OFF_CSUM);
	out->src = get_be32(buf + IPV4_OFF_SRC);
	out->dst = get_be32(buf + IPV4_OFF_DST);
	out->options = hlen > IPV4_HEADER_LEN ? buf + IPV4_HEADER_LEN : NULL;
	if (out->total_len < hlen)
		return WIRE_MALFORMED;
	/* Bytes beyond the total length are link-layer padding (short frames are padded to 60). */
	if (out->total_len > len)
		return WIRE_TRUNCATED;
	/* A header that sums (checksum included) to all ones is intact (RFC 1071 1). */
	if (csum == WIRE_CSUM_VERIFY && csum_ipv4_header(buf, hlen) != 0xffff)
		return WIRE_BAD_CHECKSUM;
	return WIRE_OK;
}

size_t ipv4_repr_len(const struct ipv4_repr *r)
{
	/* A header length outside 20..60 or not a multiple of 4 cannot be written: fall back to 20. */
	if (r->header_len < IPV4_HEADER_LEN || r->header_len > IPV4_MAX_HEADER_LEN || r->header_len % 4 != 0)
		return IPV4_HEADER_LEN;
	return r->header_len;
}

size_t ipv4_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap)
{
	size_t hlen = ipv4_repr_len(r);
	uint16_t frag = (uint16_t)((r->frag_offset / 8) & IPV4_FRAG_MASK);

	if (cap < hlen)
		return 0;
	if (r->dont_frag)
		frag |= IPV4_FLAG_DF;
	if (r->more_frags)
		frag |= IPV4_FLAG_MF;
	uint16_t vihl_tos = (uint16_t)((0x40 | hlen / 4) << 8 | r->tos);
	uint16_t ttl_proto = (uint16_t)(r->ttl << 8 | r->protocol);
	put_be16(buf + IPV4_OFF_VIHL, vihl_tos);
	put_be16(buf + IPV4_OFF_TOTAL_LEN, r->total_len);
	put_be16(buf + IPV4_OFF_IDENT, r->ident);
	put_be16(buf + IPV4_OFF_FRAG, frag);
	put_be16(buf + IPV4_OFF_TTL, ttl_proto);
	put_be32(buf + IPV4_OFF_SRC, r->src);
	put_be32(buf + IPV4_OFF_DST, r->dst);
	/* The checksum is summed from the field values (the header's 16-bit words, checksum zero) rather
	 * than read back from the buffer. */
	uint32_t sum = (uint32_t)vihl_tos + r->total_len + r->ident + frag + ttl_proto + (r->src >> 16) +
		       (r->src & 0xffff) + (r->dst >> 16) + (r->dst & 0xffff);
	if (hlen > IPV4_HEADER_LEN) {
		/* Options are opaque bytes to us; without any given, pad with End of Option List (zeros). */
		if (r->options != NULL)
			memmove(buf + IPV4_HEADER_LEN, r->options, hlen - IPV4_HEADER_LEN);
		else
			memset(buf + IPV4_HEADER_LEN, 0, hlen - IPV4_HEADER_LEN);
		sum = csum_add(sum, buf + IPV4_HEADER_LEN, hlen - IPV4_HEADER_LEN);
	}
	put_be16(buf + IPV4_OFF_CSUM, csum_finish(sum));
	return hlen;
}

const char *ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case IP_PROTO_ICMP:
		return "ICMP";
	case IP_PROTO_TCP:
		return "TCP";
	case IP_PROTO_UDP:
		return "UDP";
	}
	return NULL;
}

/* "IPv4 10.0.0.1 > 10.0.0.2, tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto TCP (6), hlen 20,
 * length 60" */
void ipv4_print(const struct ipv4_repr *r, struct strbuf *sb)
{
	const char *name = ip_proto_name(r->protocol);

	strbuf_puts(sb, "IPv4 ");
	strbuf_ipv4(sb, r->src);
	strbuf_puts(sb, " > ");
	strbuf_ipv4(sb, r->dst);
	strbuf_puts(sb, ", tos 0x");
	strbuf_hex(sb, r->tos, 1);
	strbuf_puts(sb, ", ttl ");
	strbuf_dec(sb, r->ttl);
	strbuf_puts(sb, ", id ");
	strbuf_dec(sb, r->ident);
	strbuf_puts(sb, ", offset ");
	strbuf_dec(sb, r->frag_offset);
	strbuf_puts(sb, ", flags [");
	if (r->dont_frag)
		strbuf_puts(sb, r->more_frags ? "DF+" : "DF");
	else if (r->more_frags)
		strbuf_puts(sb, "+");
	else
		strbuf_puts(sb, "none");
	strbuf_puts(sb, "], proto ");
	strbuf_puts(sb, name != NULL ? name : "unknown");
	strbuf_puts(sb, " (");
	strbuf_dec(sb, r->protocol);
	strbuf_puts(sb, "), hlen ");
	strbuf_dec(sb, r->header_len);
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, r->total_len);
}
