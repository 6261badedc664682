/* The Linux peer's VLAN, for a kernel without the 8021q module: tc (cls_bpf, direct action) programs
 * on the peer's veth. Egress tags every frame with VLAN_ID (priority VLAN_PCP); ingress takes the tag
 * off frames of VLAN_ID, so the kernel sees plain Ethernet both ways. Frames of other VLANs keep their
 * tag, and the kernel, with no VLAN device for them, drops them as another host's. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef VLAN_ID
#define VLAN_ID 5
#endif
#ifndef VLAN_PCP
#define VLAN_PCP 0
#endif

SEC("tc/egress")
int vlan_push(struct __sk_buff *skb)
{
	/* Kept in skb metadata (hardware-accelerated style): the veth carries it outside the data unless
	 * its tx-vlan-offload is off, when the kernel writes it into the frame. Both are tested. */
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (VLAN_PCP << 13) | VLAN_ID) != 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc/ingress")
int vlan_pop(struct __sk_buff *skb)
{
	/* The receive path has already moved a tag from the frame into skb->vlan_tci. */
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == VLAN_ID && bpf_skb_vlan_pop(skb) != 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
