/* A simulated network for TCP on virtual time (after smoltcp's netsim): two interfaces, each with a TCP
 * stack, joined by the loopback wire; each end receives through a fault injector (loss) and a path
 * emulator (delay, bottleneck rate, drop-tail queue, reordering), so each direction has all five. One
 * bulk transfer A->B, checked byte for byte, deterministic from a seed. Used by the netsim_grid test
 * and the netsim_grid program. Memory from malloc (tests only). */
#ifndef SMX_NETSIM_H
#define SMX_NETSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smolxdp/base.h"

/* The default grid's fixed parameters (the program's options override them). */
#define NETSIM_BYTES (4u * 1024 * 1024) /* per cell, A->B */
#define NETSIM_RATE 100000000ull          /* bottleneck, bit/s, each direction */
#define NETSIM_QUEUE 125000u              /* bytes: one BDP of the 10 ms path at 100 Mbit/s */
#define NETSIM_REORDER_EXTRA 1000u        /* us a reordered frame is held back (8 frames at 100 Mbit/s) */
#define NETSIM_SEED 1u
#define NETSIM_TIME_LIMIT 3600000000ull   /* us of simulated time before a run is given up */

struct netsim_config {
	uint64_t bytes;          /* A sends this many pattern bytes to B */
	uint8_t loss_pct;        /* 0..100: each frame lost with this chance, in each direction */
	smx_instant rtt;         /* us: twice the one-way propagation delay (serialisation comes on top) */
	uint64_t rate;           /* bit/s at the bottleneck, each direction; 0: unlimited */
	uint32_t queue;          /* bytes that may wait for the bottleneck; 0: unlimited */
	uint8_t reorder_pct;     /* 0..100: chance a frame is held back reorder_extra us */
	smx_instant reorder_extra;
	uint32_t buf;            /* TCP rx_buf_size and tx_buf_size of both connections */
	uint64_t seed;
	smx_instant time_limit;  /* us of simulated time; 0: NETSIM_TIME_LIMIT */
	bool cold_connect;       /* connect before either stack has seen the clock (see netsim.c) */
	bool no_sack;            /* both stacks neither offer nor accept SACK (tcp_config.no_sack) */
};

struct netsim_result {
	bool completed;          /* both ends closed without error within the time limit */
	bool byte_exact;         /* B got exactly `bytes` bytes, each the pattern's */
	double sim_s;            /* simulated seconds from connect to both closed (or to giving up) */
	double open_s;           /* simulated seconds from connect to established (a lost SYN: 1 s more) */
	double data_s;           /* simulated seconds from connect to B having read the last byte */
	double goodput_bps;      /* bytes * 8 / data_s */
	uint64_t received;       /* bytes B read */
	smx_instant max_stall_us; /* the longest simulated time B's application got no new byte, from
				   * the accept to the last byte */
	uint32_t max_rto_us;     /* the sender's largest RTO from its RTT samples (backoff aside) */
	uint64_t retransmits, fast_retransmits, timeouts; /* the sender's (stack A) */
	uint64_t segs_a, segs_b; /* segments each stack sent */
	uint64_t loss_drops;     /* frames lost by the fault injectors, both directions */
	uint64_t queue_drops;    /* tail drops at the bottlenecks, both directions */
	uint64_t full_drops;     /* frames the path emulators had no room to hold (should be 0) */
	uint64_t reordered;
	uint64_t steps;          /* loop iterations (a cost measure, not time) */
	uint32_t frames_leaked;  /* loopback frames not back in the pool at the end (must be 0) */
	char why[160];           /* when not completed or not byte-exact: what was seen */
};

/* The payload: byte i of the stream A sends. */
uint8_t netsim_byte(uint64_t i);

/* Runs one transfer; fills res. Returns true if it completed byte-exact with nothing leaked. */
bool netsim_run(const struct netsim_config *cfg, struct netsim_result *res);

/* The grid's cells: loss x RTT x buffer, plus a few with reordering. */
struct netsim_cell {
	uint8_t loss_pct;
	uint32_t rtt_ms;
	uint32_t buf;
	uint8_t reorder_pct;
};
extern const struct netsim_cell netsim_grid_cells[];
extern const size_t netsim_grid_count;

/* A cell on the default path (NETSIM_* above). */
void netsim_cell_config(const struct netsim_cell *cell, struct netsim_config *cfg);

/* Reporting: a markdown table (header, then one row per run) and JSON (open, one object per run,
 * close). */
void netsim_md_header(FILE *out, const struct netsim_config *common);
void netsim_md_row(FILE *out, const struct netsim_config *cfg, const struct netsim_result *res);
void netsim_json_open(FILE *out, const struct netsim_config *common);
void netsim_json_row(FILE *out, const struct netsim_config *cfg, const struct netsim_result *res, bool first);
void netsim_json_close(FILE *out);

#endif
