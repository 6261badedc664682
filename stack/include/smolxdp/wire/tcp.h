/* TCP segments (RFC 9293 3.1) and options: MSS (RFC 9293 3.7.1), window scale and timestamps
 * (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). */
#ifndef SMOLXDP_WIRE_TCP_H
#define SMOLXDP_WIRE_TCP_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

#define TCP_HEADER_LEN 20
#define TCP_MAX_HEADER_LEN 60
#define TCP_MAX_SACK_BLOCKS 4

enum tcp_flag {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80,
};

enum tcp_option_kind {
	TCP_OPT_EOL = 0,
	TCP_OPT_NOP = 1,
	TCP_OPT_MSS = 2,
	TCP_OPT_WSCALE = 3,
	TCP_OPT_SACK_PERM = 4,
	TCP_OPT_SACK = 5,
	TCP_OPT_TIMESTAMP = 8,
};

struct tcp_sack_block {
	uint32_t left;
	uint32_t right;
};

struct tcp_options {
	bool has_mss;
	bool has_wscale;
	bool sack_permitted;
	bool has_timestamp;
	uint16_t mss;
	uint8_t wscale;
	uint8_t sack_count; /* 0..4 */
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
	uint32_t ts_val;
	uint32_t ts_ecr;
	uint8_t unknown_count; /* options of other kinds, skipped by their length */
};

struct tcp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;      /* enum tcp_flag */
	uint8_t header_len; /* data offset * 4; computed by tcp_repr_len on emit */
	uint16_t window;    /* raw, unscaled */
	uint16_t urgent;
	uint16_t checksum; /* as found on parse; computed on emit */
	struct tcp_options opts;
	const uint8_t *payload;
	size_t payload_len;
};

/* len is the IP payload length. Checks data offset >= 5 and within len, every option's length (a length
 * of 0 or 1, or one running past the header, is WIRE_MALFORMED; known kinds must have their exact
 * size), and the checksum unless csum is IGNORE. */
enum wire_err tcp_parse(const uint8_t *buf, size_t len, ipv4_addr src, ipv4_addr dst, enum wire_csum csum,
			struct tcp_repr *out);
/* Options are laid out as Linux lays them out (MSS; SACK-permitted+timestamps or NOP NOP timestamps;
 * NOP window scale; NOP NOP SACK blocks; NOP padding), so emit(parse(x)) reproduces Linux segments. */
size_t tcp_options_len(const struct tcp_options *o);
size_t tcp_repr_len(const struct tcp_repr *r); /* header with options + payload_len */
/* Writes header, options, payload (memmove, so it may already sit in place) and checksum. */
size_t tcp_emit(const struct tcp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap);
/* The same for a payload already in place at buf + the header's length (r->payload is not read),
 * whose sum the caller has: payload_sum = csum_add(0, payload, payload_len), or csum_copy's. */
size_t tcp_emit_summed(const struct tcp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap,
		       uint32_t payload_sum);
void tcp_print(const struct tcp_repr *r, struct strbuf *sb);
/* RFC 9293 3.10.7.1: the RST answering seg when no connection (or a listener that refuses it) has its
 * port, in *rst (ports swapped, no options); false if seg is a RST itself, which is never answered. */
bool tcp_rst_reply(const struct tcp_repr *seg, struct tcp_repr *rst);
void tcp_flags_print(uint8_t flags, struct strbuf *sb); /* tcpdump style: "S.", "F.", "R", "P." */

/* SEG.LEN (RFC 9293 3.4): the sequence space a segment takes, its payload plus one each for SYN and
 * FIN. */
static inline uint32_t tcp_seq_len(const struct tcp_repr *r)
{
	return (uint32_t)r->payload_len + ((r->flags & TCP_SYN) ? 1 : 0) + ((r->flags & TCP_FIN) ? 1 : 0);
}

/* RFC 9293 3.7.1 and RFC 6691: the MSS to offer over an IPv4 link of this MTU is the MTU less the
 * IPv4 and TCP headers without options, on small links too. */
static inline uint32_t tcp_mss_for_mtu(uint32_t mtu)
{
	return mtu - 40u;
}

/* Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). */
static inline bool tcp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tcp_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tcp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tcp_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

SMX_API_END

#endif
