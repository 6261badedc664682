/* The path emulator (after ns-2/netem's model of a link): every frame the inner device receives is taken
 * in at once and stamped; it leaves a FIFO bottleneck at max(arrival, previous departure) + len*8/rate,
 * and is handed to the caller at departure + delay (+ reorder_extra if picked for reordering). Held
 * frames wait in a min-heap keyed on (due time, arrival number), so due frames come out in due order
 * and first-in-first-out among equals. A frame is held, delivered or given back: never lost. */
#include "smolxdp/dev_path.h"
#include "smolxdp/mem.h"

#define PATH_DEFAULT_HELD 1024u
#define PATH_MAX_HELD (1u << 20) /* keeps the tables' size far from overflowing a size_t */
#define PATH_TAKE_BATCH 16u      /* frames asked of the inner device per call while taking in */

struct path_held {
	smx_instant at; /* when it is due */
	uint64_t seq;   /* arrival number: first in, first out among equal `at` */
	struct dev_frame f;
};

/* A frame still waiting for (or crossing) the bottleneck: it counts against the queue until it leaves. */
struct path_wait {
	smx_instant depart; /* departure rounded up to the microsecond */
	uint32_t len;
};

struct dev_path {
	struct dev dev; /* first: the ops cast back */
	struct dev_path_config cfg;
	uint64_t rng;
	uint64_t seq;
	struct path_held *heap;
	uint32_t held;
	struct path_wait *wait; /* ring of max_held, only with a rate; departures are in FIFO order */
	uint32_t wait_head, wait_count;
	uint64_t wait_bytes;
	/* The bottleneck is busy until busy_us + busy_ns / 1000: nanoseconds kept apart so that per-frame
	 * serialisation times (121.12 us for 1514 bytes at 100 Mbit/s) do not accumulate rounding. */
	smx_instant busy_us;
	uint32_t busy_ns;
	struct dev_path_stats stats;
};

static struct dev_path *path_of(struct dev *d)
{
	return (struct dev_path *)d;
}

static smx_instant sat_add(smx_instant a, smx_instant b)
{
	return a > SMX_INSTANT_NEVER - 1 - b ? SMX_INSTANT_NEVER - 1 : a + b;
}

/* ---- the held frames: a binary min-heap on (at, seq) ---- */

static bool held_before(const struct path_held *x, const struct path_held *y)
{
	return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

static void held_swap(struct path_held *x, struct path_held *y)
{
	struct path_held t = *x;
	*x = *y;
	*y = t;
}

static void heap_push(struct dev_path *p, const struct path_held *h)
{
	uint32_t i = p->held++;

	p->heap[i] = *h;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!held_before(&p->heap[i], &p->heap[up]))
			break;
		held_swap(&p->heap[i], &p->heap[up]);
		i = up;
	}
}

static struct dev_frame heap_pop(struct dev_path *p)
{
	struct dev_frame top = p->heap[0].f;
	uint32_t i = 0;

	p->heap[0] = p->heap[--p->held];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < p->held && held_before(&p->heap[l], &p->heap[m]))
			m = l;
		if (r < p->held && held_before(&p->heap[r], &p->heap[m]))
			m = r;
		if (m == i)
			break;
		held_swap(&p->heap[i], &p->heap[m]);
		i = m;
	}
	return top;
}

/* ---- the bottleneck ---- */

/* Serialisation time. No Ethernet frame is longer than 64 KB; clamping keeps len*8e9 within 64 bits. */
static uint64_t tx_ns(const struct dev_path *p, uint32_t len)
{
	uint64_t bits = (uint64_t)SMX_MIN(len, 0xffffu) * 8u;
	return bits * 1000000000ull / p->cfg.rate;
}

/* Frames that left the bottleneck by `now` no longer count against the queue. */
static void wait_expire(struct dev_path *p, smx_instant now)
{
	while (p->wait_count > 0 && p->wait[p->wait_head].depart <= now) {
		p->wait_bytes -= p->wait[p->wait_head].len;
		p->wait_head = (p->wait_head + 1) % p->cfg.max_held;
		p->wait_count--;
	}
}

/* Queues a frame of len bytes arriving at now; its departure (rounded up to the microsecond), or
 * SMX_INSTANT_NEVER if the queue is full (drop-tail). */
static smx_instant bottleneck_enter(struct dev_path *p, smx_instant now, uint32_t len)
{
	wait_expire(p, now);
	if (p->cfg.queue && p->wait_bytes + len > p->cfg.queue)
		return SMX_INSTANT_NEVER;
	if (p->wait_count >= p->cfg.max_held) /* cannot happen: every waiting frame is also held */
		return SMX_INSTANT_NEVER;
	if (p->busy_us < now || (p->busy_us == now && p->busy_ns == 0)) { /* idle: starts at once */
		p->busy_us = now;
		p->busy_ns = 0;
	}
	uint64_t ns = p->busy_ns + tx_ns(p, len);
	p->busy_us = sat_add(p->busy_us, ns / 1000);
	p->busy_ns = (uint32_t)(ns % 1000);

	smx_instant depart = sat_add(p->busy_us, p->busy_ns > 0);
	struct path_wait *w = &p->wait[(p->wait_head + p->wait_count) % p->cfg.max_held];
	w->depart = depart;
	w->len = len;
	p->wait_count++;
	p->wait_bytes += len;
	return depart;
}

/* ---- receive ---- */

static void path_admit(struct dev_path *p, const struct dev_frame *f, smx_instant now)
{
	struct path_held h = {.f = *f};
	smx_instant at = now;

	p->stats.in++;
	if (p->held >= p->cfg.max_held) {
		p->stats.dropped_full++;
		dev_rx_release(p->cfg.inner, f, 1);
		return;
	}
	if (p->cfg.rate) {
		at = bottleneck_enter(p, now, f->len);
		if (at == SMX_INSTANT_NEVER) {
			p->stats.dropped_queue++;
			dev_rx_release(p->cfg.inner, f, 1);
			return;
		}
	}
	at = sat_add(at, p->cfg.delay);
	/* Reordering after the bottleneck, as on a multipath hop: the link's timing is unchanged. */
	if (p->cfg.reorder_pct && p->cfg.reorder_extra && smx_rand_below(&p->rng, 100) < p->cfg.reorder_pct) {
		at = sat_add(at, p->cfg.reorder_extra);
		p->stats.reordered++;
	}
	h.at = at;
	h.seq = p->seq++;
	heap_push(p, &h);
}

/* Everything the inner device has arrives now. Bounded so that an inner device that never runs dry
 * cannot keep us here: what is left is taken at the next call. */
static void path_take_in(struct dev_path *p, smx_instant now)
{
	struct dev_frame buf[PATH_TAKE_BATCH];
	uint64_t taken = 0;

	for (;;) {
		size_t n = dev_rx_burst(p->cfg.inner, buf, PATH_TAKE_BATCH, now);
		for (size_t i = 0; i < n; i++)
			path_admit(p, &buf[i], now);
		taken += n;
		if (n < PATH_TAKE_BATCH || taken > p->cfg.max_held)
			break;
	}
}

static size_t path_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct dev_path *p = path_of(d);
	size_t n = 0;

	path_take_in(p, now);
	while (n < max && p->held > 0 && p->heap[0].at <= now)
		frames[n++] = heap_pop(p);
	p->stats.delivered += n;
	return n;
}

static void path_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	dev_rx_release(path_of(d)->cfg.inner, frames, n);
}

/* ---- transmit: straight through ---- */

static bool path_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	return dev_tx_reserve(path_of(d)->cfg.inner, f, now);
}

static void path_tx_submit(struct dev *d, const struct dev_frame *f)
{
	dev_tx_submit(path_of(d)->cfg.inner, f);
}

static void path_tx_abort(struct dev *d, const struct dev_frame *f)
{
	dev_tx_abort(path_of(d)->cfg.inner, f);
}

static void path_tx_flush(struct dev *d, smx_instant now)
{
	dev_tx_flush(path_of(d)->cfg.inner, now);
}

static void path_get_caps(const struct dev *d, struct dev_caps *caps)
{
	dev_get_caps(((const struct dev_path *)d)->cfg.inner, caps);
}

static const struct dev_ops path_ops = {
	.rx_burst = path_rx_burst,
	.rx_release = path_rx_release,
	.tx_reserve = path_tx_reserve,
	.tx_submit = path_tx_submit,
	.tx_abort = path_tx_abort,
	.tx_flush = path_tx_flush,
	.get_caps = path_get_caps,
};

/* ---- memory and life cycle ---- */

static uint32_t path_max_held(const struct dev_path_config *cfg)
{
	return cfg->max_held ? cfg->max_held : PATH_DEFAULT_HELD;
}

static void path_layout(struct smx_carve *c, const struct dev_path_config *cfg, struct dev_path **p)
{
	uint32_t max = path_max_held(cfg);

	*p = smx_carve_take(c, sizeof(struct dev_path));
	struct path_held *heap = smx_carve_take(c, (size_t)max * sizeof(struct path_held));
	struct path_wait *wait = cfg->rate ? smx_carve_take(c, (size_t)max * sizeof(struct path_wait)) : NULL;
	if (!c->base)
		return;
	memset(*p, 0, sizeof(**p));
	(*p)->heap = heap;
	(*p)->wait = wait;
}

static bool path_config_ok(const struct dev_path_config *cfg)
{
	return cfg && cfg->inner && path_max_held(cfg) <= PATH_MAX_HELD;
}

size_t dev_path_mem_size(const struct dev_path_config *cfg)
{
	struct smx_carve c;
	struct dev_path *p;

	if (!path_config_ok(cfg))
		return 0;
	smx_carve_start(&c, NULL);
	path_layout(&c, cfg, &p);
	return smx_carve_total(&c);
}

struct dev_path *dev_path_init(void *mem, size_t mem_size, const struct dev_path_config *cfg)
{
	struct smx_carve c;
	struct dev_path *p;

	if (!mem || !path_config_ok(cfg) || mem_size < dev_path_mem_size(cfg))
		return NULL;
	smx_carve_start(&c, mem);
	path_layout(&c, cfg, &p);
	p->dev.ops = &path_ops;
	p->cfg = *cfg;
	p->cfg.max_held = path_max_held(cfg);
	if (p->cfg.reorder_pct > 100)
		p->cfg.reorder_pct = 100;
	p->rng = cfg->seed;
	return p;
}

struct dev *dev_path_dev(struct dev_path *p)
{
	return &p->dev;
}

smx_instant dev_path_next_at(const struct dev_path *p)
{
	return p->held > 0 ? p->heap[0].at : SMX_INSTANT_NEVER;
}

uint32_t dev_path_held(const struct dev_path *p)
{
	return p->held;
}

const struct dev_path_stats *dev_path_stats(const struct dev_path *p)
{
	return &p->stats;
}

void dev_path_release_all(struct dev_path *p)
{
	for (uint32_t i = 0; i < p->held; i++)
		dev_rx_release(p->cfg.inner, &p->heap[i].f, 1);
	p->held = 0;
	p->wait_head = p->wait_count = 0;
	p->wait_bytes = 0;
	p->busy_us = 0;
	p->busy_ns = 0;
}
