/* Helpers shared by the wire tests (see wire_test_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n);

	assert_non_null(q);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

const uint8_t *frame_ip(const uint8_t *frame)
{
	return frame + ETH_HEADER_LEN;
}

size_t frame_ip_len(const uint8_t *frame)
{
	return get_be16(frame_ip(frame) + 2);
}

const uint8_t *frame_l4(const uint8_t *frame)
{
	return frame_ip(frame) + (frame_ip(frame)[0] & 0xf) * 4;
}

size_t frame_l4_len(const uint8_t *frame)
{
	return frame_ip_len(frame) - (size_t)(frame_ip(frame)[0] & 0xf) * 4;
}

ipv4_addr frame_src(const uint8_t *frame)
{
	return get_be32(frame_ip(frame) + 12);
}

ipv4_addr frame_dst(const uint8_t *frame)
{
	return get_be32(frame_ip(frame) + 16);
}

uint8_t frame_proto(const uint8_t *frame)
{
	return frame_ip(frame)[9];
}

void assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", needle, text);
}

void assert_not_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) != NULL)
		fail_msg("did not expect \"%s\" in \"%s\"", needle, text);
}

const char *print_frame(const uint8_t *buf, size_t len)
{
	static char out[1024];
	struct strbuf sb;

	strbuf_init(&sb, out, sizeof(out));
	frame_print(buf, len, &sb);
	return out;
}
