/* Receive: Ethernet demultiplexing, IPv4 input checks (RFC 791, RFC 1122 3.2.1), and dispatch to ICMP,
 * UDP, the registered TCP handler, or a protocol-unreachable error. While no TCP handler is registered
 * a segment to us is refused with a RST as a closed port would be (RFC 9293 3.10.7.1). */
#include "iface_internal.h"

static bool bad_source(const struct iface *ifc, ipv4_addr src)
{
	/* RFC 1122 3.2.1.3: a broadcast or multicast (class D) source is discarded, and {127, <any>} "MUST
	 * NOT appear outside a host"; so is one of our own addresses, which only a loop or a forger sends
	 * us. 0.0.0.0 is allowed (a host booting). */
	return src == 0xffffffffu || (src >> 28) == 0xe || (src >> 24) == 127 || iface_is_broadcast_addr(ifc, src) ||
	       iface_is_our_addr(ifc, src);
}

/* RFC 9293 3.10.7.1 (CLOSED): "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>. If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". An incoming RST is ignored. */
static void tcp_refuse(struct iface *ifc, const struct rx_ip *rx)
{
	struct tcp_repr seg;
	struct ip_tx tx;

	if (tcp_parse(rx->l4, rx->l4_len, rx->ip.src, rx->ip.dst, rx->csum, &seg) != WIRE_OK) {
		iface_count(ifc, IFACE_DROP_TCP_MALFORMED);
		return;
	}
	iface_count(ifc, IFACE_DROP_TCP_NO_HANDLER);
	if ((seg.flags & TCP_RST) || rx->broadcast)
		return;
	struct tcp_repr rst = {.src_port = seg.dst_port, .dst_port = seg.src_port};
	if (seg.flags & TCP_ACK) {
		rst.seq = seg.ack;
		rst.flags = TCP_RST;
	} else {
		uint32_t seg_len = (uint32_t)seg.payload_len + !!(seg.flags & TCP_SYN) + !!(seg.flags & TCP_FIN);
		rst.ack = seg.seq + seg_len;
		rst.flags = TCP_RST | TCP_ACK;
	}
	size_t len = tcp_repr_len(&rst);
	enum ip_tx_err e = iface_ip_begin(ifc, rx->ip.dst, rx->ip.src, IP_PROTO_TCP, len, &tx);
	if (e != IP_TX_OK) {
		iface_count_tx_fail(ifc, e);
		return;
	}
	tcp_emit(&rst, tx.src, tx.dst, tx.l4, tx.l4_cap);
	iface_ip_commit(ifc, &tx, len);
	iface_count(ifc, IFACE_TCP_RST_SENT);
}

static void ipv4_input(struct iface *ifc, const uint8_t *buf, size_t len, bool link_broadcast)
{
	struct rx_ip rx;
	enum wire_err err;

	rx.csum = (ifc->caps.csum & DEV_CSUM_RX_VERIFIED) ? WIRE_CSUM_IGNORE : WIRE_CSUM_VERIFY;
	err = ipv4_parse(buf, len, rx.csum, &rx.ip);
	if (err != WIRE_OK) {
		iface_count(ifc, err == WIRE_BAD_CHECKSUM ? IFACE_DROP_IPV4_BAD_CHECKSUM : IFACE_DROP_IPV4_MALFORMED);
		return;
	}
	rx.broadcast = false;
	if (!iface_is_our_addr(ifc, rx.ip.dst)) {
		if (!iface_is_broadcast_addr(ifc, rx.ip.dst)) {
			iface_count(ifc, IFACE_DROP_IPV4_NOT_FOR_US);
			return;
		}
		rx.broadcast = true;
	}
	if (bad_source(ifc, rx.ip.src)) {
		iface_count(ifc, IFACE_DROP_IPV4_BAD_SOURCE);
		return;
	}
	if (ipv4_is_fragment(&rx.ip)) { /* no reassembly yet */
		iface_count(ifc, IFACE_DROP_IPV4_FRAGMENT);
		return;
	}
	rx.link_broadcast = link_broadcast;
	/* RFC 1122 3.3.6: a unicast IP packet in a link-layer broadcast is discarded. */
	if (link_broadcast && !rx.broadcast) {
		iface_count(ifc, IFACE_DROP_IPV4_NOT_FOR_US);
		return;
	}
	rx.packet = buf;
	rx.l4 = buf + rx.ip.header_len; /* options, if any, are skipped: we act on none */
	rx.l4_len = ipv4_payload_len(&rx.ip);
	switch (rx.ip.protocol) {
	case IP_PROTO_UDP:
		udp_input(ifc, &rx);
		break;
	case IP_PROTO_ICMP:
		icmp_input(ifc, &rx);
		break;
	case IP_PROTO_TCP:
		iface_count(ifc, IFACE_TCP_RX_SEGMENTS);
		if (ifc->has_tcp) {
			if (!rx.broadcast)
				ifc->tcp.input(ifc->tcp.ctx, ifc->now, &rx.ip, rx.l4, rx.l4_len, rx.csum, &ifc->sender);
		} else {
			tcp_refuse(ifc, &rx);
		}
		break;
	default:
		iface_count(ifc, IFACE_DROP_IPV4_UNKNOWN_PROTO);
		icmp_send_error(ifc, &rx, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PROTO);
		break;
	}
}

void iface_frame_input(struct iface *ifc, const uint8_t *buf, size_t len)
{
	struct eth_repr eth;
	enum wire_err err = eth_parse(buf, len, &eth);

	if (err != WIRE_OK) {
		iface_count(ifc, err == WIRE_UNSUPPORTED ? IFACE_DROP_ETH_UNKNOWN_TYPE : IFACE_DROP_ETH_MALFORMED);
		return;
	}
	bool link_broadcast = eth_addr_is_broadcast(&eth.dst);
	if (!link_broadcast && !eth_addr_eq(&eth.dst, &ifc->cfg.mac)) {
		iface_count(ifc, IFACE_DROP_ETH_NOT_FOR_US);
		return;
	}
	if (eth.vlan) { /* no VLAN configuration yet: a tagged frame belongs to some other interface */
		iface_count(ifc, IFACE_DROP_ETH_UNKNOWN_TYPE);
		return;
	}
	if (eth.ethertype == ETH_TYPE_IPV4)
		ipv4_input(ifc, buf + ETH_HEADER_LEN, len - ETH_HEADER_LEN, link_broadcast);
	else if (eth.ethertype == ETH_TYPE_ARP)
		arp_input(ifc, buf + ETH_HEADER_LEN, len - ETH_HEADER_LEN);
	else
		iface_count(ifc, IFACE_DROP_ETH_UNKNOWN_TYPE);
}
