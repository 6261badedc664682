/* The insides of UDP, shared by its files: the stack (udp_stack.c: port table, receive, queued sends,
 * ICMP errors, the l4_handler) and the sockets' API (udp.c). Not a public header; it knows the
 * interface only as the ip_sender it was given. */
#ifndef SMOLXDP_UDP_INTERNAL_H
#define SMOLXDP_UDP_INTERNAL_H

#include "smolxdp/udp.h"
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
	struct udp_socket_stats stats;
};

struct udp_stack {
	struct udp_config cfg;
	const struct ip_sender *tx; /* given by the interface (l4_handler.attach); NULL while unplugged */
	uint64_t rng;
	struct udp_socket **buckets; /* port table: chained through the sockets, O(1) by port */
	uint32_t mask;
	uint32_t bound;
	struct udp_socket *view_list; /* sockets holding views into the interface's receive batch */
	struct udp_socket *tx_list;   /* sockets with queued datagrams */
	struct udp_stats stats;
};

/* Sends a datagram now, copied from data; UDP_ERR_WOULD_BLOCK when no buffer is free for now. */
enum udp_err udp_send_now(struct udp_socket *s, const void *data, size_t len, ipv4_addr dst,
			  uint16_t dst_port);
/* Sends what the sockets have queued, in order, until a send is refused a buffer. */
bool udp_drain(struct udp_stack *u);
/* Puts a socket with newly queued datagrams on the stack's list for output. */
void udp_tx_list_add(struct udp_stack *u, struct udp_socket *s);

#endif
