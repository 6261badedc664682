/* IEEE 802.1Q on the interface, against a raw peer and between two interfaces: what a VLAN interface
 * sends is tagged with its VID and priority (ARP, echo replies, UDP), it takes only frames tagged with
 * its VID (untagged and other VLANs' are counted and dropped, the reverse for an untagged interface),
 * and the tag costs the frame 4 bytes, not the IP MTU, where the device has room for it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iface_fixture.h"
#include "smolxdp/bytes.h"

#define VID 5
#define PRIO 3
#define TCI ((uint16_t)(PRIO << 13 | VID))

static const struct eth_addr ZERO_MAC;

/* Puts an 802.1Q tag into an untagged frame in place (buf has 4 bytes of room); the new length. */
static size_t tag(uint8_t *buf, size_t len, uint16_t tci)
{
	memmove(buf + 16, buf + 12, len - 12);
	put_be16(buf + 12, ETH_TYPE_VLAN);
	put_be16(buf + 14, tci);
	return len + 4;
}

static void init_vlan(struct fix *f, uint16_t vid, uint8_t prio)
{
	struct fix_opts o = {.raw_peer = true};

	o.cfg_a.vlan_id = vid;
	o.cfg_a.vlan_prio = prio;
	fix_init_raw(f, &o);
}

/* Receives one frame from a and parses its Ethernet header; the frame's length. */
static size_t recv_eth(struct fix *f, uint8_t *buf, size_t cap, struct eth_repr *eth)
{
	size_t n = raw_recv(f, buf, cap);
	assert_true(n > 0);
	assert_int_equal(eth_parse(buf, n, eth), WIRE_OK);
	return n;
}

/* A tagged ARP request for our address is answered on the VLAN, with our priority; so is the
 * announcement at start. */
static void test_arp_tagged(void **state)
{
	struct fix f;
	struct eth_repr eth;
	struct arp_repr arp;
	uint8_t buf[2048];
	struct fix_opts o = {.raw_peer = true};

	o.cfg_a.vlan_id = VID;
	o.cfg_a.vlan_prio = PRIO;
	fix_init(&f, &o);
	fix_poll(&f);
	recv_eth(&f, buf, sizeof(buf), &eth); /* the gratuitous ARP */
	assert_true(eth.vlan);
	assert_int_equal(eth.vlan_tci, TCI);
	assert_int_equal(eth.ethertype, ETH_TYPE_ARP);
	assert_int_equal(raw_drain(&f), 0);

	size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
	raw_send(&f, buf, tag(buf, n, VID)); /* priority 0 from the peer: any priority is fine */
	fix_settle(&f);
	n = recv_eth(&f, buf, sizeof(buf), &eth);
	assert_true(eth.vlan);
	assert_int_equal(eth.vlan_tci, TCI);
	assert_int_equal(eth.header_len, ETH_VLAN_HEADER_LEN);
	assert_int_equal(eth.ethertype, ETH_TYPE_ARP);
	assert_true(eth_addr_eq(&eth.dst, &FIX_MAC_RAW));
	assert_int_equal(n, ETH_MIN_FRAME); /* 18 + 28, padded */
	assert_int_equal(arp_parse(buf + eth.header_len, n - eth.header_len, &arp), WIRE_OK);
	assert_int_equal(arp.op, ARP_OP_REPLY);
	assert_int_equal(arp.spa, FIX_IP_A);
	assert_int_equal(arp.tpa, FIX_IP_RAW);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 1);
	fix_free(&f);
}

/* An echo request on the VLAN gets a tagged reply whose IPv4 packet is the untagged case's. */
static void test_ping_tagged(void **state)
{
	struct fix f;
	struct eth_repr eth;
	struct ipv4_repr ip;
	struct icmpv4_repr icmp;
	uint8_t buf[2048], l4[64];
	static const uint8_t data[32] = "tagged ping";

	init_vlan(&f, VID, PRIO);
	size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
	raw_send(&f, buf, tag(buf, n, VID));
	fix_settle(&f);
	raw_drain(&f);

	struct icmpv4_repr er = {.type = ICMPV4_ECHO_REQUEST, .ident = 7, .seq = 1, .data = data,
				 .data_len = sizeof(data)};
	size_t l4n = icmpv4_emit(&er, l4, sizeof(l4));
	n = raw_build_ip(buf, &FIX_MAC_A, FIX_IP_RAW, FIX_IP_A, IP_PROTO_ICMP, l4, l4n);
	raw_send(&f, buf, tag(buf, n, 1u << 13 | VID));
	fix_settle(&f);
	n = recv_eth(&f, buf, sizeof(buf), &eth);
	assert_true(eth.vlan);
	assert_int_equal(eth.vlan_tci, TCI);
	assert_int_equal(eth.ethertype, ETH_TYPE_IPV4);
	assert_int_equal(ipv4_parse(buf + 18, n - 18, WIRE_CSUM_VERIFY, &ip), WIRE_OK);
	assert_int_equal(ip.dst, FIX_IP_RAW);
	assert_int_equal(ip.total_len, 20 + l4n);
	assert_int_equal(n, 18 + 20 + l4n);
	assert_int_equal(icmpv4_parse(buf + 18 + 20, ip.total_len - 20u, WIRE_CSUM_VERIFY, &icmp), WIRE_OK);
	assert_int_equal(icmp.type, ICMPV4_ECHO_REPLY);
	assert_int_equal(icmp.data_len, sizeof(data));
	assert_int_equal(fix_count(f.a, IFACE_ICMP_ECHO_REPLIES_SENT), 1);
	fix_free(&f);
}

/* On a VLAN: untagged frames and other VLANs' are someone else's, whatever their address; a
 * priority-tagged frame (VID 0) is untagged. */
static void test_vlan_drops_others(void **state)
{
	struct fix f;
	uint8_t buf[2048];
	static const uint16_t tcis[] = {0, VID + 1, 4094, PRIO << 13}; /* 0: no tag at all */

	init_vlan(&f, VID, 0);
	for (size_t i = 0; i < sizeof(tcis) / sizeof(tcis[0]); i++) {
		size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC,
					 FIX_IP_A);
		raw_send(&f, buf, i == 0 ? n : tag(buf, n, tcis[i]));
		n = raw_build_udp(buf, FIX_IP_RAW, FIX_IP_A, 1000, 7, (const uint8_t *)"x", 1);
		raw_send(&f, buf, i == 0 ? n : tag(buf, n, tcis[i]));
	}
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ETH_OTHER_VLAN), 8);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 0);
	assert_int_equal(fix_count(f.a, IFACE_UDP_RX_DATAGRAMS), 0);
	assert_string_equal(iface_counter_name(IFACE_DROP_ETH_OTHER_VLAN), "drop_eth_other_vlan");
	fix_free(&f);
}

/* Untagged: tagged frames belong to a VLAN interface, except a priority tag (VID 0), which is
 * answered untagged. */
static void test_untagged_drops_tagged(void **state)
{
	struct fix f;
	struct eth_repr eth;
	uint8_t buf[2048];

	init_vlan(&f, 0, 0);
	size_t n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
	raw_send(&f, buf, tag(buf, n, VID));
	fix_settle(&f);
	assert_int_equal(raw_drain(&f), 0);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ETH_OTHER_VLAN), 1);

	n = raw_build_arp(buf, ARP_OP_REQUEST, &ETH_ADDR_BROADCAST, FIX_IP_RAW, &ZERO_MAC, FIX_IP_A);
	raw_send(&f, buf, tag(buf, n, 6u << 13));
	fix_settle(&f);
	recv_eth(&f, buf, sizeof(buf), &eth);
	assert_false(eth.vlan);
	assert_int_equal(eth.ethertype, ETH_TYPE_ARP);
	assert_int_equal(fix_count(f.a, IFACE_ARP_REPLIES_SENT), 1);
	fix_free(&f);
}

/* A truncated tag is malformed, not another VLAN's. */
static void test_truncated_tag(void **state)
{
	struct fix f;
	uint8_t buf[64];

	init_vlan(&f, VID, 0);
	memcpy(buf, FIX_MAC_A.b, 6);
	memcpy(buf + 6, FIX_MAC_RAW.b, 6);
	put_be16(buf + 12, ETH_TYPE_VLAN);
	put_be16(buf + 14, VID);
	raw_send(&f, buf, 16);
	fix_settle(&f);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ETH_MALFORMED), 1);
	assert_int_equal(fix_count(f.a, IFACE_DROP_ETH_OTHER_VLAN), 0);
	fix_free(&f);
}

/* Two interfaces on one VLAN resolve each other and exchange UDP, every frame tagged; on different
 * VLANs they hear nothing of each other. */
static void test_two_ifaces(void **state)
{
	struct fix f;
	struct fix_opts o = {0};
	uint8_t rx[64];
	struct udp_meta meta;

	o.cfg_a.vlan_id = VID;
	o.cfg_b.vlan_id = VID;
	fix_init(&f, &o);
	struct udp_socket *sa = fix_udp_socket(f.a, 1000, 4, 4);
	struct udp_socket *sb = fix_udp_socket(f.b, 2000, 4, 4);
	size_t len = 0;
	assert_int_equal(udp_socket_send_to(sa, "vlan", 4, FIX_IP_B, 2000), UDP_OK);
	fix_advance(&f, 1000);
	assert_int_equal(udp_socket_recv_from(sb, rx, sizeof(rx), &len, &meta), UDP_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(rx, "vlan", 4);
	assert_int_equal(fix_count(f.b, IFACE_DROP_ETH_OTHER_VLAN), 0);
	fix_udp_free(sa);
	fix_udp_free(sb);
	fix_free(&f);

	o.cfg_b.vlan_id = VID + 1;
	fix_init(&f, &o);
	sa = fix_udp_socket(f.a, 1000, 4, 4);
	assert_int_equal(udp_socket_send_to(sa, "vlan", 4, FIX_IP_B, 2000), UDP_OK);
	fix_advance(&f, 1000);
	assert_true(fix_count(f.b, IFACE_DROP_ETH_OTHER_VLAN) >= 1); /* a's request and announcement */
	assert_int_equal(fix_count(f.b, IFACE_ARP_REPLIES_SENT), 0);
	fix_udp_free(sa);
	fix_free(&f);
}

/* A device whose caps say what the test wants, forwarding everything else to a loopback end. */
struct caps_dev {
	struct dev dev;
	struct dev *inner;
	struct dev_caps caps;
};

static size_t cd_rx_burst(struct dev *d, struct dev_frame *fr, size_t max, smx_instant now)
{
	return dev_rx_burst(((struct caps_dev *)d)->inner, fr, max, now);
}
static void cd_rx_release(struct dev *d, const struct dev_frame *fr, size_t n)
{
	dev_rx_release(((struct caps_dev *)d)->inner, fr, n);
}
static bool cd_tx_reserve(struct dev *d, struct dev_frame *fr, smx_instant now)
{
	return dev_tx_reserve(((struct caps_dev *)d)->inner, fr, now);
}
static void cd_tx_submit(struct dev *d, const struct dev_frame *fr)
{
	dev_tx_submit(((struct caps_dev *)d)->inner, fr);
}
static void cd_tx_abort(struct dev *d, const struct dev_frame *fr)
{
	dev_tx_abort(((struct caps_dev *)d)->inner, fr);
}
static void cd_tx_flush(struct dev *d, smx_instant now)
{
	dev_tx_flush(((struct caps_dev *)d)->inner, now);
}
static void cd_get_caps(const struct dev *d, struct dev_caps *caps)
{
	*caps = ((const struct caps_dev *)d)->caps;
}
static const struct dev_ops cd_ops = {cd_rx_burst, cd_rx_release, cd_tx_reserve, cd_tx_submit,
				      cd_tx_abort,  cd_tx_flush,   cd_get_caps};

/* One interface on a caps_dev over a loopback wire whose frames hold 1518 bytes. */
struct mtu_rig {
	void *lo_mem, *if_mem;
	struct dev_loopback *lo;
	struct caps_dev cd;
	struct iface *ifc;
};

static struct iface *mtu_rig_init(struct mtu_rig *r, uint32_t max_frame, uint32_t max_tagged, uint16_t vid,
				  uint16_t mtu)
{
	struct dev_loopback_config lc = {.frames = 32, .frame_size = 1518};
	struct iface_config cfg = {.mac = FIX_MAC_A, .addrs = {{FIX_IP_A, 24}}, .addr_count = 1,
				   .vlan_id = vid, .mtu = mtu, .seed = 1};
	size_t n = dev_loopback_mem_size(&lc);

	memset(r, 0, sizeof(*r));
	r->lo_mem = malloc(n);
	assert_non_null(r->lo_mem);
	r->lo = dev_loopback_init(r->lo_mem, n, &lc);
	assert_non_null(r->lo);
	r->cd.dev.ops = &cd_ops;
	r->cd.inner = dev_loopback_end(r->lo, 0);
	r->cd.caps = (struct dev_caps){.max_frame = max_frame, .max_frame_tagged = max_tagged, .rx_batch = 32};
	n = iface_mem_size(&cfg);
	assert_true(n > 0);
	r->if_mem = malloc(n);
	assert_non_null(r->if_mem);
	r->ifc = iface_init(r->if_mem, n, &cfg, &r->cd.dev);
	return r->ifc;
}

static void mtu_rig_free(struct mtu_rig *r)
{
	if (r->ifc)
		iface_release(r->ifc);
	free(r->if_mem);
	free(r->lo_mem);
}

/* The tag adds 4 bytes to the frame, not to the IP MTU: a device with room for it (as Linux's, whose
 * MTU counts no tag) keeps the MTU at 1500 and carries 1518-byte frames; one without loses 4 bytes of
 * MTU instead; an MTU the untagged limit would not carry is refused either way. */
static void test_mtu(void **state)
{
	struct mtu_rig r;
	struct ip_tx tx;
	struct dev_frame fr;
	const struct ip_sender *s;

	assert_non_null(mtu_rig_init(&r, 1514, 1518, VID, 0));
	assert_int_equal(iface_mtu(r.ifc), 1500);
	/* A full-size packet fits, and leaves in a 1518-byte frame (to the broadcast: no ARP wait). */
	s = iface_ip_sender(r.ifc);
	iface_poll(r.ifc, 1000000);
	assert_int_equal(s->begin(s->ctx, 0, IPV4_ADDR(10, 0, 0, 255), IP_PROTO_UDP, 1480, &tx), IP_TX_OK);
	assert_true(tx.l4_cap >= 1480);
	memset(tx.l4, 0, 1480);
	s->commit(s->ctx, &tx, 1480);
	iface_flush(r.ifc, 1000000);
	struct dev *peer = dev_loopback_end(r.lo, 1);
	size_t got = 0, big = 0;
	while (dev_rx_burst(peer, &fr, 1, 1000000) == 1) {
		struct eth_repr eth;
		assert_int_equal(eth_parse(fr.data, fr.len, &eth), WIRE_OK);
		assert_true(eth.vlan);
		assert_int_equal(eth.vlan_tci & 0xfff, VID);
		big += fr.len == 1518;
		got++;
		dev_rx_release(peer, &fr, 1);
	}
	assert_int_equal(big, 1);
	assert_true(got >= 1);
	assert_int_equal(s->mtu, 1500); /* what transports size their packets by */
	mtu_rig_free(&r);

	assert_non_null(mtu_rig_init(&r, 1514, 0, VID, 0)); /* no room for a tag beyond max_frame */
	assert_int_equal(iface_mtu(r.ifc), 1496);
	mtu_rig_free(&r);
	assert_null(mtu_rig_init(&r, 1514, 0, VID, 1500));
	mtu_rig_free(&r);
	assert_null(mtu_rig_init(&r, 1514, 1518, VID, 1501));
	mtu_rig_free(&r);
	assert_non_null(mtu_rig_init(&r, 1514, 1518, 0, 0)); /* untagged: the tagged room is no MTU */
	assert_int_equal(iface_mtu(r.ifc), 1500);
	mtu_rig_free(&r);
}

/* VID 4095 is reserved and a priority has three bits: such configs are refused. */
static void test_bad_config(void **state)
{
	struct iface_config cfg = {.mac = FIX_MAC_A, .addrs = {{FIX_IP_A, 24}}, .addr_count = 1};

	cfg.vlan_id = 4095;
	assert_int_equal(iface_mem_size(&cfg), 0);
	cfg.vlan_id = 4094;
	assert_true(iface_mem_size(&cfg) > 0);
	cfg.vlan_prio = 8;
	assert_int_equal(iface_mem_size(&cfg), 0);
	cfg.vlan_prio = 7;
	assert_true(iface_mem_size(&cfg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_tagged),
		cmocka_unit_test(test_ping_tagged),
		cmocka_unit_test(test_vlan_drops_others),
		cmocka_unit_test(test_untagged_drops_tagged),
		cmocka_unit_test(test_truncated_tag),
		cmocka_unit_test(test_two_ifaces),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
