/* The TCP module's internal layout: connection and listener records, the stack's tables, and the
 * functions the tcp_*.c files share. Not a public header: apps see only smolxdp/tcp.h.
 *
 * The files are layered: each has one level, and calls functions of its own level or below, never
 * above, and never in a circle (tests/tcp/layering.sh reads this table and checks both on the built
 * objects; a new tcp_*.c file needs a line here):
 *   level 4  tcp_api.c tcp_stack.c: the app's API, init, and the interface glue (tcp_handler)
 *   level 3  tcp_input.c tcp_output.c: segments in and out
 *   level 2  tcp_state.c tcp_timer.c: transitions and endings, what a due timer does
 *   level 1  tcp_cc.c tcp_cubic.c tcp_rack.c tcp_sack.c tcp_pmtu.c tcp_rcvbuf.c: RTT, congestion
 *            control, RACK, SACK scoreboard, MTU, the receive buffer's size (autotuning) and the
 *            window it may offer
 *   level 0  tcp_table.c tcp_heap.c tcp_ring.c tcp_pool.c tcp_assembler.c tcp_hash.c: slots, 4-tuple
 *            table and lists, the timer heap, byte rings, the buffer pool, out-of-order ranges, hashes
 * Within a level calls go one way: table to heap, ring and assembler, ring and assembler to pool, cc
 * to cubic, rack and sack, rack to sack, timer to state, input to output. A lower level with news for
 * a higher one does not call up: it sets a flag on the connection (TCP_CF_*) and queues it with
 * tcp_conn_ready, for output to act on, or raises an event for the app with tcp_conn_event (both in
 * tcp_table.c). */
#ifndef SMOLXDP_TCP_INTERNAL_H
#define SMOLXDP_TCP_INTERNAL_H

#include "smolxdp/tcp.h"
#include "smolxdp/wire/tcp.h"

#define TCP_NIL UINT32_MAX
#define TCP_ASM_MAX 64               /* out-of-order (and SACKed) ranges held per connection with
					* 2 KB chunks; a 4 KB chunk holds more (tcp_ranges_attach) */
#define TCP_ASM_INLINE 4             /* of those, held in the control block: a window of one chunk */
#define TCP_ASM_RECENT 4             /* latest arrivals remembered for SACK block order (RFC 2018 4) */
#define TCP_DEFAULT_MSS 536          /* RFC 9293 3.7.1: assumed when the peer sends no MSS option */
#define TCP_MIN_MTU 68               /* RFC 791: every IPv4 link carries 68 bytes */
#define TCP_ASSUMED_MTU 1500         /* before (or without) a sender telling its MTU: Ethernet's */
#define TCP_MAX_WINDOW 65535u        /* the 16-bit window field; RFC 7323 scaling shifts it */
#define TCP_MAX_WSCALE 14            /* RFC 7323 2.3 */
#define TCP_MAX_CWND (1u << 30)
#define TCP_CLOCK_GRANULARITY 1000u  /* G in RFC 6298 2.2/2.3, microseconds */
#define TCP_PERSIST_MAX 60000000u    /* zero-window probe interval cap */
#define TCP_SYN_RTO_RESET 3000000u   /* RFC 6298 5.7 */

/* Connection buffers come from one pool of fixed-size chunks laid out at init and drawn on demand:
 * an idle connection holds none. 4 KB: a page, two full-sized Ethernet segments (a segment spans at
 * most two chunks, so at most two copies), small enough that a short request or reply holds little
 * while it waits, large enough that the per-chunk link (4 bytes) costs 0.1% and a 4 MB window is a
 * walk of 1024 links at worst (rings keep a cursor, so sequential access walks one at a time).
 * Smaller (down to 2 KB) when the config's buffers are smaller: a 512-byte buffer in a 4 KB chunk
 * would waste seven eighths of it. */
#define TCP_CHUNK_SHIFT 12
#define TCP_CHUNK_SIZE (1u << TCP_CHUNK_SHIFT)
#define TCP_CHUNK_MIN_SHIFT 11 /* a connection's range tables (struct tcp_ranges) fit one chunk */

struct tcp_pool {
	uint8_t *mem;      /* count chunks of size = 1 << shift bytes */
	uint32_t size;
	uint32_t shift;
	uint32_t *next;    /* per chunk: the next one on its ring, or on the free list */
	uint32_t count;
	uint32_t free_head;
	uint32_t free;     /* chunks on the free list */
	uint32_t promised; /* of those, promised to receive windows already offered (RFC 9293 3.8.6) */
	uint32_t reserve;  /* of the rest, kept for in-order data arriving in an empty receive buffer */
	uint32_t low;      /* the fewest free chunks not promised, ever (how close the pool came) */
	uint64_t short_count; /* times a window or a write got less than it asked for */
};

void tcp_pool_init(struct tcp_pool *p, uint8_t *mem, uint32_t *next, uint32_t count, uint32_t shift);
/* The chunks an empty receive buffer may take for the next in-order segment when no other is free:
 * enough for one segment (it spans at most two chunks of 4 KB; a jumbo one four). Linux lets a
 * socket with an empty receive queue take a segment over its memory limit (sk_forced_mem_schedule)
 * for the same reason: without it, two stacks whose pools are full of unacknowledged sends would
 * drop each other's data (the ACKs that would free those sends) for ever. */
#define TCP_POOL_RESERVE 4u
/* Chunks neither drawn, promised nor in the reserve: what new windows and sends may still take. */
static inline uint32_t tcp_pool_avail(const struct tcp_pool *p)
{
	uint32_t held = p->promised + p->reserve;

	return p->free > held ? p->free - held : 0;
}
/* The same with the reserve: what in-order data arriving in an empty receive buffer may take. */
static inline uint32_t tcp_pool_avail_reserve(const struct tcp_pool *p)
{
	return p->free - p->promised;
}
enum tcp_take {
	TCP_TAKE_FREE,     /* what tcp_pool_avail counts */
	TCP_TAKE_PROMISED, /* one of the caller's promised chunks */
	TCP_TAKE_RESERVE,  /* what tcp_pool_avail_reserve counts */
};
/* A chunk; TCP_NIL if there is none. */
uint32_t tcp_pool_take(struct tcp_pool *p, enum tcp_take from);
void tcp_pool_give(struct tcp_pool *p, uint32_t chunk);
static inline uint8_t *tcp_pool_chunk(const struct tcp_pool *p, uint32_t chunk)
{
	return p->mem + ((size_t)chunk << p->shift);
}

/* A byte ring made of a list of chunks: `len` bytes readable from offset `head` of chunk `first`;
 * writes beyond len (out-of-order data) are allowed up to `hi`. A receive ring holding data also
 * holds `promised` chunks not yet drawn, so the window it offered is there to take (RFC 9293 3.8.6);
 * an empty one holds neither (tcp_rcvbuf.c: overcommit). */
struct tcp_ring {
	uint32_t first;    /* TCP_NIL: no chunk */
	uint32_t last;
	uint32_t chunks;
	uint32_t head;     /* offset of the first byte in first */
	uint32_t len;
	uint32_t hi;       /* bytes from head that may hold data: len, or beyond with out-of-order data */
	uint32_t promised;
	uint32_t cover;    /* bytes from head to the end of the chunks drawn and promised (kept in step) */
	uint32_t max;      /* the most this ring may hold, bytes */
	uint32_t cur;      /* a cursor: chunk cur_k of the list (TCP_NIL: none), so walks are short */
	uint32_t cur_k;
	bool span_out;     /* tcp_ring_write_span handed out a span not yet committed: its chunk stays */
};

void tcp_ring_init(struct tcp_ring *r, uint32_t max);
/* Nothing in it, in order or out of order. */
static inline bool tcp_ring_empty(const struct tcp_ring *r)
{
	return r->hi == 0;
}
/* Bytes writable past len without drawing a chunk that is not already drawn or promised (not
 * capped by max: a window offered before max was lowered is still there to take). */
static inline uint32_t tcp_ring_room(const struct tcp_pool *p, const struct tcp_ring *r)
{
	(void)p;
	return r->cover > r->len ? r->cover - r->len : 0;
}
/* Bytes writable past len, drawing from the pool as needed (a send ring). */
uint32_t tcp_ring_free(const struct tcp_pool *p, const struct tcp_ring *r);
/* Copy n bytes in at offset off from head, drawing chunks (promised ones first, then free ones, and
 * the pool's reserve too if reserve); false (nothing written) if the pool is short. len unchanged. */
bool tcp_ring_write_at(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n,
		       bool reserve);
/* Copy n bytes out from offset off (off + n <= len). */
void tcp_ring_read_at(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n);
/* The same, returning the bytes' Internet checksum sum (csum_add(0, out, n)), read once. */
uint32_t tcp_ring_read_csum(struct tcp_pool *p, struct tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n);
/* Drop n bytes from the front; chunks emptied go back to the pool (all of them once it is empty). */
void tcp_ring_consume(struct tcp_pool *p, struct tcp_ring *r, uint32_t n);
static inline void tcp_ring_commit(struct tcp_ring *r, uint32_t n)
{
	r->span_out = false;
	r->len += n;
	if (r->hi < r->len)
		r->hi = r->len;
}
/* Contiguous spans: readable from head; free after the data (drawing a chunk if the last is full:
 * 0 when the pool has none or the ring is at its max). */
uint32_t tcp_ring_read_span(const struct tcp_pool *p, const struct tcp_ring *r, uint8_t **ptr);
uint32_t tcp_ring_write_span(struct tcp_pool *p, struct tcp_ring *r, uint8_t **ptr);
/* A receive ring: promise chunks so that `want` bytes past the data are there to take; returns the
 * room it has (less than want when the pool is short). Promises beyond want are given back. */
uint32_t tcp_ring_reserve(struct tcp_pool *p, struct tcp_ring *r, uint32_t want);
/* Everything back to the pool: data, chunks and promises. */
void tcp_ring_clear(struct tcp_pool *p, struct tcp_ring *r);
/* One promised chunk was drawn for something else (the range tables), or one is promised again. */
void tcp_ring_promise_taken(struct tcp_pool *p, struct tcp_ring *r);
void tcp_ring_promise_one(struct tcp_pool *p, struct tcp_ring *r);

/* Out-of-order ranges [left, right) in sequence space, sorted, disjoint, not touching; and where the
 * latest segments landed, newest first, so SACK blocks can be reported in RFC 2018 4's order. The
 * ranges live in `cap` slots: the connection's range tables (struct tcp_ranges) drawn from the pool
 * when needed, or a few in the control block, or none (NULL, cap 0). */
struct tcp_assembler {
	uint8_t count;
	uint8_t recent_count;
	uint8_t cap;
	uint32_t *left;
	uint32_t *right;
	uint32_t recent[TCP_ASM_RECENT]; /* a sequence number inside each of the latest arrivals */
};
/* Adds a range, merging; false if it needs a new slot and none is free. */
bool tcp_asm_add(struct tcp_assembler *a, uint32_t left, uint32_t right);
/* Removes everything up to `upto` and returns the new in-order end: upto, extended through any
 * range that starts at or before it. */
uint32_t tcp_asm_advance(struct tcp_assembler *a, uint32_t upto);
/* Whether [left, right) is already held entirely (a duplicate: RFC 2883 D-SACK). */
bool tcp_asm_holds(const struct tcp_assembler *a, uint32_t left, uint32_t right);
/* A segment landed at seq: its block is reported first next time (RFC 2018 4). */
void tcp_asm_note(struct tcp_assembler *a, uint32_t seq);
/* The range tables. init: a fresh slot's (ooo in the control block's few slots, no scoreboard).
 * attach: drawn for c, from the receive ring's promise when it holds one for them (tcp_rcvbuf.c),
 * else from the pool; false if it has none (then ooo keeps its few slots, no SACK block is kept, no
 * retransmission marked and RACK keeps one range: TCP survives all four). trim: once ooo, sb and
 * the marks are empty and RACK's flight fits one range the chunk goes back (promised to the receive
 * ring again while its window is more than a chunk). release: at the end. */
void tcp_ranges_init(struct tcp_conn *c);
/* Whether the window offered needs them promised: more than a chunk, more than ooo's few slots may
 * hold, and no tables yet. */
bool tcp_ranges_wanted(const struct tcp_conn *c);
bool tcp_ranges_attach(struct tcp_conn *c);
void tcp_ranges_trim(struct tcp_conn *c);
void tcp_ranges_release(struct tcp_conn *c);
/* Up to max SACK blocks (RFC 2018 4): the latest arrival's first, then the ones reported most
 * recently, then the rest, highest first; no block twice. Returns how many. */
unsigned tcp_asm_sack_blocks(const struct tcp_assembler *a, struct tcp_sack_block *out, unsigned max);

/* Lists are doubly linked by slot index so removal is O(1); every connection has one link per list
 * kind, and is on at most one list of each kind. */
enum tcp_list_kind {
	TCP_LIST_READY = 0, /* has something to send: evaluated by output */
	TCP_LIST_EVENT,     /* has events for the app */
	TCP_LIST_AUX,       /* free slots, a listener's SYN or accept queue, or TIME-WAIT (oldest first) */
	TCP_LIST_POOL,      /* found the buffer pool short: looks again once chunks come back */
	TCP_LIST_KINDS,
};

struct tcp_link {
	uint32_t prev;
	uint32_t next;
};

struct tcp_list {
	uint32_t head;
	uint32_t tail;
	uint32_t count;
};

enum tcp_aux_owner {
	TCP_AUX_NONE = 0,
	TCP_AUX_FREE,
	TCP_AUX_ACCEPT,
	TCP_AUX_TIME_WAIT,
	TCP_AUX_SYN_QUEUE, /* a listener's half-open (SYN-RECEIVED) connections, oldest first */
};

/* Flags in tcp_conn.flags. */
enum tcp_conn_flag {
	TCP_CF_IN_USE = 1u << 0,
	TCP_CF_RELEASED = 1u << 1,   /* the app let go (tcp_close/abort) or never had it (not accepted) */
	TCP_CF_PASSIVE = 1u << 2,    /* opened from a listener */
	TCP_CF_FIN_QUEUED = 1u << 3, /* the app shut the send side: FIN after the data */
	TCP_CF_NODELAY = 1u << 4,
	TCP_CF_KEEPALIVE = 1u << 5,
	TCP_CF_ACK_NOW = 1u << 6,    /* send an ACK on the next output */
	TCP_CF_SEND_RST = 1u << 7,   /* abort: send RST on the next output, then free */
	TCP_CF_FAST_RTX = 1u << 8,   /* retransmit the segment at snd_una on the next output */
	TCP_CF_PROBE = 1u << 9,      /* send a zero-window probe */
	TCP_CF_KEEP_PROBE = 1u << 10,/* send a keep-alive probe */
	TCP_CF_RTT_TIMING = 1u << 11,/* rtt_seq/rtt_start time a segment (RFC 6298 Karn) */
	TCP_CF_IN_RECOVERY = 1u << 12,
	TCP_CF_PERSIST = 1u << 13,   /* rtx_at is the persist timer, not the retransmission timer */
	TCP_CF_RCV_FIN = 1u << 14,   /* a FIN was seen at rcv_fin_seq, maybe not yet in order */
	TCP_CF_SYN_RTX = 1u << 15,   /* the SYN was retransmitted (RFC 6298 5.7) */
	TCP_CF_HEAP = 1u << 16,      /* in the timer heap */
	TCP_CF_HASHED = 1u << 17,    /* in the 4-tuple table */
	TCP_CF_FIN_RCVD = 1u << 18,  /* the peer's FIN is in order and consumed (rcv_nxt is past it) */
	TCP_CF_WSCALE = 1u << 19,    /* RFC 7323 window scaling agreed on (both SYNs carried it) */
	TCP_CF_SACK_OK = 1u << 20,   /* RFC 2018 SACK agreed on (both SYNs carried SACK-permitted) */
	TCP_CF_DSACK = 1u << 21,     /* report dsack_left/right as the first block (RFC 2883) */
	TCP_CF_TS = 1u << 22,        /* RFC 7323 timestamps agreed on: on every segment */
	TCP_CF_TLP_PROBE = 1u << 23, /* send a tail loss probe (RFC 8985 7.3) on the next output */
	TCP_CF_TLP_SENT = 1u << 24,  /* a probe is out: no other until SND.UNA moves or a SACK is news */
	TCP_CF_POOL_TX = 1u << 25,   /* a send was cut short by the pool: WRITABLE once it has chunks */
	TCP_CF_RTX_LOST = 1u << 26,  /* a retransmission of this recovery was lost (RACK found it) */
	TCP_CF_CUT_TWICE = 1u << 27, /* ... and the window was reduced for it (RFC 5681 4.3) */
	TCP_CF_RTO_UNDO = 1u << 28,  /* a timeout's reduction may be undone (Eifel, RFC 3522) */
	TCP_CF_NO_SACK = 1u << 29,   /* SACK neither offered nor accepted (tcp_config.no_sack) */
	TCP_CF_POOL_RX = 1u << 30,   /* the window offered waits for chunks to be promised (top-up) */
};

#define TCP_DUPTHRESH 3u              /* RFC 6675 2: DupThresh, to begin with */
#define TCP_MAX_DUPTHRESH 64u         /* as far as reordering may raise it */
#define TCP_RTX_MARKS 64             /* retransmissions remembered to tell when one is lost again */
#define TCP_RACK_SENT 32             /* transmit-time ranges of first transmissions (RACK, RFC 8985) */

/* RACK's transmit times (RFC 8985 6.1), microseconds mod 2^32: first transmissions as ranges
 * [seq, end) whose segments went out from first to last, and retransmissions in a SACK recovery. */
struct tcp_rack_sent {
	uint32_t seq, end, first, last;
};
struct tcp_rack_rtx {
	uint32_t seq, end, ts;
};

/* What only a connection with out-of-order data, SACKed data, retransmissions in a SACK recovery or
 * a flight of more than one RACK range needs, in one pool chunk drawn when first needed and given
 * back once all is empty, so an idle connection's control block stays small. After the marks, the
 * chunk holds four tables of `cap` sequence numbers (ooo left and right edges, then the
 * scoreboard's), then the RACK ranges: 16 in a 2 KB chunk (whose buffers of at most 2 KB have a
 * segment or two in flight) with cap TCP_ASM_MAX, TCP_RACK_SENT in a 4 KB one with cap 176, so
 * that a window of hundreds of segments with a hole in every other one (a slow start's overflow of
 * a drop-tail queue) is held and reported whole. */
struct tcp_ranges {
	struct tcp_rack_rtx rtx_marks[TCP_RTX_MARKS];
	uint32_t tables[];
};

#define TCP_TS_OPT_LEN 12u           /* NOP NOP kind len TSval TSecr: what a timestamp costs a segment */
#define TCP_PAWS_IDLE (24ull * 24 * 3600 * 1000000) /* RFC 7323 5.5: TS.Recent expires after 24 days */

struct tcp_conn {
	struct tcp_link link[TCP_LIST_KINDS];
	uint32_t hash_next; /* chain in the 4-tuple table */
	uint32_t index;
	uint32_t flags;     /* enum tcp_conn_flag */
	uint8_t state;      /* enum tcp_state */
	uint8_t error;      /* enum tcp_error */
	uint8_t aux_owner;  /* enum tcp_aux_owner */
	uint8_t dupacks;
	uint8_t keep_probes;
	uint8_t on_lists;   /* bit per enum tcp_list_kind */
	uint16_t snd_mss;   /* effective send MSS: the peer's, capped by our MTU */
	uint16_t rcv_mss;   /* the MSS we offered */
	uint8_t snd_wscale; /* RFC 7323: the peer's shift, applied to the windows it sends */
	uint8_t rcv_wscale; /* ours, applied to the windows we send (0 unless agreed) */
	uint32_t ev_flags;  /* pending enum tcp_event_flag */
	struct tcp_listener *listener; /* passive opens until accepted */
	void *user;

	ipv4_addr local_addr;
	ipv4_addr remote_addr;
	uint16_t local_port;
	uint16_t remote_port;

	/* Send sequence space (RFC 9293 3.3.1); snd_max is the highest ever sent (snd_nxt goes back on a
	 * timeout: go-back-N). The send ring holds data from seq snd_data (the first unacked data byte). */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;
	uint32_t snd_wnd;
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t max_snd_wnd;
	uint32_t snd_fin_seq; /* valid with TCP_CF_FIN_QUEUED */
	/* Receive sequence space. rcv_adv is the right edge we advertised (never moved left). */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;
	uint32_t rcv_fin_seq;
	uint32_t rcv_unacked; /* bytes received since the last ACK we sent (delayed ACK policy) */
	uint32_t dsack_left;  /* a duplicate range to report (RFC 2883), with TCP_CF_DSACK */
	uint32_t dsack_right;
	/* RFC 7323 timestamps: our clock is `now` in milliseconds plus ts_offset. */
	uint32_t ts_offset;
	uint32_t ts_recent;      /* TS.Recent: the peer's latest valid TSval, echoed in TSecr */
	smx_instant ts_recent_at; /* when it was taken (PAWS idle rule) */
	uint32_t last_ack_sent;  /* Last.ACK.sent: the ACK field of our latest segment */

	/* Congestion control (RFC 5681, RFC 6582). */
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t recover;
	uint32_t prev_una; /* snd_una before the latest advance (RFC 6582 4.2's prev_highest_ack) */
	uint8_t cc;        /* enum tcp_cc */
	/* CUBIC (RFC 9438 4): the epoch's W_max, K and Reno-friendly W_est; the epoch begins at the
	 * first ACK in congestion avoidance (SMX_INSTANT_NEVER until then). */
	uint32_t cubic_wmax;  /* bytes */
	uint32_t cubic_prior; /* cwnd at the last congestion event (cwnd_prior, 4.3), bytes */
	uint32_t cubic_k;     /* 2^-10 s */
	uint32_t cubic_west;  /* bytes */
	smx_instant cubic_epoch;
	/* HyStart++ (RFC 9406 4.2): the round ends when SND.UNA passes window_end; RTTs in us. */
	uint8_t hs_state;     /* enum tcp_hs_state */
	uint8_t hs_samples;   /* rttSampleCount */
	uint8_t hs_css_rounds;
	uint32_t hs_window_end;
	uint32_t hs_last_min; /* lastRoundMinRTT, UINT32_MAX: none */
	uint32_t hs_cur_min;  /* currentRoundMinRTT */
	uint32_t hs_css_base; /* cssBaselineMinRtt */
	/* The ACK train (Linux's HyStart; tcp_cubic.c): the lowest RTT seen (us, UINT32_MAX: none), and
	 * the (uint32_t) times of the train's first ACK and of its latest. */
	uint32_t hs_delay_min;
	uint32_t hs_train_start, hs_train_last;
	/* RTT estimation (RFC 6298), microseconds. */
	uint32_t srtt;
	uint32_t rttvar;
	uint32_t rto;
	uint32_t rtt_seq;
	smx_instant rtt_start;
	uint32_t backoff; /* RTO or persist doublings since the last progress */

	/* Timers; SMX_INSTANT_NEVER when off. timer_at is this connection's key in the heap (it may be
	 * earlier than every timer here: firing early just re-arms). */
	smx_instant rtx_at;     /* retransmission, or the persist timer when TCP_CF_PERSIST */
	smx_instant ack_at;     /* delayed ACK */
	smx_instant close_at;   /* TIME-WAIT end, FIN-WAIT-2 timeout */
	smx_instant keep_at;    /* next keep-alive check */
	smx_instant una_since;  /* when the oldest unacknowledged byte or SYN was first sent */
	smx_instant last_rx;    /* last segment from the peer (keep-alive idle) */
	smx_instant timer_at;
	uint32_t heap_idx;
	uint64_t user_timeout;
	uint64_t connect_timeout; /* 0: the user timeout bounds the open too */
	uint64_t keep_idle;       /* keep-alive, per connection (tcp_config's by default) */
	uint64_t keep_interval;
	uint8_t keep_count;
	uint16_t mss_clamp;       /* 0: none */
	uint16_t pmtu_mss;        /* the send MSS before a path MTU reduction (RFC 1191), 0: none */
	smx_instant pmtu_at;      /* when it was reduced */

	struct tcp_pool *pool; /* the stack's, where rx and tx draw their chunks */
	struct tcp_ring rx;
	struct tcp_ring tx;
	/* Receive-buffer autotuning (as Linux's tcp_rcv_space_adjust): the buffer grows to what the
	 * app read per RTT needs, up to rx.max; rcv_space is that size, measured from rcv_space_seq
	 * (bytes read so far) at rcv_space_at. */
	uint32_t rcv_space;
	uint32_t rcv_space_read;
	uint32_t rcv_space_last; /* bytes read in the latest measured RTT */
	uint32_t rcv_read;       /* bytes the app has read */
	smx_instant rcv_space_at;
	/* Without an RTT sample (a receiver whose SYN or SYN-ACK was sent again, RFC 6298 Karn): the
	 * time a window took to fill, from offering right edge rcv_rtt_seq at rcv_rtt_at, as Linux's
	 * tcp_rcv_rtt_measure: at least an RTT, so never too short a measuring interval. */
	uint32_t rcv_rtt_seq;
	uint32_t rcv_rtt;        /* us, 0: none yet */
	smx_instant rcv_rtt_at;  /* SMX_INSTANT_NEVER: not measuring */
	struct tcp_assembler ooo;
	/* The SACK sender (RFC 6675): what the peer's blocks said it holds above snd_una, HighRxt,
	 * and Proportional Rate Reduction's counts during a recovery (RFC 6937). */
	struct tcp_assembler sb;
	uint32_t high_rxt;
	/* RACK-TLP (RFC 8985, tcp_rack.c): transmit times in a fixed space, never per segment. First
	 * transmissions (and go-back-N after a timeout) as ranges in sequence and time order (a ring of
	 * rack_sent_cap), each with the times of its first and last segment (a range takes segments for
	 * SRTT/8, or any when the table is full): a delivery counts as sent at the first (RACK.xmit_ts
	 * errs early), a segment waiting as sent at the last (its wait errs long), so loss is never
	 * declared early. The table is one range in the control block (rack_sent_one: a flight of SRTT/8,
	 * a request or reply) until a flight needs more; then it is the range tables' (struct
	 * tcp_ranges: up to TCP_RACK_SENT), or stays one range if the pool has no chunk. Retransmissions
	 * during a SACK recovery, each with its own time, in rtx_marks (a ring in time order, the oldest
	 * forgotten), in the range tables with ooo's and sb's ranges: NULL while there are none (a lost
	 * retransmission then waits for the RTO). Times are microseconds mod 2^32. */
	struct tcp_rack_sent *rack_sent;
	struct tcp_rack_rtx *rtx_marks;
	struct tcp_rack_sent rack_sent_one;
	uint32_t ranges; /* the pool chunk holding the range tables (struct tcp_ranges), TCP_NIL: none */
	uint32_t ooo_inline[2][TCP_ASM_INLINE]; /* ooo's slots without it: left, right */
	bool ranges_promised; /* one of rx's promised chunks is theirs */
	uint8_t rack_sent_head, rack_sent_count, rack_sent_cap;
	uint8_t rtx_mark_head, rtx_mark_count;
	uint8_t rack_reo_mult;    /* RACK.reo_wnd_mult */
	uint8_t rack_reo_persist; /* RACK.reo_wnd_persist */
	uint8_t tlp_watches;      /* retransmissions the probe timer took as lost since the peer's news */
	bool rack_reo_seen;       /* RACK.reordering_seen */
	bool rack_valid;          /* rack_xmit_ts/end_seq/rtt hold a delivered segment's */
	bool rack_rtx;            /* ... and that segment was a retransmission */
	uint32_t rack_xmit_ts, rack_end_seq, rack_rtt, rack_min_rtt; /* RACK.xmit_ts, .end_seq, .rtt, .min_RTT */
	uint32_t rack_fack;       /* RACK.fack: the highest sequence delivered */
	uint32_t tlp_rtx_seq, tlp_rtx_end; /* the latest probe that sent data again: no RTT from it */
	uint32_t rack_dsack_round; /* RACK.dsack_round: SND.MAX at the last D-SACK counted */
	uint32_t rack_lost;       /* every unSACKed first transmission below this is lost (IsLost) */
	smx_instant rack_at;      /* RFC 8985 6.3: the reordering timer, SMX_INSTANT_NEVER when off */
	smx_instant tlp_at;       /* RFC 8985 7: the probe timeout, SMX_INSTANT_NEVER when off */
	uint32_t prr_delivered;
	uint32_t prr_out;
	uint32_t recover_fs;
	/* Reordering (RFC 6675 2 lets DupThresh adapt) and the undo of a recovery that D-SACKs show
	 * was spurious (RFC 3708, RFC 4015's response): the episode's retransmissions not yet D-SACKed
	 * (-1: nothing to undo) and what cwnd, ssthresh and W_max were before it. */
	uint8_t dupthresh;
	int32_t undo_retrans;
	uint32_t undo_marker; /* SND.UNA when the episode began */
	uint32_t undo_cwnd, undo_ssthresh, undo_wmax;
	uint32_t undo_rto_tsval; /* our TSval when the timeout's retransmissions began (RFC 3522) */
	uint32_t rto_tsval;      /* and when the latest timeout's began (tcp_rtt_echo_ambiguous) */
	struct tcp_conn_stats st;
};

struct tcp_listener {
	bool in_use;
	bool ev_queued;
	uint32_t ev_flags;
	ipv4_addr addr;
	uint16_t port;
	uint32_t backlog;
	uint32_t pending; /* SYN-RECEIVED plus accept queue */
	uint32_t rx_max;  /* buffer maximums of the connections it opens, 0: the config's */
	uint32_t tx_max;
	struct tcp_list accept_q;
	struct tcp_list syn_q; /* the SYN-RECEIVED ones, oldest first */
	void *user;
	uint32_t ev_next;
};

struct tcp_stack {
	struct tcp_config cfg;
	smx_instant now; /* the latest time passed in (for app calls that need a clock) */
	struct tcp_conn *conns;
	struct tcp_listener *listeners;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t *heap; /* slot indices, min-heap on timer_at */
	uint32_t heap_len;
	uint32_t used;
	struct tcp_list lists[TCP_LIST_KINDS]; /* ready, events; AUX here is the free list */
	struct tcp_list time_wait;
	uint32_t lev_head; /* listener event queue (singly linked: listeners are few and never freed
			    * while queued: close removes) */
	uint32_t lev_tail;
	uint32_t port_counter; /* RFC 6056 algorithm 3's `next_ephemeral` */
	smx_instant chal_window; /* start of the current one-second challenge-ACK window */
	uint32_t chal_count;
	struct tcp_pool pool;
	struct tcp_stats stats;
};

/* Level 0: the connection table, lists and timer heap, and the hashes. */

/* tcp_table.c: the connections' intrusive lists */
void tcp_list_push(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k, struct tcp_conn *c);
void tcp_list_remove(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k, struct tcp_conn *c);
struct tcp_conn *tcp_list_pop(struct tcp_stack *s, struct tcp_list *l, enum tcp_list_kind k);
static inline bool tcp_list_has(const struct tcp_conn *c, enum tcp_list_kind k)
{
	return (c->on_lists >> k) & 1;
}

/* tcp_table.c: slots, the 4-tuple table, scheduling (the ready list for output, events for the app) */
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *s);
void tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
				 uint16_t rport);
void tcp_conn_hash_insert(struct tcp_stack *s, struct tcp_conn *c);
void tcp_conn_hash_remove(struct tcp_stack *s, struct tcp_conn *c);
void tcp_conn_set_aux(struct tcp_stack *s, struct tcp_conn *c, enum tcp_aux_owner owner);
struct tcp_listener *tcp_listener_lookup(struct tcp_stack *s, ipv4_addr addr, uint16_t port);
void tcp_conn_ready(struct tcp_stack *s, struct tcp_conn *c);
void tcp_conn_event(struct tcp_stack *s, struct tcp_conn *c, uint32_t flags);
void tcp_listener_event(struct tcp_stack *s, struct tcp_listener *l, uint32_t flags);
bool tcp_conn_valid(const struct tcp_stack *s, const struct tcp_conn *c);
/* The pool was short for c (a send, or the window it could offer): c waits on TCP_LIST_POOL. */
void tcp_pool_wait(struct tcp_stack *s, struct tcp_conn *c);
/* Chunks are free again: as many waiters as there are chunks look again (output re-evaluates the
 * window they offer; one whose send was cut short is told WRITABLE). From tcp_output. */
void tcp_pool_wake(struct tcp_stack *s);

/* tcp_heap.c: the timer heap (what a due deadline does is tcp_timer.c's) */
void tcp_timer_arm(struct tcp_stack *s, struct tcp_conn *c, smx_instant when);
void tcp_timer_remove(struct tcp_stack *s, struct tcp_conn *c);

/* tcp_hash.c: SipHash-2-4 and its uses */
uint64_t tcp_siphash(const uint8_t key[16], const uint8_t *msg, size_t len);
uint32_t tcp_isn(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
		 uint16_t rport, smx_instant now);
uint32_t tcp_ts_offset(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
		       uint16_t rport);
uint32_t tcp_tuple_hash(const struct tcp_stack *s, ipv4_addr laddr, uint16_t lport, ipv4_addr raddr,
			uint16_t rport);
uint32_t tcp_port_offset(const struct tcp_stack *s, ipv4_addr laddr, ipv4_addr raddr, uint16_t rport);

/* Reading a connection's fields, for any level. */

static inline bool tcp_state_synchronized(uint8_t st)
{
	return st >= TCP_ESTABLISHED;
}
static inline bool tcp_sack_recovery(const struct tcp_conn *c)
{
	return (c->flags & (TCP_CF_IN_RECOVERY | TCP_CF_SACK_OK)) == (TCP_CF_IN_RECOVERY | TCP_CF_SACK_OK);
}
/* RFC 1122 4.2.3.10: no segments to or from broadcast or multicast addresses. */
static inline bool tcp_addr_unicast(ipv4_addr a)
{
	return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
}
/* Our timestamp clock (RFC 7323 5.4: 1 ms per tick, within the RFC's 1 ms to 1 s). */
static inline uint32_t tcp_ts_now(const struct tcp_conn *c, smx_instant now)
{
	return (uint32_t)(now / 1000) + c->ts_offset;
}
/* The payload of a full-sized segment: the MSS less the options every segment carries (RFC 6691). */
static inline uint32_t tcp_seg_mss(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_TS) && c->snd_mss > 2 * TCP_TS_OPT_LEN ? c->snd_mss - TCP_TS_OPT_LEN
									  : c->snd_mss;
}
/* The payload of a full-sized segment from the peer (the MSS we offered, less its timestamps). */
static inline uint32_t tcp_rcv_seg_mss(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_TS) && c->rcv_mss > 2 * TCP_TS_OPT_LEN ? c->rcv_mss - TCP_TS_OPT_LEN
									  : c->rcv_mss;
}
/* The sequence number of the first byte in the send ring: ISS + 1 while our SYN is unacknowledged,
 * SND.UNA after. Told by the state, not by comparing SND.UNA with ISS: 2 GB after ISS that modular
 * comparison (RFC 9293 3.4) turns around. */
static inline uint32_t tcp_snd_data_seq(const struct tcp_conn *c)
{
	return c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ? c->iss + 1 : c->snd_una;
}
/* FlightSize (RFC 5681 2): sent and not yet cumulatively acknowledged. */
static inline uint32_t tcp_flight_size(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}
/* FlightSize for the decrease on a loss (RFC 5681 eq. 4, RFC 9438 4.6), no more than cwnd: after a
 * timeout SND.MAX still counts a whole window that go-back-N has not sent again and that is no
 * longer in the network, and halving that would throw ssthresh back up. (RFC 9438 4.6 allows cwnd
 * where it cannot run ahead of the flight: tcp_cc.c's tcp_cc_window_used keeps it so.) */
static inline uint32_t tcp_cc_loss_flight(const struct tcp_conn *c)
{
	return SMX_MIN(tcp_flight_size(c), SMX_MAX(c->cwnd, 2u * tcp_seg_mss(c)));
}

/* Level 1: RTT, congestion control, the SACK scoreboard, the path MTU. */

/* tcp_sack.c: the SACK scoreboard (RFC 6675) */
void tcp_sb_reset(struct tcp_conn *c);
uint32_t tcp_sb_update(struct tcp_conn *c, const struct tcp_options *o);
uint32_t tcp_sb_sacked(const struct tcp_conn *c);
uint32_t tcp_sb_lost_edge(const struct tcp_conn *c);
uint32_t tcp_sb_pipe(const struct tcp_conn *c);
bool tcp_sb_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len);
void tcp_sb_mark_rtx(struct tcp_conn *c, uint32_t seq, uint32_t end, smx_instant now);
uint32_t tcp_sb_skip(const struct tcp_conn *c, uint32_t seq, uint32_t cap, uint32_t *room);
bool tcp_sb_dsack(const struct tcp_conn *c, const struct tcp_options *o, uint32_t *left, uint32_t *right);
uint32_t tcp_sb_dupthresh(const struct tcp_conn *c);

/* tcp_rack.c: RACK loss detection by time (RFC 8985 6) */
struct tcp_rack_ack { /* what an ACK found before it changed anything */
	uint32_t una0, fack0, low_new; /* SND.UNA, RACK.fack; the lowest newly delivered sequence */
	uint32_t high_new;              /* the end of the highest newly delivered bytes */
	bool news, clean;               /* anything newly delivered; nothing retransmitted below fack0 */
};
void tcp_rack_reset(struct tcp_conn *c);
void tcp_rack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end, smx_instant now);
void tcp_rack_ack_begin(const struct tcp_conn *c, uint32_t ack, const struct tcp_options *o,
			struct tcp_rack_ack *a);
bool tcp_rack_on_ack(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_options *o,
		     const struct tcp_rack_ack *a, smx_instant now);
/* The RTT of the most recently sent bytes this ACK newly delivered, if they were sent once (RFC 6298
 * 3, Karn) and their send time is known to within a RACK range; UINT32_MAX if not. Microseconds. */
uint32_t tcp_rack_rtt_sample(struct tcp_conn *c, const struct tcp_rack_ack *a, smx_instant now);
bool tcp_rack_detect(struct tcp_stack *s, struct tcp_conn *c, smx_instant now);
void tcp_rack_dsack(struct tcp_conn *c);
void tcp_rack_recovery_end(struct tcp_conn *c);
void tcp_rack_on_timeout(struct tcp_conn *c);

/* tcp_cubic.c: CUBIC's growth and reduction (RFC 9438), HyStart++ (RFC 9406) */
enum tcp_hs_state {
	TCP_HS_SLOW_START = 0,
	TCP_HS_CSS,  /* conservative slow start */
	TCP_HS_DONE, /* slow start ended once (by delay or by loss): not used again */
};
void tcp_cubic_reset(struct tcp_conn *c);
void tcp_cubic_grow(struct tcp_conn *c, uint32_t acked, smx_instant now);
uint32_t tcp_cubic_on_congestion(struct tcp_conn *c);
void tcp_hystart_init(struct tcp_conn *c);
uint32_t tcp_hystart_ack(struct tcp_conn *c, uint32_t rtt_us, smx_instant now);

/* tcp_pmtu.c: the MSS we offer, and path MTU discovery (RFC 1191) */
/* The MSS we offer over tx (tcp_mss_for_mtu of its MTU), or the config's mss if smaller. */
uint16_t tcp_our_mss(const struct tcp_stack *s, const struct ip_sender *tx);
void tcp_pmtu_reduce(struct tcp_stack *s, struct tcp_conn *c, uint16_t next_mtu, smx_instant now);
void tcp_pmtu_check(struct tcp_conn *c, smx_instant now);

/* tcp_cc.c: RTT estimation (RFC 6298) and congestion control (RFC 5681, 6582) */
void tcp_rtt_sample(struct tcp_stack *s, struct tcp_conn *c, uint32_t rtt_us);
bool tcp_rtt_echo_ambiguous(const struct tcp_conn *c, uint32_t ts_ecr);
uint32_t tcp_rto_backed_off(const struct tcp_stack *s, const struct tcp_conn *c);
void tcp_cc_init(struct tcp_conn *c);
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked, smx_instant now, uint32_t rtt_us);
void tcp_cc_on_dupack(struct tcp_stack *s, struct tcp_conn *c);
void tcp_cc_on_timeout(struct tcp_conn *c);
void tcp_cc_rto_undo_arm(struct tcp_conn *c, smx_instant now);
bool tcp_cc_rto_undo_check(struct tcp_conn *c, uint32_t ts_ecr);
void tcp_cc_sack_ack(struct tcp_stack *s, struct tcp_conn *c, uint32_t delivered, bool dupack);
void tcp_cc_dsack(struct tcp_stack *s, struct tcp_conn *c, uint32_t left, uint32_t right);
void tcp_cc_count_rtx(struct tcp_conn *c);
uint32_t tcp_cc_send_window(const struct tcp_conn *c);

/* tcp_rcvbuf.c: the receive buffer's size and the window it may offer. A new connection's buffer
 * starts at the largest unscaled window (about Linux's first window): a slow start's first rounds
 * fit before autotuning has measured a rate (one chunk when what the pool has left is not that
 * much for every slot). */
#define TCP_RCV_INITIAL 65535u
void tcp_rcvbuf_init(struct tcp_conn *c, smx_instant now, uint32_t slots);
/* What the receive buffer can offer past its data: the autotuned size (at most rx.max) less what it
 * holds, within what is promised or the pool could still promise (leaving room for the range tables
 * a window of more than a chunk promises too). Inline: output asks it several times a segment. */
uint32_t tcp_rcvbuf_room_short(const struct tcp_conn *c, uint32_t want, uint32_t tables, uint32_t can);
/* Beyond the window offered, the bytes a window field rounded up under our shift may add to it
 * (tcp_rcv_window_field never lets the right edge go back): promised too. */
static inline uint32_t tcp_rcvbuf_slack(const struct tcp_conn *c)
{
	return (1u << c->rcv_wscale) - 1;
}
static inline uint32_t tcp_rcvbuf_room(const struct tcp_conn *c)
{
	uint32_t size = SMX_MIN(c->rcv_space, c->rx.max);
	uint32_t want, tables, can;

	if (size <= c->rx.len)
		return 0;
	want = size - c->rx.len;
	tables = c->ranges == TCP_NIL && want > c->pool->size ? c->pool->size : 0;
	can = tcp_ring_room(c->pool, &c->rx);
	/* Promised already: the common case. */
	if (can >= want + tables + tcp_rcvbuf_slack(c))
		return want;
	return tcp_rcvbuf_room_short(c, want, tables, can);
}
/* rcv_adv moved: promise the chunks the window now offered needs, if the buffer holds data (the
 * window was at most tcp_rcvbuf_room, but one offered while the buffer was empty may have been
 * drawn on since: tcp_rcvbuf_top_up). */
void tcp_rcvbuf_offered(struct tcp_conn *c, smx_instant now);
/* The promise itself: the window offered backed while the buffer holds data, nothing when it is
 * empty. Input calls it when data lands in an empty buffer. */
void tcp_rcvbuf_back(struct tcp_conn *c);
/* Back the window offered (tcp_rcvbuf_back) and, if the pool could not promise all of it (it was
 * offered while the buffer was empty, and the pool has been drawn on since), wait on the pool for
 * the rest (TCP_CF_POOL_RX: output tops it up again once chunks come back). */
void tcp_rcvbuf_top_up(struct tcp_stack *s, struct tcp_conn *c);
/* The app read n bytes: once per RTT, grow the buffer toward what that rate needs. */
void tcp_rcvbuf_read(struct tcp_conn *c, uint32_t n, smx_instant now);
/* Nothing more will arrive (the peer's FIN is in, or the connection ended): no window's promise. */
void tcp_rcvbuf_close(struct tcp_conn *c);
/* After a segment went out: range tables no longer needed go back, and a window the pool held
 * below what the buffer wants waits for chunks (so the window update goes out when they come). */
void tcp_rcvbuf_sent(struct tcp_stack *s, struct tcp_conn *c);

/* Level 2: state transitions, and what the timers do. */

/* tcp_state.c: transitions with their side effects */
void tcp_set_state(struct tcp_stack *s, struct tcp_conn *c, enum tcp_state st);
/* The connection is over: error for the app (or quietly freed if the app is gone). */
void tcp_conn_terminate(struct tcp_stack *s, struct tcp_conn *c, enum tcp_error err);
void tcp_enter_time_wait(struct tcp_stack *s, struct tcp_conn *c);
/* Set up a fresh slot's sequence state for an open. */
void tcp_conn_setup(struct tcp_stack *s, struct tcp_conn *c);
/* RFC 7323 2.3: the shift for the receive buffer's maximum (before our SYN goes out). */
void tcp_conn_set_wscale(struct tcp_conn *c);

/* tcp_timer.c: firing (tcp_timers_run, from output), and the timers output and input start */
void tcp_timers_run(struct tcp_stack *s, smx_instant now);
void tcp_rtx_start(struct tcp_stack *s, struct tcp_conn *c, smx_instant now);
void tcp_tlp_arm(struct tcp_stack *s, struct tcp_conn *c, smx_instant now);

/* Level 3: segments in and out. */

/* tcp_input.c */
void tcp_send_rst_reply(struct tcp_stack *s, const struct ipv4_repr *ip, const struct tcp_repr *seg,
			const struct ip_sender *tx);

/* tcp_output.c */
bool tcp_conn_output(struct tcp_stack *s, struct tcp_conn *c, smx_instant now, const struct ip_sender *tx,
		     bool *blocked);
uint32_t tcp_rcv_window(const struct tcp_conn *c);
uint16_t tcp_rcv_window_field(const struct tcp_conn *c);
bool tcp_rcv_window_opens(const struct tcp_conn *c);
void tcp_conn_ack_now(struct tcp_stack *s, struct tcp_conn *c, const struct ip_sender *tx);

/* Level 4, tcp_api.c and tcp_stack.c, declare nothing here: theirs is the public API (smolxdp/tcp.h). */

#endif
