/* Ethernet II: captured frames' fields and round trip, 802.1Q tags, 802.3 refused, every truncation. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static const struct eth_addr MAC_A = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct eth_addr MAC_B = {{0x02, 0, 0, 0, 0, 0x02}};

static void test_parse_captured(void **state)
{
	struct eth_repr e;

	assert_int_equal(eth_parse(cap_arp_request, sizeof(cap_arp_request), &e), WIRE_OK);
	assert_true(eth_addr_is_broadcast(&e.dst));
	assert_true(eth_addr_eq(&e.src, &MAC_A));
	assert_int_equal(e.ethertype, ETH_TYPE_ARP);
	assert_false(e.vlan);
	assert_int_equal(e.header_len, 14);

	assert_int_equal(eth_parse(cap_tcp_synack, sizeof(cap_tcp_synack), &e), WIRE_OK);
	assert_true(eth_addr_eq(&e.dst, &MAC_A));
	assert_true(eth_addr_eq(&e.src, &MAC_B));
	assert_int_equal(e.ethertype, ETH_TYPE_IPV4);
	assert_false(eth_addr_is_multicast(&e.dst));
	assert_true(eth_addr_is_multicast(&ETH_ADDR_BROADCAST));
}

static void test_round_trip_all_captured(void **state)
{
	for (size_t i = 0; i < capture_frame_count; i++) {
		struct eth_repr e;
		uint8_t out[ETH_VLAN_HEADER_LEN];
		assert_int_equal(eth_parse(capture_frames[i].data, capture_frames[i].len, &e), WIRE_OK);
		assert_int_equal(eth_repr_len(&e), 14);
		assert_int_equal(eth_emit(&e, out, sizeof(out)), 14);
		assert_memory_equal(out, capture_frames[i].data, 14);
		assert_int_equal(eth_emit(&e, out, 13), 0); /* no room: nothing written */
	}
}

/* Insert an 802.1Q tag (VLAN 42, priority 5) into a captured frame. */
static size_t make_tagged(uint8_t *out, const uint8_t *frame, size_t len)
{
	memcpy(out, frame, 12);
	put_be16(out + 12, ETH_TYPE_VLAN);
	put_be16(out + 14, 5 << 13 | 42);
	memcpy(out + 16, frame + 12, len - 12);
	return len + 4;
}

static void test_vlan(void **state)
{
	uint8_t f[sizeof(cap_udp_data) + 4];
	size_t n = make_tagged(f, cap_udp_data, sizeof(cap_udp_data));
	struct eth_repr e;

	assert_int_equal(eth_parse(f, n, &e), WIRE_OK);
	assert_true(e.vlan);
	assert_int_equal(e.vlan_tci & 0xfff, 42);
	assert_int_equal(e.vlan_tci >> 13, 5);
	assert_int_equal(e.ethertype, ETH_TYPE_IPV4);
	assert_int_equal(e.header_len, 18);
	uint8_t out[18];
	assert_int_equal(eth_emit(&e, out, sizeof(out)), 18);
	assert_memory_equal(out, f, 18);
	assert_int_equal(eth_emit(&e, out, 17), 0);
	/* every truncation of the tag */
	for (size_t len = 14; len < 18; len++) {
		uint8_t *c = dup_exact(f, len);
		assert_int_equal(eth_parse(c, len, &e), WIRE_TRUNCATED);
		free(c);
	}
	char txt[200];
	struct strbuf sb;
	assert_int_equal(eth_parse(f, n, &e), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	eth_print(&e, &sb);
	assert_string_equal(txt, "02:00:00:00:00:01 > 02:00:00:00:00:02, vlan 42 p 5, ethertype IPv4 (0x0800)");
}

static void test_8023_unsupported(void **state)
{
	uint8_t f[60];
	struct eth_repr e;

	memcpy(f, cap_arp_request, 12);
	put_be16(f + 12, 46); /* an 802.3 length field */
	memset(f + 14, 0x42, sizeof(f) - 14);
	assert_int_equal(eth_parse(f, sizeof(f), &e), WIRE_UNSUPPORTED);
	assert_true(eth_addr_eq(&e.src, &MAC_A)); /* still filled */
	put_be16(f + 12, 0x05ff);
	assert_int_equal(eth_parse(f, sizeof(f), &e), WIRE_UNSUPPORTED);
	put_be16(f + 12, 0x0600); /* the first type value */
	assert_int_equal(eth_parse(f, sizeof(f), &e), WIRE_OK);
}

static void test_truncation(void **state)
{
	struct eth_repr e;

	for (size_t len = 0; len < ETH_HEADER_LEN; len++) {
		uint8_t *c = dup_exact(cap_arp_reply, len);
		assert_int_equal(eth_parse(c, len, &e), WIRE_TRUNCATED);
		free(c);
	}
	uint8_t *c = dup_exact(cap_arp_reply, ETH_HEADER_LEN);
	assert_int_equal(eth_parse(c, ETH_HEADER_LEN, &e), WIRE_OK); /* an empty payload is the caller's business */
	free(c);
}

static void test_print_and_names(void **state)
{
	char txt[200];
	struct strbuf sb;
	struct eth_repr e;

	assert_int_equal(eth_parse(cap_arp_gratuitous, sizeof(cap_arp_gratuitous), &e), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	eth_print(&e, &sb);
	assert_string_equal(txt, "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)");
	assert_string_equal(eth_type_name(ETH_TYPE_IPV4), "IPv4");
	assert_string_equal(eth_type_name(ETH_TYPE_IPV6), "IPv6");
	assert_null(eth_type_name(0x88cc));
	e.ethertype = 0x88cc;
	strbuf_init(&sb, txt, sizeof(txt));
	eth_print(&e, &sb);
	assert_contains(txt, "ethertype unknown (0x88cc)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_round_trip_all_captured),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_8023_unsupported),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_print_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
