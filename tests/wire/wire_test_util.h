/* Helpers shared by the wire tests: exact-size copies (so ASan catches any read past the length a
 * parser is given) and offsets into captured Ethernet/IPv4 frames. */
#ifndef SMX_WIRE_TEST_UTIL_H
#define SMX_WIRE_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "capture_frames.h"
#include "smolxdp/wire.h"

/* A heap copy of exactly n bytes (free it); reading byte n is an ASan error. */
uint8_t *dup_exact(const void *p, size_t n);

/* Offsets within an untagged Ethernet + IPv4 captured frame. */
const uint8_t *frame_ip(const uint8_t *frame);
size_t frame_ip_len(const uint8_t *frame); /* IPv4 total length */
const uint8_t *frame_l4(const uint8_t *frame);
size_t frame_l4_len(const uint8_t *frame);
ipv4_addr frame_src(const uint8_t *frame);
ipv4_addr frame_dst(const uint8_t *frame);
uint8_t frame_proto(const uint8_t *frame);

/* Fails the test when `text` does not contain `needle`, showing both. */
void assert_contains(const char *text, const char *needle);
void assert_not_contains(const char *text, const char *needle);

/* frame_print of buf into a static buffer. */
const char *print_frame(const uint8_t *buf, size_t len);

#endif
