#!/usr/bin/python3
"""Raw 802.1Q peer for test_vlan.sh (Debian's /usr/bin/python3, for scapy): sends tagged and untagged
frames on IFACE and reports what came back, tag included, one line per probe:

  vlan_peer.py IFACE arp  VLAN SRV_IP            who-has SRV_IP
  vlan_peer.py IFACE ping VLAN SRV_MAC SRV_IP    ICMP echo request
  vlan_peer.py IFACE udp  VLAN SRV_MAC SRV_IP PORT  a datagram, expecting it echoed
VLAN 0 sends untagged. Prints "reply vlan=V pcp=P src=MAC" (vlan=0: untagged) or "none".
"""
import sys
import time

from scapy.all import ARP, ICMP, IP, UDP, AsyncSniffer, Dot1Q, Ether, Raw, conf, get_if_addr, get_if_hwaddr, sendp

conf.verb = 0
IFACE, KIND, VLAN = sys.argv[1], sys.argv[2], int(sys.argv[3])
MY_MAC = get_if_hwaddr(IFACE)
MY_IP = get_if_addr(IFACE)
PAYLOAD = b"smolxdp on a VLAN"


def frame(dst, inner):
    e = Ether(src=MY_MAC, dst=dst)
    return e / Dot1Q(vlan=VLAN, prio=0) / inner if VLAN else e / inner


def probe(pkt, match, timeout=1.5):
    """Sends pkt; returns the first frame sniffed for which match(frame) holds, or None. The kernel
    moves a received tag into the packet's metadata; scapy puts it back (PACKET_AUXDATA)."""
    sn = AsyncSniffer(iface=IFACE, lfilter=match, count=1, timeout=timeout, store=True)
    sn.start()
    time.sleep(0.3)  # the capture is open before the probe leaves
    sendp(pkt, iface=IFACE)
    sn.join()
    return sn.results[0] if sn.results else None


def report(r):
    if r is None:
        print("none")
        return
    vlan = r[Dot1Q].vlan if Dot1Q in r else 0
    pcp = r[Dot1Q].prio if Dot1Q in r else 0
    print(f"reply vlan={vlan} pcp={pcp} src={r[Ether].src}")


def main():
    if KIND == "arp":
        srv_ip = sys.argv[4]
        pkt = frame("ff:ff:ff:ff:ff:ff", ARP(op=1, hwsrc=MY_MAC, psrc=MY_IP, pdst=srv_ip))
        report(probe(pkt, lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == srv_ip))
    elif KIND == "ping":
        srv_mac, srv_ip = sys.argv[4], sys.argv[5]
        pkt = frame(srv_mac, IP(src=MY_IP, dst=srv_ip) / ICMP(id=0x5a, seq=1) / Raw(PAYLOAD))
        report(probe(pkt, lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 0x5A and
                     bytes(p[ICMP].payload) == PAYLOAD))
    elif KIND == "udp":
        srv_mac, srv_ip, port = sys.argv[4], sys.argv[5], int(sys.argv[6])
        pkt = frame(srv_mac, IP(src=MY_IP, dst=srv_ip) / UDP(sport=40000, dport=port) / Raw(PAYLOAD))
        report(probe(pkt, lambda p: UDP in p and p[UDP].sport == port and p[UDP].dport == 40000 and
                     bytes(p[UDP].payload) == PAYLOAD))
    else:
        sys.exit(f"unknown probe {KIND}")


main()
