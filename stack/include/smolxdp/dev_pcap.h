/* A device that records every frame received and sent through the device it wraps, as a pcap stream
 * (readable by tcpdump and Wireshark). The stack does no file I/O: the app supplies a write callback. */
#ifndef SMOLXDP_DEV_PCAP_H
#define SMOLXDP_DEV_PCAP_H

#include "smolxdp/dev.h"

SMX_API_BEGIN

/* Called with whole pcap records (and once with the file header at init). */
typedef void (*dev_pcap_write_fn)(void *ctx, const void *data, size_t len);

struct dev_pcap_config {
	struct dev *inner;
	dev_pcap_write_fn write;
	void *ctx;
	uint32_t snaplen; /* bytes kept per frame; 0 means 65535 */
	/* Added to every instant to make the record's stamp: the wall-clock time, in microseconds since
	 * 1970-01-01 UTC, at instant 0. The stack never reads a clock, so the app that knows both clocks
	 * sets it when it opens the capture (wall clock minus its monotonic clock); 0 leaves the stamps as
	 * instants, which readers show as times in 1970. */
	uint64_t wall_offset_us;
};

/* Fields are private; the struct is public so the app can hold one without allocation. */
struct dev_pcap {
	struct dev dev;
	struct dev_pcap_config cfg;
	smx_instant last_now; /* tx_submit is not passed a time: frames sent are stamped with the latest */
	uint64_t frames;
};

/* Writes the pcap file header (LINKTYPE_ETHERNET, microsecond stamps) and returns the device. */
struct dev *dev_pcap_init(struct dev_pcap *p, const struct dev_pcap_config *cfg);

SMX_API_END

#endif
