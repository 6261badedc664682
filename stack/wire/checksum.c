/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). The loop sums native-order
 * words: RFC 1071 2(B) says the ones' complement sum is byte-order independent, so the folded native
 * sum is byte-swapped once at the end. */
#include "smolxdp/wire/checksum.h"

static bool host_is_little_endian(void)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return false;
#else
	return true;
#endif
}

/* Ones' complement addition at 64 bits: a carry out of the top wraps around to the bottom (2^64 == 1
 * mod 0xffff, RFC 1071 2(C)). After a carry the sum is at most 2^64 - 2, so adding it back cannot
 * carry again. */
static uint64_t add_wrap(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

/* A native-order 64-bit sum folded to 16 bits (64 -> 32 -> 16, each fold adding any carry back in),
 * put in network order and added to sum. */
static uint32_t csum_add_native(uint32_t sum, uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	uint16_t n = csum_fold((uint32_t)s);
	if (host_is_little_endian())
		n = (uint16_t)(n << 8 | n >> 8);
	/* sum + n may carry out of 32 bits: fold that carry back (it cannot carry twice). */
	uint32_t r = sum + n;
	return r + (r < n);
}

#define CSUM_LANES 8
#define CSUM_LANES_MIN 256 /* below this the lanes' set-up and sum cost more than they save */

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0;

	/* Long spans (a full segment): 32-bit words into 64-bit lanes, with no carry to wrap before 2^32
	 * words in a lane (128 GB, far beyond any packet), and lanes independent of each other, which
	 * the compiler turns into vector adds (at -O3 for gcc 12, see stack/CMakeLists.txt): 1468 bytes
	 * in 2-2.5x less time than the carry chain below, though in more instructions. Their sum is
	 * folded mod 0xffff at the end, as RFC 1071 2(B) allows for any word size. */
	if (len >= CSUM_LANES_MIN) {
		uint64_t lane[CSUM_LANES] = {0};

		while (len >= 4 * CSUM_LANES) {
			for (int i = 0; i < CSUM_LANES; i++)
				lane[i] += load32(p + 4 * i);
			p += 4 * CSUM_LANES;
			len -= 4 * CSUM_LANES;
		}
		for (int i = 0; i < CSUM_LANES; i++)
			s += lane[i]; /* below 2^64 for any length under 16 GB */
	}
	/* Short spans and the rest: 64-bit words with the carry wrapped at once. Loads go through
	 * memcpy: any alignment, no aliasing games. */
	while (len >= 32) {
		s = add_wrap(s, load64(p));
		s = add_wrap(s, load64(p + 8));
		s = add_wrap(s, load64(p + 16));
		s = add_wrap(s, load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		s = add_wrap(s, load64(p));
		p += 8;
		len -= 8;
	}
	if (len & 4) {
		s = add_wrap(s, load32(p));
		p += 4;
	}
	/* The tail still starts at an even offset, so its words keep their place in the native sum; an
	 * odd last byte is the high (first) half of a zero-padded word (RFC 1071 4.1). */
	if (len & 2) {
		uint16_t w;
		memcpy(&w, p, sizeof(w));
		s = add_wrap(s, w);
		p += 2;
	}
	if (len & 1)
		s = add_wrap(s, host_is_little_endian() ? p[0] : (uint64_t)p[0] << 8);
	return csum_add_native(sum, s);
}

uint32_t csum_copy(void *dst, const void *src, size_t len)
{
	const uint8_t *p = src;
	uint8_t *d = dst;
	uint64_t s = 0;

	/* csum_add's lanes, each 32-byte block stored as it is summed: the data is read once, where a
	 * copy and then a sum read it twice (a sending TCP copies every segment into its frame). */
	if (len >= CSUM_LANES_MIN) {
		uint64_t lane[CSUM_LANES] = {0};

		while (len >= 4 * CSUM_LANES) {
			uint32_t w[CSUM_LANES];

			memcpy(w, p, sizeof(w));
			memcpy(d, w, sizeof(w));
			for (int i = 0; i < CSUM_LANES; i++)
				lane[i] += w[i];
			p += sizeof(w);
			d += sizeof(w);
			len -= sizeof(w);
		}
		for (int i = 0; i < CSUM_LANES; i++)
			s += lane[i];
	}
	memcpy(d, p, len);
	/* The blocks' length is even: the rest keeps its words' places. */
	return csum_add(csum_add_native(0, s), d, len);
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
