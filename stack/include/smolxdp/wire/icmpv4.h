/* ICMPv4 (RFC 792): echo, destination unreachable, time exceeded, parameter problem; error messages
 * carry the offending IP header and the first 8 bytes of its payload, parsed when present. */
#ifndef SMOLXDP_WIRE_ICMPV4_H
#define SMOLXDP_WIRE_ICMPV4_H

#include "smolxdp/wire/common.h"
#include "smolxdp/wire/ipv4.h"

SMX_API_BEGIN

#define ICMPV4_HEADER_LEN 8

enum icmpv4_type {
	ICMPV4_ECHO_REPLY = 0,
	ICMPV4_DEST_UNREACH = 3,
	ICMPV4_ECHO_REQUEST = 8,
	ICMPV4_TIME_EXCEEDED = 11,
	ICMPV4_PARAM_PROBLEM = 12,
};

enum icmpv4_unreach_code {
	ICMPV4_UNREACH_NET = 0,
	ICMPV4_UNREACH_HOST = 1,
	ICMPV4_UNREACH_PROTO = 2,
	ICMPV4_UNREACH_PORT = 3,
	ICMPV4_UNREACH_FRAG_NEEDED = 4,
	/* ... codes 5..15 per RFC 792 / RFC 1812, printed by name */
};

struct icmpv4_repr {
	uint8_t type;
	uint8_t code;
	uint16_t checksum; /* as found on parse; computed on emit */
	uint32_t rest;     /* header bytes 4..7 as a big-endian word (for any type) */
	uint16_t ident;    /* echo: from rest */
	uint16_t seq;      /* echo: from rest */
	uint8_t pointer;   /* parameter problem: from rest */
	uint16_t next_mtu; /* unreachable, fragmentation needed: from rest */
	/* error messages: the quoted datagram, when at least its IP header is present */
	bool has_quote;
	struct ipv4_repr quote_ip; /* checksum not verified (routers may alter it) */
	bool quote_has_ports;      /* TCP or UDP with the first 4 payload bytes quoted */
	uint16_t quote_src_port;
	uint16_t quote_dst_port;
	bool quote_has_seq;        /* TCP with the first 8 payload bytes quoted (RFC 792's minimum) */
	uint32_t quote_seq;        /* that segment's sequence number (RFC 5927 4.1 checks it) */
	/* everything after the 8-byte header: echo data, or the quoted datagram */
	const uint8_t *data;
	size_t data_len;
};

/* len is the ICMP message length (the IP payload). Verifies the checksum over all of it. */
enum wire_err icmpv4_parse(const uint8_t *buf, size_t len, enum wire_csum csum, struct icmpv4_repr *out);
size_t icmpv4_repr_len(const struct icmpv4_repr *r); /* 8 + data_len */
/* Writes header and data (memmove, so data may already sit at buf+8) and the checksum. For echo
 * types ident/seq are written; for others `rest`. */
size_t icmpv4_emit(const struct icmpv4_repr *r, uint8_t *buf, size_t cap);
/* The echo reply (RFC 792: type 0, code 0, the request's ident, seq and data) to a parsed echo request
 * whose checksum is known good (verified on parse, or by the device). The data is copied (memmove) but
 * not summed again: only the type/code word changes, so the request's checksum is updated by RFC 1624
 * eqn. 3. Returns bytes written; 0 if cap is too small or req is not an echo request. */
size_t icmpv4_emit_echo_reply(const struct icmpv4_repr *req, uint8_t *buf, size_t cap);
void icmpv4_print(const struct icmpv4_repr *r, struct strbuf *sb);
/* RFC 1191 7's plateaus, for routers that report no MTU in a "fragmentation needed" (next_mtu 0,
 * RFC 1191 5): the largest below too_big, the size of the datagram that was too big; at least 68. */
uint16_t icmpv4_mtu_plateau(uint32_t too_big);

SMX_API_END

#endif
