/* What the steering program (smx_steer.bpf.c) and its loader (xsk/xsk_prog.c) agree on: map sizes,
 * counter indices and the owner record. Included by both the BPF and the host compiler. */
#ifndef SMX_STEER_MAPS_H
#define SMX_STEER_MAPS_H

#include <linux/types.h>

#define SMX_STEER_PROG_NAME "smx_steer" /* the kernel keeps 15 characters; this fits */
#define SMX_STEER_BOUND_PROG_NAME "smx_steer_bound" /* the same, loaded bound to a device: 15 */
#define SMX_STEER_MAX_QUEUES 256
#define SMX_STEER_MAX_ADDRS 16

enum smx_steer_counter {
	SMX_STEER_STEERED = 0,   /* redirected to a socket */
	SMX_STEER_PASSED = 1,    /* not ours: given to the host */
	SMX_STEER_MALFORMED = 2, /* truncated or impossible header: given to the host */
	SMX_STEER_NO_SOCKET = 3, /* ours, but no socket on that queue: given to the host */
	SMX_STEER_OTHER_VLAN = 4, /* ours by address, but not on our VLAN: given to the host */
	SMX_STEER_VLAN_RESTORED = 5, /* ours, its tag stripped by the NIC and put back in the frame */
	SMX_STEER_NCOUNTERS = 6,
};

/* The one entry of smx_config, written by the loader (zero until then: untagged). */
struct smx_steer_config {
	__u16 vlan_id; /* IEEE 802.1Q VID the stack lives on; 0: untagged */
	__u16 pad;
	__u32 pad2;
};

/* Written by the loader after attaching. start_time is /proc/<pid>/stat field 22, so a recycled pid
 * is not mistaken for the owner. */
struct smx_steer_owner {
	__u32 pid;
	__u32 pad;
	__u64 start_time;
};

#endif
