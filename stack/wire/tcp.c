/* TCP segments (RFC 9293 3.1) and their options: MSS (RFC 9293 3.2), window scale and timestamps (RFC
 * 7323 2.2, 3.2), SACK-permitted and SACK (RFC 2018 2, 3). Options are emitted in the order and with the
 * NOP padding Linux's tcp_options_write uses, so segments we build look like Linux's on the wire. */
#include "smolxdp/bytes.h"
#include "smolxdp/wire/checksum.h"
#include "smolxdp/wire/ipv4.h"
#include "smolxdp/wire/tcp.h"

#define TCP_OFF_SRC 0
#define TCP_OFF_DST 2
#define TCP_OFF_SEQ 4
#define TCP_OFF_ACK 8
#define TCP_OFF_DOFF 12
#define TCP_OFF_FLAGS 13
#define TCP_OFF_WIN 14
#define TCP_OFF_CSUM 16
#define TCP_OFF_URG 18

#define TCP_OPT_MSS_LEN 4
#define TCP_OPT_WSCALE_LEN 3
#define TCP_OPT_SACK_PERM_LEN 2
#define TCP_OPT_TIMESTAMP_LEN 10
#define TCP_MAX_OPTIONS_LEN (TCP_MAX_HEADER_LEN - TCP_HEADER_LEN)

/* Parse one option of a known kind whose length byte `olen` is already checked to fit. */
static enum wire_err tcp_option_parse(const uint8_t *p, uint8_t olen, struct tcp_options *o)
{
	switch (p[0]) {
	case TCP_OPT_MSS:
		if (olen != TCP_OPT_MSS_LEN)
			return WIRE_MALFORMED;
		o->has_mss = true;
		o->mss = get_be16(p + 2);
		break;
	case TCP_OPT_WSCALE:
		if (olen != TCP_OPT_WSCALE_LEN)
			return WIRE_MALFORMED;
		/* RFC 7323 2.3: a shift above 14 is used as 14; that is the socket's business, kept raw. */
		o->has_wscale = true;
		o->wscale = p[2];
		break;
	case TCP_OPT_SACK_PERM:
		if (olen != TCP_OPT_SACK_PERM_LEN)
			return WIRE_MALFORMED;
		o->sack_permitted = true;
		break;
	case TCP_OPT_TIMESTAMP:
		if (olen != TCP_OPT_TIMESTAMP_LEN)
			return WIRE_MALFORMED;
		o->has_timestamp = true;
		o->ts_val = get_be32(p + 2);
		o->ts_ecr = get_be32(p + 6);
		break;
	case TCP_OPT_SACK: {
		/* RFC 2018 3: length 2 + 8n; at most 4 blocks fit in 40 bytes of options. */
		size_t n = (size_t)(olen - 2) / 8;
		if ((olen - 2) % 8 != 0 || n < 1 || n > TCP_MAX_SACK_BLOCKS)
			return WIRE_MALFORMED;
		o->sack_count = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			o->sack[i].left = get_be32(p + 2 + 8 * i);
			o->sack[i].right = get_be32(p + 6 + 8 * i);
		}
		break;
	}
	default:
		/* RFC 9293 3.2: unknown options must be skipped using their length. */
		if (o->unknown_count < UINT8_MAX)
			o->unknown_count++;
		break;
	}
	return WIRE_OK;
}

static enum wire_err tcp_options_parse(const uint8_t *p, size_t len, struct tcp_options *o)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = p[i];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		/* A length byte missing, below 2 (which would loop forever or go back), or running past the
		 * header ends parsing as malformed (RFC 9293 3.2, RFC 1122 4.2.2.5). */
		if (len - i < 2)
			return WIRE_MALFORMED;
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return WIRE_MALFORMED;
		enum wire_err err = tcp_option_parse(p + i, olen, o);
		if (err != WIRE_OK)
			return err;
		i += olen;
	}
	return WIRE_OK;
}

enum wire_err tcp_parse(const uint8_t *buf, size_t len, ipv4_addr src, ipv4_addr dst, enum wire_csum csum,
			struct tcp_repr *out)
{
	memset(out, 0, sizeof(*out));
	if (len < TCP_HEADER_LEN)
		return WIRE_TRUNCATED;
	if (len > 0xffff) /* no IPv4 datagram carries that much; the pseudo-header length could not say it */
		return WIRE_MALFORMED;
	size_t hlen = (size_t)(buf[TCP_OFF_DOFF] >> 4) * 4;
	if (hlen < TCP_HEADER_LEN)
		return WIRE_MALFORMED;
	if (hlen > len)
		return WIRE_TRUNCATED;
	out->src_port = get_be16(buf + TCP_OFF_SRC);
	out->dst_port = get_be16(buf + TCP_OFF_DST);
	out->seq = get_be32(buf + TCP_OFF_SEQ);
	out->ack = get_be32(buf + TCP_OFF_ACK);
	out->flags = buf[TCP_OFF_FLAGS];
	out->header_len = (uint8_t)hlen;
	out->window = get_be16(buf + TCP_OFF_WIN);
	out->checksum = get_be16(buf + TCP_OFF_CSUM);
	out->urgent = get_be16(buf + TCP_OFF_URG);
	out->payload = buf + hlen;
	out->payload_len = len - hlen;
	enum wire_err err = tcp_options_parse(buf + TCP_HEADER_LEN, hlen - TCP_HEADER_LEN, &out->opts);
	if (err != WIRE_OK)
		return err;
	if (csum == WIRE_CSUM_VERIFY) {
		uint32_t sum = csum_pseudo_ipv4(src, dst, IP_PROTO_TCP, (uint16_t)len);
		if (csum_fold(csum_add(sum, buf, len)) != 0xffff)
			return WIRE_BAD_CHECKSUM;
	}
	return WIRE_OK;
}

/* How many SACK blocks fit next to the other options (Linux sends at most 3 with timestamps). */
static size_t tcp_sack_blocks_fitting(const struct tcp_options *o, size_t others)
{
	size_t n = SMX_MIN((size_t)o->sack_count, (size_t)TCP_MAX_SACK_BLOCKS);

	if (n == 0 || others + 4 + 8 > TCP_MAX_OPTIONS_LEN)
		return 0;
	return SMX_MIN(n, (TCP_MAX_OPTIONS_LEN - others - 4) / 8);
}

static size_t tcp_options_len_without_sack(const struct tcp_options *o)
{
	size_t n = 0;

	if (o->has_mss)
		n += 4;
	if (o->has_timestamp)
		n += 12; /* SACK_PERM or NOP NOP, then TS */
	else if (o->sack_permitted)
		n += 4; /* NOP NOP SACK_PERM */
	if (o->has_wscale)
		n += 4; /* NOP WSCALE */
	return n;
}

size_t tcp_options_len(const struct tcp_options *o)
{
	size_t others = tcp_options_len_without_sack(o);
	size_t blocks = tcp_sack_blocks_fitting(o, others);

	return others + (blocks > 0 ? 4 + 8 * blocks : 0);
}

size_t tcp_repr_len(const struct tcp_repr *r)
{
	return TCP_HEADER_LEN + tcp_options_len(&r->opts) + r->payload_len;
}

/* Linux tcp_options_write order: MSS; SACK_PERM+TS (or NOP NOP TS, or NOP NOP SACK_PERM); NOP WSCALE;
 * NOP NOP SACK. Every group is a multiple of 4 bytes, so no trailing padding is needed. */
static size_t tcp_options_emit(const struct tcp_options *o, uint8_t *p)
{
	uint8_t *start = p;

	if (o->has_mss) {
		*p++ = TCP_OPT_MSS;
		*p++ = TCP_OPT_MSS_LEN;
		put_be16(p, o->mss);
		p += 2;
	}
	if (o->has_timestamp) {
		if (o->sack_permitted) {
			*p++ = TCP_OPT_SACK_PERM;
			*p++ = TCP_OPT_SACK_PERM_LEN;
		} else {
			*p++ = TCP_OPT_NOP;
			*p++ = TCP_OPT_NOP;
		}
		*p++ = TCP_OPT_TIMESTAMP;
		*p++ = TCP_OPT_TIMESTAMP_LEN;
		put_be32(p, o->ts_val);
		put_be32(p + 4, o->ts_ecr);
		p += 8;
	} else if (o->sack_permitted) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_SACK_PERM;
		*p++ = TCP_OPT_SACK_PERM_LEN;
	}
	if (o->has_wscale) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_WSCALE;
		*p++ = TCP_OPT_WSCALE_LEN;
		*p++ = o->wscale;
	}
	size_t blocks = tcp_sack_blocks_fitting(o, (size_t)(p - start));
	if (blocks > 0) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_SACK;
		*p++ = (uint8_t)(2 + 8 * blocks);
		for (size_t i = 0; i < blocks; i++) {
			put_be32(p, o->sack[i].left);
			put_be32(p + 4, o->sack[i].right);
			p += 8;
		}
	}
	return (size_t)(p - start);
}

/* Header and options (hlen bytes), the checksum field zero. */
static void tcp_emit_header(const struct tcp_repr *r, size_t hlen, uint8_t *buf)
{
	put_be16(buf + TCP_OFF_SRC, r->src_port);
	put_be16(buf + TCP_OFF_DST, r->dst_port);
	put_be32(buf + TCP_OFF_SEQ, r->seq);
	put_be32(buf + TCP_OFF_ACK, r->ack);
	buf[TCP_OFF_DOFF] = (uint8_t)(hlen / 4 << 4);
	buf[TCP_OFF_FLAGS] = r->flags;
	put_be16(buf + TCP_OFF_WIN, r->window);
	put_be16(buf + TCP_OFF_CSUM, 0);
	put_be16(buf + TCP_OFF_URG, r->urgent);
	tcp_options_emit(&r->opts, buf + TCP_HEADER_LEN);
}

size_t tcp_emit(const struct tcp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap)
{
	size_t hlen = TCP_HEADER_LEN + tcp_options_len(&r->opts);
	size_t n = hlen + r->payload_len;

	if (cap < n || n > 0xffff)
		return 0;
	/* Payload first: it may sit where the header goes if the caller built it in place. */
	if (r->payload_len > 0)
		memmove(buf + hlen, r->payload, r->payload_len);
	tcp_emit_header(r, hlen, buf);
	uint32_t sum = csum_pseudo_ipv4(src, dst, IP_PROTO_TCP, (uint16_t)n);
	put_be16(buf + TCP_OFF_CSUM, csum_finish(csum_add(sum, buf, n)));
	return n;
}

size_t tcp_emit_summed(const struct tcp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap,
		       uint32_t payload_sum)
{
	size_t hlen = TCP_HEADER_LEN + tcp_options_len(&r->opts);
	size_t n = hlen + r->payload_len;

	if (cap < n || n > 0xffff)
		return 0;
	tcp_emit_header(r, hlen, buf);
	/* The header's length is a multiple of 4: the payload's words keep their places. */
	uint32_t sum = csum_pseudo_ipv4(src, dst, IP_PROTO_TCP, (uint16_t)n) + csum_fold(payload_sum);
	put_be16(buf + TCP_OFF_CSUM, csum_finish(csum_add(sum, buf, hlen)));
	return n;
}

void tcp_flags_print(uint8_t flags, struct strbuf *sb)
{
	/* tcpdump's letters in tcpdump's order (print-tcp.c tcp_flag_values). */
	static const struct {
		uint8_t flag;
		char c;
	} letters[] = {
		{TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
		{TCP_ACK, '.'}, {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'},
	};
	if (flags == 0) {
		strbuf_puts(sb, "none");
		return;
	}
	for (size_t i = 0; i < SMX_ARRAY_LEN(letters); i++) {
		if (flags & letters[i].flag)
			strbuf_putc(sb, letters[i].c);
	}
}

/* Separates the options in the printed list: a comma before every one but the first. */
static void tcp_option_sep(struct strbuf *sb, bool *first)
{
	if (!*first)
		strbuf_putc(sb, ',');
	*first = false;
}

static void tcp_options_print(const struct tcp_options *o, struct strbuf *sb)
{
	bool first = true;

	strbuf_puts(sb, ", options [");
	if (o->has_mss) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "mss ");
		strbuf_dec(sb, o->mss);
	}
	if (o->sack_permitted) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "sackOK");
	}
	if (o->has_timestamp) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "TS val ");
		strbuf_dec(sb, o->ts_val);
		strbuf_puts(sb, " ecr ");
		strbuf_dec(sb, o->ts_ecr);
	}
	if (o->has_wscale) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "wscale ");
		strbuf_dec(sb, o->wscale);
	}
	if (o->sack_count > 0) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "sack ");
		strbuf_dec(sb, o->sack_count);
		for (size_t i = 0; i < o->sack_count && i < TCP_MAX_SACK_BLOCKS; i++) {
			strbuf_puts(sb, " {");
			strbuf_dec(sb, o->sack[i].left);
			strbuf_putc(sb, ':');
			strbuf_dec(sb, o->sack[i].right);
			strbuf_putc(sb, '}');
		}
	}
	if (o->unknown_count > 0) {
		tcp_option_sep(sb, &first);
		strbuf_puts(sb, "unknown ");
		strbuf_dec(sb, o->unknown_count);
	}
	strbuf_putc(sb, ']');
}

static bool tcp_options_any(const struct tcp_options *o)
{
	return o->has_mss || o->sack_permitted || o->has_timestamp || o->has_wscale || o->sack_count > 0 ||
	       o->unknown_count > 0;
}

bool tcp_rst_reply(const struct tcp_repr *seg, struct tcp_repr *rst)
{
	if (seg->flags & TCP_RST)
		return false;
	memset(rst, 0, sizeof(*rst));
	rst->src_port = seg->dst_port;
	rst->dst_port = seg->src_port;
	/* "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
	 * If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". */
	if (seg->flags & TCP_ACK) {
		rst->seq = seg->ack;
		rst->flags = TCP_RST;
	} else {
		rst->ack = seg->seq + tcp_seq_len(seg);
		rst->flags = TCP_RST | TCP_ACK;
	}
	return true;
}

/* tcpdump -S style: "TCP 40000 > 80 Flags [S.], seq 1, ack 2, win 65160, urg 0, options [mss 1460,...],
 * length 0" (the payload length) */
void tcp_print(const struct tcp_repr *r, struct strbuf *sb)
{
	strbuf_puts(sb, "TCP ");
	strbuf_dec(sb, r->src_port);
	strbuf_puts(sb, " > ");
	strbuf_dec(sb, r->dst_port);
	strbuf_puts(sb, " Flags [");
	tcp_flags_print(r->flags, sb);
	strbuf_puts(sb, "], seq ");
	strbuf_dec(sb, r->seq);
	if (r->flags & TCP_ACK) {
		strbuf_puts(sb, ", ack ");
		strbuf_dec(sb, r->ack);
	}
	strbuf_puts(sb, ", win ");
	strbuf_dec(sb, r->window);
	if (r->flags & TCP_URG) {
		strbuf_puts(sb, ", urg ");
		strbuf_dec(sb, r->urgent);
	}
	if (tcp_options_any(&r->opts))
		tcp_options_print(&r->opts, sb);
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, r->payload_len);
}
