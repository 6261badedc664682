/* What every wire module shares: the parse result enum, the checksum policy flag, and the small
 * string builder the one-line printers write into (no libc formatting in the stack core). */
#ifndef SMOLXDP_WIRE_COMMON_H
#define SMOLXDP_WIRE_COMMON_H

#include "smolxdp/base.h"

SMX_API_BEGIN

enum wire_err {
	WIRE_OK = 0,
	WIRE_TRUNCATED,    /* the buffer ends before the header (or a length it states) does */
	WIRE_MALFORMED,    /* a field is impossible: IHL < 5, data offset < 5, bad option length... */
	WIRE_BAD_CHECKSUM, /* everything parsed, the repr is filled, but the checksum is wrong */
	WIRE_UNSUPPORTED,  /* well formed but not something we handle (802.3 length field, ARP for IPv6) */
};

/* Whether a parse verifies the checksum (receive path) or leaves it to someone who already did. */
enum wire_csum {
	WIRE_CSUM_VERIFY = 0,
	WIRE_CSUM_IGNORE = 1,
};

const char *wire_err_str(enum wire_err err);

/* Bounded string builder: appends never overflow; the text is always NUL-terminated, cut at cap-1. */
struct strbuf {
	char *buf;
	size_t cap;
	size_t len;
};

void strbuf_init(struct strbuf *sb, char *buf, size_t cap);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_dec(struct strbuf *sb, uint64_t v);
void strbuf_hex(struct strbuf *sb, uint64_t v, unsigned min_digits); /* no 0x prefix */
void strbuf_ipv4(struct strbuf *sb, ipv4_addr a);                   /* dotted quad */
void strbuf_mac(struct strbuf *sb, const struct eth_addr *a);       /* aa:bb:cc:dd:ee:ff */

SMX_API_END

#endif
