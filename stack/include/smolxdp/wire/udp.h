/* UDP (RFC 768): length against the IP payload, pseudo-header checksum (zero on receive means none;
 * never zero on send). */
#ifndef SMOLXDP_WIRE_UDP_H
#define SMOLXDP_WIRE_UDP_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

#define UDP_HEADER_LEN 8

struct udp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t length;   /* from the header on parse; header + payload */
	uint16_t checksum; /* as found on parse; computed on emit */
	const uint8_t *payload;
	size_t payload_len;
};

/* len is the IP payload length. Checks 8 <= length field <= len (trailing bytes beyond the length
 * field are ignored), and the checksum unless it is zero or csum is IGNORE. */
enum wire_err udp_parse(const uint8_t *buf, size_t len, ipv4_addr src, ipv4_addr dst, enum wire_csum csum,
			struct udp_repr *out);
size_t udp_repr_len(const struct udp_repr *r); /* 8 + payload_len */
/* Writes header and payload (memmove, so the payload may already sit at buf+8) and the checksum. */
size_t udp_emit(const struct udp_repr *r, ipv4_addr src, ipv4_addr dst, uint8_t *buf, size_t cap);
void udp_print(const struct udp_repr *r, struct strbuf *sb);

SMX_API_END

#endif
