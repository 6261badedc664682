/* The fake NIC's rule table (fake_nic.h), answering as the drivers' get_rxnfc/set_rxnfc do. */
#include <errno.h>

#include "fake_nic.h"

bool fake_nic_handles(uint32_t cmd)
{
	return cmd == ETHTOOL_GRXCLSRLCNT || cmd == ETHTOOL_GRXCLSRLALL || cmd == ETHTOOL_GRXCLSRULE ||
	       cmd == ETHTOOL_SRXCLSRLINS || cmd == ETHTOOL_SRXCLSRLDEL;
}

uint32_t fake_nic_count(const struct fake_nic *nic)
{
	uint32_t n = 0;

	for (uint32_t l = 0; l < nic->size; l++)
		n += nic->used[l];
	return n;
}

static int insert(struct fake_nic *nic, struct ethtool_rx_flow_spec *fs)
{
	uint32_t type = fs->flow_type, loc = fs->location;

	if (type == IP_USER_FLOW ? fs->h_u.usr_ip4_spec.ip_ver != ETH_RX_NFC_IP4 : type != ETHER_FLOW)
		return -EINVAL;
	if (fs->ring_cookie >= FAKE_NIC_QUEUES || (type == ETHER_FLOW && nic->refuse_arp))
		return -EINVAL;
	if (loc & RX_CLS_LOC_SPECIAL) {
		if (!nic->drv->places_itself)
			return nic->drv->loc_any_err;
		if (loc != RX_CLS_LOC_ANY)
			return -EINVAL;
		for (loc = 0; loc < nic->size && nic->used[loc]; loc++)
			;
		if (loc == nic->size)
			return -ENOSPC;
	} else if (loc >= nic->size) {
		return -EINVAL;
	}
	nic->used[loc] = true; /* a used location is updated, as drivers do */
	nic->rule[loc] = *fs;
	nic->rule[loc].location = loc;
	fs->location = loc;
	nic->inserts++;
	return 0;
}

int fake_nic_ethtool(struct fake_nic *nic, void *cmd)
{
	struct ethtool_rxnfc *nfc = cmd;
	uint32_t loc = nfc->fs.location, n = 0;

	if (nic->no_filters || !fake_nic_handles(nfc->cmd))
		return -EOPNOTSUPP;
	switch (nfc->cmd) {
	case ETHTOOL_GRXCLSRLCNT:
		nfc->rule_cnt = fake_nic_count(nic);
		nfc->data = nic->drv->places_itself ? nic->size | RX_CLS_LOC_SPECIAL
			    : nic->drv->cnt_gives_size ? nic->size : 0;
		return 0;
	case ETHTOOL_GRXCLSRLALL:
		nfc->data = nic->size;
		for (uint32_t l = 0; l < nic->size; l++) {
			if (!nic->used[l])
				continue;
			if (n == nfc->rule_cnt)
				return -EMSGSIZE;
			nfc->rule_locs[n++] = l;
		}
		nfc->rule_cnt = n;
		return 0;
	case ETHTOOL_GRXCLSRULE:
		if (loc >= nic->size || !nic->used[loc])
			return -ENOENT;
		nfc->fs = nic->rule[loc];
		return 0;
	case ETHTOOL_SRXCLSRLINS:
		return insert(nic, &nfc->fs);
	default: /* ETHTOOL_SRXCLSRLDEL */
		if (loc >= nic->size || !nic->used[loc])
			return -ENOENT;
		nic->used[loc] = false;
		nic->deletes++;
		return 0;
	}
}
