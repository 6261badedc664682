/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Sums are carried in a
 * 32-bit accumulator of big-endian 16-bit words; values returned are host-order numbers to store
 * with put_be16. */
#ifndef SMOLXDP_WIRE_CHECKSUM_H
#define SMOLXDP_WIRE_CHECKSUM_H

#include "smolxdp/base.h"
#include "smolxdp/bytes.h"

SMX_API_BEGIN

/* Add `len` bytes at `data` (any alignment, any length) to `sum`. When chaining calls, every span
 * but the last must have even length. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
/* Copy len bytes (dst and src must not overlap) and return their sum, csum_add(0, src, len), reading
 * the data once. */
uint32_t csum_copy(void *dst, const void *src, size_t len);

/* The small steps around csum_add are inline: each packet takes several, and a call costs more
 * than the few additions inside. */

/* Fold the carries into 16 bits (not complemented). */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value: ~fold(sum). */
static inline uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* A sum of a span that starts at an odd offset within the data summed: its bytes swap places in the
 * 16-bit words (RFC 1071 2(B)). */
static inline uint32_t csum_odd(uint32_t sum)
{
	uint16_t f = csum_fold(sum);

	return (uint16_t)(f << 8 | f >> 8);
}

/* Raw sum of the IPv4 pseudo-header (RFC 768, RFC 9293 3.1): src, dst, zero, protocol, L4 length. */
static inline uint32_t csum_pseudo_ipv4(ipv4_addr src, ipv4_addr dst, uint8_t proto, uint16_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

/* The folded sum (not complemented) of an IPv4 header of hlen bytes: 20 to 60, a multiple of 4 (IHL
 * words; the 64-bit sum cannot overflow). Every packet sums one header in and one out: the fixed 20
 * bytes are five big-endian words added straight, with none of csum_add's tail handling or byte swap;
 * options, if any, follow in a loop. */
static inline uint16_t csum_ipv4_header(const uint8_t *hdr, size_t hlen)
{
	uint64_t s = (uint64_t)get_be32(hdr) + get_be32(hdr + 4) + get_be32(hdr + 8) + get_be32(hdr + 12) +
		     get_be32(hdr + 16);

	for (size_t i = 20; i + 4 <= hlen; i += 4)
		s += get_be32(hdr + i);
	s = (s & 0xffffffffu) + (s >> 32);
	return csum_fold((uint32_t)s + (uint32_t)(s >> 32));
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing from old to new. */
uint16_t csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
uint16_t csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

SMX_API_END

#endif
