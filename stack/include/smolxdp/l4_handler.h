/* How the interface hands a transport protocol (TCP) its segments and asks it for output, without
 * either knowing the other's internals: the app registers a handler with the interface. */
#ifndef SMOLXDP_L4_HANDLER_H
#define SMOLXDP_L4_HANDLER_H

#include "smolxdp/ip_tx.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"

SMX_API_BEGIN

struct l4_handler {
	void *ctx;
	/* One received datagram for this protocol: `ip` is parsed and verified; l4/len is its payload.
	 * csum says whether the transport must still verify its own checksum. Immediate replies (RST,
	 * ACK) may be sent through tx. */
	void (*input)(void *ctx, smx_instant now, const struct ipv4_repr *ip, const uint8_t *l4, size_t len,
		      enum wire_csum csum, const struct ip_sender *tx);
	/* Send what is due (data, ACKs, retransmissions, probes). Returns true if anything was sent. */
	bool (*output)(void *ctx, smx_instant now, const struct ip_sender *tx);
	/* When output next has something to do (SMX_INSTANT_NEVER: nothing until new input or app call). */
	smx_instant (*poll_at)(void *ctx, smx_instant now);
	/* An ICMP error whose quoted datagram was of this protocol (RFC 1122 4.2.3.9); may be NULL. */
	void (*icmp_error)(void *ctx, smx_instant now, const struct icmpv4_repr *icmp);
};

SMX_API_END

#endif
