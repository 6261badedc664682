/* ARP: captured request, reply and gratuitous ARP (arping -U); round trip; padding; every truncation;
 * other hardware/protocol types refused; impossible address lengths. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static const struct eth_addr MAC_A = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct eth_addr MAC_B = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct eth_addr MAC_ZERO = {{0}};

static void test_parse_captured(void **state)
{
	struct arp_repr a;

	assert_int_equal(arp_parse(cap_arp_request + 14, sizeof(cap_arp_request) - 14, &a), WIRE_OK);
	assert_int_equal(a.op, ARP_OP_REQUEST);
	assert_true(eth_addr_eq(&a.sha, &MAC_A));
	assert_int_equal(a.spa, IPV4_ADDR(10, 0, 0, 1));
	assert_true(eth_addr_eq(&a.tha, &MAC_ZERO));
	assert_int_equal(a.tpa, IPV4_ADDR(10, 0, 0, 2));
	assert_false(arp_is_gratuitous(&a));

	assert_int_equal(arp_parse(cap_arp_reply + 14, sizeof(cap_arp_reply) - 14, &a), WIRE_OK);
	assert_int_equal(a.op, ARP_OP_REPLY);
	assert_true(eth_addr_eq(&a.sha, &MAC_B));
	assert_int_equal(a.spa, IPV4_ADDR(10, 0, 0, 2));
	assert_true(eth_addr_eq(&a.tha, &MAC_A));
	assert_int_equal(a.tpa, IPV4_ADDR(10, 0, 0, 1));

	assert_int_equal(arp_parse(cap_arp_gratuitous + 14, sizeof(cap_arp_gratuitous) - 14, &a), WIRE_OK);
	assert_int_equal(a.op, ARP_OP_REQUEST);
	assert_int_equal(a.spa, IPV4_ADDR(10, 0, 0, 1));
	assert_int_equal(a.tpa, IPV4_ADDR(10, 0, 0, 1));
	assert_true(eth_addr_is_broadcast(&a.tha));
	assert_true(arp_is_gratuitous(&a));
}

static void test_round_trip(void **state)
{
	const uint8_t *frames[] = {cap_arp_request, cap_arp_reply, cap_arp_gratuitous};
	for (size_t i = 0; i < SMX_ARRAY_LEN(frames); i++) {
		struct arp_repr a;
		uint8_t out[ARP_LEN];
		assert_int_equal(arp_parse(frames[i] + 14, ARP_LEN, &a), WIRE_OK);
		assert_int_equal(arp_emit(&a, out, sizeof(out)), ARP_LEN);
		assert_memory_equal(out, frames[i] + 14, ARP_LEN);
		assert_int_equal(arp_emit(&a, out, ARP_LEN - 1), 0);
	}
}

static void test_padding_allowed(void **state)
{
	uint8_t f[ETH_MIN_FRAME] = {0};
	struct arp_repr a;

	memcpy(f, cap_arp_request, sizeof(cap_arp_request));
	assert_int_equal(arp_parse(f + 14, sizeof(f) - 14, &a), WIRE_OK);
	assert_int_equal(a.tpa, IPV4_ADDR(10, 0, 0, 2));
}

static void test_truncation(void **state)
{
	struct arp_repr a;

	for (size_t len = 0; len < ARP_LEN; len++) {
		uint8_t *c = dup_exact(cap_arp_reply + 14, len);
		assert_int_equal(arp_parse(c, len, &a), WIRE_TRUNCATED);
		free(c);
	}
}

static void test_unsupported_and_malformed(void **state)
{
	uint8_t p[ARP_LEN];
	struct arp_repr a;

	memcpy(p, cap_arp_request + 14, ARP_LEN);
	put_be16(p, 6); /* IEEE 802 hardware */
	assert_int_equal(arp_parse(p, ARP_LEN, &a), WIRE_UNSUPPORTED);
	memcpy(p, cap_arp_request + 14, ARP_LEN);
	put_be16(p + 2, ETH_TYPE_IPV6);
	assert_int_equal(arp_parse(p, ARP_LEN, &a), WIRE_UNSUPPORTED);
	memcpy(p, cap_arp_request + 14, ARP_LEN);
	p[4] = 8; /* hlen */
	assert_int_equal(arp_parse(p, ARP_LEN, &a), WIRE_MALFORMED);
	memcpy(p, cap_arp_request + 14, ARP_LEN);
	p[5] = 16; /* plen */
	assert_int_equal(arp_parse(p, ARP_LEN, &a), WIRE_MALFORMED);
}

static void test_print(void **state)
{
	char txt[200];
	struct strbuf sb;
	struct arp_repr a;

	assert_int_equal(arp_parse(cap_arp_request + 14, ARP_LEN, &a), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	arp_print(&a, &sb);
	assert_string_equal(txt, "ARP request who-has 10.0.0.2 tell 10.0.0.1 (02:00:00:00:00:01)");
	assert_int_equal(arp_parse(cap_arp_reply + 14, ARP_LEN, &a), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	arp_print(&a, &sb);
	assert_string_equal(txt, "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02 to 10.0.0.1 (02:00:00:00:00:01)");
	assert_int_equal(arp_parse(cap_arp_gratuitous + 14, ARP_LEN, &a), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	arp_print(&a, &sb);
	assert_string_equal(txt, "ARP request who-has 10.0.0.1 tell 10.0.0.1 (02:00:00:00:00:01) gratuitous");
	a.op = 9;
	strbuf_init(&sb, txt, sizeof(txt));
	arp_print(&a, &sb);
	assert_contains(txt, "ARP op 9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_padding_allowed),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_unsupported_and_malformed),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
