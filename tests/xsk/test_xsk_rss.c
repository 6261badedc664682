/* RSS as the NIC computes it: the Toeplitz hash against the published verification vectors
 * (Microsoft's "Verifying the RSS Hash Calculation", also the Intel 82599 datasheet's 7.1.2.8.3), the
 * queue from the indirection table, and the port choice that brings replies to a given queue; and
 * that reading an interface without it is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "smolxdp/xsk_log.h"
#include "smolxdp/xsk_rss.h"

static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const struct {
	ipv4_addr src, dst;
	uint16_t sport, dport;
	uint32_t ip_only, with_ports;
} vectors[] = {
	{ IPV4_ADDR(66, 9, 149, 187), IPV4_ADDR(161, 142, 100, 80), 2794, 1766, 0x323e8fc2, 0x51ccc178 },
	{ IPV4_ADDR(199, 92, 111, 2), IPV4_ADDR(65, 69, 140, 83), 14230, 4739, 0xd718262a, 0xc626b0ea },
	{ IPV4_ADDR(24, 19, 198, 95), IPV4_ADDR(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
	{ IPV4_ADDR(38, 27, 205, 30), IPV4_ADDR(209, 142, 163, 6), 48228, 2217, 0x82989176, 0xafc7327f },
	{ IPV4_ADDR(153, 39, 163, 191), IPV4_ADDR(202, 188, 127, 2), 44251, 1303, 0x5d1809c5, 0x10e828a2 },
};

static void ms_rss(struct xsk_rss *rss, uint32_t queues)
{
	memset(rss, 0, sizeof(*rss));
	memcpy(rss->key, ms_key, sizeof(ms_key));
	rss->key_len = sizeof(ms_key);
	rss->indir_len = 128;
	for (uint32_t i = 0; i < rss->indir_len; i++)
		rss->indir[i] = i % queues; /* ethtool's default spread */
}

static void test_vectors(void **state)
{
	static struct xsk_rss rss;

	(void)state;
	ms_rss(&rss, 4);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t ips[8] = {
			(uint8_t)(vectors[i].src >> 24), (uint8_t)(vectors[i].src >> 16), (uint8_t)(vectors[i].src >> 8),
			(uint8_t)vectors[i].src, (uint8_t)(vectors[i].dst >> 24), (uint8_t)(vectors[i].dst >> 16),
			(uint8_t)(vectors[i].dst >> 8), (uint8_t)vectors[i].dst,
		};
		assert_int_equal(xsk_rss_toeplitz(ms_key, sizeof(ms_key), ips, sizeof(ips)), vectors[i].ip_only);
		assert_int_equal(xsk_rss_hash_ipv4(&rss, vectors[i].src, vectors[i].dst, vectors[i].sport,
						   vectors[i].dport),
				 vectors[i].with_ports);
	}
}

/* For each of 4 queues, a port whose reply hashes there: checked by computing the reply's hash. */
static void test_pick_port(void **state)
{
	static struct xsk_rss rss;
	ipv4_addr us = IPV4_ADDR(10, 0, 0, 1), them = IPV4_ADDR(10, 0, 0, 2);

	(void)state;
	ms_rss(&rss, 4);
	for (uint32_t q = 0; q < 4; q++) {
		for (uint32_t seed = 0; seed < 50; seed += 7) {
			uint16_t p = xsk_rss_pick_port(&rss, us, them, 443, q, 49152, 65535, seed);

			assert_true(p >= 49152);
			assert_int_equal(xsk_rss_queue(&rss, xsk_rss_hash_ipv4(&rss, them, us, 443, p)), q);
		}
	}
	/* A queue the table never names: no port. */
	assert_int_equal(xsk_rss_pick_port(&rss, us, them, 443, 7, 49152, 65535, 0), 0);
	assert_int_equal(xsk_rss_pick_port(&rss, us, them, 443, 0, 10, 9, 0), 0);
}

static void test_read_refused(void **state)
{
	static struct xsk_rss rss;

	(void)state;
	/* No such interface: a clear refusal naming it, never a made-up table. (The unit test stays off
	 * the host's own interfaces; veth's refusal is what smolxdp meets in the integration tests.) */
	assert_true(xsk_rss_read("smx-no-such-if", &rss) < 0);
	assert_non_null(strstr(xsk_last_error(), "smx-no-such-if"));
	assert_int_equal(rss.indir_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_pick_port),
		cmocka_unit_test(test_read_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
