/* smolxdp-tcpclient: connects from the smolxdp stack (AF_XDP on IFACE) to a TCP server, sends
 * --send bytes of the pattern byte i = i mod 256, half-closes, and reads until the server closes,
 * checking that it received --expect bytes of the same pattern. Exit status 0 only if every byte was
 * sent and acknowledged and every byte received was right. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "app_json.h"
#include "app_pattern.h"
#include "app_parse.h"
#include "app_sys.h"
#include "smolxdp/dev_fault.h"
#include "smolxdp/dev_handoff.h"
#include "smolxdp/iface.h"
#include "smolxdp/port_split.h"
#include "smolxdp/tcp.h"
#include "smolxdp/wire/ethernet.h"
#include "smolxdp/xsk_dev.h"
#include "smolxdp/xsk_prog.h"
#include "smolxdp/xsk_rss.h"

#define PROG "smolxdp-tcpclient"

struct cli_opts {
	const char *ifname;
	bool force; /* take --ip even if the kernel has it on the interface */
	struct iface_cidr ip;
	struct eth_addr mac;
	ipv4_addr gateway;
	uint16_t vlan_id;  /* 802.1Q VLAN (0: untagged) */
	uint8_t vlan_prio;
	uint16_t mtu;      /* 0: the device's (IFACE's MTU) */
	enum xsk_bind_mode bind_mode;
	bool spin;      /* never sleep: poll the rings in a loop */
	bool busy_poll; /* spin with socket busy polling (the driver's NAPI run from here) */
	ipv4_addr server;
	uint16_t port;
	uint64_t send_bytes;
	uint64_t expect_bytes;
	unsigned timeout_secs;
	uint32_t rto_min_ms;
	bool quiet;
	/* Bench mode: a transfer bounded by time, measured, with the result as JSON. */
	enum cli_bench { CLI_BENCH_NONE, CLI_BENCH_UPLOAD, CLI_BENCH_DOWNLOAD } bench;
	double duration_s;
	const char *json_path;
	const char *label;
	uint8_t drop_pct; /* frames lost on the way in (the stack's fault device), for benchmarks */
	uint32_t buf_size; /* TCP send and receive buffer */
	uint64_t seed;
	bool no_handoff; /* for tests: every queue opened, nothing handed over */
	uint32_t queue;  /* the RX queue whose stack opens the connection */
};

/* One RX queue's socket and stack. */
struct cli_queue {
	struct xsk_dev *xd;
	struct dev_fault fault;
	struct iface *iface;
	void *iface_mem;
	struct tcp_stack *tcp;
	void *tcp_mem;
};

struct cli {
	struct xsk_prog *prog;
	/* The queues served, from RX queue first_queue on: the one whose stack opens the connection
	 * (q[own]) and any others, which hand its frames to it. */
	struct cli_queue *q;
	uint32_t nq, own, first_queue;
	struct dev_handoff_group *handoff;
	void *handoff_mem;
	struct port_split split;
	struct xsk_dev *xd;	/* the owner's */
	struct iface *iface;
	struct tcp_stack *tcp;
	struct tcp_conn *c;
	uint64_t sent, recvd;
	uint64_t bad_at; /* first wrong byte + 1, 0: none */
	bool shut, eof;
	smx_instant t_start; /* just before the SYN was queued */
	smx_instant t_end;   /* bench: when the transfer was complete (or the duration ran out) */
	smx_instant bench_until;
	uint16_t local_port; /* 0: an ephemeral port of the stack's choosing */
};


static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static smx_instant now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (smx_instant)ts.tv_sec * 1000000u + (smx_instant)ts.tv_nsec / 1000u;
}

static const char usage[] =
	"usage: smolxdp-tcpclient IFACE --ip ADDR/PREFIX --connect ADDR:PORT [options]\n"
	"Connects from the smolxdp stack to a TCP server, sends the pattern byte i = i mod 256, then\n"
	"reads until the server closes and checks it received the same pattern.\n"
	"  --ip ADDR/PREFIX     our address: not one the kernel has on IFACE (required)\n"
	"  --force              take --ip even if the kernel has it on IFACE (its traffic to that\n"
	"                       address then reaches us, not the kernel)\n"
	"  --mac MAC            our MAC address (default 02:00:00:00:00:02)\n"
	"  --gateway ADDR       default gateway, on --ip's subnet\n"
	"  --vlan ID[:PCP]      on IEEE 802.1Q VLAN ID (1..4094), sending with priority PCP (0..7,\n"
	"                       default 0) (default: untagged)\n"
	"  --copy | --zero-copy AF_XDP bind mode (default: zero-copy if the driver can)\n"
	"  --mtu BYTES          largest IPv4 packet (68..9216; default: IFACE's MTU, jumbo included)\n"
	"  --spin               spin on the rings instead of sleeping in poll()\n"
	"  --busy-poll          spin with socket busy polling (SO_PREFER_BUSY_POLL/SO_BUSY_POLL): the\n"
	"                       driver's receive work runs here, not in an interrupt and a wake-up\n"
	"  --connect ADDR:PORT  the server (required)\n"
	"  --send BYTES         bytes to send (default 0)\n"
	"  --expect BYTES       bytes the server must send back (default 0)\n"
	"  --timeout SECONDS    give up after this long (default 120)\n"
	"  --tcp-rto-min MS     floor of the retransmission timeout (default 200)\n"
	"  --tcp-buf BYTES      TCP send and receive buffer (default 65536; above 64 KB the window is\n"
	"                       scaled, RFC 7323)\n"
	"  --bench upload|download  measure instead: upload sends the pattern for --duration seconds\n"
	"                       (at most --send bytes if given), half-closes and waits for the server to\n"
	"                       close (a discard server); download reads for --duration seconds (at most\n"
	"                       --expect bytes if given) from a source server, checking the pattern,\n"
	"                       then resets the connection. Goodput counts from the SYN to the end.\n"
	"  --duration SECONDS   bench: how long to transfer, from the end of the handshake (default 2)\n"
	"  --json FILE          bench: write the result as JSON to FILE ('-': stdout)\n"
	"  --label TEXT         bench: a name for the run, copied into the JSON\n"
	"  --drop-chance PCT    lose PCT% of the frames coming in (the stack's fault device): network\n"
	"                       loss towards us that the sender cannot tell from the real thing\n"
	"  --seed N             seed of that loss (default 1)\n"
	"  --queue Q            the RX queue whose stack opens the connection (default 0)\n"
	"  --no-handoff         on several queues with no readable RSS, hand nothing to the connection's\n"
	"                       queue (for tests: shows what the hand-off fixes)\n"
	"  -q, --quiet          only errors\n"
	"  -h, --help           this text\n"
	"  --version            the version\n"
	"Needs root, or CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_RAW and CAP_IPC_LOCK (or a large\n"
	"enough RLIMIT_MEMLOCK).\n";

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/* --connect ADDR:PORT. NULL, or why not. */
static const char *parse_connect(const char *arg, struct cli_opts *o)
{
	char addr[32];
	const char *colon = strrchr(arg, ':');
	uint64_t v;

	if (!colon || colon[1] == '\0')
		return "give the server's port too (ADDR:PORT)";
	if ((size_t)(colon - arg) >= sizeof(addr))
		return "not an IPv4 address";
	memcpy(addr, arg, (size_t)(colon - arg));
	addr[colon - arg] = '\0';
	if (app_parse_ipv4(addr, &o->server) < 0 || o->server == 0)
		return "not an IPv4 address";
	if (parse_u64(colon + 1, &v) < 0 || v == 0 || v > 65535)
		return "the port must be 1..65535";
	o->port = (uint16_t)v;
	return NULL;
}

/* Sets one option's value: NULL, or why the value is refused. */
static const char *apply(struct cli_opts *o, int c, const char *arg)
{
	uint64_t v;
	char *e;

	switch (c) {
	case 'i':
		return app_parse_cidr(arg, &o->ip) < 0 ? app_cidr_error(arg) : NULL;
	case 'm':
		return app_parse_mac(arg, &o->mac) < 0 ? app_mac_error(arg) : NULL;
	case 'g':
		return app_parse_ipv4(arg, &o->gateway) < 0 ? "not an IPv4 address" : NULL;
	case 'Q':
		return app_parse_vlan(arg, &o->vlan_id, &o->vlan_prio) < 0 ? app_vlan_error(arg) : NULL;
	case 'C':
	case 'Z': {
		enum xsk_bind_mode m = c == 'C' ? XSK_BIND_COPY : XSK_BIND_ZEROCOPY;
		if (o->bind_mode != XSK_BIND_AUTO && o->bind_mode != m)
			return "--copy and --zero-copy contradict each other: give one";
		o->bind_mode = m;
		return NULL;
	}
	case 'c':
		return parse_connect(arg, o);
	case 's':
		return parse_u64(arg, &o->send_bytes) < 0 ? "must be a whole number of bytes" : NULL;
	case 'e':
		return parse_u64(arg, &o->expect_bytes) < 0 ? "must be a whole number of bytes" : NULL;
	case 't':
		if (parse_u64(arg, &v) < 0 || v == 0 || v > 86400)
			return "must be seconds, 1..86400";
		o->timeout_secs = (unsigned)v;
		return NULL;
	case 'r':
		if (parse_u64(arg, &v) < 0 || v == 0 || v > 1000)
			return "must be milliseconds, 1..1000";
		o->rto_min_ms = (uint32_t)v;
		return NULL;
	case 'q':
		o->quiet = true;
		return NULL;
	case 'F':
		o->force = true;
		return NULL;
	case 'B':
		if (strcmp(arg, "upload") == 0)
			o->bench = CLI_BENCH_UPLOAD;
		else if (strcmp(arg, "download") == 0)
			o->bench = CLI_BENCH_DOWNLOAD;
		else
			return "must be upload or download";
		return NULL;
	case 'D':
		o->duration_s = strtod(arg, &e);
		if (e == arg || *e || !(o->duration_s > 0) || o->duration_s > 86400)
			return "must be seconds above 0, at most 86400";
		return NULL;
	case 'J':
		o->json_path = arg;
		return NULL;
	case 'X':
		if (parse_u64(arg, &v) < 0 || v > 100)
			return "must be a percentage, 0..100";
		o->drop_pct = (uint8_t)v;
		return NULL;
	case 'S':
		return parse_u64(arg, &o->seed) < 0 ? "must be a whole number" : NULL;
	case 'W':
		if (parse_u64(arg, &v) < 0 || v < 2048 || v > (1u << 29))
			return "must be bytes, 2048..536870912";
		o->buf_size = (uint32_t)v;
		return NULL;
	case 'L':
		o->label = arg;
		return NULL;
	case 'M':
		if (parse_u64(arg, &v) < 0 || v < 68 || v > 9216) /* RFC 791: 68; AF_XDP's jumbo frames */
			return "must be bytes, 68..9216";
		o->mtu = (uint16_t)v;
		return NULL;
	case 'H':
		o->no_handoff = true;
		return NULL;
	case 'P':
	case 'Y':
		if ((c == 'P' && o->spin) || (c == 'Y' && o->busy_poll))
			return "--spin and --busy-poll: give one (--busy-poll spins too)";
		*(c == 'P' ? &o->busy_poll : &o->spin) = true;
		return NULL;
	case 'U':
		if (parse_u64(arg, &v) < 0 || v >= DEV_HANDOFF_MAX_QUEUES)
			return "must be a queue number, 0..63";
		o->queue = (uint32_t)v;
		return NULL;
	}
	return "unexpected option";
}

/* What no single option can see. 0, or -EINVAL with the error said. */
static int check_together(const struct cli_opts *o, bool have_ip)
{
	uint32_t mask = o->ip.prefix_len ? 0xffffffffu << (32 - o->ip.prefix_len) : 0;

	if (!have_ip)
		return -app_usage_error(PROG, "give our address: --ip ADDR/PREFIX");
	if (!o->server)
		return -app_usage_error(PROG, "give the server: --connect ADDR:PORT");
	if (o->gateway && o->gateway == o->ip.addr)
		return -app_usage_error(PROG, "--gateway is our own address (--ip)");
	if (o->gateway && (o->gateway & mask) != (o->ip.addr & mask))
		return -app_usage_error(PROG, "--gateway %u.%u.%u.%u is not on our subnet (--ip %u.%u.%u.%u/%u): a "
					"gateway must be on-link", o->gateway >> 24, (o->gateway >> 16) & 255,
					(o->gateway >> 8) & 255, o->gateway & 255, o->ip.addr >> 24,
					(o->ip.addr >> 16) & 255, (o->ip.addr >> 8) & 255, o->ip.addr & 255,
					o->ip.prefix_len);
	if (o->bench == CLI_BENCH_NONE && (o->duration_s || o->json_path || o->label))
		return -app_usage_error(PROG, "--duration, --json and --label measure a transfer: they need --bench");
	return 0;
}

static int parse_opts(int argc, char **argv, struct cli_opts *o)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },       { "mac", required_argument, NULL, 'm' },
		{ "gateway", required_argument, NULL, 'g' },  { "copy", no_argument, NULL, 'C' },
		{ "zero-copy", no_argument, NULL, 'Z' },      { "connect", required_argument, NULL, 'c' },
		{ "send", required_argument, NULL, 's' },     { "expect", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },  { "tcp-rto-min", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ "bench", required_argument, NULL, 'B' },    { "duration", required_argument, NULL, 'D' },
		{ "json", required_argument, NULL, 'J' },     { "label", required_argument, NULL, 'L' },
		{ "drop-chance", required_argument, NULL, 'X' }, { "seed", required_argument, NULL, 'S' },
		{ "tcp-buf", required_argument, NULL, 'W' },  { "force", no_argument, NULL, 'F' },
		{ "version", no_argument, NULL, 'V' },        { "vlan", required_argument, NULL, 'Q' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "no-handoff", no_argument, NULL, 'H' },     { "queue", required_argument, NULL, 'U' },
		{ "busy-poll", no_argument, NULL, 'P' },      { "spin", no_argument, NULL, 'Y' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_ip = false;
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->mac = (struct eth_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	o->timeout_secs = 120;
	o->rto_min_ms = 200;
	o->bind_mode = XSK_BIND_AUTO;
	o->seed = 1;
	o->buf_size = 65536;
	opterr = 0; /* one line of our own instead of getopt's, which names the full path */
	while ((c = getopt_long(argc, argv, ":qh", lo, &idx)) != -1) {
		const char *why;

		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == 'V') {
			app_print_version(PROG);
			return 1;
		}
		if (c == '?' || c == ':')
			return app_getopt_error(PROG, c, argv), -EINVAL;
		why = apply(o, c, optarg);
		if (why) {
			if (optarg)
				app_usage_error(PROG, "--%s %s: %s", lo[idx].name, optarg, why);
			else
				app_usage_error(PROG, "%s", why);
			return -EINVAL;
		}
		have_ip |= c == 'i';
	}
	if (optind >= argc)
		return app_usage_error(PROG, "give the interface (smolxdp-tcpclient IFACE --ip ADDR/PREFIX "
				       "--connect ADDR:PORT)"), -EINVAL;
	if (optind < argc - 1)
		return app_usage_error(PROG, "one interface only: '%s' is extra", argv[optind + 1]), -EINVAL;
	o->ifname = argv[optind];
	if (check_together(o, have_ip) < 0)
		return -EINVAL;
	if (o->bench != CLI_BENCH_NONE) {
		if (o->duration_s == 0)
			o->duration_s = 2;
		/* Upload sends until the time (or --send) runs out; download sends nothing. */
		if (o->bench == CLI_BENCH_UPLOAD && o->send_bytes == 0)
			o->send_bytes = UINT64_MAX;
		if (o->bench == CLI_BENCH_DOWNLOAD)
			o->send_bytes = 0;
		if ((double)o->timeout_secs < o->duration_s + 30)
			o->timeout_secs = (unsigned)o->duration_s + 30;
	}
	return 0;
}

/* Where the server's replies land when the interface has several RX queues: where the driver shows
 * a Toeplitz key and table, the client serves --queue alone from a local port whose replies hash
 * there (xsk_rss_pick_port). Where it does not (veth, or a hash that is not Toeplitz), the client
 * opens every queue: the stack of --queue owns the connection, from its share of the ephemeral
 * ports, and the other queues' devices hand it what lands on them (dev_handoff, port_split). Sets
 * the queues to open; 0, or -EINVAL with the reason said. */
static int cli_plan_queues(struct cli *k, const struct cli_opts *o)
{
	static struct xsk_rss rss;
	uint32_t nq = xsk_rx_queue_count(o->ifname);

	if (nq && o->queue >= nq) {
		fprintf(stderr, PROG ": %s has %u receive queue%s: --queue must be below %u\n", o->ifname, nq,
			nq == 1 ? "" : "s", nq);
		return -EINVAL;
	}
	k->nq = 1;
	k->own = 0;
	k->first_queue = o->queue;
	if (nq <= 1)
		return 0;
	if (xsk_rss_read(o->ifname, &rss) == 0) {
		k->local_port = xsk_rss_pick_port(&rss, o->ip.addr, o->server, o->port, o->queue, 49152, 65535,
						  (uint32_t)now_us());
		if (k->local_port != 0)
			return 0;
		fprintf(stderr, PROG ": note: no local port makes %s's RSS send replies to queue %u: "
			"serving every queue\n", o->ifname, o->queue);
	}
	if (nq > DEV_HANDOFF_MAX_QUEUES) {
		fprintf(stderr, PROG ": note: %s has %u receive queues; serving the first %u (replies on the "
			"others are lost: ethtool -L %s combined %u)\n", o->ifname, nq, DEV_HANDOFF_MAX_QUEUES,
			o->ifname, DEV_HANDOFF_MAX_QUEUES);
		nq = DEV_HANDOFF_MAX_QUEUES;
	}
	k->nq = nq;
	k->own = o->queue;
	k->first_queue = 0;
	return 0;
}

/* The hand-off group over every queue's device; frames owned by another queue's port share go there. */
static int cli_open_handoff(struct cli *k, const struct cli_opts *o, uint32_t slot_size)
{
	struct dev_handoff_config hc = { .queues = k->nq, .slot_size = slot_size,
					 .owner = port_split_frame_owner, .owner_ctx = &k->split };
	size_t n;

	k->split = (struct port_split){ .port_min = 49152, .port_max = 65535, .queues = k->nq };
	if (o->no_handoff)
		return 0;
	n = dev_handoff_mem_size(&hc);
	k->handoff_mem = n ? malloc(n) : NULL;
	if (!k->handoff_mem)
		return -ENOMEM;
	k->handoff = dev_handoff_init(k->handoff_mem, n, &hc);
	return k->handoff ? 0 : -EINVAL;
}

/* Queue qi's interface and TCP stack over dev. The owner opens the connection; the others only answer
 * what stays with them (ARP requests, stray segments), so one small slot is enough there. */
static int cli_open_stack(struct cli *k, const struct cli_opts *o, uint32_t qi, struct dev *dev)
{
	struct cli_queue *q = &k->q[qi];
	struct tcp_config tc;
	struct l4_handler h;
	size_t n;
	struct iface_config ic = {
		.mac = o->mac,
		.addrs = { o->ip },
		.addr_count = 1,
		.gateway = o->gateway,
		.vlan_id = o->vlan_id,
		.vlan_prio = o->vlan_prio,
		.seed = now_us() + qi,
	};
	struct dev_caps caps;

	dev_get_caps(xsk_dev_as_dev(q->xd), &caps); /* its largest frame follows IFACE's MTU */
	ic.mtu = o->mtu ? o->mtu : (uint16_t)SMX_MIN(caps.max_frame - ETH_HEADER_LEN, 65535u);
	n = iface_mem_size(&ic);
	q->iface_mem = malloc(n);
	if (!q->iface_mem)
		return -ENOMEM;
	q->iface = iface_init(q->iface_mem, n, &ic, dev);
	if (!q->iface)
		return -EINVAL;
	tcp_config_default(&tc);
	tc.max_conns = qi == k->own ? 4 : 1;
	tc.max_listeners = 1;
	tc.rx_buf_size = o->buf_size == 65536 ? 65535 : o->buf_size; /* as smolxdp-server does */
	tc.tx_buf_size = o->buf_size;
	if (qi != k->own)
		tc.rx_buf_size = tc.tx_buf_size = 2048;
	tc.rto_min = (uint64_t)o->rto_min_ms * 1000;
	if (tc.rto_initial < tc.rto_min)
		tc.rto_initial = tc.rto_min;
	if (k->nq > 1)
		port_split_range(&k->split, qi, &tc.ephemeral_min, &tc.ephemeral_max);
	if (getrandom(tc.secret, sizeof(tc.secret), 0) != (ssize_t)sizeof(tc.secret))
		return -errno;
	n = tcp_mem_size(&tc);
	q->tcp_mem = malloc(n);
	if (!q->tcp_mem)
		return -ENOMEM;
	q->tcp = tcp_init(q->tcp_mem, n, &tc);
	if (!q->tcp)
		return -EINVAL;
	tcp_handler(q->tcp, &h);
	iface_set_l4_handler(q->iface, IP_PROTO_TCP, &h);
	return 0;
}

static int cli_open(struct cli *k, const struct cli_opts *o)
{
	static struct xsk_log_app log = { .prog = PROG, .max = XSK_LOG_NOTICE };
	struct xsk_prog_opts po = { .vlan_id = o->vlan_id, .log = xsk_log_app_stderr, .log_ctx = &log };
	struct xsk_dev_opts xo = { .bind_mode = o->bind_mode, .busy_poll = o->busy_poll, .log = xsk_log_app_stderr,
				   .log_ctx = &log };
	int err;

	err = cli_plan_queues(k, o);
	if (err < 0)
		return err;
	k->q = calloc(k->nq, sizeof(*k->q));
	if (!k->q)
		return -ENOMEM;
	/* Every capability the run needs, named at once, before anything is attached. */
	err = xsk_check_privileges(k->nq, &xo);
	if (err < 0) {
		fprintf(stderr, PROG ": %s\n", xsk_last_error());
		return err;
	}
	err = app_kernel_has_addr(o->ifname, o->ip.addr);
	if (err > 0) {
		/* Steering it to us takes the host's own traffic to that address. */
		if (!o->force) {
			fprintf(stderr, PROG ": the kernel has %u.%u.%u.%u on %s: using it would cut the host's own "
				"traffic to it; choose another --ip, or --force\n", o->ip.addr >> 24,
				(o->ip.addr >> 16) & 255, (o->ip.addr >> 8) & 255, o->ip.addr & 255, o->ifname);
			return -EADDRINUSE;
		}
		fprintf(stderr, PROG ": warning: taking %u.%u.%u.%u from the kernel on %s (--force)\n",
			o->ip.addr >> 24, (o->ip.addr >> 16) & 255, (o->ip.addr >> 8) & 255, o->ip.addr & 255,
			o->ifname);
	}
	err = xsk_prog_attach(o->ifname, &po, &k->prog);
	if (err < 0 || (err = xsk_prog_add_addr(k->prog, o->ip.addr)) < 0) {
		fprintf(stderr, PROG ": %s\n", xsk_last_error());
		return err;
	}
	xo.prog = k->prog;
	for (uint32_t i = 0; i < k->nq; i++) {
		err = xsk_dev_open(o->ifname, k->first_queue + i, &xo, &k->q[i].xd);
		if (err < 0) {
			fprintf(stderr, PROG ": queue %u: %s\n", k->first_queue + i, xsk_last_error());
			return err;
		}
	}
	if (k->nq > 1) {
		struct dev_caps caps;
		dev_get_caps(xsk_dev_as_dev(k->q[0].xd), &caps);
		err = cli_open_handoff(k, o, SMX_MAX(caps.max_frame, caps.max_frame_tagged));
		if (err < 0)
			return err;
	}
	for (uint32_t i = 0; i < k->nq; i++) {
		struct dev *dev = xsk_dev_as_dev(k->q[i].xd);
		if (o->drop_pct) {
			struct dev_fault_config fc = { .inner = dev, .seed = o->seed + i, .dirs = DEV_FAULT_RX,
						       .drop_pct = o->drop_pct };
			dev = dev_fault_init(&k->q[i].fault, &fc);
		}
		if (k->handoff)
			dev = dev_handoff_queue(k->handoff, i, dev);
		err = cli_open_stack(k, o, i, dev);
		if (err < 0)
			return err;
	}
	k->xd = k->q[k->own].xd;
	k->iface = k->q[k->own].iface;
	k->tcp = k->q[k->own].tcp;
	return 0;
}

static void cli_close(struct cli *k)
{
	for (uint32_t i = 0; k->q && i < k->nq; i++) {
		struct cli_queue *q = &k->q[i];
		if (q->iface) {
			iface_set_l4_handler(q->iface, IP_PROTO_TCP, NULL);
			iface_release(q->iface);
		}
		if (q->xd)
			xsk_dev_tx_drain(q->xd);
		xsk_dev_close(q->xd);
		free(q->tcp_mem);
		free(q->iface_mem);
	}
	xsk_prog_detach(k->prog);
	free(k->handoff_mem);
	free(k->q);
}

/* Every queue's stack polled once; true if any had work, or frames wait in a queue's rings. One
 * thread polls every queue: the client has one connection, and the other queues carry only its
 * stray frames, so threads would buy nothing but a wake-up for the owner whenever another queue hands
 * it a frame (poll() cannot wait on a ring); the rings themselves work across threads all the same. */
static bool cli_poll_all(struct cli *k, smx_instant now)
{
	bool active = false;

	for (uint32_t i = 0; i < k->nq; i++)
		active |= iface_poll(k->q[i].iface, now);
	for (uint32_t i = 0; k->handoff && i < k->nq; i++)
		active |= dev_handoff_pending(k->handoff, i) > 0;
	return active;
}

/* Sleeps in poll() on every queue's socket until a frame comes or the earliest timer is due. */
static int cli_wait(struct cli *k)
{
	struct pollfd pfd[DEV_HANDOFF_MAX_QUEUES];
	smx_instant delay = SMX_INSTANT_NEVER, now = now_us();

	for (uint32_t i = 0; i < k->nq; i++) {
		pfd[i] = (struct pollfd){ .fd = xsk_dev_fd(k->q[i].xd), .events = POLLIN };
		delay = SMX_MIN(delay, iface_poll_delay(k->q[i].iface, now));
	}
	int ms = delay == SMX_INSTANT_NEVER || delay > 100000 ? 100 : (int)((delay + 999) / 1000);
	if (ms > 0 && poll(pfd, k->nq, ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* The hand-off's counters, summed over the queues. */
static void cli_print_handoff(const struct cli *k)
{
	struct dev_handoff_stats sum = { 0 }, st;

	if (k->nq <= 1)
		return;
	for (uint32_t i = 0; k->handoff && i < k->nq; i++) {
		dev_handoff_stats(k->handoff, i, &st);
		sum.handed_off += st.handed_off;
		sum.ring_full += st.ring_full;
		sum.too_big += st.too_big;
		sum.received += st.received;
	}
	printf(PROG ": %u queues, %s %u: handed off %llu, ring full %llu, too big %llu, received %llu\n",
	       k->nq, k->handoff ? "hand-off to queue" : "no hand-off, connection on queue", k->own,
	       (unsigned long long)sum.handed_off,
	       (unsigned long long)sum.ring_full, (unsigned long long)sum.too_big,
	       (unsigned long long)sum.received);
}

/* Moves data both ways as far as the buffers allow. */
static void cli_pump(struct cli *k, const struct cli_opts *o)
{
	const uint8_t *in;
	uint8_t *out;
	size_t n;
	bool time_up = o->bench == CLI_BENCH_UPLOAD && now_us() >= k->bench_until;

	while (!time_up && k->sent < o->send_bytes && (n = tcp_send_buf(k->tcp, k->c, &out)) > 0) {
		if (n > o->send_bytes - k->sent)
			n = (size_t)(o->send_bytes - k->sent);
		app_pattern_fill(out, n, k->sent);
		tcp_send_commit(k->tcp, k->c, n);
		k->sent += n;
	}
	/* A download never half-closes: a source server stops at our FIN. */
	if ((k->sent == o->send_bytes || time_up) && o->bench != CLI_BENCH_DOWNLOAD && !k->shut &&
	    tcp_shutdown(k->tcp, k->c) == TCP_OK)
		k->shut = true;
	while ((n = tcp_recv_peek(k->tcp, k->c, &in)) > 0) {
		if (!k->bad_at)
			k->bad_at = app_pattern_check(in, n, k->recvd);
		k->recvd += n;
		tcp_recv_consume(k->tcp, k->c, n);
		if (o->bench == CLI_BENCH_DOWNLOAD && o->expect_bytes && k->recvd >= o->expect_bytes)
			break;
	}
	if (tcp_eof(k->c))
		k->eof = true;
}

static bool cli_done(const struct cli *k, const struct cli_opts *o)
{
	enum tcp_state st = tcp_conn_state(k->c);

	/* Download: the time (or the byte budget) is up; the connection is reset after. */
	if (o->bench == CLI_BENCH_DOWNLOAD)
		return now_us() >= k->bench_until || (o->expect_bytes && k->recvd >= o->expect_bytes);

	/* Our FIN acknowledged (so is every byte before it) and theirs received, without a reset. */
	return k->eof && k->shut && (st == TCP_TIME_WAIT || st == TCP_CLOSED) &&
	       tcp_conn_error(k->c) == TCP_ERROR_NONE;
}

static int cli_run(struct cli *k, const struct cli_opts *o)
{
	struct tcp_connect_opts co = { o->ip.addr, k->local_port, o->server, o->port, NULL };
	smx_instant deadline = now_us() + (smx_instant)o->timeout_secs * 1000000;
	enum tcp_result err;

	cli_poll_all(k, now_us()); /* the gratuitous ARP first */
	k->t_start = now_us();
	k->bench_until = SMX_INSTANT_NEVER; /* set once established: the duration is of data */
	k->c = tcp_connect(k->tcp, &co, &err);
	if (!k->c) {
		fprintf(stderr, "smolxdp-tcpclient: connect: error %d\n", err);
		return -EINVAL;
	}
	while (!stop && !cli_done(k, o)) {
		struct tcp_event ev;
		bool active;

		if (tcp_conn_state(k->c) == TCP_CLOSED && tcp_conn_error(k->c) != TCP_ERROR_NONE) {
			fprintf(stderr, "smolxdp-tcpclient: %s\n", tcp_error_name(tcp_conn_error(k->c)));
			return -ECONNRESET;
		}
		if (tcp_conn_state(k->c) == TCP_CLOSED && !cli_done(k, o)) {
			fprintf(stderr, "smolxdp-tcpclient: closed before the exchange was complete\n");
			return -EPROTO;
		}
		if (now_us() > deadline) {
			fprintf(stderr, "smolxdp-tcpclient: timed out in %s\n", tcp_state_name(tcp_conn_state(k->c)));
			return -ETIMEDOUT;
		}
		active = cli_poll_all(k, now_us());
		while (tcp_next_event(k->tcp, &ev))
			active = true;
		cli_pump(k, o);
		/* The duration is of data: an upload's from establishment, a download's from its first
		 * byte (a lost handshake ACK holds the server's first segment back by a whole RTO, which
		 * a short run would otherwise spend receiving nothing). */
		if (k->bench_until == SMX_INSTANT_NEVER && tcp_conn_state(k->c) >= TCP_ESTABLISHED &&
		    (o->bench != CLI_BENCH_DOWNLOAD || k->recvd > 0))
			k->bench_until = now_us() + (smx_instant)(o->duration_s * 1e6);
		if (active || o->spin || o->busy_poll)
			continue;
		int err2 = cli_wait(k);
		if (err2 < 0)
			return err2;
	}
	k->t_end = now_us();
	return stop ? -EINTR : 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/* The same schema as smolxdp-tcpbench (the Linux client), so the benchmark reads both alike. The
 * sender's statistics are ours on an upload, the server's business on a download. */
static int write_json(const struct cli *k, const struct cli_opts *o, bool ok)
{
	struct tcp_conn_stats st;
	FILE *f = strcmp(o->json_path, "-") == 0 ? stdout : fopen(o->json_path, "w");
	bool up = o->bench == CLI_BENCH_UPLOAD;
	uint64_t bytes = up ? k->sent : k->recvd;
	double secs = (double)(k->t_end - k->t_start) / 1e6;

	if (!f) {
		fprintf(stderr, "smolxdp-tcpclient: %s: %s\n", o->json_path, strerror(errno));
		return -errno;
	}
	tcp_conn_stats(k->c, &st);
	fprintf(f, "{\"tool\": \"smolxdp-tcpclient\", \"backend\": \"stack\", \"label\": ");
	app_json_string(f, o->label ? o->label : "");
	fprintf(f, ", \"mode\": \"%s\", \"server\": \"%u.%u.%u.%u\", \"port\": %u, \"bytes\": %llu, "
		"\"seconds\": %.6f, \"goodput_gbps\": %.6f, ",
		up ? "upload" : "download", o->server >> 24, (o->server >> 16) & 255, (o->server >> 8) & 255,
		o->server & 255, o->port, (unsigned long long)bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0);
	if (up)
		fprintf(f, "\"retransmits\": %llu, \"timeouts\": %llu, \"recoveries\": %llu, \"srtt_us\": %u, "
			"\"cwnd\": %u, ",
			(unsigned long long)st.retransmits, (unsigned long long)st.timeouts,
			(unsigned long long)st.fast_retransmits, st.srtt_us, st.cwnd);
	else
		fprintf(f, "\"retransmits\": null, \"timeouts\": null, \"recoveries\": null, \"srtt_us\": %u, "
			"\"cwnd\": null, ", st.srtt_us);
	fprintf(f, "\"conns\": null, \"conns_per_s\": null, \"conn_p50_us\": null, \"conn_p99_us\": null, "
		"\"failed\": null, \"time_to_all_s\": null, \"cpu_s\": %.3f, \"pattern_ok\": %s, "
		"\"ok\": %s, \"ooo_segs\": %llu, \"dup_acks\": %llu}\n",
		cpu_seconds(), k->bad_at ? "false" : "true", ok ? "true" : "false",
		(unsigned long long)st.ooo_segs, (unsigned long long)st.dup_acks);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	struct cli k;
	struct tcp_conn_stats st;
	int err;

	memset(&k, 0, sizeof(k));
	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = cli_open(&k, &o);
	if (err == 0)
		err = cli_run(&k, &o);
	if (k.c) {
		tcp_conn_stats(k.c, &st);
		if (!o.quiet || err)
			printf("smolxdp-tcpclient: %s, sent %llu bytes, received %llu bytes%s; segments in %llu out %llu, "
			       "retransmits %llu (fast %llu, timeouts %llu), srtt %u us\n",
			       tcp_state_name(tcp_conn_state(k.c)), (unsigned long long)k.sent,
			       (unsigned long long)k.recvd, k.bad_at ? " (PATTERN WRONG)" : " (pattern ok)",
			       (unsigned long long)st.segs_in, (unsigned long long)st.segs_out,
			       (unsigned long long)st.retransmits, (unsigned long long)st.fast_retransmits,
			       (unsigned long long)st.timeouts, st.srtt_us);
		if (!o.quiet || err)
			cli_print_handoff(&k);
	}
	if (o.bench != CLI_BENCH_NONE && k.c) {
		/* Time-bounded: what moved is the measure; every byte received must still be right. */
		bool ok = err == 0 && !k.bad_at && (o.bench == CLI_BENCH_UPLOAD ? k.sent > 0 : k.recvd > 0);

		if (err == 0 && !ok)
			err = -EPROTO;
		if (k.bad_at)
			fprintf(stderr, "smolxdp-tcpclient: byte %llu of the stream is wrong\n",
				(unsigned long long)(k.bad_at - 1));
		if (o.json_path && write_json(&k, &o, ok) < 0 && err == 0)
			err = -EIO;
		if (o.bench == CLI_BENCH_DOWNLOAD && tcp_conn_state(k.c) != TCP_CLOSED) {
			/* The source server sends until we leave: say so at once (RFC 9293 3.10.5 ABORT). */
			tcp_abort(k.tcp, k.c);
			k.c = NULL;
			iface_flush(k.iface, now_us());
		}
	} else if (err == 0 && (k.bad_at || k.recvd != o.expect_bytes || k.sent != o.send_bytes)) {
		if (k.bad_at)
			fprintf(stderr, "smolxdp-tcpclient: byte %llu of the stream is wrong\n",
				(unsigned long long)(k.bad_at - 1));
		if (k.recvd != o.expect_bytes)
			fprintf(stderr, "smolxdp-tcpclient: received %llu bytes, expected %llu\n",
				(unsigned long long)k.recvd, (unsigned long long)o.expect_bytes);
		err = -EPROTO;
	}
	cli_close(&k);
	return err ? 1 : 0;
}
