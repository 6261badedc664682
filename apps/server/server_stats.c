/* smolxdp-server's --stats line: every interval, one timestamped line of rates and counts since the
 * previous line, summed over the queues, from snapshots each queue's thread takes of its own counters
 * (so nothing is read while it is being written). The full counter block is printed at exit only. */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "server.h"

#define SNAPSHOT_WAIT_MS 1000 /* a queue's thread sleeps at most 100 ms between looks */

static int sample(struct srv_stats *st, struct srv_queue *qs, uint32_t n, struct srv_snapshot *out)
{
	struct timespec ms = {.tv_nsec = 1000 * 1000};

	st->seq++;
	for (uint32_t i = 0; i < n; i++)
		__atomic_store_n(&qs[i].snap_req, st->seq, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < n; i++) {
		int waited = 0;

		while (__atomic_load_n(&qs[i].snap_done, __ATOMIC_ACQUIRE) != st->seq) {
			if (srv_stop || ++waited > SNAPSHOT_WAIT_MS)
				return -ETIMEDOUT;
			nanosleep(&ms, NULL);
		}
		out[i] = qs[i].snap;
	}
	return 0;
}

/* Per second over the queue's own interval: each queue's snapshot has its own instant. */
static double rate(uint64_t now, uint64_t before, smx_instant dt_us)
{
	return (double)(now - before) * 1e6 / (double)dt_us;
}

static void print_line(FILE *out, const struct srv_snapshot *prev, const struct srv_snapshot *cur, uint32_t n)
{
	double fin = 0, fout = 0, bin = 0, bout = 0;
	uint64_t opened = 0, closed = 0, drops = 0;
	unsigned long long open = 0;
	char when[32];
	struct tm tm;
	time_t t = time(NULL);

	for (uint32_t i = 0; i < n; i++) {
		smx_instant dt = cur[i].at - prev[i].at;

		if (dt > 0) {
			fin += rate(cur[i].rx_frames, prev[i].rx_frames, dt);
			fout += rate(cur[i].tx_frames, prev[i].tx_frames, dt);
			bin += rate(cur[i].rx_bytes, prev[i].rx_bytes, dt);
			bout += rate(cur[i].tx_bytes, prev[i].tx_bytes, dt);
		}
		opened += cur[i].tcp_opened - prev[i].tcp_opened;
		closed += cur[i].tcp_ended - prev[i].tcp_ended;
		drops += cur[i].drops - prev[i].drops;
		open += cur[i].tcp_open;
	}
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* Fields are documented in --help; keep the line well under 150 characters. */
	fprintf(out, "%s stats: in %.0f f/s %.2f Mbit/s, out %.0f f/s %.2f Mbit/s; tcp opened %llu closed %llu "
		"open %llu; drops %llu\n", when, fin, bin * 8 / 1e6, fout, bout * 8 / 1e6,
		(unsigned long long)opened, (unsigned long long)closed, open, (unsigned long long)drops);
	fflush(out);
}

void srv_stats_start(struct srv_stats *st, uint32_t n)
{
	struct timespec ts;
	smx_instant now;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the queues' clock (server_queue.c) */
	now = (smx_instant)ts.tv_sec * 1000000u + (smx_instant)ts.tv_nsec / 1000u;
	for (uint32_t i = 0; i < n; i++)
		st->prev[i] = (struct srv_snapshot){.at = now};
	st->have_prev = true;
}

int srv_stats_tick(struct srv_stats *st, struct srv_queue *qs, uint32_t n, FILE *out)
{
	struct srv_snapshot cur[SRV_MAX_QUEUES];
	int err = sample(st, qs, n, cur);

	if (err < 0) {
		st->have_prev = false; /* start again from the next sample */
		return err;
	}
	if (st->have_prev)
		print_line(out, st->prev, cur, n);
	for (uint32_t i = 0; i < n; i++)
		st->prev[i] = cur[i];
	st->have_prev = true;
	return 0;
}
