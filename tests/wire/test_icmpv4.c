/* ICMPv4: captured echo request/reply, port unreachable (quoting UDP) and time exceeded (quoting ICMP);
 * round trips; every truncation; bad checksums; fragmentation-needed MTU and parameter-problem pointer. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static enum wire_err parse_frame(const uint8_t *f, struct icmpv4_repr *r)
{
	return icmpv4_parse(frame_l4(f), frame_l4_len(f), WIRE_CSUM_VERIFY, r);
}

static void test_echo(void **state)
{
	struct icmpv4_repr r;

	assert_int_equal(parse_frame(cap_icmp_echo_request, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_ECHO_REQUEST);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.ident, 6407);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.rest, 6407u << 16 | 1);
	assert_int_equal(r.data_len, 56);
	assert_ptr_equal(r.data, frame_l4(cap_icmp_echo_request) + 8);
	assert_false(r.has_quote);

	assert_int_equal(parse_frame(cap_icmp_echo_reply2, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_ECHO_REPLY);
	assert_int_equal(r.seq, 2);
	/* ping's payload comes back unchanged */
	assert_memory_equal(r.data, frame_l4(cap_icmp_echo_request2) + 8, 56);
}

static void test_port_unreachable_quote(void **state)
{
	struct icmpv4_repr r;

	assert_int_equal(parse_frame(cap_icmp_port_unreach, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_DEST_UNREACH);
	assert_int_equal(r.code, ICMPV4_UNREACH_PORT);
	assert_true(r.has_quote);
	assert_int_equal(r.quote_ip.src, IPV4_ADDR(10, 0, 0, 1));
	assert_int_equal(r.quote_ip.dst, IPV4_ADDR(10, 0, 0, 2));
	assert_int_equal(r.quote_ip.protocol, IP_PROTO_UDP);
	assert_int_equal(r.quote_ip.ident, 30943);
	assert_true(r.quote_has_ports);
	assert_int_equal(r.quote_src_port, 40001);
	assert_int_equal(r.quote_dst_port, 9998);
	/* Linux quotes the whole offending datagram: it is the UDP frame we sent */
	assert_int_equal(r.data_len, frame_ip_len(cap_udp_to_closed));
	assert_memory_equal(r.data, frame_ip(cap_udp_to_closed), r.data_len);
}

/* A quote of a TCP segment with 8 bytes of it (RFC 792's minimum) carries its sequence number, which
 * RFC 5927 4.1 checks; with only 4 bytes, just the ports. */
static void test_tcp_quote_seq(void **state)
{
	struct icmpv4_repr err = {.type = ICMPV4_DEST_UNREACH, .code = ICMPV4_UNREACH_PORT,
				  .data = frame_ip(cap_tcp_syn), .data_len = 20 + 8};
	struct tcp_repr syn;
	struct icmpv4_repr r;
	uint8_t buf[128];

	assert_int_equal(tcp_parse(frame_l4(cap_tcp_syn), frame_l4_len(cap_tcp_syn), frame_src(cap_tcp_syn),
				   frame_dst(cap_tcp_syn), WIRE_CSUM_VERIFY, &syn), WIRE_OK);
	size_t n = icmpv4_emit(&err, buf, sizeof(buf));
	assert_int_equal(icmpv4_parse(buf, n, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_true(r.has_quote && r.quote_has_ports && r.quote_has_seq);
	assert_int_equal(r.quote_ip.protocol, IP_PROTO_TCP);
	assert_int_equal(r.quote_src_port, syn.src_port);
	assert_int_equal(r.quote_seq, syn.seq);
	err.data_len = 20 + 4;
	n = icmpv4_emit(&err, buf, sizeof(buf));
	assert_int_equal(icmpv4_parse(buf, n, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_true(r.quote_has_ports);
	assert_false(r.quote_has_seq);
}

static void test_time_exceeded_quote(void **state)
{
	struct icmpv4_repr r;

	assert_int_equal(parse_frame(cap_icmp_time_exceeded, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_TIME_EXCEEDED);
	assert_int_equal(r.code, 0);
	assert_true(r.has_quote);
	assert_int_equal(r.quote_ip.dst, IPV4_ADDR(10, 9, 9, 9));
	assert_int_equal(r.quote_ip.protocol, IP_PROTO_ICMP);
	assert_int_equal(r.quote_ip.ttl, 1);
	assert_false(r.quote_has_ports);
}

/* A quote cut to the IP header plus 8 bytes (what RFC 792 requires) still yields ports; cut shorter,
 * no ports; shorter than an IP header, no quote at all. */
static void test_short_quotes(void **state)
{
	uint8_t m[8 + 20 + 8];
	struct icmpv4_repr r, e;

	memcpy(m, frame_l4(cap_icmp_port_unreach), sizeof(m));
	for (size_t len = 8; len <= sizeof(m); len++) {
		uint8_t *c = dup_exact(m, len);
		assert_int_equal(icmpv4_parse(c, len, WIRE_CSUM_IGNORE, &r), WIRE_OK);
		assert_int_equal(r.has_quote, len >= 28);
		assert_int_equal(r.quote_has_ports, len >= 32);
		if (len >= 32)
			assert_int_equal(r.quote_dst_port, 9998);
		/* what we emit from it verifies */
		uint8_t *out = malloc(len);
		assert_int_equal(icmpv4_emit(&r, out, len), len);
		assert_int_equal(icmpv4_parse(out, len, WIRE_CSUM_VERIFY, &e), WIRE_OK);
		free(out);
		free(c);
	}
}

static void test_round_trip_all_captured(void **state)
{
	size_t n = 0;

	for (size_t i = 0; i < capture_frame_count; i++) {
		const uint8_t *f = capture_frames[i].data;
		struct icmpv4_repr r;
		uint8_t out[1500];
		if (get_be16(f + 12) != ETH_TYPE_IPV4 || frame_proto(f) != IP_PROTO_ICMP)
			continue;
		assert_int_equal(parse_frame(f, &r), WIRE_OK);
		assert_int_equal(icmpv4_repr_len(&r), frame_l4_len(f));
		assert_int_equal(icmpv4_emit(&r, out, sizeof(out)), frame_l4_len(f));
		assert_memory_equal(out, frame_l4(f), frame_l4_len(f));
		assert_int_equal(icmpv4_emit(&r, out, frame_l4_len(f) - 1), 0);
		n++;
	}
	assert_int_equal(n, 7);
}

/* Emit in place: the data already sits at buf+8. */
static void test_emit_in_place(void **state)
{
	uint8_t buf[8 + 5] = {0, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
	struct icmpv4_repr r = {.type = ICMPV4_ECHO_REPLY, .ident = 0x1234, .seq = 7, .data = buf + 8, .data_len = 5};
	struct icmpv4_repr p;

	assert_int_equal(icmpv4_emit(&r, buf, sizeof(buf)), 13); /* odd length */
	assert_int_equal(icmpv4_parse(buf, sizeof(buf), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.ident, 0x1234);
	assert_int_equal(p.seq, 7);
	assert_memory_equal(p.data, "hello", 5);
}

/* The echo reply by checksum update: Linux's own reply to a captured request, byte for byte; and for
 * random requests (every length 0..300, odd ones too, any code, all-ones data) the same bytes as a full
 * icmpv4_emit of the reply. */
static void test_emit_echo_reply(void **state)
{
	struct icmpv4_repr req;
	uint8_t out[400];

	assert_int_equal(parse_frame(cap_icmp_echo_request2, &req), WIRE_OK);
	size_t n = frame_l4_len(cap_icmp_echo_reply2);
	assert_int_equal(icmpv4_emit_echo_reply(&req, out, sizeof(out)), n);
	assert_memory_equal(out, frame_l4(cap_icmp_echo_reply2), n);
	assert_int_equal(icmpv4_emit_echo_reply(&req, out, n - 1), 0);

	srand(5);
	for (size_t len = 0; len <= 300; len++) {
		uint8_t msg[8 + 300];
		uint8_t want[8 + 300];
		for (size_t i = 0; i < sizeof(msg); i++)
			msg[i] = len % 3 == 0 ? 0xff : (uint8_t)rand();
		struct icmpv4_repr r = {.type = ICMPV4_ECHO_REQUEST, .code = (uint8_t)(len % 5 == 0 ? rand() : 0),
					.ident = (uint16_t)rand(), .seq = (uint16_t)rand(), .data = msg + 8, .data_len = len};
		assert_int_equal(icmpv4_emit(&r, msg, sizeof(msg)), 8 + len);
		assert_int_equal(icmpv4_parse(msg, 8 + len, WIRE_CSUM_VERIFY, &req), WIRE_OK);
		assert_int_equal(icmpv4_emit_echo_reply(&req, out, sizeof(out)), 8 + len);
		r.type = ICMPV4_ECHO_REPLY;
		r.code = 0;
		assert_int_equal(icmpv4_emit(&r, want, sizeof(want)), 8 + len);
		assert_memory_equal(out, want, 8 + len);
	}
	/* anything but an echo request is refused */
	assert_int_equal(parse_frame(cap_icmp_echo_reply2, &req), WIRE_OK);
	assert_int_equal(icmpv4_emit_echo_reply(&req, out, sizeof(out)), 0);
}

static void test_truncation_and_checksum(void **state)
{
	struct icmpv4_repr r;
	const uint8_t *m = frame_l4(cap_icmp_echo_request);
	size_t n = frame_l4_len(cap_icmp_echo_request);

	for (size_t len = 0; len < ICMPV4_HEADER_LEN; len++) {
		uint8_t *c = dup_exact(m, len);
		assert_int_equal(icmpv4_parse(c, len, WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
		free(c);
	}
	/* cut inside the data: the checksum no longer matches */
	for (size_t len = ICMPV4_HEADER_LEN; len < n; len++) {
		uint8_t *c = dup_exact(m, len);
		assert_int_equal(icmpv4_parse(c, len, WIRE_CSUM_VERIFY, &r), WIRE_BAD_CHECKSUM);
		free(c);
	}
	uint8_t *c = dup_exact(m, n);
	c[n - 1] ^= 0x40;
	assert_int_equal(icmpv4_parse(c, n, WIRE_CSUM_VERIFY, &r), WIRE_BAD_CHECKSUM);
	assert_int_equal(r.seq, 1); /* still filled */
	assert_int_equal(icmpv4_parse(c, n, WIRE_CSUM_IGNORE, &r), WIRE_OK);
	free(c);
}

static void test_frag_needed_and_param_problem(void **state)
{
	uint8_t buf[8 + 28];
	struct icmpv4_repr p;
	struct icmpv4_repr r = {.type = ICMPV4_DEST_UNREACH, .code = ICMPV4_UNREACH_FRAG_NEEDED, .rest = 1400,
				.data = frame_ip(cap_udp_data), .data_len = 28};

	assert_int_equal(icmpv4_emit(&r, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(icmpv4_parse(buf, sizeof(buf), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.next_mtu, 1400);
	assert_true(p.quote_has_ports);
	assert_int_equal(p.quote_src_port, 40000);

	r.type = ICMPV4_PARAM_PROBLEM;
	r.code = 0;
	r.rest = 9u << 24;
	assert_int_equal(icmpv4_emit(&r, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(icmpv4_parse(buf, sizeof(buf), WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.pointer, 9);

	char txt[300];
	struct strbuf sb;
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&p, &sb);
	assert_string_equal(txt, "ICMP parameter problem (12/0), pointer 9, quote 10.0.0.1 > 10.0.0.2 proto UDP "
				 "40000 > 9999, length 36");
}

static void test_print(void **state)
{
	char txt[300];
	struct strbuf sb;
	struct icmpv4_repr r;

	assert_int_equal(parse_frame(cap_icmp_echo_request, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&r, &sb);
	assert_string_equal(txt, "ICMP echo request, id 6407, seq 1, length 64");
	assert_int_equal(parse_frame(cap_icmp_port_unreach, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&r, &sb);
	assert_string_equal(txt, "ICMP port unreachable (3/3), quote 10.0.0.1 > 10.0.0.2 proto UDP 40001 > 9998, "
				 "length 42");
	assert_int_equal(parse_frame(cap_icmp_time_exceeded, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&r, &sb);
	assert_string_equal(txt, "ICMP time exceeded in-transit (11/0), quote 10.0.0.1 > 10.9.9.9 proto ICMP, length 92");
	/* every unreachable code has a name */
	for (uint8_t code = 0; code < 16; code++) {
		r.type = ICMPV4_DEST_UNREACH;
		r.code = code;
		strbuf_init(&sb, txt, sizeof(txt));
		icmpv4_print(&r, &sb);
		assert_not_contains(txt, "unknown code");
	}
	r.code = 16;
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&r, &sb);
	assert_contains(txt, "unknown code");
	r.type = 13; /* timestamp: not handled, still shown */
	r.code = 0;
	strbuf_init(&sb, txt, sizeof(txt));
	icmpv4_print(&r, &sb);
	assert_contains(txt, "ICMP type 13 code 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_port_unreachable_quote),
		cmocka_unit_test(test_time_exceeded_quote),
		cmocka_unit_test(test_tcp_quote_seq),
		cmocka_unit_test(test_short_quotes),
		cmocka_unit_test(test_round_trip_all_captured),
		cmocka_unit_test(test_emit_in_place),
		cmocka_unit_test(test_emit_echo_reply),
		cmocka_unit_test(test_truncation_and_checksum),
		cmocka_unit_test(test_frag_needed_and_param_problem),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
