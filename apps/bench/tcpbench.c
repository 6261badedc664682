/* smolxdp-tcpbench: one measured TCP run from Linux sockets against smolxdp-server's services (or
 * smolxdp-kernel-tcp's, the same on the kernel): bulk upload to discard, bulk download from source,
 * short connections to echo (connect, 100-byte request, 100-byte reply, close) and many connections
 * at once. Writes one JSON object in the schema smolxdp-tcpclient --bench shares. This file: options,
 * the shared socket helpers, the result; the modes are in tcpbench_bulk.c and tcpbench_conn.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app_json.h"
#include "app_parse.h"
#include "app_sys.h"
#include "tcpbench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static const char *const mode_names[TB_MODES] = { "upload", "download", "crr", "concurrent" };
static const uint16_t mode_ports[TB_MODES] = { 6971, 6972, 6970, 6970 };
/* --timeout-ms's default per mode: bulk, the longest a transfer may stall (or take to connect); crr,
 * a whole short connection; concurrent, one connection from its connect to its echo. */
static const long mode_timeouts_ms[TB_MODES] = { 10000, 10000, 1000, 30000 };

static const char usage[] =
	"usage: smolxdp-tcpbench --mode MODE [options] SERVER_IP\n"
	"One measured TCP run over Linux sockets against smolxdp-server's TCP services (or\n"
	"smolxdp-kernel-tcp's), written as JSON.\n"
	"  --mode upload       send the pattern to discard (port 6971) for --duration, half-close, wait for\n"
	"                      the server to close: every byte counted was delivered\n"
	"  --mode download     read and check the pattern from source (port 6972) for --duration, then close\n"
	"  --mode crr          short connections to echo (port 6970): connect, 100-byte request, 100-byte\n"
	"                      reply, close, for --duration, on --parallel lanes (threads)\n"
	"  --mode concurrent   open --conns connections to echo, --pace handshakes at a time, each echoes one\n"
	"                      byte; measures the time until all have, then closes them all\n"
	"  --port N            the server port (default: per mode, as above)\n"
	"  --bind ADDR         source address\n"
	"  --duration S        seconds of transfer (upload: from the end of the handshake; download: from\n"
	"                      the first byte) or of crr (default 2)\n"
	"  --cc NAME           the sockets' congestion control (TCP_CONGESTION: cubic, bbr, reno; default:\n"
	"                      the namespace's)\n"
	"  --bytes N           upload/download: stop after N bytes if that comes first (default 0: no cap)\n"
	"  --parallel P        crr: lanes (default 1)\n"
	"  --conns N           concurrent: connections (default 10000)\n"
	"  --pace K            concurrent: handshakes in progress at most (default 256)\n"
	"  --hold-ms MS        concurrent: once all have echoed, keep them open MS more before closing\n"
	"                      (default 0), for a look at the server's memory meanwhile\n"
	"  --timeout-ms MS     crr: a connection not done in MS fails (default 1000); concurrent: the same,\n"
	"                      from connect to echo (default 30000; the run gives up after MS + 1 ms per\n"
	"                      connection); upload/download: the longest the connect or a stall may take\n"
	"                      (default 10000)\n"
	"  --label TEXT        a name for the run, copied into the JSON\n"
	"  --json FILE         write the result as JSON to FILE ('-': stdout)\n"
	"  --quiet             no summary on stderr\n"
	"  -h, --help          this text\n"
	"  --version           the version\n"
	"Exits 0 when the run completed with the right bytes, 1 when it did not, 2 on bad usage.\n";

static int bad_usage(const char *what, const char *arg)
{
	return app_bad_usage("smolxdp-tcpbench", what, arg);
}

double tb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tb_connect_start(const struct tb_opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	/* Bound to an address, the port is still chosen by connect(), per destination: bind() alone
	 * would pick one unique to the address and run out of ports far sooner. */
	if (o->has_bind &&
	    (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
	     bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) < 0))
		goto fail;
	if (o->cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->cc, (socklen_t)strlen(o->cc)) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&o->server, sizeof(o->server)) < 0 && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

int tb_wait(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline - tb_now();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return 0; /* ready, or an error the next call will report */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* ---- the watchdog: whatever happens, no run outlives its bound ---- */

static char watchdog_msg[128];
static size_t watchdog_len;

static void on_alarm(int sig)
{
	(void)sig;
	if (write(STDERR_FILENO, watchdog_msg, watchdog_len) < 0)
		_exit(1);
	_exit(1);
}

static void watchdog_arm(const struct tb_opts *o)
{
	double t = (double)o->timeout_ms / 1000, bound;
	struct sigaction act = { .sa_handler = on_alarm };

	switch (o->mode) {
	case TB_UPLOAD:
	case TB_DOWNLOAD:
		bound = o->duration_s + 3 * t; /* connect, a stall, the drain */
		break;
	case TB_CRR:
		bound = o->duration_s + t;
		break;
	default:
		bound = tb_concurrent_limit_s(o);
		break;
	}
	bound += 30;
	if (bound > UINT_MAX / 2)
		bound = UINT_MAX / 2;
	watchdog_len = (size_t)snprintf(watchdog_msg, sizeof(watchdog_msg),
					"smolxdp-tcpbench: %s: no result after %.0f s, giving up\n",
					mode_names[o->mode], bound);
	if (watchdog_len >= sizeof(watchdog_msg))
		watchdog_len = sizeof(watchdog_msg) - 1;
	sigaction(SIGALRM, &act, NULL);
	alarm((unsigned)bound + 1);
}

/* ---- the result ---- */

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void json_u64(FILE *f, const char *key, bool have, uint64_t v)
{
	if (have)
		fprintf(f, ", \"%s\": %llu", key, (unsigned long long)v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_f(FILE *f, const char *key, bool have, double v)
{
	if (have)
		fprintf(f, ", \"%s\": %.6f", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

/* The schema smolxdp-tcpclient --bench writes too; what a mode does not measure is null. The sender's
 * statistics are the client's own on an upload; on a download the server sent (rcv_rtt_us is the
 * receiver's estimate, tcpi_rcv_rtt). "recoveries" stays null: tcp_info counts no fast recoveries per
 * connection (its tcpi_total_rto_recoveries are RTO recoveries); the namespace's nstat has them. */
static void json_write(FILE *f, const struct tb_opts *o, const struct tb_result *r, double cpu_s, bool ok)
{
	bool bulk = o->mode == TB_UPLOAD || o->mode == TB_DOWNLOAD;
	bool sender = o->mode == TB_UPLOAD && r->has_info;
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->server.sin_addr, addr, sizeof(addr));
	fprintf(f, "{\"tool\": \"smolxdp-tcpbench\", \"backend\": \"kernel\", \"label\": ");
	app_json_string(f, o->label);
	fprintf(f, ", \"mode\": \"%s\", \"server\": \"%s\", \"port\": %u", mode_names[o->mode], addr,
		ntohs(o->server.sin_port));
	json_u64(f, "bytes", bulk, r->bytes);
	fprintf(f, ", \"seconds\": %.6f", r->seconds);
	json_f(f, "goodput_gbps", bulk, r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e9 : 0);
	json_u64(f, "retransmits", sender, r->info.total_retrans);
	json_u64(f, "timeouts", sender && r->has_rto, r->info.total_rto);
	json_u64(f, "recoveries", false, 0);
	json_u64(f, "srtt_us", bulk && r->has_info, r->info.rtt);
	json_u64(f, "cwnd", sender, r->info.snd_cwnd);
	json_u64(f, "conns", !bulk, r->conns);
	json_f(f, "conns_per_s", o->mode == TB_CRR, r->seconds > 0 ? (double)r->conns / r->seconds : 0);
	json_f(f, "conn_p50_us", o->mode == TB_CRR && r->conns, r->conn_p50_us);
	json_f(f, "conn_p99_us", o->mode == TB_CRR && r->conns, r->conn_p99_us);
	json_u64(f, "failed", !bulk, r->failed);
	json_f(f, "time_to_all_s", o->mode == TB_CONCURRENT && r->conns, r->time_to_all_s);
	fprintf(f, ", \"cpu_s\": %.3f, \"pattern_ok\": %s, \"ok\": %s", cpu_s, r->pattern_ok ? "true" : "false",
		ok ? "true" : "false");
	json_u64(f, "rcv_rtt_us", o->mode == TB_DOWNLOAD && r->has_info, r->info.rcv_rtt);
	fprintf(f, "}\n");
}

static int json_save(const struct tb_opts *o, const struct tb_result *r, double cpu_s, bool ok)
{
	bool out = strcmp(o->json, "-") == 0;
	FILE *f = out ? stdout : fopen(o->json, "w");

	if (!f) {
		fprintf(stderr, "smolxdp-tcpbench: cannot write %s: %s\n", o->json, strerror(errno));
		return -1;
	}
	json_write(f, o, r, cpu_s, ok);
	if (out ? fflush(f) != 0 : fclose(f) != 0) {
		fprintf(stderr, "smolxdp-tcpbench: cannot write %s: %s\n", o->json, strerror(errno));
		return -1;
	}
	return 0;
}

static void summary(const struct tb_opts *o, const struct tb_result *r)
{
	const char *m = mode_names[o->mode];

	switch (o->mode) {
	case TB_UPLOAD:
	case TB_DOWNLOAD:
		fprintf(stderr, "smolxdp-tcpbench: %s %llu bytes in %.3f s: %.3f Gbit/s", m,
			(unsigned long long)r->bytes, r->seconds,
			r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e9 : 0.0);
		if (o->mode == TB_UPLOAD && r->has_info)
			fprintf(stderr, ", retransmits %u, RTOs %s%u, cwnd %u, srtt %u us",
				r->info.total_retrans, r->has_rto ? "" : "(n/a) ", r->info.total_rto,
				r->info.snd_cwnd, r->info.rtt);
		fprintf(stderr, "\n");
		break;
	case TB_CRR:
		fprintf(stderr, "smolxdp-tcpbench: crr %llu connections in %.3f s: %.0f/s, p50 %.0f us, p99 %.0f us, "
			"%llu failed\n", (unsigned long long)r->conns, r->seconds,
			r->seconds > 0 ? (double)r->conns / r->seconds : 0.0, r->conn_p50_us, r->conn_p99_us,
			(unsigned long long)r->failed);
		break;
	default:
		fprintf(stderr, "smolxdp-tcpbench: concurrent %llu connections echoed in %.3f s, %llu failed\n",
			(unsigned long long)r->conns, r->time_to_all_s, (unsigned long long)r->failed);
		break;
	}
	if (r->mismatched)
		fprintf(stderr, "smolxdp-tcpbench: %llu replies were not the bytes sent\n",
			(unsigned long long)r->mismatched);
	if (r->no_ports)
		fprintf(stderr, "smolxdp-tcpbench: %llu connects found no free local port (TIME-WAIT?): set "
			"net.ipv4.tcp_tw_reuse=1 and widen net.ipv4.ip_local_port_range\n",
			(unsigned long long)r->no_ports);
}

/* What went wrong, in a few words. */
static const char *failure(const struct tb_opts *o, int err)
{
	if (err == -EBADMSG)
		return o->mode == TB_DOWNLOAD ? "the bytes received are not the pattern"
					      : "a reply was not the bytes sent";
	if (err == -ENOTCONN)
		return o->mode == TB_CRR ? "no connection completed" : "not every connection completed";
	return strerror(-err);
}

/* ---- options ---- */

static int parse_mode(const char *s)
{
	for (int i = 0; i < TB_MODES; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

static int parse_opts(int argc, char **argv, struct tb_opts *o)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'M' },     { "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },     { "duration", required_argument, NULL, 'd' },
		{ "bytes", required_argument, NULL, 'B' },    { "parallel", required_argument, NULL, 'P' },
		{ "conns", required_argument, NULL, 'n' },    { "pace", required_argument, NULL, 'k' },
		{ "timeout-ms", required_argument, NULL, 't' }, { "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },     { "quiet", no_argument, NULL, 'q' },
		{ "cc", required_argument, NULL, 'c' },       { "hold-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },           { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long port = 0, v;
	int mode = -1, c;
	ipv4_addr a;

	*o = (struct tb_opts){ .duration_s = 2, .parallel = 1, .conns = 10000, .pace = 256, .label = "" };
	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		char *e;

		switch (c) {
		case 'M':
			if ((mode = parse_mode(optarg)) < 0)
				return bad_usage("--mode wants upload, download, crr or concurrent, not", optarg);
			break;
		case 'p':
			if (app_parse_long(optarg, 1, 65535, &port) < 0)
				return bad_usage("--port wants 1..65535, not", optarg);
			break;
		case 'b':
			if (app_parse_ipv4(optarg, &a) < 0)
				return bad_usage("--bind wants a dotted IPv4 address, not", optarg);
			o->bind = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(a) };
			o->has_bind = true;
			break;
		case 'd':
			o->duration_s = strtod(optarg, &e);
			if (e == optarg || *e || !(o->duration_s > 0) || o->duration_s > 86400)
				return bad_usage("--duration wants seconds above 0, at most 86400, not", optarg);
			break;
		case 'B':
			if (app_parse_long(optarg, 0, LONG_MAX, &v) < 0)
				return bad_usage("--bytes wants a whole number, not", optarg);
			o->bytes = (uint64_t)v;
			break;
		case 'P':
			if (app_parse_long(optarg, 1, 1024, &o->parallel) < 0)
				return bad_usage("--parallel wants 1..1024, not", optarg);
			break;
		case 'n':
			if (app_parse_long(optarg, 1, 1000000, &o->conns) < 0)
				return bad_usage("--conns wants 1..1000000, not", optarg);
			break;
		case 'k':
			if (app_parse_long(optarg, 1, 65536, &o->pace) < 0)
				return bad_usage("--pace wants 1..65536, not", optarg);
			break;
		case 't':
			if (app_parse_long(optarg, 1, 3600000, &o->timeout_ms) < 0)
				return bad_usage("--timeout-ms wants 1..3600000, not", optarg);
			break;
		case 'H':
			if (app_parse_long(optarg, 0, 3600000, &o->hold_ms) < 0)
				return bad_usage("--hold-ms wants 0..3600000, not", optarg);
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'c':
			o->cc = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			app_print_version("smolxdp-tcpbench");
			return 1;
		default: /* '?' or ':' */
			return app_getopt_error("smolxdp-tcpbench", c, argv);
		}
	}
	if (mode < 0)
		return bad_usage("give --mode", NULL);
	if (optind != argc - 1)
		return bad_usage("give exactly one SERVER_IP", NULL);
	if (app_parse_ipv4(argv[optind], &a) < 0)
		return bad_usage("SERVER_IP wants a dotted IPv4 address, not", argv[optind]);
	o->mode = (enum tb_mode)mode;
	o->server = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(a),
					  .sin_port = htons((uint16_t)(port ? port : mode_ports[mode])) };
	if (!o->timeout_ms)
		o->timeout_ms = mode_timeouts_ms[mode];
	return 0;
}

int main(int argc, char **argv)
{
	static int (*const run[TB_MODES])(const struct tb_opts *, struct tb_result *) = {
		tb_run_upload, tb_run_download, tb_run_crr, tb_run_concurrent,
	};
	struct tb_opts o;
	struct tb_result r;
	int err = parse_opts(argc, argv, &o);

	if (err)
		return err == 1 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	watchdog_arm(&o);
	memset(&r, 0, sizeof(r));
	err = run[o.mode](&o, &r);
	alarm(0);
	if (err)
		fprintf(stderr, "smolxdp-tcpbench: %s to %s: %s\n", mode_names[o.mode], inet_ntoa(o.server.sin_addr),
			failure(&o, err));
	if (o.json && json_save(&o, &r, cpu_seconds(), err == 0) < 0 && !err)
		err = -EIO;
	if (!o.quiet)
		summary(&o, &r);
	return err ? 1 : 0;
}
