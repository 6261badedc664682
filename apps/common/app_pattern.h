/* The test stream every TCP program here sends and checks: byte i of a stream is i mod 256
 * (smolxdp-server's source service, smolxdp-tcpclient, smolxdp-tcpbench's Linux client). */
#ifndef SMX_APP_PATTERN_H
#define SMX_APP_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Writes the stream's bytes [pos, pos + n) to out. */
void app_pattern_fill(uint8_t *out, size_t n, uint64_t pos);
/* Checks in[0..n) against the stream's bytes [pos, pos + n): 0 if they match, else 1 + the offset
 * in the stream of the first byte that does not. */
uint64_t app_pattern_check(const uint8_t *in, size_t n, uint64_t pos);

#endif
