/* smolxdp-server: answers ping and echoes UDP datagrams (port 6969) over AF_XDP, one share-nothing
 * stack instance (device, interface, sockets) per RX queue, each on its own thread. */
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
#include "server_tcp.h"

#define SRV_MAX_QUEUES 16

struct srv_opts {
	const char *ifname;
	uint32_t queue;  /* first RX queue */
	uint32_t queues; /* how many, from `queue` on */
	struct iface_cidr ip;
	struct eth_addr mac;
	ipv4_addr gateway;
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
	uint32_t tcp_conns; /* TCP connection slots per queue (0: no TCP services) */
	uint32_t tcp_rto_min_ms;
	uint32_t tcp_buf;   /* send and receive buffer per TCP connection, bytes */
	bool tcp_log;       /* a line of statistics per TCP connection as it ends */
	bool tcp_opt_given; /* --tcp-buf, --tcp-rto-min or --tcp-log: refused with --tcp-conns 0 */
	bool force;         /* take --ip even if the kernel has it on the interface */
	int verbose;
	struct xsk_log_app *log; /* how the AF_XDP layer's warnings and notices are printed */
};

/* One stack instance: its own device, interface and echo socket. */
struct srv_queue {
	const struct srv_opts *opts;
	uint32_t queue;
	struct xsk_dev *xd;
	struct dev *dev; /* what the interface sees: the device, maybe behind fault and pcap wrappers */
	struct dev_fault fault;
	struct dev_pcap pcap;
	FILE *pcap_file;
	struct iface *iface;
	void *iface_mem;
	struct udp_socket *echo;
	void *echo_mem;
	uint64_t echoed;
	uint64_t echo_dropped; /* no frame and no queue slot for the reply */
	struct srv_tcp tcp;    /* TCP services (server_tcp.c) */
	pthread_t thread;
	int error; /* the thread's exit status */
};

extern volatile sig_atomic_t srv_stop;

/* server_opts.c: 0, 1 for --help (printed), or -EINVAL (message printed). */
int srv_opts_parse(int argc, char **argv, struct srv_opts *o);

/* server_queue.c */
int srv_queue_open(struct srv_queue *q, const struct srv_opts *o, uint32_t queue, struct xsk_prog *prog);
void *srv_queue_run(void *arg);
void srv_queue_close(struct srv_queue *q);
void srv_queue_print_stats(struct srv_queue *q, FILE *out, bool all);

#endif
