/* The network interface: one Ethernet device, its IPv4 addresses, ARP (RFC 826), IPv4 (RFC 791) and
 * ICMP (RFC 792); the transports, UDP (smolxdp/udp.h) and TCP (smolxdp/tcp.h), plug in alike through
 * struct l4_handler (smolxdp/l4_handler.h) and send through struct ip_sender. Event-driven:
 * the app calls iface_poll with the current time and sleeps (or spins) until iface_poll_delay.
 * Fragments are reassembled (RFC 791, RFC 815) in slots sized at init, and datagrams over the MTU
 * are sent as fragments (stack/iface/ip_reasm.c, ip_frag.c).
 * Checksums are verified on receive unless the device says DEV_CSUM_RX_VERIFIED, and always computed on
 * send (DEV_CSUM_TX_OFFLOAD is not used yet). */
#ifndef SMOLXDP_IFACE_H
#define SMOLXDP_IFACE_H

#include "smolxdp/dev.h"
#include "smolxdp/ip_tx.h"
#include "smolxdp/l4_handler.h"

SMX_API_BEGIN

#define IFACE_MAX_ADDRS 4

/* A neighbour table shared by the interfaces of one link, one per receive queue of a NIC, each polled
 * on its own thread: what any of them learns (ARP replies, requests, gratuitous ARP) every other one
 * uses, and a packet one of them holds for ARP leaves when another hears the reply. Each interface
 * keeps its own cache in front of it, so the per-packet path reads no shared memory; the table is
 * laid out once at init, read without locks and updated entry by entry (a sequence lock each). */
struct iface_neigh_table;

struct iface_cidr {
	ipv4_addr addr;
	uint8_t prefix_len; /* 0..32 */
};

/* Zero in any size or time field means its default (in brackets). */
struct iface_config {
	struct eth_addr mac;
	struct iface_cidr addrs[IFACE_MAX_ADDRS];
	uint8_t addr_count;        /* at least 1 */
	ipv4_addr gateway;         /* 0: none; off-link destinations are then unreachable */
	uint16_t mtu;              /* largest IPv4 packet [the device's max frame - 14, at most 1500];
				    * an 802.1Q tag adds 4 bytes to the frame, not to this */
	/* IEEE 802.1Q: the interface lives on one VLAN. 0: untagged. 1..4094: every frame sent carries
	 * this VID with priority vlan_prio (PCP, 0..7), and only frames tagged with it are taken. */
	uint16_t vlan_id;
	uint8_t vlan_prio;
	uint8_t ttl;               /* [64] */
	uint32_t arp_cache_entries; /* neighbour cache size, rounded up to a power of two [64] */
	uint32_t arp_wait_slots;   /* packets held while their next hop is being resolved [16] */
	uint32_t rx_batch;         /* frames taken from the device per poll [64] */
	smx_instant arp_expiry;    /* how long a learned neighbour is trusted [60 s] */
	smx_instant arp_timeout;   /* how long packets wait for a reply before being dropped [3 s] */
	uint32_t icmp_errors_per_sec; /* rate limit of ICMP errors sent, also the burst [100] */
	uint64_t seed;             /* seeds IP IDs */
	/* IPv4 reassembly (RFC 791, RFC 815): datagrams in reassembly at once, each slot with a buffer
	 * of reasm_max_len bytes (memory: about reasm_slots x reasm_max_len) [8, 65535: any datagram];
	 * an incomplete datagram is dropped after reasm_timeout (RFC 1122 3.3.2) [30 s, as Linux]. */
	uint32_t reasm_slots;
	uint32_t reasm_max_len;    /* largest reassembled datagram, IPv4 header included (576..65535) */
	smx_instant reasm_timeout;
	/* Fragmentation on send: a datagram larger than the MTU is built whole in one staging buffer
	 * of frag_max_len bytes (IPv4 header included) and sent as fragments [65535] (576..65535). */
	uint32_t frag_max_len;
	/* NULL: this interface's neighbours are its own. Else the table it shares with the other
	 * interfaces (queues) of its link, which must outlive them all. */
	struct iface_neigh_table *neigh_shared;
};

/* Everything counted: events first, then one counter per reason a frame or packet was dropped. */
enum iface_counter {
	IFACE_RX_FRAMES,
	IFACE_TX_FRAMES,
	IFACE_ARP_REQUESTS_SENT,
	IFACE_ARP_REPLIES_SENT,
	IFACE_ICMP_ECHO_REPLIES_SENT,
	IFACE_ICMP_ERRORS_SENT,
	IFACE_ICMP_ERRORS_RECEIVED,
	IFACE_UDP_RX_DATAGRAMS, /* handed to the UDP handler (its own counters say what became of them) */
	IFACE_TCP_RX_SEGMENTS,  /* handed to the TCP handler, or refused while none is registered */
	IFACE_TCP_RST_SENT, /* to segments arriving while no TCP handler is registered */
	IFACE_FRAG_RX_FRAGMENTS,   /* fragments received for us (each counted again if dropped) */
	IFACE_FRAG_REASSEMBLED,    /* datagrams reassembled and handed up */
	IFACE_FRAG_TX_DATAGRAMS,   /* datagrams larger than the MTU sent as fragments */
	IFACE_FRAG_TX_FRAGMENTS,
	/* drops on receive */
	IFACE_DROP_ETH_MALFORMED,
	IFACE_DROP_ETH_NOT_FOR_US,
	IFACE_DROP_ETH_UNKNOWN_TYPE, /* IPv6, 802.3 framing, anything else */
	IFACE_DROP_ETH_OTHER_VLAN,   /* tagged with another VID, or untagged on a VLAN interface (or
				      * the reverse): another interface's frame */
	IFACE_DROP_ARP_MALFORMED,
	IFACE_DROP_ARP_NOT_FOR_US,
	IFACE_DROP_IPV4_MALFORMED,
	IFACE_DROP_IPV4_BAD_CHECKSUM,
	IFACE_DROP_IPV4_BAD_SOURCE,
	IFACE_DROP_IPV4_NOT_FOR_US,
	IFACE_DROP_FRAG_MALFORMED,  /* a fragment no datagram can be made of: MF with no data or data
				     * not a multiple of 8 bytes, an end past the datagram's end */
	IFACE_DROP_FRAG_TOO_LONG,   /* its end past 65,535 bytes (or reasm_max_len): the datagram too */
	IFACE_DROP_FRAG_TINY,       /* a first fragment that cuts the transport header (RFC 1858) */
	IFACE_DROP_FRAG_OVERLAP,    /* datagrams dropped whole for overlapping fragments (RFC 5722) */
	IFACE_DROP_FRAG_DUPLICATE,  /* fragments whose bytes had all arrived already: ignored */
	IFACE_DROP_FRAG_TIMEOUT,    /* datagrams not complete within reasm_timeout */
	IFACE_DROP_FRAG_EVICTED,    /* incomplete datagrams evicted, the oldest first, for a new one */
	IFACE_DROP_FRAG_NO_SLOT,    /* fragments refused for want of a slot: not expected, as delivered
				     * datagrams' views are copied out and incomplete ones evicted */
	IFACE_DROP_IPV4_UNKNOWN_PROTO,
	IFACE_DROP_ICMP_MALFORMED,
	IFACE_DROP_ICMP_BAD_CHECKSUM,
	IFACE_DROP_ICMP_BROADCAST_ECHO,
	IFACE_DROP_ICMP_UNHANDLED, /* types we do not act on, errors quoting nothing of ours */
	IFACE_DROP_UDP_NO_HANDLER, /* no UDP handler registered: port unreachable, as a closed port */
	IFACE_DROP_TCP_MALFORMED, /* (only checked while no TCP handler is registered) */
	IFACE_DROP_TCP_NO_HANDLER,
	/* drops on transmit of the interface's own packets (ARP, ICMP, RSTs while no TCP handler) and of
	 * packets it holds (the ARP wait queue). Sends a transport refuses are its own counters' (UDP's
	 * tx_no_buffer); sends it keeps and retries on a later poll are no drop. */
	IFACE_DROP_TX_NO_FRAME,      /* the device had no transmit frame free */
	IFACE_DROP_TX_NO_ROUTE,
	IFACE_DROP_TX_ARP_QUEUE_FULL,
	IFACE_DROP_TX_ARP_UNRESOLVED, /* waited arp_timeout for a reply that never came */
	IFACE_DROP_ICMP_RATE_LIMITED, /* ICMP errors not sent */
	IFACE_DROP_FRAG_TX_BUSY,      /* a datagram over the MTU while the staging buffer was lent */
	IFACE_COUNTER_COUNT
};

struct iface;

size_t iface_mem_size(const struct iface_config *cfg);
/* Lays the interface out in mem (at least iface_mem_size(cfg) bytes, any alignment). NULL when the
 * config is unusable (no address, MTU too small for the device) or mem is too small. */
struct iface *iface_init(void *mem, size_t mem_size, const struct iface_config *cfg, struct dev *dev);

/* Takes up to rx_batch frames from the device and processes them, then does all due egress (ARP
 * retries, queued datagrams, TCP output) and flushes the device. Frames of the batch stay lent to the
 * interface until the next poll, so receive views handed out meanwhile stay valid. Returns true if
 * anything was received or sent. The first poll sends a gratuitous ARP for each address. */
bool iface_poll(struct iface *iface, smx_instant now);
/* Only the egress half of iface_poll: due egress and a device flush, no receive. An app calls it after
 * answering what a poll delivered, so replies leave at once rather than after the next poll's receive
 * (a busy-poll syscall, perhaps). Returns true if anything was sent. */
bool iface_flush(struct iface *iface, smx_instant now);
/* When iface_poll next has timed work: an instant (<= now means at once) or SMX_INSTANT_NEVER. Blocked
 * work does not make it "at once": sends waiting for ARP wake at the next request or timeout, and sends
 * waiting for a transmit frame are retried shortly after (completions come back only in a poll). */
smx_instant iface_poll_at(struct iface *iface, smx_instant now);
/* The same as a delay from now: 0 means poll at once; SMX_INSTANT_NEVER means only on input. */
smx_instant iface_poll_delay(struct iface *iface, smx_instant now);
/* Gives every held frame back to the device (before closing it). Views become invalid. */
void iface_release(struct iface *iface);

/* A transport plugs in here: proto IP_PROTO_UDP or IP_PROTO_TCP (h NULL removes it); false for any
 * other protocol. The handler's attach is called with the sender its sends go through. Until a
 * handler is registered, a datagram to one of our addresses is answered as a closed port would be:
 * ICMP port unreachable for UDP (RFC 1122 4.1.3.1), a RST for TCP (RFC 9293 3.10.7.1). */
bool iface_set_l4_handler(struct iface *iface, uint8_t proto, const struct l4_handler *h);

/* ICMP echo replies and errors the interface does not consume itself go here (a ping client). */
typedef void (*iface_icmp_fn)(void *ctx, smx_instant now, const struct ipv4_repr *ip,
			      const struct icmpv4_repr *icmp);
void iface_set_icmp_handler(struct iface *iface, iface_icmp_fn fn, void *ctx);

/* The IPv4 sender for apps (a transport is given its own at iface_set_l4_handler): frames are built
 * in place (see smolxdp/ip_tx.h). */
const struct ip_sender *iface_ip_sender(struct iface *iface);

const uint64_t *iface_counters(const struct iface *iface); /* IFACE_COUNTER_COUNT values */
const char *iface_counter_name(enum iface_counter c);      /* "drop_ipv4_fragment" style */
uint16_t iface_mtu(const struct iface *iface);
const struct iface_config *iface_get_config(const struct iface *iface); /* with defaults filled in */
/* The shared neighbour table: entries rounded up to a power of two [0: 256]. mem is at least
 * iface_neigh_table_mem_size(entries) bytes, any alignment; NULL when it is too small. */
size_t iface_neigh_table_mem_size(uint32_t entries);
struct iface_neigh_table *iface_neigh_table_init(void *mem, size_t mem_size, uint32_t entries);

/* A neighbour known right now (tests, tools): in the interface's cache or its shared table. */
bool iface_neighbor_lookup(struct iface *iface, ipv4_addr ip, struct eth_addr *mac, smx_instant now);

SMX_API_END

#endif
