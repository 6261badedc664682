/* smolxdp-server: the seed's server example (smoltcp examples/server.rs) over AF_XDP. Attaches the
 * steering program to IFACE, runs one stack per RX queue on its own thread, answers ping, echoes UDP
 * port 6969, prints counters (every --stats seconds and at exit), and detaches on SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

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

/* The main thread only waits: for the stop signal, and to print counters now and then. */
static void wait_for_stop(struct srv_queue *qs, uint32_t n, unsigned stats_secs)
{
	struct timespec tick = {.tv_nsec = 50 * 1000 * 1000};
	unsigned ticks = 0;

	while (!srv_stop) {
		nanosleep(&tick, NULL);
		if (stats_secs && ++ticks == stats_secs * 20) {
			ticks = 0;
			print_all(qs, n, false);
		}
	}
}

int main(int argc, char **argv)
{
	static struct srv_queue qs[SRV_MAX_QUEUES];
	struct srv_opts o;
	struct xsk_prog *prog = NULL;
	uint32_t opened = 0, started = 0;
	int err;

	err = srv_opts_parse(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	err = install_signals();
	if (err < 0)
		goto out;
	struct xsk_prog_opts po = {.log = xsk_log_stderr};
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
	for (; opened < o.queues; opened++) {
		err = srv_queue_open(&qs[opened], &o, o.queue + opened, prog);
		if (err < 0) {
			opened++; /* partly open: close it too */
			goto out;
		}
	}
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
	wait_for_stop(qs, opened, o.stats_secs);
	err = 0;
out:
	srv_stop = 1;
	for (uint32_t i = 0; i < started; i++) {
		pthread_join(qs[i].thread, NULL);
		if (qs[i].error && !err)
			err = qs[i].error;
	}
	if (started == opened && opened > 0)
		print_all(qs, opened, false);
	for (uint32_t i = 0; i < opened; i++)
		srv_queue_close(&qs[i]);
	xsk_prog_detach(prog);
	return err < 0 ? 1 : 0;
}
