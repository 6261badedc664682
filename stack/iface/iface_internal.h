/* The interface's insides, shared by its files (stack/iface) and the UDP sockets (stack/socket/udp*.c), which
 * live inside the interface's receive and egress paths. Not a public header. */
#ifndef SMOLXDP_IFACE_INTERNAL_H
#define SMOLXDP_IFACE_INTERNAL_H

#include "smolxdp/iface.h"
#include "smolxdp/udp.h"
#include "smolxdp/wire.h"

#define IFACE_L2_LEN ETH_HEADER_LEN /* frames are sent untagged */
#define IFACE_L3_OFF IFACE_L2_LEN
#define IFACE_L4_OFF (IFACE_L2_LEN + IPV4_HEADER_LEN) /* no options on what we send */
#define SEC 1000000ull
/* How soon work blocked for want of a transmit frame is tried again. Frames come back as the device's
 * completions, which it reclaims only when flushed in a poll: there is no event to wait for, so the
 * interface asks for a poll this much later - soon next to any peer's timers, but not a busy spin. */
#define IFACE_TX_RETRY 100ull

enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE, /* a request went out, no answer yet */
	NEIGH_VALID,
};

struct neigh {
	ipv4_addr ip;
	struct eth_addr mac;
	uint8_t state;
	smx_instant expires;      /* VALID: trusted until then */
	smx_instant last_request; /* for the 1-per-second limit, when requested */
	bool requested;
};

enum wait_state {
	WAIT_FREE = 0,
	WAIT_BUILDING, /* lent to a transport between begin and commit */
	WAIT_READY,    /* committed, waiting for its next hop's address */
};

/* A packet waiting for ARP: a whole frame buffer, its Ethernet destination filled in when resolved. */
struct arp_wait {
	uint8_t state;
	ipv4_addr next_hop;
	uint32_t len; /* frame length */
	uint32_t seq; /* queue order, so packets to one neighbour leave in the order they were sent */
	smx_instant queued_at;
	uint8_t *frame;
};

/* ip_tx.priv_kind values */
enum { TX_KIND_FRAME = 1, TX_KIND_WAIT = 2 };

/* One received IPv4 packet on its way up. */
struct rx_ip {
	struct ipv4_repr ip;
	const uint8_t *packet; /* the IPv4 header */
	const uint8_t *l4;
	size_t l4_len;
	bool broadcast;         /* sent to a broadcast address (no ICMP errors, no echo replies) */
	bool link_broadcast;    /* came in an Ethernet broadcast frame */
	enum wire_csum csum;
};

struct udp_pkt {
	ipv4_addr remote_addr;
	ipv4_addr local_addr;
	uint16_t remote_port;
	uint16_t len;
	const uint8_t *view; /* non-NULL: the payload is still in the received frame */
};

struct udp_tx_pkt {
	ipv4_addr dst;
	uint16_t dst_port;
	uint16_t len;
};

struct udp_socket {
	struct udp_socket_config cfg;
	struct iface *iface; /* NULL while unbound */
	ipv4_addr local_addr;
	uint16_t local_port;
	struct udp_socket *hash_next;
	/* receive: ring of descriptors, descriptor i owns buffer slot i */
	struct udp_pkt *rx;
	uint8_t *rx_buf;
	uint32_t rx_head, rx_count, rx_views;
	struct udp_socket *view_next; /* on the interface's list of sockets holding views */
	bool on_view_list;
	/* transmit queue, drained at egress */
	struct udp_tx_pkt *tx;
	uint8_t *tx_buf;
	uint32_t tx_head, tx_count;
	struct udp_socket *tx_next;
	bool on_tx_list;
	/* zero-copy send in progress */
	bool zc_active;
	uint16_t zc_dst_port;
	struct ip_tx zc;
	bool has_error;
	struct udp_error error;
	struct udp_socket_stats stats;
};

struct iface {
	struct iface_config cfg;
	struct dev *dev;
	struct dev_caps caps;
	uint16_t mtu;
	smx_instant now; /* of the latest poll: sends between polls use it */
	uint64_t counters[IFACE_COUNTER_COUNT];
	uint64_t rng;
	uint16_t ip_ident;
	bool announced;
	bool activity; /* something sent since the last poll returned */
	/* Why the latest iface_ip_begin said IP_TX_NO_BUFFER: counted only by a caller that then gives the
	 * packet up, since a send that is kept and retried on later polls is no drop. */
	enum iface_counter tx_fail;
	/* What blocked work (queued datagrams, resolved ARP waiters) waits for, noted as it blocks and
	 * cleared at each poll, whose egress tries all of it again; read by iface_poll_at. */
	smx_instant tx_retry_at;   /* no transmit frame: try again then (0: not blocked on one) */
	bool udp_wait_arp_slot;    /* a queued datagram waits for a free ARP wait slot */
	bool sender_blocked;       /* the ip_sender (TCP) was refused a buffer */
	struct ip_sender sender;
	/* neighbours */
	struct neigh *neigh;
	uint32_t neigh_mask;
	struct arp_wait *wait;
	uint32_t wait_slots;
	uint32_t wait_used;
	uint32_t wait_seq;
	/* receive batch, held until the next poll while views into it are out */
	struct dev_frame *rx_frames;
	uint32_t rx_batch;
	uint32_t rx_held;
	uint32_t views_out; /* views taken from the current batch */
	/* UDP */
	struct udp_socket **udp_buckets;
	uint32_t udp_mask;
	uint32_t udp_bound;
	struct udp_socket *udp_view_list;
	struct udp_socket *udp_tx_list;
	/* ICMP error rate limit: a token bucket, refilled when an error is about to be sent */
	uint32_t icmp_tokens;
	smx_instant icmp_step; /* one token per step */
	smx_instant icmp_refill_at;
	ipv4_addr bcast[IFACE_MAX_ADDRS]; /* each address's directed broadcast, computed at init */
	uint32_t mask[IFACE_MAX_ADDRS];   /* each address's subnet mask, computed at init */
	/* transports and hooks */
	struct l4_handler tcp;
	bool has_tcp;
	iface_icmp_fn icmp_fn;
	void *icmp_ctx;
};

static inline void iface_count(struct iface *ifc, enum iface_counter c)
{
	ifc->counters[c]++;
}

/* Writes an untagged Ethernet header. */
static inline void eth_header_put(uint8_t *p, const struct eth_addr *dst, const struct eth_addr *src,
				  uint16_t type)
{
	memcpy(p, dst->b, 6);
	memcpy(p + 6, src->b, 6);
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
}

/* Frames shorter than Ethernet's minimum are zero-padded (IEEE 802.3 4.2.3.3): NICs pad too, but
 * veth and loopback do not, and stale pool bytes must not leak onto the wire. */
static inline uint32_t eth_pad(uint8_t *frame, uint32_t len, uint32_t cap)
{
	if (len < ETH_MIN_FRAME && cap >= ETH_MIN_FRAME) {
		memset(frame + len, 0, ETH_MIN_FRAME - len);
		return ETH_MIN_FRAME;
	}
	return len;
}

/* Address checks, inline since every packet takes several (destination, source, the reply's route). */
static inline bool iface_is_our_addr(const struct iface *ifc, ipv4_addr a)
{
	for (unsigned i = 0; i < ifc->cfg.addr_count; i++)
		if (ifc->cfg.addrs[i].addr == a)
			return true;
	return false;
}

/* The limited broadcast, or the directed broadcast of one of our subnets (RFC 919, RFC 922). /31
 * and /32 subnets have none (RFC 3021): their bcast[] is the limited one. */
static inline bool iface_is_broadcast_addr(const struct iface *ifc, ipv4_addr a)
{
	if (a == 0xffffffffu)
		return true;
	for (unsigned i = 0; i < ifc->cfg.addr_count; i++)
		if (a == ifc->bcast[i])
			return true;
	return false;
}

/* routing and the ip_sender (ip_out.c) */
void iface_sender_setup(struct iface *ifc);
enum ip_tx_err iface_ip_begin(struct iface *ifc, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			      struct ip_tx *tx);
void iface_ip_commit(struct iface *ifc, struct ip_tx *tx, size_t l4_len);
void iface_ip_abort(struct iface *ifc, struct ip_tx *tx);
/* A packet given up after iface_ip_begin failed with err: counts why, if it was for want of a buffer. */
void iface_count_tx_fail(struct iface *ifc, enum ip_tx_err err);
/* Notes that work kept for later found no transmit frame (see tx_retry_at). */
static inline void iface_tx_starved(struct iface *ifc)
{
	ifc->tx_retry_at = ifc->now + IFACE_TX_RETRY;
}
/* Submits a built frame; counts it. */
void iface_frame_send(struct iface *ifc, struct dev_frame *f);

/* ARP and the neighbour cache (arp.c) */
void arp_input(struct iface *ifc, const uint8_t *buf, size_t len);
void arp_announce(struct iface *ifc);
/* A VALID, unexpired entry, or NULL. */
const struct neigh *neigh_lookup(struct iface *ifc, ipv4_addr ip, smx_instant now);
/* A request for ip unless one went out less than a second ago. */
void neigh_solicit(struct iface *ifc, ipv4_addr ip);
bool arp_wait_egress(struct iface *ifc);
smx_instant arp_wait_poll_at(struct iface *ifc, smx_instant now);

/* IPv4 and Ethernet receive (ip_in.c) */
void iface_frame_input(struct iface *ifc, const uint8_t *buf, size_t len);

/* ICMP (icmp.c) */
void icmp_input(struct iface *ifc, const struct rx_ip *rx);
void icmp_send_error(struct iface *ifc, const struct rx_ip *rx, uint8_t type, uint8_t code);

/* UDP (socket/udp_iface.c) */
void udp_input(struct iface *ifc, const struct rx_ip *rx);
void udp_icmp_error(struct iface *ifc, const struct icmpv4_repr *icmp);
void udp_views_settle(struct iface *ifc);
bool udp_egress(struct iface *ifc);
/* Sends the head of a socket's queue; false when no frame or ARP slot is free for now. */
bool udp_send_queued(struct udp_socket *s);
void udp_table_layout(struct iface *ifc, uint32_t buckets);

#endif
