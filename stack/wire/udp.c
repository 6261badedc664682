/* UDP (RFC 768): the length field is checked against the IP payload; the checksum covers the
 * pseudo-header, header and data; a zero checksum on receive means the sender computed none. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/checksum.h"
#include "smolxdp/wire/ipv4.h"
#include "smolxdp/wire/udp.h"

#define UDP_OFF_SRC 0
#define UDP_OFF_DST 2
#define UDP_OFF_LEN 4
#define UDP_OFF_CSUM 6

enum wire_err udp_parse(const uint8_t *buf, size_t len, ipv4_addr src, ipv4_addr dst, enum wire_csum csum,
			struct udp_repr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < UDP_HEADER_LEN)
		return WIRE_TRUNCATED;
	out->src_port = get_be16(buf + UDP_OFF_SRC);
	out->dst_port = get_be16(buf + UDP_OFF_DST);
	out->length = get_be16(buf + UDP_OFF_LEN);
	out->checksum = get_be16(buf + UDP_OFF_CSUM);
	if (out->length < UDP_HEADER_LEN)
		return WIRE_MALFORMED;
	if (out->length > len)
		return WIRE_TRUNCATED;
	out->payload = buf + UDP_HEADER_LEN;
	out->payload_len = out->length - UDP_HEADER_LEN;
	/* RFC 768: "An all zero transmitted checksum value means that the transmitter generated no
	 * checksum". The sum covers `length` bytes, not any trailing bytes of the IP payload. */
	if (csum == WIRE_CSUM_VERIFY && out->checksum != 0) {
		uint32_t sum = csum_pseudo_ipv4(src, dst, IP_PROTO_UDP, out->length);
		if (csum_fold(csum_add(sum, buf, out->length)) != 0xffff)
			return WIRE_BAD_CHECKSUM;
	}
	return WIRE_OK;
}

size_t udp_repr_len(const struct udp_repr *r)
{
	return UDP_HEADER_LEN + r->payload_len;
}

size_t udp_emit(const struct udp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap)
{
	size_t n = udp_repr_len(r);

	if (cap < n || n > 0xffff)
		return 0;
	/* A payload written in place (a zero-copy send) needs no move. */
	if (r->payload_len > 0 && r->payload != buf + UDP_HEADER_LEN)
		memmove(buf + UDP_HEADER_LEN, r->payload, r->payload_len);
	put_be16(buf + UDP_OFF_SRC, r->src_port);
	put_be16(buf + UDP_OFF_DST, r->dst_port);
	put_be16(buf + UDP_OFF_LEN, (uint16_t)n);
	put_be16(buf + UDP_OFF_CSUM, 0);
	uint16_t c = csum_finish(csum_add(csum_pseudo_ipv4(src, dst, IP_PROTO_UDP, (uint16_t)n), buf, n));
	/* RFC 768: a computed zero is sent as all ones, since zero means "no checksum". */
	put_be16(buf + UDP_OFF_CSUM, c == 0 ? 0xffff : c);
	return n;
}

/* "UDP 40000 > 9999, length 13" (the payload length, as tcpdump prints it) */
void udp_print(const struct udp_repr *r, struct strbuf *sb)
{
	strbuf_puts(sb, "UDP ");
	strbuf_dec(sb, r->src_port);
	strbuf_puts(sb, " > ");
	strbuf_dec(sb, r->dst_port);
	if (r->checksum == 0)
		strbuf_puts(sb, ", no checksum");
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, r->payload_len);
}
