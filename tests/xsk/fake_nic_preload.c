/* LD_PRELOAD for smolxdp-server in tests/server/test_ntuple.sh: the ethtool rule commands (fake_nic.h)
 * for the interface $SMX_FAKE_NIC_IF are answered by a fake NIC whose table lives in the file
 * $SMX_FAKE_NIC_TABLE, read before and written after each command, so that it outlives a kill -9 and
 * the script can read it and put rules of its own in it. Every other ioctl goes to the kernel. The
 * driver needs a location and leaves GRXCLSRLCNT's data 0 (ixgbe, igc); $SMX_FAKE_NIC_REFUSE_ARP=1
 * makes it refuse ETHER_FLOW rules. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_nic.h"

static const struct fake_driver driver = { "needs a location (ixgbe)", false, false, -EINVAL };

/* One line per rule, by location: "loc L ip4 ADDR/MASK queue Q" or "loc L ether 0xTYPE/0xMASK queue Q". */
static void parse_rule(struct ethtool_rx_flow_spec *fs, const char *kind, char *val)
{
	char *mask = strchr(val, '/');

	if (mask)
		*mask++ = '\0';
	if (strcmp(kind, "ip4") == 0) {
		fs->flow_type = IP_USER_FLOW;
		fs->h_u.usr_ip4_spec.ip_ver = ETH_RX_NFC_IP4;
		inet_pton(AF_INET, val, &fs->h_u.usr_ip4_spec.ip4dst);
		if (mask)
			inet_pton(AF_INET, mask, &fs->m_u.usr_ip4_spec.ip4dst);
	} else {
		fs->flow_type = ETHER_FLOW;
		fs->h_u.ether_spec.h_proto = htons((uint16_t)strtoul(val, NULL, 16));
		fs->m_u.ether_spec.h_proto = mask ? htons((uint16_t)strtoul(mask, NULL, 16)) : 0;
	}
}

static void load(struct fake_nic *nic, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[160], kind[8], val[64];
	unsigned long long queue;
	unsigned loc;

	memset(nic, 0, sizeof(*nic));
	nic->drv = &driver;
	nic->size = 16;
	nic->refuse_arp = getenv("SMX_FAKE_NIC_REFUSE_ARP") != NULL;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "loc %u %7s %63s queue %llu", &loc, kind, val, &queue) != 4 || loc >= nic->size)
			continue;
		parse_rule(&nic->rule[loc], kind, val);
		nic->rule[loc].ring_cookie = queue;
		nic->rule[loc].location = loc;
		nic->used[loc] = true;
	}
	if (f)
		fclose(f);
}

/* Whole, or not at all: the script may read it at any moment. */
static void save(const struct fake_nic *nic, const char *path)
{
	char tmp[4096], a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	for (uint32_t l = 0; l < nic->size; l++) {
		const struct ethtool_rx_flow_spec *fs = &nic->rule[l];

		if (!nic->used[l])
			continue;
		if (fs->flow_type == IP_USER_FLOW)
			fprintf(f, "loc %u ip4 %s/%s queue %llu\n", l,
				inet_ntop(AF_INET, &fs->h_u.usr_ip4_spec.ip4dst, a, sizeof(a)),
				inet_ntop(AF_INET, &fs->m_u.usr_ip4_spec.ip4dst, m, sizeof(m)),
				(unsigned long long)fs->ring_cookie);
		else
			fprintf(f, "loc %u ether 0x%04x/0x%04x queue %llu\n", l, ntohs(fs->h_u.ether_spec.h_proto),
				ntohs(fs->m_u.ether_spec.h_proto), (unsigned long long)fs->ring_cookie);
	}
	if (fclose(f) == 0)
		rename(tmp, path);
}

int ioctl(int fd, unsigned long request, ...)
{
	const char *ifname = getenv("SMX_FAKE_NIC_IF"), *path = getenv("SMX_FAKE_NIC_TABLE");
	struct fake_nic nic;
	struct ifreq *ifr;
	va_list ap;
	int err;

	va_start(ap, request);
	ifr = va_arg(ap, struct ifreq *);
	va_end(ap);
	if (request != SIOCETHTOOL || !ifname || !path || strcmp(ifr->ifr_name, ifname) != 0 ||
	    !fake_nic_handles(*(const uint32_t *)ifr->ifr_data))
		return (int)syscall(SYS_ioctl, fd, request, ifr);
	load(&nic, path);
	err = fake_nic_ethtool(&nic, ifr->ifr_data);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	save(&nic, path);
	return 0;
}
