/* Command-line values the programs share: a bounded number, an IPv4 address, ADDR/PREFIX, a MAC address. Each returns 0,
 * or -EINVAL and leaves the caller to say which option was wrong. */
#ifndef SMX_APP_PARSE_H
#define SMX_APP_PARSE_H

#include "smolxdp/iface.h"

/* A whole decimal number in [lo, hi], nothing after it. */
int app_parse_long(const char *s, long lo, long hi, long *out);
/* Dotted quad, into host byte order. */
int app_parse_ipv4(const char *s, ipv4_addr *out);
/* ADDR or ADDR/PREFIX (0..32); without a prefix, /24. */
int app_parse_cidr(const char *s, struct iface_cidr *c);
/* aa:bb:cc:dd:ee:ff, a station's address: a group (multicast) address is refused. */
int app_parse_mac(const char *s, struct eth_addr *mac);

#endif
