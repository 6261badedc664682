/* The ownership rule for connections an interface's queues open themselves: the ephemeral port range
 * (RFC 6056) is split into one share per queue, each queue's stack opens connections from its own
 * share only (tcp_config and udp_config's ephemeral_min/max), and a frame to a local port in queue
 * k's share belongs to queue k wherever it lands: the owner is computed from the port in O(1), with
 * no table to share. */
#ifndef SMOLXDP_PORT_SPLIT_H
#define SMOLXDP_PORT_SPLIT_H

#include "smolxdp/base.h"

SMX_API_BEGIN

struct port_split {
	uint16_t port_min; /* the range split among the queues, e.g. 49152..65535 */
	uint16_t port_max;
	uint32_t queues;   /* 1..(port_max - port_min + 1) */
};

/* Queue q's share, [*lo, *hi]; the last queue also takes what does not divide evenly. */
void port_split_range(const struct port_split *ps, uint32_t q, uint16_t *lo, uint16_t *hi);
/* The queue whose share holds port; ps->queues when port is outside the range. */
uint32_t port_split_owner(const struct port_split *ps, uint16_t port);
/* The owner rule for dev_handoff (ctx: a struct port_split): TCP and UDP to a local port in a share
 * belong to its queue, and so do ICMP errors quoting a datagram from such a port; ARP replies and
 * gratuitous ARP go to every queue (each learns the neighbour); everything else stays where it
 * landed: listeners' ports, ARP requests for our address, ping, and IPv4 fragments after the first,
 * which carry no port. */
uint32_t port_split_frame_owner(void *ctx, uint32_t self, const uint8_t *frame, uint32_t len);

SMX_API_END

#endif
