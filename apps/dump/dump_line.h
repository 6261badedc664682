/* smolxdp-dump's default output: one line per frame in tcpdump's own words and order (as `tcpdump -nn`
 * prints them, `-e` adding the link layer), decoded with the stack's parsers. */
#ifndef SMX_DUMP_LINE_H
#define SMX_DUMP_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smolxdp/wire.h"

struct dump_flow;

struct dump_line {
	bool link;     /* -e: MACs, ethertype and frame length first */
	bool absolute; /* -S: TCP sequence numbers as they are, not relative to the flow's first ones */
	struct dump_flow **flows; /* the sequence numbers each TCP flow started from (tcpdump's rule) */
	size_t flow_buckets;
};

/* 0, or -1 when the flow table cannot be allocated. */
int dump_line_init(struct dump_line *d, bool link, bool absolute);
void dump_line_free(struct dump_line *d);
/* frame holds caplen bytes of a frame that was len bytes long on the wire. */
void dump_line_print(struct dump_line *d, const uint8_t *frame, size_t caplen, size_t len, struct strbuf *sb);

#endif
