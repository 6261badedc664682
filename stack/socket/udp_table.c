/* The interface's side of UDP (RFC 768, RFC 1122 4.1): the port table (hash buckets chained through the
 * sockets, O(1) by port), datagram input into socket slots as views of the received frame, the copy of
 * unread views before their frames go back, queued-send egress, ICMP errors, ephemeral ports. */
#include "../iface/iface_internal.h"
#include "smolxdp/mem.h"

#define EPHEMERAL_MIN 49152 /* RFC 6335 6: the dynamic range, as RFC 6056 recommends */
#define EPHEMERAL_MAX 65535

void udp_table_layout(struct iface *ifc, uint32_t buckets)
{
	memset(ifc->udp_buckets, 0, buckets * sizeof(struct udp_socket *));
	ifc->udp_mask = buckets - 1;
}

static struct udp_socket **udp_bucket(struct iface *ifc, uint16_t port)
{
	return &ifc->udp_buckets[port & ifc->udp_mask];
}

/* The socket for a datagram to dst:port: one bound to exactly dst wins over a wildcard. */
static struct udp_socket *udp_lookup(struct iface *ifc, ipv4_addr dst, uint16_t port)
{
	struct udp_socket *wild = NULL;

	for (struct udp_socket *s = *udp_bucket(ifc, port); s; s = s->hash_next) {
		if (s->local_port != port)
			continue;
		if (s->local_addr == dst)
			return s;
		if (s->local_addr == 0)
			wild = s;
	}
	return wild;
}

static bool udp_port_conflict(struct iface *ifc, ipv4_addr addr, uint16_t port)
{
	for (struct udp_socket *s = *udp_bucket(ifc, port); s; s = s->hash_next)
		if (s->local_port == port && (s->local_addr == 0 || addr == 0 || s->local_addr == addr))
			return true;
	return false;
}

/* RFC 6056 3.3.1 (Algorithm 1): start at a random port of the range and take the next free one. The
 * remote end is not known at bind time, so the hash-based algorithms have nothing to hash. */
static uint16_t udp_ephemeral_port(struct iface *ifc, ipv4_addr addr)
{
	uint32_t num = EPHEMERAL_MAX - EPHEMERAL_MIN + 1;
	uint32_t next = EPHEMERAL_MIN + smx_rand_below(&ifc->rng, num);

	for (uint32_t count = num; count > 0; count--) {
		if (!udp_port_conflict(ifc, addr, (uint16_t)next))
			return (uint16_t)next;
		next = next == EPHEMERAL_MAX ? EPHEMERAL_MIN : next + 1;
	}
	return 0;
}

enum udp_err udp_socket_bind(struct udp_socket *s, struct iface *ifc, ipv4_addr local_addr, uint16_t port)
{
	if (s->iface)
		return UDP_ERR_INVALID;
	if (local_addr != 0 && !iface_is_our_addr(ifc, local_addr))
		return UDP_ERR_INVALID;
	if (ifc->udp_bound >= ifc->cfg.udp_sockets)
		return UDP_ERR_TABLE_FULL;
	if (port == 0) {
		port = udp_ephemeral_port(ifc, local_addr);
		if (port == 0)
			return UDP_ERR_NO_PORTS;
	} else if (udp_port_conflict(ifc, local_addr, port)) {
		return UDP_ERR_ADDR_IN_USE;
	}
	s->iface = ifc;
	s->local_addr = local_addr;
	s->local_port = port;
	s->hash_next = *udp_bucket(ifc, port);
	*udp_bucket(ifc, port) = s;
	ifc->udp_bound++;
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
	struct iface *ifc = s->iface;

	if (!ifc)
		return;
	if (s->zc_active)
		udp_socket_send_abort(s);
	for (struct udp_socket **p = udp_bucket(ifc, s->local_port); *p; p = &(*p)->hash_next) {
		if (*p == s) {
			*p = s->hash_next;
			break;
		}
	}
	if (s->on_view_list)
		list_remove(&ifc->udp_view_list, s, false);
	if (s->on_tx_list)
		list_remove(&ifc->udp_tx_list, s, true);
	ifc->udp_bound--;
	s->iface = NULL;
	s->hash_next = s->view_next = s->tx_next = NULL;
	s->on_view_list = s->on_tx_list = false;
	s->rx_head = s->rx_count = s->rx_views = 0;
	s->tx_head = s->tx_count = 0;
	s->has_error = false;
}

void udp_input(struct iface *ifc, const struct rx_ip *rx)
{
	struct udp_repr u;
	enum wire_err err = udp_parse(rx->l4, rx->l4_len, rx->ip.src, rx->ip.dst, rx->csum, &u);

	if (err != WIRE_OK) {
		iface_count(ifc, err == WIRE_BAD_CHECKSUM ? IFACE_DROP_UDP_BAD_CHECKSUM : IFACE_DROP_UDP_MALFORMED);
		return;
	}
	struct udp_socket *s = udp_lookup(ifc, rx->ip.dst, u.dst_port);
	if (!s) {
		iface_count(ifc, IFACE_DROP_UDP_NO_SOCKET);
		/* RFC 1122 4.1.3.1: port unreachable, unless the datagram was a broadcast. */
		icmp_send_error(ifc, rx, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT);
		return;
	}
	if (u.payload_len > s->cfg.rx_slot_size) {
		s->stats.rx_dropped_too_big++;
		iface_count(ifc, IFACE_DROP_UDP_TOO_BIG);
		return;
	}
	if (s->rx_count == s->cfg.rx_slots) {
		s->stats.rx_dropped_full++;
		iface_count(ifc, IFACE_DROP_UDP_BUFFER_FULL);
		return;
	}
	/* No copy now: the descriptor points into the frame, held until the next poll. */
	uint32_t slot = s->rx_head + s->rx_count;
	if (slot >= s->cfg.rx_slots)
		slot -= s->cfg.rx_slots;
	struct udp_pkt *p = &s->rx[slot];
	p->remote_addr = rx->ip.src;
	p->remote_port = u.src_port;
	p->local_addr = rx->ip.dst;
	p->len = (uint16_t)u.payload_len;
	p->view = u.payload;
	s->rx_count++;
	s->rx_views++;
	ifc->views_out++;
	if (!s->on_view_list) {
		s->on_view_list = true;
		s->view_next = ifc->udp_view_list;
		ifc->udp_view_list = s;
	}
	s->stats.rx_datagrams++;
	s->stats.rx_bytes += u.payload_len;
	iface_count(ifc, IFACE_UDP_RX_DATAGRAMS);
}

/* Before the batch goes back to the device, datagrams the app has not read yet move into their slots. */
void udp_views_settle(struct iface *ifc)
{
	struct udp_socket *s = ifc->udp_view_list;

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
	ifc->udp_view_list = NULL;
}

void udp_icmp_error(struct iface *ifc, const struct icmpv4_repr *icmp)
{
	struct udp_socket *s = udp_lookup(ifc, icmp->quote_ip.src, icmp->quote_src_port);

	if (!s) {
		iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
		return;
	}
	s->has_error = true;
	s->error.icmp_type = icmp->type;
	s->error.icmp_code = icmp->code;
	s->error.remote_addr = icmp->quote_ip.dst;
	s->error.remote_port = icmp->quote_dst_port;
	s->stats.icmp_errors++;
}

bool udp_egress(struct iface *ifc)
{
	struct udp_socket **p = &ifc->udp_tx_list;

	while (*p) {
		struct udp_socket *s = *p;
		while (s->tx_count > 0 && udp_send_queued(s))
			;
		if (s->tx_count == 0) {
			*p = s->tx_next;
			s->tx_next = NULL;
			s->on_tx_list = false;
		} else {
			p = &s->tx_next;
		}
	}
	return ifc->activity;
}
