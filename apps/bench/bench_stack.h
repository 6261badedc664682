/* The smolxdp-stack transport of smolxdp-bench: an AF_XDP device, an interface and UDP (or ICMP echo)
 * on it, polled by the measurement loop itself, so the client costs far less per message than one on
 * Linux sockets. Built only when the stack and the AF_XDP device are (bench_stack_none.c otherwise). */
#ifndef SMX_BENCH_STACK_H
#define SMX_BENCH_STACK_H

#include "bench.h"

struct bench_stack_opts {
	const char *server;  /* set by main from SERVER_IP */
	uint16_t port;       /* set by main from --port */
	const char *ifname;  /* --iface */
	unsigned queue;      /* --queue: the first queue */
	unsigned queues;     /* --queues: how many, one device and interface each */
	const char *ip;      /* --ip ADDR/PREFIX, the client's own address */
	const char *mac;     /* --mac */
	uint16_t vlan_id;    /* --vlan ID[:PCP] (0: untagged) */
	uint8_t vlan_prio;
	bool busy_poll;      /* --xsk-busy-poll */
	int bind_mode;       /* 0 auto, 1 copy, 2 zero-copy */
};

enum {
	OPT_STACK_IFACE = 512, OPT_STACK_QUEUE, OPT_STACK_IP, OPT_STACK_MAC, OPT_STACK_BUSY_POLL,
	OPT_STACK_COPY, OPT_STACK_ZERO_COPY, OPT_STACK_QUEUES, OPT_STACK_VLAN,
};

#define BENCH_STACK_LONG_OPTS                                                                   \
	{ "iface", required_argument, 0, OPT_STACK_IFACE },                                       \
	{ "queue", required_argument, 0, OPT_STACK_QUEUE },                                       \
	{ "queues", required_argument, 0, OPT_STACK_QUEUES },                                     \
	{ "ip", required_argument, 0, OPT_STACK_IP }, { "mac", required_argument, 0, OPT_STACK_MAC }, \
	{ "vlan", required_argument, 0, OPT_STACK_VLAN },                                         \
	{ "xsk-busy-poll", no_argument, 0, OPT_STACK_BUSY_POLL },                                 \
	{ "copy", no_argument, 0, OPT_STACK_COPY }, { "zero-copy", no_argument, 0, OPT_STACK_ZERO_COPY },

void bench_stack_opts_init(struct bench_stack_opts *so);
/* Takes one of the OPT_STACK_* options: 0, -EINVAL with *why saying what is wrong with its value,
 * or -ENOENT if c is not one of them. */
int bench_stack_parse_opt(struct bench_stack_opts *so, int c, const char *arg, const char **why);
const char *bench_stack_usage(void);
/* Whether this build has the stack transport (false in bench_stack_none.c). */
bool bench_stack_available(void);
int bench_stack_open(struct bench_transport *t, const struct bench_opts *o, const struct bench_stack_opts *so);

#endif
