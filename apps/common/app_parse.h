/* Command-line values the programs share: a bounded number, an IPv4 address, ADDR/PREFIX, a MAC address,
 * a VLAN. Each returns 0, or -EINVAL and leaves the caller to say which option was wrong; app_*_error says why. */
#ifndef SMX_APP_PARSE_H
#define SMX_APP_PARSE_H

#include "smolxdp/iface.h"

/* A whole decimal number in [lo, hi], nothing after it. */
int app_parse_long(const char *s, long lo, long hi, long *out);
/* Dotted quad, into host byte order. */
int app_parse_ipv4(const char *s, ipv4_addr *out);
/* ADDR or ADDR/PREFIX (0..32); without a prefix, /24. A host's unicast address only: not 0.0.0.0,
 * loopback, multicast or 240/4, nor its subnet's network or broadcast address. */
int app_parse_cidr(const char *s, struct iface_cidr *c);
/* Why app_parse_cidr refuses s ("prefix length must be 0..32"), or NULL if it does not. */
const char *app_cidr_error(const char *s);
/* aa:bb:cc:dd:ee:ff, a station's address: a group (multicast) or all-zeros address is refused. */
int app_parse_mac(const char *s, struct eth_addr *mac);
/* Why app_parse_mac refuses s, or NULL if it does not. */
const char *app_mac_error(const char *s);
/* ID[:PCP], an IEEE 802.1Q VLAN id 1..4094 and its priority 0..7 (default 0). */
int app_parse_vlan(const char *s, uint16_t *vid, uint8_t *prio);
/* Why app_parse_vlan refuses s, or NULL if it does not. */
const char *app_vlan_error(const char *s);

#endif
