/* The bounded string builder the one-line printers write into, and the names of parse results.
 * No libc formatting: the stack core is freestanding. */
#include "smolxdp/wire/common.h"

const char *wire_err_str(enum wire_err err)
{
	switch (err) {
	case WIRE_OK:
		return "ok";
	case WIRE_TRUNCATED:
		return "truncated";
	case WIRE_MALFORMED:
		return "malformed";
	case WIRE_BAD_CHECKSUM:
		return "bad checksum";
	case WIRE_UNSUPPORTED:
		return "unsupported";
	}
	return "unknown error";
}

void strbuf_init(struct strbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	if (cap > 0)
		buf[0] = '\0';
}

void strbuf_putc(struct strbuf *sb, char c)
{
	/* Keep room for the terminating NUL; a full buffer silently cuts the text. */
	if (sb->cap == 0 || sb->len + 1 >= sb->cap)
		return;
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	while (*s != '\0' && sb->cap > 0 && sb->len + 1 < sb->cap)
		sb->buf[sb->len++] = *s++;
	if (sb->cap > 0)
		sb->buf[sb->len] = '\0';
}

void strbuf_dec(struct strbuf *sb, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		strbuf_putc(sb, tmp[--n]);
}

void strbuf_hex(struct strbuf *sb, uint64_t v, unsigned min_digits)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	unsigned n = 0;

	do {
		tmp[n++] = digits[v & 0xf];
		v >>= 4;
	} while (v != 0);
	while (n < min_digits && n < sizeof(tmp))
		tmp[n++] = '0';
	while (n > 0)
		strbuf_putc(sb, tmp[--n]);
}

void strbuf_ipv4(struct strbuf *sb, ipv4_addr a)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		strbuf_dec(sb, (a >> shift) & 0xff);
		if (shift != 0)
			strbuf_putc(sb, '.');
	}
}

void strbuf_mac(struct strbuf *sb, const struct eth_addr *a)
{
	for (size_t i = 0; i < sizeof(a->b); i++) {
		if (i != 0)
			strbuf_putc(sb, ':');
		strbuf_hex(sb, a->b[i], 2);
	}
}
