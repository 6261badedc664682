/* IPv4 and ICMP on virtual time against a raw peer: echo replies for every size up to the MTU, port and
 * protocol unreachable (rate-limited, never for broadcasts), errors delivered to the UDP socket they
 * concern, input checks counted per reason, and TCP without a handler refused with RST. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"

struct rx_pkt {
	uint8_t buf[2048];
	size_t len;
	struct eth_repr eth;
	struct ipv4_repr ip;
	const uint8_t *l4;
	size_t l4_len;
};

/* Receives one IPv4 frame from a and checks its headers. */
static void expect_ip(struct fix *f, struct rx_pkt *p, uint8_t proto)
{
	p->len = raw_recv(f, p->buf, sizeof(p->buf));
	assert_true(p->len > 0);
	assert_int_equal(eth_parse(p->buf, p->len, &p->eth), WIRE_OK);
	assert_int_equal(p->eth.ethertype, ETH_TYPE_IPV4);
	assert_true(eth_addr_eq(&p->eth.dst, &FIX_MAC_RAW));
	assert_int_equal(ipv4_parse(p->buf + 14, p->len - 14, WIRE_CSUM_VERIFY, &p->ip), WIRE_OK);
	assert_int_equal(p->ip.protocol, proto);
	assert_int_equal(p->ip.src, FIX_IP_A);
	assert_int_equal(p->ip.dst, FIX_IP_RAW);
	assert_int_equal(p->ip.ttl, 64);
	p->l4 = p->buf + 14 + p->ip.header_len;
	p->l4_len = ipv4_payload_len(&p->ip);
}

static void setup_raw(struct fix *f, const struct fix_opts *opts)
{
	fix_init_raw(f, opts);
	raw_introduce(f);
}

static size_t build_echo(uint8_t *buf, ipv4_addr dst, uint16_t ident, uint16_t seq, const uint8_t *data, size_t len)
{
	uint8_t l4[2048];
	struct icmpv4_repr r = {.type = ICMPV4_ECHO_REQUEST, .ident = ident, .seq = seq, .data = data, .data_len = len};
	size_t n = icmpv4_emit(&r, l4, sizeof(l4));
	return raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, dst, IP_PROTO_ICMP, l4, n);
}

static void test_echo_every_size(void **state)
{
	struct fix f;
	struct rx_pkt p;
	uint8_t data[1500], frame[2048];

	setup_raw(&f, &(struct fix_opts){0});
	size_t max = iface_mtu(f.a) - 20 - 8;
	assert_int_equal(max, 1472);
	for (size_t size = 0; size <= max; size++) {
		for (size_t i = 0; i < size; i++)
			data[i] = (uint8_t)(i * 7 + size);
		raw_send(&f, frame, build_echo(frame, FIX_IP_A, 0xbeef, (uint16_t)size, data, size));
		fix_settle(&f);
		expect_ip(&f, &p, IP_PROTO_ICMP);
		struct icmpv4_repr r;
		assert_int_equal(icmpv4_parse(p.l4, p.l4_len, WIRE_CSUM_VERIFY, &r), WIRE_OK);
		assert_int_equal(r.type, ICMPV4_ECHO_REPLY);
		assert_int_equal(r.code, 0);
		assert_int_equal(r.ident, 0xbeef);
		assert_int_equal(r.seq, size);
		assert_int_equal(r.data_len, size);
		assert_memory_equal(r.data, data, size);
	}
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), max + 1);
	assert_int_equal(raw_drain(&f), 0);

	/* A broadcast echo request is not answered. */
	raw_send(&f, frame, build_echo(frame, IPV4_ADDR(10, 0, 0, 255), 1, 1, data, 8));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ICMP_BROADCAST_ECHO), 1);
	fix_free(&f);
}

/* With no UDP handler registered, every port is closed, as with no TCP handler: a datagram is answered
 * with port unreachable (RFC 1122 4.1.3.1) and counted; only UDP and TCP plug in. */
static void test_udp_refused_without_handler(void **state)
{
	struct fix f;
	struct rx_pkt p;
	uint8_t frame[2048];
	struct icmpv4_repr r;
	struct l4_handler h = {0};

	setup_raw(&f, &(struct fix_opts){.no_udp = true});
	raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, (const uint8_t *)"x", 1));
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_ICMP);
	assert_int_equal(icmpv4_parse(p.l4, p.l4_len, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_DEST_UNREACH);
	assert_int_equal(r.code, ICMPV4_UNREACH_PORT);
	assert_int_equal(r.quote_dst_port, 9);
	assert_int_equal(fix_count(f.a, IFACE_DROP_UDP_NO_HANDLER), 1);
	assert_int_equal(fix_count(f.a, IFACE_UDP_RX_DATAGRAMS), 0);
	assert_false(iface_set_l4_handler(f.a, IP_PROTO_ICMP, &h));
	fix_free(&f);
}

static void test_port_unreachable(void **state)
{
	struct fix f;
	struct rx_pkt p;
	uint8_t frame[2048];
	struct icmpv4_repr r;

	setup_raw(&f, &(struct fix_opts){0});
	size_t n = raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, (const uint8_t *)"abcdefg", 7);
	raw_send(&f, frame, n);
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_ICMP);
	assert_int_equal(icmpv4_parse(p.l4, p.l4_len, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_DEST_UNREACH);
	assert_int_equal(r.code, ICMPV4_UNREACH_PORT);
	assert_true(r.has_quote);
	assert_true(r.quote_has_ports);
	assert_int_equal(r.quote_ip.src, FIX_IP_RAW);
	assert_int_equal(r.quote_ip.dst, FIX_IP_A);
	assert_int_equal(r.quote_src_port, 40000);
	assert_int_equal(r.quote_dst_port, 9);
	/* The whole offending datagram is quoted (it is under 576 bytes). */
	assert_int_equal(r.data_len, n - 14);
	assert_memory_equal(r.data, frame + 14, n - 14);
	assert_int_equal(fix_udp_stats(f.a)->rx_no_socket, 1);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_SENT), 1);

	/* Not for a broadcast datagram (RFC 1122 4.1.3.1). */
	n = raw_build_udp(frame, FIX_IP_RAW, IPV4_ADDR(10, 0, 0, 255), 40000, 9, (const uint8_t *)"x", 1);
	raw_send(&f, frame, n);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_udp_stats(f.a)->rx_no_socket, 2);

	/* A large datagram is quoted only up to 576 bytes of ICMP datagram. */
	uint8_t big[1000] = {0};
	raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, big, sizeof(big)));
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_ICMP);
	assert_int_equal(p.ip.total_len, 576);
	fix_free(&f);
}

static void test_error_rate_limit(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	uint8_t frame[2048];
	o.cfg_a.icmp_errors_per_sec = 10;
	setup_raw(&f, &o);
	for (int i = 0; i < 50; i++)
		raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, (uint16_t)(100 + i),
						  (const uint8_t *)"x", 1));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 10);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ICMP_RATE_LIMITED), 40);
	/* Tokens come back at 10 per second. */
	fix_advance(&f, 500000);
	for (int i = 0; i < 20; i++)
		raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, (const uint8_t *)"x", 1));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 5);
	fix_free(&f);
}

static void test_protocol_unreachable(void **state)
{
	struct fix f;
	struct rx_pkt p;
	uint8_t frame[2048], l4[16] = {1, 2, 3};
	struct icmpv4_repr r;

	setup_raw(&f, &(struct fix_opts){0});
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, 99, l4, sizeof(l4)));
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_ICMP);
	assert_int_equal(icmpv4_parse(p.l4, p.l4_len, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_DEST_UNREACH);
	assert_int_equal(r.code, ICMPV4_UNREACH_PROTO);
	assert_int_equal(r.quote_ip.protocol, 99);
	assert_int_equal(fix_count(f.a, IFACE_DROP_IPV4_UNKNOWN_PROTO), 1);
	fix_free(&f);
}

static void test_error_to_socket(void **state)
{
	struct fix f;
	struct udp_error err;

	fix_init(&f, &(struct fix_opts){0});
	struct udp_socket *s = fix_udp_socket(f.a, 0, 4, 4);
	fix_settle(&f);
	assert_false(udp_socket_take_error(s, &err));
	assert_int_equal(udp_socket_send_to(s, "abc", 3, FIX_IP_B, 9), UDP_OK);
	fix_settle(&f);
	assert_true(udp_socket_take_error(s, &err));
	assert_int_equal(err.icmp_type, ICMPV4_DEST_UNREACH);
	assert_int_equal(err.icmp_code, ICMPV4_UNREACH_PORT);
	assert_int_equal(err.remote_addr, FIX_IP_B);
	assert_int_equal(err.remote_port, 9);
	assert_false(udp_socket_take_error(s, &err));
	assert_int_equal(udp_socket_get_stats(s)->icmp_errors, 1);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_RECEIVED), 1);
	fix_udp_free(s);
	fix_free(&f);
}

static void test_ipv4_checks(void **state)
{
	struct fix f;
	uint8_t frame[2048], data[8] = {0};
	size_t n;

	setup_raw(&f, &(struct fix_opts){0});
	/* bad header checksum */
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	frame[14 + 10] ^= 0x55;
	raw_send(&f, frame, n);
	/* fragment (MF set): kept for reassembly, never completed here */
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	frame[14 + 6] |= 0x20;
	frame[14 + 10] = frame[14 + 11] = 0;
	put_be16(frame + 24, csum_finish(csum_add(0, frame + 14, 20)));
	raw_send(&f, frame, n);
	/* not for us */
	raw_send(&f, frame, build_echo(frame, IPV4_ADDR(10, 0, 0, 3), 1, 1, data, 8));
	/* truncated: total length beyond the frame */
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	raw_send(&f, frame, n - 4);
	/* bad ICMP checksum */
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	frame[n - 1] ^= 1;
	raw_send(&f, frame, n);
	/* an Ethernet frame for another MAC, and IPv6 */
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	frame[5] = 0x77;
	raw_send(&f, frame, n);
	n = build_echo(frame, FIX_IP_A, 1, 1, data, 8);
	put_be16(frame + 12, ETH_TYPE_IPV6);
	raw_send(&f, frame, n);
	/* with IP options: still answered (options skipped) */
	uint8_t l4[64];
	struct icmpv4_repr er = {.type = ICMPV4_ECHO_REQUEST, .ident = 5, .seq = 6, .data = data, .data_len = 8};
	size_t l4n = icmpv4_emit(&er, l4, sizeof(l4));
	static const uint8_t opts[4] = {1, 1, 1, 0}; /* NOP NOP NOP EOL */
	struct eth_repr eth = {.dst = FIX_MAC_A, .src = FIX_MAC_RAW, .ethertype = ETH_TYPE_IPV4};
	struct ipv4_repr ip = {.src = FIX_IP_RAW, .dst = FIX_IP_A, .protocol = IP_PROTO_ICMP, .ttl = 64,
			       .header_len = 24, .total_len = (uint16_t)(24 + l4n), .options = opts};
	n = eth_emit(&eth, frame, 14);
	n += ipv4_emit(&ip, frame + n, 24);
	memcpy(frame + n, l4, l4n);
	raw_send(&f, frame, n + l4n);
	fix_settle(&f);

	const uint64_t *c = iface_counters(f.a);
	assert_int_equal(c[IFACE_DROP_IPV4_BAD_CHECKSUM], 1);
	assert_int_equal(c[IFACE_FRAG_RX_FRAGMENTS], 1);
	assert_int_equal(c[IFACE_FRAG_REASSEMBLED], 0);
	assert_int_equal(c[IFACE_DROP_IPV4_NOT_FOR_US], 1);
	assert_int_equal(c[IFACE_DROP_IPV4_MALFORMED], 1);
	assert_int_equal(c[IFACE_DROP_ICMP_BAD_CHECKSUM], 1);
	assert_int_equal(c[IFACE_DROP_ETH_NOT_FOR_US], 1);
	assert_int_equal(c[IFACE_DROP_ETH_UNKNOWN_TYPE], 1);
	assert_int_equal(c[IFACE_ICMP_ECHO_REPLIES_SENT], 1);
	assert_int_equal(raw_drain(&f), 1);
	/* every counter has a name */
	for (int i = 0; i < IFACE_COUNTER_COUNT; i++)
		assert_non_null(iface_counter_name((enum iface_counter)i));
	assert_string_equal(iface_counter_name(IFACE_DROP_FRAG_OVERLAP), "drop_frag_overlap");
	fix_free(&f);
}

static void test_tcp_refused_without_handler(void **state)
{
	struct fix f;
	struct rx_pkt p;
	uint8_t frame[2048], l4[64];
	struct tcp_repr syn = {.src_port = 40001, .dst_port = 80, .seq = 1000, .flags = TCP_SYN, .window = 1000};
	struct tcp_repr rst;

	setup_raw(&f, &(struct fix_opts){0});
	size_t n = tcp_emit(&syn, FIX_IP_RAW, FIX_IP_A, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_TCP, l4, n));
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_TCP);
	assert_int_equal(tcp_parse(p.l4, p.l4_len, p.ip.src, p.ip.dst, WIRE_CSUM_VERIFY, &rst), WIRE_OK);
	assert_int_equal(rst.flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.ack, 1001);
	assert_int_equal(rst.seq, 0);
	assert_int_equal(rst.src_port, 80);
	assert_int_equal(rst.dst_port, 40001);
	/* An ACK segment gets <SEQ=SEG.ACK><CTL=RST>; a RST gets nothing. */
	struct tcp_repr ack = {.src_port = 40001, .dst_port = 80, .seq = 5, .ack = 777, .flags = TCP_ACK};
	n = tcp_emit(&ack, FIX_IP_RAW, FIX_IP_A, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_TCP, l4, n));
	fix_settle(&f);
	expect_ip(&f, &p, IP_PROTO_TCP);
	assert_int_equal(tcp_parse(p.l4, p.l4_len, p.ip.src, p.ip.dst, WIRE_CSUM_VERIFY, &rst), WIRE_OK);
	assert_int_equal(rst.flags, TCP_RST);
	assert_int_equal(rst.seq, 777);
	ack.flags = TCP_RST;
	n = tcp_emit(&ack, FIX_IP_RAW, FIX_IP_A, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_TCP, l4, n));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_TCP_RST_SENT), 2);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TCP_NO_HANDLER), 3);
	fix_free(&f);
}

/* A fake TCP: what the interface hands it and when it asks. */
struct fake_tcp {
	int inputs;
	int outputs;
	size_t last_len;
	smx_instant due;
	bool send_one;
};

static enum l4_rx fake_input(void *ctx, smx_instant now, const struct ipv4_repr *ip, const uint8_t *l4,
			      size_t len, enum wire_csum csum, const struct ip_sender *tx)
{
	struct fake_tcp *t = ctx;
	t->inputs++;
	t->last_len = len;
	t->send_one = true;
	return L4_RX_DONE;
}

static bool fake_output(void *ctx, smx_instant now, const struct ip_sender *tx)
{
	struct fake_tcp *t = ctx;
	struct ip_tx ipt;
	t->outputs++;
	if (!t->send_one)
		return false;
	t->send_one = false;
	assert_int_equal(tx->begin(tx->ctx, 0, FIX_IP_RAW, IP_PROTO_TCP, 20, &ipt), IP_TX_OK);
	assert_int_equal(ipt.src, FIX_IP_A);
	memset(ipt.l4, 0x42, 20);
	tx->commit(tx->ctx, &ipt, 20);
	return true;
}

static smx_instant fake_poll_at(void *ctx, smx_instant now)
{
	return ((struct fake_tcp *)ctx)->due;
}

static void test_tcp_handler(void **state)
{
	struct fix f;
	struct rx_pkt p;
	struct fake_tcp t = {.due = SMX_INSTANT_NEVER};
	struct l4_handler h = {.ctx = &t, .input = fake_input, .output = fake_output, .poll_at = fake_poll_at};
	uint8_t frame[2048], l4[64];

	setup_raw(&f, &(struct fix_opts){0});
	iface_set_l4_handler(f.a, IP_PROTO_TCP, &h);
	assert_int_equal(iface_poll_delay(f.a, f.now), SMX_INSTANT_NEVER);
	t.due = f.now + 5000;
	assert_int_equal(iface_poll_delay(f.a, f.now), 5000);
	struct tcp_repr syn = {.src_port = 40001, .dst_port = 80, .seq = 1000, .flags = TCP_SYN};
	size_t n = tcp_emit(&syn, FIX_IP_RAW, FIX_IP_A, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_TCP, l4, n));
	fix_settle(&f);
	assert_int_equal(t.inputs, 1);
	assert_int_equal(t.last_len, n);
	assert_true(t.outputs >= 1);
	expect_ip(&f, &p, IP_PROTO_TCP);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.l4[0], 0x42);
	assert_int_equal(fix_count(f.a, IFACE_TCP_RST_SENT), 0);
	fix_free(&f);
}

/* RFC 1122 3.2.1.3: nothing is ever sent to 0.0.0.0, 127/8, multicast or class E, even with a gateway
 * that would take it: not an echo reply or RST to a booting host's 0.0.0.0, not a datagram. */
static void test_no_send_to_unroutable(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	struct rx_pkt p;
	uint8_t frame[2048], l4[64], data[8] = {0};

	o.cfg_a.gateway = FIX_IP_RAW;
	setup_raw(&f, &o);
	struct icmpv4_repr er = {.type = ICMPV4_ECHO_REQUEST, .ident = 1, .seq = 1, .data = data, .data_len = 8};
	size_t n = icmpv4_emit(&er, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, 0, FIX_IP_A, IP_PROTO_ICMP, l4, n));
	struct tcp_repr syn = {.src_port = 40001, .dst_port = 80, .seq = 1000, .flags = TCP_SYN};
	n = tcp_emit(&syn, 0, FIX_IP_A, l4, sizeof(l4));
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, 0, FIX_IP_A, IP_PROTO_TCP, l4, n));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 0);
	assert_int_equal(fix_count(f.a, IFACE_TCP_RST_SENT), 0);

	struct udp_socket *s = fix_udp_socket(f.a, 5000, 4, 4);
	static const ipv4_addr bad[] = {IPV4_ADDR(127, 0, 0, 1), IPV4_ADDR(0, 1, 2, 3), IPV4_ADDR(224, 0, 0, 1),
					IPV4_ADDR(239, 1, 1, 1), IPV4_ADDR(240, 0, 0, 1)};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(udp_socket_send_to(s, "x", 1, bad[i], 7), UDP_ERR_NO_ROUTE);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	/* An off-link unicast address still goes via the gateway. */
	assert_int_equal(udp_socket_send_to(s, "x", 1, IPV4_ADDR(8, 8, 8, 8), 7), UDP_OK);
	fix_settle(&f);
	p.len = raw_recv(&f, p.buf, sizeof(p.buf));
	assert_true(p.len > 0);
	assert_int_equal(eth_parse(p.buf, p.len, &p.eth), WIRE_OK);
	assert_true(eth_addr_eq(&p.eth.dst, &FIX_MAC_RAW));
	fix_udp_free(s);
	fix_free(&f);
}

/* A loopback source is a martian (RFC 1122 3.2.1.3): dropped, never delivered. A class E source is no
 * single host (RFC 1122 3.2.2): no ICMP error is even attempted about its datagrams. */
static void test_martian_sources(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	uint8_t frame[2048];

	o.cfg_a.gateway = FIX_IP_RAW;
	setup_raw(&f, &o);
	struct udp_socket *s = fix_udp_socket(f.a, 6969, 4, 4);
	raw_send(&f, frame, raw_build_udp(frame, IPV4_ADDR(127, 0, 0, 1), FIX_IP_A, 40000, 6969,
					  (const uint8_t *)"abc", 3));
	fix_settle(&f);
	assert_int_equal(udp_socket_rx_queued(s), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_IPV4_BAD_SOURCE), 1);
	raw_send(&f, frame, raw_build_udp(frame, IPV4_ADDR(240, 0, 0, 1), FIX_IP_A, 40000, 9,
					  (const uint8_t *)"abc", 3));
	fix_settle(&f);
	assert_int_equal(fix_udp_stats(f.a)->rx_no_socket, 1);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_SENT), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_ROUTE), 0);
	assert_int_equal(raw_drain(&f), 0);
	/* The same datagram from a unicast source does get its error. */
	raw_send(&f, frame, raw_build_udp(frame, IPV4_ADDR(8, 8, 8, 8), FIX_IP_A, 40000, 9,
					  (const uint8_t *)"abc", 3));
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_SENT), 1);
	assert_int_equal(raw_drain(&f), 1);
	fix_udp_free(s);
	fix_free(&f);
}

/* An echo reply that finds no transmit frame is given up and counted as such. */
static void test_echo_reply_no_frame(void **state)
{
	struct fix f;
	struct dev_frame held[256];
	uint8_t frame[2048], data[8] = {0};
	size_t nheld = 0;

	setup_raw(&f, &(struct fix_opts){0});
	/* Take every frame of the shared pool but one, which carries the request. */
	while (dev_loopback_free_frames(f.wire) > 1)
		assert_true(dev_tx_reserve(f.dev_a, &held[nheld++], f.now));
	raw_send(&f, frame, build_echo(frame, FIX_IP_A, 7, 1, data, sizeof(data)));
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_FRAME), 1);
	for (size_t i = 0; i < nheld; i++)
		dev_tx_abort(f.dev_a, &held[i]);
	assert_int_equal(raw_drain(&f), 0);
	raw_send(&f, frame, build_echo(frame, FIX_IP_A, 7, 2, data, sizeof(data)));
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_FRAME), 1);
	fix_free(&f);
}

/* Errors that find no transmit frame are not sent, so they must not use up the rate limit's tokens. */
static void test_error_no_frame_keeps_tokens(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	struct dev_frame held[256];
	uint8_t frame[2048];
	size_t nheld = 0;

	o.cfg_a.icmp_errors_per_sec = 2;
	setup_raw(&f, &o);
	/* Every frame of the shared pool but one, which carries each datagram in and is back after. */
	while (dev_loopback_free_frames(f.wire) > 1)
		assert_true(dev_tx_reserve(f.dev_a, &held[nheld++], f.now));
	for (int i = 0; i < 5; i++) {
		raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, (const uint8_t *)"x", 1));
		fix_settle(&f);
	}
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_NO_FRAME), 5);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_SENT), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ICMP_RATE_LIMITED), 0);
	for (size_t i = 0; i < nheld; i++)
		dev_tx_abort(f.dev_a, &held[i]);
	/* Same instant, so no refill: both tokens are still there, and only a third error is limited. */
	for (int i = 0; i < 3; i++)
		raw_send(&f, frame, raw_build_udp(frame, FIX_IP_RAW, FIX_IP_A, 40000, 9, (const uint8_t *)"x", 1));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 2);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ERRORS_SENT), 2);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ICMP_RATE_LIMITED), 1);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_every_size),
		cmocka_unit_test(test_port_unreachable),
		cmocka_unit_test(test_udp_refused_without_handler),
		cmocka_unit_test(test_error_rate_limit),
		cmocka_unit_test(test_protocol_unreachable),
		cmocka_unit_test(test_error_to_socket),
		cmocka_unit_test(test_ipv4_checks),
		cmocka_unit_test(test_tcp_refused_without_handler),
		cmocka_unit_test(test_tcp_handler),
		cmocka_unit_test(test_no_send_to_unroutable),
		cmocka_unit_test(test_martian_sources),
		cmocka_unit_test(test_echo_reply_no_frame),
		cmocka_unit_test(test_error_no_frame_keeps_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
