/* The Linux-socket transport of smolxdp-bench: one connected UDP socket per flow (sendmmsg/recvmmsg),
 * or ICMP echo (RFC 792) over a ping socket (SOCK_DGRAM, IPPROTO_ICMP) per flow, falling back to one raw
 * socket when the ping-socket group range forbids it. This is the "Linux client" of the comparisons. */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KBATCH 64
#define ICMP_HDR 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
/* Raw ICMP echo identifiers: flow i uses RAW_ID_BASE + i (from the pid, so two clients differ). */

struct kctx {
	enum bench_proto proto;
	bool raw;           /* ICMP over one raw socket */
	unsigned nfds;
	unsigned flows;
	int *fds;
	struct pollfd *pfds;
	unsigned next_fd;   /* round-robin start for receive */
	uint16_t raw_id_base;
	size_t buf_len;
	uint8_t *bufs;      /* KBATCH buffers of buf_len */
	struct mmsghdr msgs[KBATCH]; /* send */
	struct iovec iov[KBATCH];
	uint8_t *rx_bufs;            /* KBATCH buffers of buf_len, set up once for recvmmsg */
	struct mmsghdr rx_msgs[KBATCH];
	struct iovec rx_iov[KBATCH];
	struct sockaddr_in server;
	uint64_t *foreign;
};

static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds message i of a batch in buffer i; returns the bytes to send. */
static size_t build(struct kctx *k, unsigned flow, unsigned i, const struct bench_msg_hdr *hdr, size_t len)
{
	uint8_t *b = k->bufs + (size_t)i * k->buf_len;
	if (k->proto == BENCH_UDP) {
		bench_msg_fill(b, len, hdr);
		return len;
	}
	uint16_t id = k->raw ? (uint16_t)(k->raw_id_base + flow) : 0; /* ping sockets set their own */
	b[0] = ICMP_ECHO_REQUEST;
	b[1] = 0;
	b[2] = b[3] = 0;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(hdr->seq >> 8);
	b[7] = (uint8_t)hdr->seq;
	bench_msg_fill(b + ICMP_HDR, len, hdr);
	uint16_t c = inet_csum(b, ICMP_HDR + len);
	b[2] = (uint8_t)(c >> 8);
	b[3] = (uint8_t)c;
	return ICMP_HDR + len;
}

static int k_send(void *ctx, unsigned flow, const struct bench_msg_hdr *hdrs, size_t n, size_t len)
{
	struct kctx *k = ctx;
	if (n > KBATCH)
		n = KBATCH;
	int fd = k->raw ? k->fds[0] : k->fds[flow];
	for (size_t i = 0; i < n; i++) {
		k->iov[i].iov_base = k->bufs + i * k->buf_len;
		k->iov[i].iov_len = build(k, flow, (unsigned)i, &hdrs[i], len);
		memset(&k->msgs[i].msg_hdr, 0, sizeof(k->msgs[i].msg_hdr));
		k->msgs[i].msg_hdr.msg_iov = &k->iov[i];
		k->msgs[i].msg_hdr.msg_iovlen = 1;
		if (k->raw) {
			k->msgs[i].msg_hdr.msg_name = &k->server;
			k->msgs[i].msg_hdr.msg_namelen = sizeof(k->server);
		}
	}
	int r;
	if (n == 1) /* one message: plain sendmsg, the call a ping-pong client would make */
		r = sendmsg(fd, &k->msgs[0].msg_hdr, 0) >= 0 ? 1 : -1;
	else
		r = sendmmsg(fd, k->msgs, (unsigned)n, 0);
	if (r < 0)
		return errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED ? 0 : -errno;
	return r;
}

/* Parses one received datagram into out; false if it is not one of our replies. */
static bool parse_reply(struct kctx *k, const uint8_t *b, size_t len, struct bench_rx *out)
{
	if (k->proto == BENCH_ICMP) {
		if (k->raw) {
			/* Raw sockets hand over the IPv4 header too, and every ICMP message on the host. */
			if (len < 20 || (b[0] >> 4) != 4)
				return false;
			size_t ihl = (size_t)(b[0] & 0xf) * 4;
			if (ihl < 20 || len < ihl + ICMP_HDR)
				return false;
			b += ihl;
			len -= ihl;
			uint16_t id = (uint16_t)(b[4] << 8 | b[5]);
			if ((uint16_t)(id - k->raw_id_base) >= k->flows)
				return false;
		}
		if (len < ICMP_HDR || b[0] != ICMP_ECHO_REPLY)
			return false;
		b += ICMP_HDR;
		len -= ICMP_HDR;
	}
	if (!bench_msg_parse(b, len, &out->hdr))
		return false;
	out->len = len;
	return true;
}

/* One non-blocking pass over the sockets, starting where the last pass stopped so no flow starves. */
static int recv_pass(struct kctx *k, struct bench_rx *out, size_t max, int flags)
{
	size_t got = 0;
	for (unsigned j = 0; j < k->nfds && got < max; j++) {
		unsigned f = (k->next_fd + j) % k->nfds;
		size_t want = max - got < KBATCH ? max - got : KBATCH;
		int r = recvmmsg(k->fds[f], k->rx_msgs, (unsigned)want, flags, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
				continue;
			return -errno;
		}
		for (int i = 0; i < r; i++) {
			if (parse_reply(k, k->rx_bufs + (size_t)i * k->buf_len, k->rx_msgs[i].msg_len, &out[got]))
				got++;
			else
				(*k->foreign)++;
		}
	}
	k->next_fd = (k->next_fd + 1) % k->nfds;
	return (int)got;
}

static int k_recv(void *ctx, struct bench_rx *out, size_t max, enum bench_wait wait, uint64_t deadline_ns)
{
	struct kctx *k = ctx;
	if (wait == BENCH_SPIN)
		return recv_pass(k, out, max, MSG_DONTWAIT);
	if (k->nfds == 1) {
		/* One socket: sleep in recvmmsg itself, as a plain application would (SO_RCVTIMEO bounds it). */
		return recv_pass(k, out, max, MSG_WAITFORONE);
	}
	uint64_t now = bench_now_ns();
	uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
	struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
	int r = ppoll(k->pfds, k->nfds, &ts, NULL);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	return recv_pass(k, out, max, MSG_DONTWAIT);
}

static void k_close(void *ctx)
{
	struct kctx *k = ctx;
	for (unsigned i = 0; i < k->nfds; i++)
		if (k->fds[i] >= 0)
			close(k->fds[i]);
	free(k->fds);
	free(k->pfds);
	free(k->bufs);
	free(k->rx_bufs);
	free(k);
}

static int open_socket(struct kctx *k, const struct bench_opts *o, const struct bench_kernel_opts *ko,
		       unsigned flow)
{
	int fd;
	if (k->proto == BENCH_UDP)
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	else if (!k->raw)
		fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	else
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	int err = 0;
	/* Blocking receives give up after the loss timeout, so a lost reply cannot hang the client. */
	struct timeval tv = { (time_t)(o->timeout_ns / 1000000000u), (long)(o->timeout_ns % 1000000000u / 1000u) };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (ko->busy_poll_us > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &ko->busy_poll_us, sizeof(ko->busy_poll_us)) < 0)
		goto fail;
	if (k->raw)
		return fd;
	if (ko->bind_ip || ko->src_port) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		if (ko->bind_ip && inet_pton(AF_INET, ko->bind_ip, &a.sin_addr) != 1) {
			errno = EINVAL;
			goto fail;
		}
		if (ko->src_port && k->proto == BENCH_UDP)
			a.sin_port = htons((uint16_t)(ko->src_port + flow));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&k->server, sizeof(k->server)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int bench_kernel_open(struct bench_transport *t, const struct bench_opts *o,
		      const struct bench_kernel_opts *ko)
{
	int err = -ENOMEM;
	struct kctx *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->proto = o->proto;
	k->flows = o->flows;
	k->foreign = &t->foreign;
	k->server.sin_family = AF_INET;
	k->server.sin_port = htons(o->proto == BENCH_UDP ? ko->port : 0);
	if (inet_pton(AF_INET, ko->server, &k->server.sin_addr) != 1) {
		err = -EINVAL;
		goto fail;
	}
	k->buf_len = (o->size + ICMP_HDR + 60 + 63) & ~(size_t)63;
	k->bufs = calloc(KBATCH, k->buf_len);
	k->rx_bufs = calloc(KBATCH, k->buf_len);
	if (!k->rx_bufs)
		goto fail;
	for (size_t i = 0; i < KBATCH; i++) {
		k->rx_iov[i].iov_base = k->rx_bufs + i * k->buf_len;
		k->rx_iov[i].iov_len = k->buf_len;
		k->rx_msgs[i].msg_hdr.msg_iov = &k->rx_iov[i];
		k->rx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	k->fds = calloc(o->flows, sizeof(int));
	k->pfds = calloc(o->flows, sizeof(struct pollfd));
	if (!k->bufs || !k->fds || !k->pfds)
		goto fail;
	for (unsigned i = 0; i < o->flows; i++)
		k->fds[i] = -1;
	k->raw_id_base = (uint16_t)(getpid() * 16);
	for (unsigned i = 0; i < o->flows; i++) {
		int fd = open_socket(k, o, ko, i);
		if (fd == -EACCES && k->proto == BENCH_ICMP && !k->raw && i == 0) {
			/* net.ipv4.ping_group_range excludes us: one raw socket carries every flow. */
			k->raw = true;
			fd = open_socket(k, o, ko, i);
		}
		if (fd < 0) {
			err = fd;
			goto fail;
		}
		k->fds[i] = fd;
		k->pfds[i].fd = fd;
		k->pfds[i].events = POLLIN;
		k->nfds = i + 1;
		if (k->raw)
			break;
	}
	t->ctx = k;
	t->send = k_send;
	t->recv = k_recv;
	t->close = k_close;
	return 0;
fail:
	k_close(k);
	return err;
}
