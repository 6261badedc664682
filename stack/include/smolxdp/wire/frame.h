/* Whole-frame decoding for humans: one line per Ethernet frame, every layer the stack understands,
 * and what it cannot decode named for what it is (truncated, bad checksum, unknown type). Shared by
 * smolxdp-dump and the stack's tracing. */
#ifndef SMOLXDP_WIRE_FRAME_H
#define SMOLXDP_WIRE_FRAME_H

#include "smolxdp/wire/common.h"

SMX_API_BEGIN

void frame_print(const uint8_t *buf, size_t len, struct strbuf *sb);

SMX_API_END

#endif
