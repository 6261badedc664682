/* smolxdp-server's command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "app_parse.h"
#include "server.h"

static const char usage[] =
	"usage: smolxdp-server IFACE [options]\n"
	"Answers ping and echoes every UDP datagram sent to port 6969 back to its sender, over AF_XDP on\n"
	"IFACE. Other traffic (the host's own addresses, ssh, ...) stays with the kernel.\n"
	"\n"
	"  --ip ADDR/PREFIX     our address (default 192.168.69.1/24)\n"
	"  --mac MAC            our MAC address (default 02:00:00:00:00:01)\n"
	"  --gateway ADDR       default gateway for off-link destinations (default: none)\n"
	"  --queue Q            RX queue to serve (default 0)\n"
	"  --queues N           serve N queues from Q on, one thread and stack each (default 1)\n"
	"  --copy               force AF_XDP copy mode\n"
	"  --zero-copy          force zero-copy mode (fails where the driver cannot)\n"
	"  --spin               spin on the rings instead of sleeping (no syscall but the TX kicks\n"
	"                       the kernel asks for)\n"
	"  --busy-poll          spin with socket busy polling: SO_PREFER_BUSY_POLL/SO_BUSY_POLL and a\n"
	"                       recvfrom on every empty receive, to run the driver's NAPI here\n"
	"  --pcap FILE          record every frame in and out to FILE (pcap)\n"
	"  --drop-chance PCT    drop PCT%% of frames in each direction (fault injection)\n"
	"  --corrupt-chance PCT corrupt one byte of PCT%% of frames (fault injection)\n"
	"  --fault-dir DIR      where drops and corruption apply: rx (frames coming in: loss the sender\n"
	"                       sees as network loss), tx, or both (default)\n"
	"  --seed N             seed of the fault injector (default 1)\n"
	"  --port PORT          UDP echo port (default 6969)\n"
	"  --stats SECONDS      print counters every SECONDS (always printed at exit)\n"
	"  --tcp-conns N        TCP connections per queue (default 1024; 0: no TCP)\n"
	"                       TCP services: 6969 hello, 6970 echo, 6971 discard, 6972 source (i mod 256)\n"
	"  --tcp-buf BYTES      send and receive buffer of each TCP connection (default 65536; above\n"
	"                       64 KB the window is scaled, RFC 7323). Memory: 2 x BYTES x --tcp-conns\n"
	"  --tcp-rto-min MS     lower bound of the TCP retransmission timeout (default 200, as Linux)\n"
	"  --tcp-log            print a line of statistics for each TCP connection as it ends\n"
	"  -v, --verbose        say more about set-up\n"
	"  -h, --help           this text\n"
	"Stops cleanly on SIGINT or SIGTERM, detaching its XDP program.\n";

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
	OPT_TCP_BUF, OPT_TCP_LOG, OPT_FAULT_DIR,
};

static const struct option long_opts[] = {
	{"ip", required_argument, NULL, OPT_IP},
	{"mac", required_argument, NULL, OPT_MAC},
	{"gateway", required_argument, NULL, OPT_GATEWAY},
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
	{"stats", required_argument, NULL, OPT_STATS},
	{"tcp-conns", required_argument, NULL, OPT_TCP_CONNS},
	{"tcp-rto-min", required_argument, NULL, OPT_TCP_RTO_MIN},
	{"tcp-buf", required_argument, NULL, OPT_TCP_BUF},
	{"tcp-log", no_argument, NULL, OPT_TCP_LOG},
	{"fault-dir", required_argument, NULL, OPT_FAULT_DIR},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* One option's value; -EINVAL names the option. */
static int apply(struct srv_opts *o, int c, const char *arg)
{
	unsigned long v = 0;
	switch (c) {
	case OPT_IP:
		return app_parse_cidr(arg, &o->ip);
	case OPT_MAC:
		return app_parse_mac(arg, &o->mac);
	case OPT_GATEWAY:
		return app_parse_ipv4(arg, &o->gateway);
	case OPT_QUEUE:
		if (parse_uint(arg, 1023, &v) < 0)
			return -EINVAL;
		o->queue = (uint32_t)v;
		return 0;
	case OPT_QUEUES:
		if (parse_uint(arg, SRV_MAX_QUEUES, &v) < 0 || v == 0)
			return -EINVAL;
		o->queues = (uint32_t)v;
		return 0;
	case OPT_COPY:
		o->bind_mode = XSK_BIND_COPY;
		return 0;
	case OPT_ZEROCOPY:
		o->bind_mode = XSK_BIND_ZEROCOPY;
		return 0;
	case OPT_BUSY:
		o->busy_poll = true;
		return 0;
	case OPT_SPIN:
		o->spin = true;
		return 0;
	case OPT_PCAP:
		o->pcap_path = arg;
		return 0;
	case OPT_DROP:
	case OPT_CORRUPT:
		if (parse_uint(arg, 100, &v) < 0)
			return -EINVAL;
		*(c == OPT_DROP ? &o->drop_pct : &o->corrupt_pct) = (uint8_t)v;
		return 0;
	case OPT_SEED:
		if (parse_uint(arg, ~0ul, &v) < 0)
			return -EINVAL;
		o->seed = v;
		return 0;
	case OPT_PORT:
		if (parse_uint(arg, 65535, &v) < 0 || v == 0)
			return -EINVAL;
		o->echo_port = (uint16_t)v;
		return 0;
	case OPT_STATS:
		if (parse_uint(arg, 86400, &v) < 0)
			return -EINVAL;
		o->stats_secs = (unsigned)v;
		return 0;
	case OPT_TCP_CONNS:
		if (parse_uint(arg, 1u << 20, &v) < 0)
			return -EINVAL;
		o->tcp_conns = (uint32_t)v;
		return 0;
	case OPT_TCP_RTO_MIN:
		if (parse_uint(arg, 1000, &v) < 0 || v == 0)
			return -EINVAL;
		o->tcp_rto_min_ms = (uint32_t)v;
		return 0;
	case OPT_TCP_BUF:
		/* At least one full-size segment each way; at most what the stack's rings allow. */
		if (parse_uint(arg, 1u << 29, &v) < 0 || v < 2048)
			return -EINVAL;
		o->tcp_buf = (uint32_t)v;
		return 0;
	case OPT_FAULT_DIR:
		if (strcmp(arg, "rx") == 0)
			o->fault_dirs = DEV_FAULT_RX;
		else if (strcmp(arg, "tx") == 0)
			o->fault_dirs = DEV_FAULT_TX;
		else if (strcmp(arg, "both") == 0)
			o->fault_dirs = DEV_FAULT_RX | DEV_FAULT_TX;
		else
			return -EINVAL;
		return 0;
	case OPT_TCP_LOG:
		o->tcp_log = true;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	}
	return -EINVAL;
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
	o->tcp_conns = 1024;
	o->tcp_rto_min_ms = 200;
	o->tcp_buf = 65536;
	o->bind_mode = XSK_BIND_AUTO;
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == '?' || apply(o, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "smolxdp-server: bad value for --%s: %s\n", opt_name(c), optarg);
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "smolxdp-server: give exactly one interface name\n");
		fputs(usage, stderr);
		return -EINVAL;
	}
	o->ifname = argv[optind];
	return 0;
}
