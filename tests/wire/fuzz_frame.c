/* libFuzzer target: arbitrary bytes through frame_print and every parser (each given exactly the bytes
 * it may read); a parsed repr re-emitted must parse again. The libFuzzer binary needs clang and
 * -DSMX_FUZZ=ON; fuzz_frame_replay runs its corpus (tests/wire/corpus) in any build. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smolxdp/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[512];
	struct strbuf sb;
	uint8_t out[65536 + 64];
	ipv4_addr s = IPV4_ADDR(10, 0, 0, 1), d = IPV4_ADDR(10, 0, 0, 2);

	strbuf_init(&sb, line, sizeof(line));
	frame_print(data, size, &sb);

	struct tcp_repr t;
	if (tcp_parse(data, size, s, d, WIRE_CSUM_IGNORE, &t) == WIRE_OK) {
		size_t n = tcp_emit(&t, s, d, out, sizeof(out));
		struct tcp_repr t2;
		if (n == 0 || tcp_parse(out, n, s, d, WIRE_CSUM_VERIFY, &t2) != WIRE_OK)
			abort();
	}
	struct udp_repr u;
	if (udp_parse(data, size, s, d, WIRE_CSUM_IGNORE, &u) == WIRE_OK) {
		size_t n = udp_emit(&u, s, d, out, sizeof(out));
		struct udp_repr u2;
		if (n == 0 || udp_parse(out, n, s, d, WIRE_CSUM_VERIFY, &u2) != WIRE_OK)
			abort();
	}
	struct icmpv4_repr ic;
	if (icmpv4_parse(data, size, WIRE_CSUM_IGNORE, &ic) == WIRE_OK) {
		size_t n = icmpv4_emit(&ic, out, sizeof(out));
		struct icmpv4_repr ic2;
		if (n == 0 || icmpv4_parse(out, n, WIRE_CSUM_VERIFY, &ic2) != WIRE_OK)
			abort();
	}
	struct ipv4_repr ip;
	(void)ipv4_parse(data, size, WIRE_CSUM_VERIFY, &ip);
	struct arp_repr a;
	(void)arp_parse(data, size, &a);
	return 0;
}
