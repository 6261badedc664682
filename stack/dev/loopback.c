/* The loopback wire: a shared frame pool and, per end, a ring of frames submitted but not yet flushed
 * and a ring of frames waiting to be received. A frame index is on exactly one list at a time (free,
 * lent out, pending, receivable), so each ring's capacity is the pool size and can never overflow. */
#include "smolxdp/dev_loopback.h"
#include "smolxdp/mem.h"

struct lo_ring {
	uint32_t *slots;
	uint32_t head; /* next to take */
	uint32_t count;
};

struct lo_end {
	struct dev dev; /* first: the ops cast back */
	struct dev_loopback *wire;
	unsigned side;
	struct lo_ring pending; /* submitted, delivered to the receiver at tx_flush */
	struct lo_ring rx;      /* delivered, waiting for rx_burst */
	struct dev_loopback_stats stats;
};

struct dev_loopback {
	struct dev_loopback_config cfg;
	uint8_t *pool;
	uint32_t *lens; /* bytes in each frame, set at submit */
	uint32_t *free; /* stack of free frame indices */
	uint32_t free_count;
	struct lo_end ends[2];
};

static void ring_push(struct lo_ring *r, uint32_t cap, uint32_t v)
{
	r->slots[(r->head + r->count) % cap] = v;
	r->count++;
}

static uint32_t ring_pop(struct lo_ring *r, uint32_t cap)
{
	uint32_t v = r->slots[r->head];
	r->head = (r->head + 1) % cap;
	r->count--;
	return v;
}

static uint8_t *frame_data(struct dev_loopback *lo, uint32_t idx)
{
	return lo->pool + (size_t)idx * lo->cfg.frame_size;
}

static void free_push(struct dev_loopback *lo, uint64_t handle)
{
	if (handle < lo->cfg.frames && lo->free_count < lo->cfg.frames)
		lo->free[lo->free_count++] = (uint32_t)handle;
}

static struct lo_end *end_of(struct dev *d)
{
	return (struct lo_end *)d;
}

static size_t lo_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct lo_end *e = end_of(d);
	struct dev_loopback *lo = e->wire;
	size_t n = 0;

	while (n < max && e->rx.count > 0) {
		uint32_t idx = ring_pop(&e->rx, lo->cfg.frames);
		frames[n].data = frame_data(lo, idx);
		frames[n].len = lo->lens[idx];
		frames[n].cap = lo->cfg.frame_size;
		frames[n].handle = idx;
		n++;
	}
	e->stats.rx_frames += n;
	return n;
}

static void lo_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	struct dev_loopback *lo = end_of(d)->wire;

	for (size_t i = 0; i < n; i++)
		free_push(lo, frames[i].handle);
}

static bool lo_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	struct lo_end *e = end_of(d);
	struct dev_loopback *lo = e->wire;

	if (lo->free_count == 0) {
		e->stats.tx_no_frame++;
		return false;
	}
	uint32_t idx = lo->free[--lo->free_count];
	f->data = frame_data(lo, idx);
	f->len = 0;
	f->cap = lo->cfg.frame_size;
	f->handle = idx;
	return true;
}

static void lo_tx_submit(struct dev *d, const struct dev_frame *f)
{
	struct lo_end *e = end_of(d);
	struct dev_loopback *lo = e->wire;

	if (f->handle >= lo->cfg.frames)
		return;
	if (f->len > lo->cfg.frame_size) { /* a caller bug; drop rather than deliver garbage */
		free_push(lo, f->handle);
		return;
	}
	lo->lens[f->handle] = f->len;
	ring_push(&e->pending, lo->cfg.frames, (uint32_t)f->handle);
	e->stats.tx_frames++;
}

static void lo_tx_abort(struct dev *d, const struct dev_frame *f)
{
	free_push(end_of(d)->wire, f->handle);
}

static void lo_tx_flush(struct dev *d, smx_instant now)
{
	struct lo_end *e = end_of(d);
	struct dev_loopback *lo = e->wire;
	struct lo_end *peer = lo->cfg.loop_to_self ? e : &lo->ends[e->side ^ 1];

	while (e->pending.count > 0)
		ring_push(&peer->rx, lo->cfg.frames, ring_pop(&e->pending, lo->cfg.frames));
}

static void lo_get_caps(const struct dev *d, struct dev_caps *caps)
{
	const struct dev_loopback *lo = ((const struct lo_end *)d)->wire;

	caps->max_frame = lo->cfg.frame_size;
	caps->max_frame_tagged = 0; /* frame_size is the limit, tagged or not */
	caps->rx_batch = lo->cfg.rx_batch ? lo->cfg.rx_batch : 32;
	caps->csum = 0;
}

static const struct dev_ops lo_ops = {
	.rx_burst = lo_rx_burst,
	.rx_release = lo_rx_release,
	.tx_reserve = lo_tx_reserve,
	.tx_submit = lo_tx_submit,
	.tx_abort = lo_tx_abort,
	.tx_flush = lo_tx_flush,
	.get_caps = lo_get_caps,
};

static void lo_layout(struct smx_carve *c, const struct dev_loopback_config *cfg, struct dev_loopback **lo)
{
	*lo = smx_carve_take(c, sizeof(struct dev_loopback));
	uint8_t *pool = smx_carve_take(c, (size_t)cfg->frames * cfg->frame_size);
	uint32_t *lens = smx_carve_take(c, cfg->frames * sizeof(uint32_t));
	uint32_t *free_list = smx_carve_take(c, cfg->frames * sizeof(uint32_t));
	uint32_t *rings[4];
	for (int i = 0; i < 4; i++)
		rings[i] = smx_carve_take(c, cfg->frames * sizeof(uint32_t));
	if (!c->base)
		return;
	memset(*lo, 0, sizeof(**lo));
	(*lo)->pool = pool;
	(*lo)->free = free_list;
	(*lo)->lens = lens;
	for (int s = 0; s < 2; s++) {
		(*lo)->ends[s].pending.slots = rings[2 * s];
		(*lo)->ends[s].rx.slots = rings[2 * s + 1];
	}
}

size_t dev_loopback_mem_size(const struct dev_loopback_config *cfg)
{
	struct smx_carve c;
	struct dev_loopback *lo;

	smx_carve_start(&c, NULL);
	lo_layout(&c, cfg, &lo);
	return smx_carve_total(&c);
}

struct dev_loopback *dev_loopback_init(void *mem, size_t mem_size, const struct dev_loopback_config *cfg)
{
	struct smx_carve c;
	struct dev_loopback *lo;

	if (!mem || cfg->frames == 0 || cfg->frame_size < 60 || cfg->frame_size > 0xffff ||
	    mem_size < dev_loopback_mem_size(cfg))
		return NULL;
	smx_carve_start(&c, mem);
	lo_layout(&c, cfg, &lo);
	lo->cfg = *cfg;
	for (uint32_t i = 0; i < cfg->frames; i++)
		lo->free[i] = cfg->frames - 1 - i;
	lo->free_count = cfg->frames;
	for (unsigned s = 0; s < 2; s++) {
		lo->ends[s].dev.ops = &lo_ops;
		lo->ends[s].wire = lo;
		lo->ends[s].side = s;
	}
	return lo;
}

struct dev *dev_loopback_end(struct dev_loopback *lo, unsigned side)
{
	return &lo->ends[side & 1].dev;
}

const struct dev_loopback_stats *dev_loopback_stats(const struct dev_loopback *lo, unsigned side)
{
	return &lo->ends[side & 1].stats;
}

uint32_t dev_loopback_free_frames(const struct dev_loopback *lo)
{
	return lo->free_count;
}
