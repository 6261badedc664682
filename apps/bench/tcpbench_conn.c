/* smolxdp-tcpbench's connection tests against the echo service: crr (lanes of short connections, each
 * connect, a 100-byte request, its 100-byte echo, close) and concurrent (many connections open at
 * once, a bounded number of handshakes in flight, each echoing one byte). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app_sys.h"
#include "tcpbench.h"

/* ---- crr ---- */

enum crr_outcome { CRR_OK, CRR_FAILED, CRR_MISMATCH, CRR_NO_PORT };

struct crr_lane {
	const struct tb_opts *o;
	double until;
	uint32_t *samples; /* microseconds per completed connection */
	size_t n, cap;
	uint64_t failed, mismatched, no_ports;
	int err;
};

/* One connection, all of it within the timeout. */
static enum crr_outcome crr_one(const struct tb_opts *o, const uint8_t *req)
{
	double deadline = tb_now() + (double)o->timeout_ms / 1000;
	uint8_t rep[TB_REQ];
	size_t got = 0;
	enum crr_outcome out = CRR_FAILED;
	int fd = tb_connect_start(o);

	if (fd < 0)
		return fd == -EADDRNOTAVAIL ? CRR_NO_PORT : CRR_FAILED;
	/* Writable means connected, or failed: then send() says so. */
	if (tb_wait(fd, POLLOUT, deadline) < 0 || send(fd, req, TB_REQ, MSG_NOSIGNAL) != TB_REQ)
		goto out;
	while (got < TB_REQ) {
		ssize_t n = recv(fd, rep + got, TB_REQ - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR) || tb_wait(fd, POLLIN, deadline) < 0)
			goto out;
	}
	out = memcmp(rep, req, TB_REQ) == 0 ? CRR_OK : CRR_MISMATCH;
out:
	close(fd);
	return out;
}

static int lane_record(struct crr_lane *l, double us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 65536;
		uint32_t *s = realloc(l->samples, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->samples = s;
		l->cap = cap;
	}
	l->samples[l->n++] = us > 4e9 ? UINT32_MAX : (uint32_t)us;
	return 0;
}

static void *crr_lane_run(void *arg)
{
	struct crr_lane *l = arg;
	uint8_t req[TB_REQ];

	for (int i = 0; i < TB_REQ; i++)
		req[i] = (uint8_t)i;
	while (tb_now() < l->until) {
		double t = tb_now();

		switch (crr_one(l->o, req)) {
		case CRR_OK:
			if ((l->err = lane_record(l, (tb_now() - t) * 1e6)) < 0)
				return NULL;
			break;
		case CRR_MISMATCH:
			l->mismatched++;
			l->failed++;
			break;
		case CRR_NO_PORT:
			/* Every local port is taken (TIME-WAIT): wait a little rather than spin. */
			l->no_ports++;
			l->failed++;
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
			break;
		case CRR_FAILED:
			l->failed++;
			break;
		}
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of sorted samples. */
static double quantile(const uint32_t *s, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	return s[rank ? rank - 1 : 0];
}

static int crr_merge(struct crr_lane *lanes, long nlanes, struct tb_result *r)
{
	size_t total = 0, k = 0;
	uint32_t *all;

	for (long i = 0; i < nlanes; i++) {
		r->conns += lanes[i].n;
		r->failed += lanes[i].failed;
		r->mismatched += lanes[i].mismatched;
		r->no_ports += lanes[i].no_ports;
		total += lanes[i].n;
	}
	if (!total)
		return 0;
	all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (long i = 0; i < nlanes; i++) {
		memcpy(all + k, lanes[i].samples, lanes[i].n * sizeof(*all));
		k += lanes[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	r->conn_p50_us = quantile(all, total, 0.5);
	r->conn_p99_us = quantile(all, total, 0.99);
	free(all);
	return 0;
}

int tb_run_crr(const struct tb_opts *o, struct tb_result *r)
{
	struct crr_lane *lanes = calloc((size_t)o->parallel, sizeof(*lanes));
	pthread_t *th = calloc((size_t)o->parallel, sizeof(*th));
	long started = 0;
	double t0 = tb_now();
	int err = 0;

	if (!lanes || !th) {
		free(lanes);
		free(th);
		return -ENOMEM;
	}
	for (; started < o->parallel; started++) {
		lanes[started] = (struct crr_lane){ .o = o, .until = t0 + o->duration_s };
		if (pthread_create(&th[started], NULL, crr_lane_run, &lanes[started]) != 0) {
			err = -EAGAIN; /* the lanes already running finish their duration first */
			break;
		}
	}
	for (long i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (lanes[i].err && !err)
			err = lanes[i].err;
	}
	r->seconds = tb_now() - t0;
	if (!err)
		err = crr_merge(lanes, started, r);
	for (long i = 0; i < started; i++)
		free(lanes[i].samples);
	free(lanes);
	free(th);
	r->pattern_ok = r->mismatched == 0;
	if (!err && !r->pattern_ok)
		err = -EBADMSG;
	if (!err && r->conns == 0)
		err = -ENOTCONN;
	return err;
}

/* ---- concurrent ---- */

enum conc_state { CONC_CONNECTING, CONC_WAITING, CONC_DONE };

struct conc {
	const struct tb_opts *o;
	struct tb_result *r;
	int ep;
	int *fds;
	uint8_t *state;
	double *started;
	long next;        /* the next connection to start */
	long oldest;      /* every connection before it is done */
	long connecting;  /* handshakes in progress */
	long done;        /* echoed */
	double last_echo;
};

double tb_concurrent_limit_s(const struct tb_opts *o)
{
	/* Room for every connection's timeout and 1 ms per connection on top. */
	return (double)o->timeout_ms / 1000 + (double)o->conns / 1000;
}

static void conc_end(struct conc *c, long id, bool echoed)
{
	if (c->state[id] == CONC_CONNECTING)
		c->connecting--;
	c->state[id] = CONC_DONE;
	/* Out of the epoll set, but left open: all of them close together at the end. */
	epoll_ctl(c->ep, EPOLL_CTL_DEL, c->fds[id], NULL);
	if (echoed) {
		c->done++;
		c->last_echo = tb_now();
	} else {
		c->r->failed++;
	}
}

static void conc_start_some(struct conc *c)
{
	while (c->next < c->o->conns && c->connecting < c->o->pace) {
		long id = c->next++;
		int fd = tb_connect_start(c->o);
		struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)id };

		c->started[id] = tb_now();
		c->state[id] = CONC_DONE;
		if (fd < 0) {
			c->r->failed++;
			if (fd == -EADDRNOTAVAIL)
				c->r->no_ports++;
			continue;
		}
		c->fds[id] = fd;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			c->r->failed++;
			continue;
		}
		c->state[id] = CONC_CONNECTING;
		c->connecting++;
	}
}

static void conc_event(struct conc *c, const struct epoll_event *ev)
{
	long id = (long)ev->data.u64;
	int fd = c->fds[id];
	uint8_t b = 0x5a;

	if (c->state[id] == CONC_CONNECTING) {
		/* Writable means connected; refused or reset shows as an error or a failing send. */
		if ((ev->events & (EPOLLERR | EPOLLHUP)) || send(fd, &b, 1, MSG_NOSIGNAL) != 1) {
			conc_end(c, id, false);
			return;
		}
		/* Connected and the byte sent: the next handshake may start. */
		struct epoll_event in = { .events = EPOLLIN, .data.u64 = (uint64_t)id };
		c->state[id] = CONC_WAITING;
		c->connecting--;
		if (epoll_ctl(c->ep, EPOLL_CTL_MOD, fd, &in) < 0)
			conc_end(c, id, false);
	} else if (c->state[id] == CONC_WAITING) {
		ssize_t n = recv(fd, &b, 1, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 1 && b != 0x5a)
			c->r->mismatched++;
		conc_end(c, id, n == 1 && b == 0x5a);
	}
}

/* Connections start in order with the same timeout, so the ones overdue are a prefix of those left. */
static void conc_expire(struct conc *c, double now)
{
	double timeout = (double)c->o->timeout_ms / 1000;

	for (; c->oldest < c->next; c->oldest++) {
		if (c->state[c->oldest] == CONC_DONE)
			continue;
		if (now - c->started[c->oldest] < timeout)
			break;
		conc_end(c, c->oldest, false);
	}
}

int tb_run_concurrent(const struct tb_opts *o, struct tb_result *r)
{
	struct conc c = { .o = o, .r = r };
	struct epoll_event evs[512];
	long need = o->conns + 64;
	double t0, limit;
	int err = 0;

	if (app_raise_nofile(need) < need) {
		fprintf(stderr, "smolxdp-tcpbench: cannot raise the open-file limit to %ld\n", need);
		return -EMFILE;
	}
	c.fds = malloc((size_t)o->conns * sizeof(*c.fds));
	c.state = calloc((size_t)o->conns, sizeof(*c.state));
	c.started = calloc((size_t)o->conns, sizeof(*c.started));
	c.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!c.fds || !c.state || !c.started || c.ep < 0) {
		err = -ENOMEM;
		goto out;
	}
	for (long i = 0; i < o->conns; i++)
		c.fds[i] = -1;
	t0 = tb_now();
	limit = t0 + tb_concurrent_limit_s(o);
	c.last_echo = t0;
	while (c.done + (long)r->failed < o->conns) {
		double now = tb_now();

		if (now >= limit)
			break;
		conc_start_some(&c);
		int n = epoll_wait(c.ep, evs, 512, 10);
		for (int i = 0; i < n; i++)
			conc_event(&c, &evs[i]);
		conc_expire(&c, tb_now());
	}
	r->time_to_all_s = c.last_echo - t0;
	r->seconds = tb_now() - t0;
	r->conns = (uint64_t)c.done;
	r->failed = (uint64_t)(o->conns - c.done); /* including any the time limit cut short */
	r->pattern_ok = r->mismatched == 0;
	if (!r->pattern_ok)
		err = -EBADMSG;
	else if (c.done < o->conns)
		err = -ENOTCONN;
	if (err == 0 && o->hold_ms) {
		struct timespec hold = { .tv_sec = o->hold_ms / 1000, .tv_nsec = o->hold_ms % 1000 * 1000000 };

		while (nanosleep(&hold, &hold) < 0 && errno == EINTR)
			;
	}
out:
	if (c.fds)
		for (long i = 0; i < o->conns; i++)
			if (c.fds[i] >= 0)
				close(c.fds[i]);
	if (c.ep >= 0)
		close(c.ep);
	free(c.fds);
	free(c.state);
	free(c.started);
	return err;
}
