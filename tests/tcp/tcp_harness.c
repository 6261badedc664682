/* The fake IP sender and the peer-playing helpers described in tcp_harness.h. */
#include "tcp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum ip_tx_err th_begin(void *ctx, ipv4_addr src, ipv4_addr dst, uint8_t proto, size_t l4_len,
			       struct ip_tx *tx)
{
	struct th_capture *cap = ctx;

	if (cap->no_buffer)
		return IP_TX_NO_BUFFER;
	if (l4_len + 20 > cap->mtu)
		return IP_TX_TOO_BIG;
	assert_true(cap->count < TH_MAX_SEGS);
	memset(tx, 0, sizeof(*tx));
	tx->l4 = cap->buf[cap->count];
	tx->l4_cap = TH_SEG_CAP;
	tx->src = src ? src : TH_LOCAL;
	tx->dst = dst;
	tx->proto = proto;
	return IP_TX_OK;
}

static void th_commit(void *ctx, struct ip_tx *tx, size_t l4_len)
{
	struct th_capture *cap = ctx;

	assert_ptr_equal(tx->l4, cap->buf[cap->count]);
	cap->len[cap->count] = l4_len;
	cap->src[cap->count] = tx->src;
	cap->dst[cap->count] = tx->dst;
	cap->count++;
}

static void th_abort(void *ctx, struct ip_tx *tx)
{
	(void)ctx;
	(void)tx;
}

void th_capture_init(struct th_capture *cap, uint16_t mtu)
{
	memset(cap, 0, sizeof(*cap));
	cap->mtu = mtu;
	cap->sender.ctx = cap;
	cap->sender.begin = th_begin;
	cap->sender.commit = th_commit;
	cap->sender.abort = th_abort;
	cap->sender.mtu = mtu;
}

void th_config(struct tcp_config *cfg)
{
	tcp_config_default(cfg);
	cfg->max_conns = 16;
	cfg->max_listeners = 4;
	cfg->rx_buf_size = 8192;
	cfg->tx_buf_size = 16384;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(i * 7 + 1);
}

struct th *th_new(const struct tcp_config *cfg)
{
	struct th *t = calloc(1, sizeof(*t));
	size_t n;

	assert_non_null(t);
	t->cfg = *cfg;
	n = tcp_mem_size(cfg);
	assert_true(n > 0);
	t->mem = malloc(n);
	assert_non_null(t->mem);
	t->s = tcp_init(t->mem, n, cfg);
	assert_non_null(t->s);
	t->cap = malloc(sizeof(*t->cap));
	assert_non_null(t->cap);
	th_capture_init(t->cap, 1500);
	t->now = TH_T0;
	t->peer_win = 65535;
	t->rport = TH_RPORT;
	t->lport = TH_LPORT;
	tcp_poll_at(t->s, t->now);
	return t;
}

void th_free(struct th *t)
{
	free(t->cap);
	free(t->mem);
	free(t);
}

void th_poll(struct th *t)
{
	tcp_output(t->s, t->now, &t->cap->sender);
}

void th_advance(struct th *t, uint64_t us)
{
	smx_instant end = t->now + us;

	for (;;) {
		smx_instant at = tcp_poll_at(t->s, t->now);

		if (at > end)
			break;
		if (at > t->now)
			t->now = at;
		th_poll(t);
		if (tcp_poll_at(t->s, t->now) <= t->now && t->cap->no_buffer)
			break;
	}
	t->now = end;
	th_poll(t);
}

size_t th_pending(struct th *t)
{
	th_poll(t);
	return t->cap->count - t->cap->head;
}

bool th_next(struct th *t, struct th_seg *seg)
{
	struct th_capture *cap = t->cap;
	size_t i;

	th_poll(t);
	if (cap->head == cap->count)
		return false;
	i = cap->head++;
	memset(seg, 0, sizeof(*seg));
	seg->src = cap->src[i];
	seg->dst = cap->dst[i];
	assert_int_equal(tcp_parse(cap->buf[i], cap->len[i], seg->src, seg->dst, WIRE_CSUM_VERIFY, &seg->r), WIRE_OK);
	assert_true(seg->r.payload_len <= sizeof(seg->data));
	memcpy(seg->data, seg->r.payload, seg->r.payload_len);
	seg->r.payload = seg->data;
	if (cap->head == cap->count)
		cap->head = cap->count = 0; /* reuse the capture space */
	return true;
}

void th_expect(struct th *t, struct th_seg *seg)
{
	if (!th_next(t, seg))
		fail_msg("expected a segment, none was sent");
}

void th_expect_none(struct th *t)
{
	struct th_seg seg;

	if (th_next(t, &seg)) {
		char buf[256];
		struct strbuf sb;

		strbuf_init(&sb, buf, sizeof(buf));
		tcp_print(&seg.r, &sb);
		fail_msg("expected no segment, got %s", buf);
	}
}

void th_send_raw(struct th *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t win, const void *data, size_t len, uint16_t mss)
{
	uint8_t buf[TH_SEG_CAP + 64];
	struct tcp_repr r;
	struct ipv4_repr ip;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.src_port = sport;
	r.dst_port = dport;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = win;
	r.payload = data;
	r.payload_len = len;
	r.opts = t->peer_opts;
	if (mss) {
		r.opts.has_mss = true;
		r.opts.mss = mss;
	}
	n = tcp_emit(&r, TH_REMOTE, TH_LOCAL, buf, sizeof(buf));
	assert_true(n > 0);
	memset(&ip, 0, sizeof(ip));
	ip.src = TH_REMOTE;
	ip.dst = TH_LOCAL;
	ip.protocol = IP_PROTO_TCP;
	ip.ttl = 64;
	ip.header_len = 20;
	ip.total_len = (uint16_t)(20 + n);
	tcp_input(t->s, t->now, &ip, buf, n, WIRE_CSUM_VERIFY, &t->cap->sender);
}

void th_send_at(struct th *t, uint32_t seq, uint8_t flags, const void *data, size_t len)
{
	th_send_raw(t, t->rport, t->lport, seq, t->peer_ack, flags, t->peer_win, data, len, 0);
}

void th_send(struct th *t, uint8_t flags, const void *data, size_t len)
{
	th_send_at(t, t->peer_seq, flags, data, len);
	t->peer_seq += (uint32_t)len + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
}

void th_listen(struct th *t, uint32_t backlog)
{
	enum tcp_result err;

	t->l = tcp_listen(t->s, 0, TH_LPORT, backlog, NULL, &err);
	assert_int_equal(err, TCP_OK);
	assert_non_null(t->l);
}

/* Passive open: SYN in, SYN-ACK out, ACK in, accept. */
void th_open_passive(struct th *t, uint32_t peer_isn, uint16_t peer_mss)
{
	struct th_seg seg;

	if (!t->l)
		th_listen(t, 8);
	t->peer_seq = peer_isn;
	th_send_raw(t, t->rport, t->lport, t->peer_seq, 0, TCP_SYN, t->peer_win, NULL, 0, peer_mss);
	t->peer_seq++;
	th_expect(t, &seg);
	assert_int_equal(seg.r.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(seg.r.ack, peer_isn + 1);
	assert_true(seg.r.opts.has_mss);
	t->peer_ack = seg.r.seq + 1;
	th_send(t, TCP_ACK, NULL, 0);
	t->c = tcp_accept(t->s, t->l);
	assert_non_null(t->c);
	th_assert_state(t, TCP_ESTABLISHED);
	th_expect_none(t);
}

void th_set_iss(struct th *t, uint32_t iss)
{
	struct tcp_conn *c = t->c;

	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->recover = iss;
}

void th_connect(struct th *t)
{
	struct tcp_connect_opts o = { TH_LOCAL, TH_RPORT - 1, TH_REMOTE, 5000, NULL };
	enum tcp_result err;

	t->c = tcp_connect(t->s, &o, &err);
	assert_int_equal(err, TCP_OK);
	assert_non_null(t->c);
	t->rport = 5000;
	t->lport = TH_RPORT - 1;
}

/* Active open from our side: SYN out, SYN-ACK in, ACK out (peer port 5000, ours TH_RPORT - 1). */
void th_open_active(struct th *t, uint32_t peer_isn, uint16_t peer_mss)
{
	struct th_seg seg;

	if (!t->c)
		th_connect(t);
	th_expect(t, &seg);
	assert_int_equal(seg.r.flags, TCP_SYN);
	t->peer_ack = seg.r.seq + 1;
	t->peer_seq = peer_isn;
	th_send_raw(t, t->rport, t->lport, t->peer_seq, t->peer_ack, TCP_SYN | TCP_ACK, t->peer_win, NULL, 0,
		    peer_mss);
	t->peer_seq++;
	th_expect(t, &seg);
	assert_int_equal(seg.r.flags, TCP_ACK);
	assert_int_equal(seg.r.ack, t->peer_seq);
	th_assert_state(t, TCP_ESTABLISHED);
}

uint32_t th_events(struct th *t, const struct tcp_conn *c, const struct tcp_listener *l)
{
	struct tcp_event ev;
	uint32_t flags = 0;

	while (tcp_next_event(t->s, &ev)) {
		if ((c && ev.conn == c) || (!c && l && ev.listener == l))
			flags |= ev.flags;
	}
	return flags;
}

/* Walk a fresh connection into state st (peer ISN 1000, MSS 1000), draining what the stack sent. */
void th_reach_state(struct th *t, enum tcp_state st)
{
	struct th_seg seg;

	switch (st) {
	case TCP_SYN_SENT:
		th_connect(t);
		th_expect(t, &seg);
		t->peer_ack = seg.r.seq + 1;
		break;
	case TCP_SYN_RECEIVED:
		th_listen(t, 8);
		t->peer_seq = 1000;
		th_send_raw(t, t->rport, t->lport, t->peer_seq, 0, TCP_SYN, t->peer_win, NULL, 0, 1000);
		t->peer_seq++;
		th_expect(t, &seg);
		t->peer_ack = seg.r.seq + 1;
		/* the slot, not yet accepted */
		t->c = tcp_conn_lookup(t->s, TH_LOCAL, t->lport, TH_REMOTE, t->rport);
		assert_non_null(t->c);
		break;
	case TCP_ESTABLISHED:
		th_open_passive(t, 1000, 1000);
		break;
	case TCP_FIN_WAIT_1:
		th_open_passive(t, 1000, 1000);
		assert_int_equal(tcp_shutdown(t->s, t->c), TCP_OK);
		th_expect(t, &seg);
		assert_int_equal(seg.r.flags, TCP_FIN | TCP_ACK);
		break;
	case TCP_FIN_WAIT_2:
		th_reach_state(t, TCP_FIN_WAIT_1);
		t->peer_ack++;
		th_send(t, TCP_ACK, NULL, 0);
		break;
	case TCP_CLOSE_WAIT:
		th_open_passive(t, 1000, 1000);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_expect(t, &seg);
		assert_int_equal(seg.r.ack, t->peer_seq);
		break;
	case TCP_CLOSING:
		th_reach_state(t, TCP_FIN_WAIT_1);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_expect(t, &seg);
		assert_int_equal(seg.r.ack, t->peer_seq);
		t->peer_ack++;
		break;
	case TCP_LAST_ACK:
		th_reach_state(t, TCP_CLOSE_WAIT);
		assert_int_equal(tcp_shutdown(t->s, t->c), TCP_OK);
		th_expect(t, &seg);
		assert_int_equal(seg.r.flags, TCP_FIN | TCP_ACK);
		t->peer_ack++;
		break;
	case TCP_TIME_WAIT:
		th_reach_state(t, TCP_FIN_WAIT_2);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_expect(t, &seg);
		assert_int_equal(seg.r.ack, t->peer_seq);
		break;
	default:
		fail_msg("cannot reach state %d", st);
	}
	th_assert_state(t, st);
	th_expect_none(t);
	th_events(t, NULL, NULL);
}

uint8_t th_bulk_byte(uint32_t i, int dir)
{
	uint32_t x = i * 2654435761u + (uint32_t)dir * 977u;

	return (uint8_t)(x >> 24 ^ i);
}

void th_bulk_pump(struct tcp_stack *s, struct th_bulk *b)
{
	uint8_t buf[8192];
	size_t n;

	if (!b->c || b->closed)
		return;
	while (b->sent < b->send_total) {
		uint8_t *span;
		size_t room = tcp_send_buf(s, b->c, &span);

		if (room == 0)
			break;
		room = SMX_MIN(room, (size_t)(b->send_total - b->sent));
		for (size_t k = 0; k < room; k++)
			span[k] = th_bulk_byte(b->sent + (uint32_t)k, b->dir);
		tcp_send_commit(s, b->c, room);
		b->sent += (uint32_t)room;
	}
	if (b->sent == b->send_total && !b->shut) {
		assert_int_equal(tcp_shutdown(s, b->c), TCP_OK);
		b->shut = true;
	}
	while ((n = tcp_recv(s, b->c, buf, sizeof(buf))) > 0) {
		for (size_t k = 0; k < n; k++) {
			if (buf[k] != th_bulk_byte(b->recvd + (uint32_t)k, 1 - b->dir))
				fail_msg("byte %u differs", b->recvd + (unsigned)k);
		}
		b->recvd += (uint32_t)n;
	}
	if (tcp_eof(b->c) && !b->eof) {
		b->eof = true;
		if (b->recvd != b->recv_total)
			fail_msg("side %d: EOF after %u bytes, state %s, error %s", b->dir, b->recvd,
				 tcp_state_name(tcp_conn_state(b->c)), tcp_error_name(tcp_conn_error(b->c)));
	}
	if (b->eof && b->shut &&
	    (tcp_conn_state(b->c) == TCP_TIME_WAIT || tcp_conn_state(b->c) == TCP_CLOSED ||
	     tcp_conn_state(b->c) == TCP_LAST_ACK)) {
		assert_int_equal(tcp_conn_error(b->c), TCP_ERROR_NONE);
		tcp_close(s, b->c);
		b->closed = true;
	}
}

int th_setup(void **state)
{
	struct tcp_config cfg;

	th_config(&cfg);
	*state = th_new(&cfg);
	return 0;
}

int th_teardown(void **state)
{
	th_free(*state);
	return 0;
}
