/* n-tuple flow rules steering our address to the served queue (xsk_ntuple.h), through the ethtool
 * ioctl as `ethtool -N IFACE flow-type ip4 dst-ip ADDR action Q` does. */
#define _GNU_SOURCE /* secure_getenv */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smolxdp/xsk_ntuple.h"
#include "xsk_internal.h"

#define NO_LOC UINT32_MAX

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname); /* length checked by the caller */
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* The two rules: all of IPv4 to addr (the kernel's masks: bits set are matched), and ARP. */
static void rule_ip(struct ethtool_rx_flow_spec *fs, ipv4_addr addr, uint32_t queue)
{
	memset(fs, 0, sizeof(*fs));
	fs->flow_type = IP_USER_FLOW;
	fs->h_u.usr_ip4_spec.ip_ver = ETH_RX_NFC_IP4;
	fs->h_u.usr_ip4_spec.ip4dst = htonl(addr);
	fs->m_u.usr_ip4_spec.ip4dst = 0xffffffffu;
	fs->ring_cookie = queue;
}

static void rule_arp(struct ethtool_rx_flow_spec *fs, uint32_t queue)
{
	memset(fs, 0, sizeof(*fs));
	fs->flow_type = ETHER_FLOW;
	fs->h_u.ether_spec.h_proto = htons(ETH_P_ARP);
	fs->m_u.ether_spec.h_proto = 0xffff;
	fs->ring_cookie = queue;
}

static bool same_rule(const struct ethtool_rx_flow_spec *a, const struct ethtool_rx_flow_spec *b)
{
	uint32_t type = a->flow_type & ~(uint32_t)(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);

	if (type != b->flow_type)
		return false;
	if (type == IP_USER_FLOW)
		return a->h_u.usr_ip4_spec.ip4dst == b->h_u.usr_ip4_spec.ip4dst &&
		       a->m_u.usr_ip4_spec.ip4dst == b->m_u.usr_ip4_spec.ip4dst;
	return a->h_u.ether_spec.h_proto == b->h_u.ether_spec.h_proto;
}

#define MAX_TABLE (1u << 20) /* more locations than any driver has: a nonsense answer */

/* The highest free location in a table of all->data locations, of which all->rule_locs are used. */
static int highest_free(const struct ethtool_rxnfc *all, uint32_t *loc)
{
	uint32_t size = (uint32_t)all->data;
	uint8_t *used;
	int err = -ENOSPC;

	if (all->data == 0 || all->data > MAX_TABLE)
		return -EPROTO;
	used = calloc(size, 1);
	if (!used)
		return -ENOMEM;
	for (uint32_t i = 0; i < all->rule_cnt; i++)
		if (all->rule_locs[i] < size)
			used[all->rule_locs[i]] = 1;
	for (uint32_t l = size; l-- > 0;) {
		if (!used[l]) {
			*loc = l;
			err = 0;
			break;
		}
	}
	free(used);
	return err;
}

/* A free location for a driver that does not place rules itself: the highest, as ethtool's rule
 * manager (rxclass.c) picks. The table's size is ETHTOOL_GRXCLSRLALL's data: GRXCLSRLCNT's may be 0
 * (linux/ethtool.h allows it; ixgbe and igc leave it so). */
static int free_location(int fd, const char *ifname, uint32_t n_rules, uint32_t *loc, uint32_t *size)
{
	struct ethtool_rxnfc *all = calloc(1, sizeof(*all) + n_rules * sizeof(uint32_t));
	int err;

	if (!all)
		return -ENOMEM;
	all->cmd = ETHTOOL_GRXCLSRLALL;
	all->rule_cnt = n_rules;
	err = ethtool(fd, ifname, all);
	*size = (uint32_t)all->data;
	if (err == 0)
		err = highest_free(all, loc);
	free(all);
	return err;
}

/* Install fs (the rule for `what`) and say where it went. Only a driver that says it chooses locations
 * itself (RX_CLS_LOC_SPECIAL in ETHTOOL_GRXCLSRLCNT's data, linux/ethtool.h) is given RX_CLS_LOC_ANY:
 * the others answer it with -EINVAL (ixgbe, i40e) or -ENOSPC (ice), so they get a free location. */
static int insert(int fd, const struct xsk_logger *lg, const char *ifname, const char *what,
		  const struct ethtool_rx_flow_spec *fs, uint32_t *loc)
{
	struct ethtool_rxnfc cnt = {.cmd = ETHTOOL_GRXCLSRLCNT};
	struct ethtool_rxnfc ins = {.cmd = ETHTOOL_SRXCLSRLINS, .fs = *fs};
	uint32_t size = 0;
	int err = ethtool(fd, ifname, &cnt);

	if (err < 0)
		return xsk_fail(lg, -err, "%s: %s (ETHTOOL_GRXCLSRLCNT: %s)", ifname,
				err == -EOPNOTSUPP ? "no n-tuple filters" : "cannot count its n-tuple rules", strerror(-err));
	ins.fs.location = RX_CLS_LOC_ANY;
	if (!(cnt.data & RX_CLS_LOC_SPECIAL)) {
		err = free_location(fd, ifname, cnt.rule_cnt, &ins.fs.location, &size);
		if (err == -ENOSPC)
			return xsk_fail(lg, ENOSPC, "%s: no room for the n-tuple rule for %s: all %u locations of its "
					"table are taken", ifname, what, size);
		if (err < 0)
			return xsk_fail(lg, -err, "%s: cannot list its n-tuple rules (ETHTOOL_GRXCLSRLALL: %s)", ifname,
					strerror(-err));
	}
	err = ethtool(fd, ifname, &ins);
	if (err < 0)
		return xsk_fail(lg, -err, "%s: the driver refused the n-tuple rule for %s (ETHTOOL_SRXCLSRLINS: %s)",
				ifname, what, strerror(-err));
	*loc = ins.fs.location;
	return 0;
}

/* Delete the rule at loc, only if it still is the one we made (someone may have replaced it).
 * Whether it did. */
static bool delete_if_ours(int fd, const char *ifname, uint32_t loc, const struct ethtool_rx_flow_spec *want)
{
	struct ethtool_rxnfc get = {.cmd = ETHTOOL_GRXCLSRULE};
	struct ethtool_rxnfc del = {.cmd = ETHTOOL_SRXCLSRLDEL};

	if (loc == NO_LOC)
		return false;
	get.fs.location = loc;
	if (ethtool(fd, ifname, &get) < 0 || !same_rule(&get.fs, want))
		return false;
	del.fs.location = loc;
	return ethtool(fd, ifname, &del) == 0;
}

static const char *state_dir(void)
{
	const char *dir = secure_getenv(XSK_NTUPLE_STATE_ENV);

	return dir && dir[0] ? dir : XSK_NTUPLE_STATE_DIR;
}

/* r->state_path for (r->ifname, r->addr) under dir; false if it does not fit. */
static bool state_path(struct xsk_ntuple *r, const char *dir)
{
	ipv4_addr a = r->addr;
	int n = snprintf(r->state_path, sizeof(r->state_path), "%s/ntuple-%s-%u.%u.%u.%u", dir, r->ifname, a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255);

	return n > 0 && (size_t)n < sizeof(r->state_path);
}

/* How many of the two it deleted. */
static int remove_rules(int fd, const struct xsk_ntuple *r)
{
	struct ethtool_rx_flow_spec fs;
	int n;

	rule_ip(&fs, r->addr, r->queue);
	n = delete_if_ours(fd, r->ifname, r->loc_ip, &fs);
	rule_arp(&fs, r->queue);
	return n + delete_if_ours(fd, r->ifname, r->loc_arp, &fs);
}

/* Rules a killed run left: their locations are in its state file. */
static void remove_stale(int fd, const struct xsk_logger *lg, struct xsk_ntuple *r)
{
	FILE *f = fopen(r->state_path, "re");
	unsigned ip, arp;

	if (!f)
		return;
	if (fscanf(f, "ip %u arp %u", &ip, &arp) == 2) {
		static const char *const removed[] = { "none removed", "one removed", "removed" };

		r->loc_ip = ip;
		r->loc_arp = arp;
		/* One we did not remove was gone, or replaced by a rule that is not ours: kept. */
		xsk_say(lg, XSK_LOG_WARN, "n-tuple rules an earlier run left on %s (locations %u, %u): %s",
			r->ifname, ip, arp, removed[remove_rules(fd, r)]);
	}
	fclose(f);
	unlink(r->state_path);
}

static int save_state(const struct xsk_ntuple *r, const char *dir)
{
	FILE *f;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	f = fopen(r->state_path, "we");
	if (!f)
		return -errno;
	fprintf(f, "ip %u arp %u\n", r->loc_ip, r->loc_arp);
	return fclose(f) == 0 ? 0 : -errno;
}

int xsk_ntuple_steer(const char *ifname, ipv4_addr addr, uint32_t queue, xsk_log_fn log, void *log_ctx,
		     struct xsk_ntuple *out)
{
	struct xsk_logger lg = {.fn = log, .ctx = log_ctx};
	struct ethtool_rx_flow_spec fs;
	const char *dir = state_dir();
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (strlen(ifname) >= sizeof(out->ifname) || strlen(ifname) >= IF_NAMESIZE)
		return xsk_fail(&lg, EINVAL, "interface name too long: %s", ifname);
	strcpy(out->ifname, ifname);
	out->addr = addr;
	out->queue = queue;
	out->loc_ip = out->loc_arp = NO_LOC;
	if (!state_path(out, dir))
		return xsk_fail(&lg, ENAMETOOLONG, "state directory path too long: %s", dir);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xsk_fail(&lg, errno, "socket: %s", strerror(errno));
	remove_stale(fd, &lg, out);
	out->loc_ip = out->loc_arp = NO_LOC;
	rule_ip(&fs, addr, queue);
	err = insert(fd, &lg, ifname, "IPv4", &fs, &out->loc_ip);
	if (err < 0)
		goto out;
	rule_arp(&fs, queue);
	err = insert(fd, &lg, ifname, "ARP", &fs, &out->loc_arp);
	if (err < 0) {
		remove_rules(fd, out);
		goto out;
	}
	err = save_state(out, dir);
	if (err < 0) {
		err = xsk_fail(&lg, -err, "cannot record the n-tuple rules in %s: %s", out->state_path, strerror(-err));
		remove_rules(fd, out);
		goto out;
	}
	out->installed = true;
out:
	close(fd);
	return err;
}

void xsk_ntuple_remove(struct xsk_ntuple *r)
{
	int fd;

	if (!r || !r->installed)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		remove_rules(fd, r);
		close(fd);
	}
	unlink(r->state_path);
	r->installed = false;
}
