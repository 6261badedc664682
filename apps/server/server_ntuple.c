/* Which RX queues get the traffic for our address (issue 14 item 3). On a NIC with more queues than we
 * serve, RSS spreads the flows for our address over all of them, and the ones that land on a queue
 * without a socket go to a kernel that does not own the address: lost, silently (the steering
 * program counts them as no_socket). Serving one queue, we steer the address to it with n-tuple flow
 * rules where the driver has them; otherwise serving a subset is refused unless --force. */
#include <errno.h>
#include <stdio.h>

#include "server.h"
#include "smolxdp/xsk_ntuple.h"
#include "smolxdp/xsk_rss.h"

int srv_ntuple_check(const struct srv_opts *o, struct xsk_ntuple *rule)
{
	uint32_t n = xsk_rx_queue_count(o->ifname);
	uint32_t a = o->ip.addr;
	const char *why;
	char ip[16];

	if (n <= 1 || (o->queue == 0 && o->queues >= n))
		return 0; /* every queue served (or the count unknown: nothing to check against) */
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	if (o->queues == 1) {
		if (xsk_ntuple_steer(o->ifname, a, o->queue, xsk_log_app_stderr, o->log, rule) == 0) {
			printf("smolxdp-server: %s and ARP steered to queue %u of %s by n-tuple rules (locations %u, "
			       "%u), removed at exit\n", ip, o->queue, o->ifname, rule->loc_ip, rule->loc_arp);
			return 0;
		}
		why = xsk_last_error();
	} else {
		why = "one n-tuple rule cannot spread flows over several queues";
	}
	if (o->force) {
		fprintf(stderr, "smolxdp-server: warning: serving %u of the %u RX queues of %s (--force): flows for "
			"%s that RSS puts on the others are lost (%s); the no_socket counter shows them\n", o->queues,
			n, o->ifname, ip, why);
		return 0;
	}
	fprintf(stderr, "smolxdp-server: %s has %u RX queues and we would serve %u: RSS spreads flows for %s over "
		"all of them and those on the others are lost (%s). Steer %s to queue %u (ethtool -N %s flow-type "
		"ip4 dst-ip %s action %u), serve every queue (--queue 0 --queues %u), or --force\n", o->ifname, n,
		o->queues, ip, why, ip, o->queue, o->ifname, ip, o->queue, n);
	return -EXDEV;
}
