/* smolxdp-kernel-tcp: smolxdp-server's four TCP services on Linux sockets, so that the TCP benchmark
 * measures the kernel serving exactly what the stack serves: PORT+0 sends "hello\n" and closes, +1
 * echoes, +2 discards until EOF, +3 sends byte i = i mod 256 until the peer closes. One thread, epoll
 * (level-triggered), non-blocking sockets; an echo connection stops reading while its reply cannot be
 * written, so a peer that does not read can hold at most one chunk here. */
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

enum ktcp_service { KTCP_HELLO, KTCP_ECHO, KTCP_DISCARD, KTCP_SOURCE, KTCP_SERVICES };
static const char *const service_names[KTCP_SERVICES] = { "hello", "echo", "discard", "source" };

#define KTCP_CHUNK 65536   /* bytes per recv/send call */
#define KTCP_BUDGET 16     /* calls per connection per wake-up, so no connection starves the rest */
#define KTCP_ACCEPTS 64    /* accepts per listening socket per wake-up */
#define KTCP_BACKLOG 4096  /* capped by net.core.somaxconn (4096 by default since Linux 5.4) */
#define KTCP_SPARE_FDS 16  /* descriptors above --max-conns: listeners, epoll, stdio, the reserve */

struct ktcp_conn {
	bool open;
	uint8_t service;
	uint32_t events;   /* what epoll watches now */
	uint64_t pos;      /* source: bytes sent so far, so the next byte is pos mod 256 */
	uint8_t *pending;  /* echo: bytes read but not yet written back (only while the peer's window is shut) */
	uint32_t pending_off, pending_len;
};

struct ktcp_stats {
	uint64_t accepted[KTCP_SERVICES];
	uint64_t echoed, discarded, sourced;
	uint64_t resets;  /* the peer reset or vanished (ECONNRESET, EPIPE, ETIMEDOUT): a download ends so */
	uint64_t refused; /* accepted and closed at once: --max-conns or the descriptor limit reached */
	uint64_t errors;  /* anything else: a failed accept, epoll or allocation */
	uint64_t open_now, open_peak;
};

struct ktcp {
	int ep;
	int lfd[KTCP_SERVICES];
	int reserve_fd; /* closed to accept-and-drop when descriptors run out (EMFILE), then reopened */
	struct ktcp_conn *conns; /* indexed by file descriptor */
	long nconns, max_conns;
	struct ktcp_stats st;
	uint8_t pattern[KTCP_CHUNK + 256];
	uint8_t scratch[KTCP_CHUNK];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
	"usage: smolxdp-kernel-tcp [--ip ADDR] [--port-base PORT] [--max-conns N] [--cc NAME]\n"
	"smolxdp-server's TCP services on Linux sockets, for the benchmark to compare against:\n"
	"PORT hello (sends \"hello\\n\", closes), PORT+1 echo, PORT+2 discard (reads until EOF, closes),\n"
	"PORT+3 source (sends byte i = i mod 256 until the peer closes).\n"
	"  --ip ADDR          address to listen on (default: any)\n"
	"  --port-base PORT   the first of the four ports (default 6969)\n"
	"  --max-conns N      connections open at once, more are accepted and closed (default 65536;\n"
	"                     raises RLIMIT_NOFILE to fit)\n"
	"  --cc NAME          the connections' congestion control (TCP_CONGESTION: cubic, bbr, reno;\n"
	"                     default: the namespace's)\n"
	"  -h, --help         this text\n"
	"  --version          the version\n"
	"On SIGINT or SIGTERM prints its counters on one line (stdout) and exits 0.\n";

static int bad_usage(const char *msg, const char *arg)
{
	return app_bad_usage("smolxdp-kernel-tcp", msg, arg);
}

static void conn_close(struct ktcp *k, int fd)
{
	struct ktcp_conn *c = &k->conns[fd];

	/* The descriptor is ours alone, so close() also takes it out of the epoll set. */
	close(fd);
	free(c->pending);
	memset(c, 0, sizeof(*c));
	k->st.open_now--;
}

static void conn_watch(struct ktcp *k, int fd, uint32_t events)
{
	struct ktcp_conn *c = &k->conns[fd];
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (c->events == events)
		return;
	if (epoll_ctl(k->ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		k->st.errors++;
		conn_close(k, fd);
		return;
	}
	c->events = events;
}

/* A connection's recv or send failed for good: the peer went away, or something else went wrong. */
static void count_failure(struct ktcp *k, int err)
{
	if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT)
		k->st.resets++;
	else
		k->st.errors++;
}

/* After a failed recv or send: false on EAGAIN (wait for epoll), true once the connection is gone (a
 * reset or another error closed it). */
static bool conn_failed(struct ktcp *k, int fd)
{
	if (errno == EAGAIN || errno == EINTR)
		return false;
	count_failure(k, errno);
	conn_close(k, fd);
	return true;
}

/* Writes back what is held; returns true when nothing is left (the connection may be gone: check open). */
static bool echo_flush(struct ktcp *k, int fd)
{
	struct ktcp_conn *c = &k->conns[fd];

	while (c->pending_len > 0) {
		ssize_t n = send(fd, c->pending + c->pending_off, c->pending_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (!conn_failed(k, fd))
				conn_watch(k, fd, EPOLLOUT); /* the window is shut: stop reading until it opens */
			return false;
		}
		c->pending_off += (uint32_t)n;
		c->pending_len -= (uint32_t)n;
		k->st.echoed += (uint64_t)n;
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_off = 0;
	return true;
}

/* Keeps what send() did not take, the only copy an echo connection ever holds. */
static bool echo_hold(struct ktcp *k, int fd, const uint8_t *rest, size_t len)
{
	struct ktcp_conn *c = &k->conns[fd];

	c->pending = malloc(len);
	if (!c->pending) {
		k->st.errors++;
		conn_close(k, fd);
		return false;
	}
	memcpy(c->pending, rest, len);
	c->pending_off = 0;
	c->pending_len = (uint32_t)len;
	conn_watch(k, fd, EPOLLOUT);
	return true;
}

static void serve_echo(struct ktcp *k, int fd)
{
	struct ktcp_conn *c = &k->conns[fd];

	if (c->pending_len > 0) {
		if (!echo_flush(k, fd) || !c->open)
			return;
		conn_watch(k, fd, EPOLLIN);
		if (!c->open)
			return;
	}
	for (int i = 0; i < KTCP_BUDGET; i++) {
		ssize_t n = recv(fd, k->scratch, sizeof(k->scratch), 0), w;

		if (n == 0) { /* EOF: everything read was written back already */
			conn_close(k, fd);
			return;
		}
		if (n < 0) {
			conn_failed(k, fd);
			return;
		}
		w = send(fd, k->scratch, (size_t)n, MSG_NOSIGNAL);
		if (w < 0) {
			if (conn_failed(k, fd))
				return;
			w = 0;
		}
		k->st.echoed += (uint64_t)w;
		if (w < n) {
			echo_hold(k, fd, k->scratch + w, (size_t)(n - w));
			return;
		}
	}
}

static void serve_discard(struct ktcp *k, int fd)
{
	for (int i = 0; i < KTCP_BUDGET; i++) {
		ssize_t n = recv(fd, k->scratch, sizeof(k->scratch), 0);

		if (n == 0) {
			conn_close(k, fd);
			return;
		}
		if (n < 0) {
			conn_failed(k, fd);
			return;
		}
		k->st.discarded += (uint64_t)n;
	}
}

static void serve_source(struct ktcp *k, int fd, uint32_t events)
{
	struct ktcp_conn *c = &k->conns[fd];

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* Whatever the peer says is read and ignored; its FIN or its reset ends the service. */
		for (int i = 0; i < KTCP_BUDGET; i++) {
			ssize_t n = recv(fd, k->scratch, sizeof(k->scratch), 0);

			if (n == 0) {
				conn_close(k, fd);
				return;
			}
			if (n < 0) {
				if (conn_failed(k, fd))
					return;
				break;
			}
		}
	}
	for (int i = 0; i < KTCP_BUDGET; i++) {
		ssize_t n = send(fd, k->pattern + c->pos % 256, KTCP_CHUNK, MSG_NOSIGNAL);

		if (n < 0) {
			conn_failed(k, fd);
			return;
		}
		c->pos += (uint64_t)n;
		k->st.sourced += (uint64_t)n;
	}
}

/* The descriptor limit is reached: a pending connection would keep the listener readable forever (a
 * busy loop), so give up the reserve descriptor, accept it, close it and take the reserve back. */
static void accept_drop(struct ktcp *k, int lfd)
{
	if (k->reserve_fd >= 0)
		close(k->reserve_fd);
	int fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		close(fd);
		k->st.refused++;
	}
	k->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void conn_start(struct ktcp *k, int fd, int service)
{
	struct ktcp_conn *c = &k->conns[fd];
	uint32_t events = service == KTCP_SOURCE ? EPOLLIN | EPOLLRDHUP | EPOLLOUT : EPOLLIN;
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		k->st.errors++;
		close(fd);
		return;
	}
	*c = (struct ktcp_conn){ .open = true, .service = (uint8_t)service, .events = events };
	if (++k->st.open_now > k->st.open_peak)
		k->st.open_peak = k->st.open_now;
}

static void accept_some(struct ktcp *k, int service)
{
	for (int i = 0; i < KTCP_ACCEPTS; i++) {
		int fd = accept4(k->lfd[service], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				accept_drop(k, k->lfd[service]);
			else if (errno == EAGAIN)
				return;
			else if (errno != EINTR && errno != ECONNABORTED)
				k->st.errors++;
			continue;
		}
		k->st.accepted[service]++;
		if (fd >= k->nconns || (long)k->st.open_now >= k->max_conns) {
			k->st.refused++;
			close(fd);
			continue;
		}
		if (service == KTCP_HELLO) {
			/* Six bytes always fit a new socket's buffer; the FIN follows them. A peer gone
			 * already (reset before we wrote) counts as a reset. */
			if (send(fd, "hello\n", 6, MSG_NOSIGNAL) < 0)
				count_failure(k, errno);
			close(fd);
			continue;
		}
		conn_start(k, fd, service);
	}
}

/* cc: TCP_CONGESTION for the listener, which accepted connections inherit; NULL: the default. */
static int listen_on(const struct sockaddr_in *base, uint16_t port, const char *cc)
{
	struct sockaddr_in sa = *base;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sa.sin_port = htons(port);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, KTCP_BACKLOG) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void serve_event(struct ktcp *k, const struct epoll_event *ev)
{
	int fd = ev->data.fd;

	if (fd < 0) {
		accept_some(k, -1 - fd);
		return;
	}
	if (!k->conns[fd].open)
		return;
	switch (k->conns[fd].service) {
	case KTCP_ECHO:
		serve_echo(k, fd);
		break;
	case KTCP_DISCARD:
		serve_discard(k, fd);
		break;
	case KTCP_SOURCE:
		serve_source(k, fd, ev->events);
		break;
	}
}

static int parse_opts(int argc, char **argv, struct sockaddr_in *sa, long *port_base, long *max_conns,
		      const char **cc)
{
	static const struct option lo[] = {
		{ "cc", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{ "port-base", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		ipv4_addr a;

		switch (c) {
		case 'i':
			if (app_parse_ipv4(optarg, &a) < 0)
				return bad_usage("--ip wants a dotted IPv4 address, not", optarg);
			sa->sin_addr.s_addr = htonl(a);
			break;
		case 'p':
			if (app_parse_long(optarg, 1, 65535 - 3, port_base) < 0)
				return bad_usage("--port-base wants 1..65532, not", optarg);
			break;
		case 'm':
			if (app_parse_long(optarg, 1, 1 << 22, max_conns) < 0)
				return bad_usage("--max-conns wants 1..4194304, not", optarg);
			break;
		case 'c':
			*cc = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			app_print_version("smolxdp-kernel-tcp");
			return 1;
		default: /* '?' or ':' */
			return app_getopt_error("smolxdp-kernel-tcp", c, argv);
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument", argv[optind]);
	return 0;
}

/* Descriptors, the connection table, the listeners. Returns 0, or -1 after a one-line error. */
static int ktcp_open(struct ktcp *k, const struct sockaddr_in *sa, long port_base, long max_conns, const char *cc)
{
	long limit = app_raise_nofile(max_conns + KTCP_SPARE_FDS);

	for (int i = 0; i < KTCP_SERVICES; i++)
		k->lfd[i] = -1;
	k->max_conns = max_conns;
	k->nconns = limit;
	if (limit < max_conns + KTCP_SPARE_FDS)
		fprintf(stderr, "smolxdp-kernel-tcp: the open-file limit is %ld: at most about %ld connections\n",
			limit, limit - KTCP_SPARE_FDS);
	for (size_t i = 0; i < sizeof(k->pattern); i++)
		k->pattern[i] = (uint8_t)i;
	k->conns = calloc((size_t)k->nconns, sizeof(*k->conns));
	k->ep = epoll_create1(EPOLL_CLOEXEC);
	k->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!k->conns || k->ep < 0 || k->reserve_fd < 0) {
		fprintf(stderr, "smolxdp-kernel-tcp: cannot start: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < KTCP_SERVICES; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = -1 - i };

		k->lfd[i] = listen_on(sa, (uint16_t)(port_base + i), cc);
		if (k->lfd[i] < 0) {
			fprintf(stderr, "smolxdp-kernel-tcp: cannot listen on port %ld: %s\n", port_base + i,
				strerror(-k->lfd[i]));
			return -1;
		}
		if (epoll_ctl(k->ep, EPOLL_CTL_ADD, k->lfd[i], &ev) < 0) {
			fprintf(stderr, "smolxdp-kernel-tcp: epoll: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void ktcp_close(struct ktcp *k)
{
	if (k->conns)
		for (long fd = 0; fd < k->nconns; fd++)
			if (k->conns[fd].open)
				conn_close(k, (int)fd);
	for (int i = 0; i < KTCP_SERVICES; i++)
		if (k->lfd[i] >= 0)
			close(k->lfd[i]);
	if (k->ep >= 0)
		close(k->ep);
	if (k->reserve_fd >= 0)
		close(k->reserve_fd);
	free(k->conns);
}

static void print_stats(const struct ktcp_stats *s)
{
	printf("smolxdp-kernel-tcp: connections");
	for (int i = 0; i < KTCP_SERVICES; i++)
		printf(" %s %llu", service_names[i], (unsigned long long)s->accepted[i]);
	printf("; bytes echoed %llu discarded %llu sourced %llu; resets %llu refused %llu errors %llu;"
	       " open at exit %llu, at most %llu\n",
	       (unsigned long long)s->echoed, (unsigned long long)s->discarded, (unsigned long long)s->sourced,
	       (unsigned long long)s->resets, (unsigned long long)s->refused, (unsigned long long)s->errors,
	       (unsigned long long)s->open_now, (unsigned long long)s->open_peak);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	long port_base = 6969, max_conns = 65536;
	static struct ktcp k;
	struct epoll_event evs[256];
	struct sigaction act = { .sa_handler = on_signal };
	sigset_t block, during_wait;
	const char *cc = NULL;
	int rc = parse_opts(argc, argv, &sa, &port_base, &max_conns, &cc);

	if (rc)
		return rc == 1 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	/* The signals are let in only inside epoll_pwait, so a stop request cannot slip in between the
	 * check of `stop` and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &during_wait);
	sigdelset(&during_wait, SIGINT);
	sigdelset(&during_wait, SIGTERM);
	k.ep = k.reserve_fd = -1;
	if (ktcp_open(&k, &sa, port_base, max_conns, cc) < 0) {
		ktcp_close(&k);
		return 1;
	}
	fprintf(stderr, "smolxdp-kernel-tcp: listening on %s ports %ld-%ld (hello, echo, discard, source)\n",
		inet_ntoa(sa.sin_addr), port_base, port_base + 3);
	while (!stop) {
		int n = epoll_pwait(k.ep, evs, 256, -1, &during_wait);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "smolxdp-kernel-tcp: epoll_wait: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++)
			serve_event(&k, &evs[i]);
	}
	print_stats(&k.st);
	ktcp_close(&k);
	return rc;
}
