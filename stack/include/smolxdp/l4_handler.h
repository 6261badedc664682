/* How the interface hands a transport (UDP, TCP) its datagrams and ICMP errors and asks it for output,
 * without either knowing the other's internals: the app fills a handler from the transport
 * (udp_handler, tcp_handler) and registers it with iface_set_l4_handler. The transport sends through
 * the ip_sender it is given (smolxdp/ip_tx.h), building packets in place in transmit frames. */
#ifndef SMOLXDP_L4_HANDLER_H
#define SMOLXDP_L4_HANDLER_H

#include "smolxdp/ip_tx.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"

SMX_API_BEGIN

/* What became of a received datagram (l4_handler.input). */
enum l4_rx {
	L4_RX_DONE = 0,      /* taken, or dropped and counted by the transport */
	L4_RX_VIEW,          /* taken, and the transport kept a pointer into it (a zero-copy receive view):
			      * the interface holds the frame until it calls release_views */
	L4_RX_PORT_UNREACHABLE, /* no socket for its port: the interface answers with ICMP port
				 * unreachable where RFC 1122 3.2.2 allows (UDP, RFC 1122 4.1.3.1) */
};

struct l4_handler {
	void *ctx;
	/* One received datagram for this protocol, unicast to one of our addresses or a broadcast (TCP
	 * gets no broadcasts): `ip` is parsed and verified; l4/len is its payload. csum says whether the
	 * transport must still verify its own checksum. Immediate replies (RST, ACK) may be sent through
	 * tx. */
	enum l4_rx (*input)(void *ctx, smx_instant now, const struct ipv4_repr *ip, const uint8_t *l4, size_t len,
		      enum wire_csum csum, const struct ip_sender *tx);
	/* Send what is due (queued data, ACKs, retransmissions, probes). Returns true if anything was sent.
	 * A send refused a buffer (IP_TX_NO_BUFFER) is kept for a later call: the interface notes that
	 * the transport is blocked and does not ask it again until what blocked it can have changed. */
	bool (*output)(void *ctx, smx_instant now, const struct ip_sender *tx);
	/* When output next has something to do (SMX_INSTANT_NEVER: nothing until new input or app call). */
	smx_instant (*poll_at)(void *ctx, smx_instant now);
	/* An ICMP error quoting a datagram of this protocol with its ports, sent from one of our addresses
	 * (RFC 1122 4.1.3.3, 4.2.3.9). Returns false if it concerns nothing of the transport's (the
	 * interface counts it unhandled). May be NULL. */
	bool (*icmp_error)(void *ctx, smx_instant now, const struct icmpv4_repr *icmp);
	/* Called before the interface gives back to the device the frames input kept views into: views the
	 * app has not read yet must be copied out now. May be NULL for a transport that keeps none. */
	void (*release_views)(void *ctx);
	/* The sender for sends made outside input and output (an app's call between polls), given when
	 * the handler is registered and NULL when it is removed. May be NULL. */
	void (*attach)(void *ctx, const struct ip_sender *tx);
};

SMX_API_END

#endif
