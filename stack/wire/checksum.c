/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). The bulk loop sums 64-bit
 * native-order words: RFC 1071 2(B) says the ones' complement sum is byte-order independent, so the
 * folded native sum is byte-swapped once at the end. */
#include "smolxdp/wire/checksum.h"

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

static bool host_is_little_endian(void)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return false;
#else
	return true;
#endif
}

/* 2^16 == 1 (mod 0xffff), so carries may be folded back at any width (RFC 1071 2(C)). */
static uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t native = 0;
	uint64_t be = sum;

	/* Loads through memcpy: any alignment, no aliasing games; each add is below 2^33, so the
	 * 64-bit accumulator cannot overflow for any length a size_t can hold in practice (< 2^31 words). */
	while (len >= 32) {
		uint64_t w[4];
		memcpy(w, p, sizeof(w));
		native += (w[0] & 0xffffffffu) + (w[0] >> 32);
		native += (w[1] & 0xffffffffu) + (w[1] >> 32);
		native += (w[2] & 0xffffffffu) + (w[2] >> 32);
		native += (w[3] & 0xffffffffu) + (w[3] >> 32);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, sizeof(w));
		native += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	/* The tail in explicit big-endian words; an odd last byte is the high half of a zero-padded
	 * word (RFC 1071 4.1). */
	while (len >= 2) {
		be += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len == 1)
		be += (uint32_t)p[0] << 8;

	uint16_t n = csum_fold(fold64(native));
	if (host_is_little_endian())
		n = swap16(n);
	return fold64(be + n);
}

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

uint32_t csum_pseudo_ipv4(ipv4_addr src, ipv4_addr dst, uint8_t proto, uint16_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

uint16_t csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	/* RFC 1624 eqn. 3 rather than eqn. 2, which gives -0 (0xffff) where 0 is due (RFC 1624 3). */
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_val + new_val;
	return (uint16_t)~csum_fold(s);
}

uint16_t csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~(old_val >> 16) + (uint16_t)~(old_val & 0xffff) +
		     (new_val >> 16) + (new_val & 0xffff);
	return (uint16_t)~csum_fold(s);
}
