/* XDP steering program: hands the stack exactly its own traffic and leaves the host everything else.
 * ARP whose target protocol address (RFC 826) is one of ours and IPv4 (RFC 791) addressed to one of
 * ours, on the stack's VLAN (IEEE 802.1Q; untagged unless configured), go to XSKMAP[rx_queue_index];
 * all else gets XDP_PASS. Every header read is checked against data_end; an IPv4 header with IHL < 5
 * is malformed. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "smx_steer_maps.h"

/* Sockets by RX queue index. Sized for the largest NICs; an empty slot means "no socket on this
 * queue", and the redirect falls back to XDP_PASS so the host still sees the frame. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SMX_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} smx_xsks SEC(".maps");

/* The stack's IPv4 addresses, network byte order, set at run time by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SMX_STEER_MAX_ADDRS);
	__type(key, __u32);
	__type(value, __u32);
} smx_addrs SEC(".maps");

/* Counters by enum smx_steer_counter, per CPU so the fast path never contends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SMX_STEER_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} smx_counters SEC(".maps");

/* Who attached this program (struct smx_steer_owner), so a later start can tell a live owner from
 * a program left behind by a killed process. Until the loader has written it, nothing is steered:
 * a copy loaded by other means never takes the host's traffic. (Reading it here also makes the
 * kernel list the map among the program's maps, which is how the loader finds it again.) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct smx_steer_owner);
} smx_owner SEC(".maps");

/* The stack's VLAN (struct smx_steer_config), set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct smx_steer_config);
} smx_config SEC(".maps");

/* XDP RX metadata (kernel 6.8+): the tag a NIC stripped on receive. The kernel lets only a program
 * loaded bound to one device (BPF_F_XDP_DEV_BOUND_ONLY) call it, and such a program runs neither in
 * SKB mode nor behind libxdp's dispatcher; so the object holds the program twice: smx_steer, which
 * reads the tag in the frame only, and smx_steer_bound, which asks the driver first (xsk/xsk_prog.c
 * loads one of them). Weak, so the object still loads where the kernel lacks it. veth implements it:
 * the tag its peer's skb carried outside the data (tx-vlan-offload on); a driver that does not
 * answers -EOPNOTSUPP, and the frame's own tag is used. */
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym __weak;

#define VLAN_HLEN 4
#define VLAN_VID_MASK 0x0fff
#define ARP_HDR_LEN 28        /* Ethernet/IPv4 ARP: 8 fixed + 2 * (6 + 4) */
#define ARP_TPA_OFFSET 24     /* target protocol address */
#define IPV4_MIN_HDR_LEN 20
#define IPV4_DST_OFFSET 16

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&smx_counters, &which);

	if (c)
		*c += 1;
}

static __always_inline int owned(void)
{
	__u32 zero = 0;
	struct smx_steer_owner *o = bpf_map_lookup_elem(&smx_owner, &zero);

	return o && o->pid != 0;
}

static __always_inline int is_ours(__u32 addr_be)
{
	return bpf_map_lookup_elem(&smx_addrs, &addr_be) != 0;
}

static __always_inline __u32 load_be32_raw(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v; /* still network order: compared with network-order keys */
}

/* Returns 1 ours, 0 not ours, -1 malformed. */
static __always_inline int classify_arp(const __u8 *arp, const void *data_end)
{
	if ((const void *)(arp + ARP_HDR_LEN) > data_end)
		return -1;
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4: anything else is not for an IPv4 stack. */
	if (arp[0] != 0 || arp[1] != 1 || arp[2] != 0x08 || arp[3] != 0x00 || arp[4] != 6 || arp[5] != 4)
		return 0;
	return is_ours(load_be32_raw(arp + ARP_TPA_OFFSET));
}

static __always_inline int classify_ipv4(const __u8 *ip, const void *data_end)
{
	__u32 ihl;

	if ((const void *)(ip + IPV4_MIN_HDR_LEN) > data_end)
		return -1;
	if ((ip[0] >> 4) != 4)
		return -1;
	ihl = (__u32)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HDR_LEN)
		return -1;
	if ((const void *)(ip + ihl) > data_end)
		return -1;
	return is_ours(load_be32_raw(ip + IPV4_DST_OFFSET));
}

static __always_inline __u16 our_vlan(void)
{
	__u32 zero = 0;
	struct smx_steer_config *c = bpf_map_lookup_elem(&smx_config, &zero);

	return c ? c->vlan_id : 0;
}

/* The tag the NIC stripped into the metadata (1, *tci set), or 0: none, or no way to ask. */
static __always_inline int stripped_tag(struct xdp_md *ctx, __u16 *tci, const int bound)
{
	__be16 vproto = 0;

	if (!bound || !bpf_xdp_metadata_rx_vlan_tag) /* folded away in smx_steer, which may not call it */
		return 0;
	if (bpf_xdp_metadata_rx_vlan_tag(ctx, &vproto, tci) != 0)
		return 0;
	if (vproto != bpf_htons(ETH_P_8021Q)) {
		*tci = 0; /* an 802.1ad S-tag is not our VLAN: its TCI must not be taken for one */
		return 0;
	}
	return 1;
}

/* Puts a stripped tag back in front of the EtherType, so the stack finds every frame of its VLAN
 * tagged whatever the NIC did (it needs no word from the device). 0, or -1 if the headroom is short. */
static __always_inline int restore_tag(struct xdp_md *ctx, __u16 tci)
{
	__u8 *eth;
	__u32 i;

	if (bpf_xdp_adjust_head(ctx, -VLAN_HLEN) != 0)
		return -1;
	eth = (__u8 *)(long)ctx->data;
	if ((void *)(eth + ETH_HLEN + VLAN_HLEN) > (void *)(long)ctx->data_end)
		return -1;
	for (i = 0; i < 2 * ETH_ALEN; i++) /* the addresses move 4 bytes forward, to the new start */
		eth[i] = eth[i + VLAN_HLEN];
	eth[12] = ETH_P_8021Q >> 8;
	eth[13] = ETH_P_8021Q & 0xff;
	eth[14] = tci >> 8;
	eth[15] = tci & 0xff;
	return 0;
}

static __always_inline int steer(struct xdp_md *ctx, const int bound)
{
	const void *data = (const void *)(long)ctx->data;
	const void *data_end = (const void *)(long)ctx->data_end;
	const __u8 *eth = data;
	const __u8 *l3 = eth + ETH_HLEN;
	__u16 proto, tci = 0;
	int verdict, stripped;

	if ((const void *)(eth + ETH_HLEN) > data_end) {
		count(SMX_STEER_MALFORMED);
		return XDP_PASS;
	}
	proto = ((__u16)eth[12] << 8) | eth[13];
	/* The VLAN: from the metadata if the NIC stripped the tag, else from the frame (one tag; a VID
	 * 0 priority tag is untagged traffic, as the stack sees it too). */
	stripped = stripped_tag(ctx, &tci, bound);
	if (!stripped && proto == ETH_P_8021Q) {
		if ((const void *)(eth + ETH_HLEN + VLAN_HLEN) > data_end) {
			count(SMX_STEER_MALFORMED);
			return XDP_PASS;
		}
		tci = ((__u16)eth[14] << 8) | eth[15];
		proto = ((__u16)eth[16] << 8) | eth[17];
		l3 += VLAN_HLEN;
	}
	if (proto == ETH_P_ARP)
		verdict = classify_arp(l3, data_end);
	else if (proto == ETH_P_IP)
		verdict = classify_ipv4(l3, data_end);
	else
		verdict = 0;

	if (verdict < 0) {
		/* Let the host judge what we cannot parse; it is never the stack's. */
		count(SMX_STEER_MALFORMED);
		return XDP_PASS;
	}
	if (verdict == 0 || !owned()) {
		count(SMX_STEER_PASSED);
		return XDP_PASS;
	}
	if ((tci & VLAN_VID_MASK) != our_vlan()) {
		/* Our address on another VLAN (or untagged): some other interface's, the host's. */
		count(SMX_STEER_OTHER_VLAN);
		return XDP_PASS;
	}
	if (stripped && (tci & VLAN_VID_MASK) != 0) {
		__u32 q = ctx->rx_queue_index;

		/* Only for a socket: the host must get the frame as the NIC gave it, tag outside. */
		if (!bpf_map_lookup_elem(&smx_xsks, &q)) {
			count(SMX_STEER_NO_SOCKET);
			return XDP_PASS;
		}
		if (restore_tag(ctx, tci) != 0) {
			count(SMX_STEER_MALFORMED);
			return XDP_PASS;
		}
		count(SMX_STEER_VLAN_RESTORED);
	}
	if (bpf_redirect_map(&smx_xsks, ctx->rx_queue_index, XDP_PASS) == XDP_REDIRECT) {
		count(SMX_STEER_STEERED);
		return XDP_REDIRECT;
	}
	count(SMX_STEER_NO_SOCKET);
	return XDP_PASS;
}

/* Loaded frags-aware (BPF_F_XDP_HAS_FRAGS): it reads headers only, all in the first buffer, so a
 * jumbo frame in several buffers is steered like any other; a driver refuses an MTU above a page to
 * a program without it (veth with XDP), and an AF_XDP socket bound with XDP_USE_SG takes the chain. */
SEC("xdp.frags")
int smx_steer(struct xdp_md *ctx)
{
	return steer(ctx, 0);
}

SEC("xdp.frags")
int smx_steer_bound(struct xdp_md *ctx)
{
	return steer(ctx, 1);
}

char _license[] SEC("license") = "Dual BSD/GPL";
