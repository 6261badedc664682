/* The two measurement loops of smolxdp-bench, over any transport: ping-pong (one message in flight,
 * RTT of each) and windowed echo rate (a fixed number in flight across several flows, replies counted
 * per second, RTT under load recorded too). Only messages sent inside the measured interval count. */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RX_MAX 256

static void result_init(struct bench_result *r)
{
	memset(r, 0, offsetof(struct bench_result, hist));
	bench_hist_init(&r->hist);
}

int bench_run_pingpong(struct bench_transport *t, const struct bench_opts *o, struct bench_result *r)
{
	struct bench_rx rx[RX_MAX];
	uint64_t start = bench_now_ns();
	uint64_t warm_end = start + (uint64_t)(o->warmup_s * 1e9);
	uint64_t end = warm_end + (uint64_t)(o->duration_s * 1e9);
	uint64_t seq = 0, next_send = start;
	unsigned flow = 0;

	result_init(r);
	for (;;) {
		uint64_t now = bench_now_ns();
		if (o->interval_ns) {
			while (now < next_send) {
				if (o->wait == BENCH_BLOCK) {
					uint64_t d = next_send - now;
					struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
					nanosleep(&ts, NULL);
				}
				now = bench_now_ns();
			}
			next_send = now + o->interval_ns;
		}
		if (now >= end)
			break;
		bool measured = now >= warm_end;
		struct bench_msg_hdr h = { .flow = flow, .seq = ++seq, .sent_ns = now };
		int n = t->send(t->ctx, flow, &h, 1, o->size);
		if (n < 0)
			return n;
		if (n == 0) {
			r->send_errors++;
			continue;
		}
		if (measured)
			r->sent++;
		uint64_t deadline = now + o->timeout_ns;
		bool answered = false;
		while (!answered) {
			n = t->recv(t->ctx, rx, RX_MAX, o->wait, deadline);
			uint64_t rx_ns = bench_now_ns();
			if (n < 0)
				return n;
			for (int i = 0; i < n; i++) {
				if (rx[i].hdr.seq == h.seq && rx[i].hdr.flow == flow && rx[i].hdr.sent_ns == h.sent_ns &&
				    !answered) {
					answered = true;
					if (measured) {
						r->received++;
						bench_hist_add(&r->hist, rx_ns - h.sent_ns);
					}
				} else {
					r->late++;
				}
			}
			if (!answered && rx_ns >= deadline) {
				if (measured)
					r->lost++;
				break;
			}
		}
		flow = (flow + 1) % o->flows;
	}
	r->elapsed_s = o->duration_s;
	r->foreign = t->foreign;
	return 0;
}

/* The messages in flight, indexed by sequence number modulo a power of two at least 4x the window. */
struct flight {
	size_t mask;
	uint64_t *seq; /* 0: slot empty */
	uint64_t *sent;
	uint32_t *flow;
	unsigned *per_flow; /* in flight per flow */
};

static void flight_retire(struct flight *f, size_t slot)
{
	f->per_flow[f->flow[slot]]--;
	f->seq[slot] = 0;
}

int bench_run_rate(struct bench_transport *t, const struct bench_opts *o, struct bench_result *r)
{
	struct bench_rx rx[RX_MAX];
	struct bench_msg_hdr batch[64];
	struct flight f = { 0 };
	int err = -ENOMEM;
	size_t ring = 1024;
	while (ring < 4u * o->window)
		ring <<= 1;
	f.mask = ring - 1;
	f.seq = calloc(ring, sizeof(uint64_t));
	f.sent = calloc(ring, sizeof(uint64_t));
	f.flow = calloc(ring, sizeof(uint32_t));
	f.per_flow = calloc(o->flows, sizeof(unsigned));
	if (!f.seq || !f.sent || !f.flow || !f.per_flow)
		goto out;

	result_init(r);
	uint64_t start = bench_now_ns();
	uint64_t warm_end = start + (uint64_t)(o->warmup_s * 1e9);
	uint64_t end = warm_end + (uint64_t)(o->duration_s * 1e9);
	uint64_t seq = 0, last_sweep = start, in_flight = 0;
	bool draining = false;
	for (;;) {
		uint64_t now = bench_now_ns();
		if (now >= end)
			draining = true;
		if (draining && in_flight == 0)
			break;
		/* Top up every flow's share of the window. */
		for (unsigned fl = 0; fl < o->flows && !draining; fl++) {
			unsigned share = o->window / o->flows + (fl < o->window % o->flows);
			while (f.per_flow[fl] < share) {
				size_t n = SMX_BENCH_MIN(share - f.per_flow[fl], SMX_BENCH_ARRAY_LEN(batch));
				for (size_t i = 0; i < n; i++)
					batch[i] = (struct bench_msg_hdr){ .flow = fl, .seq = seq + 1 + i, .sent_ns = now };
				int sent = t->send(t->ctx, fl, batch, n, o->size);
				if (sent < 0) {
					err = sent;
					goto out;
				}
				if (sent == 0) {
					r->send_errors++;
					break;
				}
				for (int i = 0; i < sent; i++) {
					size_t slot = (size_t)(seq + 1 + (uint64_t)i) & f.mask;
					if (f.seq[slot]) { /* overtaken by a whole ring of later messages: lost */
						if (f.sent[slot] >= warm_end)
							r->lost++;
						flight_retire(&f, slot);
						in_flight--;
					}
					f.seq[slot] = seq + 1 + (uint64_t)i;
					f.sent[slot] = now;
					f.flow[slot] = fl;
					f.per_flow[fl]++;
					in_flight++;
					if (now >= warm_end)
						r->sent++;
				}
				seq += (uint64_t)sent;
			}
		}
		int n = t->recv(t->ctx, rx, RX_MAX, o->wait, now + o->timeout_ns);
		if (n < 0) {
			err = n;
			goto out;
		}
		uint64_t rx_ns = bench_now_ns();
		for (int i = 0; i < n; i++) {
			size_t slot = (size_t)rx[i].hdr.seq & f.mask;
			if (rx[i].hdr.seq == 0 || f.seq[slot] != rx[i].hdr.seq || f.sent[slot] != rx[i].hdr.sent_ns) {
				r->late++;
				continue;
			}
			if (f.sent[slot] >= warm_end) {
				r->received++;
				bench_hist_add(&r->hist, rx_ns - f.sent[slot]);
			}
			flight_retire(&f, slot);
			in_flight--;
		}
		/* Give up on messages older than the timeout, a few times per timeout. */
		if (rx_ns - last_sweep >= o->timeout_ns / 4) {
			last_sweep = rx_ns;
			for (size_t s = 0; s <= f.mask; s++) {
				if (f.seq[s] && rx_ns - f.sent[s] >= o->timeout_ns) {
					if (f.sent[s] >= warm_end)
						r->lost++;
					flight_retire(&f, s);
					in_flight--;
				}
			}
		}
	}
	r->elapsed_s = o->duration_s;
	r->foreign = t->foreign;
	err = 0;
out:
	free(f.seq);
	free(f.sent);
	free(f.flow);
	free(f.per_flow);
	return err;
}
