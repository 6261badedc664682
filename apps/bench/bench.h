/* smolxdp-bench: the measurement loops (ping-pong RTT, windowed echo rate) written once over a small
 * transport interface, so the same loop drives Linux sockets and the smolxdp stack alike. */
#ifndef SMX_BENCH_H
#define SMX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bench_hist.h"

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every message carries this header at the start of its payload (UDP payload, or ICMP echo data):
 * magic, flow, in-flight slot, sequence number and send time, so replies are matched without any per-message state in
 * the transport, and a stray or late reply is recognised and not counted as an answer. */
#define BENCH_MAGIC 0x534d5842u /* "SMXB" */
#define BENCH_HDR_LEN 32u
#define BENCH_MAX_PAYLOAD 9000u
#define SMX_BENCH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SMX_BENCH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct bench_msg_hdr {
	uint32_t flow;
	uint32_t slot; /* rate: which in-flight slot it occupies */
	uint64_t seq;
	uint64_t sent_ns;
};

void bench_msg_fill(uint8_t *payload, size_t len, const struct bench_msg_hdr *hdr);
bool bench_msg_parse(const uint8_t *payload, size_t len, struct bench_msg_hdr *hdr);

enum bench_proto { BENCH_UDP, BENCH_ICMP };
enum bench_wait { BENCH_SPIN, BENCH_BLOCK };

/* One received message as a transport reports it. */
struct bench_rx {
	struct bench_msg_hdr hdr;
	size_t len; /* payload bytes */
};

/* A transport: `flows` independent senders (UDP source ports, or ICMP echo identifiers) towards the
 * same server. Messages are built by the transport from the header (it fills the rest with a pattern). */
struct bench_transport {
	void *ctx;
	/* Send n messages on one flow; returns how many went (0..n), or negative errno. */
	int (*send)(void *ctx, unsigned flow, const struct bench_msg_hdr *hdrs, size_t n, size_t len);
	/* Receive up to max replies from any flow. BENCH_BLOCK may sleep until deadline_ns (absolute,
	 * bench_now_ns clock); BENCH_SPIN returns at once. Returns how many, or negative errno. Replies
	 * that do not parse as ours are dropped and counted in *foreign. */
	int (*recv)(void *ctx, struct bench_rx *out, size_t max, enum bench_wait wait, uint64_t deadline_ns);
	void (*close)(void *ctx);
	uint64_t foreign;
};

struct bench_opts {
	enum bench_proto proto;
	enum bench_wait wait;
	bool rate;          /* windowed rate instead of ping-pong */
	unsigned flows;     /* 1.. */
	unsigned window;    /* rate: messages in flight in total */
	size_t size;        /* payload bytes (UDP payload, ICMP echo data) */
	double duration_s;  /* measured time */
	double warmup_s;    /* time run before measuring, not counted */
	uint64_t timeout_ns; /* a message unanswered this long is lost */
	uint64_t interval_ns; /* ping-pong: minimum time between sends (0: back to back) */
};

struct bench_result {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;     /* timed out */
	uint64_t late;     /* arrived after being counted lost, or duplicated */
	uint64_t foreign;  /* not ours */
	uint64_t send_errors;
	double elapsed_s;
	struct bench_hist hist;
};

int bench_run_pingpong(struct bench_transport *t, const struct bench_opts *o, struct bench_result *r);
int bench_run_rate(struct bench_transport *t, const struct bench_opts *o, struct bench_result *r);

/* Linux-socket transport. */
struct bench_kernel_opts {
	const char *server;   /* dotted IPv4 */
	uint16_t port;        /* UDP */
	const char *bind_ip;  /* optional source address */
	uint16_t src_port;    /* first source port, 0: ephemeral */
	int busy_poll_us;     /* SO_BUSY_POLL on the client sockets, 0: off */
};
int bench_kernel_open(struct bench_transport *t, const struct bench_opts *o,
		      const struct bench_kernel_opts *ko);

#endif
