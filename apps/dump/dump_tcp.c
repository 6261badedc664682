/* smolxdp-dump's default TCP line, as tcpdump 4.99 prints it: flags, seq (a range when data is carried),
 * ack, win, urg, every option in the order found (nop and eol included, with tcpdump's names), payload
 * length. Sequence numbers are relative to where the flow started unless -S, by tcpdump's rule: a flow's
 * bases are recorded from the first segment with ACK set that is seen for it (or any SYN with ACK), and
 * printed as they are on that segment; later ones print their distance from the bases. */
#include <stdlib.h>

#include "dump_internal.h"

#define DUMP_FLOW_BUCKETS 4096

/* One connection, both directions: addresses and ports in a fixed order, so a segment and its reply
 * find the same entry; `seq` is the base of the side that came first in that order. */
struct dump_flow {
	ipv4_addr lo_addr;
	ipv4_addr hi_addr;
	uint32_t ports; /* lo_port << 16 | hi_port */
	uint32_t seq;
	uint32_t ack;
	struct dump_flow *next;
};

int dump_line_init(struct dump_line *d, bool link, bool absolute)
{
	d->link = link;
	d->absolute = absolute;
	d->flow_buckets = DUMP_FLOW_BUCKETS;
	d->flows = calloc(d->flow_buckets, sizeof(*d->flows));
	return d->flows != NULL ? 0 : -1;
}

void dump_line_free(struct dump_line *d)
{
	for (size_t i = 0; d->flows != NULL && i < d->flow_buckets; i++) {
		struct dump_flow *f = d->flows[i];
		while (f != NULL) {
			struct dump_flow *next = f->next;
			free(f);
			f = next;
		}
	}
	free(d->flows);
	d->flows = NULL;
}

/* The bases a segment is numbered from, and whether it travels against the flow's order. */
struct dump_bases {
	uint32_t seq;
	uint32_t ack;
	bool rev;
};

/* tcpdump orders a flow by port (then address) and keeps one entry for both directions. */
static void dump_tcp_relative(struct dump_line *d, const struct ipv4_repr *ip, const struct tcp_repr *t,
			      uint32_t *seq, uint32_t *ack, struct dump_bases *b)
{
	bool rev = t->src_port > t->dst_port || (t->src_port == t->dst_port && ip->src > ip->dst);
	struct dump_flow key = {
		.lo_addr = rev ? ip->dst : ip->src,
		.hi_addr = rev ? ip->src : ip->dst,
		.ports = rev ? (uint32_t)t->dst_port << 16 | t->src_port : (uint32_t)t->src_port << 16 | t->dst_port,
	};
	size_t h = (key.ports ^ key.lo_addr ^ (key.hi_addr * 31u)) % d->flow_buckets;
	struct dump_flow *f = d->flows[h];

	while (f != NULL && (f->lo_addr != key.lo_addr || f->hi_addr != key.hi_addr || f->ports != key.ports))
		f = f->next;
	if (f == NULL || (t->flags & TCP_SYN)) {
		if (f == NULL) {
			f = calloc(1, sizeof(*f));
			if (f == NULL) { /* out of memory: this segment prints absolute numbers */
				*b = (struct dump_bases){0};
				return;
			}
			*f = key;
			f->next = d->flows[h];
			d->flows[h] = f;
		}
		f->seq = rev ? t->ack - 1 : t->seq;
		f->ack = rev ? t->seq : t->ack - 1;
	} else {
		*seq -= rev ? f->ack : f->seq;
		*ack -= rev ? f->seq : f->ack;
	}
	*b = (struct dump_bases){.seq = f->seq, .ack = f->ack, .rev = rev};
}

/* One option's value after its name; returns false when the option overruns the header. `left` counts
 * the option bytes after the kind and length bytes. */
static bool dump_tcp_option_value(uint8_t kind, uint8_t olen, const uint8_t *v, size_t left,
				  const struct dump_bases *b, struct strbuf *sb, size_t *used)
{
	size_t n = 0;

	switch (kind) {
	case TCP_OPT_EOL:
	case TCP_OPT_NOP:
	case TCP_OPT_SACK_PERM:
		break;
	case TCP_OPT_MSS:
		n = 2;
		if (n > left)
			return false;
		strbuf_putc(sb, ' ');
		strbuf_dec(sb, get_be16(v));
		break;
	case TCP_OPT_WSCALE:
		n = 1;
		if (n > left)
			return false;
		strbuf_putc(sb, ' ');
		strbuf_dec(sb, v[0]);
		break;
	case TCP_OPT_TIMESTAMP:
		n = 8;
		if (n > left)
			return false;
		strbuf_puts(sb, " val ");
		strbuf_dec(sb, get_be32(v));
		strbuf_puts(sb, " ecr ");
		strbuf_dec(sb, get_be32(v + 4));
		break;
	case TCP_OPT_SACK:
		n = (size_t)olen - 2;
		if (n % 8 != 0) {
			strbuf_puts(sb, " invalid sack");
			break;
		}
		strbuf_putc(sb, ' ');
		strbuf_dec(sb, n / 8);
		strbuf_putc(sb, ' ');
		for (size_t i = 0; i < n; i += 8) {
			if (i + 8 > left)
				return false;
			/* Blocks acknowledge the other side's data: they share this segment's ack base. */
			uint32_t base = b->rev ? b->seq : b->ack;
			strbuf_putc(sb, '{');
			strbuf_dec(sb, get_be32(v + i) - base);
			strbuf_putc(sb, ':');
			strbuf_dec(sb, get_be32(v + i + 4) - base);
			strbuf_putc(sb, '}');
		}
		break;
	default:
		n = (size_t)olen - 2;
		if (n > left)
			return false;
		if (n > 0)
			strbuf_puts(sb, " 0x");
		for (size_t i = 0; i < n; i++)
			strbuf_hex(sb, v[i], 2);
		break;
	}
	*used = n;
	return true;
}

static const char *dump_tcp_option_name(uint8_t kind)
{
	switch (kind) {
	case TCP_OPT_EOL: return "eol";
	case TCP_OPT_NOP: return "nop";
	case TCP_OPT_MSS: return "mss";
	case TCP_OPT_WSCALE: return "wscale";
	case TCP_OPT_SACK_PERM: return "sackOK";
	case TCP_OPT_SACK: return "sack";
	case TCP_OPT_TIMESTAMP: return "TS";
	default: return NULL;
	}
}

/* Every option as found, tcpdump's way: a length below 2 or past the header is "[bad opt]" and ends
 * the line (false); a length other than the kind's is shown as "[len N]"; eol ends the list. */
static bool dump_tcp_options(const uint8_t *p, size_t len, const struct dump_bases *b, struct strbuf *sb)
{
	size_t i = 0;
	bool first = true;

	strbuf_puts(sb, ", options [");
	while (i < len) {
		if (!first)
			strbuf_putc(sb, ',');
		uint8_t kind = p[i++];
		uint8_t olen = 1;
		if (kind != TCP_OPT_EOL && kind != TCP_OPT_NOP) {
			if (i >= len || p[i] < 2 || p[i] > len - i + 1)
				goto bad;
			olen = p[i++];
		}
		const char *name = dump_tcp_option_name(kind);
		if (name != NULL) {
			strbuf_puts(sb, name);
		} else {
			strbuf_puts(sb, "unknown-");
			strbuf_dec(sb, kind);
		}
		size_t used = 0;
		if (!dump_tcp_option_value(kind, olen, p + i, len - i, b, sb, &used))
			goto bad;
		i += used;
		if (used + (kind == TCP_OPT_EOL || kind == TCP_OPT_NOP ? 1 : 2) != olen) {
			strbuf_puts(sb, "[len ");
			strbuf_dec(sb, olen);
			strbuf_putc(sb, ']');
		}
		first = false;
		if (kind == TCP_OPT_EOL)
			break;
	}
	strbuf_putc(sb, ']');
	return true;
bad:
	strbuf_puts(sb, "[bad opt]");
	if (!first)
		strbuf_putc(sb, ']');
	return false;
}

void dump_tcp(struct dump_line *d, const struct ipv4_repr *ip, const uint8_t *p, size_t cap, size_t len,
	      struct strbuf *sb)
{
	if (cap < 4 || len < 4) {
		dump_addrs(ip, NULL, sb);
		strbuf_puts(sb, "[|tcp]");
		return;
	}
	uint16_t ports[2] = {get_be16(p), get_be16(p + 2)};
	dump_addrs(ip, ports, sb);
	if (cap < TCP_HEADER_LEN || len < TCP_HEADER_LEN) {
		strbuf_puts(sb, "[|tcp]");
		return;
	}
	/* The checksum is not verified (tcpdump checks it with -v only): a damaged segment still decodes. */
	struct tcp_repr t;
	size_t hlen = (size_t)(p[12] >> 4) * 4;
	strbuf_puts(sb, "Flags [");
	tcp_flags_print(p[13], sb);
	strbuf_putc(sb, ']');
	if (hlen < TCP_HEADER_LEN || hlen > len) {
		strbuf_puts(sb, " [bad hdr length ");
		strbuf_dec(sb, hlen);
		strbuf_puts(sb, hlen < TCP_HEADER_LEN ? " - too short, < " : " - too long, > ");
		strbuf_dec(sb, hlen < TCP_HEADER_LEN ? TCP_HEADER_LEN : len);
		strbuf_putc(sb, ']');
		return;
	}
	if (cap < hlen) {
		strbuf_puts(sb, " [|tcp]");
		return;
	}
	/* The fixed header and the options area are captured: tcp_parse fills the fields even when an
	 * option is malformed (the options walk below says so its own way). */
	(void)tcp_parse(p, hlen, ip->src, ip->dst, WIRE_CSUM_IGNORE, &t);
	uint32_t seq = t.seq, ack = t.ack;
	size_t paylen = len - hlen;
	struct dump_bases b = {0};
	if (!d->absolute && (t.flags & TCP_ACK))
		dump_tcp_relative(d, ip, &t, &seq, &ack, &b);
	if (paylen > 0 || (t.flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
		strbuf_puts(sb, ", seq ");
		strbuf_dec(sb, seq);
		if (paylen > 0) {
			strbuf_putc(sb, ':');
			strbuf_dec(sb, (uint32_t)(seq + paylen));
		}
	}
	if (t.flags & TCP_ACK) {
		strbuf_puts(sb, ", ack ");
		strbuf_dec(sb, ack);
	}
	strbuf_puts(sb, ", win ");
	strbuf_dec(sb, t.window);
	if (t.flags & TCP_URG) {
		strbuf_puts(sb, ", urg ");
		strbuf_dec(sb, t.urgent);
	}
	if (hlen > TCP_HEADER_LEN && !dump_tcp_options(p + TCP_HEADER_LEN, hlen - TCP_HEADER_LEN, &b, sb))
		return;
	strbuf_puts(sb, ", length ");
	strbuf_dec(sb, paylen);
}
