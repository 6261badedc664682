/* smolxdp-server: the seed's server example (smoltcp examples/server.rs) over AF_XDP. Attaches the
 * steering program to IFACE, runs one stack per RX queue on its own thread, answers ping, echoes UDP
 * port 6969, prints a line of rates every --stats seconds and its counters at exit, and detaches on
 * SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_sys.h"
#include "server.h"
#include "smolxdp/xsk_ntuple.h"

volatile sig_atomic_t srv_stop;

static void on_signal(int sig)
{
	(void)sig;
	srv_stop = 1;
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void print_all(struct srv_queue *qs, uint32_t n, bool all)
{
	for (uint32_t i = 0; i < n; i++)
		srv_queue_print_stats(&qs[i], stdout, all);
	fflush(stdout);
}

/* The XDP program's counters: what it gave the sockets and what it left to the kernel, and why. */
static void print_steering(const struct xsk_prog *prog)
{
	struct xsk_prog_stats s;

	if (xsk_prog_stats(prog, &s) != 0)
		return;
	printf("steering: steered %llu, passed %llu, malformed %llu, no_socket %llu, other_vlan %llu, "
	       "vlan_restored %llu\n", (unsigned long long)s.steered, (unsigned long long)s.passed,
	       (unsigned long long)s.malformed, (unsigned long long)s.no_socket,
	       (unsigned long long)s.other_vlan, (unsigned long long)s.vlan_restored);
	fflush(stdout);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The main thread only waits: for the stop signal, to print the --stats line every interval (on a
 * fixed schedule, however long each look took), and once a second to see that our steering program
 * is still attached (smolxdp-detach --force removes it, and then no traffic reaches us). Returns 0,
 * or -ENOLINK if the program was removed. */
static int wait_for_stop(struct srv_queue *qs, uint32_t n, const struct srv_opts *o, struct xsk_prog *prog,
			 struct srv_stats *stats)
{
	struct timespec tick = {.tv_nsec = 50 * 1000 * 1000};
	uint64_t next_stats = mono_ms() + (uint64_t)o->stats_secs * 1000, next_check = mono_ms() + 1000;

	while (!srv_stop) {
		uint64_t now;

		nanosleep(&tick, NULL);
		now = mono_ms();
		if (o->stats_secs && now >= next_stats) {
			srv_stats_tick(stats, qs, n, stdout);
			next_stats += (uint64_t)o->stats_secs * 1000;
			if (next_stats <= now) /* fell behind (suspended?): no burst of lines */
				next_stats = now + (uint64_t)o->stats_secs * 1000;
		}
		if (now >= next_check) {
			next_check = now + 1000;
			if (!xsk_prog_attached(prog)) {
				fprintf(stderr, "smolxdp-server: our XDP program was removed from %s (smolxdp-detach "
					"--force?): no traffic reaches us any more; stopping\n", o->ifname);
				return -ENOLINK;
			}
		}
	}
	return 0;
}

/* Refuses an address the kernel has on the interface, unless --force: steering it to us takes the
 * host's own traffic to it (ssh on a real NIC). */
static int check_address(const struct srv_opts *o)
{
	char ip[16];
	int owned = app_kernel_has_addr(o->ifname, o->ip.addr);

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", o->ip.addr >> 24, (o->ip.addr >> 16) & 255,
		 (o->ip.addr >> 8) & 255, o->ip.addr & 255);
	if (owned <= 0)
		return 0;
	if (o->force) {
		fprintf(stderr, "smolxdp-server: warning: taking %s from the kernel on %s (--force): the host's "
			"own traffic to it now reaches us\n", ip, o->ifname);
		return 0;
	}
	fprintf(stderr, "smolxdp-server: the kernel has %s on %s: serving it would cut the host's own "
		"traffic to it (ssh); choose another --ip, or --force\n", ip, o->ifname);
	return -EADDRINUSE;
}

int main(int argc, char **argv)
{
	static struct srv_queue qs[SRV_MAX_QUEUES];
	static struct srv_stats stats;
	struct srv_opts o;
	struct xsk_prog *prog = NULL;
	struct xsk_ntuple rule = {0};
	uint32_t opened = 0, started = 0;
	void *neigh_mem = NULL;
	struct iface_neigh_table *neigh = NULL;
	int err;

	err = srv_opts_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	err = install_signals();
	if (err < 0)
		goto out;
	struct xsk_log_app log = {.prog = "smolxdp-server", .max = o.verbose ? XSK_LOG_INFO : XSK_LOG_NOTICE};
	o.log = &log;
	/* Every capability the run needs, named at once, before anything is attached. */
	struct xsk_dev_opts xo = {.log = xsk_log_app_stderr, .log_ctx = &log};
	err = xsk_check_privileges(o.queues, &xo);
	if (err < 0) {
		fprintf(stderr, "smolxdp-server: %s\n", xsk_last_error());
		goto out;
	}
	err = check_address(&o);
	if (err < 0)
		goto out;
	err = srv_ntuple_check(&o, &rule);
	if (err < 0)
		goto out;
	struct xsk_prog_opts po = {.vlan_id = o.vlan_id, .log = xsk_log_app_stderr, .log_ctx = &log};
	err = xsk_prog_attach(o.ifname, &po, &prog);
	if (err < 0) {
		fprintf(stderr, "smolxdp-server: %s\n", xsk_last_error());
		goto out;
	}
	err = xsk_prog_add_addr(prog, o.ip.addr);
	if (err < 0) {
		fprintf(stderr, "smolxdp-server: cannot steer our address to the sockets: %s\n", strerror(-err));
		goto out;
	}
	/* The queues are one host on the link: a neighbour any of them learns, all use (the peer's ARP
	 * replies come to whichever queue its hash picks, not always the one that asked). */
	if (o.queues > 1) {
		size_t n = iface_neigh_table_mem_size(0);
		neigh_mem = malloc(n);
		neigh = neigh_mem ? iface_neigh_table_init(neigh_mem, n, 0) : NULL;
		if (!neigh) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (; opened < o.queues; opened++) {
		err = srv_queue_open(&qs[opened], &o, o.queue + opened, prog, neigh);
		if (err < 0) {
			opened++; /* partly open: close it too */
			goto out;
		}
	}
	srv_stats_start(&stats, opened);
	for (; started < opened; started++) {
		err = -pthread_create(&qs[started].thread, NULL, srv_queue_run, &qs[started]);
		if (err < 0) {
			fprintf(stderr, "smolxdp-server: cannot start a thread: %s\n", strerror(-err));
			srv_stop = 1;
			goto out;
		}
	}
	printf("smolxdp-server: %u.%u.%u.%u/%u on %s (queue%s %u", o.ip.addr >> 24, (o.ip.addr >> 16) & 255,
	       (o.ip.addr >> 8) & 255, o.ip.addr & 255, o.ip.prefix_len, o.ifname, o.queues > 1 ? "s" : "", o.queue);
	if (o.queues > 1)
		printf("-%u", o.queue + o.queues - 1);
	printf("), echoing UDP port %u", o.echo_port);
	if (o.tcp_conns)
		printf("; TCP 6969 hello, 6970 echo, 6971 discard, 6972 source");
	printf("; stop with Ctrl-C\n");
	fflush(stdout);
	err = wait_for_stop(qs, opened, &o, prog, &stats);
out:
	srv_stop = 1;
	for (uint32_t i = 0; i < started; i++) {
		pthread_join(qs[i].thread, NULL);
		if (qs[i].error && !err)
			err = qs[i].error;
	}
	if (started == opened && opened > 0) {
		print_all(qs, opened, false);
		print_steering(prog);
	}
	for (uint32_t i = 0; i < opened; i++)
		srv_queue_close(&qs[i]);
	xsk_prog_detach(prog);
	xsk_ntuple_remove(&rule);
	free(neigh_mem);
	return err < 0 ? 1 : 0;
}
