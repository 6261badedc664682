/* IPv4 fragments on virtual time: reassembly (RFC 791, RFC 815) of fragment sets in order, reversed,
 * shuffled, duplicated and interleaved from several sources; the hostile ones dropped and counted
 * (overlap, tiny first fragment, past 65,535 bytes, malformed, a flood of incomplete datagrams); the
 * timeout and its ICMP time exceeded (RFC 1122 3.3.2); reassembled datagrams as zero-copy views that
 * outlive a poll; and fragmentation on send (UDP over the MTU, echo replies to large pings): offsets,
 * MF, no DF, one ID per datagram (RFC 6864), dont_frag refusing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"

#define SEC 1000000ull
#define FIX_IP_RAW2 IPV4_ADDR(10, 0, 0, 10)

struct frag {
	uint16_t off;
	uint16_t len;
	bool more;
};

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 8));
}

/* Splits a payload of len bytes into fragments of per bytes (a multiple of 8). */
static size_t split(struct frag *fr, size_t len, size_t per)
{
	size_t n = 0;
	for (size_t off = 0; off < len; off += per, n++) {
		fr[n].off = (uint16_t)off;
		fr[n].len = (uint16_t)SMX_MIN(per, len - off);
		fr[n].more = off + per < len;
	}
	return n;
}

static void send_frag(struct fix *f, ipv4_addr src, uint8_t proto, uint16_t ident, const uint8_t *l4,
		      const struct frag *fr)
{
	static uint8_t frame[2048];
	raw_send(f, frame, raw_build_frag(frame, src, proto, ident, fr->off, fr->more, l4 + fr->off, fr->len));
}

/* An echo request's ICMP message (header + data) in l4; returns its length. */
static size_t build_echo_l4(uint8_t *l4, size_t cap, uint16_t seq, const uint8_t *data, size_t len)
{
	struct icmpv4_repr r = {.type = ICMPV4_ECHO_REQUEST, .ident = 0x4242, .seq = seq, .data = data, .data_len = len};
	return icmpv4_emit(&r, l4, cap);
}

/* Collects what a sent to the raw peer and reassembles it (checking every fragment's fields):
 * returns the payload length, 0 if nothing came; *frags says how many frames it took. */
static size_t collect(struct fix *f, uint8_t *out, size_t cap, size_t *frags, struct ipv4_repr *first)
{
	uint8_t buf[2048];
	size_t len, total = 0, got = 0, n = 0;
	bool have_last = false;
	uint16_t ident = 0;

	while ((len = raw_recv(f, buf, sizeof(buf))) > 0) {
		struct ipv4_repr ip;
		assert_int_equal(ipv4_parse(buf + 14, len - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
		assert_true(ip.total_len <= iface_mtu(f->a));
		size_t plen = ipv4_payload_len(&ip);
		if (n == 0) {
			ident = ip.ident;
			*first = ip;
		}
		assert_int_equal(ip.ident, ident);
		if (ipv4_is_fragment(&ip)) {
			assert_false(ip.dont_frag); /* a fragment cannot say "do not fragment" */
			if (ip.more_frags)
				assert_int_equal(plen % 8, 0);
		} else {
			assert_true(ip.dont_frag); /* atomic: DF, as Linux's IP_PMTUDISC_WANT */
		}
		assert_true(ip.frag_offset + plen <= cap);
		memcpy(out + ip.frag_offset, buf + 14 + ip.header_len, plen);
		got += plen;
		if (!ip.more_frags) {
			have_last = true;
			total = ip.frag_offset + plen;
		}
		n++;
	}
	*frags = n;
	if (n == 0)
		return 0;
	assert_true(have_last);
	assert_int_equal(got, total); /* no gap, no overlap */
	return total;
}

static void setup(struct fix *f, const struct iface_config *cfg)
{
	struct fix_opts o = {.frames = 512};
	if (cfg)
		o.cfg_a = *cfg;
	fix_init_raw(f, &o);
	raw_introduce(f);
}

/* Sends a 65,000-byte ping as fragments in the given order, checks the fragmented reply. */
static void ping_in_order(struct fix *f, const size_t *order, size_t n, const struct frag *fr, const uint8_t *l4,
			  size_t l4_len, uint16_t ident)
{
	static uint8_t reply[65536];
	struct ipv4_repr first;
	size_t frags;

	for (size_t i = 0; i < n; i++)
		send_frag(f, FIX_IP_RAW, IP_PROTO_ICMP, ident, l4, &fr[order[i]]);
	fix_settle(f);
	assert_int_equal(collect(f, reply, sizeof(reply), &frags, &first), l4_len);
	assert_int_equal(frags, (l4_len + 1479) / 1480);
	struct icmpv4_repr r;
	assert_int_equal(icmpv4_parse(reply, l4_len, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_ECHO_REPLY);
	assert_int_equal(r.data_len, l4_len - 8);
	assert_memory_equal(r.data, l4 + 8, l4_len - 8);
}

static void test_large_ping_any_order(void **state)
{
	static uint8_t data[65000], l4[65100];
	static struct frag fr[64];
	static size_t order[128];
	struct fix f;

	setup(&f, NULL);
	fill_pattern(data, sizeof(data), 1);
	size_t l4_len = build_echo_l4(l4, sizeof(l4), 1, data, sizeof(data));
	size_t n = split(fr, l4_len, 1480);
	assert_int_equal(n, 44);

	/* in order */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	ping_in_order(&f, order, n, fr, l4, l4_len, 100);
	/* reversed: the last fragment first fixes the end at once */
	for (size_t i = 0; i < n; i++)
		order[i] = n - 1 - i;
	ping_in_order(&f, order, n, fr, l4, l4_len, 101);
	/* shuffled (a fixed permutation: 7 is prime to 44), with every fourth one sent twice */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		order[m++] = (i * 7 + 3) % n;
		if (i % 4 == 0)
			order[m++] = (i * 7 + 3) % n;
	}
	ping_in_order(&f, order, m, fr, l4, l4_len, 102);

	const uint64_t *c = iface_counters(f.a);
	assert_int_equal(c[IFACE_FRAG_REASSEMBLED], 3);
	assert_int_equal(c[IFACE_DROP_FRAG_DUPLICATE], m - n);
	assert_int_equal(c[IFACE_FRAG_RX_FRAGMENTS], 2 * n + m);
	assert_int_equal(c[IFACE_ICMP_ECHO_REPLIES_SENT], 3);
	assert_int_equal(c[IFACE_FRAG_TX_DATAGRAMS], 3);
	assert_int_equal(c[IFACE_FRAG_TX_FRAGMENTS], 3 * n);
	assert_int_equal(c[IFACE_DROP_FRAG_OVERLAP], 0);
	/* nothing left in reassembly: no timer */
	assert_int_equal(iface_poll_at(f.a, f.now), SMX_INSTANT_NEVER);
	fix_free(&f);
}

/* The same ID from two sources, and two IDs from one, interleaved: four datagrams. */
static void test_interleaved_sources(void **state)
{
	static uint8_t data[4][5000], l4[4][5100];
	static uint8_t reply[65536];
	struct frag fr[4][8];
	size_t n[4], l4_len[4];
	const ipv4_addr src[4] = {FIX_IP_RAW, FIX_IP_RAW2, FIX_IP_RAW, FIX_IP_RAW2};
	const uint16_t ident[4] = {7, 7, 8, 9};
	struct fix f;

	setup(&f, NULL);
	/* make a know the second source too */
	uint8_t buf[64];
	static const struct eth_addr zero;
	raw_send(&f, buf, raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW2, &zero, FIX_IP_A));
	fix_settle(&f);
	raw_drain(&f);
	for (int d = 0; d < 4; d++) {
		fill_pattern(data[d], 4000 + 200 * (size_t)d, (unsigned)d);
		l4_len[d] = build_echo_l4(l4[d], sizeof(l4[d]), (uint16_t)d, data[d], 4000 + 200 * (size_t)d);
		n[d] = split(fr[d], l4_len[d], 1480);
	}
	for (size_t i = 0; i < 4; i++)
		for (int d = 0; d < 4; d++)
			if (i < n[d])
				send_frag(&f, src[d], IP_PROTO_ICMP, ident[d], l4[d], &fr[d][n[d] - 1 - i]);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 4);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 4);
	/* the replies leave one after the other, each whole */
	for (int d = 0; d < 4; d++) {
		size_t len = 0;
		uint8_t frame[2048];
		size_t k = 0, got;
		memset(reply, 0, sizeof(reply));
		while (k < n[d] && (got = raw_recv(&f, frame, sizeof(frame))) > 0) {
			struct ipv4_repr ip;
			assert_int_equal(ipv4_parse(frame + 14, got - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
			assert_int_equal(ip.dst, src[d]);
			memcpy(reply + ip.frag_offset, frame + 14 + 20, ipv4_payload_len(&ip));
			if (!ip.more_frags)
				len = ip.frag_offset + ipv4_payload_len(&ip);
			k++;
		}
		assert_int_equal(len, l4_len[d]);
		assert_memory_equal(reply + 8, data[d], l4_len[d] - 8);
	}
	fix_free(&f);
}

static void test_hostile_sets(void **state)
{
	static uint8_t l4[70000];
	struct fix f;
	struct frag fr;

	setup(&f, NULL);
	fill_pattern(l4, sizeof(l4), 3);
	/* overlap: [0,16) then [8,24) - the whole datagram goes, the later complete set of the same ID
	 * starts afresh and is reassembled */
	uint8_t echo[64];
	uint8_t d32[24];
	fill_pattern(d32, sizeof(d32), 9);
	size_t el = build_echo_l4(echo, sizeof(echo), 5, d32, sizeof(d32)); /* 32 bytes */
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 50, echo, &fr);
	fr = (struct frag){8, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 50, echo, &fr);
	fr = (struct frag){16, 16, false}; /* would complete it, had it not been dropped */
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 50, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_OVERLAP), 1);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 0);
	assert_int_equal(raw_drain(&f), 0);
	/* partial overlap from the other side, the later fragment first */
	fr = (struct frag){16, 16, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 51, echo, &fr);
	fr = (struct frag){8, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 51, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_OVERLAP), 2);
	/* a second, different end; and bytes past the end: no datagram */
	fr = (struct frag){16, 16, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 52, echo, &fr);
	fr = (struct frag){16, 8, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 52, echo, &fr);
	fr = (struct frag){16, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 53, echo, &fr);
	fr = (struct frag){0, 8, false};
	fr.off = 8;
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 53, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_MALFORMED), 2);
	/* MF with a length not a multiple of 8, and with none */
	fr = (struct frag){0, 12, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 54, echo, &fr);
	fr = (struct frag){8, 0, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 54, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_MALFORMED), 4);
	/* tiny first fragments: 8 bytes of a TCP header; 16 bytes of one that says it has 24 */
	uint8_t tcp[64] = {0};
	tcp[12] = 6 << 4;
	fr = (struct frag){0, 8, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_TCP, 55, tcp, &fr);
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_TCP, 56, tcp, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TINY), 2);
	/* past 65,535 bytes: the ping of death, its first fragment already in */
	fr = (struct frag){0, 1480, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 57, l4, &fr);
	fr = (struct frag){65528, 16, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 57, l4, &fr);
	/* 65,515 bytes of data fit; with a 20-byte header that is 65,535 exactly */
	fr = (struct frag){65512, 3, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 58, l4, &fr);
	fr = (struct frag){65512, 4, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 59, l4, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TOO_LONG), 2);

	/* the last fragment's end told by a duplicate of bytes already here: complete all the same */
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 61, echo, &fr);
	fr = (struct frag){16, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 61, echo, &fr);
	fr = (struct frag){16, 16, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 61, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_DUPLICATE), 1);
	assert_int_equal(raw_drain(&f), 1);

	/* and the interface still answers, a fragmented ping too */
	uint8_t frame[2048];
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 60, echo, &fr);
	fr = (struct frag){16, (uint16_t)(el - 16), false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 60, echo, &fr);
	fix_settle(&f);
	size_t got = raw_recv(&f, frame, sizeof(frame));
	assert_true(got > 0);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 2);
	struct icmpv4_repr r;
	assert_int_equal(icmpv4_parse(frame + 34, got - 34, WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_ECHO_REPLY);
	assert_memory_equal(r.data, d32, sizeof(d32));
	fix_free(&f);
}

static void test_timeout(void **state)
{
	uint8_t l4[64], frame[2048];
	struct frag fr;
	struct fix f;

	setup(&f, &(struct iface_config){.reasm_timeout = 10 * SEC});
	fill_pattern(l4, sizeof(l4), 4);
	l4[0] = ICMPV4_ECHO_REQUEST;
	smx_instant t0 = f.now;
	/* without its first fragment: dropped at the timeout, silently */
	fr = (struct frag){16, 16, false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 70, l4, &fr);
	fix_settle(&f);
	assert_int_equal(iface_poll_at(f.a, f.now), t0 + 10 * SEC);
	/* with it (a second datagram, 5 s later): time exceeded, code 1, quoting the first fragment */
	fix_advance(&f, 5 * SEC);
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 71, l4, &fr);
	fix_settle(&f);
	assert_int_equal(iface_poll_at(f.a, f.now), t0 + 10 * SEC);
	fix_advance(&f, 5 * SEC - 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TIMEOUT), 0);
	fix_advance(&f, 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TIMEOUT), 1);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(iface_poll_at(f.a, f.now), t0 + 15 * SEC);
	fix_run_until(&f, t0 + 15 * SEC);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TIMEOUT), 2);
	size_t n = raw_recv(&f, frame, sizeof(frame));
	assert_true(n > 0);
	struct ipv4_repr ip;
	struct icmpv4_repr r;
	assert_int_equal(ipv4_parse(frame + 14, n - 14, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
	assert_int_equal(icmpv4_parse(frame + 34, ipv4_payload_len(&ip), WIRE_CSUM_VERIFY, &r), WIRE_OK);
	assert_int_equal(r.type, ICMPV4_TIME_EXCEEDED);
	assert_int_equal(r.code, 1);
	assert_true(r.has_quote);
	assert_int_equal(r.quote_ip.ident, 71);
	assert_true(r.quote_ip.more_frags);
	assert_int_equal(r.data_len, 20 + 16); /* the first fragment, all of it */
	assert_memory_equal(r.data + 20, l4, 16);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(iface_poll_at(f.a, f.now), SMX_INSTANT_NEVER);
	fix_free(&f);
}

/* More incomplete datagrams than slots: the oldest go, and a complete set still gets through. */
static void test_flood_evicts_oldest(void **state)
{
	uint8_t l4[64], echo[64], d[24] = {1, 2, 3};
	struct frag fr;
	struct fix f;

	setup(&f, &(struct iface_config){.reasm_slots = 4});
	fill_pattern(l4, sizeof(l4), 5);
	for (uint16_t id = 0; id < 100; id++) {
		fr = (struct frag){0, 16, true};
		send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, id, l4, &fr);
		fix_advance(&f, 1000);
	}
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_EVICTED), 96);
	size_t el = build_echo_l4(echo, sizeof(echo), 9, d, sizeof(d));
	fr = (struct frag){0, 16, true};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 1000, echo, &fr);
	fix_advance(&f, 1000);
	/* the flood goes on between the fragments of the good one, which is not the oldest yet */
	for (uint16_t id = 100; id < 103; id++) {
		fr = (struct frag){0, 16, true};
		send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, id, l4, &fr);
		fix_advance(&f, 1000);
	}
	fr = (struct frag){16, (uint16_t)(el - 16), false};
	send_frag(&f, FIX_IP_RAW, IP_PROTO_ICMP, 1000, echo, &fr);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 1);
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_EVICTED), 100);
	/* unfragmented traffic never touches the slots */
	uint8_t frame[256];
	raw_drain(&f);
	raw_send(&f, frame, raw_build_ip(frame, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, echo, el));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 1);
	fix_free(&f);
}

/* Reassembled UDP datagrams are handed up as views into their slot; unread at the next poll they are
 * copied into the socket's slots, and a slot wanted mid-batch has its views copied out first. */
static void test_udp_views_of_reassembled(void **state)
{
	static uint8_t pay[3][20000], l4[3][20100], out[20000];
	struct frag fr[3][16];
	size_t n[3];
	struct fix f;

	setup(&f, &(struct iface_config){.reasm_slots = 1});
	struct udp_socket_config sc = {.rx_slots = 8, .rx_slot_size = 65507};
	struct udp_socket *s = fix_udp_socket_cfg(f.a, 7000, &sc);
	for (int d = 0; d < 3; d++) {
		fill_pattern(pay[d], sizeof(pay[d]), 20u + (unsigned)d);
		struct udp_repr u = {.src_port = 5000, .dst_port = 7000, .payload = pay[d], .payload_len = sizeof(pay[d])};
		size_t len = udp_emit(&u, FIX_IP_RAW, FIX_IP_A, l4[d], sizeof(l4[d]));
		n[d] = split(fr[d], len, 1480);
	}
	/* three datagrams in one batch through one slot: each completes, the next takes its slot */
	for (int d = 0; d < 3; d++)
		for (size_t i = 0; i < n[d]; i++)
			send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, (uint16_t)(300 + d), l4[d], &fr[d][i]);
	fix_poll(&f);
	fix_poll(&f);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 3);
	assert_int_equal(udp_socket_rx_queued(s), 3);
	for (int d = 0; d < 3; d++) {
		size_t len;
		struct udp_meta m;
		assert_int_equal(udp_socket_recv_from(s, out, sizeof(out), &len, &m), UDP_OK);
		assert_int_equal(len, sizeof(pay[d]));
		assert_memory_equal(out, pay[d], len);
		assert_int_equal(m.remote_port, 5000);
	}
	/* and one more after the slot's turns: read once the polls that settled have copied it out */
	for (size_t i = 0; i < n[0]; i++)
		send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, 400, l4[0], &fr[0][i]);
	fix_settle(&f);
	const uint8_t *view;
	size_t len;
	assert_int_equal(udp_socket_recv_view(s, &view, &len, NULL), UDP_OK);
	assert_int_equal(len, sizeof(pay[0]));
	assert_memory_equal(view, pay[0], len);
	fix_udp_free(s);
	fix_free(&f);
}

/* Two interfaces: a 60,000-byte UDP datagram each way, and the sizes around the MTU. */
static void test_udp_large_both_ways(void **state)
{
	static uint8_t big[65507], out[65507];
	struct fix f;

	fix_init(&f, &(struct fix_opts){.frames = 512});
	struct udp_socket_config sc = {.rx_slots = 4, .rx_slot_size = 65507, .tx_slots = 2, .tx_slot_size = 65507};
	struct udp_socket *a = fix_udp_socket_cfg(f.a, 1000, &sc);
	struct udp_socket *b = fix_udp_socket_cfg(f.b, 2000, &sc);
	size_t len0;
	fix_settle(&f);
	/* A fragment set waits for ARP whole or not at all, in the 16 wait slots: 41 fragments do not
	 * fit, so a small datagram each way has the neighbours resolved first (test_tx_ids_and_arp). */
	assert_int_equal(udp_socket_send_to(a, big, 60000, FIX_IP_B, 2000), UDP_OK);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_QUEUE_FULL), 1);
	assert_int_equal(udp_socket_send_to(a, big, 1, FIX_IP_B, 2000), UDP_OK);
	assert_int_equal(udp_socket_send_to(b, big, 1, FIX_IP_A, 1000), UDP_OK);
	fix_settle(&f);
	assert_int_equal(udp_socket_recv_from(a, out, sizeof(out), &len0, NULL), UDP_OK);
	assert_int_equal(udp_socket_recv_from(b, out, sizeof(out), &len0, NULL), UDP_OK);
	const size_t sizes[] = {60000, 1472, 1473, 2952, 2953, 65507};
	for (size_t k = 0; k < SMX_ARRAY_LEN(sizes); k++) {
		size_t sz = sizes[k], len;
		struct udp_meta m;
		fill_pattern(big, sz, (unsigned)k);
		assert_int_equal(udp_socket_send_to(a, big, sz, FIX_IP_B, 2000), UDP_OK);
		fix_settle(&f);
		assert_int_equal(udp_socket_recv_from(b, out, sizeof(out), &len, &m), UDP_OK);
		assert_int_equal(len, sz);
		assert_memory_equal(out, big, sz);
		/* back, zero-copy */
		uint8_t *p;
		assert_int_equal(udp_socket_send_begin(b, FIX_IP_A, 1000, sz, &p), UDP_OK);
		memcpy(p, out, sz);
		udp_socket_send_commit(b, sz);
		fix_settle(&f);
		assert_int_equal(udp_socket_recv_from(a, out, sizeof(out), &len, &m), UDP_OK);
		assert_int_equal(len, sz);
		assert_memory_equal(out, big, sz);
	}
	/* 1472, 65507 and 60000 bytes at MTU 1500: 1, 45 and 41 fragments */
	assert_int_equal(fix_count(f.a, IFACE_FRAG_TX_DATAGRAMS), 5); /* not the one given up */
	assert_int_equal(fix_count(f.b, IFACE_FRAG_REASSEMBLED), 5);
	/* while a zero-copy send holds the staging buffer, another large send waits */
	uint8_t *p;
	assert_int_equal(udp_socket_send_begin(b, FIX_IP_A, 1000, 5000, &p), UDP_OK);
	struct udp_socket_config sc2 = {.tx_slots = 0};
	struct udp_socket *c = fix_udp_socket_cfg(f.b, 2001, &sc2);
	assert_int_equal(udp_socket_send_to(c, big, 5000, FIX_IP_A, 1000), UDP_ERR_WOULD_BLOCK);
	assert_int_equal(udp_socket_send_to(c, big, 100, FIX_IP_A, 1000), UDP_OK);
	udp_socket_send_abort(b);
	assert_int_equal(udp_socket_send_to(c, big, 5000, FIX_IP_A, 1000), UDP_OK);
	/* dont_frag: refused over the MTU, as IP_PMTUDISC_DO */
	struct udp_socket_config sc3 = {.dont_frag = true};
	struct udp_socket *d = fix_udp_socket_cfg(f.b, 2002, &sc3);
	assert_int_equal(udp_socket_send_to(d, big, 1473, FIX_IP_A, 1000), UDP_ERR_TOO_BIG);
	assert_int_equal(udp_socket_send_to(d, big, 1472, FIX_IP_A, 1000), UDP_OK);
	assert_int_equal(udp_socket_send_to(d, big, 65508, FIX_IP_A, 1000), UDP_ERR_TOO_BIG);
	fix_settle(&f);
	fix_udp_free(a);
	fix_udp_free(b);
	fix_udp_free(c);
	fix_udp_free(d);
	fix_free(&f);
}

/* Fragmented datagrams take IDs of their own counter: consecutive ones differ, whatever atomic
 * packets go between; a fragment set waits for ARP whole, or not at all. */
static void test_tx_ids_and_arp(void **state)
{
	static uint8_t big[4000], out[65536];
	struct fix f;
	struct ipv4_repr first;
	size_t frags;

	setup(&f, NULL);
	struct udp_socket *s = fix_udp_socket(f.a, 1000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, big, sizeof(big), FIX_IP_RAW, 9), UDP_OK);
	fix_settle(&f);
	assert_int_equal(collect(&f, out, sizeof(out), &frags, &first), sizeof(big) + 8);
	assert_int_equal(frags, 3);
	uint16_t id1 = first.ident;
	for (int i = 0; i < 5; i++)
		assert_int_equal(udp_socket_send_to(s, big, 10, FIX_IP_RAW, 9), UDP_OK);
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 5);
	assert_int_equal(udp_socket_send_to(s, big, sizeof(big), FIX_IP_RAW, 9), UDP_OK);
	fix_settle(&f);
	assert_int_equal(collect(&f, out, sizeof(out), &frags, &first), sizeof(big) + 8);
	assert_int_equal(first.ident, (uint16_t)(id1 + 1));

	/* unresolved next hop: 3 fragments fit the 16 wait slots and leave on the reply; 41 do not */
	const ipv4_addr far = IPV4_ADDR(10, 0, 0, 20);
	static uint8_t huge[60000];
	assert_int_equal(udp_socket_send_to(s, big, sizeof(big), far, 9), UDP_OK);
	assert_int_equal(udp_socket_send_to(s, huge, sizeof(huge), far, 9), UDP_OK);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_TX_ARP_QUEUE_FULL), 1);
	assert_int_equal(raw_drain(&f), 1); /* the request */
	uint8_t frame[64];
	raw_send(&f, frame, raw_build_arp(frame, ARP_OP_REPLY, &FIX_MAC_A, far, &FIX_MAC_A, FIX_IP_A));
	fix_settle(&f);
	assert_int_equal(collect(&f, out, sizeof(out), &frags, &first), sizeof(big) + 8);
	assert_int_equal(frags, 3);
	assert_int_equal(first.dst, far);
	fix_udp_free(s);
	fix_free(&f);
}

/* The limits are the config's: a smaller reassembly buffer drops what exceeds it (counted), a
 * smaller staging buffer refuses larger sends; below RFC 791's 576 bytes the config is refused. */
static void test_config_limits(void **state)
{
	static uint8_t l4[6000], big[6000];
	struct frag fr[8];
	struct fix f;

	struct iface_config bad = {.addrs = {{FIX_IP_A, 24}}, .addr_count = 1, .reasm_max_len = 575};
	assert_int_equal(iface_mem_size(&bad), 0);
	bad.reasm_max_len = 0;
	bad.frag_max_len = 575;
	assert_int_equal(iface_mem_size(&bad), 0);
	bad.frag_max_len = 0;
	size_t full = iface_mem_size(&bad);
	bad.reasm_max_len = 4096;
	bad.frag_max_len = 4096;
	assert_true(iface_mem_size(&bad) + 8 * 60000 < full); /* memory follows the config */

	setup(&f, &(struct iface_config){.reasm_max_len = 4096, .frag_max_len = 3000});
	fill_pattern(l4, sizeof(l4), 8);
	size_t n = split(fr, 4096 - 20, 1480); /* 4,076 bytes of data: 4,096 with the header, fits */
	for (size_t i = 0; i < n; i++)
		send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, 1, l4, &fr[i]);
	n = split(fr, 4096 - 19, 1480); /* one byte more: its last fragment ends past the buffer */
	for (size_t i = 0; i < n; i++)
		send_frag(&f, FIX_IP_RAW, IP_PROTO_UDP, 2, l4, &fr[i]);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_FRAG_REASSEMBLED), 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_FRAG_TOO_LONG), 1);
	struct udp_socket *s = fix_udp_socket(f.a, 1000, 4, 4);
	assert_int_equal(udp_socket_send_to(s, big, 3000 - 28, FIX_IP_RAW, 9), UDP_OK);
	assert_int_equal(udp_socket_send_to(s, big, 3000 - 27, FIX_IP_RAW, 9), UDP_ERR_TOO_BIG);
	fix_udp_free(s);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_ping_any_order),
		cmocka_unit_test(test_interleaved_sources),
		cmocka_unit_test(test_hostile_sets),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_flood_evicts_oldest),
		cmocka_unit_test(test_udp_views_of_reassembled),
		cmocka_unit_test(test_udp_large_both_ways),
		cmocka_unit_test(test_tx_ids_and_arp),
		cmocka_unit_test(test_config_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
