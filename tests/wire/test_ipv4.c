/* IPv4 headers: captured fields, round trip of every captured header, every truncation, impossible
 * lengths (IHL < 5, header past the end, total length below the header or past the frame), padding,
 * bad checksums, options, fragments. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static void test_parse_captured(void **state)
{
	struct ipv4_repr r;
	const uint8_t *ip = frame_ip(cap_icmp_echo_request);

	assert_int_equal(ipv4_parse(ip, sizeof(cap_icmp_echo_request) - 14, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.src, IPV4_ADDR(10, 0, 0, 1));
	assert_int_equal(r.dst, IPV4_ADDR(10, 0, 0, 2));
	assert_int_equal(r.protocol, IP_PROTO_ICMP);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.tos, 0);
	assert_int_equal(r.ident, 65219);
	assert_true(r.dont_frag);
	assert_false(r.more_frags);
	assert_int_equal(r.frag_offset, 0);
	assert_int_equal(r.header_len, 20);
	assert_int_equal(r.total_len, 84);
	assert_int_equal(ipv4_payload_len(&r), 64);
	assert_null(r.options);
	assert_false(ipv4_is_fragment(&r));

	ip = frame_ip(cap_icmp_port_unreach);
	assert_int_equal(ipv4_parse(ip, sizeof(cap_icmp_port_unreach) - 14, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.tos, 0xc0); /* Linux sends ICMP errors with precedence internetwork control */
	assert_false(r.dont_frag);
	assert_int_equal(r.total_len, 62);

	ip = frame_ip(cap_icmp_ttl1_request);
	assert_int_equal(ipv4_parse(ip, sizeof(cap_icmp_ttl1_request) - 14, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.ttl, 1);
	assert_int_equal(r.dst, IPV4_ADDR(10, 9, 9, 9));
	assert_string_equal(ip_proto_name(IP_PROTO_TCP), "TCP");
	assert_null(ip_proto_name(47));
}

static void test_round_trip_all_captured(void **state)
{
	for (size_t i = 0; i < capture_frame_count; i++) {
		const uint8_t *f = capture_frames[i].data;
		struct ipv4_repr r;
		uint8_t out[IPV4_MAX_HEADER_LEN];
		if (get_be16(f + 12) != ETH_TYPE_IPV4)
			continue;
		assert_int_equal(ipv4_parse(frame_ip(f), capture_frames[i].len - 14, WIRE_CSUM_VERIFY, &r), WIRE_OK);
		assert_int_equal(ipv4_repr_len(&r), 20);
		assert_int_equal(ipv4_emit(&r, out, sizeof(out)), 20);
		assert_memory_equal(out, frame_ip(f), 20);
		assert_int_equal(ipv4_emit(&r, out, 19), 0);
	}
}

/* Every length short of the total length is rejected without reading past it. */
static void test_truncation(void **state)
{
	const uint8_t *ip = frame_ip(cap_tcp_get);
	size_t total = frame_ip_len(cap_tcp_get);
	struct ipv4_repr r;

	for (size_t len = 0; len < total; len++) {
		uint8_t *c = dup_exact(ip, len);
		assert_int_equal(ipv4_parse(c, len, WIRE_CSUM_VERIFY, &r), WIRE_TRUNCATED);
		assert_int_equal(ipv4_parse(c, len, WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
		/* past the fixed header the repr is filled (ICMP quotes rely on it) */
		assert_int_equal(r.header_len, len >= 20 ? 20 : 0);
		free(c);
	}
	uint8_t *c = dup_exact(ip, total);
	assert_int_equal(ipv4_parse(c, total, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	free(c);
}

static void test_padding_allowed(void **state)
{
	uint8_t f[ETH_MIN_FRAME] = {0};
	struct ipv4_repr r;

	memcpy(f, cap_tcp_rst, sizeof(cap_tcp_rst)); /* 54 bytes: padded to 60 by most NICs */
	memset(f + sizeof(cap_tcp_rst), 0xaa, sizeof(f) - sizeof(cap_tcp_rst));
	assert_int_equal(ipv4_parse(f + 14, sizeof(f) - 14, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.total_len, 40);
	assert_int_equal(ipv4_payload_len(&r), 20);
}

static void test_impossible_lengths(void **state)
{
	uint8_t h[sizeof(cap_udp_data) - 14];
	struct ipv4_repr r;

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		memcpy(h, frame_ip(cap_udp_data), sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
	}
	/* IHL 15 = 60 bytes, but only 34 are there */
	memcpy(h, frame_ip(cap_udp_data), sizeof(h));
	h[0] = 0x4f;
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	/* IHL 6 = 24 bytes with a total length of 34: fine structurally */
	h[0] = 0x46;
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_OK);
	/* total length below the header */
	for (uint16_t tl = 0; tl < 20; tl++) {
		memcpy(h, frame_ip(cap_udp_data), sizeof(h));
		put_be16(h + 2, tl);
		assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
	}
	memcpy(h, frame_ip(cap_udp_data), sizeof(h));
	h[0] = 0x46;
	put_be16(h + 2, 22); /* above 20 but below this header's 24 */
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
	/* total length past the frame */
	memcpy(h, frame_ip(cap_udp_data), sizeof(h));
	put_be16(h + 2, (uint16_t)(sizeof(h) + 1));
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	put_be16(h + 2, 0xffff);
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	/* not version 4 */
	memcpy(h, frame_ip(cap_udp_data), sizeof(h));
	h[0] = 0x65;
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
}

static void test_bad_checksum(void **state)
{
	uint8_t h[sizeof(cap_udp_data) - 14];
	struct ipv4_repr r;

	/* flip every bit of the header in turn: always detected, and the repr is still filled */
	for (size_t bit = 0; bit < 20 * 8; bit++) {
		memcpy(h, frame_ip(cap_udp_data), sizeof(h));
		h[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		enum wire_err err = ipv4_parse(h, sizeof(h), WIRE_CSUM_VERIFY, &r);
		if (bit < 8) /* version and IHL bits make it malformed or truncated first */
			assert_int_not_equal(err, WIRE_OK);
		else if (bit >= 16 && bit < 32) /* total length changes first */
			assert_int_not_equal(err, WIRE_OK);
		else
			assert_int_equal(err, WIRE_BAD_CHECKSUM);
	}
	memcpy(h, frame_ip(cap_udp_data), sizeof(h));
	h[8] = 63; /* TTL */
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_VERIFY, &r), WIRE_BAD_CHECKSUM);
	assert_int_equal(r.ttl, 63);
	assert_int_equal(r.src, IPV4_ADDR(10, 0, 0, 1));
	assert_int_equal(r.checksum, get_be16(frame_ip(cap_udp_data) + 10));
	assert_int_equal(ipv4_parse(h, sizeof(h), WIRE_CSUM_IGNORE, &r), WIRE_OK);
}

static void test_options_and_fragments(void **state)
{
	static const uint8_t router_alert[4] = {0x94, 0x04, 0x00, 0x00}; /* RFC 2113 */
	struct ipv4_repr r = {
		.src = IPV4_ADDR(192, 0, 2, 1), .dst = IPV4_ADDR(198, 51, 100, 7), .protocol = 2, .ttl = 1,
		.tos = 0xc0, .ident = 0xbeef, .more_frags = true, .frag_offset = 1480, .header_len = 24,
		.total_len = 32, .options = router_alert,
	};
	uint8_t buf[32] = {0};
	struct ipv4_repr p;

	assert_int_equal(ipv4_repr_len(&r), 24);
	assert_int_equal(ipv4_emit(&r, buf, sizeof(buf)), 24);
	assert_int_equal(buf[0], 0x46);
	assert_int_equal(get_be16(buf + 6), 0x2000 | 1480 / 8);
	assert_int_equal(ipv4_parse(buf, sizeof(buf), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.header_len, 24);
	assert_non_null(p.options);
	assert_memory_equal(p.options, router_alert, 4);
	assert_true(p.more_frags);
	assert_false(p.dont_frag);
	assert_int_equal(p.frag_offset, 1480);
	assert_true(ipv4_is_fragment(&p));
	assert_int_equal(p.ident, 0xbeef);
	assert_int_equal(ipv4_payload_len(&p), 8);
	/* emit(parse(x)) == x with options, too */
	uint8_t again[32] = {0};
	assert_int_equal(ipv4_emit(&p, again, sizeof(again)), 24);
	assert_memory_equal(again, buf, 24);
	/* every truncation inside the options */
	for (size_t len = 20; len < 24; len++) {
		uint8_t *c = dup_exact(buf, len);
		assert_int_equal(ipv4_parse(c, len, WIRE_CSUM_VERIFY, &p), WIRE_TRUNCATED);
		free(c);
	}
	/* last fragment: offset only */
	r.more_frags = false;
	r.header_len = 20;
	r.options = NULL;
	assert_int_equal(ipv4_emit(&r, buf, sizeof(buf)), 20);
	assert_int_equal(ipv4_parse(buf, sizeof(buf), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_false(p.more_frags);
	assert_int_equal(p.frag_offset, 1480);
	assert_true(ipv4_is_fragment(&p));
}

static void test_print(void **state)
{
	char txt[300];
	struct strbuf sb;
	struct ipv4_repr r;

	assert_int_equal(ipv4_parse(frame_ip(cap_tcp_syn), 60, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	ipv4_print(&r, &sb);
	assert_string_equal(txt, "IPv4 10.0.0.1 > 10.0.0.2, tos 0x0, ttl 64, id 46388, offset 0, flags [DF], "
				 "proto TCP (6), hlen 20, length 60");
	r.protocol = 47;
	r.dont_frag = false;
	r.more_frags = true;
	strbuf_init(&sb, txt, sizeof(txt));
	ipv4_print(&r, &sb);
	assert_contains(txt, "flags [+]");
	assert_contains(txt, "proto unknown (47)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_round_trip_all_captured),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_padding_allowed),
		cmocka_unit_test(test_impossible_lengths),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_options_and_fragments),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
