/* A NIC's table of n-tuple classification rules, answering the ethtool commands a driver with n-tuple
 * filters answers (linux/ethtool.h: ETHTOOL_GRXCLSRLCNT, GRXCLSRLALL, GRXCLSRULE, SRXCLSRLINS,
 * SRXCLSRLDEL), so that xsk_ntuple.c is tested without such a NIC: test_xsk_ntuple wraps ioctl into
 * it, fake_nic_preload.c puts it under smolxdp-server. */
#ifndef SMX_TEST_FAKE_NIC_H
#define SMX_TEST_FAKE_NIC_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/ethtool.h>

#define FAKE_NIC_TABLE_MAX 64
#define FAKE_NIC_QUEUES 4 /* a rule to a queue beyond is refused (-EINVAL) */

/* How a driver finds a place for a rule (linux/ethtool.h: one that accepts the special locations says
 * so with RX_CLS_LOC_SPECIAL in GRXCLSRLCNT's data; that data may also be 0). */
struct fake_driver {
	const char *name;
	bool places_itself;  /* takes RX_CLS_LOC_ANY and uses its lowest free location */
	bool cnt_gives_size; /* GRXCLSRLCNT's data holds the table's size (GRXCLSRLALL's always does) */
	int loc_any_err;     /* otherwise, its answer to RX_CLS_LOC_ANY */
};

struct fake_nic {
	const struct fake_driver *drv;
	uint32_t size;   /* locations in the table, <= FAKE_NIC_TABLE_MAX */
	bool refuse_arp; /* no ethertype filters: ETHER_FLOW rules get -EINVAL */
	bool no_filters; /* no n-tuple filters at all (veth): every command gets -EOPNOTSUPP */
	bool used[FAKE_NIC_TABLE_MAX];
	struct ethtool_rx_flow_spec rule[FAKE_NIC_TABLE_MAX];
	unsigned inserts, deletes;
};

/* Whether an ethtool command is one of the five above. */
bool fake_nic_handles(uint32_t cmd);

/* Answer one ethtool command (what ifr_data points to): 0 or a negative errno. */
int fake_nic_ethtool(struct fake_nic *nic, void *cmd);

/* Rules in the table. */
uint32_t fake_nic_count(const struct fake_nic *nic);

#endif
