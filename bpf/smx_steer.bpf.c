/* XDP steering program: hands the stack exactly its own traffic and leaves the host everything else.
 * ARP whose target protocol address (RFC 826) is one of ours and IPv4 (RFC 791) addressed to one of
 * ours go to XSKMAP[rx_queue_index]; all else gets XDP_PASS. Every header read is checked against
 * data_end; an IPv4 header with IHL < 5 is malformed. */
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

SEC("xdp")
int smx_steer(struct xdp_md *ctx)
{
	const void *data = (const void *)(long)ctx->data;
	const void *data_end = (const void *)(long)ctx->data_end;
	const __u8 *eth = data;
	__u16 proto;
	int verdict;

	if ((const void *)(eth + ETH_HLEN) > data_end) {
		count(SMX_STEER_MALFORMED);
		return XDP_PASS;
	}
	proto = ((__u16)eth[12] << 8) | eth[13];
	if (proto == ETH_P_ARP)
		verdict = classify_arp(eth + ETH_HLEN, data_end);
	else if (proto == ETH_P_IP)
		verdict = classify_ipv4(eth + ETH_HLEN, data_end);
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
	if (bpf_redirect_map(&smx_xsks, ctx->rx_queue_index, XDP_PASS) == XDP_REDIRECT) {
		count(SMX_STEER_STEERED);
		return XDP_REDIRECT;
	}
	count(SMX_STEER_NO_SOCKET);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
