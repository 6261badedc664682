/* How a transport (UDP, TCP, ICMP) sends an IPv4 packet without a staging copy: begin reserves room
 * for `l4_len` bytes of transport header+payload in a transmit frame (or in the queue of packets
 * waiting for ARP resolution), the transport writes them in place at tx->l4, and commit adds the
 * IPv4 and Ethernet headers and queues the frame. An l4_len over mtu - 20 is lent a staging buffer
 * instead, and sent as IPv4 fragments at commit. The interface implements it; tests fake it. */
#ifndef SMOLXDP_IP_TX_H
#define SMOLXDP_IP_TX_H

#include "smolxdp/base.h"

SMX_API_BEGIN

enum ip_tx_err {
	IP_TX_OK = 0,
	IP_TX_NO_ROUTE,  /* no address to send from, or no gateway for an off-link destination */
	IP_TX_NO_BUFFER, /* no transmit frame (or ARP-queue slot) free now; try again on a later poll */
	IP_TX_TOO_BIG,   /* l4_len exceeds what one datagram can be (the interface's frag_max_len) */
};

struct ip_tx {
	uint8_t *l4;      /* where the transport header goes */
	size_t l4_cap;    /* room at l4: at least the l4_len asked for */
	ipv4_addr src;    /* the source address the route chose: use it in the pseudo-header */
	ipv4_addr dst;
	uint8_t proto;
	/* The sender's own bookkeeping: which kind of buffer l4 lies in, that buffer's start, capacity and
	 * handle (a device frame's handle, or the index of a slot of the ARP wait queue). */
	uint8_t priv_kind;
	uint32_t priv_cap;
	uint64_t priv_handle;
	uint8_t *priv_frame;
};

struct ip_sender {
	void *ctx;
	/* src 0: let the route choose (tx->src tells which). A nonzero src must be one of ours. */
	enum ip_tx_err (*begin)(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			       struct ip_tx *tx);
	/* l4_len may be smaller than asked for at begin. */
	void (*commit)(void *ctx, struct ip_tx *tx, size_t l4_len);
	void (*abort)(void *ctx, struct ip_tx *tx);
	/* Whether addr is one of ours (a transport binding to it). May be NULL in test fakes. */
	bool (*is_local)(void *ctx, ipv4_addr addr);
	uint16_t mtu; /* largest IPv4 packet, header included */
	/* Like begin, but what exceeds mtu (a path MTU learned below this sender's, RFC 1191) goes as
	 * IPv4 fragments of at most mtu bytes. May be NULL in test fakes: then begin. */
	enum ip_tx_err (*begin_frag)(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
				     uint16_t mtu, struct ip_tx *tx);
};

SMX_API_END

#endif
