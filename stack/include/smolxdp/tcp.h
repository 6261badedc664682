/* TCP (RFC 9293): connections and listeners over any IPv4 sender, event-driven, on time passed in.
 * Retransmission per RFC 6298, congestion control CUBIC (RFC 9438) or NewReno (RFC 5681/6582) with
 * HyStart++ (RFC 9406) ending slow start, path MTU discovery (RFC 1191), window scaling and
 * timestamps (RFC 7323: RTTM, PAWS), SACK (RFC 2018, D-SACK RFC 2883) both ways with RFC 6675 loss
 * recovery, Proportional Rate Reduction (RFC 6937) and tail loss probes (RFC 8985 7), ISNs per RFC 6528, ephemeral ports per
 * RFC 6056, blind-attack defences per RFC 5961. All memory is given at init. */
#ifndef SMOLXDP_TCP_H
#define SMOLXDP_TCP_H

#include "smolxdp/base.h"
#include "smolxdp/ip_tx.h"
#include "smolxdp/l4_handler.h"
#include "smolxdp/wire/icmpv4.h"
#include "smolxdp/wire/ipv4.h"

SMX_API_BEGIN

/* The eleven states of RFC 9293 3.3.2; tcp_state_name prints the RFC's names. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/* Results of API calls. */
enum tcp_result {
	TCP_OK = 0,
	TCP_ERR_INVALID,    /* bad argument, or a handle that is not (or no longer) the app's */
	TCP_ERR_NO_MEMORY,  /* every connection or listener slot is taken */
	TCP_ERR_ADDR_IN_USE,/* a listener already has this port, or the 4-tuple is taken */
	TCP_ERR_NO_PORT,    /* no free ephemeral port for this destination */
	TCP_ERR_STATE,      /* not possible in this state (send after shutdown, ...) */
};

/* Why a connection ended, as the app sees it. */
enum tcp_error {
	TCP_ERROR_NONE = 0,
	TCP_ERROR_REFUSED,     /* RST in answer to our SYN (RFC 9293 3.10.7.3), or ICMP port unreachable */
	TCP_ERROR_RESET,       /* the peer reset a synchronized connection */
	TCP_ERROR_TIMED_OUT,   /* user timeout (RFC 9293 3.8.3) or keep-alive probes unanswered */
	TCP_ERROR_UNREACHABLE, /* ICMP host unreachable while opening */
	TCP_ERROR_NET_UNREACHABLE,   /* ICMP network unreachable while opening */
	TCP_ERROR_PROTO_UNREACHABLE, /* ICMP protocol unreachable while opening: no TCP there */
	TCP_ERROR_CONNECT_TIMED_OUT, /* the handshake did not complete within the connect timeout */
};

/* Congestion control, per connection (tcp_config.cc, tcp_set_congestion_control). */
enum tcp_cc {
	TCP_CC_CUBIC = 0, /* RFC 9438, the default (as Linux's) */
	TCP_CC_NEWRENO,   /* RFC 5681 and RFC 6582 */
	TCP_CC_COUNT,
};
const char *tcp_cc_name(enum tcp_cc cc);

struct tcp_config {
	uint32_t max_conns;     /* connection slots, including ones in SYN-RECEIVED and TIME-WAIT */
	uint32_t max_listeners;
	uint32_t rx_buf_size;   /* per connection, the most its receive buffer grows to (autotuned below
				 * that to what the rate needs); the window offered is its free space (RFC
				 * 7323 window scaling when the peer agrees, else at most 65535) */
	uint32_t tx_buf_size;   /* per connection, the most its send buffer holds */
	/* Bytes of buffer shared by all connections, drawn on demand in 4 KB chunks (an idle connection
	 * holds none); 0: max_conns x (rx_buf_size + tx_buf_size), every connection full both ways. */
	uint64_t buf_pool_size;
	uint16_t mss;           /* the MSS we offer; 0: the sender's MTU - 40 */
	uint8_t secret[16];     /* key for ISNs (RFC 6528), ephemeral ports (RFC 6056) and the table */
	uint16_t ephemeral_min; /* RFC 6056 range, default 49152..65535 */
	uint16_t ephemeral_max;
	/* Timers, microseconds. */
	uint64_t rto_initial;   /* RFC 6298 2.1: 1 s */
	uint64_t rto_min;       /* RFC 6298 2.4 says 1 s; the default is Linux's 200 ms */
	uint64_t rto_max;       /* RFC 6298 2.5: at least 60 s */
	uint64_t delayed_ack;   /* RFC 9293 3.8.6.3: under 0.5 s; default 40 ms as Linux */
	uint64_t user_timeout;  /* RFC 9293 3.8.3: give up on unacknowledged data or SYN; default 300 s */
	uint64_t time_wait;     /* 2*MSL (RFC 9293 3.4.2); default 60 s as Linux */
	uint64_t fin_wait2_timeout; /* after the app closed and the peer never sends FIN; default 60 s */
	uint64_t keepalive_idle;    /* RFC 1122 4.2.3.6: no less than two hours by default */
	uint64_t keepalive_interval;
	uint32_t keepalive_count;
	uint32_t challenge_ack_limit; /* RFC 5961 7: challenge ACKs per second, all connections */
	bool nodelay_default;         /* false: Nagle on (RFC 9293 3.7.4) */
	bool no_sack;                 /* true: SACK (RFC 2018) neither offered nor accepted */
	enum tcp_cc cc;               /* new connections' congestion control; default TCP_CC_CUBIC */
};

/* Sets every field to its default (secret all zero: set one). */
void tcp_config_default(struct tcp_config *cfg);
/* Bytes of memory tcp_init needs (any alignment): the control blocks and tables, plus the buffer
 * pool; 0 if cfg is invalid. */
size_t tcp_mem_size(const struct tcp_config *cfg);

struct tcp_stack;
struct tcp_conn;
struct tcp_listener;

/* Where the memory goes: what is fixed per connection slot, and the buffer pool's use. A connection
 * whose receive buffer is empty (an idle one, or one whose app keeps up) holds no chunk and no
 * promise: its window is overcommitted, drawn from what the pool has free when data comes, and the
 * next in-order segment may take a small reserve (TCP_POOL_RESERVE chunks, kept from sends and
 * windows), so two stacks whose pools are full of sends still take each other's ACK-bearing data.
 * Once the buffer holds data (the app has not read it, or it came out of order) its window is
 * promised from the pool, in full when the pool has the chunks, else as they come back. What finds
 * no room is dropped unacknowledged and counted (tcp_stats.rx_no_buffer; the peer retransmits it),
 * as Linux drops when its TCP memory is exhausted; data already acknowledged is never dropped. The
 * default pool holds every connection's buffers full both ways. */
struct tcp_mem_usage {
	size_t total;          /* tcp_mem_size */
	size_t fixed;          /* control blocks, tables, the pool's chunk links: all but the chunks */
	size_t per_conn_fixed; /* fixed / max_conns */
	size_t pool;           /* bytes of buffer chunks */
	size_t chunk_size;
	size_t pool_in_use;    /* bytes in chunks holding data now */
	size_t pool_promised;  /* bytes promised to windows already offered, not yet holding data */
	size_t pool_peak;      /* the most ever in use or promised */
	uint64_t pool_short;   /* windows or writes that got less than they asked: the pool was short */
};
void tcp_mem_usage(const struct tcp_stack *s, struct tcp_mem_usage *u);

/* Lays the stack out in mem (len >= tcp_mem_size(cfg)); NULL if cfg is invalid or mem too small. */
struct tcp_stack *tcp_init(void *mem, size_t len, const struct tcp_config *cfg);

/* ---- Plugging into an interface (struct l4_handler) ---- */

/* Fills h so the interface delivers TCP segments to this stack and asks it for output. */
void tcp_handler(struct tcp_stack *s, struct l4_handler *h);
void tcp_input(struct tcp_stack *s, smx_instant now, const struct ipv4_repr *ip, const uint8_t *seg,
	       size_t len, enum wire_csum csum, const struct ip_sender *tx);
bool tcp_output(struct tcp_stack *s, smx_instant now, const struct ip_sender *tx);
smx_instant tcp_poll_at(struct tcp_stack *s, smx_instant now);
void tcp_icmp_error(struct tcp_stack *s, smx_instant now, const struct icmpv4_repr *icmp);

/* ---- Listening and connecting ---- */

/* addr 0: any of our addresses. backlog: connections being opened plus ones waiting in accept. */
struct tcp_listener *tcp_listen(struct tcp_stack *s, ipv4_addr addr, uint16_t port, uint32_t backlog,
				void *user, enum tcp_result *err);
/* Resets connections still waiting to be accepted and frees the listener. */
void tcp_listener_close(struct tcp_stack *s, struct tcp_listener *l);
/* The next established connection, or NULL. The app owns it until tcp_close or tcp_abort. */
struct tcp_conn *tcp_accept(struct tcp_stack *s, struct tcp_listener *l);

struct tcp_connect_opts {
	ipv4_addr local_addr; /* required: one of the interface's addresses */
	uint16_t local_port;  /* 0: an ephemeral port (RFC 6056) */
	ipv4_addr remote_addr;
	uint16_t remote_port;
	void *user;
};
/* Active open: the SYN goes out on the next tcp_output. */
struct tcp_conn *tcp_connect(struct tcp_stack *s, const struct tcp_connect_opts *o, enum tcp_result *err);

/* ---- Data ---- */

/* Copy in up to len bytes; returns how many were queued (0 when the buffer is full). */
size_t tcp_send(struct tcp_stack *s, struct tcp_conn *c, const void *data, size_t len);
/* Zero copy: a contiguous free span of the send buffer to write into, then commit what was written.
 * The span ends where the buffer's chunk ends (ask again for more); it stays valid until the commit,
 * across polls, unless the connection is reset or aborted first. */
size_t tcp_send_buf(struct tcp_stack *s, struct tcp_conn *c, uint8_t **span);
void tcp_send_commit(struct tcp_stack *s, struct tcp_conn *c, size_t n);
/* Copy out up to cap bytes of in-order data; returns how many (0: nothing yet, or EOF: tcp_eof). */
size_t tcp_recv(struct tcp_stack *s, struct tcp_conn *c, void *buf, size_t cap);
/* Zero copy: a contiguous span of received data, then consume what was used. */
size_t tcp_recv_peek(struct tcp_stack *s, struct tcp_conn *c, const uint8_t **span);
void tcp_recv_consume(struct tcp_stack *s, struct tcp_conn *c, size_t n);
size_t tcp_recv_avail(const struct tcp_conn *c);
size_t tcp_send_space(const struct tcp_conn *c); /* 0 also once the send side is shut */
bool tcp_eof(const struct tcp_conn *c); /* the peer's FIN arrived and all data before it was read */

/* ---- Ending ---- */

/* Half-close: FIN after the queued data; receiving goes on. */
enum tcp_result tcp_shutdown(struct tcp_stack *s, struct tcp_conn *c);
/* Graceful close and release: the handle is invalid afterwards; the stack finishes the close alone.
 * Unread data (or data arriving later) resets the connection (RFC 1122 4.2.2.13). */
void tcp_close(struct tcp_stack *s, struct tcp_conn *c);
/* Reset (RFC 9293 3.10.5 ABORT) and release. */
void tcp_abort(struct tcp_stack *s, struct tcp_conn *c);

/* ---- Events: what changed, without scanning connections ---- */

enum tcp_event_flag {
	TCP_EV_CONNECTED = 1u << 0,   /* an active open completed */
	TCP_EV_READABLE = 1u << 1,    /* new in-order data */
	TCP_EV_WRITABLE = 1u << 2,    /* send buffer space was freed */
	TCP_EV_PEER_CLOSED = 1u << 3, /* the peer's FIN arrived */
	TCP_EV_CLOSED = 1u << 4,      /* the connection ended (see tcp_conn_error); release it */
	TCP_EV_ACCEPTABLE = 1u << 5,  /* listener: a connection waits in tcp_accept */
};

struct tcp_event {
	struct tcp_conn *conn;         /* NULL for a listener event */
	struct tcp_listener *listener; /* NULL for a connection event */
	void *user;
	uint32_t flags; /* enum tcp_event_flag, coalesced since the last event for this object */
};

/* Pops the next pending event; false when none. Events are edge-triggered: read or write until the
 * calls return 0 before relying on the next event. */
bool tcp_next_event(struct tcp_stack *s, struct tcp_event *ev);

/* ---- Options and introspection ---- */

void tcp_set_nodelay(struct tcp_stack *s, struct tcp_conn *c, bool nodelay); /* true: Nagle off */
void tcp_set_keepalive(struct tcp_stack *s, struct tcp_conn *c, bool on);
void tcp_set_user_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t us);
/* RFC 1122 4.2.3.6 per connection: probes after `idle` quiet microseconds, every `interval`, giving up
 * after `count` unanswered (0 in any field keeps the stack's default). Turns keep-alive on. */
void tcp_set_keepalive_params(struct tcp_stack *s, struct tcp_conn *c, uint64_t idle, uint64_t interval,
			      uint32_t count);
/* How long an open may take (SYN sent or received to ESTABLISHED) before it ends with
 * TCP_ERROR_CONNECT_TIMED_OUT; 0: the user timeout. */
void tcp_set_connect_timeout(struct tcp_stack *s, struct tcp_conn *c, uint64_t us);
/* Clamps the MSS this connection offers and sends with (RFC 6691), at least 64; effective for an
 * active open when set before its SYN goes out, and for what is sent at any time. */
void tcp_set_mss_clamp(struct tcp_stack *s, struct tcp_conn *c, uint16_t mss);
/* The most this connection's receive and send buffers hold (0 keeps one as it is; at least 1 byte,
 * below 1 GB). The window scale (RFC 7323 2.3) follows the receive maximum when set before the
 * SYN goes out (tcp_connect, then this, then tcp_output); a connection from a listener took the
 * listener's (tcp_listener_set_buffer_sizes) with its SYN. Data already held stays. */
enum tcp_result tcp_set_buffer_sizes(struct tcp_stack *s, struct tcp_conn *c, uint32_t rx_max, uint32_t tx_max);
/* The buffer maximums of connections this listener opens from now on (0 keeps the config's). */
enum tcp_result tcp_listener_set_buffer_sizes(struct tcp_stack *s, struct tcp_listener *l, uint32_t rx_max,
					      uint32_t tx_max);
/* The congestion control of this connection from now on (TCP_ERR_INVALID for an unknown one). */
enum tcp_result tcp_set_congestion_control(struct tcp_stack *s, struct tcp_conn *c, enum tcp_cc cc);
/* Connections waiting in tcp_accept, without taking one. */
uint32_t tcp_listener_pending(const struct tcp_listener *l);
void tcp_conn_set_user(struct tcp_conn *c, void *user);
void *tcp_conn_user(const struct tcp_conn *c);

enum tcp_state tcp_conn_state(const struct tcp_conn *c);
enum tcp_error tcp_conn_error(const struct tcp_conn *c);
const char *tcp_state_name(enum tcp_state st); /* "ESTABLISHED", "SYN-SENT", ... */
const char *tcp_error_name(enum tcp_error e);

struct tcp_endpoints {
	ipv4_addr local_addr;
	uint16_t local_port;
	ipv4_addr remote_addr;
	uint16_t remote_port;
};
void tcp_conn_endpoints(const struct tcp_conn *c, struct tcp_endpoints *ep);

struct tcp_conn_stats {
	uint64_t segs_in, segs_out;
	uint64_t bytes_in, bytes_out; /* payload delivered in order / first transmissions */
	uint64_t retransmits;         /* segments sent again, for any reason */
	uint64_t fast_retransmits;    /* loss recoveries entered (duplicate ACKs or SACKs) */
	uint64_t timeouts;            /* RTO expiries */
	uint64_t dup_acks;            /* duplicate ACKs received (RFC 5681 2) */
	uint64_t ooo_segs;            /* segments held out of order */
	uint64_t zero_window_probes;
	uint64_t tlp_probes;          /* tail loss probes sent (RFC 8985 7) */
	uint64_t lost_retransmits;    /* retransmissions found lost too, and sent again */
	uint32_t srtt_us, rttvar_us, rto_us; /* srtt 0 until the first sample */
	uint32_t cwnd, ssthresh, snd_mss;
	uint32_t cc;                  /* enum tcp_cc */
	uint64_t hystart_exits;       /* slow starts ended by rising delay (RFC 9406), not by a loss */
	uint64_t dsacks;              /* duplicates the peer reported (RFC 2883 D-SACK) */
	uint64_t undos;               /* recoveries undone: every retransmission was D-SACKed (RFC 3708) */
	uint64_t spurious_rtos;       /* timeouts found spurious by timestamps and undone (RFC 3522) */
	uint32_t dupthresh;           /* RFC 6675 DupThresh, raised when reordering is seen */
	uint64_t pmtu_reductions;     /* send MSS lowered by ICMP fragmentation needed (RFC 1191) */
};
void tcp_conn_stats(const struct tcp_conn *c, struct tcp_conn_stats *st);

/* Stack-wide counters: one per drop reason and a few totals. */
struct tcp_stats {
	uint64_t rx_segs;
	uint64_t tx_segs;
	uint64_t rx_malformed;
	uint64_t rx_bad_checksum;
	uint64_t rx_no_conn;         /* to a closed port: answered with RST */
	uint64_t rx_listen_drop;     /* SYN dropped: backlog full or no connection slot */
	uint64_t syn_recv_recycled;  /* unanswered half-open connections given up for a new SYN */
	uint64_t rx_out_of_window;   /* unacceptable segments (RFC 9293 3.10.7.4 first check) */
	uint64_t rx_ooo_drop;        /* out-of-order segment with no room to keep it */
	uint64_t rx_no_buffer;       /* text within the window offered dropped (not acknowledged): the
				      * buffer pool was empty (windows of idle connections are not
				      * backed by chunks, see tcp_mem_usage); the peer retransmits it */
	uint64_t rx_bad_ack;         /* ACK outside RFC 5961 5.2's range, or of unsent data */
	uint64_t rx_paws_rejected;   /* older timestamp than the connection's latest (RFC 7323 5.3) */
	uint64_t rx_paws_disordered_acks; /* ... taken all the same: duplicate ACKs reordered on the path */
	uint64_t rst_sent;
	uint64_t challenge_acks;
	uint64_t challenge_acks_limited;
	uint64_t retransmits;
	uint64_t fast_retransmits;
	uint64_t timeouts;
	uint64_t tlp_probes;         /* tail loss probes (RFC 8985 7) */
	uint64_t lost_retransmits;   /* retransmissions found lost too (SACKs of later data, or no answer) */
	uint64_t tx_no_buffer;       /* the IP sender had no frame: retried later */
	uint64_t conns_opened;       /* active + passive opens reaching ESTABLISHED */
	uint64_t conns_reset;
	uint64_t conns_timed_out;
	uint64_t time_wait_recycled; /* TIME-WAIT slots taken for new connections */
	uint64_t icmp_errors;
	uint64_t pmtu_reductions;    /* send MSS lowered by ICMP fragmentation needed (RFC 1191) */
};
const struct tcp_stats *tcp_stack_stats(const struct tcp_stack *s);
uint32_t tcp_conn_count(const struct tcp_stack *s); /* slots in use */

SMX_API_END

#endif
