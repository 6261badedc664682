/* smolxdp-kernel-tcp: smolxdp-server's four TCP services on Linux sockets, so that the TCP benchmark
 * measures the kernel serving exactly what the stack serves: PORT+0 sends "hello\n" and closes, +1
 * echoes, +2 discards until EOF, +3 sends byte i = i mod 256 until the peer closes. One thread, epoll,
 * non-blocking; an echo connection stops reading while its reply cannot be written. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app_parse.h"
#include "app_sys.h"

#define SMX_KTCP_MIN(a, b) ((a) < (b) ? (a) : (b))

enum ktcp_service { KTCP_HELLO, KTCP_ECHO, KTCP_DISCARD, KTCP_SOURCE, KTCP_SERVICES };
static const char *const service_names[KTCP_SERVICES] = { "hello", "echo", "discard", "source" };

#define KTCP_CHUNK 65536
#define KTCP_ECHO_BUF 16384

struct ktcp_conn {
	bool open;
	uint8_t service;
	uint64_t pos;       /* source: bytes sent so far */
	uint8_t *echo;      /* echo: bytes read, not yet written back (allocated on first use) */
	uint32_t echo_off, echo_len;
};

struct ktcp {
	int ep;
	int lfd[KTCP_SERVICES];
	struct ktcp_conn *conns; /* by file descriptor */
	int max_fd;
	uint8_t pattern[KTCP_CHUNK + 256];
	uint8_t scratch[KTCP_CHUNK];
	uint64_t accepted[KTCP_SERVICES];
	uint64_t echoed, discarded, sourced, errors, open_now;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
	"usage: smolxdp-kernel-tcp [--ip ADDR] [--port-base PORT] [--max-conns N]\n"
	"smolxdp-server's TCP services on Linux sockets, for the benchmark to compare against:\n"
	"PORT hello (sends \"hello\\n\", closes), PORT+1 echo, PORT+2 discard, PORT+3 source (byte i = i mod 256).\n"
	"  --ip ADDR          address to listen on (default: any)\n"
	"  --port-base PORT   the first of the four ports (default 6969)\n"
	"  --max-conns N      connections at once (default 65536; raises RLIMIT_NOFILE to fit)\n"
	"  -h, --help         this text\n"
	"Prints its counters on one line and exits 0 on SIGINT or SIGTERM.\n";

static int bad_usage(const char *msg, const char *arg)
{
	return app_bad_usage("smolxdp-kernel-tcp", msg, arg);
}

static void conn_close(struct ktcp *k, int fd)
{
	struct ktcp_conn *c = &k->conns[fd];

	epoll_ctl(k->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c->echo);
	memset(c, 0, sizeof(*c));
	k->open_now--;
}

static void conn_watch(struct ktcp *k, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	epoll_ctl(k->ep, EPOLL_CTL_MOD, fd, &ev);
}

/* A read or write failed: EAGAIN is no failure, anything else (a reset, EPIPE) ends the connection. */
static bool io_failed(struct ktcp *k, int fd, ssize_t n)
{
	if (n >= 0 || errno == EAGAIN || errno == EINTR)
		return false;
	k->errors++;
	conn_close(k, fd);
	return true;
}

static void serve_echo(struct ktcp *k, int fd)
{
	struct ktcp_conn *c = &k->conns[fd];
	ssize_t n;

	if (!c->echo && !(c->echo = malloc(KTCP_ECHO_BUF))) {
		k->errors++;
		conn_close(k, fd);
		return;
	}
	for (;;) {
		while (c->echo_len > 0) {
			n = send(fd, c->echo + c->echo_off, c->echo_len, MSG_NOSIGNAL);
			if (n < 0) {
				if (!io_failed(k, fd, n))
					conn_watch(k, fd, EPOLLOUT); /* stop reading until the reply drains */
				return;
			}
			c->echo_off += (uint32_t)n;
			c->echo_len -= (uint32_t)n;
			k->echoed += (uint64_t)n;
		}
		n = recv(fd, c->echo, KTCP_ECHO_BUF, 0);
		if (n == 0) {
			conn_close(k, fd);
			return;
		}
		if (n < 0) {
			if (!io_failed(k, fd, n))
				conn_watch(k, fd, EPOLLIN);
			return;
		}
		c->echo_off = 0;
		c->echo_len = (uint32_t)n;
	}
}

static void serve_discard(struct ktcp *k, int fd)
{
	for (;;) {
		ssize_t n = recv(fd, k->scratch, sizeof(k->scratch), 0);

		if (n == 0) {
			conn_close(k, fd);
			return;
		}
		if (n < 0) {
			io_failed(k, fd, n);
			return;
		}
		k->discarded += (uint64_t)n;
	}
}

static void serve_source(struct ktcp *k, int fd, uint32_t events)
{
	struct ktcp_conn *c = &k->conns[fd];

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* Whatever the peer says is read and ignored; its FIN (or reset) ends the service. */
		ssize_t n;

		while ((n = recv(fd, k->scratch, sizeof(k->scratch), 0)) > 0)
			;
		if (n == 0 || io_failed(k, fd, n)) {
			if (n == 0)
				conn_close(k, fd);
			return;
		}
	}
	for (;;) {
		ssize_t n = send(fd, k->pattern + c->pos % 256, KTCP_CHUNK, MSG_NOSIGNAL);

		if (n < 0) {
			io_failed(k, fd, n);
			return;
		}
		c->pos += (uint64_t)n;
		k->sourced += (uint64_t)n;
	}
}

static void accept_all(struct ktcp *k, int service)
{
	for (;;) {
		int fd = accept4(k->lfd[service], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .data.fd = 0 };

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				k->errors++;
			return;
		}
		if (fd >= k->max_fd) {
			k->errors++;
			close(fd);
			continue;
		}
		k->accepted[service]++;
		if (service == KTCP_HELLO) {
			send(fd, "hello\n", 6, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		k->conns[fd] = (struct ktcp_conn){ .open = true, .service = (uint8_t)service };
		k->open_now++;
		ev.data.fd = fd;
		ev.events = EPOLLIN | EPOLLRDHUP | (service == KTCP_SOURCE ? EPOLLOUT : 0);
		if (epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			k->errors++;
			close(fd);
			k->conns[fd].open = false;
			k->open_now--;
		}
	}
}

static int listen_on(const struct sockaddr_in *base, uint16_t port)
{
	struct sockaddr_in sa = *base;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sa.sin_port = htons(port);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "port-base", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	long port_base = 6969, max_conns = 65536;
	static struct ktcp k;
	struct epoll_event evs[256];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		ipv4_addr a;

		switch (c) {
		case 'i':
			if (app_parse_ipv4(optarg, &a) < 0)
				return bad_usage("--ip wants a dotted IPv4 address, not", optarg);
			sa.sin_addr.s_addr = htonl(a);
			break;
		case 'p':
			if (app_parse_long(optarg, 1, 65535 - 3, &port_base) < 0)
				return bad_usage("--port-base wants 1..65532, not", optarg);
			break;
		case 'm':
			if (app_parse_long(optarg, 1, 1 << 22, &max_conns) < 0)
				return bad_usage("--max-conns wants 1..4194304, not", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return bad_usage("unknown option", NULL);
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument", argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (int i = 0; i < (int)sizeof(k.pattern); i++)
		k.pattern[i] = (uint8_t)i;
	k.max_fd = (int)SMX_KTCP_MIN(app_raise_nofile(max_conns + 64), max_conns + 64);
	k.conns = calloc((size_t)k.max_fd, sizeof(*k.conns));
	k.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!k.conns || k.ep < 0) {
		fprintf(stderr, "smolxdp-kernel-tcp: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < KTCP_SERVICES; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = -1 - i };

		k.lfd[i] = listen_on(&sa, (uint16_t)(port_base + i));
		if (k.lfd[i] < 0) {
			fprintf(stderr, "smolxdp-kernel-tcp: cannot listen on port %ld: %s\n", port_base + i,
				strerror(-k.lfd[i]));
			return 1;
		}
		epoll_ctl(k.ep, EPOLL_CTL_ADD, k.lfd[i], &ev);
	}
	while (!stop) {
		int n = epoll_wait(k.ep, evs, 256, 200);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "smolxdp-kernel-tcp: epoll_wait: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd < 0) {
				accept_all(&k, -1 - fd);
				continue;
			}
			if (!k.conns[fd].open)
				continue;
			switch (k.conns[fd].service) {
			case KTCP_ECHO:
				serve_echo(&k, fd);
				break;
			case KTCP_DISCARD:
				serve_discard(&k, fd);
				break;
			case KTCP_SOURCE:
				serve_source(&k, fd, evs[i].events);
				break;
			}
		}
	}
	printf("smolxdp-kernel-tcp: connections");
	for (int i = 0; i < KTCP_SERVICES; i++)
		printf(" %s %llu", service_names[i], (unsigned long long)k.accepted[i]);
	printf("; echoed %llu bytes, discarded %llu, sourced %llu; errors %llu; %llu open at exit\n",
	       (unsigned long long)k.echoed, (unsigned long long)k.discarded, (unsigned long long)k.sourced,
	       (unsigned long long)k.errors, (unsigned long long)k.open_now);
	for (int fd = 0; fd < k.max_fd; fd++)
		if (k.conns[fd].open)
			conn_close(&k, fd);
	for (int i = 0; i < KTCP_SERVICES; i++)
		close(k.lfd[i]);
	close(k.ep);
	free(k.conns);
	return rc;
}
