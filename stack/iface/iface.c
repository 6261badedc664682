/* The interface object: configuration and memory layout, the poll loop (receive a batch, egress,
 * flush) and when it next needs to run, the transports' registration, counters. The protocols live in
 * arp.c, ip_in.c, ip_out.c and icmp.c; the transports behind struct l4_handler. */
#include "iface_internal.h"
#include "smolxdp/mem.h"

static const char *const counter_names[IFACE_COUNTER_COUNT] = {
	[IFACE_RX_FRAMES] = "rx_frames",
	[IFACE_TX_FRAMES] = "tx_frames",
	[IFACE_ARP_REQUESTS_SENT] = "arp_requests_sent",
	[IFACE_ARP_REPLIES_SENT] = "arp_replies_sent",
	[IFACE_ICMP_ECHO_REPLIES_SENT] = "icmp_echo_replies_sent",
	[IFACE_ICMP_ERRORS_SENT] = "icmp_errors_sent",
	[IFACE_ICMP_ERRORS_RECEIVED] = "icmp_errors_received",
	[IFACE_UDP_RX_DATAGRAMS] = "udp_rx_datagrams",
	[IFACE_TCP_RX_SEGMENTS] = "tcp_rx_segments",
	[IFACE_TCP_RST_SENT] = "tcp_rst_sent",
	[IFACE_FRAG_RX_FRAGMENTS] = "frag_rx_fragments",
	[IFACE_FRAG_REASSEMBLED] = "frag_reassembled",
	[IFACE_FRAG_TX_DATAGRAMS] = "frag_tx_datagrams",
	[IFACE_FRAG_TX_FRAGMENTS] = "frag_tx_fragments",
	[IFACE_DROP_ETH_MALFORMED] = "drop_eth_malformed",
	[IFACE_DROP_ETH_NOT_FOR_US] = "drop_eth_not_for_us",
	[IFACE_DROP_ETH_UNKNOWN_TYPE] = "drop_eth_unknown_type",
	[IFACE_DROP_ETH_OTHER_VLAN] = "drop_eth_other_vlan",
	[IFACE_DROP_ARP_MALFORMED] = "drop_arp_malformed",
	[IFACE_DROP_ARP_NOT_FOR_US] = "drop_arp_not_for_us",
	[IFACE_DROP_IPV4_MALFORMED] = "drop_ipv4_malformed",
	[IFACE_DROP_IPV4_BAD_CHECKSUM] = "drop_ipv4_bad_checksum",
	[IFACE_DROP_IPV4_BAD_SOURCE] = "drop_ipv4_bad_source",
	[IFACE_DROP_IPV4_NOT_FOR_US] = "drop_ipv4_not_for_us",
	[IFACE_DROP_FRAG_MALFORMED] = "drop_frag_malformed",
	[IFACE_DROP_FRAG_TOO_LONG] = "drop_frag_too_long",
	[IFACE_DROP_FRAG_TINY] = "drop_frag_tiny",
	[IFACE_DROP_FRAG_OVERLAP] = "drop_frag_overlap",
	[IFACE_DROP_FRAG_DUPLICATE] = "drop_frag_duplicate",
	[IFACE_DROP_FRAG_TIMEOUT] = "drop_frag_timeout",
	[IFACE_DROP_FRAG_EVICTED] = "drop_frag_evicted",
	[IFACE_DROP_FRAG_NO_SLOT] = "drop_frag_no_slot",
	[IFACE_DROP_IPV4_UNKNOWN_PROTO] = "drop_ipv4_unknown_proto",
	[IFACE_DROP_ICMP_MALFORMED] = "drop_icmp_malformed",
	[IFACE_DROP_ICMP_BAD_CHECKSUM] = "drop_icmp_bad_checksum",
	[IFACE_DROP_ICMP_BROADCAST_ECHO] = "drop_icmp_broadcast_echo",
	[IFACE_DROP_ICMP_UNHANDLED] = "drop_icmp_unhandled",
	[IFACE_DROP_UDP_NO_HANDLER] = "drop_udp_no_handler",
	[IFACE_DROP_TCP_MALFORMED] = "drop_tcp_malformed",
	[IFACE_DROP_TCP_NO_HANDLER] = "drop_tcp_no_handler",
	[IFACE_DROP_TX_NO_FRAME] = "drop_tx_no_frame",
	[IFACE_DROP_TX_NO_ROUTE] = "drop_tx_no_route",
	[IFACE_DROP_TX_ARP_QUEUE_FULL] = "drop_tx_arp_queue_full",
	[IFACE_DROP_TX_ARP_UNRESOLVED] = "drop_tx_arp_unresolved",
	[IFACE_DROP_ICMP_RATE_LIMITED] = "drop_icmp_rate_limited",
	[IFACE_DROP_FRAG_TX_BUSY] = "drop_frag_tx_busy",
};

const char *iface_counter_name(enum iface_counter c)
{
	return (unsigned)c < IFACE_COUNTER_COUNT ? counter_names[c] : "unknown";
}

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;
	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/* Fills in defaults; false when the config cannot work with this device. */
static bool config_complete(struct iface_config *cfg, const struct dev_caps *caps)
{
	if (cfg->addr_count == 0 || cfg->addr_count > IFACE_MAX_ADDRS)
		return false;
	for (unsigned i = 0; i < cfg->addr_count; i++)
		if (cfg->addrs[i].prefix_len > 32 || cfg->addrs[i].addr == 0)
			return false;
	/* VID 4095 is reserved (IEEE 802.1Q 9.6); 0 means untagged here. */
	if (cfg->vlan_id > 4094 || cfg->vlan_prio > 7)
		return false;
	/* A tagged frame may be 4 bytes longer than the device's untagged limit where it says so. */
	uint32_t l2_len = iface_cfg_l2_len(cfg);
	uint32_t max_frame = cfg->vlan_id && caps->max_frame_tagged ? caps->max_frame_tagged : caps->max_frame;
	if (max_frame < l2_len + 68) /* RFC 791: every host takes 68-byte packets */
		return false;
	uint32_t dev_mtu = SMX_MIN(max_frame - l2_len, caps->max_frame - ETH_HEADER_LEN);
	if (cfg->mtu == 0)
		cfg->mtu = (uint16_t)SMX_MIN(dev_mtu, 1500u);
	if (cfg->mtu < 68 || cfg->mtu > dev_mtu)
		return false;
	if (cfg->ttl == 0)
		cfg->ttl = 64;
	cfg->arp_cache_entries = round_pow2(cfg->arp_cache_entries ? cfg->arp_cache_entries : 64);
	if (cfg->arp_wait_slots == 0)
		cfg->arp_wait_slots = 16;
	/* Not the device's figure: iface_mem_size cannot see the device, and both must agree. */
	if (cfg->rx_batch == 0)
		cfg->rx_batch = 64;
	if (cfg->arp_expiry == 0)
		cfg->arp_expiry = 60 * SEC;
	if (cfg->arp_timeout == 0)
		cfg->arp_timeout = 3 * SEC;
	if (cfg->icmp_errors_per_sec == 0)
		cfg->icmp_errors_per_sec = 100;
	if (cfg->reasm_slots == 0)
		cfg->reasm_slots = 8;
	if (cfg->reasm_max_len == 0)
		cfg->reasm_max_len = 65535;
	if (cfg->reasm_timeout == 0)
		cfg->reasm_timeout = 30 * SEC; /* Linux's ipfrag_time; RFC 1122 3.3.2 asks for a fixed one */
	if (cfg->frag_max_len == 0)
		cfg->frag_max_len = 65535;
	/* RFC 791: every host takes 576-byte datagrams, reassembled if need be. */
	if (cfg->reasm_max_len < 576 || cfg->reasm_max_len > 65535 || cfg->frag_max_len < 576 ||
	    cfg->frag_max_len > 65535)
		return false;
	return true;
}

static void iface_layout(struct smx_carve *c, const struct iface_config *cfg, struct iface **ifc)
{
	size_t frame_len = iface_cfg_l2_len(cfg) + cfg->mtu;

	*ifc = smx_carve_take(c, sizeof(struct iface));
	if (c->base) /* cleared first: the reassembly and staging layouts fill in their fields */
		memset(*ifc, 0, sizeof(**ifc));
	struct neigh *neigh = smx_carve_take(c, cfg->arp_cache_entries * sizeof(struct neigh));
	struct arp_wait *wait = smx_carve_take(c, cfg->arp_wait_slots * sizeof(struct arp_wait));
	uint8_t *wait_buf = smx_carve_take(c, cfg->arp_wait_slots * frame_len);
	struct dev_frame *rx = smx_carve_take(c, cfg->rx_batch * sizeof(struct dev_frame));
	ip_reasm_layout(c, cfg, *ifc);
	ip_frag_layout(c, cfg, *ifc);
	if (!c->base)
		return;
	memset(neigh, 0, cfg->arp_cache_entries * sizeof(struct neigh));
	memset(wait, 0, cfg->arp_wait_slots * sizeof(struct arp_wait));
	for (uint32_t i = 0; i < cfg->arp_wait_slots; i++)
		wait[i].frame = wait_buf + i * frame_len;
	(*ifc)->neigh = neigh;
	(*ifc)->neigh_mask = cfg->arp_cache_entries - 1;
	(*ifc)->wait = wait;
	(*ifc)->wait_slots = cfg->arp_wait_slots;
	(*ifc)->rx_frames = rx;
	(*ifc)->rx_batch = cfg->rx_batch;
}

/* The MTU (and so the layout) depends on the device, which iface_mem_size does not see: it sizes for
 * the largest MTU the config allows. */
size_t iface_mem_size(const struct iface_config *cfg)
{
	struct iface_config c = *cfg;
	struct dev_caps caps = {.max_frame = 0xffff, .rx_batch = 32};
	struct smx_carve carve;
	struct iface *ifc;

	if (c.mtu == 0)
		c.mtu = 1500;
	if (!config_complete(&c, &caps))
		return 0;
	smx_carve_start(&carve, NULL);
	iface_layout(&carve, &c, &ifc);
	return smx_carve_total(&carve);
}

struct iface *iface_init(void *mem, size_t mem_size, const struct iface_config *cfg, struct dev *dev)
{
	struct iface_config c = *cfg;
	struct dev_caps caps = {0};
	struct smx_carve carve;
	struct iface *ifc;
	size_t need;

	if (!mem || !dev)
		return NULL;
	dev_get_caps(dev, &caps);
	if (!config_complete(&c, &caps))
		return NULL;
	smx_carve_start(&carve, NULL);
	iface_layout(&carve, &c, &ifc);
	need = smx_carve_total(&carve);
	if (mem_size < need)
		return NULL;
	smx_carve_start(&carve, mem);
	iface_layout(&carve, &c, &ifc);
	ifc->cfg = c;
	ifc->dev = dev;
	ifc->caps = caps;
	ifc->mtu = c.mtu;
	ifc->l2_len = (uint16_t)iface_cfg_l2_len(&c);
	ifc->vlan_tci = (uint16_t)(c.vlan_prio << 13 | c.vlan_id); /* PCP, DEI 0, VID */
	ifc->rng = c.seed ^ 0x736d6f6c786470ull; /* "smolxdp": a zero seed still gives a usable state */
	ifc->ip_ident = (uint16_t)(ifc->rng >> 17);
	ifc->frag_ident = (uint16_t)(ifc->rng >> 41);
	ifc->tx_fail = IFACE_DROP_TX_NO_FRAME;
	ifc->neigh_shared = c.neigh_shared;
	ifc->poll_extra = true;
	ifc->icmp_tokens = c.icmp_errors_per_sec;
	ifc->icmp_step = SMX_MAX(SEC / c.icmp_errors_per_sec, 1ull);
	for (unsigned i = 0; i < c.addr_count; i++) {
		uint8_t len = c.addrs[i].prefix_len;
		uint32_t m = len == 0 ? 0 : 0xffffffffu << (32 - len);
		/* /31 and /32 subnets have no directed broadcast (RFC 3021): the limited one stands in. */
		ifc->bcast[i] = len < 31 ? (c.addrs[i].addr & m) | ~m : 0xffffffffu;
		ifc->mask[i] = m;
	}
	iface_sender_setup(ifc);
	for (unsigned i = 0; i < IFACE_L4_COUNT; i++)
		iface_l4_sender_setup(ifc, &ifc->l4[i]);
	return ifc;
}

/* Also called in the middle of a batch when reassembly wants a slot a delivered datagram holds: the
 * transports copy out every view, those into the batch's frames too, which is only a copy early. */
void iface_views_settle(struct iface *ifc)
{
	if (ifc->views_out) {
		for (unsigned i = 0; i < IFACE_L4_COUNT; i++)
			if (ifc->l4[i].on && ifc->l4[i].h.release_views)
				ifc->l4[i].h.release_views(ifc->l4[i].h.ctx);
		ifc->views_out = false;
	}
	ip_reasm_release_held(ifc);
}

void iface_release(struct iface *ifc)
{
	/* Views into the batch (and into reassembled datagrams) are copied out by the transports that
	 * kept them, then it goes back. */
	iface_views_settle(ifc);
	if (ifc->rx_held > 0)
		dev_rx_release(ifc->dev, ifc->rx_frames, ifc->rx_held);
	ifc->rx_held = 0;
}

/* A received frame was written by the kernel on another CPU (copy mode) or by the NIC: its first
 * read misses every line, and the checksum reads them all. Asked for while the frame before it is
 * processed, they arrive meanwhile: the checksum had been a sixth of a receiving client's CPU,
 * mostly waiting on those misses (160 ns a segment, 40 ns with the data cached); bulk TCP into
 * smolxdp-tcpclient went from 12.5 to 16.5 Gbit/s with it. */
static void prefetch_frame(const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += 64)
		__builtin_prefetch(p + off);
}

bool iface_poll(struct iface *ifc, smx_instant now)
{
	size_t n;

	ifc->now = now;
	/* Egress below tries all blocked work again and notes afresh what still blocks it. */
	ifc->tx_retry_at = 0;
	for (unsigned i = 0; i < IFACE_L4_COUNT; i++)
		ifc->l4[i].blocked = L4_NOT_BLOCKED;
	/* The previous batch is given back now: views not read yet are copied to their slots first. */
	iface_release(ifc);
	ip_reasm_expire(ifc);
	/* One test per poll for the rare per-poll work: the first poll's announcement, and with a shared
	 * neighbour table a look at whether another queue changed it. */
	if (ifc->poll_extra) {
		if (!ifc->announced) {
			ifc->announced = true;
			arp_announce(ifc);
		}
		if (ifc->neigh_shared)
			neigh_shared_sync(ifc);
		ifc->poll_extra = ifc->neigh_shared != NULL;
	}
	n = dev_rx_burst(ifc->dev, ifc->rx_frames, ifc->rx_batch, now);
	ifc->counters[IFACE_RX_FRAMES] += n;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			prefetch_frame(ifc->rx_frames[i + 1].data, ifc->rx_frames[i + 1].len);
		iface_frame_input(ifc, ifc->rx_frames[i].data, ifc->rx_frames[i].len);
	}
	/* Hold the batch only while some transport holds a view into it. */
	if (ifc->views_out)
		ifc->rx_held = (uint32_t)n;
	else if (n > 0)
		dev_rx_release(ifc->dev, ifc->rx_frames, n);
	/* Frames the app sent since the last poll go out in this flush: they count as activity too. */
	return iface_flush(ifc, now) || n > 0;
}

bool iface_flush(struct iface *ifc, smx_instant now)
{
	ifc->now = now;
	if (ifc->wait_used > 0)
		arp_wait_egress(ifc);
	for (unsigned i = 0; i < IFACE_L4_COUNT; i++) {
		struct iface_l4 *l4 = &ifc->l4[i];
		if (l4->on)
			l4->h.output(l4->h.ctx, now, &l4->tx);
	}
	dev_tx_flush(ifc->dev, now);
	bool active = ifc->activity;
	ifc->activity = false;
	return active;
}

/* A transport keeps a send it could not make and says "now" until it goes, but the interface cannot
 * tell that from new work. While its latest output was refused a buffer, it is asked again when what
 * blocked it can have changed: a transmit frame (retried at tx_retry_at: frames come back only as
 * completions, reclaimed in a poll), or an ARP wait slot, which frees when a reply comes (input wakes
 * the app anyway) or at a timeout that arp_wait_poll_at reports - or at once if one is free already. */
static smx_instant l4_poll_at(const struct iface *ifc, const struct iface_l4 *l4, smx_instant now)
{
	smx_instant t = l4->h.poll_at(l4->h.ctx, now);

	if (t > now || l4->blocked == L4_NOT_BLOCKED)
		return t;
	if (l4->blocked == L4_BLOCKED_FRAME)
		return SMX_MAX(t, ifc->tx_retry_at);
	return ifc->wait_used < ifc->wait_slots ? t : SMX_INSTANT_NEVER;
}

smx_instant iface_poll_at(struct iface *ifc, smx_instant now)
{
	smx_instant at = SMX_INSTANT_NEVER;

	if (!ifc->announced)
		return now;
	if (ifc->wait_used > 0)
		at = SMX_MIN(at, arp_wait_poll_at(ifc, now));
	at = SMX_MIN(at, ip_reasm_poll_at(ifc));
	for (unsigned i = 0; i < IFACE_L4_COUNT; i++)
		if (ifc->l4[i].on)
			at = SMX_MIN(at, l4_poll_at(ifc, &ifc->l4[i], now));
	return at;
}

smx_instant iface_poll_delay(struct iface *ifc, smx_instant now)
{
	smx_instant at = iface_poll_at(ifc, now);

	if (at == SMX_INSTANT_NEVER)
		return SMX_INSTANT_NEVER;
	return at <= now ? 0 : at - now;
}

bool iface_set_l4_handler(struct iface *ifc, uint8_t proto, const struct l4_handler *h)
{
	struct iface_l4 *l4 = iface_l4_slot(ifc, proto);

	if (!l4)
		return false;
	/* Views the old handler holds are settled now: it will not be asked later. */
	if (l4->on && ifc->views_out && l4->h.release_views)
		l4->h.release_views(l4->h.ctx);
	if (l4->on && l4->h.attach)
		l4->h.attach(l4->h.ctx, NULL);
	l4->on = h != NULL;
	l4->blocked = L4_NOT_BLOCKED;
	if (h) {
		l4->h = *h;
		if (h->attach)
			h->attach(h->ctx, &l4->tx);
	}
	return true;
}

void iface_set_icmp_handler(struct iface *ifc, iface_icmp_fn fn, void *ctx)
{
	ifc->icmp_fn = fn;
	ifc->icmp_ctx = ctx;
}

const struct ip_sender *iface_ip_sender(struct iface *ifc)
{
	return &ifc->sender;
}

const uint64_t *iface_counters(const struct iface *ifc)
{
	return ifc->counters;
}

uint16_t iface_mtu(const struct iface *ifc)
{
	return ifc->mtu;
}

const struct iface_config *iface_get_config(const struct iface *ifc)
{
	return &ifc->cfg;
}

bool iface_neighbor_lookup(struct iface *ifc, ipv4_addr ip, struct eth_addr *mac, smx_instant now)
{
	const struct neigh *n = neigh_lookup(ifc, ip, now);
	struct neigh_shared_view v;

	if (n) {
		*mac = n->mac;
		return true;
	}
	if (!ifc->neigh_shared || !neigh_shared_get(ifc->neigh_shared, ip, now, &v) || !v.known)
		return false;
	*mac = v.mac;
	return true;
}
