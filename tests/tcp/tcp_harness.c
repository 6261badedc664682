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
	cap->at[cap->count] = cap->clock ? *cap->clock : 0;
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
	t->seg = malloc(sizeof(*t->seg));
	assert_non_null(t->seg);
	th_capture_init(t->cap, 1500);
	t->cap->clock = &t->now;
	t->now = TH_T0;
	t->peer_win = 65535;
	t->rport = TH_RPORT;
	t->lport = TH_LPORT;
	tcp_poll_at(t->s, t->now);
	return t;
}

void th_free(struct th *t)
{
	free(t->seg);
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
	seg->at = cap->at[i];
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

/* The peer's segment r goes into the stack. */
static void th_inject(struct th *t, const struct tcp_repr *r)
{
	uint8_t buf[TH_SEG_CAP + 64];
	struct ipv4_repr ip;
	size_t n;

	n = tcp_emit(r, TH_REMOTE, TH_LOCAL, buf, sizeof(buf));
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

static void th_seg_print(const struct th_seg *seg, char *buf, size_t cap)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, cap);
	tcp_print(&seg->r, &sb);
}

/* One field of th_want: a mismatch fails at the test's line, showing the whole segment. */
static void th_check(const struct th_seg *seg, const char *what, int64_t got, int64_t want, const char *file,
		     int line)
{
	char buf[256];

	if (want == TH_ANY || got == want)
		return;
	th_seg_print(seg, buf, sizeof(buf));
	if (want == TH_NONE)
		print_error("%s: got %lld, want none, in %s\n", what, (long long)got, buf);
	else if (got == TH_NONE)
		print_error("%s: got none, want %lld, in %s\n", what, (long long)want, buf);
	else
		print_error("%s: got %lld (%#llx), want %lld (%#llx), in %s\n", what, (long long)got,
			    (unsigned long long)got, (long long)want, (unsigned long long)want, buf);
	_fail(file, line);
}

const struct th_seg *th_want_at(struct th *t, struct th_want w, const char *file, int line)
{
	struct th_seg *seg = t->seg;
	const struct tcp_options *o = &seg->r.opts;

	if (!th_next(t, seg)) {
		print_error("expected a segment, none was sent\n");
		_fail(file, line);
	}
	th_check(seg, "flags", seg->r.flags, w.flags, file, line);
	th_check(seg, "seq", seg->r.seq, w.seq, file, line);
	if (w.off != TH_ANY)
		th_check(seg, "seq - (ISS + 1)", (uint32_t)(seg->r.seq - (t->c->iss + 1)), w.off, file, line);
	th_check(seg, "ack", seg->r.ack, w.ack, file, line);
	th_check(seg, "window", seg->r.window, w.win, file, line);
	th_check(seg, "payload length", (int64_t)seg->r.payload_len, w.len, file, line);
	if (w.data) {
		if (w.len == TH_ANY) {
			print_error("th_want: .data needs .len\n");
			_fail(file, line);
		}
		_assert_memory_equal(seg->data, w.data, (size_t)w.len, file, line);
	}
	th_check(seg, "source port", seg->r.src_port, w.sport, file, line);
	th_check(seg, "destination port", seg->r.dst_port, w.dport, file, line);
	th_check(seg, "MSS option", o->has_mss ? o->mss : TH_NONE, w.mss, file, line);
	th_check(seg, "window scale option", o->has_wscale ? o->wscale : TH_NONE, w.wscale, file, line);
	th_check(seg, "SACK-permitted option", o->sack_permitted, w.sack_perm, file, line);
	th_check(seg, "timestamps option", o->has_timestamp, w.ts, file, line);
	th_check(seg, "TSecr", o->has_timestamp ? o->ts_ecr : TH_NONE, w.tsecr, file, line);
	th_check(seg, "SACK blocks", o->sack_count, w.nsack, file, line);
	for (int64_t i = 0; w.nsack != TH_ANY && i < w.nsack; i++) {
		th_check(seg, "SACK block left edge", o->sack[i].left, w.sack[2 * i], file, line);
		th_check(seg, "SACK block right edge", o->sack[i].right, w.sack[2 * i + 1], file, line);
	}
	return seg;
}

void th_send_raw(struct th *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t win, const void *data, size_t len, uint16_t mss)
{
	struct tcp_repr r;

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
	th_inject(t, &r);
}

static int64_t th_or(int64_t v, int64_t dflt)
{
	return v == TH_ANY ? dflt : v;
}

void th_tx_seg(struct th *t, struct th_tx x)
{
	struct tcp_repr r;
	bool in_order = x.seq == TH_ANY && x.seq_off == TH_ANY;

	memset(&r, 0, sizeof(r));
	r.src_port = (uint16_t)th_or(x.sport, t->rport);
	r.dst_port = (uint16_t)th_or(x.dport, t->lport);
	r.seq = x.seq != TH_ANY ? (uint32_t)x.seq : t->peer_seq + (uint32_t)th_or(x.seq_off, 0);
	r.ack = (uint32_t)th_or(x.ack, t->peer_ack);
	r.flags = x.flags;
	r.window = (uint16_t)th_or(x.win, t->peer_win);
	r.payload = x.data;
	r.payload_len = x.len;
	r.opts = t->peer_opts;
	if (x.mss) {
		r.opts.has_mss = true;
		r.opts.mss = x.mss;
	}
	if (x.nsack != TH_ANY) {
		assert_true(x.nsack >= 0 && x.nsack <= TCP_MAX_SACK_BLOCKS);
		r.opts.sack_count = (uint8_t)x.nsack;
		for (int64_t i = 0; i < x.nsack; i++) {
			r.opts.sack[i].left = x.sack[2 * i];
			r.opts.sack[i].right = x.sack[2 * i + 1];
		}
	}
	th_inject(t, &r);
	if (in_order)
		t->peer_seq += tcp_seq_len(&r);
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
	const struct th_seg *seg;

	if (!t->l)
		th_listen(t, 8);
	t->peer_seq = peer_isn;
	th_tx(t, .flags = TCP_SYN, .ack = 0, .mss = peer_mss);
	seg = th_want(t, .flags = TCP_SYN | TCP_ACK, .ack = peer_isn + 1);
	assert_true(seg->r.opts.has_mss);
	t->peer_ack = seg->r.seq + 1;
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
	if (!t->c)
		th_connect(t);
	t->peer_ack = th_want(t, .flags = TCP_SYN)->r.seq + 1;
	t->peer_seq = peer_isn;
	th_tx(t, .flags = TCP_SYN | TCP_ACK, .mss = peer_mss);
	th_want(t, .flags = TCP_ACK, .ack = t->peer_seq);
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
		th_tx(t, .flags = TCP_SYN, .ack = 0, .mss = 1000);
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
		th_want(t, .flags = TCP_FIN | TCP_ACK);
		break;
	case TCP_FIN_WAIT_2:
		th_reach_state(t, TCP_FIN_WAIT_1);
		t->peer_ack++;
		th_send(t, TCP_ACK, NULL, 0);
		break;
	case TCP_CLOSE_WAIT:
		th_open_passive(t, 1000, 1000);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_want(t, .ack = t->peer_seq);
		break;
	case TCP_CLOSING:
		th_reach_state(t, TCP_FIN_WAIT_1);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_want(t, .ack = t->peer_seq);
		t->peer_ack++;
		break;
	case TCP_LAST_ACK:
		th_reach_state(t, TCP_CLOSE_WAIT);
		assert_int_equal(tcp_shutdown(t->s, t->c), TCP_OK);
		th_want(t, .flags = TCP_FIN | TCP_ACK);
		t->peer_ack++;
		break;
	case TCP_TIME_WAIT:
		th_reach_state(t, TCP_FIN_WAIT_2);
		th_send(t, TCP_FIN | TCP_ACK, NULL, 0);
		th_want(t, .ack = t->peer_seq);
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

void th_icmp_error(struct th *t, uint8_t type, uint8_t code, uint32_t seq, uint16_t mtu)
{
	struct icmpv4_repr icmp;
	uint8_t quote[28];

	memset(&icmp, 0, sizeof(icmp));
	memset(quote, 0, sizeof(quote));
	quote[24] = (uint8_t)(seq >> 24);
	quote[25] = (uint8_t)(seq >> 16);
	quote[26] = (uint8_t)(seq >> 8);
	quote[27] = (uint8_t)seq;
	icmp.type = type;
	icmp.code = code;
	icmp.next_mtu = mtu;
	icmp.has_quote = true;
	icmp.quote_ip.src = TH_LOCAL;
	icmp.quote_ip.dst = TH_REMOTE;
	icmp.quote_ip.protocol = IP_PROTO_TCP;
	icmp.quote_ip.header_len = 20;
	icmp.quote_has_ports = true;
	icmp.quote_src_port = t->lport;
	icmp.quote_dst_port = t->rport;
	icmp.quote_has_seq = true;
	icmp.quote_seq = seq;
	icmp.data = quote;
	icmp.data_len = sizeof(quote);
	tcp_icmp_error(t->s, t->now, &icmp);
}
