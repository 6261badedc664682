/* One line per Ethernet frame for humans (smolxdp-dump, traces): every layer the stack understands, in
 * order, separated by ": ". What cannot be decoded is named (truncated, malformed, bad checksum with
 * the expected value, unknown ethertype or protocol), never skipped silently. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire.h"

/* The value a checksum field should hold, given the raw sum over the data including the field as it
 * is: take the field back out (ones' complement subtraction is adding its complement). */
static uint16_t frame_expected_csum(uint32_t sum_with_field, uint16_t field)
{
	return csum_finish(sum_with_field + (uint16_t)~field);
}

static void frame_print_bad_csum(struct strbuf *sb, uint16_t found, uint16_t expected)
{
	strbuf_puts(sb, ", bad checksum 0x");
	strbuf_hex(sb, found, 4);
	strbuf_puts(sb, " (expected 0x");
	strbuf_hex(sb, expected, 4);
	strbuf_putc(sb, ')');
}

static void frame_print_truncated(struct strbuf *sb, const char *layer, size_t have, size_t need)
{
	strbuf_puts(sb, layer);
	strbuf_puts(sb, " truncated (");
	strbuf_dec(sb, have);
	strbuf_puts(sb, " of ");
	strbuf_dec(sb, need);
	strbuf_puts(sb, " bytes)");
}

static uint32_t frame_l4_sum(const struct ipv4_repr *ip, const uint8_t *p, size_t n)
{
	return csum_add(csum_pseudo_ipv4(ip->src, ip->dst, ip->protocol, (uint16_t)n), p, n);
}

static void frame_print_tcp(const struct ipv4_repr *ip, const uint8_t *p, size_t n, enum wire_csum csum,
			    struct strbuf *sb)
{
	struct tcp_repr tcp;
	enum wire_err err = tcp_parse(p, n, ip->src, ip->dst, csum, &tcp);

	switch (err) {
	case WIRE_OK:
		tcp_print(&tcp, sb);
		break;
	case WIRE_BAD_CHECKSUM:
		tcp_print(&tcp, sb);
		frame_print_bad_csum(sb, tcp.checksum, frame_expected_csum(frame_l4_sum(ip, p, n), tcp.checksum));
		break;
	case WIRE_TRUNCATED:
		if (n < TCP_HEADER_LEN)
			frame_print_truncated(sb, "TCP", n, TCP_HEADER_LEN);
		else
			frame_print_truncated(sb, "TCP", n, (size_t)(p[12] >> 4) * 4);
		break;
	default:
		strbuf_puts(sb, "TCP ");
		strbuf_dec(sb, get_be16(p));
		strbuf_puts(sb, " > ");
		strbuf_dec(sb, get_be16(p + 2));
		strbuf_puts(sb, " malformed (data offset ");
		strbuf_dec(sb, p[12] >> 4);
		strbuf_puts(sb, tcp.header_len != 0 ? ", bad options)" : ")");
		break;
	}
}

static void frame_print_udp(const struct ipv4_repr *ip, const uint8_t *p, size_t n, enum wire_csum csum,
			    struct strbuf *sb)
{
	struct udp_repr udp;
	enum wire_err err = udp_parse(p, n, ip->src, ip->dst, csum, &udp);

	switch (err) {
	case WIRE_OK:
		udp_print(&udp, sb);
		break;
	case WIRE_BAD_CHECKSUM:
		udp_print(&udp, sb);
		frame_print_bad_csum(sb, udp.checksum,
				     frame_expected_csum(frame_l4_sum(ip, p, udp.length), udp.checksum));
		break;
	case WIRE_TRUNCATED:
		frame_print_truncated(sb, "UDP", n, n < UDP_HEADER_LEN ? UDP_HEADER_LEN : udp.length);
		break;
	default:
		strbuf_puts(sb, "UDP ");
		strbuf_dec(sb, udp.src_port);
		strbuf_puts(sb, " > ");
		strbuf_dec(sb, udp.dst_port);
		strbuf_puts(sb, " malformed (length ");
		strbuf_dec(sb, udp.length);
		strbuf_putc(sb, ')');
		break;
	}
}

static void frame_print_icmp(const uint8_t *p, size_t n, enum wire_csum csum, struct strbuf *sb)
{
	struct icmpv4_repr icmp;
	enum wire_err err = icmpv4_parse(p, n, csum, &icmp);

	if (err == WIRE_TRUNCATED) {
		frame_print_truncated(sb, "ICMP", n, ICMPV4_HEADER_LEN);
		return;
	}
	icmpv4_print(&icmp, sb);
	if (err == WIRE_BAD_CHECKSUM)
		frame_print_bad_csum(sb, icmp.checksum, frame_expected_csum(csum_add(0, p, n), icmp.checksum));
}

static void frame_print_ipv4(const uint8_t *p, size_t n, struct strbuf *sb)
{
	struct ipv4_repr ip;
	enum wire_err err = ipv4_parse(p, n, WIRE_CSUM_VERIFY, &ip);
	enum wire_csum l4_csum = WIRE_CSUM_VERIFY;
	size_t l4_len;

	if (err == WIRE_TRUNCATED && ip.header_len == 0) {
		frame_print_truncated(sb, "IPv4", n, n < IPV4_HEADER_LEN ? IPV4_HEADER_LEN : (size_t)(p[0] & 0xf) * 4);
		return;
	}
	if (err == WIRE_MALFORMED) {
		strbuf_puts(sb, "IPv4 malformed (version ");
		strbuf_dec(sb, p[0] >> 4);
		strbuf_puts(sb, ", ihl ");
		strbuf_dec(sb, p[0] & 0xf);
		strbuf_puts(sb, ", total length ");
		strbuf_dec(sb, get_be16(p + 2));
		strbuf_putc(sb, ')');
		return;
	}
	ipv4_print(&ip, sb);
	if (err == WIRE_BAD_CHECKSUM) {
		uint16_t expected = frame_expected_csum(csum_add(0, p, ip.header_len), ip.checksum);
		frame_print_bad_csum(sb, ip.checksum, expected);
	}
	l4_len = ipv4_payload_len(&ip);
	if (err == WIRE_TRUNCATED) {
		/* Total length past the captured bytes: decode what is there, nothing can be verified. */
		strbuf_puts(sb, ", truncated (");
		strbuf_dec(sb, n);
		strbuf_puts(sb, " of ");
		strbuf_dec(sb, ip.total_len);
		strbuf_puts(sb, " bytes)");
		l4_len = n - ip.header_len;
		l4_csum = WIRE_CSUM_IGNORE;
	}
	if (ipv4_is_fragment(&ip)) {
		strbuf_puts(sb, ", fragment");
		if (ip.frag_offset != 0) {
			strbuf_puts(sb, ": ");
			strbuf_dec(sb, ipv4_payload_len(&ip));
			strbuf_puts(sb, " bytes (not first fragment)");
			return;
		}
		/* The transport checksum covers the whole datagram, which this frame does not hold. */
		l4_csum = WIRE_CSUM_IGNORE;
	}
	strbuf_puts(sb, ": ");
	const uint8_t *l4 = p + ip.header_len;
	switch (ip.protocol) {
	case IP_PROTO_TCP:
		frame_print_tcp(&ip, l4, l4_len, l4_csum, sb);
		break;
	case IP_PROTO_UDP:
		frame_print_udp(&ip, l4, l4_len, l4_csum, sb);
		break;
	case IP_PROTO_ICMP:
		frame_print_icmp(l4, l4_len, l4_csum, sb);
		break;
	default:
		strbuf_puts(sb, "proto ");
		strbuf_dec(sb, ip.protocol);
		strbuf_puts(sb, " not decoded, ");
		strbuf_dec(sb, l4_len);
		strbuf_puts(sb, " bytes");
		break;
	}
}

static void frame_print_arp(const uint8_t *p, size_t n, struct strbuf *sb)
{
	struct arp_repr arp;
	enum wire_err err = arp_parse(p, n, &arp);

	switch (err) {
	case WIRE_OK:
		arp_print(&arp, sb);
		break;
	case WIRE_TRUNCATED:
		frame_print_truncated(sb, "ARP", n, n < 6 ? 6 : ARP_LEN);
		break;
	case WIRE_UNSUPPORTED:
		strbuf_puts(sb, "ARP unsupported (htype ");
		strbuf_dec(sb, get_be16(p));
		strbuf_puts(sb, ", ptype 0x");
		strbuf_hex(sb, get_be16(p + 2), 4);
		strbuf_putc(sb, ')');
		break;
	default:
		strbuf_puts(sb, "ARP malformed (hlen ");
		strbuf_dec(sb, p[4]);
		strbuf_puts(sb, ", plen ");
		strbuf_dec(sb, p[5]);
		strbuf_putc(sb, ')');
		break;
	}
}

void frame_print(const uint8_t *buf, size_t len, struct strbuf *sb)
{
	struct eth_repr eth;
	enum wire_err err = eth_parse(buf, len, &eth);

	if (err == WIRE_TRUNCATED && len < ETH_HEADER_LEN) {
		frame_print_truncated(sb, "Ethernet", len, ETH_HEADER_LEN);
		return;
	}
	if (err == WIRE_TRUNCATED) {
		strbuf_mac(sb, &eth.src);
		strbuf_puts(sb, " > ");
		strbuf_mac(sb, &eth.dst);
		strbuf_puts(sb, ", ");
		frame_print_truncated(sb, "802.1Q", len, ETH_VLAN_HEADER_LEN);
		return;
	}
	eth_print(&eth, sb);
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, len);
	if (err == WIRE_UNSUPPORTED) {
		strbuf_puts(sb, ": not decoded");
		return;
	}
	strbuf_puts(sb, ": ");
	const uint8_t *p = buf + eth.header_len;
	size_t n = len - eth.header_len;
	switch (eth.ethertype) {
	case ETH_TYPE_IPV4:
		frame_print_ipv4(p, n, sb);
		break;
	case ETH_TYPE_ARP:
		frame_print_arp(p, n, sb);
		break;
	default:
		strbuf_puts(sb, "ethertype 0x");
		strbuf_hex(sb, eth.ethertype, 4);
		strbuf_puts(sb, " not decoded, ");
		strbuf_dec(sb, n);
		strbuf_puts(sb, " bytes");
		break;
	}
}
