/* smolxdp-server's command line: every refusal is one line saying why, and where to look
 * (Try 'smolxdp-server --help'.), never the whole help. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "app_parse.h"
#include "app_sys.h"
#include "server.h"

#define PROG "smolxdp-server"

static const char usage[] =
	"usage: smolxdp-server IFACE [options]\n"
	"Answers ping and echoes every UDP datagram sent to port 6969 back to its sender, over AF_XDP on\n"
	"IFACE. Other traffic (the host's own addresses, ssh, ...) stays with the kernel.\n"
	"\n"
	"  --ip ADDR/PREFIX     our address (default 192.168.69.1/24); not one the kernel has on IFACE\n"
	"  --force              take --ip even if the kernel has it on IFACE (its traffic to that\n"
	"                       address then reaches us, not the kernel: ssh to it stops working);\n"
	"                       and serve some of IFACE's RX queues where no n-tuple rule can steer\n"
	"                       our address to them (flows RSS puts on the others are lost)\n"
	"  --mac MAC            our MAC address (default 02:00:00:00:00:01)\n"
	"  --gateway ADDR       default gateway for off-link destinations, on --ip's subnet\n"
	"                       (default: none)\n"
	"  --vlan ID[:PCP]      live on IEEE 802.1Q VLAN ID (1..4094): frames sent carry the tag, with\n"
	"                       priority PCP (0..7, default 0), and only frames tagged ID are taken;\n"
	"                       untagged and other VLANs' traffic stays with the kernel (default:\n"
	"                       untagged)\n"
	"  --queue Q            RX queue to serve (default 0). Where IFACE has more queues than we\n"
	"                       serve, our address is steered to Q by n-tuple rules (ethtool -N),\n"
	"                       removed at exit; a driver without them: refused unless --force\n"
	"  --queues N           serve N queues from Q on, one thread and stack each (default 1)\n"
	"  --copy               force AF_XDP copy mode (default: zero-copy where the driver can)\n"
	"  --zero-copy          force zero-copy mode (fails where the driver cannot)\n"
	"  --spin               spin on the rings instead of sleeping (no syscall but the TX kicks\n"
	"                       the kernel asks for)\n"
	"  --busy-poll          spin with socket busy polling: SO_PREFER_BUSY_POLL/SO_BUSY_POLL and a\n"
	"                       recvfrom on every empty receive, to run the driver's NAPI here\n"
	"                       (with neither, it sleeps in poll() until a frame or a timer)\n"
	"  --pcap FILE          record every frame in and out to FILE (pcap)\n"
	"  --drop-chance PCT    drop PCT% of frames in each direction (fault injection)\n"
	"  --corrupt-chance PCT corrupt one byte of PCT% of frames (fault injection)\n"
	"  --fault-dir DIR      where drops and corruption apply: rx (frames coming in: loss the sender\n"
	"                       sees as network loss), tx, or both (default)\n"
	"  --seed N             seed of the fault injector (default 1)\n"
	"  --port PORT          UDP echo port (default 6969)\n"
	"  --mtu BYTES          largest IPv4 packet sent (68..9216; default: IFACE's MTU, jumbo frames\n"
	"                       included); TCP's MSS and unfragmented UDP follow it\n"
	"  --udp-max BYTES      largest UDP datagram echoed (payload, 1..65507; default 65507): larger\n"
	"                       than the MTU they come and go as IPv4 fragments. Memory: 320 x BYTES,\n"
	"                       touched only by datagrams not echoed at once\n"
	"  --stats SECONDS      print one line every SECONDS (the full counters are printed at exit):\n"
	"                         TIME stats: in F f/s M Mbit/s, out F f/s M Mbit/s; tcp opened N\n"
	"                         closed N open N; drops N\n"
	"                       in, out: Ethernet frames and megabits (headers included) per second,\n"
	"                       received and sent on IFACE; TCP connections opened and closed during\n"
	"                       the interval and open now; drops: every drop counter added up, during\n"
	"                       the interval. All queues together\n"
	"  --tcp-conns N        TCP connections per queue (default 1024; 0: no TCP)\n"
	"                       TCP services: 6969 hello, 6970 echo, 6971 discard, 6972 source (i mod 256)\n"
	"  --tcp-buf BYTES      the most each TCP connection's send and receive buffers hold (default\n"
	"                       65536; above 64 KB the window is scaled, RFC 7323); a receive buffer\n"
	"                       starts at 64 KB and grows with the rate (autotuning)\n"
	"  --tcp-pool BYTES     the buffer memory all connections of a queue draw from in 4 KB chunks,\n"
	"                       each what its data needs, an idle one nothing (default: 2 x\n"
	"                       --tcp-buf x --tcp-conns, every connection full both ways); a short\n"
	"                       pool offers smaller windows, an empty one drops (and counts) data\n"
	"                       it has no room for, unacknowledged. Fixed besides: under 1 KB per\n"
	"                       connection slot. The exit statistics print both\n"
	"  --tcp-rto-min MS     lower bound of the TCP retransmission timeout (default 200, as Linux)\n"
	"  --tcp-log            print a line of statistics for each TCP connection as it ends\n"
	"  -v, --verbose        say more about set-up\n"
	"  -h, --help           this text\n"
	"  --version            the version\n"
	"Stops cleanly on SIGINT or SIGTERM, detaching its XDP program. Needs root, or CAP_NET_ADMIN,\n"
	"CAP_BPF, CAP_PERFMON, CAP_NET_RAW and CAP_IPC_LOCK (or a large enough RLIMIT_MEMLOCK).\n";

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_IP = 256, OPT_MAC, OPT_GATEWAY, OPT_QUEUE, OPT_QUEUES, OPT_COPY, OPT_ZEROCOPY, OPT_BUSY, OPT_SPIN,
	OPT_PCAP, OPT_DROP, OPT_CORRUPT, OPT_SEED, OPT_PORT, OPT_STATS, OPT_TCP_CONNS, OPT_TCP_RTO_MIN,
	OPT_TCP_BUF, OPT_TCP_POOL, OPT_TCP_LOG, OPT_FAULT_DIR, OPT_FORCE, OPT_VERSION, OPT_VLAN,
};
enum { OPT_UDP_MAX = 1000, OPT_MTU }; /* apart from the list above, which others extend */

static const struct option long_opts[] = {
	{"ip", required_argument, NULL, OPT_IP},
	{"mac", required_argument, NULL, OPT_MAC},
	{"gateway", required_argument, NULL, OPT_GATEWAY},
	{"vlan", required_argument, NULL, OPT_VLAN},
	{"queue", required_argument, NULL, OPT_QUEUE},
	{"queues", required_argument, NULL, OPT_QUEUES},
	{"copy", no_argument, NULL, OPT_COPY},
	{"zero-copy", no_argument, NULL, OPT_ZEROCOPY},
	{"busy-poll", no_argument, NULL, OPT_BUSY},
	{"spin", no_argument, NULL, OPT_SPIN},
	{"pcap", required_argument, NULL, OPT_PCAP},
	{"drop-chance", required_argument, NULL, OPT_DROP},
	{"corrupt-chance", required_argument, NULL, OPT_CORRUPT},
	{"seed", required_argument, NULL, OPT_SEED},
	{"port", required_argument, NULL, OPT_PORT},
	{"udp-max", required_argument, NULL, OPT_UDP_MAX},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"stats", required_argument, NULL, OPT_STATS},
	{"tcp-conns", required_argument, NULL, OPT_TCP_CONNS},
	{"tcp-rto-min", required_argument, NULL, OPT_TCP_RTO_MIN},
	{"tcp-buf", required_argument, NULL, OPT_TCP_BUF},
	{"tcp-pool", required_argument, NULL, OPT_TCP_POOL},
	{"tcp-log", no_argument, NULL, OPT_TCP_LOG},
	{"fault-dir", required_argument, NULL, OPT_FAULT_DIR},
	{"force", no_argument, NULL, OPT_FORCE},
	{"version", no_argument, NULL, OPT_VERSION},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* Sets one option's value: NULL, or why the value is refused. */
static const char *apply(struct srv_opts *o, int c, const char *arg)
{
	unsigned long v = 0;
	switch (c) {
	case OPT_IP:
		if (app_parse_cidr(arg, &o->ip) < 0)
			return app_cidr_error(arg);
		return NULL;
	case OPT_MAC:
		if (app_parse_mac(arg, &o->mac) < 0)
			return app_mac_error(arg);
		return NULL;
	case OPT_GATEWAY:
		if (app_parse_ipv4(arg, &o->gateway) < 0)
			return "not an IPv4 address";
		return NULL;
	case OPT_VLAN:
		if (app_parse_vlan(arg, &o->vlan_id, &o->vlan_prio) < 0)
			return app_vlan_error(arg);
		return NULL;
	case OPT_QUEUE:
		if (parse_uint(arg, 1023, &v) < 0)
			return "must be a queue number, 0..1023";
		o->queue = (uint32_t)v;
		return NULL;
	case OPT_QUEUES:
		if (parse_uint(arg, SRV_MAX_QUEUES, &v) < 0 || v == 0)
			return "must be 1..16";
		o->queues = (uint32_t)v;
		return NULL;
	case OPT_COPY:
	case OPT_ZEROCOPY: {
		enum xsk_bind_mode m = c == OPT_COPY ? XSK_BIND_COPY : XSK_BIND_ZEROCOPY;
		if (o->bind_mode != XSK_BIND_AUTO && o->bind_mode != m)
			return "--copy and --zero-copy contradict each other: give one";
		o->bind_mode = m;
		return NULL;
	}
	case OPT_BUSY:
	case OPT_SPIN:
		/* Both spin; --busy-poll also drives the driver from here. */
		if ((c == OPT_BUSY && o->spin) || (c == OPT_SPIN && o->busy_poll))
			return "--spin and --busy-poll: give one (--busy-poll spins too, with a syscall on "
			       "every empty receive that runs the driver)";
		*(c == OPT_BUSY ? &o->busy_poll : &o->spin) = true;
		return NULL;
	case OPT_PCAP:
		o->pcap_path = arg;
		return NULL;
	case OPT_DROP:
	case OPT_CORRUPT:
		if (parse_uint(arg, 100, &v) < 0)
			return "must be a percentage, 0..100";
		*(c == OPT_DROP ? &o->drop_pct : &o->corrupt_pct) = (uint8_t)v;
		return NULL;
	case OPT_SEED:
		if (parse_uint(arg, ~0ul, &v) < 0)
			return "must be a whole number";
		o->seed = v;
		return NULL;
	case OPT_PORT:
		if (parse_uint(arg, 65535, &v) < 0 || v == 0)
			return "must be a port, 1..65535";
		o->echo_port = (uint16_t)v;
		return NULL;
	case OPT_STATS:
		if (parse_uint(arg, 86400, &v) < 0)
			return "must be seconds, 0..86400 (0: only at exit)";
		o->stats_secs = (unsigned)v;
		return NULL;
	case OPT_TCP_CONNS:
		if (parse_uint(arg, 1u << 20, &v) < 0)
			return "must be 0..1048576 (0: no TCP)";
		o->tcp_conns = (uint32_t)v;
		return NULL;
	case OPT_TCP_RTO_MIN:
		if (parse_uint(arg, 1000, &v) < 0 || v == 0)
			return "must be milliseconds, 1..1000";
		o->tcp_rto_min_ms = (uint32_t)v;
		o->tcp_opt_given = true;
		return NULL;
	case OPT_UDP_MAX:
		if (parse_uint(arg, 65507, &v) < 0 || v == 0)
			return "must be bytes, 1..65507";
		o->udp_max = (uint32_t)v;
		return NULL;
	case OPT_MTU:
		if (parse_uint(arg, 9216, &v) < 0 || v < 68) /* RFC 791: 68; the jumbo frames AF_XDP takes */
			return "must be bytes, 68..9216";
		o->mtu = (uint16_t)v;
		return NULL;
	case OPT_TCP_BUF:
		/* At least one full-size segment each way; at most what the stack's rings allow. */
		if (parse_uint(arg, 1u << 29, &v) < 0 || v < 2048)
			return "must be bytes, 2048..536870912";
		o->tcp_buf = (uint32_t)v;
		o->tcp_opt_given = true;
		return NULL;
	case OPT_TCP_POOL:
		if (parse_uint(arg, 1ul << 40, &v) < 0 || v < 65536)
			return "must be bytes, 65536..1099511627776";
		o->tcp_pool = v;
		o->tcp_opt_given = true;
		return NULL;
	case OPT_FAULT_DIR:
		if (strcmp(arg, "rx") == 0)
			o->fault_dirs = DEV_FAULT_RX;
		else if (strcmp(arg, "tx") == 0)
			o->fault_dirs = DEV_FAULT_TX;
		else if (strcmp(arg, "both") == 0)
			o->fault_dirs = DEV_FAULT_RX | DEV_FAULT_TX;
		else
			return "must be rx, tx or both";
		return NULL;
	case OPT_TCP_LOG:
		o->tcp_log = true;
		o->tcp_opt_given = true;
		return NULL;
	case OPT_FORCE:
		o->force = true;
		return NULL;
	case 'v':
		o->verbose++;
		return NULL;
	}
	return "unexpected option";
}

static void print_ip(char *buf, size_t cap, ipv4_addr a)
{
	snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* What no single option can see: a gateway off --ip's subnet, TCP settings with TCP off. */
static int check_together(const struct srv_opts *o)
{
	uint32_t mask = o->ip.prefix_len ? 0xffffffffu << (32 - o->ip.prefix_len) : 0;
	char gw[16], ip[16];

	print_ip(gw, sizeof(gw), o->gateway);
	print_ip(ip, sizeof(ip), o->ip.addr & mask);
	if (o->gateway && o->gateway == o->ip.addr)
		return -app_usage_error(PROG, "--gateway %s is our own address (--ip)", gw);
	if (o->gateway && (o->gateway & mask) != (o->ip.addr & mask))
		return -app_usage_error(PROG, "--gateway %s is not on our subnet %s/%u (--ip): a gateway must "
					"be on-link", gw, ip, o->ip.prefix_len);
	if (o->tcp_conns == 0 && o->tcp_opt_given)
		return -app_usage_error(PROG, "--tcp-buf, --tcp-pool, --tcp-rto-min and --tcp-log need TCP, which "
					"--tcp-conns 0 turns off");
	return 0;
}

static const char *opt_name(int c)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == c)
			return p->name;
	return "?";
}

int srv_opts_parse(int argc, char **argv, struct srv_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->ip.addr = 0xc0a84501; /* 192.168.69.1/24, the address of smoltcp's server example */
	o->ip.prefix_len = 24;
	o->mac = (struct eth_addr){{0x02, 0, 0, 0, 0, 0x01}};
	o->queues = 1;
	o->seed = 1;
	o->echo_port = 6969;
	o->udp_max = 65507;
	o->tcp_conns = 1024;
	o->tcp_rto_min_ms = 200;
	o->tcp_buf = 65536;
	o->bind_mode = XSK_BIND_AUTO;
	opterr = 0; /* one line of our own instead of getopt's, which names the full path */
	while ((c = getopt_long(argc, argv, ":vh", long_opts, NULL)) != -1) {
		const char *why;

		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			app_print_version(PROG);
			return 1;
		}
		if (c == '?' || c == ':')
			return app_getopt_error(PROG, c, argv), -EINVAL;
		why = apply(o, c, optarg);
		if (why) {
			if (optarg)
				app_usage_error(PROG, "--%s %s: %s", opt_name(c), optarg, why);
			else
				app_usage_error(PROG, "%s", why);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		app_usage_error(PROG, "give the interface to serve (smolxdp-server IFACE [options])");
		return -EINVAL;
	}
	if (optind < argc - 1) {
		app_usage_error(PROG, "one interface only: '%s' is extra", argv[optind + 1]);
		return -EINVAL;
	}
	o->ifname = argv[optind];
	return check_together(o) < 0 ? -EINVAL : 0;
}
