/* All of the wire layer. */
#ifndef SMOLXDP_WIRE_H
#define SMOLXDP_WIRE_H
#include "smolxdp/bytes.h"
#include "smolxdp/wire/arp.h"
#include "smolxdp/wire/checksum.h"
#include "smolxdp/wire/common.h"
#include "smolxdp/wire/ethernet.h"
#include "smolxdp/wire/frame.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"
#include "smolxdp/wire/tcp.h"
#include "smolxdp/wire/udp.h"
#endif
