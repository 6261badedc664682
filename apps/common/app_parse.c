/* Command-line values the programs share: IPv4 addresses (inet_pton), ADDR/PREFIX, and station MAC
 * addresses (the I/G bit of the first octet clear, IEEE 802 clause 8.2). Each parser has a twin that
 * says why a value was refused, for the one-line usage error. */
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

/* NULL if a station may own addr, else why not. */
static const char *unicast_why(ipv4_addr a)
{
	if (a == 0)
		return "0.0.0.0 is no host's address";
	if (a >> 24 == 127)
		return "a loopback address (127/8) never leaves the host";
	if (a >> 28 == 14)
		return "a multicast address (224/4) is no host's own";
	if (a >> 28 == 15)
		return "a reserved or broadcast address (240/4)";
	return NULL;
}

/* 0, or -EINVAL with *why set. */
static int parse_cidr(const char *s, struct iface_cidr *c, const char **why)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	ipv4_addr host_bits;

	*why = "not an IPv4 address (a dotted quad, as 192.168.69.1/24)";
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	c->prefix_len = 24;
	if (slash) {
		char *end;
		long p;

		errno = 0;
		p = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || p < 0 || p > 32) {
			*why = "prefix length must be 0..32";
			return -EINVAL;
		}
		c->prefix_len = (uint8_t)p;
	}
	if (app_parse_ipv4(buf, &c->addr) < 0)
		return -EINVAL;
	if ((*why = unicast_why(c->addr)) != NULL)
		return -EINVAL;
	/* On a subnet of more than two addresses, the all-zeros and all-ones hosts are the network's
	 * (RFC 1122 3.2.1.3, RFC 3021 for /31). */
	host_bits = c->prefix_len >= 31 ? 0 : (ipv4_addr)(0xffffffffu >> c->prefix_len);
	if (host_bits && (c->addr & host_bits) == 0) {
		*why = "the network's own address (host part all zeros)";
		return -EINVAL;
	}
	if (host_bits && (c->addr & host_bits) == host_bits) {
		*why = "the network's broadcast address (host part all ones)";
		return -EINVAL;
	}
	return 0;
}

int app_parse_cidr(const char *s, struct iface_cidr *c)
{
	const char *why;

	return parse_cidr(s, c, &why);
}

const char *app_cidr_error(const char *s)
{
	struct iface_cidr c;
	const char *why;

	return parse_cidr(s, &c, &why) < 0 ? why : NULL;
}

int app_parse_mac(const char *s, struct eth_addr *mac)
{
	return app_mac_error(s) ? -EINVAL : (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac->b[0], &mac->b[1],
						   &mac->b[2], &mac->b[3], &mac->b[4], &mac->b[5]) == 6 ? 0 : -EINVAL);
}

const char *app_mac_error(const char *s)
{
	unsigned b[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6)
		return "not a MAC address (six hex octets, as 02:00:00:00:00:01)";
	for (int i = 0; i < 6; i++)
		if (b[i] > 255)
			return "each octet must be 00..ff";
	if (b[0] & 1)
		return "a group (multicast) address cannot be a station's (the first octet must be even)";
	if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
		return "00:00:00:00:00:00 is no station's address";
	return NULL;
}

/* 0, or -EINVAL with *why set. */
static int parse_vlan(const char *s, uint16_t *vid, uint8_t *prio, const char **why)
{
	char buf[16];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	long v, p = 0;

	*why = "must be a VLAN id, 1..4094, with an optional priority (ID[:PCP], PCP 0..7)";
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (app_parse_long(buf, 0, 1000000, &v) < 0)
		return -EINVAL;
	if (v == 0 || v > 4094) {
		/* IEEE 802.1Q 9.6: VID 0 tags a priority only, 4095 is reserved. */
		*why = v == 0 ? "VLAN id 0 is no VLAN (802.1Q priority tagging only): give 1..4094, or no --vlan"
			      : "VLAN id must be 1..4094 (4095 is reserved)";
		return -EINVAL;
	}
	if (colon && app_parse_long(colon + 1, 0, 7, &p) < 0) {
		*why = "the priority after ':' must be 0..7 (802.1Q PCP)";
		return -EINVAL;
	}
	*vid = (uint16_t)v;
	*prio = (uint8_t)p;
	return 0;
}

int app_parse_vlan(const char *s, uint16_t *vid, uint8_t *prio)
{
	const char *why;

	return parse_vlan(s, vid, prio, &why);
}

const char *app_vlan_error(const char *s)
{
	uint16_t vid;
	uint8_t prio;
	const char *why;

	return parse_vlan(s, &vid, &prio, &why) < 0 ? why : NULL;
}
