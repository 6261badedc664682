/* IPv4 headers (RFC 791): strict length checks, checksum, fragments reported, options skipped. */
#ifndef SMOLXDP_WIRE_IPV4_H
#define SMOLXDP_WIRE_IPV4_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

#define IPV4_HEADER_LEN 20
#define IPV4_MAX_HEADER_LEN 60

enum ip_proto {
	IP_PROTO_ICMP = 1,
	IP_PROTO_TCP = 6,
	IP_PROTO_UDP = 17,
};

struct ipv4_repr {
	ipv4_addr src;
	ipv4_addr dst;
	uint8_t protocol;
	uint8_t ttl;
	uint8_t tos; /* DSCP and ECN */
	uint16_t ident;
	bool dont_frag;
	bool more_frags;
	uint16_t frag_offset; /* in bytes */
	uint16_t header_len;  /* 20..60 */
	uint16_t total_len;   /* header + payload, from the header */
	uint16_t checksum;    /* as found on parse; computed on emit */
	const uint8_t *options; /* header_len - 20 bytes, or NULL; emit copies them */
};

/* Checks version 4, IHL >= 5, header within len, header_len <= total length <= len (Ethernet padding
 * beyond total length is allowed and ignored), and (unless csum is IGNORE) the header checksum. On
 * WIRE_BAD_CHECKSUM the repr is filled; so it is on WIRE_TRUNCATED when only the total length runs past
 * len (header_len != 0 then), as in ICMP quotes. The payload is buf[header_len .. total_len). */
enum wire_err ipv4_parse(const uint8_t *buf, size_t len, enum wire_csum csum, struct ipv4_repr *out);
static inline uint16_t ipv4_payload_len(const struct ipv4_repr *r)
{
	return (uint16_t)(r->total_len - r->header_len);
}
static inline bool ipv4_is_fragment(const struct ipv4_repr *r)
{
	return r->more_frags || r->frag_offset != 0;
}
size_t ipv4_repr_len(const struct ipv4_repr *r); /* header_len */
/* Writes the header (with options if any) and its checksum; the payload is the caller's. */
size_t ipv4_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap);
void ipv4_print(const struct ipv4_repr *r, struct strbuf *sb);
const char *ip_proto_name(uint8_t proto); /* NULL when unknown */

SMX_API_END

#endif
