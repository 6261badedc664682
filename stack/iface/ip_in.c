/* Receive: Ethernet demultiplexing, IPv4 input checks (RFC 791, RFC 1122 3.2.1), and dispatch to ICMP,
 * the registered UDP and TCP handlers, or a protocol-unreachable error. While no handler is registered
 * for UDP or TCP, a datagram to us is answered as a closed port would be. */
#include "iface_internal.h"

static bool bad_source(const struct iface *ifc, ipv4_addr src)
{
	/* RFC 1122 3.2.1.3: a broadcast or multicast (class D) source is discarded, and {127, <any>} "MUST
	 * NOT appear outside a host"; so is one of our own addresses, which only a loop or a forger sends
	 * us. 0.0.0.0 is allowed (a host booting). */
	return src == 0xffffffffu || (src >> 28) == 0xe || (src >> 24) == 127 || iface_is_broadcast_addr(ifc, src) ||
	       iface_is_our_addr(ifc, src);
}

/* No TCP handler: every port is closed (RFC 9293 3.10.7.1); tcp_rst_reply says what answers. */
static void tcp_refuse(struct iface *ifc, const struct rx_ip *rx)
{
	struct tcp_repr seg, rst;
	struct ip_tx tx;

	if (tcp_parse(rx->l4, rx->l4_len, rx->ip.src, rx->ip.dst, rx->csum, &seg) != WIRE_OK) {
		iface_count(ifc, IFACE_DROP_TCP_MALFORMED);
		return;
	}
	iface_count(ifc, IFACE_DROP_TCP_NO_HANDLER);
	if (rx->broadcast || !tcp_rst_reply(&seg, &rst))
		return;
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

/* No UDP handler: every port is closed, so port unreachable (RFC 1122 4.1.3.1) for a datagram that
 * parses (icmp_send_error stays silent about broadcasts). */
static void udp_refuse(struct iface *ifc, const struct rx_ip *rx)
{
	struct udp_repr u;

	iface_count(ifc, IFACE_DROP_UDP_NO_HANDLER);
	if (udp_parse(rx->l4, rx->l4_len, rx->ip.src, rx->ip.dst, rx->csum, &u) == WIRE_OK)
		icmp_send_error(ifc, rx, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT);
}

/* UDP and TCP alike: to the registered handler, or refused as a closed port while there is none. One
 * call site, so the compiler folds it into the receive path. */
static void l4_input(struct iface *ifc, const struct rx_ip *rx)
{
	bool udp = rx->ip.protocol == IP_PROTO_UDP;
	struct iface_l4 *l4 = &ifc->l4[udp ? IFACE_L4_UDP : IFACE_L4_TCP];

	if (!l4->on) {
		if (udp) {
			udp_refuse(ifc, rx);
		} else {
			iface_count(ifc, IFACE_TCP_RX_SEGMENTS);
			tcp_refuse(ifc, rx);
		}
		return;
	}
	iface_count(ifc, udp ? IFACE_UDP_RX_DATAGRAMS : IFACE_TCP_RX_SEGMENTS);
	if (rx->broadcast && !udp) /* a connection has one peer (RFC 1122 4.2.3.10) */
		return;
	enum l4_rx r = l4->h.input(l4->h.ctx, ifc->now, &rx->ip, rx->l4, rx->l4_len, rx->csum, &l4->tx);
	if (r == L4_RX_VIEW)
		ifc->views_out = true;
	else if (r == L4_RX_PORT_UNREACHABLE) /* RFC 1122 4.1.3.1; never about a broadcast (3.2.2) */
		icmp_send_error(ifc, rx, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT);
}

/* Inlined by force into its one caller, the per-frame path (about 20 instructions per packet). */
static inline __attribute__((always_inline)) void ipv4_input(struct iface *ifc, const uint8_t *buf, size_t len,
							     bool link_broadcast)
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
	rx.link_broadcast = link_broadcast;
	/* RFC 1122 3.3.6: a unicast IP packet in a link-layer broadcast is discarded. */
	if (link_broadcast && !rx.broadcast) {
		iface_count(ifc, IFACE_DROP_IPV4_NOT_FOR_US);
		return;
	}
	rx.packet = buf;
	rx.l4 = buf + rx.ip.header_len; /* options, if any, are skipped: we act on none */
	rx.l4_len = ipv4_payload_len(&rx.ip);
	/* A fragment is kept until its datagram is whole (ip_reasm.c), which then goes up as one. */
	if (ipv4_is_fragment(&rx.ip) && !ip_reasm_input(ifc, &rx))
		return;
	switch (rx.ip.protocol) {
	case IP_PROTO_UDP:
	case IP_PROTO_TCP:
		l4_input(ifc, &rx);
		break;
	case IP_PROTO_ICMP:
		icmp_input(ifc, &rx);
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
	/* IEEE 802.1Q: on a VLAN only frames tagged with its VID are ours (the priority is the sender's
	 * business); untagged, only untagged ones. A priority-tagged frame (VID 0) is untagged traffic. */
	uint16_t vid = eth.vlan ? eth.vlan_tci & 0x0fff : 0;
	if (vid != ifc->cfg.vlan_id) {
		iface_count(ifc, IFACE_DROP_ETH_OTHER_VLAN);
		return;
	}
	if (eth.ethertype == ETH_TYPE_IPV4)
		ipv4_input(ifc, buf + eth.header_len, len - eth.header_len, link_broadcast);
	else if (eth.ethertype == ETH_TYPE_ARP)
		arp_input(ifc, buf + eth.header_len, len - eth.header_len);
	else
		iface_count(ifc, IFACE_DROP_ETH_UNKNOWN_TYPE);
}
