/* Test harness for TCP on virtual time: a fake IP sender that captures every segment the stack
 * sends, and helpers that play the peer segment by segment (smoltcp socket/tcp.rs send!/recv! style). */
#ifndef TCP_HARNESS_H
#define TCP_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "smolxdp/tcp.h"
#include "smolxdp/wire/tcp.h"
#include "../../stack/socket/tcp_internal.h"

#define TH_MAX_SEGS 4096
#define TH_SEG_CAP 1600

#define TH_LOCAL IPV4_ADDR(10, 0, 0, 1)  /* the stack under test */
#define TH_REMOTE IPV4_ADDR(10, 0, 0, 2) /* the peer the test plays */
#define TH_LPORT 80
#define TH_RPORT 40000
#define TH_T0 1000000000ull /* virtual time starts at 1000 s */

/* Everything the stack sent, in order. */
struct th_capture {
	struct ip_sender sender;
	uint8_t buf[TH_MAX_SEGS][TH_SEG_CAP];
	size_t len[TH_MAX_SEGS];
	ipv4_addr src[TH_MAX_SEGS], dst[TH_MAX_SEGS];
	size_t head, count; /* read position, number captured */
	bool no_buffer;     /* begin fails with IP_TX_NO_BUFFER */
	uint16_t mtu;
};

void th_capture_init(struct th_capture *cap, uint16_t mtu);

struct th {
	struct tcp_config cfg;
	void *mem;
	struct tcp_stack *s;
	struct th_capture *cap;
	smx_instant now;
	struct tcp_listener *l;
	struct tcp_conn *c; /* the connection under test */
	uint32_t peer_seq;  /* the peer's next sequence number */
	uint32_t peer_ack;  /* what the peer acknowledges */
	uint16_t peer_win;
	uint16_t rport;     /* the peer's port */
	uint16_t lport;     /* the stack's port */
	struct tcp_options peer_opts; /* options the peer puts on every segment it sends (MSS aside) */
};

/* A parsed captured segment (payload copied out, since the capture buffer is reused). */
struct th_seg {
	struct tcp_repr r;
	uint8_t data[TH_SEG_CAP];
	ipv4_addr src, dst;
};

void th_config(struct tcp_config *cfg); /* defaults with small tables for tests */
struct th *th_new(const struct tcp_config *cfg);
void th_free(struct th *t);
/* cmocka fixtures: a fresh harness with th_config's defaults in *state, and its release. */
int th_setup(void **state);
int th_teardown(void **state);

/* Run output at the current time. */
void th_poll(struct th *t);
/* Advance virtual time by us, polling at every timer deadline on the way. */
void th_advance(struct th *t, uint64_t us);
/* Next captured segment (after polling); false if none. */
bool th_next(struct th *t, struct th_seg *seg);
/* Asserts there is a next segment and returns it. */
void th_expect(struct th *t, struct th_seg *seg);
/* Asserts nothing was sent. */
void th_expect_none(struct th *t);
size_t th_pending(struct th *t);

/* The peer sends a segment with explicit fields; options: mss (0: none). */
void th_send_raw(struct th *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t win, const void *data, size_t len, uint16_t mss);
/* The peer sends from its running seq/ack on the test connection, advancing peer_seq. */
void th_send(struct th *t, uint8_t flags, const void *data, size_t len);
void th_send_at(struct th *t, uint32_t seq, uint8_t flags, const void *data, size_t len);

/* Fixtures: a connection in a given state with peer ISN `peer_isn`. */
void th_listen(struct th *t, uint32_t backlog);
void th_open_passive(struct th *t, uint32_t peer_isn, uint16_t peer_mss);
void th_open_active(struct th *t, uint32_t peer_isn, uint16_t peer_mss);
/* Active open from our side: tcp_connect to the peer (port 5000) from port TH_RPORT - 1. */
void th_connect(struct th *t);
/* Force our ISN before the SYN goes out (active open only). */
void th_set_iss(struct th *t, uint32_t iss);
void th_reach_state(struct th *t, enum tcp_state st);

/* Drain the event queue; returns the OR of flags for conn c (or listener l when c is NULL). */
uint32_t th_events(struct th *t, const struct tcp_conn *c, const struct tcp_listener *l);

/* Bulk transfer between two stacks: each side sends send_total bytes of its pattern (dir 0 or 1),
 * shuts down, reads and checks the other's pattern (recv_total bytes) until EOF, then closes. */
struct th_bulk {
	struct tcp_conn *c;
	uint32_t send_total, recv_total;
	uint32_t sent, recvd;
	bool shut, eof, closed;
	int dir;
};
uint8_t th_bulk_byte(uint32_t i, int dir);
void th_bulk_pump(struct tcp_stack *s, struct th_bulk *b);

#define th_assert_state(t, st) assert_string_equal(tcp_state_name(tcp_conn_state((t)->c)), tcp_state_name(st))

#endif
