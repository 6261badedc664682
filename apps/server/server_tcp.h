/* smolxdp-server's TCP services, one TCP stack per queue: 6969 sends "hello\n" and closes, 6970
 * echoes every byte, 6971 discards and counts, 6972 sends byte i = i mod 256 until the peer closes.
 * The app holds every connection it accepts until the stack says it ended, so each end is counted
 * once, with how it ended: opened = ended ok + ended with errors + open, at any time. */
#ifndef SMX_SERVER_TCP_H
#define SMX_SERVER_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smolxdp/iface.h"
#include "smolxdp/tcp.h"

enum srv_tcp_service {
	SRV_TCP_HELLO = 0,
	SRV_TCP_ECHO,
	SRV_TCP_DISCARD,
	SRV_TCP_SOURCE,
	SRV_TCP_SERVICES,
};

#define SRV_TCP_FIRST_PORT 6969

/* How a connection ended. The first is "ok"; every other one is "with errors". */
enum srv_tcp_end {
	SRV_TCP_END_OK = 0,    /* closed by both sides (FIN each way) */
	SRV_TCP_END_RESET,     /* the peer reset it */
	SRV_TCP_END_TIMED_OUT, /* unacknowledged data or keep-alives: the stack gave up */
	SRV_TCP_END_OTHER,     /* any other error the stack reports */
	SRV_TCP_END_ABORTED,   /* we reset it: data sent to the greeting, or no slot to serve it */
	SRV_TCP_END_AT_EXIT,   /* still open when the server stopped: we reset it */
	SRV_TCP_ENDS,
};

/* What the app keeps per connection (the stack keeps the rest). */
struct srv_tcp_conn {
	struct tcp_conn *c;
	uint8_t service;
	uint32_t next_free;
	uint64_t pos; /* source: bytes sent so far (the next byte is pos mod 256) */
};

struct srv_tcp {
	struct iface *iface;
	struct tcp_stack *s;
	void *mem;
	struct tcp_listener *l[SRV_TCP_SERVICES];
	struct srv_tcp_conn *conns;
	uint32_t max_conns;
	uint32_t free_head;
	uint64_t accepted[SRV_TCP_SERVICES]; /* every connection the stack handed over */
	uint64_t ended[SRV_TCP_ENDS];
	uint32_t open;                       /* accepted and not ended: held in conns[] */
	uint64_t echoed, discarded, sourced;
	FILE *conn_log; /* one line of statistics per connection as it ends (NULL: none) */
};

struct srv_tcp_opts {
	uint32_t max_conns;   /* connection slots */
	uint32_t buf_size;    /* send and receive buffer per connection, bytes: the most each holds */
	uint64_t pool_size;   /* the buffer pool they all draw from (0: max_conns x 2 x buf_size) */
	uint32_t rto_min_ms;  /* the floor of the retransmission timeout (RFC 6298 2.4 asks 1 s; Linux
			       * uses 200 ms, on a LAN less makes sense) */
	FILE *conn_log;       /* where the per-connection lines go, or NULL */
};

int srv_tcp_open(struct srv_tcp *t, struct iface *ifc, const struct srv_tcp_opts *o);
/* Serve what the events say; true if anything happened. */
bool srv_tcp_run(struct srv_tcp *t);
/* The server stops: reset every connection still open (counted as ended at exit); the caller
 * flushes the interface so the resets leave. */
void srv_tcp_stop(struct srv_tcp *t);
uint64_t srv_tcp_opened(const struct srv_tcp *t);
uint64_t srv_tcp_ended(const struct srv_tcp *t); /* however they ended */
/* Segments and connections the TCP stack dropped or refused for want of room or validity. */
uint64_t srv_tcp_drops(const struct srv_tcp *t);
void srv_tcp_print_stats(const struct srv_tcp *t, FILE *out);
void srv_tcp_print_mem(const struct srv_tcp *t, FILE *out);
void srv_tcp_close(struct srv_tcp *t);

#endif
