/* RSS as the NIC computes it (xsk_rss.h). The Toeplitz hash per Microsoft's "RSS hashing functions":
 * for every set bit of the input, most significant first, the 32 bits of the key starting at that
 * bit position are XORed into the result. */
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smolxdp/xsk_rss.h"
#include "xsk_internal.h"

/* ETH_RSS_HASH_TOP (bit 0 of hfunc); the uapi header defines it only through kernel-side macros. */
#define XSK_RSS_HASH_TOP 1u

uint32_t xsk_rss_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len)
{
	uint32_t hash = 0, window;
	size_t next = 4; /* the key byte that shifts into the window next */

	if (key_len < 4)
		return 0;
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < len; i++) {
		uint8_t k = next < key_len ? key[next] : 0;

		for (int b = 7; b >= 0; b--) {
			if (data[i] & (1u << b))
				hash ^= window;
			window = window << 1 | ((k >> b) & 1u);
		}
		next++;
	}
	return hash;
}

uint32_t xsk_rss_hash_ipv4(const struct xsk_rss *rss, ipv4_addr src, ipv4_addr dst, uint16_t sport, uint16_t dport)
{
	uint8_t in[12] = {
		(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
		(uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
		(uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8), (uint8_t)dport,
	};

	return xsk_rss_toeplitz(rss->key, rss->key_len, in, sizeof(in));
}

/* Drivers index the table with the hash's low bits (the table's size is a power of two). */
uint32_t xsk_rss_queue(const struct xsk_rss *rss, uint32_t hash)
{
	return rss->indir_len ? rss->indir[hash % rss->indir_len] : 0;
}

uint16_t xsk_rss_pick_port(const struct xsk_rss *rss, ipv4_addr local, ipv4_addr remote, uint16_t rport,
			   uint32_t queue, uint16_t lo, uint16_t hi, uint32_t seed)
{
	uint32_t n;

	if (lo == 0 || hi < lo)
		return 0;
	n = (uint32_t)(hi - lo) + 1;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (seed + i) % n);

		if (xsk_rss_queue(rss, xsk_rss_hash_ipv4(rss, remote, local, rport, port)) == queue)
			return port;
	}
	return 0;
}

int xsk_rss_read(const char *ifname, struct xsk_rss *rss)
{
	struct ethtool_rxfh head = { .cmd = ETHTOOL_GRSSH };
	struct ethtool_rxfh *full = NULL;
	struct ifreq ifr;
	int fd, err = 0;

	memset(rss, 0, sizeof(*rss));
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return xsk_fail(NULL, EINVAL, "interface name too long: %s", ifname);
	strcpy(ifr.ifr_name, ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xsk_fail(NULL, errno, "socket: %s", strerror(errno));
	/* First the sizes, then the key and the table (ethtool's own two-step). */
	ifr.ifr_data = (void *)&head;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		err = xsk_fail(NULL, errno, "%s: no readable RSS configuration (ETHTOOL_GRSSH: %s)", ifname, strerror(errno));
		goto out;
	}
	if (head.key_size > XSK_RSS_MAX_KEY || head.indir_size > XSK_RSS_MAX_INDIR || head.key_size < 16 ||
	    head.indir_size == 0) {
		err = xsk_fail(NULL, EOPNOTSUPP, "%s: RSS key of %u bytes and table of %u entries: not usable here",
			       ifname, head.key_size, head.indir_size);
		goto out;
	}
	full = calloc(1, sizeof(*full) + head.indir_size * sizeof(uint32_t) + head.key_size);
	if (!full) {
		err = xsk_fail(NULL, ENOMEM, "out of memory");
		goto out;
	}
	full->cmd = ETHTOOL_GRSSH;
	full->indir_size = head.indir_size;
	full->key_size = head.key_size;
	ifr.ifr_data = (void *)full;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		err = xsk_fail(NULL, errno, "%s: ETHTOOL_GRSSH: %s", ifname, strerror(errno));
		goto out;
	}
	if (full->hfunc != 0 && !(full->hfunc & XSK_RSS_HASH_TOP)) {
		err = xsk_fail(NULL, EOPNOTSUPP, "%s: its RSS hash function is not Toeplitz (hfunc 0x%x)", ifname,
			       full->hfunc);
		goto out;
	}
	rss->indir_len = full->indir_size;
	memcpy(rss->indir, full->rss_config, full->indir_size * sizeof(uint32_t));
	rss->key_len = full->key_size;
	memcpy(rss->key, (uint8_t *)full->rss_config + full->indir_size * sizeof(uint32_t), full->key_size);
out:
	free(full);
	close(fd);
	return err;
}

uint32_t xsk_rx_queue_count(const char *ifname)
{
	char path[80];
	struct dirent *e;
	uint32_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n;
}
