/* The counting device of server_meter.h: a pass-through decorator (as smoltcp's phy::Tracer) that
 * adds up frames and bytes on receive and on submit, and forwards every call unchanged. */
#include <string.h>

#include "server_meter.h"

static struct srv_meter *meter_of(struct dev *d)
{
	return (struct srv_meter *)d;
}

static size_t meter_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct srv_meter *m = meter_of(d);
	size_t n = dev_rx_burst(m->inner, frames, max, now);
	uint64_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += frames[i].len;
	m->rx_frames += n;
	m->rx_bytes += bytes;
	return n;
}

static void meter_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	dev_rx_release(meter_of(d)->inner, frames, n);
}

static bool meter_tx_reserve(struct dev *d, struct dev_frame *fr, smx_instant now)
{
	return dev_tx_reserve(meter_of(d)->inner, fr, now);
}

static void meter_tx_submit(struct dev *d, const struct dev_frame *fr)
{
	struct srv_meter *m = meter_of(d);

	if (fr->len <= fr->cap) { /* the inner device refuses (and counts) the others */
		m->tx_frames++;
		m->tx_bytes += fr->len;
	}
	dev_tx_submit(m->inner, fr);
}

static void meter_tx_abort(struct dev *d, const struct dev_frame *fr)
{
	dev_tx_abort(meter_of(d)->inner, fr);
}

static void meter_tx_flush(struct dev *d, smx_instant now)
{
	dev_tx_flush(meter_of(d)->inner, now);
}

static void meter_get_caps(const struct dev *d, struct dev_caps *caps)
{
	dev_get_caps(((const struct srv_meter *)d)->inner, caps);
}

static const struct dev_ops meter_ops = {
	.rx_burst = meter_rx_burst,
	.rx_release = meter_rx_release,
	.tx_reserve = meter_tx_reserve,
	.tx_submit = meter_tx_submit,
	.tx_abort = meter_tx_abort,
	.tx_flush = meter_tx_flush,
	.get_caps = meter_get_caps,
};

struct dev *srv_meter_init(struct srv_meter *m, struct dev *inner)
{
	memset(m, 0, sizeof(*m));
	m->dev.ops = &meter_ops;
	m->inner = inner;
	return &m->dev;
}
