/* The pcap recorder: the classic libpcap file format (magic a1b2c3d4, version 2.4, LINKTYPE_ETHERNET),
 * written little-endian byte by byte so the output is the same on any host. Received frames are
 * recorded as the inner device hands them up, sent frames as they are submitted. */
#include "smolxdp/dev_pcap.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_HEADER_LEN 24
#define PCAP_RECORD_LEN 16

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void pcap_record(struct dev_pcap *p, const uint8_t *data, uint32_t len, smx_instant now)
{
	uint8_t hdr[PCAP_RECORD_LEN];
	uint32_t kept = len < p->cfg.snaplen ? len : p->cfg.snaplen;
	uint64_t stamp = now + p->cfg.wall_offset_us;

	/* The classic format's seconds are 32 bits: enough until 2106. */
	put_le32(hdr, (uint32_t)(stamp / 1000000));
	put_le32(hdr + 4, (uint32_t)(stamp % 1000000));
	put_le32(hdr + 8, kept);
	put_le32(hdr + 12, len);
	p->cfg.write(p->cfg.ctx, hdr, sizeof(hdr));
	p->cfg.write(p->cfg.ctx, data, kept);
	p->frames++;
}

static struct dev_pcap *pcap_of(struct dev *d)
{
	return (struct dev_pcap *)d;
}

static size_t pcap_rx_burst(struct dev *d, struct dev_frame *frames, size_t max, smx_instant now)
{
	struct dev_pcap *p = pcap_of(d);
	size_t n = dev_rx_burst(p->cfg.inner, frames, max, now);

	p->last_now = now;
	for (size_t i = 0; i < n; i++)
		pcap_record(p, frames[i].data, frames[i].len, now);
	return n;
}

static void pcap_rx_release(struct dev *d, const struct dev_frame *frames, size_t n)
{
	dev_rx_release(pcap_of(d)->cfg.inner, frames, n);
}

static bool pcap_tx_reserve(struct dev *d, struct dev_frame *f, smx_instant now)
{
	struct dev_pcap *p = pcap_of(d);

	p->last_now = now;
	return dev_tx_reserve(p->cfg.inner, f, now);
}

static void pcap_tx_submit(struct dev *d, const struct dev_frame *f)
{
	struct dev_pcap *p = pcap_of(d);

	if (f->len <= f->cap)
		pcap_record(p, f->data, f->len, p->last_now);
	dev_tx_submit(p->cfg.inner, f);
}

static void pcap_tx_abort(struct dev *d, const struct dev_frame *f)
{
	dev_tx_abort(pcap_of(d)->cfg.inner, f);
}

static void pcap_tx_flush(struct dev *d, smx_instant now)
{
	struct dev_pcap *p = pcap_of(d);

	p->last_now = now;
	dev_tx_flush(p->cfg.inner, now);
}

static void pcap_get_caps(const struct dev *d, struct dev_caps *caps)
{
	dev_get_caps(((const struct dev_pcap *)d)->cfg.inner, caps);
}

static const struct dev_ops pcap_ops = {
	.rx_burst = pcap_rx_burst,
	.rx_release = pcap_rx_release,
	.tx_reserve = pcap_tx_reserve,
	.tx_submit = pcap_tx_submit,
	.tx_abort = pcap_tx_abort,
	.tx_flush = pcap_tx_flush,
	.get_caps = pcap_get_caps,
};

struct dev *dev_pcap_init(struct dev_pcap *p, const struct dev_pcap_config *cfg)
{
	uint8_t hdr[PCAP_HEADER_LEN];

	memset(p, 0, sizeof(*p));
	p->dev.ops = &pcap_ops;
	p->cfg = *cfg;
	if (p->cfg.snaplen == 0)
		p->cfg.snaplen = 65535;
	put_le32(hdr, PCAP_MAGIC);
	put_le16(hdr + 4, 2); /* version 2.4 */
	put_le16(hdr + 6, 4);
	put_le32(hdr + 8, 0);  /* thiszone */
	put_le32(hdr + 12, 0); /* sigfigs */
	put_le32(hdr + 16, p->cfg.snaplen);
	put_le32(hdr + 20, PCAP_LINKTYPE_ETHERNET);
	p->cfg.write(p->cfg.ctx, hdr, sizeof(hdr));
	return &p->dev;
}
