/* libFuzzer target for a whole interface: 10.0.0.2 (02:00:00:00:00:02, the server of tests/wire/data's
 * captures) on a loopback wire, with a UDP echo socket on 9999 (datagrams up to 4 KB), TCP echo
 * listeners on 8080 and 8082, a datagram and a connection of its own towards 10.0.0.1 waiting for ARP,
 * fed the input as frames on virtual time. Input: records of [word: 2 bytes BE][pause: 1 byte][frame:
 * length bytes]; the word's low 11 bits are the length, bit 15 asks for the frame's IPv4 and L4
 * checksums to be fixed up, bit 14 also for a TCP segment's ports, seq and ack to answer the last
 * segment we sent (so the fuzzer gets past handshakes without guessing ISNs). Before each frame time
 * moves on by pause^2 * 50 us, stopping at every instant iface_poll_at asks for. IPv4 fragments in the
 * input are reassembled (and what answers a large datagram leaves in fragments). Checked: no crash or
 * sanitizer report, no poll loop that never settles, every frame sent is well formed (our MAC and
 * address, valid checksums), and at the end every device frame is back in the pool.
 *
 * Build and run (clang only; the suite's fuzz_iface_run does this for 30 s):
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSMX_FUZZ=ON && cmake --build build-fuzz --target fuzz_iface
 *   cp -R tests/iface/corpus corpus-iface   # or fuzz_iface_seeds.py's seeds alone
 *   ./build-fuzz/tests/iface/fuzz_iface -max_total_time=180 -max_len=8192 corpus-iface
 * A crash file replays with ./build-fuzz/tests/iface/fuzz_iface crash-<hash> (or with fuzz_iface_replay,
 * in any build); once fixed, it goes into tests/iface/corpus/regressions/. FUZZ_IFACE_VERBOSE=1 prints
 * the counters of each run; FUZZ_IFACE_STRICT_TCP=1 also requires every TCP connection gone at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface_fixture.h"
#include "smolxdp/tcp.h"

#define MY_IP IPV4_ADDR(10, 0, 0, 2)
#define PEER_IP IPV4_ADDR(10, 0, 0, 1)
#define GATEWAY IPV4_ADDR(10, 0, 0, 254)
#define UDP_PORT 9999
#define MAX_CONNS 8
#define POLLS_PER_STEP 64  /* polls at one instant before the interface must have settled */
#define STEPS_PER_PAUSE 4000
#define END_TIME (400ull * 1000000) /* past TIME-WAIT and the user timeout: every timer has run */
#define REC_LEN_MASK 0x07ffu
#define REC_FIX_CSUM 0x8000u
#define REC_FIX_TCP 0x4000u

static const struct eth_addr MY_MAC = {{0x02, 0, 0, 0, 0, 0x02}};

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz_iface: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();                                                       \
		}                                                                      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct fix f;
	struct udp_socket *udp;
	struct tcp_stack *tcp;
	void *tcp_mem;
	struct tcp_listener *listeners[2];
	struct tcp_conn *conns[MAX_CONNS];
	uint64_t frames_out;
	/* the last TCP segment we sent, for REC_FIX_TCP */
	bool tcp_seen;
	uint16_t tcp_sport, tcp_dport;
	uint32_t tcp_seq_end, tcp_ack;
};

static bool addr_sendable(ipv4_addr a)
{
	uint32_t top = a >> 24;
	return a == 0xffffffffu || (top != 0 && top != 127 && (a >> 28) < 0xe);
}

/* Every frame the interface sends must be one a real peer would accept. */
static void check_frame(struct run *r, const uint8_t *buf, size_t n)
{
	struct eth_repr eth;
	static const struct eth_addr zero;

	CHECK(n >= ETH_MIN_FRAME && n <= 1514);
	CHECK(eth_parse(buf, n, &eth) == WIRE_OK);
	CHECK(eth_addr_eq(&eth.src, &MY_MAC));
	CHECK(!eth_addr_eq(&eth.dst, &zero));
	if (eth.ethertype == ETH_TYPE_ARP) {
		struct arp_repr a;
		CHECK(arp_parse(buf + ETH_HEADER_LEN, n - ETH_HEADER_LEN, &a) == WIRE_OK);
		CHECK(eth_addr_eq(&a.sha, &MY_MAC) && a.spa == MY_IP);
		CHECK(a.op == ARP_OP_REQUEST || !eth_addr_is_multicast(&eth.dst));
		return;
	}
	CHECK(eth.ethertype == ETH_TYPE_IPV4);
	struct ipv4_repr ip;
	CHECK(ipv4_parse(buf + ETH_HEADER_LEN, n - ETH_HEADER_LEN, WIRE_CSUM_VERIFY, &ip) == WIRE_OK);
	CHECK(ip.src == MY_IP && addr_sendable(ip.dst) && ip.header_len == IPV4_HEADER_LEN);
	CHECK(ETH_HEADER_LEN + (size_t)ip.total_len <= n);
	const uint8_t *l4 = buf + ETH_HEADER_LEN + ip.header_len;
	size_t l4_len = ipv4_payload_len(&ip);
	if (ipv4_is_fragment(&ip)) {
		/* Echoes of reassembled datagrams go out fragmented: no DF, 8-byte units but the last, a
		 * transport header whole in the first (its checksum spans all the fragments). */
		CHECK(!ip.dont_frag && (!ip.more_frags || l4_len % 8 == 0) && l4_len > 0);
		CHECK(ip.frag_offset != 0 || l4_len >= 20);
		return;
	}
	if (ip.protocol == IP_PROTO_UDP) {
		struct udp_repr u;
		CHECK(udp_parse(l4, l4_len, ip.src, ip.dst, WIRE_CSUM_VERIFY, &u) == WIRE_OK);
	} else if (ip.protocol == IP_PROTO_TCP) {
		struct tcp_repr t;
		CHECK(tcp_parse(l4, l4_len, ip.src, ip.dst, WIRE_CSUM_VERIFY, &t) == WIRE_OK);
		r->tcp_seen = true;
		r->tcp_sport = t.src_port;
		r->tcp_dport = t.dst_port;
		r->tcp_seq_end = t.seq + (uint32_t)t.payload_len + !!(t.flags & TCP_SYN) + !!(t.flags & TCP_FIN);
		r->tcp_ack = t.ack;
	} else {
		struct icmpv4_repr ic;
		CHECK(ip.protocol == IP_PROTO_ICMP);
		CHECK(icmpv4_parse(l4, l4_len, WIRE_CSUM_VERIFY, &ic) == WIRE_OK);
	}
}

static void drain(struct run *r)
{
	uint8_t buf[2048];
	size_t n;

	while ((n = raw_recv(&r->f, buf, sizeof(buf))) > 0) {
		check_frame(r, buf, n);
		r->frames_out++;
	}
}

static int conn_slot(struct run *r, struct tcp_conn *c)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (r->conns[i] == c)
			return i;
	return -1;
}

static void conn_release(struct run *r, struct tcp_conn *c, bool abort_it)
{
	int i = conn_slot(r, c);
	if (i < 0)
		return;
	r->conns[i] = NULL;
	if (abort_it)
		tcp_abort(r->tcp, c);
	else
		tcp_close(r->tcp, c);
}

static void conn_echo(struct run *r, struct tcp_conn *c)
{
	uint8_t buf[512];
	size_t n;

	while (tcp_send_space(c) > 0 && (n = tcp_recv(r->tcp, c, buf, SMX_MIN(sizeof(buf), tcp_send_space(c)))) > 0)
		CHECK(tcp_send(r->tcp, c, buf, n) == n);
	if (tcp_eof(c) && tcp_recv_avail(c) == 0)
		conn_release(r, c, false);
}

/* The app: echo UDP datagrams back, accept and echo TCP connections, close them when the peer does. */
static void app_run(struct run *r)
{
	const uint8_t *view;
	size_t len;
	struct udp_meta meta;
	struct tcp_event ev;

	while (udp_socket_recv_view(r->udp, &view, &len, &meta) == UDP_OK)
		(void)udp_socket_send_to(r->udp, view, len, meta.remote_addr, meta.remote_port);
	struct udp_error ue;
	while (udp_socket_take_error(r->udp, &ue))
		;
	while (tcp_next_event(r->tcp, &ev)) {
		if (ev.listener) {
			struct tcp_conn *c;
			while ((c = tcp_accept(r->tcp, ev.listener)) != NULL) {
				int i = conn_slot(r, NULL);
				if (i < 0)
					tcp_abort(r->tcp, c);
				else
					r->conns[i] = c;
			}
			continue;
		}
		if (conn_slot(r, ev.conn) < 0)
			continue;
		if (ev.flags & TCP_EV_CLOSED)
			conn_release(r, ev.conn, false);
		else
			conn_echo(r, ev.conn);
	}
}

/* Polls at r->f.now until the interface has nothing more to do at this instant. */
static void poll_settle(struct run *r)
{
	for (int i = 0;; i++) {
		if (i == POLLS_PER_STEP)
			fprintf(stderr, "fuzz_iface: still due at %llu: tcp_poll_at %llu\n", (unsigned long long)r->f.now,
				(unsigned long long)tcp_poll_at(r->tcp, r->f.now));
		CHECK(i < POLLS_PER_STEP); /* poll_at keeps saying "now": a busy loop in a real app */
		iface_poll(r->f.a, r->f.now);
		app_run(r);
		drain(r);
		if (iface_poll_at(r->f.a, r->f.now) > r->f.now)
			return;
	}
}

/* Moves time to `until`, stopping at each instant the interface asked for, like an event loop. */
static void run_until(struct run *r, smx_instant until)
{
	for (int steps = 0; steps < STEPS_PER_PAUSE; steps++) {
		smx_instant at = iface_poll_at(r->f.a, r->f.now);
		if (at > until)
			break;
		r->f.now = at;
		poll_settle(r);
	}
	r->f.now = SMX_MAX(r->f.now, until);
	poll_settle(r);
}

/* REC_FIX_TCP: the segment answers the last one we sent (ports swapped, seq = its ack, ack = its end). */
static void fix_tcp(const struct run *r, uint8_t *l4, size_t l4_len)
{
	if (!r->tcp_seen || l4_len < TCP_HEADER_LEN)
		return;
	put_be16(l4, r->tcp_dport);
	put_be16(l4 + 2, r->tcp_sport);
	put_be32(l4 + 4, r->tcp_ack);
	put_be32(l4 + 8, r->tcp_seq_end);
}

/* REC_FIX_CSUM: whatever the fuzzer wrote, the IPv4 header and L4 checksums come out right. */
static void fix_checksums(const struct run *r, uint8_t *p, size_t n, bool tcp)
{
	if (n < ETH_HEADER_LEN + IPV4_HEADER_LEN || get_be16(p + 12) != ETH_TYPE_IPV4)
		return;
	uint8_t *ip = p + ETH_HEADER_LEN;
	size_t hl = (size_t)(ip[0] & 15) * 4, total = get_be16(ip + 2);
	if ((ip[0] >> 4) != 4 || hl < IPV4_HEADER_LEN || ETH_HEADER_LEN + hl > n)
		return;
	if (total < hl || ETH_HEADER_LEN + total > n)
		total = n - ETH_HEADER_LEN;
	uint8_t *l4 = ip + hl;
	size_t l4_len = total - hl;
	size_t off = ip[9] == IP_PROTO_UDP ? 6 : ip[9] == IP_PROTO_TCP ? 16 : ip[9] == IP_PROTO_ICMP ? 2 : 0;
	if (tcp && ip[9] == IP_PROTO_TCP)
		fix_tcp(r, l4, l4_len);
	if (off != 0 && l4_len >= off + 2 && (get_be16(ip + 6) & 0x3fff) == 0) {
		uint32_t sum = ip[9] == IP_PROTO_ICMP ? 0 : csum_pseudo_ipv4(get_be32(ip + 12), get_be32(ip + 16), ip[9],
									    (uint16_t)l4_len);
		put_be16(l4 + off, 0);
		uint16_t c = csum_finish(csum_add(sum, l4, l4_len));
		put_be16(l4 + off, ip[9] == IP_PROTO_UDP && c == 0 ? 0xffff : c);
	}
	put_be16(ip + 10, 0);
	put_be16(ip + 10, (uint16_t)~csum_ipv4_header(ip, hl));
}

static void inject(struct run *r, const uint8_t *frame, size_t len, unsigned fix)
{
	struct dev_frame fr;

	if (len == 0 || !dev_tx_reserve(r->f.dev_b, &fr, r->f.now))
		return;
	memcpy(fr.data, frame, len);
	if (fix)
		fix_checksums(r, fr.data, len, fix & REC_FIX_TCP);
	fr.len = (uint32_t)len;
	dev_tx_submit(r->f.dev_b, &fr);
	dev_tx_flush(r->f.dev_b, r->f.now);
}

static void setup(struct run *r)
{
	struct fix_opts o = {.frames = 48};
	o.cfg_a.mac = MY_MAC;
	o.cfg_a.addrs[0].addr = MY_IP;
	o.cfg_a.addrs[0].prefix_len = 24;
	o.cfg_a.addr_count = 1;
	o.cfg_a.gateway = GATEWAY;
	o.cfg_a.arp_wait_slots = 4;
	o.cfg_a.arp_cache_entries = 8;
	o.udp_a.max_sockets = 4;
	o.cfg_a.icmp_errors_per_sec = 20;
	/* Few reassembly slots, so that a few datagrams reach eviction; each as large as IPv4 allows, so a
	 * 65,535-byte datagram completes and its answer leaves in fragments (a fragment's offset field
	 * still reaches past 65,535: "too long"). */
	o.cfg_a.reasm_slots = 4;
	o.cfg_a.reasm_max_len = 65535;
	memset(r, 0, sizeof(*r));
	fix_init_raw(&r->f, &o);
	/* Slots larger than a frame, so reassembled datagrams reach the echo and leave again in fragments. */
	struct udp_socket_config uc = {.rx_slots = 8, .rx_slot_size = 4096, .tx_slots = 4, .tx_slot_size = 4096};
	r->udp = fix_udp_socket_cfg(r->f.a, UDP_PORT, &uc);

	struct tcp_config tc;
	tcp_config_default(&tc);
	tc.max_conns = MAX_CONNS;
	tc.max_listeners = 2;
	tc.rx_buf_size = 4096;
	tc.tx_buf_size = 4096;
	memcpy(tc.secret, "fuzz-iface-key!!", 16);
	size_t n = tcp_mem_size(&tc);
	CHECK(n > 0);
	r->tcp_mem = malloc(n);
	CHECK(r->tcp_mem);
	r->tcp = tcp_init(r->tcp_mem, n, &tc);
	CHECK(r->tcp);
	struct l4_handler h;
	tcp_handler(r->tcp, &h);
	iface_set_l4_handler(r->f.a, IP_PROTO_TCP, &h);
	enum tcp_result err;
	r->listeners[0] = tcp_listen(r->tcp, 0, 8080, 4, NULL, &err);
	r->listeners[1] = tcp_listen(r->tcp, MY_IP, 8082, 4, NULL, &err);
	CHECK(r->listeners[0] && r->listeners[1]);
	/* Work of our own waiting for the peer's ARP reply: a datagram and a connection. */
	CHECK(udp_socket_send_to(r->udp, "hello", 5, PEER_IP, 40000) == UDP_OK);
	struct tcp_connect_opts co = {.local_addr = MY_IP, .remote_addr = PEER_IP, .remote_port = 5000};
	r->conns[0] = tcp_connect(r->tcp, &co, &err);
	CHECK(r->conns[0]);
	poll_settle(r);
}

static void teardown(struct run *r)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (r->conns[i])
			conn_release(r, r->conns[i], true);
	tcp_listener_close(r->tcp, r->listeners[0]);
	tcp_listener_close(r->tcp, r->listeners[1]);
	run_until(r, r->f.now + END_TIME);
	/* Every connection ended by now. Off unless asked for: TCP's persist timer probes a silent peer
	 * forever (no user timeout), so a closed connection facing a zero window never frees its slot. */
	if (getenv("FUZZ_IFACE_STRICT_TCP"))
		CHECK(tcp_conn_count(r->tcp) == 0);
	fix_udp_free(r->udp);
	iface_release(r->f.a);
	drain(r);
	CHECK(dev_loopback_free_frames(r->f.wire) == r->f.frames);
	const uint64_t *c = iface_counters(r->f.a);
	CHECK(c[IFACE_TX_FRAMES] == r->frames_out + 1); /* + the announcement fix_init_raw drained */
	if (getenv("FUZZ_IFACE_VERBOSE")) {
		const struct tcp_stats *ts = tcp_stack_stats(r->tcp);
		for (int i = 0; i < IFACE_COUNTER_COUNT; i++)
			if (c[i])
				fprintf(stderr, "  %-26s %llu\n", iface_counter_name((enum iface_counter)i),
					(unsigned long long)c[i]);
		fprintf(stderr, "  tcp rx_segs %llu tx_segs %llu opened %llu reset %llu timed_out %llu\n",
			(unsigned long long)ts->rx_segs, (unsigned long long)ts->tx_segs,
			(unsigned long long)ts->conns_opened, (unsigned long long)ts->conns_reset,
			(unsigned long long)ts->conns_timed_out);
	}
	fix_free(&r->f);
	free(r->tcp_mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	size_t off = 0;

	setup(&r);
	while (size - off >= 3) {
		unsigned word = (unsigned)data[off] << 8 | data[off + 1];
		smx_instant pause = (smx_instant)data[off + 2] * data[off + 2] * 50;
		size_t len = word & REC_LEN_MASK;
		off += 3;
		len = SMX_MIN(SMX_MIN(len, size - off), (size_t)1514);
		run_until(&r, r.f.now + pause);
		inject(&r, data + off, len, word & (REC_FIX_CSUM | REC_FIX_TCP));
		poll_settle(&r);
		off += len;
	}
	teardown(&r);
	return 0;
}
