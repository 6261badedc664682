/* UDP (RFC 768, RFC 1122 4.1): a UDP stack (the port table and its counters) that plugs into an
 * interface through struct l4_handler, as TCP does, and the sockets bound to it. Datagram buffers are
 * fixed-size slots given at init. Receive either copies (recv_from) or lends a view of the datagram
 * (recv_view), valid until the next iface_poll; send either copies (send_to) or lends room in a
 * transmit frame (send_begin/commit). */
#ifndef SMOLXDP_UDP_H
#define SMOLXDP_UDP_H

#include "smolxdp/base.h"
#include "smolxdp/ip_tx.h"
#include "smolxdp/l4_handler.h"

SMX_API_BEGIN

enum udp_err {
	UDP_OK = 0,
	UDP_ERR_INVALID,     /* bad argument: port 0 destination, socket state */
	UDP_ERR_ADDR_IN_USE, /* another socket is bound to that port and address */
	UDP_ERR_NO_PORTS,    /* no ephemeral port free */
	UDP_ERR_TABLE_FULL,  /* the stack's max_sockets are all bound */
	UDP_ERR_NOT_BOUND,
	UDP_ERR_WOULD_BLOCK, /* no frame and no queue slot free now (send); nothing received (recv) */
	UDP_ERR_TOO_BIG,     /* over 65,507 bytes, or the MTU's limit with dont_frag, or the slots' */
	UDP_ERR_NO_ROUTE,    /* no route, or the stack is not plugged into an interface */
	UDP_ERR_TRUNCATED,   /* recv_from: the datagram was longer than the buffer; the rest is lost */
};

/* Zero in any field means its default (in brackets). */
struct udp_config {
	uint32_t max_sockets; /* most sockets bound at once [64] */
	uint64_t seed;        /* seeds the choice of ephemeral ports */
	/* Path MTU discovery (RFC 1191): destinations whose smaller path MTU, learned from a validated
	 * ICMP "fragmentation needed", is remembered [16] (the oldest is forgotten for a new one), and
	 * for how long before the interface's MTU is tried again [10 minutes, RFC 1191 6.3]. */
	uint32_t pmtu_entries;
	smx_instant pmtu_timeout;
	/* Ephemeral ports [49152..65535, RFC 6335 6]; a share of them where each queue of an interface
	 * binds from its own (smolxdp/port_split.h). */
	uint16_t ephemeral_min;
	uint16_t ephemeral_max;
};

/* Stack-wide counters: totals and one per reason a datagram was dropped. */
struct udp_stats {
	uint64_t rx_datagrams;    /* delivered to a socket */
	uint64_t tx_datagrams;
	uint64_t rx_malformed;
	uint64_t rx_bad_checksum;
	uint64_t rx_no_socket;    /* answered with ICMP port unreachable (RFC 1122 4.1.3.1) */
	uint64_t rx_buffer_full;  /* the socket's receive slots were all taken */
	uint64_t rx_too_big;      /* larger than the socket's receive slots */
	uint64_t tx_no_buffer;    /* sends refused: no transmit frame or ARP wait slot, and no tx slot */
	uint64_t icmp_errors;     /* ICMP errors handed to a socket */
	uint64_t pmtu_reductions; /* path MTUs lowered by ICMP fragmentation needed (RFC 1191) */
	uint64_t pmtu_unverified; /* fragmentation needed quoting no datagram we sent: ignored */
};

struct udp_stack;

/* Bytes of memory udp_init needs (any alignment). */
size_t udp_mem_size(const struct udp_config *cfg);
/* Lays the stack out in mem (len >= udp_mem_size(cfg)); NULL if mem is too small. */
struct udp_stack *udp_init(void *mem, size_t len, const struct udp_config *cfg);
/* Fills h so the interface delivers UDP datagrams and ICMP errors to this stack, asks it for queued
 * output, and gives it its sender: iface_set_l4_handler(iface, IP_PROTO_UDP, &h). */
void udp_handler(struct udp_stack *u, struct l4_handler *h);
const struct udp_stats *udp_stack_stats(const struct udp_stack *u);

struct udp_socket_config {
	uint32_t rx_slots;     /* datagrams queued for the app [16] */
	uint32_t rx_slot_size; /* largest datagram payload received [1472] */
	uint32_t tx_slots;     /* datagrams queued while no transmit frame is free; 0 allowed [16] */
	uint32_t tx_slot_size; /* largest payload queued [1472] */
	/* Datagrams larger than the MTU allows (MTU - 28 bytes of payload) are sent as IPv4 fragments,
	 * up to 65,507 bytes, as Linux does by default; with dont_frag they are refused (UDP_ERR_TOO_BIG),
	 * as with Linux's IP_PMTUDISC_DO. Receiving them takes rx_slot_size that large. The MTU is the
	 * path's to the destination where one was learned (udp_socket_path_mtu), else the interface's. */
	bool dont_frag;
};

struct udp_meta {
	ipv4_addr remote_addr;
	uint16_t remote_port;
	ipv4_addr local_addr; /* where it was sent to (ours, or a broadcast address) */
};

/* An ICMP error about a datagram this socket sent (RFC 1122 4.1.3.3). */
struct udp_error {
	uint8_t icmp_type;
	uint8_t icmp_code; /* ICMPV4_DEST_UNREACH + ICMPV4_UNREACH_PORT is "connection refused" */
	ipv4_addr remote_addr;
	uint16_t remote_port;
	/* Fragmentation needed, validated (it quotes a datagram this socket sent): the path MTU to
	 * remote_addr now used. Otherwise 0. */
	uint16_t next_mtu;
};

struct udp_socket_stats {
	uint64_t rx_datagrams;
	uint64_t rx_bytes;
	uint64_t tx_datagrams;
	uint64_t tx_bytes;
	uint64_t rx_dropped_full;    /* receive slots all taken */
	uint64_t rx_dropped_too_big; /* payload larger than a receive slot */
	uint64_t icmp_errors;
};

struct udp_socket;

size_t udp_socket_mem_size(const struct udp_socket_config *cfg);
struct udp_socket *udp_socket_init(void *mem, size_t mem_size, const struct udp_socket_config *cfg);

/* Binds to local_addr (0: any of ours) and port (0: an ephemeral one, RFC 6056 algorithm 1). A
 * nonzero local_addr must be one of the interface's, which is checked if the stack is plugged into
 * one already (register the handler first). */
enum udp_err udp_socket_bind(struct udp_socket *s, struct udp_stack *u, ipv4_addr local_addr, uint16_t port);
/* Unbinds; queued datagrams are discarded. The socket may be bound again. */
void udp_socket_close(struct udp_socket *s);
uint16_t udp_socket_local_port(const struct udp_socket *s);

/* Copying send: the datagram goes straight into a transmit frame (or waits in a tx slot). */
enum udp_err udp_socket_send_to(struct udp_socket *s, const void *data, size_t len, ipv4_addr dst,
				uint16_t dst_port);
/* Zero-copy send: room for up to max_len payload bytes at *payload; then commit (len <= max_len) or
 * abort. Nothing else may be sent on the socket in between. */
enum udp_err udp_socket_send_begin(struct udp_socket *s, ipv4_addr dst, uint16_t dst_port, size_t max_len,
				   uint8_t **payload);
void udp_socket_send_commit(struct udp_socket *s, size_t len);
void udp_socket_send_abort(struct udp_socket *s);

/* Copying receive of the oldest datagram: *len is its full length. UDP_ERR_WOULD_BLOCK if none. */
enum udp_err udp_socket_recv_from(struct udp_socket *s, void *buf, size_t cap, size_t *len,
				  struct udp_meta *meta);
/* Zero-copy receive: the oldest datagram's payload, valid until the next iface_poll. */
enum udp_err udp_socket_recv_view(struct udp_socket *s, const uint8_t **data, size_t *len,
				  struct udp_meta *meta);
size_t udp_socket_rx_queued(const struct udp_socket *s);

/* The largest IPv4 packet towards dst (like Linux's IP_MTU): a path MTU learned from ICMP (RFC 1191)
 * while it lasts, else the interface's MTU. 0 while unbound or unplugged. */
uint16_t udp_socket_path_mtu(const struct udp_socket *s, ipv4_addr dst);
/* The most recent ICMP error not yet taken (like SO_ERROR: one is kept); false if none. */
bool udp_socket_take_error(struct udp_socket *s, struct udp_error *err);
const struct udp_socket_stats *udp_socket_get_stats(const struct udp_socket *s);

SMX_API_END

#endif
