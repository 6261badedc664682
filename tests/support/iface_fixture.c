/* The two-interface loopback fixture (see iface_fixture.h). */
#include <stdlib.h>
#include <string.h>

#include "iface_fixture.h"

const struct eth_addr FIX_MAC_A = {{0x02, 0, 0, 0, 0, 0x0a}};
const struct eth_addr FIX_MAC_B = {{0x02, 0, 0, 0, 0, 0x0b}};
const struct eth_addr FIX_MAC_RAW = {{0x02, 0, 0, 0, 0, 0x99}};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

/* The fixture's UDP stacks by interface, so fix_udp_socket(ifc, ...) finds its stack. */
static struct {
	const struct iface *ifc;
	struct udp_stack *u;
} fix_udps[16];

static struct udp_stack *make_udp(struct fix *f, int i, struct iface *ifc, struct udp_config cfg,
				  uint64_t seed)
{
	if (cfg.seed == 0)
		cfg.seed = seed;
	size_t n = udp_mem_size(&cfg);
	f->mem[3 + i] = xmalloc(n);
	struct udp_stack *u = udp_init(f->mem[3 + i], n, &cfg);
	struct l4_handler h;
	if (!u)
		abort();
	udp_handler(u, &h);
	iface_set_l4_handler(ifc, IP_PROTO_UDP, &h);
	for (size_t k = 0; k < SMX_ARRAY_LEN(fix_udps); k++) {
		if (!fix_udps[k].ifc) {
			fix_udps[k].ifc = ifc;
			fix_udps[k].u = u;
			return u;
		}
	}
	abort();
}

static void forget_udp(const struct iface *ifc)
{
	for (size_t k = 0; k < SMX_ARRAY_LEN(fix_udps); k++)
		if (fix_udps[k].ifc == ifc)
			fix_udps[k].ifc = NULL;
}

struct udp_stack *fix_udp(const struct iface *ifc)
{
	for (size_t k = 0; k < SMX_ARRAY_LEN(fix_udps); k++)
		if (ifc && fix_udps[k].ifc == ifc)
			return fix_udps[k].u;
	abort();
}

const struct udp_stats *fix_udp_stats(const struct iface *ifc)
{
	return udp_stack_stats(fix_udp(ifc));
}

static struct iface *make_iface(struct fix *f, int i, struct iface_config cfg, const struct eth_addr *mac,
				ipv4_addr ip, struct dev *dev)
{
	if (cfg.addr_count == 0) {
		cfg.addrs[0].addr = ip;
		cfg.addrs[0].prefix_len = 24;
		cfg.addr_count = 1;
	}
	static const struct eth_addr zero;
	if (memcmp(&cfg.mac, &zero, sizeof(zero)) == 0)
		cfg.mac = *mac;
	if (cfg.seed == 0)
		cfg.seed = 1000 + (uint64_t)i;
	size_t n = iface_mem_size(&cfg);
	f->mem[i] = xmalloc(n);
	struct iface *ifc = iface_init(f->mem[i], n, &cfg, dev);
	if (!ifc)
		abort();
	return ifc;
}

void fix_init(struct fix *f, const struct fix_opts *opts)
{
	struct fix_opts o = *opts;

	memset(f, 0, sizeof(*f));
	f->now = 1000000; /* not zero: nothing may treat 0 as "never happened" */
	f->frames = o.frames ? o.frames : 256;
	struct dev_loopback_config lc = {.frames = f->frames, .frame_size = 1514, .rx_batch = 32};
	size_t n = dev_loopback_mem_size(&lc);
	f->mem[2] = xmalloc(n);
	f->wire = dev_loopback_init(f->mem[2], n, &lc);
	f->dev_a = dev_loopback_end(f->wire, 0);
	f->dev_b = dev_loopback_end(f->wire, 1);
	if (o.fault.drop_pct || o.fault.corrupt_pct || o.fault.max_size || o.fault.rate_frames) {
		o.fault.inner = f->dev_a;
		f->dev_a = dev_fault_init(&f->fault, &o.fault);
	}
	f->a = make_iface(f, 0, o.cfg_a, &FIX_MAC_A, FIX_IP_A, f->dev_a);
	if (!o.raw_peer)
		f->b = make_iface(f, 1, o.cfg_b, &FIX_MAC_B, FIX_IP_B, f->dev_b);
	if (!o.no_udp) {
		f->ua = make_udp(f, 0, f->a, o.udp_a, iface_get_config(f->a)->seed);
		if (f->b)
			f->ub = make_udp(f, 1, f->b, o.udp_b, iface_get_config(f->b)->seed);
	}
}

void fix_init_raw(struct fix *f, const struct fix_opts *opts)
{
	struct fix_opts o = *opts;
	o.raw_peer = true;
	fix_init(f, &o);
	fix_settle(f);
	raw_drain(f);
}

void fix_free(struct fix *f)
{
	iface_release(f->a);
	if (f->b)
		iface_release(f->b);
	forget_udp(f->a);
	forget_udp(f->b);
	for (size_t i = 0; i < SMX_ARRAY_LEN(f->mem); i++)
		free(f->mem[i]);
}

bool fix_poll(struct fix *f)
{
	bool any = iface_poll(f->a, f->now);
	if (f->b)
		any |= iface_poll(f->b, f->now);
	return any;
}

/* Also keeps polling while an interface says it has work due now (queued sends waiting for frames). */
void fix_settle(struct fix *f)
{
	for (int i = 0; i < 1000; i++) {
		bool any = fix_poll(f);
		any |= iface_poll_delay(f->a, f->now) == 0;
		if (f->b)
			any |= iface_poll_delay(f->b, f->now) == 0;
		if (!any)
			break;
	}
}

void fix_advance(struct fix *f, smx_instant dt)
{
	f->now += dt;
	fix_settle(f);
}

void fix_run_until(struct fix *f, smx_instant until)
{
	fix_settle(f);
	while (f->now < until) {
		smx_instant at = iface_poll_at(f->a, f->now);
		if (f->b) {
			smx_instant bt = iface_poll_at(f->b, f->now);
			at = at < bt ? at : bt;
		}
		if (at <= f->now)
			at = f->now + 1;
		f->now = at < until ? at : until;
		fix_settle(f);
	}
}

/* Sockets made by the fixture, so fix_udp_free can find their memory. */
static struct {
	struct udp_socket *s;
	void *mem;
} fix_socks[256];

struct udp_socket *fix_udp_socket(struct iface *ifc, uint16_t port, uint32_t rx_slots, uint32_t tx_slots)
{
	struct udp_socket_config c = {.rx_slots = rx_slots, .tx_slots = tx_slots};
	return fix_udp_socket_cfg(ifc, port, &c);
}

struct udp_socket *fix_udp_socket_cfg(struct iface *ifc, uint16_t port, const struct udp_socket_config *cfg)
{
	struct udp_socket_config c = *cfg;
	size_t n = udp_socket_mem_size(&c);
	void *mem = xmalloc(n);
	struct udp_socket *s = udp_socket_init(mem, n, &c);
	if (!s)
		abort();
	if (ifc && udp_socket_bind(s, fix_udp(ifc), 0, port) != UDP_OK)
		abort();
	for (size_t i = 0; i < sizeof(fix_socks) / sizeof(fix_socks[0]); i++) {
		if (!fix_socks[i].s) {
			fix_socks[i].s = s;
			fix_socks[i].mem = mem;
			return s;
		}
	}
	abort();
}

void fix_udp_free(struct udp_socket *s)
{
	udp_socket_close(s);
	for (size_t i = 0; i < sizeof(fix_socks) / sizeof(fix_socks[0]); i++) {
		if (fix_socks[i].s == s) {
			free(fix_socks[i].mem);
			fix_socks[i].s = NULL;
			return;
		}
	}
	abort();
}

void raw_send(struct fix *f, const uint8_t *frame, size_t len)
{
	struct dev_frame fr;
	if (!dev_tx_reserve(f->dev_b, &fr, f->now))
		abort();
	memcpy(fr.data, frame, len);
	fr.len = (uint32_t)len;
	dev_tx_submit(f->dev_b, &fr);
	dev_tx_flush(f->dev_b, f->now);
}

size_t raw_recv(struct fix *f, uint8_t *buf, size_t cap)
{
	struct dev_frame fr;
	if (dev_rx_burst(f->dev_b, &fr, 1, f->now) == 0)
		return 0;
	size_t n = fr.len < cap ? fr.len : cap;
	memcpy(buf, fr.data, n);
	dev_rx_release(f->dev_b, &fr, 1);
	return n;
}

size_t raw_drain(struct fix *f)
{
	uint8_t buf[2048];
	size_t n = 0;
	while (raw_recv(f, buf, sizeof(buf)) > 0)
		n++;
	return n;
}

size_t raw_build_ip(uint8_t *buf, const struct eth_addr *dst_mac, ipv4_addr src, ipv4_addr dst, uint8_t proto,
		    const uint8_t *l4, size_t l4_len)
{
	struct eth_repr eth = {.dst = *dst_mac, .src = FIX_MAC_RAW, .ethertype = ETH_TYPE_IPV4};
	struct ipv4_repr ip = {.src = src, .dst = dst, .protocol = proto, .ttl = 64, .header_len = 20,
			       .total_len = (uint16_t)(20 + l4_len)};
	size_t n = eth_emit(&eth, buf, 14);
	n += ipv4_emit(&ip, buf + n, 20);
	memcpy(buf + n, l4, l4_len);
	return n + l4_len;
}

size_t raw_build_frag(uint8_t *buf, ipv4_addr src, uint8_t proto, uint16_t ident, uint16_t off, bool more,
		      const uint8_t *data, size_t len)
{
	struct eth_repr eth = {.dst = FIX_MAC_A, .src = FIX_MAC_RAW, .ethertype = ETH_TYPE_IPV4};
	struct ipv4_repr ip = {.src = src, .dst = FIX_IP_A, .protocol = proto, .ttl = 64, .ident = ident,
			       .more_frags = more, .frag_offset = off, .header_len = 20,
			       .total_len = (uint16_t)(20 + len)};
	size_t n = eth_emit(&eth, buf, 14);
	n += ipv4_emit(&ip, buf + n, 20);
	memcpy(buf + n, data, len);
	return n + len;
}

size_t raw_build_udp(uint8_t *buf, ipv4_addr src, ipv4_addr dst, uint16_t sport, uint16_t dport,
		     const uint8_t *payload, size_t len)
{
	uint8_t l4[2048];
	struct udp_repr u = {.src_port = sport, .dst_port = dport, .payload = payload, .payload_len = len};
	size_t n = udp_emit(&u, src, dst, l4, sizeof(l4));
	return raw_build_ip(buf, &FIX_MAC_A, src, dst, IP_PROTO_UDP, l4, n);
}

size_t raw_build_arp(uint8_t *buf, uint16_t op, const struct eth_addr *eth_dst, ipv4_addr spa,
		     const struct eth_addr *tha, ipv4_addr tpa)
{
	struct eth_repr eth = {.dst = *eth_dst, .src = FIX_MAC_RAW, .ethertype = ETH_TYPE_ARP};
	struct arp_repr a = {.op = op, .sha = FIX_MAC_RAW, .spa = spa, .tha = *tha, .tpa = tpa};
	size_t n = eth_emit(&eth, buf, 14);
	n += arp_emit(&a, buf + n, ARP_LEN);
	return n;
}

void raw_introduce(struct fix *f)
{
	uint8_t buf[64];
	static const struct eth_addr zero;
	size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &zero, FIX_IP_A);
	raw_send(f, buf, n);
	fix_settle(f);
	raw_drain(f);
}

uint64_t fix_count(const struct iface *ifc, enum iface_counter c)
{
	return iface_counters(ifc)[c];
}
