/* Receive-side scaling as a NIC computes it, so that a connection the stack opens comes back to the
 * queue that opened it (issue 14): the Toeplitz hash (Microsoft's RSS specification, the function
 * behind ETH_RSS_HASH_TOP), the key and indirection table read from the driver (ETHTOOL_GRSSH), and
 * the choice of an ephemeral port whose reply lands on a given queue. Where the driver has no
 * readable Toeplitz RSS (veth, virtual NICs), xsk_rss_read fails and the caller must not rely on it. */
#ifndef SMOLXDP_XSK_RSS_H
#define SMOLXDP_XSK_RSS_H

#include <stddef.h>
#include <stdint.h>

#include "smolxdp/api.h"
#include "smolxdp/base.h"

SMX_API_BEGIN

#define XSK_RSS_MAX_KEY 128
#define XSK_RSS_MAX_INDIR 4096

struct xsk_rss {
	uint8_t key[XSK_RSS_MAX_KEY];
	uint32_t key_len;
	uint32_t indir[XSK_RSS_MAX_INDIR]; /* queue of each entry */
	uint32_t indir_len;
};

/* RX queues the interface has, from sysfs (every driver lists them there); 0 if unknown. */
uint32_t xsk_rx_queue_count(const char *ifname);

/* The driver's RSS key and indirection table. 0, or a negative errno with xsk_last_error() saying
 * why: -EOPNOTSUPP where the driver has none or its hash function is not Toeplitz. */
int xsk_rss_read(const char *ifname, struct xsk_rss *rss);

/* Toeplitz over data with key (key_len >= len + 4). */
uint32_t xsk_rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len);

/* The hash of an IPv4 TCP/UDP packet from src:sport to dst:dport (the input is src, dst, sport,
 * dport in network order, as RSS specifies), and the queue it lands on. */
uint32_t xsk_rss_hash_ipv4(const struct xsk_rss *rss, ipv4_addr src, ipv4_addr dst, uint16_t sport, uint16_t dport);
uint32_t xsk_rss_queue(const struct xsk_rss *rss, uint32_t hash);

/* A local port in [lo, hi], searched from seed (so successive calls spread), such that the peer's
 * replies (remote:rport -> local:port) land on `queue`; 0 if none in the range does. */
uint16_t xsk_rss_pick_port(const struct xsk_rss *rss, ipv4_addr local, ipv4_addr remote, uint16_t rport,
			   uint32_t queue, uint16_t lo, uint16_t hi, uint32_t seed);

SMX_API_END

#endif
