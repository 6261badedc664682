/* The fault injector (after smoltcp's phy::FaultInjector): each frame in an affected direction may be
 * refused for size or rate, dropped, or have one byte flipped. Dropped received frames go straight back
 * to the inner device; dropped sent frames are aborted, so no frame is ever lost from a pool. */
#include "smolxdp/dev_fault.h"
#include "smolxdp/mem.h"

enum { DIR_RX = 0, DIR_TX = 1 };

static struct dev_fault *fault_of(struct dev *d)
{
	return (struct dev_fault *)d;
}

static bool chance(struct dev_fault *f, uint8_t pct)
{
	return pct > 0 && smx_rand_below(&f->rng, 100) < pct;
}

/* Fixed windows rather than a token bucket: simple, and a burst at a window edge is a fault too. */
static bool rate_allows(struct dev_fault *f, int dir, smx_instant now)
{
	smx_instant interval = f->cfg.rate_interval ? f->cfg.rate_interval : 1000000;

	if (f->cfg.rate_frames == 0)
		return true;
	if (now - f->window_start[dir] >= interval || now < f->window_start[dir]) {
		f->window_start[dir] = now;
		f->window_count[dir] = 0;
	}
	if (f->window_count[dir] >= f->cfg.rate_frames)
		return false;
	f->window_count[dir]++;
	return true;
}

/* Decides a frame's fate; true: let it through (possibly corrupted). */
static bool fault_pass(struct dev_fault *f, int dir, uint8_t *data, uint32_t len, smx_instant now)
{
	uint32_t mask = dir == DIR_RX ? DEV_FAULT_RX : DEV_FAULT_TX;

	if (!(f->cfg.dirs & mask))
		return true;
	if (f->cfg.max_size && len > f->cfg.max_size) {
		f->stats.too_big++;
		return false;
	}
	if (!rate_allows(f, dir, now)) {
		f->stats.rate_limited++;
		return false;
	}
	if (chance(f, f->cfg.drop_pct)) {
		f->stats.dropped++;
		return false;
	}
	if (len > 0 && chance(f, f->cfg.corrupt_pct)) {
		uint32_t at = smx_rand_below(&f->rng, len);
		data[at] ^= (uint8_t)(1u + smx_rand_below(&f->rng, 255)); /* never XOR by 0 */
		f->stats.corrupted++;
	}
	return true;
}

static size_t fault_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct dev_fault *f = fault_of(d);
	size_t n = dev_rx_burst(f->cfg.inner, frames, max, now);
	size_t kept = 0;

	f->last_now = now;
	for (size_t i = 0; i < n; i++) {
		if (fault_pass(f, DIR_RX, frames[i].data, frames[i].len, now))
			frames[kept++] = frames[i];
		else
			dev_rx_release(f->cfg.inner, &frames[i], 1);
	}
	return kept;
}

static void fault_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	dev_rx_release(fault_of(d)->cfg.inner, frames, n);
}

static bool fault_tx_reserve(struct dev *d, struct dev_frame *fr, smx_instant now)
{
	struct dev_fault *f = fault_of(d);

	f->last_now = now;
	return dev_tx_reserve(f->cfg.inner, fr, now);
}

static void fault_tx_submit(struct dev *d, const struct dev_frame *fr)
{
	struct dev_fault *f = fault_of(d);

	if (fault_pass(f, DIR_TX, fr->data, fr->len <= fr->cap ? fr->len : 0, f->last_now))
		dev_tx_submit(f->cfg.inner, fr);
	else
		dev_tx_abort(f->cfg.inner, fr);
}

static void fault_tx_abort(struct dev *d, const struct dev_frame *fr)
{
	dev_tx_abort(fault_of(d)->cfg.inner, fr);
}

static void fault_tx_flush(struct dev *d, smx_instant now)
{
	struct dev_fault *f = fault_of(d);

	f->last_now = now;
	dev_tx_flush(f->cfg.inner, now);
}

static void fault_get_caps(const struct dev *d, struct dev_caps *caps)
{
	const struct dev_fault *f = (const struct dev_fault *)d;

	dev_get_caps(f->cfg.inner, caps);
	/* Corruption happens after any hardware check, so nothing received can be trusted as verified. */
	if (f->cfg.corrupt_pct > 0)
		caps->csum &= ~(uint32_t)DEV_CSUM_RX_VERIFIED;
}

static const struct dev_ops fault_ops = {
	.rx_burst = fault_rx_burst,
	.rx_release = fault_rx_release,
	.tx_reserve = fault_tx_reserve,
	.tx_submit = fault_tx_submit,
	.tx_abort = fault_tx_abort,
	.tx_flush = fault_tx_flush,
	.get_caps = fault_get_caps,
};

struct dev *dev_fault_init(struct dev_fault *f, const struct dev_fault_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->dev.ops = &fault_ops;
	f->cfg = *cfg;
	if (f->cfg.dirs == 0)
		f->cfg.dirs = DEV_FAULT_RX | DEV_FAULT_TX;
	if (f->cfg.drop_pct > 100)
		f->cfg.drop_pct = 100;
	if (f->cfg.corrupt_pct > 100)
		f->cfg.corrupt_pct = 100;
	f->rng = cfg->seed;
	return &f->dev;
}
