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
#include "app_parse.h"
#include "smolxdp/dev_fault.h"
#include "smolxdp/iface.h"
#include "smolxdp/tcp.h"
#include "smolxdp/xsk_dev.h"
#include "smolxdp/xsk_prog.h"

struct cli_opts {
	const char *ifname;
	struct iface_cidr ip;
	struct eth_addr mac;
	ipv4_addr gateway;
	enum xsk_bind_mode bind_mode;
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
};

struct cli {
	struct xsk_prog *prog;
	struct xsk_dev *xd;
	struct dev_fault fault;
	struct iface *iface;
	void *iface_mem;
	struct tcp_stack *tcp;
	void *tcp_mem;
	struct tcp_conn *c;
	uint64_t sent, recvd;
	uint64_t bad_at; /* first wrong byte + 1, 0: none */
	bool shut, eof;
	smx_instant t_start; /* just before the SYN was queued */
	smx_instant t_end;   /* bench: when the transfer was complete (or the duration ran out) */
	smx_instant bench_until;
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
	"  --ip ADDR/PREFIX     our address (not one the kernel owns)\n"
	"  --mac MAC            our MAC address (default 02:00:00:00:00:02)\n"
	"  --gateway ADDR       default gateway\n"
	"  --copy | --zero-copy AF_XDP bind mode (default: zero-copy if the driver can)\n"
	"  --connect ADDR:PORT  the server\n"
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
	"  --drop-chance PCT    lose PCT%% of the frames coming in (the stack's fault device): network\n"
	"                       loss towards us that the sender cannot tell from the real thing\n"
	"  --seed N             seed of that loss (default 1)\n"
	"  -q, --quiet          only errors\n";

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
		{ "tcp-buf", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->mac = (struct eth_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	o->timeout_secs = 120;
	o->rto_min_ms = 200;
	o->bind_mode = XSK_BIND_AUTO;
	o->seed = 1;
	o->buf_size = 65536;
	while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		char *p;

		switch (c) {
		case 'i':
			if (app_parse_cidr(optarg, &o->ip) < 0)
				goto bad;
			break;
		case 'm':
			if (app_parse_mac(optarg, &o->mac) < 0)
				goto bad;
			break;
		case 'g':
			if (app_parse_ipv4(optarg, &o->gateway) < 0)
				goto bad;
			break;
		case 'C':
			o->bind_mode = XSK_BIND_COPY;
			break;
		case 'Z':
			o->bind_mode = XSK_BIND_ZEROCOPY;
			break;
		case 'c':
			p = strrchr(optarg, ':');
			if (!p)
				goto bad;
			*p = 0;
			if (app_parse_ipv4(optarg, &o->server) < 0 || parse_u64(p + 1, &v) < 0 || v == 0 || v > 65535)
				goto bad;
			o->port = (uint16_t)v;
			break;
		case 's':
			if (parse_u64(optarg, &o->send_bytes) < 0)
				goto bad;
			break;
		case 'e':
			if (parse_u64(optarg, &o->expect_bytes) < 0)
				goto bad;
			break;
		case 't':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 86400)
				goto bad;
			o->timeout_secs = (unsigned)v;
			break;
		case 'r':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 1000)
				goto bad;
			o->rto_min_ms = (uint32_t)v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'B':
			if (strcmp(optarg, "upload") == 0)
				o->bench = CLI_BENCH_UPLOAD;
			else if (strcmp(optarg, "download") == 0)
				o->bench = CLI_BENCH_DOWNLOAD;
			else
				goto bad;
			break;
		case 'D': {
			char *e;
			o->duration_s = strtod(optarg, &e);
			if (e == optarg || *e || !(o->duration_s > 0) || o->duration_s > 86400)
				goto bad;
			break;
		}
		case 'J':
			o->json_path = optarg;
			break;
		case 'X':
			if (parse_u64(optarg, &v) < 0 || v > 100)
				goto bad;
			o->drop_pct = (uint8_t)v;
			break;
		case 'S':
			if (parse_u64(optarg, &o->seed) < 0)
				goto bad;
			break;
		case 'W':
			if (parse_u64(optarg, &v) < 0 || v < 2048 || v > (1u << 29))
				goto bad;
			o->buf_size = (uint32_t)v;
			break;
		case 'L':
			o->label = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1 || !o->ip.addr || !o->server)
		goto bad;
	o->ifname = argv[optind];
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
bad:
	fputs(usage, stderr);
	return -EINVAL;
}

static int cli_open(struct cli *k, const struct cli_opts *o)
{
	struct xsk_prog_opts po = { .log = xsk_log_stderr };
	struct tcp_config tc;
	struct l4_handler h;
	size_t n;
	int err;

	err = xsk_prog_attach(o->ifname, &po, &k->prog);
	if (err < 0 || (err = xsk_prog_add_addr(k->prog, o->ip.addr)) < 0) {
		fprintf(stderr, "smolxdp-tcpclient: %s\n", xsk_last_error());
		return err;
	}
	struct xsk_dev_opts xo = { .bind_mode = o->bind_mode, .prog = k->prog, .log = xsk_log_stderr };
	err = xsk_dev_open(o->ifname, 0, &xo, &k->xd);
	if (err < 0) {
		fprintf(stderr, "smolxdp-tcpclient: %s\n", xsk_last_error());
		return err;
	}
	struct iface_config ic = {
		.mac = o->mac,
		.addrs = { o->ip },
		.addr_count = 1,
		.gateway = o->gateway,
		.seed = now_us(),
	};
	n = iface_mem_size(&ic);
	k->iface_mem = malloc(n);
	if (!k->iface_mem)
		return -ENOMEM;
	struct dev *dev = xsk_dev_as_dev(k->xd);
	if (o->drop_pct) {
		struct dev_fault_config fc = { .inner = dev, .seed = o->seed, .dirs = DEV_FAULT_RX, .drop_pct = o->drop_pct };
		dev = dev_fault_init(&k->fault, &fc);
	}
	k->iface = iface_init(k->iface_mem, n, &ic, dev);
	if (!k->iface)
		return -EINVAL;
	tcp_config_default(&tc);
	tc.max_conns = 4;
	tc.max_listeners = 1;
	tc.rx_buf_size = o->buf_size == 65536 ? 65535 : o->buf_size; /* as smolxdp-server does */
	tc.tx_buf_size = o->buf_size;
	tc.rto_min = (uint64_t)o->rto_min_ms * 1000;
	if (tc.rto_initial < tc.rto_min)
		tc.rto_initial = tc.rto_min;
	if (getrandom(tc.secret, sizeof(tc.secret), 0) != (ssize_t)sizeof(tc.secret))
		return -errno;
	n = tcp_mem_size(&tc);
	k->tcp_mem = malloc(n);
	if (!k->tcp_mem)
		return -ENOMEM;
	k->tcp = tcp_init(k->tcp_mem, n, &tc);
	if (!k->tcp)
		return -EINVAL;
	tcp_handler(k->tcp, &h);
	iface_set_tcp_handler(k->iface, &h);
	return 0;
}

static void cli_close(struct cli *k)
{
	if (k->iface) {
		iface_set_tcp_handler(k->iface, NULL);
		iface_release(k->iface);
	}
	if (k->xd)
		xsk_dev_tx_drain(k->xd);
	xsk_dev_close(k->xd);
	xsk_prog_detach(k->prog);
	free(k->tcp_mem);
	free(k->iface_mem);
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
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(k->sent + i);
		tcp_send_commit(k->tcp, k->c, n);
		k->sent += n;
	}
	/* A download never half-closes: a source server stops at our FIN. */
	if ((k->sent == o->send_bytes || time_up) && o->bench != CLI_BENCH_DOWNLOAD && !k->shut &&
	    tcp_shutdown(k->tcp, k->c) == TCP_OK)
		k->shut = true;
	while ((n = tcp_recv_peek(k->tcp, k->c, &in)) > 0) {
		for (size_t i = 0; i < n && !k->bad_at; i++)
			if (in[i] != (uint8_t)(k->recvd + i))
				k->bad_at = k->recvd + i + 1;
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
	struct tcp_connect_opts co = { o->ip.addr, 0, o->server, o->port, NULL };
	struct pollfd pfd = { .fd = xsk_dev_fd(k->xd), .events = POLLIN };
	smx_instant deadline = now_us() + (smx_instant)o->timeout_secs * 1000000;
	enum tcp_err err;

	iface_poll(k->iface, now_us()); /* the gratuitous ARP first */
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
		active = iface_poll(k->iface, now_us());
		while (tcp_next_event(k->tcp, &ev))
			active = true;
		cli_pump(k, o);
		/* The duration is of data: an upload's from establishment, a download's from its first
		 * byte (a lost handshake ACK holds the server's first segment back by a whole RTO, which
		 * a short run would otherwise spend receiving nothing). */
		if (k->bench_until == SMX_INSTANT_NEVER && tcp_conn_state(k->c) >= TCP_ESTABLISHED &&
		    (o->bench != CLI_BENCH_DOWNLOAD || k->recvd > 0))
			k->bench_until = now_us() + (smx_instant)(o->duration_s * 1e6);
		if (active)
			continue;
		smx_instant delay = iface_poll_delay(k->iface, now_us());
		int ms = delay == SMX_INSTANT_NEVER || delay > 100000 ? 100 : (int)((delay + 999) / 1000);
		if (ms > 0 && poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return -errno;
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
