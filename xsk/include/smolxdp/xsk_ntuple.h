/* Steering our address to the queue we serve with the NIC's n-tuple flow rules (ETHTOOL_SRXCLSRLINS),
 * for a process that serves some queues of a many-queue NIC (issue 14): without a rule, RSS spreads
 * the flows for our address over every queue, and those landing on a queue with no socket are lost.
 * Two rules: IPv4 to the address, and ARP (so that peers can resolve it). The rules' locations are
 * kept in a state file, so the next start on the interface removes rules that a killed process
 * (kill -9) left behind. Drivers without n-tuple filters (veth, most virtual NICs) refuse: the caller
 * decides whether that is fatal. */
#ifndef SMOLXDP_XSK_NTUPLE_H
#define SMOLXDP_XSK_NTUPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "smolxdp/api.h"
#include "smolxdp/base.h"
#include "smolxdp/xsk_log.h"

SMX_API_BEGIN

/* Where the state files go (one per interface and address: ntuple-IFACE-A.B.C.D), created if missing;
 * the environment variable SMOLXDP_STATE_DIR, where set, names another directory (tests use it to
 * run without root). It is ignored in programs run setuid or with file capabilities
 * (secure_getenv), so that it cannot point a privileged start at someone else's files. */
#define XSK_NTUPLE_STATE_DIR "/run/smolxdp"
#define XSK_NTUPLE_STATE_ENV "SMOLXDP_STATE_DIR"

struct xsk_ntuple {
	char ifname[16];
	ipv4_addr addr;
	uint32_t queue;
	uint32_t loc_ip;  /* the rule's location in the NIC's table */
	uint32_t loc_arp;
	bool installed;
	char state_path[256]; /* the state file recording loc_ip and loc_arp */
};

/* Remove stale rules of an earlier run for (ifname, addr), then install both rules to `queue`.
 * 0, or a negative errno with xsk_last_error() naming the step and the driver's answer (-EOPNOTSUPP
 * where it has no n-tuple filters). log may be NULL. */
int xsk_ntuple_steer(const char *ifname, ipv4_addr addr, uint32_t queue, xsk_log_fn log, void *log_ctx,
		     struct xsk_ntuple *out);

/* Remove the rules xsk_ntuple_steer installed, and its state file. Safe on a zeroed struct. */
void xsk_ntuple_remove(struct xsk_ntuple *r);

SMX_API_END

#endif
