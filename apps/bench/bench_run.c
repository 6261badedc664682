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
			/* One reply is awaited: ask for a few, so a stray late one does not hide it. */
			n = t->recv(t->ctx, rx, 4, o->wait, deadline);
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

/* The messages in flight: exactly `window` slots, each flow owning a fixed range of them with a stack
 * of its free ones. A message names its slot, so a reply is matched in O(1) however late it comes
 * and however far the other flows have run ahead. */
struct flight {
	unsigned nslots;
	uint64_t *seq;  /* 0: slot free */
	uint64_t *sent;
	uint32_t *flow_of;
	uint32_t *free_stack; /* per flow: free slot numbers at [lo, lo + free_count) */
	unsigned *lo, *free_count;
};

static void flight_put(struct flight *f, uint32_t slot)
{
	uint32_t fl = f->flow_of[slot];
	f->seq[slot] = 0;
	f->free_stack[f->lo[fl] + f->free_count[fl]++] = slot;
}

static void flight_free(struct flight *f)
{
	free(f->seq);
	free(f->sent);
	free(f->flow_of);
	free(f->free_stack);
	free(f->lo);
	free(f->free_count);
}

static int flight_init(struct flight *f, const struct bench_opts *o)
{
	f->nslots = o->window;
	f->seq = calloc(o->window, sizeof(uint64_t));
	f->sent = calloc(o->window, sizeof(uint64_t));
	f->flow_of = calloc(o->window, sizeof(uint32_t));
	f->free_stack = calloc(o->window, sizeof(uint32_t));
	f->lo = calloc(o->flows, sizeof(unsigned));
	f->free_count = calloc(o->flows, sizeof(unsigned));
	if (!f->seq || !f->sent || !f->flow_of || !f->free_stack || !f->lo || !f->free_count)
		return -ENOMEM;
	unsigned next = 0;
	for (unsigned fl = 0; fl < o->flows; fl++) {
		unsigned share = o->window / o->flows + (fl < o->window % o->flows);
		f->lo[fl] = next;
		for (unsigned i = 0; i < share; i++) {
			f->flow_of[next + i] = fl;
			f->free_stack[next + i] = next + i;
		}
		f->free_count[fl] = share;
		next += share;
	}
	return 0;
}

int bench_run_rate(struct bench_transport *t, const struct bench_opts *o, struct bench_result *r)
{
	struct bench_rx rx[RX_MAX];
	struct bench_msg_hdr batch[64];
	struct flight f = { 0 };
	int err = flight_init(&f, o);
	if (err < 0)
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
			while (f.free_count[fl] > 0) {
				size_t n = SMX_BENCH_MIN(f.free_count[fl], SMX_BENCH_ARRAY_LEN(batch));
				for (size_t i = 0; i < n; i++) {
					uint32_t slot = f.free_stack[f.lo[fl] + f.free_count[fl] - 1 - i];
					batch[i] = (struct bench_msg_hdr){
						.flow = fl, .slot = slot, .seq = seq + 1 + i, .sent_ns = now };
				}
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
					uint32_t slot = batch[i].slot;
					f.seq[slot] = batch[i].seq;
					f.sent[slot] = now;
					if (now >= warm_end)
						r->sent++;
				}
				f.free_count[fl] -= (unsigned)sent;
				in_flight += (uint64_t)sent;
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
			uint32_t slot = rx[i].hdr.slot;
			if (slot >= f.nslots || f.seq[slot] == 0 || f.seq[slot] != rx[i].hdr.seq) {
				r->late++;
				continue;
			}
			if (f.sent[slot] >= warm_end) {
				r->received++;
				bench_hist_add(&r->hist, rx_ns - f.sent[slot]);
			}
			flight_put(&f, slot);
			in_flight--;
		}
		/* Give up on messages older than the timeout, a few times per timeout. */
		if (rx_ns - last_sweep >= o->timeout_ns / 4) {
			last_sweep = rx_ns;
			for (uint32_t s = 0; s < f.nslots; s++) {
				if (f.seq[s] && rx_ns - f.sent[s] >= o->timeout_ns) {
					if (f.sent[s] >= warm_end)
						r->lost++;
					flight_put(&f, s);
					in_flight--;
				}
			}
		}
	}
	r->elapsed_s = o->duration_s;
	r->foreign = t->foreign;
	err = 0;
out:
	flight_free(&f);
	return err;
}
