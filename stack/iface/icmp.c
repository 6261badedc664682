/* ICMPv4 (RFC 792, RFC 1122 3.2.2): echo replies carrying the request's id, seq and data; destination
 * unreachable errors, rate-limited and never about broadcasts or other errors; received errors handed
 * to the transport (UDP or TCP handler) whose datagram they quote (RFC 1122 4.1.3.3, 4.2.3.9). */
#include "iface_internal.h"

/* RFC 1812 4.3.2.3: quote as much of the datagram as fits in 576 bytes. */
#define ICMP_ERROR_MAX_LEN (576 - IPV4_HEADER_LEN)

/* The request's checksum is good here (verified on parse, or by the device), so the reply's is derived
 * from it rather than summed again over the data. */
static void icmp_echo_reply(struct iface *ifc, const struct rx_ip *rx, const struct icmpv4_repr *req)
{
	struct ip_tx tx;
	size_t len = icmpv4_repr_len(req);

	/* RFC 1122 3.2.2.6: the reply's source is the address the request was sent to. */
	enum ip_tx_err e = iface_ip_begin(ifc, rx->ip.dst, rx->ip.src, IP_PROTO_ICMP, len, &tx);
	if (e != IP_TX_OK) {
		iface_count_tx_fail(ifc, e);
		return;
	}
	icmpv4_emit_echo_reply(req, tx.l4, tx.l4_cap);
	iface_ip_commit(ifc, &tx, len);
	iface_count(ifc, IFACE_ICMP_ECHO_REPLIES_SENT);
}

static bool icmp_is_error_type(uint8_t type)
{
	return type == ICMPV4_DEST_UNREACH || type == ICMPV4_TIME_EXCEEDED || type == ICMPV4_PARAM_PROBLEM ||
	       type == 4 /* source quench */ || type == 5 /* redirect */;
}

/* Tokens come back at icmp_errors_per_sec, up to that many; computed only when one is wanted. The
 * caller takes it (icmp_tokens--) only once the error is sent: one that finds no frame costs none. */
static bool icmp_token_ready(struct iface *ifc)
{
	uint32_t rate = ifc->cfg.icmp_errors_per_sec;

	if (ifc->now > ifc->icmp_refill_at) {
		uint64_t add = (ifc->now - ifc->icmp_refill_at) / ifc->icmp_step;
		if (add > 0) {
			ifc->icmp_tokens = (uint32_t)SMX_MIN((uint64_t)ifc->icmp_tokens + add, (uint64_t)rate);
			ifc->icmp_refill_at = ifc->icmp_tokens == rate ? ifc->now : ifc->icmp_refill_at + add * ifc->icmp_step;
		}
	}
	return ifc->icmp_tokens > 0;
}

void icmp_send_error(struct iface *ifc, const struct rx_ip *rx, uint8_t type, uint8_t code)
{
	struct ip_tx tx;

	/* RFC 1122 3.2.2: never about a broadcast (IP or link layer), a non-initial fragment, a datagram
	 * whose source is not a unicast host (zero, or class E here: loopback, broadcast and multicast
	 * sources were dropped on input), or another ICMP error. */
	if (rx->broadcast || rx->link_broadcast || rx->ip.frag_offset != 0 || rx->ip.src == 0 ||
	    (rx->ip.src >> 28) == 0xf)
		return;
	if (rx->ip.protocol == IP_PROTO_ICMP && (rx->l4_len < 1 || icmp_is_error_type(rx->l4[0])))
		return;
	if (!icmp_token_ready(ifc)) {
		iface_count(ifc, IFACE_DROP_ICMP_RATE_LIMITED);
		return;
	}
	size_t quote = SMX_MIN((size_t)rx->ip.total_len, (size_t)ICMP_ERROR_MAX_LEN - ICMPV4_HEADER_LEN);
	struct icmpv4_repr err = {.type = type, .code = code, .rest = 0, .data = rx->packet, .data_len = quote};
	size_t len = icmpv4_repr_len(&err);
	enum ip_tx_err e = iface_ip_begin(ifc, rx->ip.dst, rx->ip.src, IP_PROTO_ICMP, len, &tx);
	if (e != IP_TX_OK) {
		iface_count_tx_fail(ifc, e);
		return;
	}
	icmpv4_emit(&err, tx.l4, tx.l4_cap);
	iface_ip_commit(ifc, &tx, len);
	ifc->icmp_tokens--;
	iface_count(ifc, IFACE_ICMP_ERRORS_SENT);
}

static void icmp_error_input(struct iface *ifc, const struct rx_ip *rx, const struct icmpv4_repr *icmp)
{
	iface_count(ifc, IFACE_ICMP_ERRORS_RECEIVED);
	/* Only errors about datagrams we sent (quoted source is ours) are believed. */
	if (!icmp->has_quote || !iface_is_our_addr(ifc, icmp->quote_ip.src)) {
		iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
		return;
	}
	struct iface_l4 *l4 = iface_l4_for(ifc, icmp->quote_ip.protocol);
	if (l4 && l4->h.icmp_error && icmp->quote_has_ports) {
		if (!l4->h.icmp_error(l4->h.ctx, ifc->now, icmp))
			iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
	} else if (ifc->icmp_fn)
		ifc->icmp_fn(ifc->icmp_ctx, ifc->now, &rx->ip, icmp);
	else
		iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
}

void icmp_input(struct iface *ifc, const struct rx_ip *rx)
{
	struct icmpv4_repr icmp;
	enum wire_err err = icmpv4_parse(rx->l4, rx->l4_len, rx->csum, &icmp);

	if (err != WIRE_OK) {
		iface_count(ifc, err == WIRE_BAD_CHECKSUM ? IFACE_DROP_ICMP_BAD_CHECKSUM : IFACE_DROP_ICMP_MALFORMED);
		return;
	}
	switch (icmp.type) {
	case ICMPV4_ECHO_REQUEST:
		/* RFC 1122 3.2.2.6 lets a host ignore broadcast echo requests; Linux does by default. */
		if (rx->broadcast)
			iface_count(ifc, IFACE_DROP_ICMP_BROADCAST_ECHO);
		else
			icmp_echo_reply(ifc, rx, &icmp);
		break;
	case ICMPV4_DEST_UNREACH:
	case ICMPV4_TIME_EXCEEDED:
	case ICMPV4_PARAM_PROBLEM:
		icmp_error_input(ifc, rx, &icmp);
		break;
	case ICMPV4_ECHO_REPLY:
		if (ifc->icmp_fn)
			ifc->icmp_fn(ifc->icmp_ctx, ifc->now, &rx->ip, &icmp);
		else
			iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
		break;
	default:
		iface_count(ifc, IFACE_DROP_ICMP_UNHANDLED);
		break;
	}
}
