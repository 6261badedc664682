/* UDP path MTU discovery (RFC 1191) against a raw peer playing a narrower hop: a "fragmentation
 * needed" quoting a datagram the socket sent lowers the path MTU to that destination (later datagrams
 * go as fragments of it, a dont_frag socket is refused larger ones, the socket is told); one quoting
 * anything else is ignored and counted (RFC 5927); no next-hop MTU takes RFC 1191's plateau; a tiny
 * one is clamped; after RFC 1191 6.3's ten minutes the interface's MTU is back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"

#define PEER_PORT 7000
#define OTHER_DST IPV4_ADDR(10, 0, 0, 8)

struct rx_ip {
	uint8_t buf[2048];
	size_t len;
	struct ipv4_repr ip;
};

/* The next IPv4 packet a sent to the raw peer (Ethernet stripped), or false if none. */
static bool recv_ip(struct fix *f, struct rx_ip *p)
{
	struct eth_repr eth;

	p->len = raw_recv(f, p->buf, sizeof(p->buf));
	if (p->len == 0)
		return false;
	assert_int_equal(eth_parse(p->buf, p->len, &eth), WIRE_OK);
	assert_int_equal(eth.ethertype, ETH_TYPE_IPV4);
	assert_int_equal(ipv4_parse(p->buf + 14, p->len - 14, WIRE_CSUM_VERIFY, &p->ip), WIRE_OK);
	return true;
}

/* An ICMP fragmentation needed from the raw peer (the hop) quoting `quote` (an IPv4 packet's first
 * bytes: header and 8 more, RFC 792). */
static void send_frag_needed(struct fix *f, const uint8_t *quote, size_t quote_len, uint16_t next_mtu)
{
	uint8_t l4[128], frame[256];
	struct icmpv4_repr r = {
		.type = ICMPV4_DEST_UNREACH,
		.code = ICMPV4_UNREACH_FRAG_NEEDED,
		.rest = next_mtu,
		.data = quote,
		.data_len = quote_len,
	};
	size_t n = icmpv4_emit(&r, l4, sizeof(l4));

	raw_send(f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, l4, n));
	fix_settle(f);
}

/* Sends len bytes from s to the peer and receives the packet(s): the first one in *p. */
static size_t send_and_count(struct fix *f, struct udp_socket *s, size_t len, struct rx_ip *p)
{
	static uint8_t data[4000];
	struct rx_ip more;
	size_t n = 0;

	memset(data, 0x5a, sizeof(data));
	assert_int_equal(udp_socket_send_to(s, data, len, FIX_IP_RAW, PEER_PORT), UDP_OK);
	fix_settle(f);
	if (!recv_ip(f, p))
		return 0;
	for (n = 1; recv_ip(f, &more); n++)
		assert_true(more.ip.total_len <= p->ip.total_len);
	return n;
}

static void test_frag_needed_lowers_path_mtu(void **state)
{
	struct fix f;
	struct rx_ip p;
	struct udp_error err;
	uint8_t quote[28];
	(void)state;

	fix_init_raw(&f, &(struct fix_opts){0});
	raw_introduce(&f);
	struct udp_socket *s = fix_udp_socket_cfg(f.a, 5000, &(struct udp_socket_config){.tx_slot_size = 4000});
	struct udp_socket *d = fix_udp_socket_cfg(f.a, 5001, &(struct udp_socket_config){.dont_frag = true});
	const struct udp_stats *st = fix_udp_stats(f.a);
	assert_int_equal(udp_socket_path_mtu(s, FIX_IP_RAW), 1500);

	/* Whole, with DF (RFC 1191 3). */
	assert_int_equal(send_and_count(&f, s, 1400, &p), 1);
	assert_true(p.ip.dont_frag);
	assert_int_equal(p.ip.total_len, 1428);

	/* A forgery: right ports, wrong checksum. Ignored, counted, not passed up. */
	memcpy(quote, p.buf + 14, sizeof(quote));
	quote[26] ^= 0xff;
	send_frag_needed(&f, quote, sizeof(quote), 1000);
	assert_int_equal(st->pmtu_unverified, 1);
	assert_int_equal(st->pmtu_reductions, 0);
	assert_int_equal(udp_socket_path_mtu(s, FIX_IP_RAW), 1500);
	assert_false(udp_socket_take_error(s, &err));
	/* A quote cut before the UDP length and checksum cannot be checked: ignored too. */
	send_frag_needed(&f, p.buf + 14, 24, 1000);
	assert_int_equal(st->pmtu_unverified, 2);

	/* The real one. */
	send_frag_needed(&f, p.buf + 14, 28, 1000);
	assert_int_equal(st->pmtu_reductions, 1);
	assert_int_equal(udp_socket_path_mtu(s, FIX_IP_RAW), 1000);
	assert_int_equal(udp_socket_path_mtu(s, OTHER_DST), 1500); /* that destination only */
	assert_true(udp_socket_take_error(s, &err));
	assert_int_equal(err.icmp_type, ICMPV4_DEST_UNREACH);
	assert_int_equal(err.icmp_code, ICMPV4_UNREACH_FRAG_NEEDED);
	assert_int_equal(err.remote_addr, FIX_IP_RAW);
	assert_int_equal(err.remote_port, PEER_PORT);
	assert_int_equal(err.next_mtu, 1000);

	/* Later datagrams: fragments of at most 1000 bytes, no DF; small ones whole. */
	assert_int_equal(send_and_count(&f, s, 1400, &p), 2);
	assert_true(p.ip.more_frags);
	assert_false(p.ip.dont_frag);
	assert_true(p.ip.total_len <= 1000);
	assert_int_equal(send_and_count(&f, s, 900, &p), 1);
	assert_true(p.ip.dont_frag);
	/* A dont_frag socket is refused what exceeds the path MTU (IP_PMTUDISC_DO's EMSGSIZE). */
	uint8_t big[1400] = {0};
	assert_int_equal(udp_socket_send_to(d, big, 1000 - 28 + 1, FIX_IP_RAW, PEER_PORT), UDP_ERR_TOO_BIG);
	assert_int_equal(send_and_count(&f, d, 1000 - 28, &p), 1);

	/* An MTU below 552 is taken as 552 (RFC 5927 7.2), quoting d's datagram just sent. */
	send_frag_needed(&f, p.buf + 14, 28, 100);
	assert_int_equal(udp_socket_path_mtu(d, FIX_IP_RAW), 552);
	assert_true(udp_socket_take_error(d, &err));
	assert_int_equal(err.next_mtu, 552);
	/* An ICMP never raises it. */
	send_frag_needed(&f, p.buf + 14, 28, 1400);
	assert_int_equal(udp_socket_path_mtu(d, FIX_IP_RAW), 552);
	assert_int_equal(st->pmtu_reductions, 2);

	/* RFC 1191 6.3: forgotten after ten minutes. */
	fix_advance(&f, 601ull * 1000000);
	assert_int_equal(udp_socket_path_mtu(s, FIX_IP_RAW), 1500);
	raw_introduce(&f); /* the peer's ARP entry has aged out meanwhile */
	assert_int_equal(send_and_count(&f, s, 1400, &p), 1);
	assert_true(p.ip.dont_frag);

	/* No next-hop MTU (an RFC 792 router): RFC 1191 7's plateau below 1428, 1006. */
	send_frag_needed(&f, p.buf + 14, 28, 0);
	assert_int_equal(udp_socket_path_mtu(s, FIX_IP_RAW), 1006);
	fix_udp_free(s);
	fix_udp_free(d);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frag_needed_lowers_path_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
