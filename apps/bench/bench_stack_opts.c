/* Command-line options of smolxdp-bench's stack transport (shared by the real one and the stand-in
 * that reports it was not built). */
#include "bench_stack.h"

#include "app_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bench_stack_opts_init(struct bench_stack_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->ip = "192.168.69.100/24";
	so->mac = "02:00:00:00:00:64";
}

int bench_stack_parse_opt(struct bench_stack_opts *so, int c, const char *arg, const char **why)
{
	long v;

	switch (c) {
	case OPT_STACK_IFACE: so->ifname = arg; return 0;
	/* A bad number is a usage error, not queue 0. */
	case OPT_STACK_QUEUE:
		*why = "must be a queue number, 0..65535";
		if (app_parse_long(arg, 0, 65535, &v) < 0)
			return -EINVAL;
		so->queue = (unsigned)v;
		return 0;
	case OPT_STACK_QUEUES:
		*why = "must be 1..65535";
		if (app_parse_long(arg, 1, 65535, &v) < 0)
			return -EINVAL;
		so->queues = (unsigned)v;
		return 0;
	case OPT_STACK_IP:
		so->ip = arg;
		return (*why = app_cidr_error(arg)) ? -EINVAL : 0;
	case OPT_STACK_MAC:
		so->mac = arg;
		return (*why = app_mac_error(arg)) ? -EINVAL : 0;
	case OPT_STACK_VLAN:
		return (*why = app_vlan_error(arg)) ? -EINVAL : app_parse_vlan(arg, &so->vlan_id, &so->vlan_prio);
	case OPT_STACK_BUSY_POLL: so->busy_poll = true; return 0;
	case OPT_STACK_COPY:
	case OPT_STACK_ZERO_COPY: {
		int m = c == OPT_STACK_COPY ? 1 : 2;
		*why = "--copy and --zero-copy contradict each other: give one";
		if (so->bind_mode && so->bind_mode != m)
			return -EINVAL;
		so->bind_mode = m;
		return 0;
	}
	default: return -ENOENT;
	}
}

const char *bench_stack_usage(void)
{
	return "  --iface IF              stack: the interface to open (AF_XDP)\n"
	       "  --queue N               stack: its (first) queue (default 0)\n"
	       "  --queues N              stack: queues from --queue on, one stack each; flow f on f % N\n"
	       "  --ip ADDR/PREFIX        stack: the client's address (default 192.168.69.100/24)\n"
	       "  --mac MAC               stack: the client's MAC (default 02:00:00:00:00:64)\n"
	       "  --vlan ID[:PCP]         stack: on 802.1Q VLAN ID, priority PCP (default: untagged)\n"
	       "  --xsk-busy-poll         stack: SO_PREFER_BUSY_POLL/SO_BUSY_POLL on the AF_XDP socket\n"
	       "  --copy | --zero-copy    stack: AF_XDP bind mode (default: try zero-copy, fall back)\n";
}
