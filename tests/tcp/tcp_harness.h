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
	const smx_instant *clock;      /* the virtual clock, if any: each segment's time is kept */
	smx_instant at[TH_MAX_SEGS];
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
	struct th_seg *seg;           /* what th_want returned last */
};

/* A parsed captured segment (payload copied out, since the capture buffer is reused). */
struct th_seg {
	struct tcp_repr r;
	uint8_t data[TH_SEG_CAP];
	ipv4_addr src, dst;
	smx_instant at; /* the virtual time it was sent */
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

/* One segment in one line, with named fields, as smoltcp's send!/recv! templates:
 *   th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = 5001, .mss = 1460);
 *   th_tx(t, .flags = TCP_ACK, .seq_off = 1000, .data = d, .len = 100, .nsack = 1, .sack = { l, r });
 * The macros fill every optional field with TH_ANY before the caller's initializers, which override it
 * (C11 6.7.9p19: the last initializer of a field wins), so a field written as 0 is still checked or
 * sent as 0 and a field left out is not. (CMakeLists.txt turns off -Woverride-init for these files.) */
#define TH_ANY INT64_MIN        /* left out: not checked (th_want), the harness's running value (th_tx) */
#define TH_NONE (INT64_MIN + 1) /* th_want .mss, .wscale, .tsecr: the option must be absent */

/* An expected segment: every field given must match. */
struct th_want {
	int64_t flags;          /* exactly these flags */
	int64_t seq, ack, win;  /* the raw fields */
	int64_t off;            /* SEG.SEQ as an offset from our first data byte, ISS + 1 (needs t->c) */
	int64_t len;            /* payload length */
	const void *data;       /* the payload's bytes (needs .len); NULL: not checked */
	int64_t sport, dport;
	int64_t mss, wscale;    /* option present with this value, or TH_NONE: absent */
	int64_t sack_perm, ts;  /* 1: the option is present, 0: absent */
	int64_t tsecr;          /* timestamps present, echoing this */
	int64_t nsack;          /* number of SACK blocks, which must be sack[] (left, right, ...) */
	uint32_t sack[2 * TCP_MAX_SACK_BLOCKS];
};
#define TH_WANT_ANY                                                                                  \
	.flags = TH_ANY, .seq = TH_ANY, .ack = TH_ANY, .win = TH_ANY, .off = TH_ANY, .len = TH_ANY,   \
	.sport = TH_ANY, .dport = TH_ANY, .mss = TH_ANY, .wscale = TH_ANY, .sack_perm = TH_ANY,       \
	.ts = TH_ANY, .tsecr = TH_ANY, .nsack = TH_ANY
/* Asserts the next segment matches (failures name the caller's line) and returns it; the segment
 * stays valid until the next th_want. */
#define th_want(t, ...) th_want_at((t), (struct th_want){ TH_WANT_ANY, __VA_ARGS__ }, __FILE__, __LINE__)
const struct th_seg *th_want_at(struct th *t, struct th_want w, const char *file, int line);

/* A segment the peer sends. Left out: the test connection's ports, SEG.SEQ = peer_seq, SEG.ACK =
 * peer_ack, SEG.WND = peer_win, the options in peer_opts. Only a segment sent at peer_seq by default
 * (neither .seq nor .seq_off given) advances peer_seq by its length, as th_send does. */
struct th_tx {
	uint8_t flags;
	int64_t seq;            /* SEG.SEQ */
	int64_t seq_off;        /* SEG.SEQ = peer_seq + seq_off */
	int64_t ack, win;
	int64_t sport, dport;
	const void *data;
	size_t len;
	uint16_t mss;           /* an MSS option (0: none) */
	int64_t nsack;          /* SACK blocks sack[] (left, right, ...) instead of peer_opts' */
	uint32_t sack[2 * TCP_MAX_SACK_BLOCKS];
};
#define TH_TX_ANY                                                                                    \
	.seq = TH_ANY, .seq_off = TH_ANY, .ack = TH_ANY, .win = TH_ANY, .sport = TH_ANY, .dport = TH_ANY, \
	.nsack = TH_ANY
#define th_tx(t, ...) th_tx_seg((t), (struct th_tx){ TH_TX_ANY, __VA_ARGS__ })
void th_tx_seg(struct th *t, struct th_tx x);

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

/* A router's ICMP error about our segment at `seq` on the test connection (the quote as icmpv4_parse
 * reads it: our IP header and 8 bytes of TCP), handed to tcp_icmp_error; mtu for "fragmentation
 * needed" (RFC 1191), 0 otherwise. */
void th_icmp_error(struct th *t, uint8_t type, uint8_t code, uint32_t seq, uint16_t mtu);

#define th_assert_state(t, st) assert_string_equal(tcp_state_name(tcp_conn_state((t)->c)), tcp_state_name(st))

#endif
