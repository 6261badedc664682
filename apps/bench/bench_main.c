/* smolxdp-bench: a UDP and ICMP echo client for latency (ping-pong RTT percentiles) and rate (windowed
 * echo, several flows), over Linux sockets or over the smolxdp stack itself, reporting JSON. */
#define _GNU_SOURCE
#include "bench.h"
#include "bench_stack.h"
#include "app_json.h"
#include "app_parse.h"
#include "app_sys.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "smolxdp-bench"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: smolxdp-bench [options] SERVER_IP\n"
		"Echo client: measures round-trip times (ping-pong, one message in flight) or echo rate\n"
		"(a window of messages in flight over several flows) against a UDP echo server or ICMP echo.\n"
		"\n"
		"  --backend kernel|stack  Linux sockets (default), or the smolxdp stack over AF_XDP\n"
		"  --proto udp|icmp        UDP echo (default) or ICMP echo (ping)\n"
		"  --rate                  windowed echo rate instead of ping-pong\n"
		"  --wait spin|block       spin on receive (default) or sleep in the kernel until a reply\n"
		"  --port N                UDP server port (default 6969)\n"
		"  --size N                payload bytes: UDP payload or ICMP echo data (default 64, min %u)\n"
		"  --duration S            measured seconds (default 2)\n"
		"  --warmup S              seconds run first and not counted (default 0.2)\n"
		"  --flows N               flows: UDP source ports or ICMP identifiers (default 1)\n"
		"  --window N              rate: messages in flight in total (default 64)\n"
		"  --timeout-ms N          a message unanswered this long is lost (default 100)\n"
		"  --interval-us N         ping-pong: at least this long between sends (default 0)\n"
		"  --bind ADDR             kernel: source address\n"
		"  --src-port N            kernel: first UDP source port (flow i uses N+i)\n"
		"  --busy-poll US          kernel: SO_BUSY_POLL on the client sockets\n"
		"%s"
		"  --label TEXT            a name for this run, copied into the JSON\n"
		"  --json FILE             write the result as JSON to FILE ('-': stdout)\n"
		"  --cdf FILE              write the RTT distribution as 'rtt_us fraction' lines (gnuplot)\n"
		"  --quiet                 no summary on stderr\n"
		"  --backends              list the backends this build has, and exit\n"
		"  -h, --help              this text\n"
		"  --version               the version\n",
		BENCH_HDR_LEN, bench_stack_usage());
}

enum {
	OPT_BACKEND = 256, OPT_PROTO, OPT_RATE, OPT_WAIT, OPT_PORT, OPT_SIZE, OPT_DURATION, OPT_WARMUP,
	OPT_FLOWS, OPT_WINDOW, OPT_TIMEOUT, OPT_INTERVAL, OPT_BIND, OPT_SRC_PORT, OPT_BUSY_POLL, OPT_LABEL,
	OPT_JSON, OPT_CDF, OPT_QUIET, OPT_HELP, OPT_BACKENDS, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "backend", required_argument, 0, OPT_BACKEND }, { "proto", required_argument, 0, OPT_PROTO },
	{ "rate", no_argument, 0, OPT_RATE },             { "wait", required_argument, 0, OPT_WAIT },
	{ "port", required_argument, 0, OPT_PORT },       { "size", required_argument, 0, OPT_SIZE },
	{ "duration", required_argument, 0, OPT_DURATION }, { "warmup", required_argument, 0, OPT_WARMUP },
	{ "flows", required_argument, 0, OPT_FLOWS },     { "window", required_argument, 0, OPT_WINDOW },
	{ "timeout-ms", required_argument, 0, OPT_TIMEOUT }, { "interval-us", required_argument, 0, OPT_INTERVAL },
	{ "bind", required_argument, 0, OPT_BIND },       { "src-port", required_argument, 0, OPT_SRC_PORT },
	{ "busy-poll", required_argument, 0, OPT_BUSY_POLL }, { "label", required_argument, 0, OPT_LABEL },
	{ "json", required_argument, 0, OPT_JSON },       { "cdf", required_argument, 0, OPT_CDF },
	{ "quiet", no_argument, 0, OPT_QUIET },           { "help", no_argument, 0, OPT_HELP },
	{ "backends", no_argument, 0, OPT_BACKENDS },     { "version", no_argument, 0, OPT_VERSION },
	BENCH_STACK_LONG_OPTS
	{ 0, 0, 0, 0 },
};

/* Parses a whole number in [lo, hi]; exits with a one-line error otherwise. */
static long parse_long(const char *opt, const char *s, long lo, long hi)
{
	long v;
	if (app_parse_long(s, lo, hi, &v) < 0) {
		exit(app_usage_error(PROG, "--%s %s: must be a whole number, %ld..%ld", opt, s, lo, hi));
	}
	return v;
}

static double parse_seconds(const char *opt, const char *s)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || *e || !(v >= 0) || v > 86400) {
		exit(app_usage_error(PROG, "--%s %s: must be seconds, 0..86400", opt, s));
	}
	return v;
}

struct run_desc {
	const char *label, *backend, *server;
	uint16_t port;
};

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void write_json(FILE *out, const struct run_desc *d, const struct bench_opts *o,
		       const struct bench_result *r)
{
	const struct bench_hist *h = &r->hist;
	fprintf(out, "{\"tool\": \"smolxdp-bench\", \"label\": ");
	app_json_string(out, d->label);
	fprintf(out, ", \"backend\": ");
	app_json_string(out, d->backend);
	fprintf(out, ", \"server\": ");
	app_json_string(out, d->server);
	fprintf(out, ", \"port\": %u, \"proto\": \"%s\", \"mode\": \"%s\", \"wait\": \"%s\",\n", d->port,
		o->proto == BENCH_UDP ? "udp" : "icmp", o->rate ? "rate" : "pingpong",
		o->wait == BENCH_SPIN ? "spin" : "block");
	fprintf(out, " \"size\": %zu, \"flows\": %u, \"window\": %u, \"duration_s\": %.3f, \"warmup_s\": %.3f,\n",
		o->size, o->flows, o->rate ? o->window : 1, o->duration_s, o->warmup_s);
	fprintf(out,
		" \"sent\": %llu, \"received\": %llu, \"lost\": %llu, \"late\": %llu, \"foreign\": %llu,"
		" \"send_errors\": %llu, \"rate_per_s\": %.1f,\n",
		(unsigned long long)r->sent, (unsigned long long)r->received, (unsigned long long)r->lost,
		(unsigned long long)r->late, (unsigned long long)r->foreign, (unsigned long long)r->send_errors,
		r->elapsed_s > 0 ? (double)r->received / r->elapsed_s : 0.0);
	fprintf(out,
		" \"rtt_us\": {\"samples\": %llu, \"min\": %.3f, \"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f,"
		" \"p99\": %.3f, \"p99_9\": %.3f, \"max\": %.3f}}\n",
		(unsigned long long)h->count, h->count ? us(h->min) : 0.0,
		h->count ? h->sum / (double)h->count / 1000.0 : 0.0, us(bench_hist_quantile(h, 0.5)),
		us(bench_hist_quantile(h, 0.9)), us(bench_hist_quantile(h, 0.99)),
		us(bench_hist_quantile(h, 0.999)), us(h->max));
}

static int write_file(const char *path, const struct run_desc *d, const struct bench_opts *o,
		      const struct bench_result *r, bool cdf)
{
	FILE *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!out) {
		fprintf(stderr, "smolxdp-bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (cdf)
		bench_hist_write_cdf(&r->hist, out);
	else
		write_json(out, d, o, r);
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "smolxdp-bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.proto = BENCH_UDP, .wait = BENCH_SPIN, .flows = 1, .window = 64, .size = 64,
		.duration_s = 2, .warmup_s = 0.2, .timeout_ns = 100000000ull,
	};
	struct bench_kernel_opts ko = { .port = 6969 };
	struct bench_stack_opts so;
	bench_stack_opts_init(&so);
	const char *backend = "kernel", *label = "", *json = NULL, *cdf = NULL;
	bool quiet = false;
	int c, idx = 0;
	opterr = 0; /* one line of our own instead of getopt's, which names the full path */
	while ((c = getopt_long(argc, argv, ":h", long_opts, &idx)) != -1) {
		const char *why = NULL;
		switch (c) {
		case OPT_BACKEND: backend = optarg; break;
		case OPT_PROTO:
			if (strcmp(optarg, "udp") == 0)
				o.proto = BENCH_UDP;
			else if (strcmp(optarg, "icmp") == 0)
				o.proto = BENCH_ICMP;
			else
				return app_usage_error(PROG, "--proto %s: must be udp or icmp", optarg);
			break;
		case OPT_RATE: o.rate = true; break;
		case OPT_WAIT:
			if (strcmp(optarg, "spin") == 0)
				o.wait = BENCH_SPIN;
			else if (strcmp(optarg, "block") == 0)
				o.wait = BENCH_BLOCK;
			else
				return app_usage_error(PROG, "--wait %s: must be spin or block", optarg);
			break;
		case OPT_PORT: ko.port = (uint16_t)parse_long("port", optarg, 1, 65535); break;
		case OPT_SIZE: o.size = (size_t)parse_long("size", optarg, BENCH_HDR_LEN, BENCH_MAX_PAYLOAD); break;
		case OPT_DURATION: o.duration_s = parse_seconds("duration", optarg); break;
		case OPT_WARMUP: o.warmup_s = parse_seconds("warmup", optarg); break;
		case OPT_FLOWS: o.flows = (unsigned)parse_long("flows", optarg, 1, 1024); break;
		case OPT_WINDOW: o.window = (unsigned)parse_long("window", optarg, 1, 1 << 20); break;
		case OPT_TIMEOUT: o.timeout_ns = (uint64_t)parse_long("timeout-ms", optarg, 1, 60000) * 1000000ull; break;
		case OPT_INTERVAL: o.interval_ns = (uint64_t)parse_long("interval-us", optarg, 0, 60000000) * 1000ull; break;
		case OPT_BIND: ko.bind_ip = optarg; break;
		case OPT_SRC_PORT: ko.src_port = (uint16_t)parse_long("src-port", optarg, 1, 65535); break;
		case OPT_BUSY_POLL: ko.busy_poll_us = (int)parse_long("busy-poll", optarg, 0, 1000000); break;
		case OPT_LABEL: label = optarg; break;
		case OPT_JSON: json = optarg; break;
		case OPT_CDF: cdf = optarg; break;
		case OPT_QUIET: quiet = true; break;
		case 'h':
		case OPT_HELP: usage(stdout); return 0;
		case OPT_VERSION: app_print_version(PROG); return 0;
		case '?':
		case ':': return app_getopt_error(PROG, c, argv);
		case OPT_BACKENDS: printf("kernel%s\n", bench_stack_available() ? " stack" : ""); return 0;
		default:
			if (bench_stack_parse_opt(&so, c, optarg, &why) == 0)
				break;
			if (!why)
				return app_usage_error(PROG, "unexpected option");
			if (optarg)
				return app_usage_error(PROG, "--%s %s: %s", long_opts[idx].name, optarg, why);
			return app_usage_error(PROG, "%s", why);
		}
	}
	if (optind >= argc)
		return app_usage_error(PROG, "give the server's address (smolxdp-bench [options] SERVER_IP)");
	if (optind < argc - 1)
		return app_usage_error(PROG, "one server only: '%s' is extra", argv[optind + 1]);
	if (o.rate && o.window < o.flows)
		return app_usage_error(PROG, "--window (%u) must be at least --flows (%u)", o.window, o.flows);
	if (strcmp(backend, "kernel") != 0 && strcmp(backend, "stack") != 0)
		return app_usage_error(PROG, "--backend %s: must be kernel or stack", backend);
	if (strcmp(backend, "stack") == 0 && !so.ifname)
		return app_usage_error(PROG, "--backend stack needs --iface IF");
	ko.server = argv[optind];

	struct bench_transport t = { 0 };
	int err;
	if (strcmp(backend, "kernel") == 0) {
		err = bench_kernel_open(&t, &o, &ko);
	} else if (strcmp(backend, "stack") == 0) {
		so.server = argv[optind];
		so.port = ko.port;
		err = bench_stack_open(&t, &o, &so);
	} else {
		return app_usage_error(PROG, "--backend %s: must be kernel or stack", backend);
	}
	if (err < 0) {
		fprintf(stderr, "smolxdp-bench: cannot open the %s transport to %s: %s\n", backend, argv[optind],
			strerror(-err));
		return 1;
	}

	struct bench_result *r = malloc(sizeof(*r));
	if (!r) {
		t.close(t.ctx);
		return 1;
	}
	err = o.rate ? bench_run_rate(&t, &o, r) : bench_run_pingpong(&t, &o, r);
	t.close(t.ctx);
	if (err < 0) {
		fprintf(stderr, "smolxdp-bench: %s\n", strerror(-err));
		free(r);
		return 1;
	}
	struct run_desc d = { label, backend, argv[optind], o.proto == BENCH_UDP ? ko.port : 0 };
	if (!quiet) {
		const struct bench_hist *h = &r->hist;
		fprintf(stderr,
			"%s %s %s %s: sent %llu received %llu lost %llu, %.0f/s; RTT us p50 %.2f p90 %.2f p99 %.2f "
			"p99.9 %.2f max %.2f\n",
			backend, o.proto == BENCH_UDP ? "udp" : "icmp", o.rate ? "rate" : "pingpong",
			o.wait == BENCH_SPIN ? "spin" : "block", (unsigned long long)r->sent,
			(unsigned long long)r->received, (unsigned long long)r->lost,
			(double)r->received / r->elapsed_s, us(bench_hist_quantile(h, 0.5)),
			us(bench_hist_quantile(h, 0.9)), us(bench_hist_quantile(h, 0.99)),
			us(bench_hist_quantile(h, 0.999)), us(h->max));
	}
	int rc = 0;
	if (json && write_file(json, &d, &o, r, false) < 0)
		rc = 1;
	if (cdf && write_file(cdf, &d, &o, r, true) < 0)
		rc = 1;
	free(r);
	return rc;
}
