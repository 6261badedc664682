/* ICMPv4 messages (RFC 792): echo, destination unreachable, time exceeded, parameter problem. Error
 * messages quote the offending datagram's IP header and at least 8 bytes of its payload (RFC 792, RFC
 * 1812 4.3.2.3), which carry the ports of a TCP or UDP datagram. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/checksum.h"
#include "smolxdp/wire/icmpv4.h"

#define ICMP_OFF_TYPE 0
#define ICMP_OFF_CODE 1
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_REST 4

static bool icmpv4_is_echo(uint8_t type)
{
	return type == ICMPV4_ECHO_REQUEST || type == ICMPV4_ECHO_REPLY;
}

static bool icmpv4_is_error(uint8_t type)
{
	return type == ICMPV4_DEST_UNREACH || type == ICMPV4_TIME_EXCEEDED || type == ICMPV4_PARAM_PROBLEM;
}

/* The quote is parsed leniently: the quoted datagram is cut short by design, and its checksum may have
 * been changed by routers on the way, so only the header has to be present and sane. */
static void icmpv4_parse_quote(struct icmpv4_repr *out)
{
	enum wire_err err = ipv4_parse(out->data, out->data_len, WIRE_CSUM_IGNORE, &out->quote_ip);

	if (err != WIRE_OK && !(err == WIRE_TRUNCATED && out->quote_ip.header_len != 0))
		return;
	out->has_quote = true;
	size_t hlen = out->quote_ip.header_len;
	bool first_frag = out->quote_ip.frag_offset == 0;
	bool ported = out->quote_ip.protocol == IP_PROTO_TCP || out->quote_ip.protocol == IP_PROTO_UDP;
	if (ported && first_frag && out->data_len >= hlen + 4) {
		out->quote_has_ports = true;
		out->quote_src_port = get_be16(out->data + hlen);
		out->quote_dst_port = get_be16(out->data + hlen + 2);
	}
	if (out->quote_has_ports && out->quote_ip.protocol == IP_PROTO_TCP && out->data_len >= hlen + 8) {
		out->quote_has_seq = true;
		out->quote_seq = get_be32(out->data + hlen + 4);
	}
}

enum wire_err icmpv4_parse(const uint8_t *buf, size_t len, enum wire_csum csum, struct icmpv4_repr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < ICMPV4_HEADER_LEN)
		return WIRE_TRUNCATED;
	out->type = buf[ICMP_OFF_TYPE];
	out->code = buf[ICMP_OFF_CODE];
	out->checksum = get_be16(buf + ICMP_OFF_CSUM);
	out->rest = get_be32(buf + ICMP_OFF_REST);
	out->data = buf + ICMPV4_HEADER_LEN;
	out->data_len = len - ICMPV4_HEADER_LEN;
	if (icmpv4_is_echo(out->type)) {
		out->ident = (uint16_t)(out->rest >> 16);
		out->seq = (uint16_t)out->rest;
	} else if (out->type == ICMPV4_PARAM_PROBLEM) {
		out->pointer = (uint8_t)(out->rest >> 24);
	} else if (out->type == ICMPV4_DEST_UNREACH && out->code == ICMPV4_UNREACH_FRAG_NEEDED) {
		out->next_mtu = (uint16_t)out->rest; /* RFC 1191 4 */
	}
	if (icmpv4_is_error(out->type))
		icmpv4_parse_quote(out);
	/* RFC 792: the checksum covers the whole ICMP message. */
	if (csum == WIRE_CSUM_VERIFY && csum_fold(csum_add(0, buf, len)) != 0xffff)
		return WIRE_BAD_CHECKSUM;
	return WIRE_OK;
}

size_t icmpv4_repr_len(const struct icmpv4_repr *r)
{
	return ICMPV4_HEADER_LEN + r->data_len;
}

size_t icmpv4_emit(const struct icmpv4_repr *r, uint8_t *buf, size_t cap)
{
	size_t n = icmpv4_repr_len(r);

	if (cap < n)
		return 0;
	if (r->data_len > 0)
		memmove(buf + ICMPV4_HEADER_LEN, r->data, r->data_len);
	buf[ICMP_OFF_TYPE] = r->type;
	buf[ICMP_OFF_CODE] = r->code;
	put_be16(buf + ICMP_OFF_CSUM, 0);
	if (icmpv4_is_echo(r->type)) {
		put_be16(buf + ICMP_OFF_REST, r->ident);
		put_be16(buf + ICMP_OFF_REST + 2, r->seq);
	} else {
		put_be32(buf + ICMP_OFF_REST, r->rest);
	}
	put_be16(buf + ICMP_OFF_CSUM, csum_finish(csum_add(0, buf, n)));
	return n;
}

size_t icmpv4_emit_echo_reply(const struct icmpv4_repr *req, uint8_t *buf, size_t cap)
{
	size_t n = icmpv4_repr_len(req);

	if (cap < n || req->type != ICMPV4_ECHO_REQUEST)
		return 0;
	if (req->data_len > 0)
		memmove(buf + ICMPV4_HEADER_LEN, req->data, req->data_len);
	buf[ICMP_OFF_TYPE] = ICMPV4_ECHO_REPLY;
	buf[ICMP_OFF_CODE] = 0;
	put_be16(buf + ICMP_OFF_REST, req->ident);
	put_be16(buf + ICMP_OFF_REST + 2, req->seq);
	uint16_t old_word = (uint16_t)(ICMPV4_ECHO_REQUEST << 8 | req->code);
	put_be16(buf + ICMP_OFF_CSUM, csum_update16(req->checksum, old_word, ICMPV4_ECHO_REPLY << 8));
	return n;
}

static const char *icmpv4_unreach_name(uint8_t code)
{
	/* RFC 792 codes 0-5, RFC 1122 3.2.2.1 codes 6-12, RFC 1812 5.2.7.1 codes 13-15. */
	static const char *const names[] = {
		"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
		"fragmentation needed", "source route failed", "net unknown", "host unknown",
		"source host isolated", "net prohibited", "host prohibited", "net unreachable for tos",
		"host unreachable for tos", "communication prohibited", "host precedence violation",
		"precedence cutoff",
	};
	return code < SMX_ARRAY_LEN(names) ? names[code] : NULL;
}

static void icmpv4_print_quote(const struct icmpv4_repr *r, struct strbuf *sb)
{
	if (!r->has_quote) {
		strbuf_puts(sb, ", no quote");
		return;
	}
	strbuf_puts(sb, ", quote ");
	strbuf_ipv4(sb, r->quote_ip.src);
	strbuf_puts(sb, " > ");
	strbuf_ipv4(sb, r->quote_ip.dst);
	const char *name = ip_proto_name(r->quote_ip.protocol);
	strbuf_puts(sb, " proto ");
	if (name != NULL)
		strbuf_puts(sb, name);
	else
		strbuf_dec(sb, r->quote_ip.protocol);
	if (r->quote_has_ports) {
		strbuf_putc(sb, ' ');
		strbuf_dec(sb, r->quote_src_port);
		strbuf_puts(sb, " > ");
		strbuf_dec(sb, r->quote_dst_port);
	}
}

/* "ICMP echo request, id 5, seq 1, length 64"; "ICMP port unreachable (3/3), quote ..., length 56" */
void icmpv4_print(const struct icmpv4_repr *r, struct strbuf *sb)
{
	strbuf_puts(sb, "ICMP ");
	switch (r->type) {
	case ICMPV4_ECHO_REQUEST:
	case ICMPV4_ECHO_REPLY:
		strbuf_puts(sb, r->type == ICMPV4_ECHO_REQUEST ? "echo request" : "echo reply");
		if (r->code != 0) {
			strbuf_puts(sb, " code ");
			strbuf_dec(sb, r->code);
		}
		strbuf_puts(sb, ", id ");
		strbuf_dec(sb, r->ident);
		strbuf_puts(sb, ", seq ");
		strbuf_dec(sb, r->seq);
		break;
	case ICMPV4_DEST_UNREACH: {
		const char *name = icmpv4_unreach_name(r->code);
		strbuf_puts(sb, name != NULL ? name : "unreachable, unknown code");
		strbuf_puts(sb, " (3/");
		strbuf_dec(sb, r->code);
		strbuf_putc(sb, ')');
		if (r->code == ICMPV4_UNREACH_FRAG_NEEDED) {
			strbuf_puts(sb, ", mtu ");
			strbuf_dec(sb, r->next_mtu);
		}
		icmpv4_print_quote(r, sb);
		break;
	}
	case ICMPV4_TIME_EXCEEDED:
		strbuf_puts(sb, r->code == 0 ? "time exceeded in-transit" : "time exceeded reassembly");
		strbuf_puts(sb, " (11/");
		strbuf_dec(sb, r->code);
		strbuf_putc(sb, ')');
		icmpv4_print_quote(r, sb);
		break;
	case ICMPV4_PARAM_PROBLEM:
		strbuf_puts(sb, "parameter problem (12/");
		strbuf_dec(sb, r->code);
		strbuf_puts(sb, "), pointer ");
		strbuf_dec(sb, r->pointer);
		icmpv4_print_quote(r, sb);
		break;
	default:
		strbuf_puts(sb, "type ");
		strbuf_dec(sb, r->type);
		strbuf_puts(sb, " code ");
		strbuf_dec(sb, r->code);
		break;
	}
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, icmpv4_repr_len(r));
}

uint16_t icmpv4_mtu_plateau(uint32_t too_big)
{
	static const uint16_t plateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68 };

	for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
		if (plateaus[i] < too_big)
			return plateaus[i];
	return 68;
}
