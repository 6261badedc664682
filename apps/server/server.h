/* smolxdp-server: answers ping and echoes UDP datagrams (port 6969) over AF_XDP, one stack instance
 * (device, interface, sockets) per RX queue, each on its own thread; they share only the host's
 * neighbours (one table, struct iface_neigh_table). */
#ifndef SMX_SERVER_H
#define SMX_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smolxdp/dev_fault.h"
#include "smolxdp/dev_pcap.h"
#include "smolxdp/iface.h"
#include "smolxdp/udp.h"
#include "smolxdp/xsk_dev.h"
#include "server_meter.h"
#include "server_tcp.h"

#define SRV_MAX_QUEUES 16

struct srv_opts {
	const char *ifname;
	uint32_t queue;  /* first RX queue */
	uint32_t queues; /* how many, from `queue` on */
	struct iface_cidr ip;
	struct eth_addr mac;
	ipv4_addr gateway;
	uint16_t vlan_id;  /* 802.1Q VLAN (0: untagged) */
	uint8_t vlan_prio; /* its PCP */
	enum xsk_bind_mode bind_mode;
	bool busy_poll; /* spin, with socket busy polling (a syscall on every empty receive) */
	bool spin;      /* spin on the rings, no syscall but the TX kicks the kernel asks for */
	const char *pcap_path;
	uint8_t drop_pct;
	uint8_t corrupt_pct;
	uint32_t fault_dirs; /* enum dev_fault_dir: where drops and corruption apply (0: both ways) */
	uint64_t seed;
	unsigned stats_secs; /* 0: only at exit */
	uint16_t echo_port;
	uint32_t udp_max;   /* largest UDP payload the echo socket takes and sends back */
	uint16_t mtu;       /* the interface's MTU (0: the device's, from IFACE's MTU) */
	uint32_t tcp_conns; /* TCP connection slots per queue (0: no TCP services) */
	uint32_t tcp_rto_min_ms;
	uint32_t tcp_buf;   /* send and receive buffer per TCP connection, bytes */
	uint64_t tcp_pool;  /* TCP buffer pool per queue, bytes (0: every connection full both ways) */
	bool tcp_log;       /* a line of statistics per TCP connection as it ends */
	bool tcp_opt_given; /* --tcp-buf, --tcp-rto-min or --tcp-log: refused with --tcp-conns 0 */
	bool force;         /* take --ip even if the kernel has it on the interface */
	int verbose;
	struct xsk_log_app *log; /* how the AF_XDP layer's warnings and notices are printed */
};

/* A queue's counters at one instant, taken by its own thread (see srv_queue.snap_req): what the
 * --stats line compares from one interval to the next. */
struct srv_snapshot {
	smx_instant at; /* monotonic, microseconds */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t tcp_opened, tcp_ended;
	uint32_t tcp_open;
	uint64_t drops;
};

/* One stack instance: its own device, interface and echo socket. */
struct srv_queue {
	const struct srv_opts *opts;
	uint32_t queue;
	struct xsk_dev *xd;
	struct dev *dev; /* what the interface sees: the device, maybe behind fault and pcap wrappers */
	struct srv_meter meter; /* right around the device: counts what crosses the wire */
	struct dev_fault fault;
	struct dev_pcap pcap;
	FILE *pcap_file;
	struct iface *iface;
	void *iface_mem;
	struct udp_stack *udp;
	struct udp_socket *echo;
	void *echo_mem; /* the UDP stack, then the echo socket */
	uint64_t echoed;
	uint64_t echo_dropped; /* no frame and no queue slot for the reply */
	struct srv_tcp tcp;    /* TCP services (server_tcp.c) */
	pthread_t thread;
	int error; /* the thread's exit status */
	/* The main thread asks for a snapshot by storing a new snap_req; this queue's thread fills snap
	 * and stores the same number in snap_done (release/acquire), so the counters are only ever read
	 * by the thread that writes them. */
	uint32_t snap_req, snap_done;
	struct srv_snapshot snap;
};

extern volatile sig_atomic_t srv_stop;

/* server_opts.c: 0, 1 for --help (printed), or -EINVAL (message printed). */
int srv_opts_parse(int argc, char **argv, struct srv_opts *o);

struct xsk_ntuple;
/* Serving some queues of a many-queue NIC: steer our address to the one served with n-tuple rules
 * (removed by xsk_ntuple_remove), or refuse (-EXDEV, the fix named) unless --force. */
int srv_ntuple_check(const struct srv_opts *o, struct xsk_ntuple *rule);

/* server_queue.c */
/* neigh: the neighbour table the queues share (NULL with one queue). */
int srv_queue_open(struct srv_queue *q, const struct srv_opts *o, uint32_t queue, struct xsk_prog *prog,
		   struct iface_neigh_table *neigh);
void *srv_queue_run(void *arg);
void srv_queue_close(struct srv_queue *q);
void srv_queue_print_stats(struct srv_queue *q, FILE *out, bool all);
/* Every drop counter of the queue added up (the interface's drop_*, the TCP stack's, the echo
 * socket's replies, the fault injector's, the kernel's for the AF_XDP socket). */
uint64_t srv_queue_drops(struct srv_queue *q);

/* server_stats.c: the --stats line, in the main thread. */
struct srv_stats {
	uint32_t seq;
	bool have_prev;
	struct srv_snapshot prev[SRV_MAX_QUEUES];
};
/* Before the queues' threads start: every counter is 0 now, the start of the first interval. */
void srv_stats_start(struct srv_stats *st, uint32_t n);
/* Asks every queue for a snapshot; prints one line of rates since the previous one (none the
 * first time). 0, or -ETIMEDOUT if a queue did not answer (nothing printed). */
int srv_stats_tick(struct srv_stats *st, struct srv_queue *qs, uint32_t n, FILE *out);

#endif
