/* Command-line values the programs share: IPv4 addresses (inet_pton), ADDR/PREFIX, and station MAC
 * addresses (the I/G bit of the first octet clear, IEEE 802 clause 8.2). */
#define _GNU_SOURCE
#include "app_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int app_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int app_parse_ipv4(const char *s, ipv4_addr *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

int app_parse_cidr(const char *s, struct iface_cidr *c)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	c->prefix_len = 24;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || p < 0 || p > 32)
			return -EINVAL;
		c->prefix_len = (uint8_t)p;
	}
	return app_parse_ipv4(buf, &c->addr);
}

int app_parse_mac(const char *s, struct eth_addr *mac)
{
	unsigned b[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		if (b[i] > 255)
			return -EINVAL;
	if (b[0] & 1) /* a group address cannot be a station's */
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac->b[i] = (uint8_t)b[i];
	return 0;
}
