/* UDP: captured socat datagrams; round trip; every truncation; length field below 8 or past the IP
 * payload; bad checksums; zero checksum means none on receive and is never sent. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static enum wire_err parse_frame(const uint8_t *f, enum wire_csum csum, struct udp_repr *r)
{
	return udp_parse(frame_l4(f), frame_l4_len(f), frame_src(f), frame_dst(f), csum, r);
}

static void test_parse_captured(void **state)
{
	struct udp_repr r;

	assert_int_equal(parse_frame(cap_udp_data, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.src_port, 40000);
	assert_int_equal(r.dst_port, 9999);
	assert_int_equal(r.length, 14);
	assert_int_equal(r.payload_len, 6);
	assert_memory_equal(r.payload, "hello\n", 6);
	assert_int_equal(r.checksum, get_be16(frame_l4(cap_udp_data) + 6));
	assert_int_not_equal(r.checksum, 0);
}

static void test_round_trip(void **state)
{
	const uint8_t *frames[] = {cap_udp_data, cap_udp_to_closed};

	for (size_t i = 0; i < SMX_ARRAY_LEN(frames); i++) {
		struct udp_repr r;
		uint8_t out[64];
		const uint8_t *f = frames[i];
		assert_int_equal(parse_frame(f, WIRE_CSUM_VERIFY, &r), WIRE_OK);
		assert_int_equal(udp_repr_len(&r), 14);
		assert_int_equal(udp_emit(&r, frame_src(f), frame_dst(f), out, sizeof(out)), 14);
		assert_memory_equal(out, frame_l4(f), 14);
		assert_int_equal(udp_emit(&r, frame_src(f), frame_dst(f), out, 13), 0);
	}
}

static void test_truncation(void **state)
{
	struct udp_repr r;
	const uint8_t *f = cap_udp_data;

	for (size_t len = 0; len < frame_l4_len(f); len++) {
		uint8_t *c = dup_exact(frame_l4(f), len);
		assert_int_equal(udp_parse(c, len, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
		free(c);
	}
}

static void test_impossible_lengths(void **state)
{
	uint8_t d[14 + 4];
	struct udp_repr r;
	const uint8_t *f = cap_udp_data;

	for (uint16_t l = 0; l < 8; l++) {
		memcpy(d, frame_l4(f), 14);
		put_be16(d + 4, l);
		assert_int_equal(udp_parse(d, 14, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
	}
	memcpy(d, frame_l4(f), 14);
	put_be16(d + 4, 15); /* one past the IP payload */
	assert_int_equal(udp_parse(d, 14, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	put_be16(d + 4, 0xffff);
	assert_int_equal(udp_parse(d, 14, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	/* an IP payload longer than the UDP length: the extra bytes are ignored, also by the checksum */
	memcpy(d, frame_l4(f), 14);
	memset(d + 14, 0x5a, 4);
	assert_int_equal(udp_parse(d, sizeof(d), frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.payload_len, 6);
}

static void test_checksum(void **state)
{
	uint8_t d[14];
	struct udp_repr r;
	const uint8_t *f = cap_udp_data;

	for (size_t bit = 0; bit < sizeof(d) * 8; bit++) {
		memcpy(d, frame_l4(f), sizeof(d));
		d[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		enum wire_err err = udp_parse(d, sizeof(d), frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r);
		if (bit >= 32 && bit < 48) /* the length field */
			assert_int_not_equal(err, WIRE_OK);
		else if (get_be16(d + 6) != 0)
			assert_int_equal(err, WIRE_BAD_CHECKSUM);
	}
	/* wrong pseudo-header (another destination) */
	assert_int_equal(udp_parse(frame_l4(f), 14, frame_src(f), IPV4_ADDR(10, 0, 0, 3), WIRE_CSUM_VERIFY, &r),
			 WIRE_BAD_CHECKSUM);
	/* zero: the sender computed none (RFC 768) */
	memcpy(d, frame_l4(f), sizeof(d));
	put_be16(d + 6, 0);
	d[8] = 'j';
	assert_int_equal(udp_parse(d, sizeof(d), frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.checksum, 0);
}

/* A datagram whose checksum computes to zero is sent with 0xffff, which verifies. */
static void test_never_send_zero(void **state)
{
	uint8_t payload[2] = {0, 0};
	uint8_t out[10];
	struct udp_repr r = {.src_port = 1, .dst_port = 2, .payload = payload, .payload_len = 2};
	ipv4_addr s = IPV4_ADDR(10, 0, 0, 1), d = IPV4_ADDR(10, 0, 0, 2);
	struct udp_repr p;

	/* choose the payload word so that the sum is all ones, i.e. the checksum would be 0 */
	uint32_t sum = csum_pseudo_ipv4(s, d, IP_PROTO_UDP, 10) + 1 + 2 + 10;
	uint16_t word = (uint16_t)~csum_fold(sum);
	put_be16(payload, word);
	assert_int_equal(udp_emit(&r, s, d, out, sizeof(out)), 10);
	assert_int_equal(get_be16(out + 6), 0xffff);
	assert_int_equal(udp_parse(out, sizeof(out), s, d, WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.checksum, 0xffff);
}

/* Payload already in place, odd length, unaligned buffer. */
static void test_emit_in_place(void **state)
{
	uint8_t raw[1 + 8 + 7];
	uint8_t *buf = raw + 1;
	struct udp_repr p;

	memcpy(buf + 8, "abcdefg", 7);
	struct udp_repr r = {.src_port = 5353, .dst_port = 53, .payload = buf + 8, .payload_len = 7};
	assert_int_equal(udp_emit(&r, IPV4_ADDR(1, 2, 3, 4), IPV4_ADDR(5, 6, 7, 8), buf, 15), 15);
	assert_int_equal(udp_parse(buf, 15, IPV4_ADDR(1, 2, 3, 4), IPV4_ADDR(5, 6, 7, 8), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_memory_equal(p.payload, "abcdefg", 7);
	assert_int_equal(p.length, 15);
}

static void test_print(void **state)
{
	char txt[100];
	struct strbuf sb;
	struct udp_repr r;

	assert_int_equal(parse_frame(cap_udp_data, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	udp_print(&r, &sb);
	assert_string_equal(txt, "UDP 40000 > 9999, length 6");
	r.checksum = 0;
	strbuf_init(&sb, txt, sizeof(txt));
	udp_print(&r, &sb);
	assert_string_equal(txt, "UDP 40000 > 9999, no checksum, length 6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_impossible_lengths),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_never_send_zero),
		cmocka_unit_test(test_emit_in_place),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
