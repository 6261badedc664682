/* smolxdp-dump's default line: Ethernet (with -e), ARP, IPv4, UDP and ICMP in tcpdump 4.99's words and
 * order (`tcpdump -nn`); TCP is in dump_tcp.c. Every field comes from the stack's parsers, with the
 * checksums left unverified as tcpdump leaves them without -v. What tcpdump would decode further
 * (IPv6, DNS, HTTP...) is not: such frames say "not decoded" or stop at the transport's length. */
#include "dump_internal.h"

static void dump_ethertype(uint16_t type, struct strbuf *sb)
{
	const char *name = "Unknown";

	switch (type) {
	case ETH_TYPE_IPV4: name = "IPv4"; break;
	case ETH_TYPE_ARP: name = "ARP"; break;
	case ETH_TYPE_IPV6: name = "IPv6"; break;
	case ETH_TYPE_VLAN: name = "802.1Q"; break;
	default: break;
	}
	strbuf_puts(sb, "ethertype ");
	strbuf_puts(sb, name);
	strbuf_puts(sb, " (0x");
	strbuf_hex(sb, type, 4);
	strbuf_putc(sb, ')');
}

/* tcpdump -e: "SRC > DST, ethertype IPv4 (0x0800), length 98: ", a tag adding "vlan 5, p 0, ethertype
 * IPv4 (0x0800), " after the colon. */
static void dump_link(const struct eth_repr *eth, size_t len, struct strbuf *sb)
{
	strbuf_mac(sb, &eth->src);
	strbuf_puts(sb, " > ");
	strbuf_mac(sb, &eth->dst);
	strbuf_puts(sb, ", ");
	dump_ethertype(eth->vlan ? ETH_TYPE_VLAN : eth->ethertype, sb);
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, len);
	strbuf_puts(sb, ": ");
	if (eth->vlan) {
		strbuf_puts(sb, "vlan ");
		strbuf_dec(sb, eth->vlan_tci & 0xfff);
		strbuf_puts(sb, ", p ");
		strbuf_dec(sb, eth->vlan_tci >> 13);
		if (eth->vlan_tci & 0x1000)
			strbuf_puts(sb, ", DEI");
		strbuf_puts(sb, ", ");
		dump_ethertype(eth->ethertype, sb);
		strbuf_puts(sb, ", ");
	}
}

void dump_addrs(const struct ipv4_repr *ip, const uint16_t *ports, struct strbuf *sb)
{
	strbuf_ipv4(sb, ip->src);
	if (ports != NULL) {
		strbuf_putc(sb, '.');
		strbuf_dec(sb, ports[0]);
	}
	strbuf_puts(sb, " > ");
	strbuf_ipv4(sb, ip->dst);
	if (ports != NULL) {
		strbuf_putc(sb, '.');
		strbuf_dec(sb, ports[1]);
	}
	strbuf_puts(sb, ": ");
}

/* ARP: "Request who-has 10.0.0.2 tell 10.0.0.1, length 28" (the target's MAC in parentheses when it is
 * not zero), "Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28"; the length is what follows the
 * Ethernet header on the wire, padding included. */
static void dump_arp(const uint8_t *p, size_t cap, size_t len, bool link, struct strbuf *sb)
{
	static const struct eth_addr zero;
	struct arp_repr arp;
	enum wire_err err = arp_parse(p, cap, &arp);

	if (err == WIRE_TRUNCATED) {
		strbuf_puts(sb, " [|arp]");
		return;
	}
	if (!link)
		strbuf_puts(sb, "ARP, ");
	if (err != WIRE_OK) {
		strbuf_puts(sb, "not decoded (not Ethernet and IPv4)");
	} else if (arp.op == ARP_OP_REQUEST) {
		strbuf_puts(sb, "Request who-has ");
		strbuf_ipv4(sb, arp.tpa);
		if (!eth_addr_eq(&arp.tha, &zero)) {
			strbuf_puts(sb, " (");
			strbuf_mac(sb, &arp.tha);
			strbuf_putc(sb, ')');
		}
		strbuf_puts(sb, " tell ");
		strbuf_ipv4(sb, arp.spa);
	} else if (arp.op == ARP_OP_REPLY) {
		strbuf_puts(sb, "Reply ");
		strbuf_ipv4(sb, arp.spa);
		strbuf_puts(sb, " is-at ");
		strbuf_mac(sb, &arp.sha);
	} else {
		strbuf_puts(sb, "Unknown (");
		strbuf_dec(sb, arp.op);
		strbuf_putc(sb, ')');
	}
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, len);
}

/* UDP: "UDP, length 7", the payload length by the UDP header. */
static void dump_udp(const struct ipv4_repr *ip, const uint8_t *p, size_t cap, size_t len, struct strbuf *sb)
{
	if (cap < UDP_HEADER_LEN || len < UDP_HEADER_LEN) {
		dump_addrs(ip, NULL, sb);
		strbuf_puts(sb, "[|udp]");
		return;
	}
	uint16_t ports[2] = {get_be16(p), get_be16(p + 2)};
	uint16_t ulen = get_be16(p + 4);
	dump_addrs(ip, ports, sb);
	if (ulen < UDP_HEADER_LEN) {
		strbuf_puts(sb, "truncated-udplength ");
		strbuf_dec(sb, ulen);
	} else if (ulen > len) {
		strbuf_puts(sb, "UDP, bad length ");
		strbuf_dec(sb, ulen - UDP_HEADER_LEN);
		strbuf_puts(sb, " > ");
		strbuf_dec(sb, len - UDP_HEADER_LEN);
	} else {
		strbuf_puts(sb, "UDP, length ");
		strbuf_dec(sb, ulen - UDP_HEADER_LEN);
	}
}

/* Destination unreachable, by code: tcpdump's wording around the quoted destination. */
static void dump_icmp_unreach(const struct icmpv4_repr *m, struct strbuf *sb)
{
	static const struct {
		const char *before, *after;
	} codes[] = {
		[0] = {"net ", " unreachable"},
		[1] = {"host ", " unreachable"},
		[5] = {"", " unreachable - source route failed"},
		[6] = {"net ", " unreachable - unknown"},
		[7] = {"host ", " unreachable - unknown"},
		[8] = {"", " unreachable - source host isolated"},
		[9] = {"net ", " unreachable - admin prohibited"},
		[10] = {"host ", " unreachable - admin prohibited"},
		[11] = {"net ", " unreachable - tos prohibited"},
		[12] = {"host ", " unreachable - tos prohibited"},
		[13] = {"host ", " unreachable - admin prohibited filter"},
		[14] = {"host ", " unreachable - host precedence violation"},
		[15] = {"host ", " unreachable - precedence cutoff"},
	};
	const struct ipv4_repr *q = &m->quote_ip;

	if (m->code == ICMPV4_UNREACH_PROTO) {
		strbuf_ipv4(sb, q->dst);
		strbuf_puts(sb, " protocol ");
		strbuf_dec(sb, q->protocol);
		strbuf_puts(sb, " unreachable");
	} else if (m->code == ICMPV4_UNREACH_PORT) {
		strbuf_ipv4(sb, q->dst);
		if (!m->quote_has_ports) {
			strbuf_puts(sb, " [|icmp]");
			return;
		}
		if (q->protocol == IP_PROTO_TCP || q->protocol == IP_PROTO_UDP) {
			strbuf_puts(sb, q->protocol == IP_PROTO_TCP ? " tcp port " : " udp port ");
		} else {
			strbuf_puts(sb, " protocol ");
			strbuf_dec(sb, q->protocol);
			strbuf_puts(sb, " port ");
		}
		strbuf_dec(sb, m->quote_dst_port);
		strbuf_puts(sb, " unreachable");
	} else if (m->code == ICMPV4_UNREACH_FRAG_NEEDED) {
		strbuf_ipv4(sb, q->dst);
		strbuf_puts(sb, " unreachable - need to frag");
		if (m->next_mtu != 0) {
			strbuf_puts(sb, " (mtu ");
			strbuf_dec(sb, m->next_mtu);
			strbuf_putc(sb, ')');
		}
	} else if (m->code < SMX_ARRAY_LEN(codes) && codes[m->code].after != NULL) {
		strbuf_puts(sb, codes[m->code].before);
		strbuf_ipv4(sb, q->dst);
		strbuf_puts(sb, codes[m->code].after);
	} else {
		strbuf_putc(sb, '#');
		strbuf_dec(sb, m->code);
		strbuf_putc(sb, ' ');
		strbuf_ipv4(sb, q->dst);
		strbuf_puts(sb, " unreachable");
	}
}

static const char *dump_icmp_simple(uint8_t type)
{
	switch (type) {
	case 4: return "source quench";
	case 9: return "router advertisement";
	case 10: return "router solicitation";
	case 15: return "information request";
	case 16: return "information reply";
	case 17: return "address mask request";
	default: return NULL;
	}
}

/* The message by type and code, as tcpdump names it; false when the quote it needs is not there. */
static bool dump_icmp_message(const struct icmpv4_repr *m, struct strbuf *sb)
{
	bool quoting = m->type == ICMPV4_DEST_UNREACH || m->type == 5;

	if (quoting && !m->has_quote)
		return false;
	switch (m->type) {
	case ICMPV4_ECHO_REQUEST:
	case ICMPV4_ECHO_REPLY:
		strbuf_puts(sb, m->type == ICMPV4_ECHO_REQUEST ? "echo request, id " : "echo reply, id ");
		strbuf_dec(sb, m->ident);
		strbuf_puts(sb, ", seq ");
		strbuf_dec(sb, m->seq);
		break;
	case ICMPV4_DEST_UNREACH:
		dump_icmp_unreach(m, sb);
		break;
	case 5: /* redirect: the gateway is the second word */
		strbuf_puts(sb, m->code == 2 || m->code == 3 ? "redirect-tos " : "redirect ");
		strbuf_ipv4(sb, m->quote_ip.dst);
		strbuf_puts(sb, m->code == 1 || m->code == 3 ? " to host " : " to net ");
		strbuf_ipv4(sb, m->rest);
		break;
	case ICMPV4_TIME_EXCEEDED:
		if (m->code == 0) {
			strbuf_puts(sb, "time exceeded in-transit");
		} else if (m->code == 1) {
			strbuf_puts(sb, "ip reassembly time exceeded");
		} else {
			strbuf_puts(sb, "time exceeded-#");
			strbuf_dec(sb, m->code);
		}
		break;
	case ICMPV4_PARAM_PROBLEM:
		strbuf_puts(sb, m->code != 0 ? "parameter problem - code " : "parameter problem - octet ");
		strbuf_dec(sb, m->code != 0 ? m->code : m->pointer);
		break;
	case 13:
		strbuf_puts(sb, "time stamp query id ");
		strbuf_dec(sb, m->rest >> 16);
		strbuf_puts(sb, " seq ");
		strbuf_dec(sb, m->rest & 0xffff);
		break;
	default:
		if (dump_icmp_simple(m->type) != NULL) {
			strbuf_puts(sb, dump_icmp_simple(m->type));
		} else {
			strbuf_puts(sb, "type-#");
			strbuf_dec(sb, m->type);
		}
		break;
	}
	return true;
}

/* ICMP: "ICMP echo request, id 5, seq 1, length 64", errors naming what they quote. */
static void dump_icmp(const struct ipv4_repr *ip, const uint8_t *p, size_t cap, size_t len, struct strbuf *sb)
{
	struct icmpv4_repr m;

	dump_addrs(ip, NULL, sb);
	if (icmpv4_parse(p, cap < len ? cap : len, WIRE_CSUM_IGNORE, &m) == WIRE_TRUNCATED) {
		strbuf_puts(sb, "[|icmp]");
		return;
	}
	strbuf_puts(sb, "ICMP ");
	if (!dump_icmp_message(&m, sb)) {
		strbuf_puts(sb, "[|icmp]");
		return;
	}
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, len);
}

static void dump_ipv4(struct dump_line *d, const uint8_t *p, size_t cap, struct strbuf *sb)
{
	struct ipv4_repr ip;
	enum wire_err err = ipv4_parse(p, cap, WIRE_CSUM_IGNORE, &ip);

	if (!d->link)
		strbuf_puts(sb, "IP ");
	if (cap < IPV4_HEADER_LEN) {
		strbuf_puts(sb, "[|ip]");
		return;
	}
	if ((p[0] & 0xf) < 5) {
		strbuf_puts(sb, "bad-hlen ");
		strbuf_dec(sb, (size_t)(p[0] & 0xf) * 4);
		return;
	}
	if (err == WIRE_TRUNCATED && ip.header_len == 0) {
		strbuf_puts(sb, "[|ip]");
		return;
	}
	if (err == WIRE_MALFORMED) {
		strbuf_puts(sb, "malformed (version ");
		strbuf_dec(sb, p[0] >> 4);
		strbuf_puts(sb, ", total length ");
		strbuf_dec(sb, get_be16(p + 2));
		strbuf_putc(sb, ')');
		return;
	}
	/* The transport's length is the IP header's; what is missing from the capture is said. */
	size_t len = ipv4_payload_len(&ip);
	size_t have = cap - ip.header_len;
	if (err == WIRE_TRUNCATED) {
		strbuf_puts(sb, "truncated-ip - ");
		strbuf_dec(sb, (size_t)ip.total_len - cap);
		strbuf_puts(sb, " bytes missing! ");
	}
	if (have > len)
		have = len;
	const uint8_t *l4 = p + ip.header_len;
	if (ip.frag_offset != 0) {
		dump_addrs(&ip, NULL, sb);
		strbuf_puts(sb, "ip-proto-");
		strbuf_dec(sb, ip.protocol);
		return;
	}
	switch (ip.protocol) {
	case IP_PROTO_TCP:
		dump_tcp(d, &ip, l4, have, len, sb);
		break;
	case IP_PROTO_UDP:
		dump_udp(&ip, l4, have, len, sb);
		break;
	case IP_PROTO_ICMP:
		dump_icmp(&ip, l4, have, len, sb);
		break;
	default:
		dump_addrs(&ip, NULL, sb);
		strbuf_puts(sb, " ip-proto-"); /* tcpdump's two spaces */
		strbuf_dec(sb, ip.protocol);
		strbuf_putc(sb, ' ');
		strbuf_dec(sb, len);
		break;
	}
}

void dump_line_print(struct dump_line *d, const uint8_t *frame, size_t caplen, size_t len, struct strbuf *sb)
{
	struct eth_repr eth;
	enum wire_err err = eth_parse(frame, caplen, &eth);

	if (err == WIRE_TRUNCATED) {
		strbuf_puts(sb, "[|ether]");
		return;
	}
	bool decoded = err == WIRE_OK && (eth.ethertype == ETH_TYPE_IPV4 || eth.ethertype == ETH_TYPE_ARP);
	if (d->link || !decoded)
		dump_link(&eth, len, sb);
	if (!decoded) {
		strbuf_puts(sb, err == WIRE_UNSUPPORTED ? "802.3 frame, not decoded" : "not decoded");
		return;
	}
	const uint8_t *p = frame + eth.header_len;
	size_t cap = caplen - eth.header_len;
	if (eth.ethertype == ETH_TYPE_ARP)
		dump_arp(p, cap, len - eth.header_len, d->link, sb);
	else
		dump_ipv4(d, p, cap, sb);
}
