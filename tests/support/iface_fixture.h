/* Two interfaces on a loopback wire, on virtual time, for interface, UDP and TCP tests: "a" (10.0.0.1,
 * end 0, optionally behind a fault injector) and "b" (10.0.0.2, end 1), each with a UDP stack plugged
 * in. Or one interface and a raw peer: the test writes and reads whole frames on end 1 itself. Memory
 * comes from malloc (tests only). */
#ifndef SMX_IFACE_FIXTURE_H
#define SMX_IFACE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smolxdp/dev_fault.h"
#include "smolxdp/dev_loopback.h"
#include "smolxdp/iface.h"
#include "smolxdp/udp.h"
#include "smolxdp/wire.h"

#define FIX_IP_A IPV4_ADDR(10, 0, 0, 1)
#define FIX_IP_B IPV4_ADDR(10, 0, 0, 2)
#define FIX_IP_RAW IPV4_ADDR(10, 0, 0, 9) /* the raw peer's address */
extern const struct eth_addr FIX_MAC_A, FIX_MAC_B, FIX_MAC_RAW;

struct fix_opts {
	bool raw_peer;           /* end 1 is driven by the test instead of interface b */
	struct dev_fault_config fault; /* applied on end 0 when drop/corrupt/max/rate is set */
	uint32_t frames;         /* loopback pool [256] */
	struct iface_config cfg_a; /* addresses/mac filled in by the fixture when zero */
	struct iface_config cfg_b;
	struct udp_config udp_a; /* seed: the interface's when zero */
	struct udp_config udp_b;
	bool no_udp;             /* no UDP stack plugged in: the interfaces answer every port closed */
};

struct fix {
	smx_instant now;
	struct dev_loopback *wire;
	struct dev_fault fault;
	struct dev *dev_a, *dev_b;
	struct iface *a, *b; /* b is NULL with a raw peer */
	struct udp_stack *ua, *ub; /* their UDP stacks (NULL with no_udp, ub with a raw peer) */
	void *mem[5];
	uint32_t frames;
};

void fix_init(struct fix *f, const struct fix_opts *opts);
/* With a raw peer (opts->raw_peer implied), settled, and a's announcement drained. */
void fix_init_raw(struct fix *f, const struct fix_opts *opts);
void fix_free(struct fix *f);
/* Polls a (and b) once at f->now; true if anything happened. */
bool fix_poll(struct fix *f);
/* Polls until nothing happens (bounded), without advancing time. */
void fix_settle(struct fix *f);
/* Advances virtual time by dt microseconds and settles. */
void fix_advance(struct fix *f, smx_instant dt);
/* Runs virtual time forward to `until`, stopping at each poll_at on the way. */
void fix_run_until(struct fix *f, smx_instant until);

/* A socket bound to port on ifc's UDP stack (unbound when ifc is NULL). */
struct udp_socket *fix_udp_socket(struct iface *ifc, uint16_t port, uint32_t rx_slots, uint32_t tx_slots);
/* The same with a whole socket config (large slots, dont_frag). */
struct udp_socket *fix_udp_socket_cfg(struct iface *ifc, uint16_t port, const struct udp_socket_config *cfg);
void fix_udp_free(struct udp_socket *s);

/* Raw peer: send one frame on end 1 (flushed at once); receive frames a sent (returns the number of
 * bytes, 0 if none). */
void raw_send(struct fix *f, const uint8_t *frame, size_t len);
size_t raw_recv(struct fix *f, uint8_t *buf, size_t cap);
/* Builds Ethernet+IPv4(+payload) frames from the raw peer to a; returns the frame length. */
size_t raw_build_ip(uint8_t *buf, const struct eth_addr *dst_mac, ipv4_addr src, ipv4_addr dst, uint8_t proto,
		    const uint8_t *l4, size_t l4_len);
/* One IPv4 fragment from src to a: data is the fragment's share of the datagram's payload. */
size_t raw_build_frag(uint8_t *buf, ipv4_addr src, uint8_t proto, uint16_t ident, uint16_t off, bool more,
		      const uint8_t *data, size_t len);
size_t raw_build_udp(uint8_t *buf, ipv4_addr src, ipv4_addr dst, uint16_t sport, uint16_t dport,
		     const uint8_t *payload, size_t len);
size_t raw_build_arp(uint8_t *buf, uint16_t op, const struct eth_addr *eth_dst, ipv4_addr spa,
		     const struct eth_addr *tha, ipv4_addr tpa);
/* Makes a know the raw peer (an ARP request from it, answered) and drains the reply. */
void raw_introduce(struct fix *f);
/* Drains everything a sent to the raw peer; returns how many frames. */
size_t raw_drain(struct fix *f);

uint64_t fix_count(const struct iface *ifc, enum iface_counter c);
/* The UDP stack plugged into ifc by the fixture, and its counters. */
struct udp_stack *fix_udp(const struct iface *ifc);
const struct udp_stats *fix_udp_stats(const struct iface *ifc);

#endif
