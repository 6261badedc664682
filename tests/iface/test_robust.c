/* Hostile input: an interface fed random bytes and randomly mutated valid frames (every length, every
 * field) must never crash, leak a frame or stop answering; sanitizer builds check every access. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"
#include "smolxdp/mem.h"

static size_t valid_frame(uint8_t *buf, uint64_t *rng)
{
	static const struct eth_addr zero;
	uint8_t l4[256];
	uint32_t kind = smx_rand_below(rng, 5);
	size_t n;

	switch (kind) {
	case 0:
		return raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &zero, FIX_IP_A);
	case 1:
		return raw_build_udp(buf, FIX_IP_RAW, FIX_IP_A, 4000, (uint16_t)(smx_rand_below(rng, 3) ? 7 : 9),
				     (const uint8_t *)"payload-payload", 15);
	case 2: {
		struct icmpv4_repr r = {.type = ICMPV4_ECHO_REQUEST, .ident = 1, .seq = 2, .data = l4, .data_len = 40};
		n = icmpv4_emit(&r, l4, sizeof(l4));
		return raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, l4, n);
	}
	case 3: {
		/* an ICMP error quoting a datagram "we" sent */
		uint8_t quoted[64];
		size_t q = raw_build_udp(quoted, FIX_IP_A, FIX_IP_RAW, 7, 4000, (const uint8_t *)"x", 1);
		struct icmpv4_repr r = {.type = ICMPV4_DEST_UNREACH, .code = 3, .data = quoted + 14, .data_len = q - 14};
		n = icmpv4_emit(&r, l4, sizeof(l4));
		return raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, l4, n);
	}
	default: {
		struct tcp_repr t = {.src_port = 5, .dst_port = 80, .seq = 9, .flags = TCP_SYN,
				     .opts = {.has_mss = true, .mss = 1460}};
		n = tcp_emit(&t, FIX_IP_RAW, FIX_IP_A, l4, sizeof(l4));
		return raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_TCP, l4, n);
	}
	}
}

static void test_random_frames(void **state)
{
	struct fix f;
	uint8_t buf[1514];
	uint64_t rng = 12345;

	fix_init(&f, &(struct fix_opts){.raw_peer = true});
	struct udp_socket *s = fix_udp_socket(f.a, 7, 8, 8);
	fix_settle(&f);
	raw_drain(&f);
	for (int i = 0; i < 60000; i++) {
		size_t n;
		if (i % 4 == 0) {
			n = 1 + smx_rand_below(&rng, sizeof(buf));
			for (size_t k = 0; k < n; k++)
				buf[k] = (uint8_t)smx_rand_next(&rng);
			if (smx_rand_below(&rng, 2)) /* addressed to a, so it gets past the MAC check */
				memcpy(buf, FIX_MAC_A.b, 6);
		} else {
			n = valid_frame(buf, &rng);
			/* mutate a few bytes, and sometimes cut the frame short */
			for (uint32_t m = smx_rand_below(&rng, 4); m > 0; m--)
				buf[smx_rand_below(&rng, (uint32_t)n)] ^= (uint8_t)(1 + smx_rand_below(&rng, 255));
			if (smx_rand_below(&rng, 4) == 0)
				n = smx_rand_below(&rng, (uint32_t)n + 1);
		}
		raw_send(&f, buf, n);
		if (i % 8 == 0) {
			f.now += 1000;
			fix_settle(&f);
			raw_drain(&f);
			const uint8_t *view;
			size_t len;
			while (udp_socket_recv_view(s, &view, &len, NULL) == UDP_OK)
				assert_true(len <= 1472);
		}
	}
	fix_settle(&f);
	raw_drain(&f);
	/* Still answering, and every frame is back in the pool. */
	raw_introduce(&f);
	uint8_t l4[64];
	struct icmpv4_repr r = {.type = ICMPV4_ECHO_REQUEST, .ident = 77, .seq = 1, .data = l4 + 8, .data_len = 0};
	size_t n = icmpv4_emit(&r, l4, sizeof(l4));
	raw_send(&f, buf, raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, l4, n));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 1);
	const uint64_t *c = iface_counters(f.a);
	assert_true(c[IFACE_DROP_IPV4_BAD_CHECKSUM] > 0);
	assert_true(c[IFACE_DROP_ETH_NOT_FOR_US] > 0);
	assert_true(c[IFACE_ICMP_ECHO_REPLIES_SENT] > 0);
	fix_udp_free(s);
	iface_release(f.a);
	assert_int_equal(dev_loopback_free_frames(f.wire), f.frames);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
