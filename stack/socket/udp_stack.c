/* The UDP stack (RFC 768, RFC 1122 4.1) and how it plugs into an interface (struct l4_handler): the
 * port table (hash buckets chained through the sockets, O(1) by port), datagram input into socket
 * slots as views of the received frame, the copy of unread views before their frames go back, queued
 * sends, ICMP errors, ephemeral ports. */
#include "smolxdp/mem.h"
#include "udp_internal.h"


static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;
	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

static void udp_stack_config_complete(struct udp_config *c)
{
	if (c->max_sockets == 0)
		c->max_sockets = 64;
	if (c->pmtu_entries == 0)
		c->pmtu_entries = 16;
	/* RFC 6335 6: the dynamic range, as RFC 6056 recommends. */
	if (c->ephemeral_min == 0 || c->ephemeral_max < c->ephemeral_min) {
		c->ephemeral_min = 49152;
		c->ephemeral_max = 65535;
	}
}

static void udp_stack_layout(struct smx_carve *c, const struct udp_config *cfg, struct udp_stack **u)
{
	uint32_t buckets = round_pow2(cfg->max_sockets);

	*u = smx_carve_take(c, sizeof(struct udp_stack));
	struct udp_socket **b = smx_carve_take(c, buckets * sizeof(struct udp_socket *));
	if (c->base)
		memset(*u, 0, sizeof(**u));
	udp_pmtu_layout(c, cfg, *u);
	if (!c->base)
		return;
	memset(b, 0, buckets * sizeof(struct udp_socket *));
	(*u)->buckets = b;
	(*u)->mask = buckets - 1;
	(*u)->cfg = *cfg;
}

size_t udp_mem_size(const struct udp_config *cfg)
{
	struct udp_config c = *cfg;
	struct smx_carve carve;
	struct udp_stack *u;

	udp_stack_config_complete(&c);
	smx_carve_start(&carve, NULL);
	udp_stack_layout(&carve, &c, &u);
	return smx_carve_total(&carve);
}

struct udp_stack *udp_init(void *mem, size_t len, const struct udp_config *cfg)
{
	struct udp_config c = *cfg;
	struct smx_carve carve;
	struct udp_stack *u;

	if (!mem || len < udp_mem_size(cfg))
		return NULL;
	udp_stack_config_complete(&c);
	smx_carve_start(&carve, mem);
	udp_stack_layout(&carve, &c, &u);
	u->rng = c.seed ^ 0x736d6f6c786470ull; /* "smolxdp": a zero seed still gives a usable state */
	return u;
}

const struct udp_stats *udp_stack_stats(const struct udp_stack *u)
{
	return &u->stats;
}

static struct udp_socket **udp_bucket(struct udp_stack *u, uint16_t port)
{
	return &u->buckets[port & u->mask];
}

/* The socket for a datagram to dst:port: one bound to exactly dst wins over a wildcard. */
static struct udp_socket *udp_lookup(struct udp_stack *u, ipv4_addr dst, uint16_t port)
{
	struct udp_socket *wild = NULL;

	for (struct udp_socket *s = *udp_bucket(u, port); s; s = s->hash_next) {
		if (s->local_port != port)
			continue;
		if (s->local_addr == dst)
			return s;
		if (s->local_addr == 0)
			wild = s;
	}
	return wild;
}

static bool udp_port_conflict(struct udp_stack *u, ipv4_addr addr, uint16_t port)
{
	for (struct udp_socket *s = *udp_bucket(u, port); s; s = s->hash_next)
		if (s->local_port == port && (s->local_addr == 0 || addr == 0 || s->local_addr == addr))
			return true;
	return false;
}

/* RFC 6056 3.3.1 (Algorithm 1): start at a random port of the range and take the next free one. The
 * remote end is not known at bind time, so the hash-based algorithms have nothing to hash. */
static uint16_t udp_ephemeral_port(struct udp_stack *u, ipv4_addr addr)
{
	uint32_t lo = u->cfg.ephemeral_min, hi = u->cfg.ephemeral_max;
	uint32_t num = hi - lo + 1;
	uint32_t next = lo + smx_rand_below(&u->rng, num);

	for (uint32_t count = num; count > 0; count--) {
		if (!udp_port_conflict(u, addr, (uint16_t)next))
			return (uint16_t)next;
		next = next == hi ? lo : next + 1;
	}
	return 0;
}

enum udp_err udp_socket_bind(struct udp_socket *s, struct udp_stack *u, ipv4_addr local_addr, uint16_t port)
{
	if (s->stack || !u)
		return UDP_ERR_INVALID;
	if (local_addr != 0 && u->tx && u->tx->is_local && !u->tx->is_local(u->tx->ctx, local_addr))
		return UDP_ERR_INVALID;
	if (u->bound >= u->cfg.max_sockets)
		return UDP_ERR_TABLE_FULL;
	if (port == 0) {
		port = udp_ephemeral_port(u, local_addr);
		if (port == 0)
			return UDP_ERR_NO_PORTS;
	} else if (udp_port_conflict(u, local_addr, port)) {
		return UDP_ERR_ADDR_IN_USE;
	}
	s->stack = u;
	s->local_addr = local_addr;
	s->local_port = port;
	s->hash_next = *udp_bucket(u, port);
	*udp_bucket(u, port) = s;
	u->bound++;
	return UDP_OK;
}

static void list_remove(struct udp_socket **head, struct udp_socket *s, bool tx)
{
	for (struct udp_socket **p = head; *p; p = tx ? &(*p)->tx_next : &(*p)->view_next) {
		if (*p == s) {
			*p = tx ? s->tx_next : s->view_next;
			return;
		}
	}
}

void udp_socket_close(struct udp_socket *s)
{
	struct udp_stack *u = s->stack;

	if (!u)
		return;
	if (s->zc_active)
		udp_socket_send_abort(s);
	for (struct udp_socket **p = udp_bucket(u, s->local_port); *p; p = &(*p)->hash_next) {
		if (*p == s) {
			*p = s->hash_next;
			break;
		}
	}
	if (s->on_view_list)
		list_remove(&u->view_list, s, false);
	if (s->on_tx_list)
		list_remove(&u->tx_list, s, true);
	u->bound--;
	s->stack = NULL;
	s->hash_next = s->view_next = s->tx_next = NULL;
	s->on_view_list = s->on_tx_list = false;
	s->rx_head = s->rx_count = s->rx_views = 0;
	s->tx_head = s->tx_count = 0;
	s->has_error = false;
}

void udp_tx_list_add(struct udp_stack *u, struct udp_socket *s)
{
	if (!s->on_tx_list) {
		s->on_tx_list = true;
		s->tx_next = u->tx_list;
		u->tx_list = s;
	}
}

/* ---- Plugging into the interface ---- */

static enum l4_rx udp_h_input(void *ctx, smx_instant now, const struct ipv4_repr *ip, const uint8_t *l4,
			      size_t len, enum wire_csum csum, const struct ip_sender *tx)
{
	struct udp_stack *u = ctx;
	struct udp_repr d;
	enum wire_err err = udp_parse(l4, len, ip->src, ip->dst, csum, &d);

	if (err != WIRE_OK) {
		if (err == WIRE_BAD_CHECKSUM)
			u->stats.rx_bad_checksum++;
		else
			u->stats.rx_malformed++;
		return L4_RX_DONE;
	}
	struct udp_socket *s = udp_lookup(u, ip->dst, d.dst_port);
	if (!s) {
		u->stats.rx_no_socket++;
		return L4_RX_PORT_UNREACHABLE; /* RFC 1122 4.1.3.1 */
	}
	if (d.payload_len > s->cfg.rx_slot_size) {
		s->stats.rx_dropped_too_big++;
		u->stats.rx_too_big++;
		return L4_RX_DONE;
	}
	if (s->rx_count == s->cfg.rx_slots) {
		s->stats.rx_dropped_full++;
		u->stats.rx_buffer_full++;
		return L4_RX_DONE;
	}
	/* No copy now: the descriptor points into the frame, held until release_views. */
	uint32_t slot = s->rx_head + s->rx_count;
	if (slot >= s->cfg.rx_slots)
		slot -= s->cfg.rx_slots;
	struct udp_pkt *p = &s->rx[slot];
	p->remote_addr = ip->src;
	p->remote_port = d.src_port;
	p->local_addr = ip->dst;
	p->len = (uint16_t)d.payload_len;
	p->view = d.payload;
	s->rx_count++;
	s->rx_views++;
	if (!s->on_view_list) {
		s->on_view_list = true;
		s->view_next = u->view_list;
		u->view_list = s;
	}
	s->stats.rx_datagrams++;
	s->stats.rx_bytes += d.payload_len;
	u->stats.rx_datagrams++;
	return L4_RX_VIEW;
}

/* Before the batch goes back to the device, datagrams the app has not read yet move into their slots. */
static void udp_h_release_views(void *ctx)
{
	struct udp_stack *u = ctx;
	struct udp_socket *s = u->view_list;

	while (s) {
		struct udp_socket *next = s->view_next;
		for (uint32_t i = 0; i < s->rx_count && s->rx_views > 0; i++) {
			uint32_t slot = (s->rx_head + i) % s->cfg.rx_slots;
			struct udp_pkt *p = &s->rx[slot];
			if (!p->view)
				continue;
			memcpy(s->rx_buf + (size_t)slot * s->cfg.rx_slot_size, p->view, p->len);
			p->view = NULL;
			s->rx_views--;
		}
		s->rx_views = 0;
		s->on_view_list = false;
		s->view_next = NULL;
		s = next;
	}
	u->view_list = NULL;
}

/* Sends the head of a socket's queue; false when no frame or ARP slot is free for now. */
static bool udp_send_queued(struct udp_socket *s)
{
	struct udp_tx_pkt *p = &s->tx[s->tx_head];
	enum udp_err err = udp_send_now(s, s->tx_buf + (size_t)s->tx_head * s->cfg.tx_slot_size, p->len, p->dst,
					p->dst_port);

	if (err == UDP_ERR_WOULD_BLOCK)
		return false;
	/* Sent, or unsendable (no route any more): either way it leaves the queue. */
	s->tx_head = (s->tx_head + 1) % s->cfg.tx_slots;
	s->tx_count--;
	return true;
}

bool udp_drain(struct udp_stack *u)
{
	struct udp_socket **p = &u->tx_list;
	bool sent = false;

	while (*p) {
		struct udp_socket *s = *p;
		while (s->tx_count > 0 && udp_send_queued(s))
			sent = true;
		if (s->tx_count == 0) {
			*p = s->tx_next;
			s->tx_next = NULL;
			s->on_tx_list = false;
		} else {
			p = &s->tx_next;
		}
	}
	return sent;
}

/* Called at every flush: nothing to do unless a datagram is queued (kept apart from the drain, so
 * that the common case costs a load). */
static bool udp_h_output(void *ctx, smx_instant now, const struct ip_sender *tx)
{
	struct udp_stack *u = ctx;

	u->now = now; /* for the path MTUs' age */
	return u->tx_list ? udp_drain(u) : false;
}

/* Queued datagrams are due at once; the interface delays asking while it knows them blocked. */
static smx_instant udp_h_poll_at(void *ctx, smx_instant now)
{
	return ((struct udp_stack *)ctx)->tx_list ? now : SMX_INSTANT_NEVER;
}

/* RFC 1122 4.1.3.3: an ICMP error about a datagram a socket sent is passed up to it. */
static bool udp_h_icmp_error(void *ctx, smx_instant now, const struct icmpv4_repr *icmp)
{
	struct udp_stack *u = ctx;
	struct udp_socket *s;

	uint16_t mtu = 0;

	if (now > u->now)
		u->now = now;
	if (!icmp->quote_has_ports || !(s = udp_lookup(u, icmp->quote_ip.src, icmp->quote_src_port)))
		return false;
	if (icmp->type == ICMPV4_DEST_UNREACH && icmp->code == ICMPV4_UNREACH_FRAG_NEEDED &&
	    !udp_pmtu_icmp(u, s, icmp, &mtu))
		return false; /* RFC 5927: it quotes nothing we sent */
	s->has_error = true;
	s->error.icmp_type = icmp->type;
	s->error.icmp_code = icmp->code;
	s->error.remote_addr = icmp->quote_ip.dst;
	s->error.remote_port = icmp->quote_dst_port;
	s->error.next_mtu = mtu;
	s->stats.icmp_errors++;
	u->stats.icmp_errors++;
	return true;
}

/* Unplugged, zero-copy sends in progress lose their frames' owner: they are given back first. */
static void udp_h_attach(void *ctx, const struct ip_sender *tx)
{
	struct udp_stack *u = ctx;

	if (!tx && u->tx) {
		for (uint32_t b = 0; b <= u->mask; b++)
			for (struct udp_socket *s = u->buckets[b]; s; s = s->hash_next)
				if (s->zc_active)
					udp_socket_send_abort(s);
	}
	udp_pmtu_attach(u, tx);
}

void udp_handler(struct udp_stack *u, struct l4_handler *h)
{
	*h = (struct l4_handler){
		.ctx = u,
		.input = udp_h_input,
		.output = udp_h_output,
		.poll_at = udp_h_poll_at,
		.icmp_error = udp_h_icmp_error,
		.release_views = udp_h_release_views,
		.attach = udp_h_attach,
	};
}
