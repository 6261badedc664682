/* Checksum module: RFC 1071 and RFC 1624 vectors, every length and alignment against a byte-at-a-time
 * reference, chaining, the pseudo-header on captured segments, incremental updates on captured headers. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

/* The obvious reference: big-endian 16-bit words, an odd last byte padded with zero (RFC 1071 4.1). */
static uint16_t ref_fold(const uint8_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n % 2)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
	static const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(csum_fold(csum_add(0, v, sizeof(v))), 0xddf2);
	assert_int_equal(csum_finish(csum_add(0, v, sizeof(v))), 0x220d);
}

static void test_small_vectors(void **state)
{
	static const uint8_t one[] = {0xab};
	static const uint8_t three[] = {0x01, 0x02, 0x03};
	assert_int_equal(csum_fold(csum_add(0, one, 0)), 0);
	assert_int_equal(csum_fold(csum_add(0, one, 1)), 0xab00);       /* odd byte is the high half */
	assert_int_equal(csum_fold(csum_add(0, three, 3)), 0x0102 + 0x0300);
	assert_int_equal(csum_fold(0x1ffff), 0x0001);                     /* end-around carry */
	assert_int_equal(csum_fold(0xffffffff), 0xffff);
	assert_int_equal(csum_finish(0), 0xffff);
}

/* Every length 0..600 at every alignment 0..15, random data and all-ones data (maximal carries). */
static void test_all_lengths_and_alignments(void **state)
{
	uint8_t *buf = malloc(1024);

	assert_non_null(buf);
	srand(1);
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < 1024; i++)
			buf[i] = fill ? 0xff : (uint8_t)rand();
		for (size_t off = 0; off < 16; off++) {
			for (size_t n = 0; n <= 600; n++) {
				uint8_t *copy = dup_exact(buf + off, n); /* exact size: no over-read */
				uint16_t want = ref_fold(buf + off, n);
				assert_int_equal(csum_fold(csum_add(0, buf + off, n)), want);
				assert_int_equal(csum_fold(csum_add(0, copy, n)), want);
				free(copy);
			}
		}
	}
	free(buf);
}

/* The IPv4 header sum: every header length (5..15 words) at every alignment, random and all-ones. */
static void test_ipv4_header_sum(void **state)
{
	uint8_t buf[80];

	srand(3);
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = fill ? 0xff : (uint8_t)rand();
		for (size_t off = 0; off < 16; off++)
			for (size_t hlen = 20; hlen <= 60; hlen += 4)
				assert_int_equal(csum_ipv4_header(buf + off, hlen), ref_fold(buf + off, hlen));
	}
}

/* csum_copy: the copy byte-exact and the sum the reference's, every length to 2100 at every
 * alignment of source and destination, random bytes and all-ones (the lanes' carries); and a sum
 * of a span at an odd offset, swapped by csum_odd, chains with the sum before it. */
static void test_copy_and_odd(void **state)
{
	static uint8_t src[2200], dst[2200];

	(void)state;
	srand(5);
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(src); i++)
			src[i] = fill ? 0xff : (uint8_t)rand();
		for (size_t len = 0; len <= 2100; len += (len < 300 ? 1 : 37))
			for (size_t so = 0; so < 8; so++)
				for (size_t dof = 0; dof < 8; dof += 3) {
					memset(dst, 0x5a, sizeof(dst));
					assert_int_equal(csum_fold(csum_copy(dst + dof, src + so, len)), ref_fold(src + so, len));
					assert_memory_equal(dst + dof, src + so, len);
					assert_int_equal(dst[dof + len], 0x5a); /* nothing past the end */
				}
	}
	for (size_t cut = 0; cut < 64; cut++) {
		uint32_t a = csum_add(0, src, cut), b = csum_add(0, src + cut, 100);

		assert_int_equal(csum_fold(csum_fold(a) + ((cut & 1) ? csum_odd(b) : csum_fold(b))),
				 ref_fold(src, cut + 100));
	}
}

static void test_large_buffer_carries(void **state)
{
	size_t n = 65535 * 2 + 1;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	memset(buf, 0xff, n);
	assert_int_equal(csum_fold(csum_add(0, buf, n)), ref_fold(buf, n));
	/* starting from a large incoming sum must not lose its carries */
	assert_int_equal(csum_fold(csum_add(0xfffffff0u, buf, n)), csum_fold((uint32_t)csum_fold(0xfffffff0u) + ref_fold(buf, n)));
	free(buf);
}

static void test_chaining(void **state)
{
	uint8_t buf[101];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t split = 0; split <= sizeof(buf); split += 2) {
		uint32_t s = csum_add(0, buf, split);
		s = csum_add(s, buf + split, sizeof(buf) - split);
		assert_int_equal(csum_fold(s), ref_fold(buf, sizeof(buf)));
	}
}

static void test_pseudo_header_on_captured_segments(void **state)
{
	for (size_t i = 0; i < capture_frame_count; i++) {
		const uint8_t *f = capture_frames[i].data;
		if (get_be16(f + 12) != ETH_TYPE_IPV4 || frame_proto(f) == IP_PROTO_ICMP)
			continue;
		size_t n = frame_l4_len(f);
		uint32_t s = csum_pseudo_ipv4(frame_src(f), frame_dst(f), frame_proto(f), (uint16_t)n);
		/* A segment with its checksum sums, with the pseudo-header, to all ones. */
		assert_int_equal(csum_fold(csum_add(s, frame_l4(f), n)), 0xffff);
	}
	/* and the pseudo-header on its own: 10.0.0.1, 10.0.0.2, TCP, 40 */
	assert_int_equal(csum_fold(csum_pseudo_ipv4(IPV4_ADDR(10, 0, 0, 1), IPV4_ADDR(10, 0, 0, 2), 6, 40)),
			 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 40);
}

static void test_rfc1624_example(void **state)
{
	/* RFC 1624 4: HC 0xdd2f, m 0x5555 -> m' 0x3285; eqn. 3 gives 0x0000 (eqn. 2 would give 0xffff). */
	assert_int_equal(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* and back */
	assert_int_equal(csum_fold((uint32_t)0xcd7a + 0x5555), (uint16_t)~0xdd2f);
	assert_int_equal(csum_update16(0x0000, 0x3285, 0x5555), 0xdd2f);
}

/* Change fields of captured headers, update incrementally, compare with a full recomputation. */
static void test_incremental_on_captured_headers(void **state)
{
	uint8_t f[sizeof(cap_tcp_get)];

	memcpy(f, cap_tcp_get, sizeof(f));
	uint8_t *ip = f + ETH_HEADER_LEN;
	/* TTL decrement (RFC 1624 3, RFC 1812 5.3.1): the TTL/protocol word changes. */
	for (int ttl = 64; ttl > 0; ttl--) {
		uint16_t old_word = get_be16(ip + 8);
		ip[8] = (uint8_t)(ttl - 1);
		put_be16(ip + 10, csum_update16(get_be16(ip + 10), old_word, get_be16(ip + 8)));
		assert_int_equal(csum_fold(csum_add(0, ip, IPV4_HEADER_LEN)), 0xffff);
	}
	/* Rewrite the source address (NAT): IP header checksum and TCP checksum (pseudo-header) both. */
	uint32_t old_src = get_be32(ip + 12);
	uint32_t new_src = IPV4_ADDR(192, 168, 200, 77);
	put_be32(ip + 12, new_src);
	put_be16(ip + 10, csum_update32(get_be16(ip + 10), old_src, new_src));
	uint8_t *tcp = ip + 20;
	put_be16(tcp + 16, csum_update32(get_be16(tcp + 16), old_src, new_src));
	struct ipv4_repr ipr;
	struct tcp_repr tr;
	assert_int_equal(ipv4_parse(ip, frame_ip_len(f), WIRE_CSUM_VERIFY, &ipr), WIRE_OK);
	assert_int_equal(tcp_parse(tcp, ipv4_payload_len(&ipr), ipr.src, ipr.dst, WIRE_CSUM_VERIFY, &tr), WIRE_OK);
	/* a 16-bit change of the window, in the TCP header */
	uint16_t old_win = get_be16(tcp + 14);
	put_be16(tcp + 14, 0x1234);
	put_be16(tcp + 16, csum_update16(get_be16(tcp + 16), old_win, 0x1234));
	assert_int_equal(tcp_parse(tcp, ipv4_payload_len(&ipr), ipr.src, ipr.dst, WIRE_CSUM_VERIFY, &tr), WIRE_OK);
}

/* Random field changes: the incremental result always verifies like a full recomputation. */
static void test_incremental_random(void **state)
{
	uint8_t hdr[20];

	srand(7);
	memcpy(hdr, cap_icmp_echo_request + ETH_HEADER_LEN, sizeof(hdr));
	for (int i = 0; i < 100000; i++) {
		size_t off = (size_t)(rand() % 10) * 2;
		if (off == 10)
			continue;
		uint16_t old_val = get_be16(hdr + off);
		uint16_t new_val = (uint16_t)rand();
		if (i % 100 == 0)
			new_val = (uint16_t)(i % 200 == 0 ? 0 : 0xffff);
		put_be16(hdr + off, new_val);
		put_be16(hdr + 10, csum_update16(get_be16(hdr + 10), old_val, new_val));
		assert_int_equal(csum_fold(csum_add(0, hdr, sizeof(hdr))), 0xffff);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_small_vectors),
		cmocka_unit_test(test_all_lengths_and_alignments),
		cmocka_unit_test(test_ipv4_header_sum),
		cmocka_unit_test(test_copy_and_odd),
		cmocka_unit_test(test_large_buffer_carries),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_pseudo_header_on_captured_segments),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_incremental_on_captured_headers),
		cmocka_unit_test(test_incremental_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
