/* Shared by smolxdp-dump's default printers (dump_line.c, dump_tcp.c); not part of any API. */
#ifndef SMX_DUMP_INTERNAL_H
#define SMX_DUMP_INTERNAL_H

#include "dump_line.h"

/* "SRC > DST: ", or with ports "SRC.SPORT > DST.DPORT: " (ports[0] source, ports[1] destination). */
void dump_addrs(const struct ipv4_repr *ip, const uint16_t *ports, struct strbuf *sb);
/* cap: bytes of the segment captured; len: its length by the IP header. */
void dump_tcp(struct dump_line *d, const struct ipv4_repr *ip, const uint8_t *p, size_t cap, size_t len,
	      struct strbuf *sb);

#endif
