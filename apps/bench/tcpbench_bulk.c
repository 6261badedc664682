/* smolxdp-tcpbench's bulk transfers: upload to the discard service (counted only once the server has
 * read it all and closed) and download from the source service (every byte checked against the
 * pattern), with the client's TCP_INFO at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "tcpbench.h"

#define TB_BULK_CHUNK (256 * 1024)

/* The offsets of include/uapi/linux/tcp.h (Linux 6.7+). */
_Static_assert(offsetof(struct tb_tcp_info, total_retrans) == 100, "tcp_info layout");
_Static_assert(offsetof(struct tb_tcp_info, snd_wnd) == 228, "tcp_info layout");
_Static_assert(offsetof(struct tb_tcp_info, total_rto) == 240, "tcp_info layout");
_Static_assert(sizeof(struct tb_tcp_info) == 248, "tcp_info layout");

/* Byte i of either direction is i mod 256: this buffer from offset i mod 256 holds the next chunk. */
static uint8_t pattern[TB_BULK_CHUNK + 256];

static void pattern_init(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)i;
}

static void read_info(int fd, struct tb_result *r)
{
	socklen_t len = sizeof(r->info);

	memset(&r->info, 0, sizeof(r->info));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &r->info, &len) < 0)
		return;
	r->has_info = len >= offsetof(struct tb_tcp_info, pacing_rate);
	r->has_rto = len >= offsetof(struct tb_tcp_info, total_rto_time);
}

/* Connects within the timeout; the connected socket (still non-blocking) or -errno. */
static int bulk_connect(const struct tb_opts *o)
{
	int fd = tb_connect_start(o);

	if (fd < 0)
		return fd;
	int err = tb_wait(fd, POLLOUT, tb_now() + (double)o->timeout_ms / 1000);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		err = -errno;
	if (!err && soerr)
		err = -soerr;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* After the last byte: half-close, then wait for the discard server's FIN, which it sends once it has
 * read everything. The wait fails only when the data stops moving for the timeout (the bytes not yet
 * acknowledged, SIOCOUTQ, are how progress shows; the last ones may need many RTOs under loss). */
static int upload_finish(int fd, const struct tb_opts *o)
{
	double stall = (double)o->timeout_ms / 1000, last = tb_now();
	int outq_was = -1;

	if (shutdown(fd, SHUT_WR) < 0)
		return -errno;
	for (;;) {
		uint8_t buf[512];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int outq = 0;

		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			last = tb_now(); /* a discard server says nothing, but talking is a sign of life */
		if (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq != outq_was) {
			outq_was = outq;
			last = tb_now();
		}
		if (tb_now() - last > stall)
			return -ETIMEDOUT;
		int err = tb_wait(fd, POLLIN, tb_now() + 0.1);
		if (err && err != -ETIMEDOUT)
			return err;
	}
}

int tb_run_upload(const struct tb_opts *o, struct tb_result *r)
{
	double t0 = tb_now(), until, stall = (double)o->timeout_ms / 1000;
	int fd, err = 0;

	pattern_init();
	fd = bulk_connect(o);
	if (fd < 0)
		return fd;
	/* The duration is of data, from the handshake's end (as smolxdp-tcpclient counts it); goodput
	 * counts from the connect. */
	until = tb_now() + o->duration_s;
	r->pattern_ok = true; /* the pattern is what we send; the server has nothing to check against */
	for (double now = tb_now(), last = now; now < until && (!o->bytes || r->bytes < o->bytes);
	     now = tb_now()) {
		size_t len = TB_BULK_CHUNK;
		ssize_t n;

		if (o->bytes && o->bytes - r->bytes < len)
			len = (size_t)(o->bytes - r->bytes);
		n = send(fd, pattern + r->bytes % 256, len, MSG_NOSIGNAL);
		if (n > 0) {
			if (r->bytes == 0)
				until = now + o->duration_s;
			r->bytes += (uint64_t)n;
			last = now;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err = -errno;
			goto out;
		}
		if (now - last > stall) {
			err = -ETIMEDOUT;
			goto out;
		}
		err = tb_wait(fd, POLLOUT, until < last + stall ? until : last + stall);
		if (err && err != -ETIMEDOUT)
			goto out;
		err = 0;
	}
	err = upload_finish(fd, o);
	if (err)
		goto out;
	read_info(fd, r); /* after the server's FIN: every byte acknowledged, the counters final */
out:
	r->seconds = tb_now() - t0; /* a failed run's too, for its summary */
	close(fd);
	return err;
}

int tb_run_download(const struct tb_opts *o, struct tb_result *r)
{
	static uint8_t buf[TB_BULK_CHUNK];
	double t0 = tb_now(), until, stall = (double)o->timeout_ms / 1000;
	int fd, err = 0;

	pattern_init();
	fd = bulk_connect(o);
	if (fd < 0)
		return fd;
	/* The duration is of data, from the first byte (as smolxdp-tcpclient counts it): a lost
	 * handshake ACK holds the first segment back by an RTO. The stall timeout still bounds it. */
	until = tb_now() + 1e9;
	r->pattern_ok = true;
	for (double now = tb_now(), last = now; now < until && (!o->bytes || r->bytes < o->bytes);
	     now = tb_now()) {
		size_t len = sizeof(buf);
		ssize_t n;

		if (o->bytes && o->bytes - r->bytes < len)
			len = (size_t)(o->bytes - r->bytes);
		n = recv(fd, buf, len, 0);
		if (n > 0) {
			if (memcmp(buf, pattern + r->bytes % 256, (size_t)n) != 0) {
				r->pattern_ok = false;
				err = -EBADMSG;
				goto out;
			}
			if (r->bytes == 0)
				until = now + o->duration_s;
			r->bytes += (uint64_t)n;
			last = now;
			continue;
		}
		if (n == 0) { /* the source service never ends on its own */
			err = -ECONNRESET;
			goto out;
		}
		if (errno != EAGAIN && errno != EINTR) {
			err = -errno;
			goto out;
		}
		if (now - last > stall) {
			err = -ETIMEDOUT;
			goto out;
		}
		err = tb_wait(fd, POLLIN, until < last + stall ? until : last + stall);
		if (err && err != -ETIMEDOUT)
			goto out;
		err = 0;
	}
	read_info(fd, r);
out:
	r->seconds = tb_now() - t0;
	/* Closing with unread data resets the connection: that is how a download ends. */
	close(fd);
	return err;
}
