/* A TCP echo server on the stack over AF_XDP, driven by the stack's events: the loop polls the
 * interface, then takes TCP events (a listener has connections to accept, a connection has data, room
 * to send, or has ended) and never scans connections. Answers ARP and ping for ADDR on IFACE (RX
 * queue 0); stops on SIGINT or SIGTERM.
 *
 *   tcp_echo IFACE ADDR/PREFIX [PORT]      (as root; PORT defaults to 7)
 *
 * Build: cc tcp_echo.c $(pkg-config --cflags --libs smolxdp) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <smolxdp/iface.h>
#include <smolxdp/tcp.h>
#include <smolxdp/xsk_dev.h>

#define MAX_CONNS 64
#define BUF_SIZE (16 * 1024) /* per connection and direction: memory is 2 x BUF_SIZE x MAX_CONNS */

static volatile sig_atomic_t stop;
static uint64_t accepted, ended, echoed_bytes;

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

static int parse_cidr(const char *s, struct iface_cidr *out)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	char *end;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	long prefix = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || *end || end == slash + 1 || prefix < 1 || prefix > 32)
		return -1;
	out->addr = ntohl(in.s_addr);
	out->prefix_len = (uint8_t)prefix;
	return 0;
}

static int get_mac(const char *ifname, struct eth_addr *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac->b, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Echo what has arrived, as far as the send buffer takes it. tcp_recv_peek lends the received bytes
 * where they lie in the connection's buffer; they stay until consumed. Whatever does not fit now
 * waits for the WRITABLE event. Events are edge-triggered: read until there is nothing left. */
static void serve(struct tcp_stack *s, struct tcp_conn *c)
{
	const uint8_t *in;
	size_t n;

	while ((n = tcp_recv_peek(s, c, &in)) > 0) {
		size_t sent = tcp_send(s, c, in, n);
		tcp_recv_consume(s, c, sent);
		echoed_bytes += sent;
		if (sent < n)
			return;
	}
	/* The peer has closed its side (we close ours after the echoed bytes), or the connection is
	 * over (reset, timed out): tcp_close hands the connection back to the stack, which finishes. */
	if (tcp_eof(c) || tcp_conn_state(c) == TCP_CLOSED) {
		if (tcp_conn_error(c) != TCP_ERROR_NONE)
			fprintf(stderr, "tcp_echo: connection ended: %s\n", tcp_error_name(tcp_conn_error(c)));
		tcp_close(s, c);
		ended++;
	}
}

/* Returns whether there was any event. */
static bool handle_events(struct tcp_stack *s)
{
	struct tcp_event ev;
	bool any = false;

	while (tcp_next_event(s, &ev)) {
		any = true;
		if (ev.listener) {
			struct tcp_conn *c;
			while ((c = tcp_accept(s, ev.listener)) != NULL) {
				accepted++;
				serve(s, c); /* data may have come with the handshake's last ACK */
			}
		} else {
			serve(s, ev.conn);
		}
	}
	return any;
}

int main(int argc, char **argv)
{
	struct iface_cidr ip;
	struct eth_addr mac;
	struct xsk_dev *xd = NULL;
	struct iface *ifc = NULL;
	struct tcp_stack *tcp = NULL;
	void *iface_mem = NULL, *tcp_mem = NULL;
	int err, rc = 1;

	if (argc < 3 || argc > 4 || parse_cidr(argv[2], &ip) < 0) {
		fprintf(stderr, "usage: tcp_echo IFACE ADDR/PREFIX [PORT]\n");
		return 2;
	}
	const char *ifname = argv[1];
	long port = argc > 3 ? strtol(argv[3], NULL, 10) : 7;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "tcp_echo: PORT must be 1..65535\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	err = get_mac(ifname, &mac);
	if (err < 0) {
		fprintf(stderr, "tcp_echo: %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	struct xsk_dev_opts xo = {.log = xsk_log_stderr};
	err = xsk_dev_open(ifname, 0, &xo, &xd);
	if (err < 0) {
		fprintf(stderr, "tcp_echo: %s\n", xsk_last_error());
		return 1;
	}
	err = xsk_prog_add_addr(xsk_dev_prog(xd), ip.addr);
	if (err < 0) {
		fprintf(stderr, "tcp_echo: cannot steer the address: %s\n", strerror(-err));
		goto out;
	}
	struct iface_config cfg = {.mac = mac, .addrs = {ip}, .addr_count = 1, .seed = now_us()};
	size_t n = iface_mem_size(&cfg);
	iface_mem = malloc(n);
	ifc = iface_mem ? iface_init(iface_mem, n, &cfg, xsk_dev_as_dev(xd)) : NULL;
	if (!ifc) {
		fprintf(stderr, "tcp_echo: cannot set up the interface\n");
		goto out;
	}

	/* TCP: every connection slot and buffer is in one block sized from the config. The secret keys
	 * initial sequence numbers and ephemeral ports (RFC 6528, RFC 6056): make it unpredictable. */
	struct tcp_config tc;
	tcp_config_default(&tc);
	tc.max_conns = MAX_CONNS;
	tc.max_listeners = 1;
	tc.rx_buf_size = BUF_SIZE;
	tc.tx_buf_size = BUF_SIZE;
	if (getrandom(tc.secret, sizeof(tc.secret), 0) != (ssize_t)sizeof(tc.secret)) {
		perror("tcp_echo: getrandom");
		goto out;
	}
	n = tcp_mem_size(&tc);
	tcp_mem = n ? malloc(n) : NULL;
	tcp = tcp_mem ? tcp_init(tcp_mem, n, &tc) : NULL;
	enum tcp_result terr = TCP_ERR_INVALID;
	if (!tcp || !tcp_listen(tcp, 0, (uint16_t)port, MAX_CONNS, NULL, &terr)) {
		fprintf(stderr, "tcp_echo: cannot set up TCP (error %d)\n", (int)terr);
		goto out;
	}
	/* Plug TCP into the interface: it now gets the TCP segments and is asked for its output. */
	struct l4_handler h;
	tcp_handler(tcp, &h);
	iface_set_l4_handler(ifc, IP_PROTO_TCP, &h);
	printf("tcp_echo: %s on %s, echoing TCP port %ld (%zu KB for TCP); stop with Ctrl-C\n", argv[2], ifname,
	       port, n / 1024);
	fflush(stdout);

	struct pollfd pfd = {.fd = xsk_dev_fd(xd), .events = POLLIN};
	while (!stop) {
		bool active = iface_poll(ifc, now_us()); /* receive, run timers, send what is due */
		bool events = handle_events(tcp);
		if (events)
			iface_flush(ifc, now_us()); /* what the app queued leaves now, not after the next receive */
		if (active || events)
			continue;
		/* Idle: sleep until a frame arrives or the next TCP or ARP timer (at most a second, so a
		 * signal landing just before poll() is not missed for long). */
		smx_instant delay = iface_poll_delay(ifc, now_us());
		int timeout_ms = delay < 1000000 ? (int)((delay + 999) / 1000) : 1000;
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
			perror("tcp_echo: poll");
			goto out;
		}
	}
	rc = 0;

	const struct tcp_stats *st = tcp_stack_stats(tcp);
	printf("tcp_echo: %llu connections accepted, %llu ended, %llu bytes echoed; segments in %llu, out %llu, "
	       "retransmits %llu\n", (unsigned long long)accepted, (unsigned long long)ended,
	       (unsigned long long)echoed_bytes, (unsigned long long)st->rx_segs, (unsigned long long)st->tx_segs,
	       (unsigned long long)st->retransmits);
out:
	if (ifc) {
		iface_set_l4_handler(ifc, IP_PROTO_TCP, NULL);
		iface_release(ifc);
	}
	xsk_dev_close(xd);
	free(tcp_mem);
	free(iface_mem);
	return rc;
}
