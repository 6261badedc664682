/* The interface's insides, shared by its files (stack/iface) only: transports see none of it, just
 * struct l4_handler and struct ip_sender. Not a public header. */
#ifndef SMOLXDP_IFACE_INTERNAL_H
#define SMOLXDP_IFACE_INTERNAL_H

#include "smolxdp/iface.h"
#include "smolxdp/mem.h"
#include "smolxdp/wire.h"

#define SEC 1000000ull
/* How soon work blocked for want of a transmit frame is tried again. Frames come back as the device's
 * completions, which it reclaims only when flushed in a poll: there is no event to wait for, so the
 * interface asks for a poll this much later - soon next to any peer's timers, but not a busy spin. */
#define IFACE_TX_RETRY 100ull
/* How soon a packet waiting for ARP looks in the shared neighbour table again: the reply may come to
 * another queue's interface, which has no way to wake this one. Only while something waits. */
#define NEIGH_SHARED_CHECK 1000ull

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
enum { TX_KIND_FRAME = 1, TX_KIND_WAIT = 2, TX_KIND_STAGE = 3 /* a datagram to fragment (ip_frag.c) */ };

/* IPv4 reassembly (ip_reasm.c). A slot's buffer holds the first fragment's header in its first
 * REASM_HDR_ROOM bytes (right-aligned, so that header and data are one packet to quote or deliver),
 * then the datagram's data, then 8 spare bytes where the last hole's descriptor may sit. */
#define REASM_HDR_ROOM IPV4_MAX_HEADER_LEN

enum reasm_state {
	REASM_FREE = 0,
	REASM_ACTIVE, /* gathering fragments */
	REASM_HELD,   /* delivered: a transport may hold views into it until the next iface_release */
};

struct reasm_slot {
	uint8_t state;
	uint8_t proto;
	uint8_t hdr_len;     /* the first fragment's header length; 0 until it has come */
	bool total_known;    /* the last fragment (MF clear) has come */
	bool link_broadcast; /* some fragment came in a link-layer broadcast */
	uint16_t ident;
	uint16_t total;      /* data bytes, once total_known */
	uint16_t holes;      /* offset of the first hole (RFC 815), REASM_NONE when none */
	ipv4_addr src, dst;
	smx_instant started; /* for eviction, oldest first */
	smx_instant expires;
	struct ipv4_repr first; /* the first fragment's header; its options point into buf */
	uint8_t *buf;
};

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

/* Why a transport's latest send was refused a buffer, noted by its sender and cleared at each poll
 * (whose egress asks it again): what iface_poll_at waits for before asking it once more. */
enum l4_blocked {
	L4_NOT_BLOCKED = 0,
	L4_BLOCKED_FRAME,    /* no transmit frame: retried at tx_retry_at */
	L4_BLOCKED_ARP_SLOT, /* no ARP wait slot: retried once one is free (a reply, or a timeout) */
};

/* A registered transport (UDP or TCP) and the sender it was given, whose ctx is this slot, so that a
 * refused send is noted against the transport that made it. */
struct iface_l4 {
	struct l4_handler h;
	struct ip_sender tx;
	struct iface *ifc;
	bool on;
	uint8_t blocked; /* enum l4_blocked */
};

enum { IFACE_L4_UDP = 0, IFACE_L4_TCP = 1, IFACE_L4_COUNT };

struct iface {
	struct iface_config cfg;
	struct dev *dev;
	struct dev_caps caps;
	uint16_t mtu;
	uint16_t l2_len;   /* Ethernet header of every frame sent: 14, or 18 on a VLAN */
	uint16_t vlan_tci; /* 802.1Q tag sent and expected (VID 0: untagged) */
	smx_instant now; /* of the latest poll: sends between polls use it */
	uint64_t counters[IFACE_COUNTER_COUNT];
	uint64_t rng;
	uint16_t ip_ident;
	bool announced;
	bool poll_extra; /* iface_poll has more than its usual work: see there */
	bool activity; /* something sent since the last poll returned */
	/* Why the latest iface_ip_begin said IP_TX_NO_BUFFER: counted only by a caller that then gives the
	 * packet up, since a send that is kept and retried on later polls is no drop. */
	enum iface_counter tx_fail;
	/* When blocked work (a transport's sends, resolved ARP waiters) tries again for want of a
	 * transmit frame, noted as it blocks and cleared at each poll, whose egress tries all of it
	 * again; read by iface_poll_at (0: nothing waits for a frame). */
	smx_instant tx_retry_at;
	struct ip_sender sender; /* the apps' (iface_ip_sender) */
	/* neighbours */
	struct neigh *neigh;
	uint32_t neigh_mask;
	const struct neigh *neigh_last; /* the latest next hop found (ip_out.c) */
	struct iface_neigh_table *neigh_shared; /* cfg.neigh_shared: the link's, in front of which neigh is */
	uint64_t neigh_shared_seen; /* its version when neigh was last brought up to date */
	struct arp_wait *wait;
	uint32_t wait_slots;
	uint32_t wait_used;
	uint32_t wait_seq;
	/* receive batch, held until the next poll while views into it are out */
	struct dev_frame *rx_frames;
	uint32_t rx_batch;
	uint32_t rx_held;
	bool views_out; /* a transport kept views into the current batch */
	/* ICMP error rate limit: a token bucket, refilled when an error is about to be sent */
	uint32_t icmp_tokens;
	smx_instant icmp_step; /* one token per step */
	smx_instant icmp_refill_at;
	ipv4_addr bcast[IFACE_MAX_ADDRS]; /* each address's directed broadcast, computed at init */
	uint32_t mask[IFACE_MAX_ADDRS];   /* each address's subnet mask, computed at init */
	/* transports and hooks */
	struct iface_l4 l4[IFACE_L4_COUNT];
	iface_icmp_fn icmp_fn;
	void *icmp_ctx;
	/* IPv4 reassembly (ip_reasm.c) */
	struct reasm_slot *reasm;
	uint32_t reasm_slots;
	uint32_t reasm_cap;    /* data bytes a slot holds */
	uint32_t reasm_active; /* slots gathering fragments */
	uint32_t reasm_held;   /* slots delivered, held until views are released */
	smx_instant reasm_next_expiry; /* no later than the earliest active slot's expiry */
	/* fragmentation on send (ip_frag.c): one staging buffer, lent between begin and commit */
	uint8_t *frag_stage;
	uint32_t frag_stage_cap; /* transport bytes it holds */
	bool frag_stage_lent;
	uint16_t frag_ident; /* IDs of fragmented datagrams (RFC 6864 4.3), apart from ip_ident */
};

static inline void iface_count(struct iface *ifc, enum iface_counter c)
{
	ifc->counters[c]++;
}

/* The Ethernet header of what the interface sends: tagged on a VLAN (IEEE 802.1Q). */
static inline size_t iface_cfg_l2_len(const struct iface_config *cfg)
{
	return cfg->vlan_id ? ETH_VLAN_HEADER_LEN : ETH_HEADER_LEN;
}

static inline size_t iface_l2_len(const struct iface *ifc)
{
	return ifc->l2_len;
}

/* Where a transport's header starts in a frame we build: no IPv4 options on what we send. */
static inline size_t iface_l4_off(const struct iface *ifc)
{
	return (size_t)ifc->l2_len + IPV4_HEADER_LEN;
}

/* Writes our Ethernet header (with our 802.1Q tag on a VLAN) at p, which has room for
 * iface_l2_len(ifc) bytes; returns that length. */
static inline size_t iface_eth_put(const struct iface *ifc, uint8_t *p, const struct eth_addr *dst, uint16_t type)
{
	memcpy(p, dst->b, 6);
	memcpy(p + 6, ifc->cfg.mac.b, 6);
	if (ifc->l2_len == ETH_VLAN_HEADER_LEN) {
		p[12] = (uint8_t)(ETH_TYPE_VLAN >> 8);
		p[13] = (uint8_t)ETH_TYPE_VLAN;
		p[14] = (uint8_t)(ifc->vlan_tci >> 8);
		p[15] = (uint8_t)ifc->vlan_tci;
		p += 4;
	}
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
	return ifc->l2_len;
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

/* The slot for an IP protocol's transport (NULL: not one that plugs in), and the registered one. */
static inline struct iface_l4 *iface_l4_slot(struct iface *ifc, uint8_t proto)
{
	if (proto == IP_PROTO_UDP)
		return &ifc->l4[IFACE_L4_UDP];
	return proto == IP_PROTO_TCP ? &ifc->l4[IFACE_L4_TCP] : NULL;
}

static inline struct iface_l4 *iface_l4_for(struct iface *ifc, uint8_t proto)
{
	struct iface_l4 *l4 = iface_l4_slot(ifc, proto);
	return l4 && l4->on ? l4 : NULL;
}

/* routing and the ip_senders (ip_out.c) */
void iface_sender_setup(struct iface *ifc);
/* The sender a transport is given: its blocked sends are noted in l4->blocked. */
void iface_l4_sender_setup(struct iface *ifc, struct iface_l4 *l4);
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

/* The shared neighbour table (neigh_shared.c): a copy of ip's entry, if it has one not expired. */
struct neigh_shared_view {
	bool known; /* else a request is out, and mac means nothing */
	struct eth_addr mac;
	smx_instant expires;
};
bool neigh_shared_get(struct iface_neigh_table *t, ipv4_addr ip, smx_instant now, struct neigh_shared_view *v);
/* Publishes ip at mac until expires. */
void neigh_shared_put(struct iface_neigh_table *t, ipv4_addr ip, const struct eth_addr *mac, smx_instant expires);
/* This interface is about to ask for ip (a request waits until `until`): true if it should send the
 * request, false if another interface asked within the second or has learned ip meanwhile. Either
 * way the table has an entry for ip that a reply to any interface is merged into. */
bool neigh_shared_ask(struct iface_neigh_table *t, ipv4_addr ip, smx_instant now, smx_instant until);
/* Changes whenever an entry becomes known or changes its address. */
uint64_t neigh_shared_version(struct iface_neigh_table *t);
/* The interface's side (arp.c): a cache miss looked up in the shared table and, when it knows ip,
 * cached; and, once per poll, cached addresses that another interface saw change brought up to date. */
const struct neigh *neigh_lookup_shared(struct iface *ifc, ipv4_addr ip);
void neigh_shared_sync(struct iface *ifc);

/* IPv4 and Ethernet receive (ip_in.c) */
void iface_frame_input(struct iface *ifc, const uint8_t *buf, size_t len);

/* IPv4 reassembly (ip_reasm.c) */
void ip_reasm_layout(struct smx_carve *c, const struct iface_config *cfg, struct iface *ifc);
/* A fragment for us (rx verified as any packet): true when it completed its datagram, rx then
 * describing the whole datagram, which stays valid until ip_reasm_release_held. */
bool ip_reasm_input(struct iface *ifc, struct rx_ip *rx);
/* Drops the datagrams whose time is up, sending ICMP time exceeded where RFC 1122 3.3.2 says. */
void ip_reasm_expire(struct iface *ifc);
smx_instant ip_reasm_poll_at(const struct iface *ifc);
/* Frees the delivered datagrams' slots: call once no transport holds views into them. */
void ip_reasm_release_held(struct iface *ifc);
/* Has every transport copy out its receive views, then frees what held them (iface.c). */
void iface_views_settle(struct iface *ifc);

/* Fragmentation on send (ip_frag.c) */
void ip_frag_layout(struct smx_carve *c, const struct iface_config *cfg, struct iface *ifc);
/* iface_ip_begin for l4_len over the MTU, once routed: lends the staging buffer. Fragments of at
 * most mtu bytes (a path MTU below the interface's), or 0: the interface's. */
enum ip_tx_err ip_frag_begin(struct iface *ifc, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			     uint16_t mtu, struct ip_tx *tx);
void ip_frag_commit(struct iface *ifc, struct ip_tx *tx, size_t l4_len);
void ip_frag_abort(struct iface *ifc, struct ip_tx *tx);
/* Emits ip's header in front of tx->l4 and sends what tx holds (or queues it for ARP) (ip_out.c). */
void iface_ip_send(struct iface *ifc, struct ip_tx *tx, const struct ipv4_repr *ip, size_t l4_len);

/* ICMP (icmp.c) */
void icmp_input(struct iface *ifc, const struct rx_ip *rx);
void icmp_send_error(struct iface *ifc, const struct rx_ip *rx, uint8_t type, uint8_t code);

#endif
