/* frame_print, the one-line decoder smolxdp-dump uses: every layer of every captured frame; every
 * truncation named; bad checksums shown with the expected value; unknown ethertypes and protocols,
 * 802.3, VLAN, malformed headers and fragments shown for what they are, never skipped. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static void test_captured_frames_exact(void **state)
{
	assert_string_equal(print_frame(cap_tcp_syn, sizeof(cap_tcp_syn)),
			    "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 74: "
			    "IPv4 10.0.0.1 > 10.0.0.2, tos 0x0, ttl 64, id 46388, offset 0, flags [DF], proto TCP (6), "
			    "hlen 20, length 60: TCP 35622 > 8080 Flags [S], seq 3671189790, win 64240, "
			    "options [mss 1460,sackOK,TS val 1951051127 ecr 0,wscale 10], length 0");
	assert_string_equal(print_frame(cap_arp_reply, sizeof(cap_arp_reply)),
			    "02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: "
			    "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02 to 10.0.0.1 (02:00:00:00:00:01)");
	assert_string_equal(print_frame(cap_udp_data, sizeof(cap_udp_data)),
			    "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 48: "
			    "IPv4 10.0.0.1 > 10.0.0.2, tos 0x0, ttl 64, id 53956, offset 0, flags [DF], proto UDP (17), "
			    "hlen 20, length 34: UDP 40000 > 9999, length 6");
	assert_contains(print_frame(cap_icmp_echo_reply, sizeof(cap_icmp_echo_reply)),
			": ICMP echo reply, id 6407, seq 1, length 64");
	assert_contains(print_frame(cap_tcp_get, sizeof(cap_tcp_get)),
			"TCP 35622 > 8080 Flags [P.], seq 3671189791, ack 2770931119, win 63, "
			"options [TS val 1951051128 ecr 2195645718], length 77");
	assert_contains(print_frame(cap_tcp_rst, sizeof(cap_tcp_rst)), "Flags [R.], seq 0, ack 3206682905, win 0");
	assert_contains(print_frame(cap_icmp_time_exceeded, sizeof(cap_icmp_time_exceeded)),
			"ICMP time exceeded in-transit (11/0), quote 10.0.0.1 > 10.9.9.9 proto ICMP");
}

static void test_captured_frames_clean(void **state)
{
	for (size_t i = 0; i < capture_frame_count; i++) {
		const char *t = print_frame(capture_frames[i].data, capture_frames[i].len);
		assert_not_contains(t, "truncated");
		assert_not_contains(t, "bad checksum");
		assert_not_contains(t, "malformed");
		assert_not_contains(t, "not decoded");
	}
}

/* Every prefix of every captured frame, in an exact-size buffer: named truncated, no over-read. */
static void test_every_truncation(void **state)
{
	for (size_t i = 0; i < capture_frame_count; i++) {
		for (size_t len = 0; len < capture_frames[i].len; len++) {
			uint8_t *c = dup_exact(capture_frames[i].data, len);
			const char *t = print_frame(c, len);
			if (strstr(t, "truncated") == NULL)
				fail_msg("%s cut to %zu bytes: %s", capture_frames[i].name, len, t);
			free(c);
		}
	}
}

static char *hex4(uint16_t v)
{
	static char out[8];
	struct strbuf sb;
	strbuf_init(&sb, out, sizeof(out));
	strbuf_hex(&sb, v, 4);
	return out;
}

/* A damaged checksum field: shown, with the value it should have (the captured one). A damaged byte
 * elsewhere (flip_off): shown as a bad checksum too. */
static void expect_bad_csum(const uint8_t *f, size_t n, size_t csum_off, size_t flip_off)
{
	uint8_t *c = dup_exact(f, n);
	char want[64] = "bad checksum 0x";

	c[csum_off + 1] ^= 0x01;
	strcat(want, hex4(get_be16(c + csum_off)));
	strcat(want, " (expected 0x");
	strcat(want, hex4(get_be16(f + csum_off)));
	strcat(want, ")");
	assert_contains(print_frame(c, n), want);
	memcpy(c, f, n);
	c[flip_off] ^= 0x01;
	assert_contains(print_frame(c, n), "bad checksum 0x");
	free(c);
}

static void test_bad_checksums(void **state)
{
	/* IP header (TTL changed), then each transport's payload */
	expect_bad_csum(cap_tcp_get, sizeof(cap_tcp_get), 14 + 10, 14 + 8);
	expect_bad_csum(cap_tcp_get, sizeof(cap_tcp_get), 34 + 16, sizeof(cap_tcp_get) - 1);
	expect_bad_csum(cap_udp_data, sizeof(cap_udp_data), 34 + 6, sizeof(cap_udp_data) - 2);
	expect_bad_csum(cap_icmp_echo_request, sizeof(cap_icmp_echo_request), 34 + 2, 60);
	expect_bad_csum(cap_icmp_port_unreach, sizeof(cap_icmp_port_unreach), 34 + 2, 34 + 8 + 20 + 9);
	/* the layers after a bad IP checksum are still decoded */
	uint8_t *c = dup_exact(cap_tcp_get, sizeof(cap_tcp_get));
	c[14 + 8] = 1;
	assert_contains(print_frame(c, sizeof(cap_tcp_get)), "TCP 35622 > 8080 Flags [P.]");
	free(c);
}

static void test_unknown_types(void **state)
{
	uint8_t f[60];

	memcpy(f, cap_arp_request, sizeof(cap_arp_request));
	memset(f + sizeof(cap_arp_request), 0, sizeof(f) - sizeof(cap_arp_request));
	put_be16(f + 12, 0x88cc); /* LLDP */
	const char *t = print_frame(f, sizeof(f));
	assert_contains(t, "ethertype unknown (0x88cc), length 60: ethertype 0x88cc not decoded, 46 bytes");
	put_be16(f + 12, ETH_TYPE_IPV6);
	t = print_frame(f, sizeof(f));
	assert_contains(t, "ethertype IPv6 (0x86dd), length 60: ethertype 0x86dd not decoded, 46 bytes");
	put_be16(f + 12, 46); /* 802.3 length */
	t = print_frame(f, sizeof(f));
	assert_contains(t, "802.3 length 46, length 60: not decoded");

	/* an IP protocol we do not decode (GRE), with a correct header checksum */
	uint8_t g[sizeof(cap_udp_data)];
	memcpy(g, cap_udp_data, sizeof(g));
	uint16_t old_word = get_be16(g + 14 + 8);
	g[14 + 9] = 47;
	put_be16(g + 14 + 10, csum_update16(get_be16(g + 14 + 10), old_word, get_be16(g + 14 + 8)));
	t = print_frame(g, sizeof(g));
	assert_contains(t, "proto unknown (47), hlen 20, length 34: proto 47 not decoded, 14 bytes");
	assert_not_contains(t, "bad checksum");
	/* ARP for another hardware type */
	memcpy(f, cap_arp_request, sizeof(cap_arp_request));
	put_be16(f + 14, 6);
	assert_contains(print_frame(f, sizeof(cap_arp_request)), "ARP unsupported (htype 6, ptype 0x0800)");
	memcpy(f, cap_arp_request, sizeof(cap_arp_request));
	f[14 + 4] = 8;
	assert_contains(print_frame(f, sizeof(cap_arp_request)), "ARP malformed (hlen 8, plen 4)");
}

static void test_malformed_and_fragments(void **state)
{
	uint8_t f[sizeof(cap_tcp_syn)];

	memcpy(f, cap_tcp_syn, sizeof(f));
	f[14] = 0x43;
	assert_contains(print_frame(f, sizeof(f)), "IPv4 malformed (version 4, ihl 3, total length 60)");
	memcpy(f, cap_tcp_syn, sizeof(f));
	f[14] = 0x65;
	assert_contains(print_frame(f, sizeof(f)), "IPv4 malformed (version 6");
	memcpy(f, cap_tcp_syn, sizeof(f));
	f[34 + 12] = 0x40; /* data offset 4 */
	assert_contains(print_frame(f, sizeof(f)), "TCP 35622 > 8080 malformed (data offset 4)");
	memcpy(f, cap_tcp_syn, sizeof(f));
	f[34 + 21] = 0; /* MSS option length 0 */
	assert_contains(print_frame(f, sizeof(f)), "TCP 35622 > 8080 malformed (data offset 10, bad options)");
	memcpy(f, cap_tcp_syn, sizeof(f));
	f[34 + 12] = 0xf0; /* data offset 15: past the segment */
	assert_contains(print_frame(f, sizeof(f)), "TCP truncated (40 of 60 bytes)");

	/* a UDP length below its header */
	uint8_t u[sizeof(cap_udp_data)];
	memcpy(u, cap_udp_data, sizeof(u));
	put_be16(u + 34 + 4, 7);
	assert_contains(print_frame(u, sizeof(u)), "UDP 40000 > 9999 malformed (length 7)");

	/* fragments: first (MF) decodes the transport header without checking its checksum */
	uint8_t *ip = u + 14;
	memcpy(u, cap_udp_data, sizeof(u));
	uint16_t old = get_be16(ip + 6);
	put_be16(ip + 6, 0x2000);
	put_be16(ip + 10, csum_update16(get_be16(ip + 10), old, 0x2000));
	put_be16(u + 34 + 6, 0x1234); /* would be a bad checksum if it were checked */
	const char *t = print_frame(u, sizeof(u));
	assert_contains(t, "flags [+]");
	assert_contains(t, ", fragment: UDP 40000 > 9999");
	assert_not_contains(t, "bad checksum");
	put_be16(ip + 6, 0x0001);
	put_be16(ip + 10, csum_update16(get_be16(ip + 10), 0x2000, 0x0001));
	t = print_frame(u, sizeof(u));
	assert_contains(t, "offset 8, flags [none]");
	assert_contains(t, ", fragment: 14 bytes (not first fragment)");
	assert_not_contains(t, "UDP 40000");
}

static void test_padding_and_vlan(void **state)
{
	uint8_t f[ETH_MIN_FRAME];

	memset(f, 0, sizeof(f));
	memcpy(f, cap_tcp_rst, sizeof(cap_tcp_rst));
	const char *t = print_frame(f, sizeof(f));
	assert_contains(t, "length 60: IPv4");
	assert_contains(t, "Flags [R.], seq 0, ack 3206682905, win 0, length 0");
	assert_not_contains(t, "bad checksum");

	uint8_t v[sizeof(cap_tcp_synack) + 4];
	memcpy(v, cap_tcp_synack, 12);
	put_be16(v + 12, ETH_TYPE_VLAN);
	put_be16(v + 14, 100);
	memcpy(v + 16, cap_tcp_synack + 12, sizeof(cap_tcp_synack) - 12);
	t = print_frame(v, sizeof(v));
	assert_contains(t, "vlan 100 p 0, ethertype IPv4 (0x0800), length 78: IPv4 10.0.0.2 > 10.0.0.1");
	assert_contains(t, "Flags [S.]");
	assert_contains(print_frame(v, 16), "802.1Q truncated (16 of 18 bytes)");
}

/* A small output buffer cuts the line and stays NUL-terminated; nothing written past it. */
static void test_small_output(void **state)
{
	for (size_t cap = 1; cap < 64; cap++) {
		char *out = malloc(cap);
		struct strbuf sb;
		strbuf_init(&sb, out, cap);
		frame_print(cap_tcp_syn, sizeof(cap_tcp_syn), &sb);
		assert_int_equal(strlen(out), cap - 1);
		assert_int_equal(sb.len, cap - 1);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_frames_exact),
		cmocka_unit_test(test_captured_frames_clean),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_bad_checksums),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_malformed_and_fragments),
		cmocka_unit_test(test_padding_and_vlan),
		cmocka_unit_test(test_small_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
