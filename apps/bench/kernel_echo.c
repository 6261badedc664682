/* smolxdp-kernel-echo: the Linux-stack contender of the benchmarks. A UDP echo server on kernel
 * sockets with recvmmsg/sendmmsg, sleeping in recvmmsg (interrupt-driven) or spinning on it with
 * MSG_DONTWAIT, optionally with SO_BUSY_POLL, on one or more threads sharing the port (SO_REUSEPORT). */
#define _GNU_SOURCE
#include "app_parse.h"
#include "app_sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 256
#define MAX_THREADS 64
#define BUF_LEN 2048

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif

struct echo_opts {
	const char *ip;
	uint16_t port;
	bool spin;
	int busy_poll_us;
	unsigned batch;
	unsigned threads;
	int cpus[MAX_THREADS];
	unsigned ncpus;
};

struct echo_thread {
	pthread_t tid;
	const struct echo_opts *o;
	unsigned index;
	int fd;
	uint64_t received, sent, send_errors;
	int err;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_socket(const struct echo_opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	int one = 1, big = 4 << 20;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	/* Sleeping receivers wake up now and then to notice a stop request sent to another thread. */
	struct timeval tv = { 0, 200000 };
	if (inet_pton(AF_INET, o->ip, &a.sin_addr) != 1) {
		close(fd);
		return -EINVAL;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (o->busy_poll_us > 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &o->busy_poll_us, sizeof(o->busy_poll_us)) < 0)
			goto fail;
		/* Where the device has NAPI to poll, prefer polling it from here over its interrupts. */
		setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static void *echo_loop(void *arg)
{
	struct echo_thread *t = arg;
	const struct echo_opts *o = t->o;
	static __thread uint8_t bufs[MAX_BATCH][BUF_LEN];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_in peers[MAX_BATCH];
	int flags = o->spin ? MSG_DONTWAIT : MSG_WAITFORONE;

	if (t->index < o->ncpus) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(o->cpus[t->index], &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!stop) {
		for (unsigned i = 0; i < o->batch; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = BUF_LEN;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
		}
		int n = recvmmsg(t->fd, msgs, o->batch, flags, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			t->err = -errno;
			break;
		}
		t->received += (uint64_t)n;
		/* Echo each datagram as it came: same bytes, back to its sender. */
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		int done = 0;
		while (done < n) {
			int s = sendmmsg(t->fd, msgs + done, (unsigned)(n - done), 0);
			if (s <= 0) {
				/* A full socket buffer or an unreachable peer: drop the rest of this batch. */
				t->send_errors += (uint64_t)(n - done);
				break;
			}
			done += s;
		}
		t->sent += (uint64_t)done;
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: smolxdp-kernel-echo [options]\n"
		"UDP echo server on Linux sockets (the kernel contender of smolxdp-bench).\n"
		"  --ip ADDR        address to bind (default 0.0.0.0)\n"
		"  --port N         UDP port (default 6969)\n"
		"  --spin           spin on recvmmsg(MSG_DONTWAIT) instead of sleeping in it\n"
		"  --busy-poll US   set SO_BUSY_POLL (and SO_PREFER_BUSY_POLL) on the sockets\n"
		"  --batch N        datagrams per recvmmsg/sendmmsg (default 64, max %d)\n"
		"  --threads N      threads, one SO_REUSEPORT socket each (default 1)\n"
		"  --cpus A,B,...   pin thread i to the i-th CPU listed\n"
		"  -h, --help       this text\n"
		"  --version        the version\n"
		"Prints its counters on SIGINT/SIGTERM and exits.\n",
		MAX_BATCH);
}

static long parse_num(const char *opt, const char *s, long lo, long hi)
{
	long v;
	if (app_parse_long(s, lo, hi, &v) < 0) {
		exit(app_usage_error("smolxdp-kernel-echo", "--%s %s: must be a whole number, %ld..%ld", opt, s, lo, hi));
	}
	return v;
}

static void parse_cpus(struct echo_opts *o, char *list)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		if (o->ncpus == MAX_THREADS)
			break;
		o->cpus[o->ncpus++] = (int)parse_num("cpus", tok, 0, CPU_SETSIZE - 1);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, 0, 'i' },      { "port", required_argument, 0, 'p' },
		{ "spin", no_argument, 0, 's' },          { "busy-poll", required_argument, 0, 'b' },
		{ "batch", required_argument, 0, 'n' },   { "threads", required_argument, 0, 't' },
		{ "cpus", required_argument, 0, 'c' },    { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },       { 0, 0, 0, 0 },
	};
	struct echo_opts o = { .ip = "0.0.0.0", .port = 6969, .batch = 64, .threads = 1 };
	struct echo_thread th[MAX_THREADS];
	int c, rc = 0;
	opterr = 0; /* one line of our own instead of getopt's, which names the full path */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		struct in_addr ia;

		switch (c) {
		case 'i':
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				return app_usage_error("smolxdp-kernel-echo", "--ip %s: not an IPv4 address", optarg);
			o.ip = optarg;
			break;
		case 'p': o.port = (uint16_t)parse_num("port", optarg, 1, 65535); break;
		case 's': o.spin = true; break;
		case 'b': o.busy_poll_us = (int)parse_num("busy-poll", optarg, 0, 1000000); break;
		case 'n': o.batch = (unsigned)parse_num("batch", optarg, 1, MAX_BATCH); break;
		case 't': o.threads = (unsigned)parse_num("threads", optarg, 1, MAX_THREADS); break;
		case 'c': parse_cpus(&o, optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': app_print_version("smolxdp-kernel-echo"); return 0;
		default: return app_getopt_error("smolxdp-kernel-echo", c, argv);
		}
	}
	if (optind != argc)
		return app_usage_error("smolxdp-kernel-echo", "unexpected argument '%s'", argv[optind]);
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: a sleeping recvmmsg returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	memset(th, 0, sizeof(th));
	unsigned started = 0;
	for (unsigned i = 0; i < o.threads; i++) {
		th[i].o = &o;
		th[i].index = i;
		th[i].fd = open_socket(&o);
		if (th[i].fd < 0) {
			fprintf(stderr, "smolxdp-kernel-echo: cannot bind %s:%u: %s\n", o.ip, o.port, strerror(-th[i].fd));
			rc = 1;
			goto out;
		}
	}
	for (unsigned i = 0; i < o.threads; i++) {
		if (pthread_create(&th[i].tid, NULL, echo_loop, &th[i]) != 0) {
			fprintf(stderr, "smolxdp-kernel-echo: cannot start thread %u\n", i);
			stop = 1;
			rc = 1;
			break;
		}
		started++;
	}
	fprintf(stderr, "smolxdp-kernel-echo: echoing on %s:%u, %s%s, %u thread(s)\n", o.ip, o.port,
		o.spin ? "spinning" : "sleeping in recvmmsg", o.busy_poll_us ? " + SO_BUSY_POLL" : "", o.threads);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
out:
	for (unsigned i = 0; i < o.threads; i++) {
		if (th[i].fd > 0)
			close(th[i].fd);
		if (i < started) {
			fprintf(stderr, "smolxdp-kernel-echo: thread %u: received %llu sent %llu send_errors %llu%s%s\n", i,
				(unsigned long long)th[i].received, (unsigned long long)th[i].sent,
				(unsigned long long)th[i].send_errors, th[i].err ? " error: " : "",
				th[i].err ? strerror(-th[i].err) : "");
			if (th[i].err)
				rc = 1;
		}
	}
	return rc;
}
