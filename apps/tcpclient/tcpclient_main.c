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
#include <time.h>

#include "app_parse.h"
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
};

struct cli {
	struct xsk_prog *prog;
	struct xsk_dev *xd;
	struct iface *iface;
	void *iface_mem;
	struct tcp_stack *tcp;
	void *tcp_mem;
	struct tcp_conn *c;
	uint64_t sent, recvd;
	uint64_t bad_at; /* first wrong byte + 1, 0: none */
	bool shut, eof;
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
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->mac = (struct eth_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	o->timeout_secs = 120;
	o->rto_min_ms = 200;
	o->bind_mode = XSK_BIND_AUTO;
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
	k->iface = iface_init(k->iface_mem, n, &ic, xsk_dev_as_dev(k->xd));
	if (!k->iface)
		return -EINVAL;
	tcp_config_default(&tc);
	tc.max_conns = 4;
	tc.max_listeners = 1;
	tc.rx_buf_size = 65535;
	tc.tx_buf_size = 65536;
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

	while (k->sent < o->send_bytes && (n = tcp_send_buf(k->tcp, k->c, &out)) > 0) {
		if (n > o->send_bytes - k->sent)
			n = (size_t)(o->send_bytes - k->sent);
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(k->sent + i);
		tcp_send_commit(k->tcp, k->c, n);
		k->sent += n;
	}
	if (k->sent == o->send_bytes && !k->shut && tcp_shutdown(k->tcp, k->c) == TCP_OK)
		k->shut = true;
	while ((n = tcp_recv_peek(k->tcp, k->c, &in)) > 0) {
		for (size_t i = 0; i < n && !k->bad_at; i++)
			if (in[i] != (uint8_t)(k->recvd + i))
				k->bad_at = k->recvd + i + 1;
		k->recvd += n;
		tcp_recv_consume(k->tcp, k->c, n);
	}
	if (tcp_eof(k->c))
		k->eof = true;
}

static bool cli_done(const struct cli *k)
{
	enum tcp_state st = tcp_conn_state(k->c);

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
	k->c = tcp_connect(k->tcp, &co, &err);
	if (!k->c) {
		fprintf(stderr, "smolxdp-tcpclient: connect: error %d\n", err);
		return -EINVAL;
	}
	while (!stop && !cli_done(k)) {
		struct tcp_event ev;
		bool active;

		if (tcp_conn_state(k->c) == TCP_CLOSED && tcp_conn_error(k->c) != TCP_ERROR_NONE) {
			fprintf(stderr, "smolxdp-tcpclient: %s\n", tcp_error_name(tcp_conn_error(k->c)));
			return -ECONNRESET;
		}
		if (tcp_conn_state(k->c) == TCP_CLOSED && !cli_done(k)) {
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
		if (active)
			continue;
		smx_instant delay = iface_poll_delay(k->iface, now_us());
		int ms = delay == SMX_INSTANT_NEVER || delay > 100000 ? 100 : (int)((delay + 999) / 1000);
		if (ms > 0 && poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return -errno;
	}
	return stop ? -EINTR : 0;
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
	if (err == 0 && (k.bad_at || k.recvd != o.expect_bytes || k.sent != o.send_bytes)) {
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
