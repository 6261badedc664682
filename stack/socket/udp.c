/* UDP sockets (RFC 768): the app's side. Receive slots are filled by the stack (udp_stack.c) with
 * views of received frames, copied into the slot only if the app has not read them by the next poll.
 * Sends go straight into a transmit frame through the stack's ip_sender; only when none is free do
 * they wait in a tx slot. */
#include "smolxdp/mem.h"
#include "udp_internal.h"

#define UDP_MAX_PAYLOAD (65535 - IPV4_HEADER_LEN - UDP_HEADER_LEN)

static void udp_config_complete(struct udp_socket_config *c)
{
	if (c->rx_slots == 0)
		c->rx_slots = 16;
	if (c->rx_slot_size == 0)
		c->rx_slot_size = 1472;
	if (c->tx_slot_size == 0)
		c->tx_slot_size = 1472;
	c->rx_slot_size = SMX_MIN(c->rx_slot_size, (uint32_t)UDP_MAX_PAYLOAD);
	c->tx_slot_size = SMX_MIN(c->tx_slot_size, (uint32_t)UDP_MAX_PAYLOAD);
}

static void udp_layout(struct smx_carve *c, const struct udp_socket_config *cfg, struct udp_socket **s)
{
	*s = smx_carve_take(c, sizeof(struct udp_socket));
	struct udp_pkt *rx = smx_carve_take(c, cfg->rx_slots * sizeof(struct udp_pkt));
	uint8_t *rx_buf = smx_carve_take(c, (size_t)cfg->rx_slots * cfg->rx_slot_size);
	struct udp_tx_pkt *tx = smx_carve_take(c, cfg->tx_slots * sizeof(struct udp_tx_pkt));
	uint8_t *tx_buf = smx_carve_take(c, (size_t)cfg->tx_slots * cfg->tx_slot_size);
	if (!c->base)
		return;
	memset(*s, 0, sizeof(**s));
	(*s)->rx = rx;
	(*s)->rx_buf = rx_buf;
	(*s)->tx = tx;
	(*s)->tx_buf = tx_buf;
	(*s)->cfg = *cfg;
}

size_t udp_socket_mem_size(const struct udp_socket_config *cfg)
{
	struct udp_socket_config c = *cfg;
	struct smx_carve carve;
	struct udp_socket *s;

	udp_config_complete(&c);
	smx_carve_start(&carve, NULL);
	udp_layout(&carve, &c, &s);
	return smx_carve_total(&carve);
}

struct udp_socket *udp_socket_init(void *mem, size_t mem_size, const struct udp_socket_config *cfg)
{
	struct udp_socket_config c = *cfg;
	struct smx_carve carve;
	struct udp_socket *s;

	if (!mem || mem_size < udp_socket_mem_size(cfg))
		return NULL;
	udp_config_complete(&c);
	smx_carve_start(&carve, mem);
	udp_layout(&carve, &c, &s);
	return s;
}

uint16_t udp_socket_local_port(const struct udp_socket *s)
{
	return s->stack ? s->local_port : 0;
}

static enum udp_err udp_err_from_ip(enum ip_tx_err e)
{
	switch (e) {
	case IP_TX_OK:
		return UDP_OK;
	case IP_TX_NO_ROUTE:
		return UDP_ERR_NO_ROUTE;
	case IP_TX_NO_BUFFER:
		return UDP_ERR_WOULD_BLOCK;
	case IP_TX_TOO_BIG:
		return UDP_ERR_TOO_BIG;
	}
	return UDP_ERR_INVALID;
}

/* Builds header and checksum around a payload already at tx->l4 + 8, and sends. */
static void udp_finish(struct udp_socket *s, const struct ip_sender *ip, struct ip_tx *tx, uint16_t dst_port,
		       size_t len)
{
	struct udp_repr u = {
		.src_port = s->local_port,
		.dst_port = dst_port,
		.payload = tx->l4 + UDP_HEADER_LEN,
		.payload_len = len,
	};

	udp_emit(&u, tx->src, tx->dst, tx->l4, tx->l4_cap);
	if (len > UDP_PMTU_MIN - IPV4_HEADER_LEN - UDP_HEADER_LEN) /* else it draws no ICMP to check */
		udp_pmtu_sent(s, tx->dst, tx->l4);
	ip->commit(ip->ctx, tx, UDP_HEADER_LEN + len);
	s->stats.tx_datagrams++;
	s->stats.tx_bytes += len;
	s->stack->stats.tx_datagrams++;
}

/* A refused buffer (IP_TX_NO_BUFFER) is noted by the sender itself as what blocks UDP, so that the
 * interface does not ask for queued output again before it can go. */
enum udp_err udp_send_now(struct udp_socket *s, const void *data, size_t len, ipv4_addr dst,
			  uint16_t dst_port)
{
	const struct ip_sender *ip = s->stack->tx;
	struct ip_tx tx;
	enum ip_tx_err e = ip->begin(ip->ctx, s->local_addr, dst, IP_PROTO_UDP, UDP_HEADER_LEN + len, &tx);

	if (e != IP_TX_OK)
		return udp_err_from_ip(e);
	memcpy(tx.l4 + UDP_HEADER_LEN, data, len);
	udp_finish(s, ip, &tx, dst_port, len);
	return UDP_OK;
}

/* The path MTU to dst, else the interface's (u->tx set). */
static inline uint16_t udp_path_mtu(const struct udp_stack *u, ipv4_addr dst)
{
	uint16_t mtu = udp_pmtu_peek(u, dst);

	return mtu ? mtu : u->tx->mtu;
}

static enum udp_err udp_check_send(const struct udp_socket *s, size_t len, ipv4_addr dst, uint16_t dst_port)
{
	if (!s->stack)
		return UDP_ERR_NOT_BOUND;
	if (dst_port == 0 || dst == 0 || s->zc_active)
		return UDP_ERR_INVALID;
	if (!s->stack->tx)
		return UDP_ERR_NO_ROUTE;
	/* Larger than the MTU: the interface sends it as fragments, unless the socket said not to. */
	if (len > UDP_MAX_PAYLOAD ||
	    (s->cfg.dont_frag && len > (size_t)udp_path_mtu(s->stack, dst) - IPV4_HEADER_LEN - UDP_HEADER_LEN))
		return UDP_ERR_TOO_BIG;
	return UDP_OK;
}

uint16_t udp_socket_path_mtu(const struct udp_socket *s, ipv4_addr dst)
{
	return s->stack && s->stack->tx ? udp_path_mtu(s->stack, dst) : 0;
}

enum udp_err udp_socket_send_to(struct udp_socket *s, const void *data, size_t len, ipv4_addr dst,
				uint16_t dst_port)
{
	enum udp_err err = udp_check_send(s, len, dst, dst_port);

	if (err != UDP_OK)
		return err;
	/* Straight into a frame unless earlier datagrams are still queued (they go first). */
	if (s->tx_count == 0) {
		err = udp_send_now(s, data, len, dst, dst_port);
		if (err != UDP_ERR_WOULD_BLOCK)
			return err;
	}
	if (s->tx_count == s->cfg.tx_slots || len > s->cfg.tx_slot_size) {
		s->stack->stats.tx_no_buffer++; /* refused: neither sent nor kept */
		return UDP_ERR_WOULD_BLOCK;
	}
	uint32_t slot = (s->tx_head + s->tx_count) % s->cfg.tx_slots;
	s->tx[slot].dst = dst;
	s->tx[slot].dst_port = dst_port;
	s->tx[slot].len = (uint16_t)len;
	memcpy(s->tx_buf + (size_t)slot * s->cfg.tx_slot_size, data, len);
	s->tx_count++;
	udp_tx_list_add(s->stack, s);
	return UDP_OK;
}

enum udp_err udp_socket_send_begin(struct udp_socket *s, ipv4_addr dst, uint16_t dst_port, size_t max_len,
				   uint8_t **payload)
{
	enum udp_err err = udp_check_send(s, max_len, dst, dst_port);

	if (err != UDP_OK)
		return err;
	if (s->tx_count > 0) /* queued datagrams go first */
		return UDP_ERR_WOULD_BLOCK;
	const struct ip_sender *ip = s->stack->tx;
	enum ip_tx_err e = ip->begin(ip->ctx, s->local_addr, dst, IP_PROTO_UDP, UDP_HEADER_LEN + max_len, &s->zc);
	if (e != IP_TX_OK)
		return udp_err_from_ip(e);
	s->zc_active = true;
	s->zc_dst_port = dst_port;
	*payload = s->zc.l4 + UDP_HEADER_LEN;
	return UDP_OK;
}

void udp_socket_send_commit(struct udp_socket *s, size_t len)
{
	if (!s->zc_active)
		return;
	s->zc_active = false;
	const struct ip_sender *ip = s->stack->tx;
	/* Compared this way round so a huge len cannot wrap past the check (l4_cap >= 8 since begin). */
	if (len > s->zc.l4_cap - UDP_HEADER_LEN) {
		ip->abort(ip->ctx, &s->zc);
		return;
	}
	udp_finish(s, ip, &s->zc, s->zc_dst_port, len);
}

void udp_socket_send_abort(struct udp_socket *s)
{
	if (!s->zc_active)
		return;
	s->zc_active = false;
	s->stack->tx->abort(s->stack->tx->ctx, &s->zc);
}

/* Takes the oldest datagram: its payload is in the frame (a view) or in its slot. */
static enum udp_err udp_pop(struct udp_socket *s, const uint8_t **data, size_t *len, struct udp_meta *meta)
{
	if (!s->stack || s->rx_count == 0)
		return UDP_ERR_WOULD_BLOCK;
	struct udp_pkt *p = &s->rx[s->rx_head];
	*data = p->view ? p->view : s->rx_buf + (size_t)s->rx_head * s->cfg.rx_slot_size;
	*len = p->len;
	if (meta) {
		meta->remote_addr = p->remote_addr;
		meta->remote_port = p->remote_port;
		meta->local_addr = p->local_addr;
	}
	if (p->view) {
		p->view = NULL;
		s->rx_views--;
	}
	if (++s->rx_head == s->cfg.rx_slots)
		s->rx_head = 0;
	s->rx_count--;
	return UDP_OK;
}

enum udp_err udp_socket_recv_view(struct udp_socket *s, const uint8_t **data, size_t *len,
				  struct udp_meta *meta)
{
	return udp_pop(s, data, len, meta);
}

enum udp_err udp_socket_recv_from(struct udp_socket *s, void *buf, size_t cap, size_t *len,
				  struct udp_meta *meta)
{
	const uint8_t *data;
	enum udp_err err = udp_pop(s, &data, len, meta);

	if (err != UDP_OK)
		return err;
	memcpy(buf, data, SMX_MIN(*len, cap));
	return *len > cap ? UDP_ERR_TRUNCATED : UDP_OK;
}

size_t udp_socket_rx_queued(const struct udp_socket *s)
{
	return s->rx_count;
}

bool udp_socket_take_error(struct udp_socket *s, struct udp_error *err)
{
	if (!s->has_error)
		return false;
	*err = s->error;
	s->has_error = false;
	return true;
}

const struct udp_socket_stats *udp_socket_get_stats(const struct udp_socket *s)
{
	return &s->stats;
}
