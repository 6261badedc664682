/* smolxdp-tcpbench: one measured TCP run from Linux sockets against smolxdp-server's services (or
 * smolxdp-kernel-tcp's, the same on the kernel): bulk upload to discard, bulk download from source,
 * short connections to echo (connect, 100-byte request, 100-byte reply, close) and many connections
 * at once. Writes one JSON object in the schema smolxdp-tcpclient --bench shares. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app_json.h"
#include "app_parse.h"
#include "app_sys.h"

enum tb_mode { TB_UPLOAD, TB_DOWNLOAD, TB_CRR, TB_CONCURRENT };
static const char *const mode_names[] = { "upload", "download", "crr", "concurrent" };
static const uint16_t mode_ports[] = { 6971, 6972, 6970, 6970 };

#define TB_CHUNK 65536
#define TB_REQ 100
#define TB_MAX_SAMPLES (1u << 20)
#define SMX_MIN_SIZE(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))

struct tb_opts {
	enum tb_mode mode;
	struct sockaddr_in server;
	struct sockaddr_in bind;
	bool has_bind;
	double duration_s;
	uint64_t bytes;
	long parallel, conns, pace, timeout_ms;
	const char *label, *json;
	bool quiet;
};

/* The sender's view from TCP_INFO. Linux 6.7 appended the RTO counters; Debian 12's headers predate
 * them, so the layout is spelled out here and the length the kernel returns says what it filled. */
struct tb_tcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen, rcv_ooopack, snd_wnd, rcv_wnd, rehash;
	uint16_t total_rto, total_rto_recoveries;
	uint32_t total_rto_time;
};

struct tb_result {
	uint64_t bytes;
	double seconds;
	bool has_info, has_rto, pattern_ok;
	struct tb_tcp_info info;
	uint64_t conns, failed;
	double conn_p50_us, conn_p99_us, time_to_all_s;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char usage[] =
	"usage: smolxdp-tcpbench --mode MODE [options] SERVER_IP\n"
	"One measured TCP run over Linux sockets against smolxdp-server's TCP services (or\n"
	"smolxdp-kernel-tcp's), written as JSON.\n"
	"  --mode upload       send the pattern to discard (port 6971) for --duration, half-close, wait for\n"
	"                      the server to close: every byte counted was delivered\n"
	"  --mode download     read and check the pattern from source (port 6972) for --duration, then close\n"
	"  --mode crr          short connections to echo (port 6970): connect, 100-byte request, 100-byte\n"
	"                      reply, close, for --duration, on --parallel lanes\n"
	"  --mode concurrent   open --conns connections to echo, --pace handshakes at a time, each echoes one\n"
	"                      byte; measures the time until all have\n"
	"  --port N            the server port (default: per mode, as above)\n"
	"  --bind ADDR         source address\n"
	"  --duration S        seconds of transfer (bulk: from the end of the handshake) (default 2)\n"
	"  --bytes N           upload/download: stop after N bytes too (default 0: no cap)\n"
	"  --parallel P        crr: lanes (default 1)\n"
	"  --conns N           concurrent: connections (default 10000)\n"
	"  --pace K            concurrent: handshakes in progress at most (default 256)\n"
	"  --timeout-ms MS     crr/concurrent: a connection stuck this long fails (default 1000; 30000 for\n"
	"                      concurrent)\n"
	"  --label TEXT        a name for the run, copied into the JSON\n"
	"  --json FILE         write the result as JSON to FILE ('-': stdout)\n"
	"  --quiet             no summary on stderr\n"
	"  -h, --help          this text\n";

static int bad_usage(const char *what, const char *arg)
{
	return app_bad_usage("smolxdp-tcpbench", what, arg);
}

/* A connected socket (blocking unless nonblock), or -errno. */
static int tb_connect(const struct tb_opts *o, bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -errno;
	if (o->has_bind && bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&o->server, sizeof(o->server)) < 0 && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static void set_timeouts(int fd, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void read_info(int fd, struct tb_result *r)
{
	socklen_t len = sizeof(r->info);

	memset(&r->info, 0, sizeof(r->info));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &r->info, &len) == 0) {
		r->has_info = len >= offsetof(struct tb_tcp_info, pacing_rate);
		r->has_rto = len >= offsetof(struct tb_tcp_info, total_rto_time);
	}
}

static int run_upload(const struct tb_opts *o, struct tb_result *r)
{
	static uint8_t pattern[TB_CHUNK + 256];
	double t0 = now_s(), until;
	int fd;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)i;
	fd = tb_connect(o, false);
	if (fd < 0)
		return fd;
	/* The duration is of data, from the handshake's end (a lost SYN costs a second); goodput still
	 * counts from the connect. */
	until = now_s() + o->duration_s;
	set_timeouts(fd, 1000); /* a send stuck on a shut window still looks at the clock */
	while (now_s() < until && (!o->bytes || r->bytes < o->bytes)) {
		size_t n = TB_CHUNK;
		ssize_t w;

		if (o->bytes && o->bytes - r->bytes < n)
			n = (size_t)(o->bytes - r->bytes);
		w = send(fd, pattern + r->bytes % 256, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			goto fail;
		r->bytes += (uint64_t)w;
	}
	/* Half-close and wait for the discard server's close: all data read by the application. */
	shutdown(fd, SHUT_WR);
	set_timeouts(fd, 30000);
	for (;;) {
		uint8_t buf[256];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
	}
	r->seconds = now_s() - t0;
	read_info(fd, r);
	r->pattern_ok = true;
	close(fd);
	return 0;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static int run_download(const struct tb_opts *o, struct tb_result *r)
{
	static uint8_t buf[4 * TB_CHUNK];
	double t0 = now_s(), until;
	int fd = tb_connect(o, false);

	if (fd < 0)
		return fd;
	until = now_s() + o->duration_s; /* as in run_upload */
	set_timeouts(fd, 1000);
	r->pattern_ok = true;
	while (now_s() < until && (!o->bytes || r->bytes < o->bytes)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			int err = n == 0 ? -ECONNRESET : -errno;
			close(fd);
			return err;
		}
		for (ssize_t i = 0; i < n && r->pattern_ok; i++)
			if (buf[i] != (uint8_t)(r->bytes + (uint64_t)i))
				r->pattern_ok = false;
		r->bytes += (uint64_t)n;
	}
	r->seconds = now_s() - t0;
	read_info(fd, r);
	close(fd);
	return r->pattern_ok ? 0 : -EPROTO;
}

/* ---- short connections ---- */

struct crr_lane {
	const struct tb_opts *o;
	double until;
	uint32_t *samples; /* microseconds per connection */
	uint64_t n, failed;
};

static bool crr_one(const struct tb_opts *o, uint8_t *req)
{
	uint8_t rep[TB_REQ];
	size_t got = 0;
	int fd = tb_connect(o, false);
	bool ok = false;

	if (fd < 0)
		return false;
	set_timeouts(fd, o->timeout_ms);
	if (send(fd, req, TB_REQ, MSG_NOSIGNAL) != TB_REQ)
		goto out;
	while (got < TB_REQ) {
		ssize_t n = recv(fd, rep + got, TB_REQ - got, 0);

		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	ok = memcmp(rep, req, TB_REQ) == 0;
out:
	close(fd);
	return ok;
}

static void *crr_lane_run(void *arg)
{
	struct crr_lane *l = arg;
	uint8_t req[TB_REQ];

	for (int i = 0; i < TB_REQ; i++)
		req[i] = (uint8_t)i;
	while (now_s() < l->until) {
		double t = now_s();

		if (!crr_one(l->o, req)) {
			l->failed++;
			continue;
		}
		if (l->n < TB_MAX_SAMPLES)
			l->samples[l->n] = (uint32_t)((now_s() - t) * 1e6);
		l->n++;
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int run_crr(const struct tb_opts *o, struct tb_result *r)
{
	struct crr_lane *lanes = calloc((size_t)o->parallel, sizeof(*lanes));
	pthread_t *th = calloc((size_t)o->parallel, sizeof(*th));
	uint32_t *all = NULL;
	size_t total = 0;
	double t0 = now_s();
	int err = 0;

	if (!lanes || !th)
		err = -ENOMEM;
	for (long i = 0; !err && i < o->parallel; i++) {
		lanes[i] = (struct crr_lane){ .o = o, .until = t0 + o->duration_s };
		lanes[i].samples = malloc(TB_MAX_SAMPLES * sizeof(uint32_t));
		if (!lanes[i].samples || pthread_create(&th[i], NULL, crr_lane_run, &lanes[i]) != 0) {
			err = -ENOMEM;
			free(lanes[i].samples);
			lanes[i].samples = NULL;
			break;
		}
	}
	for (long i = 0; i < o->parallel && lanes && lanes[i].samples; i++) {
		pthread_join(th[i], NULL);
		r->conns += lanes[i].n;
		r->failed += lanes[i].failed;
		total += SMX_MIN_SIZE(lanes[i].n, TB_MAX_SAMPLES);
	}
	r->seconds = now_s() - t0;
	all = total ? malloc(total * sizeof(uint32_t)) : NULL;
	if (all) {
		size_t k = 0;
		for (long i = 0; i < o->parallel && lanes[i].samples; i++) {
			size_t n = SMX_MIN_SIZE(lanes[i].n, TB_MAX_SAMPLES);
			memcpy(all + k, lanes[i].samples, n * sizeof(uint32_t));
			k += n;
		}
		qsort(all, total, sizeof(uint32_t), cmp_u32);
		r->conn_p50_us = all[total / 2];
		r->conn_p99_us = all[(size_t)((double)(total - 1) * 0.99)];
	}
	for (long i = 0; lanes && i < o->parallel; i++)
		free(lanes[i].samples);
	free(all);
	free(lanes);
	free(th);
	r->pattern_ok = r->conns > 0;
	return err ? err : (r->conns > 0 ? 0 : -EIO);
}

/* ---- many connections at once ---- */

enum conc_state { CONC_IDLE, CONC_CONNECTING, CONC_WAITING, CONC_DONE };

static int run_concurrent(const struct tb_opts *o, struct tb_result *r)
{
	int *fds = malloc((size_t)o->conns * sizeof(int));
	uint8_t *state = calloc((size_t)o->conns, 1);
	double *started = calloc((size_t)o->conns, sizeof(double));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long next = 0, in_progress = 0, done = 0;
	double t0 = now_s(), deadline = t0 + o->timeout_ms / 1000.0 + o->conns / 1000.0;
	struct epoll_event evs[512];
	int err = 0;

	if (!fds || !state || !started || ep < 0) {
		err = -ENOMEM;
		goto out;
	}
	if (app_raise_nofile(o->conns + 64) < o->conns + 64) {
		fprintf(stderr, "smolxdp-tcpbench: cannot raise the open-file limit to %ld\n", o->conns + 64);
		err = -EMFILE;
		goto out;
	}
	for (long i = 0; i < o->conns; i++)
		fds[i] = -1;
	while (done + (long)r->failed < o->conns && now_s() < deadline) {
		while (next < o->conns && in_progress < o->pace) {
			int fd = tb_connect(o, true);
			struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u64 = (uint64_t)next };

			started[next] = now_s();
			if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
				if (fd >= 0)
					close(fd);
				r->failed++;
				next++;
				continue;
			}
			fds[next] = fd;
			state[next] = CONC_CONNECTING;
			next++;
			in_progress++;
		}
		int n = epoll_wait(ep, evs, 512, 10);
		for (int i = 0; i < n; i++) {
			long id = (long)evs[i].data.u64;
			int fd = fds[id];
			uint8_t b = 0x5a;

			if (state[id] == CONC_CONNECTING) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);

				/* Writable means connected; an error or hang-up (refused, reset) fails it. */
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				if (soerr || (evs[i].events & (EPOLLERR | EPOLLHUP)) || !(evs[i].events & EPOLLOUT) ||
				    send(fd, &b, 1, MSG_NOSIGNAL) != 1) {
					state[id] = CONC_DONE;
					r->failed++;
					in_progress--;
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					continue;
				}
				/* Connected and the byte sent: the next handshake may start. */
				state[id] = CONC_WAITING;
				in_progress--;
				struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)id };
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			} else if (state[id] == CONC_WAITING && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
				ssize_t got = recv(fd, &b, 1, 0);

				state[id] = CONC_DONE;
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				if (got == 1 && b == 0x5a)
					done++;
				else
					r->failed++;
			}
		}
	}
	r->time_to_all_s = now_s() - t0;
	r->seconds = r->time_to_all_s;
	r->conns = (uint64_t)done;
	r->failed = (uint64_t)(o->conns - done);
	r->pattern_ok = done == o->conns;
out:
	if (fds)
		for (long i = 0; i < o->conns; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	if (ep >= 0)
		close(ep);
	free(fds);
	free(state);
	free(started);
	return err ? err : (r->pattern_ok ? 0 : -EIO);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void json_u64_or_null(FILE *f, const char *key, bool have, uint64_t v)
{
	if (have)
		fprintf(f, ", \"%s\": %llu", key, (unsigned long long)v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_f_or_null(FILE *f, const char *key, bool have, double v)
{
	if (have)
		fprintf(f, ", \"%s\": %.6f", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static int write_json(const struct tb_opts *o, const struct tb_result *r, bool ok)
{
	FILE *f = strcmp(o->json, "-") == 0 ? stdout : fopen(o->json, "w");
	bool bulk = o->mode == TB_UPLOAD || o->mode == TB_DOWNLOAD;
	bool sender = o->mode == TB_UPLOAD && r->has_info;
	char addr[INET_ADDRSTRLEN];

	if (!f) {
		fprintf(stderr, "smolxdp-tcpbench: %s: %s\n", o->json, strerror(errno));
		return -errno;
	}
	inet_ntop(AF_INET, &o->server.sin_addr, addr, sizeof(addr));
	fprintf(f, "{\"tool\": \"smolxdp-tcpbench\", \"backend\": \"kernel\", \"label\": ");
	app_json_string(f, o->label);
	fprintf(f, ", \"mode\": \"%s\", \"server\": \"%s\", \"port\": %u", mode_names[o->mode], addr,
		ntohs(o->server.sin_port));
	json_u64_or_null(f, "bytes", bulk, r->bytes);
	fprintf(f, ", \"seconds\": %.6f", r->seconds);
	json_f_or_null(f, "goodput_gbps", bulk, r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e9 : 0);
	json_u64_or_null(f, "retransmits", sender, r->info.total_retrans);
	json_u64_or_null(f, "timeouts", sender && r->has_rto, r->info.total_rto);
	json_u64_or_null(f, "recoveries", false, 0); /* fast recoveries: nstat, per namespace */
	json_u64_or_null(f, "srtt_us", bulk && r->has_info, r->info.rtt);
	json_u64_or_null(f, "cwnd", sender, r->info.snd_cwnd);
	json_u64_or_null(f, "conns", !bulk, r->conns);
	json_f_or_null(f, "conns_per_s", o->mode == TB_CRR, r->seconds > 0 ? (double)r->conns / r->seconds : 0);
	json_f_or_null(f, "conn_p50_us", o->mode == TB_CRR, r->conn_p50_us);
	json_f_or_null(f, "conn_p99_us", o->mode == TB_CRR, r->conn_p99_us);
	json_u64_or_null(f, "failed", !bulk, r->failed);
	json_f_or_null(f, "time_to_all_s", o->mode == TB_CONCURRENT, r->time_to_all_s);
	fprintf(f, ", \"cpu_s\": %.3f, \"pattern_ok\": %s, \"ok\": %s}\n", cpu_seconds(),
		r->pattern_ok ? "true" : "false", ok ? "true" : "false");
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
	return 0;
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
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	long port = 0, v;
	int mode = -1, c;
	ipv4_addr a;

	*o = (struct tb_opts){ .duration_s = 2, .parallel = 1, .conns = 10000, .pace = 256, .timeout_ms = 0,
			       .label = "" };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *e;

		switch (c) {
		case 'M':
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					mode = i;
			if (mode < 0)
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
				return bad_usage("--duration wants seconds (0..86400), not", optarg);
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
		case 'l':
			o->label = optarg;
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
		default:
			return bad_usage("unknown option", NULL);
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
		o->timeout_ms = o->mode == TB_CONCURRENT ? 30000 : 1000;
	return 0;
}

int main(int argc, char **argv)
{
	struct tb_opts o;
	struct tb_result r;
	int err = parse_opts(argc, argv, &o);

	if (err)
		return err == 1 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof(r));
	switch (o.mode) {
	case TB_UPLOAD:
		err = run_upload(&o, &r);
		break;
	case TB_DOWNLOAD:
		err = run_download(&o, &r);
		break;
	case TB_CRR:
		err = run_crr(&o, &r);
		break;
	case TB_CONCURRENT:
		err = run_concurrent(&o, &r);
		break;
	}
	if (err)
		fprintf(stderr, "smolxdp-tcpbench: %s: %s\n", mode_names[o.mode], strerror(-err));
	if (o.json && write_json(&o, &r, err == 0) < 0 && !err)
		err = -EIO;
	if (!o.quiet && !err) {
		if (o.mode == TB_UPLOAD || o.mode == TB_DOWNLOAD)
			fprintf(stderr, "smolxdp-tcpbench: %s %llu bytes in %.3f s: %.3f Gbit/s, retransmits %u\n",
				mode_names[o.mode], (unsigned long long)r.bytes, r.seconds,
				(double)r.bytes * 8 / r.seconds / 1e9, r.info.total_retrans);
		else if (o.mode == TB_CRR)
			fprintf(stderr, "smolxdp-tcpbench: crr %llu connections in %.3f s: %.0f/s, p50 %.0f us, p99 %.0f us, "
				"%llu failed\n", (unsigned long long)r.conns, r.seconds, (double)r.conns / r.seconds,
				r.conn_p50_us, r.conn_p99_us, (unsigned long long)r.failed);
		else
			fprintf(stderr, "smolxdp-tcpbench: %llu connections echoed in %.3f s, %llu failed\n",
				(unsigned long long)r.conns, r.time_to_all_s, (unsigned long long)r.failed);
	}
	return err ? 1 : 0;
}
