/* The XDP steering program attached to one interface, with its maps: the XSKMAP every per-queue
 * socket registers in, the stack's IPv4 addresses (changeable at run time) and per-CPU counters.
 * One per interface and process, shared by all the queues' devices (one thread per queue). */
#ifndef SMOLXDP_XSK_PROG_H
#define SMOLXDP_XSK_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "smolxdp/xsk_log.h"

SMX_API_BEGIN

struct xsk_prog;

enum xsk_attach_mode {
	XSK_ATTACH_AUTO = 0, /* native (driver) XDP, falling back to SKB (generic) mode */
	XSK_ATTACH_NATIVE = 1,
	XSK_ATTACH_SKB = 2,
};

struct xsk_prog_opts {
	enum xsk_attach_mode mode;
	/* IEEE 802.1Q VID (1..4094) the stack lives on: only frames tagged with it are steered (the
	 * tag read from the frame, or from the NIC's RX metadata where it stripped the tag, and then
	 * put back in the frame). 0: untagged frames only. */
	uint16_t vlan_id;
	xsk_log_fn log; /* NULL: nothing printed; see xsk_last_error() */
	void *log_ctx;
};

/* What was attached, for reports. */
struct xsk_prog_info {
	uint32_t prog_id;      /* the kernel's id of the steering program */
	bool native;           /* false: SKB (generic) mode */
	bool dispatcher;       /* attached through libxdp's multi-program dispatcher */
	bool dev_bound;        /* loaded bound to the device: it reads a stripped VLAN tag */
	int ifindex;
};

struct xsk_prog_stats {
	uint64_t steered;   /* redirected to a socket */
	uint64_t passed;    /* not ours, given to the host */
	uint64_t malformed; /* truncated / IHL < 5 / not IPv4: given to the host */
	uint64_t no_socket; /* ours, but no socket bound on that RX queue: given to the host */
	uint64_t other_vlan; /* ours by address, but on another VLAN (or untagged): given to the host */
	uint64_t vlan_restored; /* ours, the tag stripped by the NIC and put back in the frame */
};

/* Attach the embedded program to ifname. A program of ours left behind by a process that no longer
 * runs is detached first (with a warning); one whose owner still runs is -EBUSY, as is another
 * program that cannot be combined with ours (it is named). Returns 0 or a negative errno. */
int xsk_prog_attach(const char *ifname, const struct xsk_prog_opts *opts, struct xsk_prog **out);

/* Detach from the interface and free everything. NULL is fine. */
void xsk_prog_detach(struct xsk_prog *prog);

/* The stack's addresses (host byte order, as ipv4_addr). At most 16. -EEXIST/-ENOENT/-ENOSPC. */
int xsk_prog_add_addr(struct xsk_prog *prog, uint32_t addr);
int xsk_prog_del_addr(struct xsk_prog *prog, uint32_t addr);

/* Whether our program is still attached (one netlink query; a look inside libxdp's dispatcher only
 * when the interface's program changed). False once someone else removed it (smolxdp-detach
 * --force): no more traffic reaches the sockets, and xsk_prog_detach has nothing left to remove. */
bool xsk_prog_attached(struct xsk_prog *prog);

int xsk_prog_xskmap_fd(const struct xsk_prog *prog);
void xsk_prog_get_info(const struct xsk_prog *prog, struct xsk_prog_info *info);
/* Sums the per-CPU counters. */
int xsk_prog_stats(const struct xsk_prog *prog, struct xsk_prog_stats *stats);

/* By-hand clean-up: detach every smolxdp steering program from ifname. One whose owner still runs is
 * kept (-EBUSY) unless force. Returns how many were removed, or a negative errno. */
int xsk_prog_remove(const char *ifname, bool force, const struct xsk_prog_opts *opts);

SMX_API_END

#endif
