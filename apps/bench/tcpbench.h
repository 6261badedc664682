/* smolxdp-tcpbench's parts: the options, the result every mode fills, the sockets they share. */
#ifndef SMX_TCPBENCH_H
#define SMX_TCPBENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tb_mode { TB_UPLOAD, TB_DOWNLOAD, TB_CRR, TB_CONCURRENT, TB_MODES };

#define TB_REQ 100 /* crr: request and reply bytes */

struct tb_opts {
	enum tb_mode mode;
	struct sockaddr_in server;
	struct sockaddr_in bind;
	bool has_bind;
	double duration_s;
	uint64_t bytes;
	long parallel, conns, pace, timeout_ms;
	long hold_ms; /* concurrent: keep them all open this long once every one has echoed */
	const char *label, *json;
	const char *cc; /* TCP_CONGESTION for every socket, NULL: the namespace's default */
	bool quiet;
};

/* struct tcp_info as Linux 6.7+ fills it, up to tcpi_total_rto_time (248 bytes). Debian 12's headers
 * end at tcpi_snd_wnd, so the layout is spelled out here; getsockopt's returned length says how much
 * of it the running kernel filled (older kernels: less, newer ones: still this much). */
struct tb_tcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen, rcv_ooopack, snd_wnd;
	uint32_t rcv_wnd, rehash;                  /* Linux 6.2 */
	uint16_t total_rto, total_rto_recoveries; /* Linux 6.7 */
	uint32_t total_rto_time;
};

struct tb_result {
	uint64_t bytes;
	double seconds;
	bool pattern_ok;
	bool has_info;  /* info holds the classic fields, up to tcpi_total_retrans */
	bool has_rto;   /* ... and the RTO counters (Linux 6.7+) */
	struct tb_tcp_info info;
	uint64_t conns, failed;
	uint64_t mismatched;   /* crr/concurrent: replies that were not the request */
	uint64_t no_ports;     /* connects refused for want of a local port (EADDRNOTAVAIL) */
	double conn_p50_us, conn_p99_us, time_to_all_s;
};

double tb_now(void);
/* A non-blocking socket with connect() started (bound to --bind's address if given); fd or -errno. */
int tb_connect_start(const struct tb_opts *o);
/* Waits until fd is ready for `events` (POLLIN/POLLOUT) or the deadline passes: 0, -ETIMEDOUT, -errno. */
int tb_wait(int fd, short events, double deadline);

int tb_run_upload(const struct tb_opts *o, struct tb_result *r);
int tb_run_download(const struct tb_opts *o, struct tb_result *r);
int tb_run_crr(const struct tb_opts *o, struct tb_result *r);
int tb_run_concurrent(const struct tb_opts *o, struct tb_result *r);
/* concurrent: how long the run may take before the connections left are failed. */
double tb_concurrent_limit_s(const struct tb_opts *o);

#endif
