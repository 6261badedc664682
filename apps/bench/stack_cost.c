/* smolxdp-stack-cost: what one echoed packet costs the stack itself, with no kernel in the way. A
 * replay device hands the interface batches of ready-made frames (UDP datagrams to port 6969, or ICMP
 * echo requests) and takes its transmissions; server_step() is exactly what smolxdp-server does per
 * poll (iface_poll, then echo every datagram with a receive view and an in-place send). Run it under
 * valgrind --tool=callgrind --toggle-collect=server_step to count instructions per packet. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smolxdp/iface.h"
#include "smolxdp/udp.h"
#include "smolxdp/wire/arp.h"
#include "smolxdp/wire/ethernet.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"
#include "smolxdp/wire/udp.h"

#define FRAME_SIZE 2048
#define MAX_BATCH 256
#define TX_FRAMES 512
#define ECHO_PORT 6969

static const struct eth_addr server_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct eth_addr client_mac = { { 0x02, 0, 0, 0, 0, 0x64 } };
#define SERVER_IP IPV4_ADDR(192, 168, 69, 1)
#define CLIENT_IP IPV4_ADDR(192, 168, 69, 100)

/* The replay device: RX frames are armed by the harness between polls, so copying them in is not
 * counted; TX frames come from a free stack and are only recorded on submit (checked afterwards). */
struct replay_dev {
	struct dev dev;
	uint32_t batch;
	uint32_t armed;    /* frames rx_burst will hand out next */
	uint8_t rx[MAX_BATCH][FRAME_SIZE];
	uint32_t rx_len[MAX_BATCH];
	uint8_t tx[TX_FRAMES][FRAME_SIZE];
	uint32_t tx_free[TX_FRAMES];
	uint32_t ntx_free;
	uint32_t sent[TX_FRAMES]; /* submitted since the harness last looked */
	uint32_t sent_len[TX_FRAMES];
	uint32_t nsent;
	uint64_t rx_released;
};

static size_t r_rx_burst(struct dev *d, struct dev_frame *f, size_t max, smx_instant now)
{
	struct replay_dev *r = (struct replay_dev *)d;
	size_t n = SMX_MIN(max, (size_t)r->armed);
	for (size_t i = 0; i < n; i++)
		f[i] = (struct dev_frame){ .data = r->rx[i], .len = r->rx_len[i], .handle = i };
	r->armed = 0;
	return n;
}

static void r_rx_release(struct dev *d, const struct dev_frame *f, size_t n)
{
	((struct replay_dev *)d)->rx_released += n;
}

static bool r_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	struct replay_dev *r = (struct replay_dev *)d;
	if (r->ntx_free == 0)
		return false;
	uint32_t i = r->tx_free[--r->ntx_free];
	*f = (struct dev_frame){ .data = r->tx[i], .cap = FRAME_SIZE, .handle = i };
	return true;
}

static void r_tx_submit(struct dev *d, const struct dev_frame *f)
{
	struct replay_dev *r = (struct replay_dev *)d;
	r->sent[r->nsent] = (uint32_t)f->handle;
	r->sent_len[r->nsent++] = f->len;
}

static void r_tx_abort(struct dev *d, const struct dev_frame *f)
{
	struct replay_dev *r = (struct replay_dev *)d;
	r->tx_free[r->ntx_free++] = (uint32_t)f->handle;
}

static void r_tx_flush(struct dev *d, smx_instant now)
{
}

static void r_get_caps(const struct dev *d, struct dev_caps *c)
{
	const struct replay_dev *r = (const struct replay_dev *)d;
	*c = (struct dev_caps){ .max_frame = 1514, .rx_batch = r->batch, .csum = 0 };
}

static const struct dev_ops replay_ops = {
	.rx_burst = r_rx_burst, .rx_release = r_rx_release, .tx_reserve = r_tx_reserve,
	.tx_submit = r_tx_submit, .tx_abort = r_tx_abort, .tx_flush = r_tx_flush, .get_caps = r_get_caps,
};

/* Builds the client's frame: Ethernet + IPv4 + (UDP to the echo port | ICMP echo request). */
static size_t build_frame(uint8_t *buf, bool icmp, size_t size, uint16_t seq)
{
	uint8_t payload[FRAME_SIZE];
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)(i * 7 + seq);
	struct eth_repr e = { .dst = server_mac, .src = client_mac, .ethertype = ETH_TYPE_IPV4, .header_len = 14 };
	size_t l4_len = (icmp ? ICMPV4_HEADER_LEN : 8) + size;
	struct ipv4_repr ip = { .src = CLIENT_IP, .dst = SERVER_IP, .protocol = icmp ? IP_PROTO_ICMP : IP_PROTO_UDP,
				.ttl = 64, .ident = seq, .header_len = IPV4_HEADER_LEN,
				.total_len = (uint16_t)(IPV4_HEADER_LEN + l4_len) };
	size_t off = eth_emit(&e, buf, FRAME_SIZE);
	off += ipv4_emit(&ip, buf + off, FRAME_SIZE - off);
	if (icmp) {
		struct icmpv4_repr r = { .type = ICMPV4_ECHO_REQUEST, .ident = 0x1234, .seq = seq, .data = payload,
					 .data_len = size };
		off += icmpv4_emit(&r, buf + off, FRAME_SIZE - off);
	} else {
		struct udp_repr u = { .src_port = 40000, .dst_port = ECHO_PORT, .payload = payload, .payload_len = size };
		off += udp_emit(&u, CLIENT_IP, SERVER_IP, buf + off, FRAME_SIZE - off);
	}
	return off;
}

static size_t build_arp_request(uint8_t *buf)
{
	struct eth_repr e = { .dst = ETH_ADDR_BROADCAST, .src = client_mac, .ethertype = ETH_TYPE_ARP, .header_len = 14 };
	struct arp_repr a = { .op = 1, .sha = client_mac, .spa = CLIENT_IP, .tpa = SERVER_IP };
	size_t off = eth_emit(&e, buf, FRAME_SIZE);
	return off + arp_emit(&a, buf + off, FRAME_SIZE - off);
}

/* One poll of the server, as smolxdp-server does it: take the batch in, echo every datagram. Kept out
 * of line so callgrind can count exactly this (--toggle-collect=server_step). */
__attribute__((noinline)) void server_step(struct iface *ifc, struct udp_socket *sock, smx_instant now);
__attribute__((noinline)) void server_step(struct iface *ifc, struct udp_socket *sock, smx_instant now)
{
	const uint8_t *data;
	size_t len;
	struct udp_meta meta;
	iface_poll(ifc, now);
	while (udp_socket_recv_view(sock, &data, &len, &meta) == UDP_OK) {
		uint8_t *out;
		if (udp_socket_send_begin(sock, meta.remote_addr, meta.remote_port, len, &out) != UDP_OK)
			break;
		memcpy(out, data, len);
		udp_socket_send_commit(sock, len);
	}
}

/* Every transmitted frame must be the echo of what was sent: checked outside the counted step. */
static int check_and_recycle(struct replay_dev *r, bool icmp, size_t size, uint64_t *echoed)
{
	for (uint32_t i = 0; i < r->nsent; i++) {
		const uint8_t *f = r->tx[r->sent[i]];
		size_t flen = r->sent_len[i];
		struct eth_repr e;
		struct ipv4_repr ip;
		if (eth_parse(f, flen, &e) != WIRE_OK || e.ethertype != ETH_TYPE_IPV4 ||
		    ipv4_parse(f + 14, flen - 14, WIRE_CSUM_VERIFY, &ip) != WIRE_OK || ip.dst != CLIENT_IP) {
			r->tx_free[r->ntx_free++] = r->sent[i];
			continue; /* the gratuitous ARP, an ARP reply */
		}
		const uint8_t *l4 = f + 14 + ip.header_len;
		size_t l4_len = ip.total_len - ip.header_len;
		size_t got = 0;
		if (icmp) {
			struct icmpv4_repr ic;
			if (icmpv4_parse(l4, l4_len, WIRE_CSUM_VERIFY, &ic) == WIRE_OK && ic.type == ICMPV4_ECHO_REPLY)
				got = ic.data_len;
		} else {
			struct udp_repr u;
			if (udp_parse(l4, l4_len, ip.src, ip.dst, WIRE_CSUM_VERIFY, &u) == WIRE_OK && u.dst_port == 40000)
				got = u.payload_len;
		}
		if (got != size) {
			fprintf(stderr, "smolxdp-stack-cost: a transmitted frame is not a %zu-byte echo\n", size);
			return -1;
		}
		(*echoed)++;
		r->tx_free[r->ntx_free++] = r->sent[i];
	}
	r->nsent = 0;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: smolxdp-stack-cost [--packets N] [--batch N] [--size N] [--icmp]\n"
		     "Echoes N frames through one interface over a replay device (no kernel) and checks every\n"
		     "reply. Count instructions with:\n"
		     "  valgrind --tool=callgrind --toggle-collect=server_step smolxdp-stack-cost ...\n"
		     "and divide the total by the packets it prints.\n"
		     "  --packets N   frames to echo (default 100000)\n"
		     "  --batch N     frames per poll, 1..%d (default 32)\n"
		     "  --size N      payload bytes, 0..1400 (default 64)\n"
		     "  --icmp        ICMP echo instead of UDP\n"
		     "  -h, --help    this text\n"
		     "  --version     the version\n", MAX_BATCH);
}

/* One line and a pointer to --help, as the other programs (this one links no app helpers). */
static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "smolxdp-stack-cost: %s '%s'\nTry 'smolxdp-stack-cost --help'.\n", what, arg);
	return 2;
}

static int parse_num(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out < lo || *out > hi ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "packets", required_argument, 0, 'n' }, { "batch", required_argument, 0, 'b' },
		{ "size", required_argument, 0, 's' },    { "icmp", no_argument, 0, 'i' },
		{ "help", no_argument, 0, 'h' },          { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	unsigned long long v;
	uint64_t packets = 100000;
	uint32_t batch = 32;
	size_t size = 64;
	bool icmp = false;
	int c;
	opterr = 0; /* one line of our own instead of getopt's, which names the full path */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_num(optarg, 1, UINT64_MAX, &v) < 0)
				return bad_usage("--packets: must be a whole number above 0, not", optarg);
			packets = v;
			break;
		case 'b':
			if (parse_num(optarg, 1, MAX_BATCH, &v) < 0)
				return bad_usage("--batch: must be 1..256, not", optarg);
			batch = (uint32_t)v;
			break;
		case 's':
			if (parse_num(optarg, 0, 1400, &v) < 0)
				return bad_usage("--size: must be 0..1400, not", optarg);
			size = (size_t)v;
			break;
		case 'i': icmp = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("smolxdp-stack-cost (smolxdp) 0.1.0\n"); return 0; /* as SMX_APP_VERSION */
		case ':': return bad_usage("a value is missing after", argv[optind - 1]);
		default: return bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument", argv[optind]);

	struct replay_dev *r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->dev.ops = &replay_ops;
	r->batch = batch;
	for (uint32_t i = 0; i < TX_FRAMES; i++)
		r->tx_free[r->ntx_free++] = i;

	struct iface_config cfg = { .mac = server_mac, .addr_count = 1, .rx_batch = batch, .seed = 1 };
	cfg.addrs[0] = (struct iface_cidr){ SERVER_IP, 24 };
	size_t isz = iface_mem_size(&cfg);
	void *imem = malloc(isz);
	struct iface *ifc = imem ? iface_init(imem, isz, &cfg, &r->dev) : NULL;
	struct udp_config udc = { .seed = 1 };
	size_t usz = udp_mem_size(&udc);
	void *umem = malloc(usz);
	struct udp_stack *udp = umem ? udp_init(umem, usz, &udc) : NULL;
	if (ifc && udp) {
		struct l4_handler uh;
		udp_handler(udp, &uh);
		iface_set_l4_handler(ifc, IP_PROTO_UDP, &uh);
	}
	struct udp_socket_config uc = { .rx_slots = MAX_BATCH, .tx_slots = 16 };
	size_t ssz = udp_socket_mem_size(&uc);
	void *smem = malloc(ssz);
	struct udp_socket *sock = smem ? udp_socket_init(smem, ssz, &uc) : NULL;
	if (!ifc || !udp || !sock || udp_socket_bind(sock, udp, 0, ECHO_PORT) != UDP_OK) {
		fprintf(stderr, "smolxdp-stack-cost: cannot set up the interface\n");
		return 1;
	}

	/* Not counted: the gratuitous ARP, and an ARP request that teaches the server the client's MAC. */
	smx_instant t = 1000000;
	uint64_t echoed = 0;
	r->rx_len[0] = (uint32_t)build_arp_request(r->rx[0]);
	r->armed = 1;
	iface_poll(ifc, t);
	iface_poll(ifc, t);
	check_and_recycle(r, icmp, size, &echoed);

	uint8_t tmpl[FRAME_SIZE];
	uint32_t tmpl_len = (uint32_t)build_frame(tmpl, icmp, size, 1);
	uint64_t done = 0;
	double elapsed = 0;
	while (done < packets) {
		uint32_t n = (uint32_t)SMX_MIN((uint64_t)batch, packets - done);
		for (uint32_t i = 0; i < n; i++) {
			memcpy(r->rx[i], tmpl, tmpl_len);
			r->rx_len[i] = tmpl_len;
		}
		r->armed = n;
		t += 10;
		double t0 = now_s();
		server_step(ifc, sock, t);
		server_step(ifc, sock, t); /* flushes what the first one queued: what the next poll does */
		elapsed += now_s() - t0;
		done += n;
		if (check_and_recycle(r, icmp, size, &echoed) < 0)
			return 1;
	}
	iface_release(ifc);
	const uint64_t *ctr = iface_counters(ifc);
	printf("packets=%llu echoed=%llu proto=%s size=%zu batch=%u ns_per_packet=%.1f rx_frames=%llu tx_frames=%llu\n",
	       (unsigned long long)packets, (unsigned long long)echoed, icmp ? "icmp" : "udp", size, batch,
	       elapsed * 1e9 / (double)packets, (unsigned long long)ctr[IFACE_RX_FRAMES],
	       (unsigned long long)ctr[IFACE_TX_FRAMES]);
	int rc = echoed == packets ? 0 : 1;
	if (rc)
		fprintf(stderr, "smolxdp-stack-cost: %llu of %llu packets echoed\n", (unsigned long long)echoed,
			(unsigned long long)packets);
	free(smem);
	free(umem);
	free(imem);
	free(r);
	return rc;
}
