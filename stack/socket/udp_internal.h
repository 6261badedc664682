/* The insides of UDP, shared by its files: the stack (udp_stack.c: port table, receive, queued sends,
 * ICMP errors, the l4_handler) and the sockets' API (udp.c). Not a public header; it knows the
 * interface only as the ip_sender it was given. */
#ifndef SMOLXDP_UDP_INTERNAL_H
#define SMOLXDP_UDP_INTERNAL_H

#include "smolxdp/mem.h"
#include "smolxdp/udp.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/udp.h"

/* A received datagram in a socket's receive ring. */
struct udp_pkt {
	ipv4_addr remote_addr;
	ipv4_addr local_addr;
	uint16_t remote_port;
	uint16_t len;
	const uint8_t *view; /* non-NULL: the payload is still in the received frame */
};

/* A datagram queued for want of a transmit frame or ARP wait slot. */
struct udp_tx_pkt {
	ipv4_addr dst;
	uint16_t dst_port;
	uint16_t len;
};

/* A datagram sent large enough to draw a "fragmentation needed": what such an ICMP must quote to be
 * believed (udp_pmtu.c). The checksum stands in for TCP's sequence number (RFC 5927 4.1): an
 * off-path forger does not know it. */
struct udp_sent {
	ipv4_addr dst;
	uint16_t dst_port;
	uint16_t udp_len;
	uint16_t csum;
};
#define UDP_SENT_KEPT 4 /* per socket, the most recent */

/* A path MTU learned for a destination (RFC 1191). */
struct udp_pmtu {
	ipv4_addr dst;
	uint16_t mtu;
	smx_instant at;
};

struct udp_socket {
	struct udp_socket_config cfg;
	struct udp_stack *stack; /* NULL while unbound */
	ipv4_addr local_addr;
	uint16_t local_port;
	struct udp_socket *hash_next;
	/* receive: ring of descriptors, descriptor i owns buffer slot i */
	struct udp_pkt *rx;
	uint8_t *rx_buf;
	uint32_t rx_head, rx_count, rx_views;
	struct udp_socket *view_next; /* on the stack's list of sockets holding views */
	bool on_view_list;
	/* transmit queue, drained by the stack's output */
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
	struct udp_sent sent[UDP_SENT_KEPT];
	uint8_t sent_next;
	struct udp_socket_stats stats;
};

struct udp_stack {
	struct udp_config cfg;
	/* What sockets send through: the interface's sender (l4_handler.attach; NULL while unplugged),
	 * or while path MTUs are known, pmtu_tx wrapped around it (udp_pmtu.c). */
	const struct ip_sender *tx;
	const struct ip_sender *iface_tx;
	struct ip_sender pmtu_tx;
	uint64_t rng;
	struct udp_socket **buckets; /* port table: chained through the sockets, O(1) by port */
	uint32_t mask;
	uint32_t bound;
	struct udp_socket *view_list; /* sockets holding views into the interface's receive batch */
	struct udp_socket *tx_list;   /* sockets with queued datagrams */
	struct udp_pmtu *pmtu;        /* pmtu[0..pmtu_used): path MTUs learned */
	uint32_t pmtu_used;
	smx_instant now;              /* as of the last call from the interface: ages the path MTUs */
	struct udp_stats stats;
};

/* Sends a datagram now, copied from data; UDP_ERR_WOULD_BLOCK when no buffer is free for now. */
enum udp_err udp_send_now(struct udp_socket *s, const void *data, size_t len, ipv4_addr dst,
			  uint16_t dst_port);
/* Sends what the sockets have queued, in order, until a send is refused a buffer. */
bool udp_drain(struct udp_stack *u);
/* udp_pmtu.c: path MTU discovery (RFC 1191) */
/* Bytes above which a datagram is recorded as sent (udp_pmtu_sent): smaller ones draw no ICMP. */
#define UDP_PMTU_MIN 552u /* Linux's min_pmtu: a smaller next-hop MTU is taken as this (RFC 5927 7.2) */
void udp_pmtu_layout(struct smx_carve *c, const struct udp_config *cfg, struct udp_stack *u);
#define UDP_PMTU_TIMEOUT (10ull * 60 * 1000000) /* RFC 1191 6.3: 10 minutes */
/* The path MTU learned for dst, or 0: none, or too old (RFC 1191 6.3). Inline and calling nothing:
 * a send's checks may ask without the cost of a call on the path of those that do not. */
static inline uint16_t udp_pmtu_peek(const struct udp_stack *u, ipv4_addr dst)
{
	smx_instant timeout = u->cfg.pmtu_timeout ? u->cfg.pmtu_timeout : UDP_PMTU_TIMEOUT;

	for (uint32_t i = 0; i < u->pmtu_used; i++)
		if (u->pmtu[i].dst == dst)
			return u->now - u->pmtu[i].at < timeout ? u->pmtu[i].mtu : 0;
	return 0;
}
/* The same, forgetting an entry too old. */
uint16_t udp_pmtu_get(struct udp_stack *u, ipv4_addr dst);
/* Records a datagram just built at l4 (UDP header and all) as sent by s. */
void udp_pmtu_sent(struct udp_socket *s, ipv4_addr dst, const uint8_t *l4);
/* An ICMP fragmentation needed about s's datagram: true if it quotes one s sent (then the path MTU
 * to its destination is lowered and *mtu says to what). */
bool udp_pmtu_icmp(struct udp_stack *u, struct udp_socket *s, const struct icmpv4_repr *icmp, uint16_t *mtu);
/* The interface's sender, or NULL (unplugged): sockets send through it directly while no path MTU
 * is known, else through u->pmtu_tx, which fragments to them (no test on the common path). */
void udp_pmtu_attach(struct udp_stack *u, const struct ip_sender *tx);

/* Puts a socket with newly queued datagrams on the stack's list for output. */
void udp_tx_list_add(struct udp_stack *u, struct udp_socket *s);

#endif
