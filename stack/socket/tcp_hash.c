/* Keyed hashing for TCP: SipHash-2-4 (Aumasson and Bernstein, 2012) written out here, used for
 * initial sequence numbers (RFC 6528 3), ephemeral port offsets (RFC 6056 3.3.3) and the 4-tuple
 * table, so none of them can be predicted or flooded by someone who does not know the secret. */
#include "smolxdp/bytes.h"
#include "tcp_internal.h"

static uint64_t tcp_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void tcp_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = tcp_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = tcp_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = tcp_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = tcp_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = tcp_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = tcp_rotl(v[2], 32);
}

static uint64_t tcp_le64(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

uint64_t tcp_siphash(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	uint64_t k0 = tcp_le64(key, 8), k1 = tcp_le64(key + 8, 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ull,
		k1 ^ 0x646f72616e646f6dull,
		k0 ^ 0x6c7967656e657261ull,
		k1 ^ 0x7465646279746573ull,
	};
	size_t full = len & ~(size_t)7;
	uint64_t m;

	for (size_t i = 0; i < full; i += 8) {
		m = tcp_le64(msg + i, 8);
		v[3] ^= m;
		tcp_sipround(v);
		tcp_sipround(v);
		v[0] ^= m;
	}
	m = tcp_le64(msg + full, len - full) | (uint64_t)(len & 0xff) << 56;
	v[3] ^= m;
	tcp_sipround(v);
	tcp_sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		tcp_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The 4-tuple as bytes, with a leading byte that keeps each use's hashes independent. */
static size_t tcp_tuple_bytes(uint8_t *b, uint8_t use, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
			      uint16_t rport)
{
	b[0] = use;
	put_be32(b + 1, laddr);
	put_be16(b + 5, lport);
	put_be32(b + 7, raddr);
	put_be16(b + 11, rport);
	return 13;
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 us timer. */
uint32_t tcp_isn(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
		 uint16_t rport, smx_instant now)
{
	uint8_t b[13];
	size_t n = tcp_tuple_bytes(b, 'I', laddr, lport, raddr, rport);

	return (uint32_t)(now / 4) + (uint32_t)tcp_siphash(s->cfg.secret, b, n);
}

/* RFC 7323 7.1: a per-connection random offset for the timestamp clock, so TSval reveals neither
 * uptime nor the clock of other connections (the same keyed hash as the ISN, another label). */
uint32_t tcp_ts_offset(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
		       uint16_t rport)
{
	uint8_t b[13];
	size_t n = tcp_tuple_bytes(b, 'T', laddr, lport, raddr, rport);

	return (uint32_t)tcp_siphash(s->cfg.secret, b, n);
}

uint32_t tcp_tuple_hash(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
			uint16_t rport)
{
	uint8_t b[13];
	size_t n = tcp_tuple_bytes(b, 'H', laddr, lport, raddr, rport);

	return (uint32_t)tcp_siphash(s->cfg.secret, b, n);
}

/* RFC 6056 3.3.3 (algorithm 3): offset = F(local_IP, remote_IP, remote_port, secret_key). */
uint32_t tcp_port_offset(const struct tcp_stack *s, ipv4_addr laddr, ipv4_addr raddr, uint16_t rport)
{
	uint8_t b[13];
	size_t n = tcp_tuple_bytes(b, 'P', laddr, 0, raddr, rport);

	return (uint32_t)tcp_siphash(s->cfg.secret, b, n);
}
