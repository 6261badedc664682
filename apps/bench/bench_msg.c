/* The message header every benchmark message carries, and the pattern that fills the rest. Byte order
 * is fixed (big-endian) so a reflector or server may echo it back untouched on any machine. */
#include "bench.h"

#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32_(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64_(const uint8_t *p)
{
	return ((uint64_t)get_be32_(p) << 32) | get_be32_(p + 4);
}

void bench_msg_fill(uint8_t *payload, size_t len, const struct bench_msg_hdr *hdr)
{
	uint8_t h[BENCH_HDR_LEN];
	put_be32(h, BENCH_MAGIC);
	put_be32(h + 4, hdr->flow);
	put_be32(h + 8, hdr->slot);
	put_be32(h + 12, 0);
	put_be64(h + 16, hdr->seq);
	put_be64(h + 24, hdr->sent_ns);
	/* Short messages carry what fits of the header; the rest of a long one is a fixed pattern. */
	memcpy(payload, h, len < BENCH_HDR_LEN ? len : BENCH_HDR_LEN);
	for (size_t i = BENCH_HDR_LEN; i < len; i++)
		payload[i] = (uint8_t)i;
}

bool bench_msg_parse(const uint8_t *payload, size_t len, struct bench_msg_hdr *hdr)
{
	if (len < BENCH_HDR_LEN || get_be32_(payload) != BENCH_MAGIC)
		return false;
	hdr->flow = get_be32_(payload + 4);
	hdr->slot = get_be32_(payload + 8);
	hdr->seq = get_be64_(payload + 16);
	hdr->sent_ns = get_be64_(payload + 24);
	return true;
}
