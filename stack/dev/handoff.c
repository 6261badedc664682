/* The hand-off devices of one interface's queues (smolxdp/dev_handoff.h). Ring [src][dst] is written
 * only by src's rx_burst and read only by dst's, so each is single-producer single-consumer. Frames
 * from a ring are lent to the stack in place and freed in ring order once released, in whatever order
 * the stack releases them (a per-slot mark, touched by the consumer only). */
#include "smolxdp/dev_handoff.h"
#include "smolxdp/frame_ring.h"
#include "smolxdp/mem.h"

struct handoff_queue {
	struct dev dev; /* first: the ops cast back */
	struct dev_handoff_group *g;
	struct dev *inner;
	uint32_t self;
	struct dev_handoff_stats stats;
	uint32_t *lent;     /* [src]: frames of ring [src][self] lent to the stack, oldest first */
	uint8_t *released;  /* [src * slots + slot]: lent and released, not yet freed */
};

struct dev_handoff_group {
	struct dev_handoff_config cfg;
	struct frame_ring **rings; /* [src * queues + dst], NULL where src == dst */
	struct handoff_queue *q;
};

static void set_defaults(struct dev_handoff_config *c)
{
	if (c->ring_slots == 0)
		c->ring_slots = 256;
	if (c->slot_size == 0)
		c->slot_size = 2048;
}

static struct dev_handoff_group *layout(struct smx_carve *c, const struct dev_handoff_config *cfg)
{
	uint32_t n = cfg->queues;
	size_t ring_size = frame_ring_mem_size(cfg->ring_slots, cfg->slot_size);
	struct dev_handoff_group *g = smx_carve_take(c, sizeof(*g));
	struct frame_ring **rings = smx_carve_take(c, sizeof(*rings) * n * n);
	struct handoff_queue *q = smx_carve_take(c, sizeof(*q) * n);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t *lent = smx_carve_take(c, sizeof(uint32_t) * n);
		uint8_t *rel = smx_carve_take(c, (size_t)n * cfg->ring_slots);
		if (q) {
			q[i].lent = lent;
			q[i].released = rel;
		}
	}
	for (uint32_t i = 0; i < n * n; i++) {
		void *mem = smx_carve_take(c, ring_size);
		if (rings)
			rings[i] = i / n == i % n ? NULL : frame_ring_init(mem, ring_size, cfg->ring_slots,
									   cfg->slot_size);
	}
	if (g) {
		g->rings = rings;
		g->q = q;
	}
	return g;
}

static bool cfg_ok(const struct dev_handoff_config *c)
{
	return c->queues >= 1 && c->queues <= DEV_HANDOFF_MAX_QUEUES && c->owner &&
	       frame_ring_mem_size(c->ring_slots, c->slot_size) > 0;
}

size_t dev_handoff_mem_size(const struct dev_handoff_config *cfg)
{
	struct dev_handoff_config c = *cfg;
	struct smx_carve cv;

	set_defaults(&c);
	if (!cfg_ok(&c))
		return 0;
	smx_carve_start(&cv, NULL);
	layout(&cv, &c);
	return smx_carve_total(&cv);
}

static struct frame_ring *ring(const struct dev_handoff_group *g, uint32_t src, uint32_t dst)
{
	return g->rings[src * g->cfg.queues + dst];
}

/* Copies a frame to dst's ring, counted either way. */
static void hand_to(struct handoff_queue *hq, uint32_t dst, const struct dev_frame *f)
{
	if (f->len > hq->g->cfg.slot_size)
		hq->stats.too_big++;
	else if (frame_ring_push(ring(hq->g, hq->self, dst), f->data, f->len))
		hq->stats.handed_off++;
	else
		hq->stats.ring_full++;
}

/* true: the stack of this queue gets the frame too. */
static bool steer(struct handoff_queue *hq, const struct dev_frame *f)
{
	const struct dev_handoff_config *c = &hq->g->cfg;
	uint32_t o = c->owner(c->owner_ctx, hq->self, f->data, f->len);

	if (o == DEV_HANDOFF_ALL) {
		for (uint32_t d = 0; d < c->queues; d++)
			if (d != hq->self)
				hand_to(hq, d, f);
		return true;
	}
	if (o == hq->self || o >= c->queues)
		return true;
	hand_to(hq, o, f);
	return false;
}

static uint32_t unlent(struct handoff_queue *hq, uint32_t src)
{
	return frame_ring_count(ring(hq->g, src, hq->self)) - hq->lent[src];
}

uint32_t dev_handoff_pending(struct dev_handoff_group *g, uint32_t q)
{
	struct handoff_queue *hq = &g->q[q];
	uint32_t n = 0;

	for (uint32_t s = 0; s < g->cfg.queues; s++)
		if (s != q)
			n += unlent(hq, s);
	return n;
}

/* Lends up to max frames from the rings into frames; returns how many. */
static size_t lend(struct handoff_queue *hq, struct dev_frame *frames, size_t max)
{
	size_t k = 0;

	for (uint32_t s = 0; s < hq->g->cfg.queues && k < max; s++) {
		if (s == hq->self)
			continue;
		struct frame_ring *r = ring(hq->g, s, hq->self);
		uint32_t avail = unlent(hq, s);
		for (; avail > 0 && k < max; avail--, k++) {
			uint32_t i = hq->lent[s]++;
			frames[k].len = frame_ring_peek(r, i, &frames[k].data);
			frames[k].cap = 0;
			frames[k].handle = (uint64_t)s << 32 | frame_ring_slot_of(r, i);
		}
	}
	hq->stats.received += k;
	return k;
}

static size_t handoff_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct handoff_queue *hq = (struct handoff_queue *)d;
	uint32_t waiting = dev_handoff_pending(hq->g, hq->self);
	/* Room for what others handed over, up to half a batch, so neither side starves the other. */
	size_t for_rings = SMX_MIN((size_t)waiting, max / 2 ? max / 2 : max);
	size_t n = dev_rx_burst(hq->inner, frames, max - for_rings, now);
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (steer(hq, &frames[i]))
			frames[kept++] = frames[i];
		else
			dev_rx_release(hq->inner, &frames[i], 1);
	}
	return kept + lend(hq, frames + kept, max - kept);
}

/* A released ring frame is marked; the ring is freed up to the oldest frame still lent. */
static bool release_ring_frame(struct handoff_queue *hq, const struct dev_frame *f)
{
	uint32_t src = (uint32_t)(f->handle >> 32), slot, slots = hq->g->cfg.ring_slots, freed = 0;
	struct frame_ring *r;

	if (src >= hq->g->cfg.queues || src == hq->self)
		return false;
	r = ring(hq->g, src, hq->self);
	if (!frame_ring_owns(r, f->data, &slot))
		return false;
	uint8_t *rel = hq->released + (size_t)src * slots;
	rel[slot] = 1;
	while (freed < hq->lent[src] && rel[frame_ring_slot_of(r, freed)]) {
		rel[frame_ring_slot_of(r, freed)] = 0;
		freed++;
	}
	if (freed) {
		frame_ring_pop(r, freed);
		hq->lent[src] -= freed;
	}
	return true;
}

static void handoff_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	struct handoff_queue *hq = (struct handoff_queue *)d;
	size_t run = 0; /* inner frames waiting to go back together */

	for (size_t i = 0; i < n; i++) {
		if (!release_ring_frame(hq, &frames[i])) {
			run++;
			continue;
		}
		if (run)
			dev_rx_release(hq->inner, frames + i - run, run);
		run = 0;
	}
	if (run)
		dev_rx_release(hq->inner, frames + n - run, run);
}

static bool handoff_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	return dev_tx_reserve(((struct handoff_queue *)d)->inner, f, now);
}

static void handoff_tx_submit(struct dev *d, const struct dev_frame *f)
{
	dev_tx_submit(((struct handoff_queue *)d)->inner, f);
}

static void handoff_tx_abort(struct dev *d, const struct dev_frame *f)
{
	dev_tx_abort(((struct handoff_queue *)d)->inner, f);
}

static void handoff_tx_flush(struct dev *d, smx_instant now)
{
	dev_tx_flush(((struct handoff_queue *)d)->inner, now);
}

static void handoff_get_caps(const struct dev *d, struct dev_caps *caps)
{
	/* Every queue's device is of one kind: what the inner one verified, the others' did too. */
	dev_get_caps(((const struct handoff_queue *)d)->inner, caps);
}

static const struct dev_ops handoff_ops = {
	.rx_burst = handoff_rx_burst,
	.rx_release = handoff_rx_release,
	.tx_reserve = handoff_tx_reserve,
	.tx_submit = handoff_tx_submit,
	.tx_abort = handoff_tx_abort,
	.tx_flush = handoff_tx_flush,
	.get_caps = handoff_get_caps,
};

struct dev_handoff_group *dev_handoff_init(void *mem, size_t mem_size, const struct dev_handoff_config *cfg)
{
	struct dev_handoff_config c = *cfg;
	struct dev_handoff_group *g;
	struct smx_carve cv;

	set_defaults(&c);
	if (!mem || !cfg_ok(&c) || mem_size < dev_handoff_mem_size(&c))
		return NULL;
	memset(mem, 0, mem_size);
	smx_carve_start(&cv, mem);
	g = layout(&cv, &c);
	g->cfg = c;
	return g;
}

struct dev *dev_handoff_queue(struct dev_handoff_group *g, uint32_t q, struct dev *inner)
{
	struct handoff_queue *hq;

	if (q >= g->cfg.queues || !inner)
		return NULL;
	hq = &g->q[q];
	hq->dev.ops = &handoff_ops;
	hq->g = g;
	hq->inner = inner;
	hq->self = q;
	return &hq->dev;
}

void dev_handoff_stats(const struct dev_handoff_group *g, uint32_t q, struct dev_handoff_stats *out)
{
	*out = q < g->cfg.queues ? g->q[q].stats : (struct dev_handoff_stats){ 0 };
}
