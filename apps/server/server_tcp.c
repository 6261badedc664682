/* smolxdp-server's TCP services over smolxdp/tcp.h: accept on four ports, then react to events only
 * (no scanning of connections). Each service is a few lines on top of the copy-free calls:
 * tcp_recv_peek/consume to look at received bytes where they lie, tcp_send_buf/commit to write
 * into the send buffer in place. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server_tcp.h"

#include "app_pattern.h"

#define SRV_TCP_BACKLOG 1024

static const char *const service_names[SRV_TCP_SERVICES] = { "hello", "echo", "discard", "source" };

int srv_tcp_open(struct srv_tcp *t, struct iface *ifc, const struct srv_tcp_opts *o)
{
	uint32_t max_conns = o->max_conns;
	struct tcp_config cfg;
	struct l4_handler h;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->iface = ifc;
	t->conn_log = o->conn_log;
	tcp_config_default(&cfg);
	cfg.max_conns = max_conns;
	cfg.max_listeners = SRV_TCP_SERVICES;
	/* 64 KB exactly would need a window shift of 1 (RFC 7323) for one byte: 65535 keeps the shift 0
	 * and the window unscaled for peers without window scaling. */
	cfg.rx_buf_size = o->buf_size == 65536 ? 65535 : o->buf_size;
	cfg.tx_buf_size = o->buf_size;
	cfg.buf_pool_size = o->pool_size;
	cfg.rto_min = (uint64_t)o->rto_min_ms * 1000;
	if (cfg.rto_initial < cfg.rto_min)
		cfg.rto_initial = cfg.rto_min;
	/* The key behind ISNs, ephemeral ports and the connection table (RFC 6528, RFC 6056). */
	if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != (ssize_t)sizeof(cfg.secret))
		return -errno;
	n = tcp_mem_size(&cfg);
	if (n == 0)
		return -EINVAL;
	t->mem = malloc(n);
	t->conns = calloc(max_conns, sizeof(*t->conns));
	if (!t->mem || !t->conns)
		return -ENOMEM;
	t->s = tcp_init(t->mem, n, &cfg);
	if (!t->s)
		return -EINVAL;
	t->max_conns = max_conns;
	for (uint32_t i = 0; i < max_conns; i++)
		t->conns[i].next_free = i + 1 < max_conns ? i + 1 : UINT32_MAX;
	t->free_head = 0;
	for (int i = 0; i < SRV_TCP_SERVICES; i++) {
		enum tcp_result err;

		t->l[i] = tcp_listen(t->s, 0, (uint16_t)(SRV_TCP_FIRST_PORT + i), SRV_TCP_BACKLOG,
				     (void *)(uintptr_t)i, &err);
		if (!t->l[i])
			return -EADDRINUSE;
	}
	tcp_handler(t->s, &h);
	iface_set_l4_handler(ifc, IP_PROTO_TCP, &h);
	return 0;
}

/* One line per connection as it ends, for benchmarks and for a user asking why a transfer was slow:
 * what the sender side of this connection saw (retransmissions, timeouts, recoveries, RTT). */
static void conn_log(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	struct tcp_conn_stats st;
	struct tcp_endpoints ep;

	char err[32];

	if (!t->conn_log)
		return;
	/* One word per value, so the line splits into key value pairs ("connection reset" has a space). */
	snprintf(err, sizeof(err), "%s", tcp_error_name(tcp_conn_error(sc->c)));
	for (char *p = err; *p; p++)
		if (*p == ' ')
			*p = '-';
	tcp_conn_stats(sc->c, &st);
	tcp_conn_endpoints(sc->c, &ep);
	fprintf(t->conn_log,
		"tcp-conn: service %s peer %u.%u.%u.%u:%u state %s error %s bytes_in %llu bytes_out %llu "
		"segs_in %llu segs_out %llu retransmits %llu recoveries %llu timeouts %llu tlp_probes %llu "
		"lost_retransmits %llu dup_acks %llu "
		"ooo_segs %llu zero_window_probes %llu srtt_us %u rto_us %u cwnd %u ssthresh %u mss %u\n",
		service_names[sc->service], ep.remote_addr >> 24, (ep.remote_addr >> 16) & 255,
		(ep.remote_addr >> 8) & 255, ep.remote_addr & 255, ep.remote_port,
		tcp_state_name(tcp_conn_state(sc->c)), err,
		(unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
		(unsigned long long)st.segs_in, (unsigned long long)st.segs_out,
		(unsigned long long)st.retransmits, (unsigned long long)st.fast_retransmits,
		(unsigned long long)st.timeouts, (unsigned long long)st.tlp_probes,
		(unsigned long long)st.lost_retransmits, (unsigned long long)st.dup_acks, (unsigned long long)st.ooo_segs,
		(unsigned long long)st.zero_window_probes, st.srtt_us, st.rto_us, st.cwnd, st.ssthresh, st.snd_mss);
	fflush(t->conn_log);
}

/* The connection ended (or we end it now): count how, log it, and give the handle back. In TIME-WAIT
 * or CLOSED a close just releases it (the stack keeps TIME-WAIT alone); otherwise it is a reset. */
static void conn_end(struct srv_tcp *t, struct srv_tcp_conn *sc, enum srv_tcp_end how)
{
	t->ended[how]++;
	t->open--;
	conn_log(t, sc);
	if (how == SRV_TCP_END_ABORTED || how == SRV_TCP_END_AT_EXIT)
		tcp_abort(t->s, sc->c);
	else
		tcp_close(t->s, sc->c);
	sc->c = NULL;
	sc->next_free = t->free_head;
	t->free_head = (uint32_t)(sc - t->conns);
}

/* The stack ends a connection by moving it to TIME-WAIT (we closed first, then the peer) or CLOSED
 * (the peer closed first, or a reset or timeout), raising TCP_EV_CLOSED either way; the state is
 * checked rather than the event so that a connection already ended when accepted counts too. */
static void end_if_closed(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	enum tcp_state st = tcp_conn_state(sc->c);

	if (st != TCP_CLOSED && st != TCP_TIME_WAIT)
		return;
	switch (tcp_conn_error(sc->c)) {
	case TCP_ERROR_NONE:
		conn_end(t, sc, SRV_TCP_END_OK);
		break;
	case TCP_ERROR_RESET:
		conn_end(t, sc, SRV_TCP_END_RESET);
		break;
	case TCP_ERROR_TIMED_OUT:
		conn_end(t, sc, SRV_TCP_END_TIMED_OUT);
		break;
	default:
		conn_end(t, sc, SRV_TCP_END_OTHER);
		break;
	}
}

/* Hello: the greeting and our FIN were queued at accept; the peer has nothing to say. Data from it
 * would be lost, so it is told with a reset (RFC 1122 4.2.2.13, as a close with unread data). */
static void serve_hello(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	if (tcp_recv_avail(sc->c) > 0)
		conn_end(t, sc, SRV_TCP_END_ABORTED);
}

/* Echo: what arrived goes back as far as the send buffer takes it; the rest waits for WRITABLE. Once
 * the peer has closed and everything is echoed, our FIN follows. */
static void serve_echo(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	const uint8_t *in;
	size_t n;

	while ((n = tcp_recv_peek(t->s, sc->c, &in)) > 0) {
		size_t sent = tcp_send(t->s, sc->c, in, n);

		tcp_recv_consume(t->s, sc->c, sent);
		t->echoed += sent;
		if (sent < n)
			return;
	}
	if (tcp_eof(sc->c))
		tcp_shutdown(t->s, sc->c);
}

static void serve_discard(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	const uint8_t *in;
	size_t n;

	while ((n = tcp_recv_peek(t->s, sc->c, &in)) > 0) {
		tcp_recv_consume(t->s, sc->c, n);
		t->discarded += n;
	}
	if (tcp_eof(sc->c))
		tcp_shutdown(t->s, sc->c);
}

/* Source: byte i of the stream is i mod 256, for as long as the peer listens. */
static void serve_source(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	const uint8_t *in;
	uint8_t *out;
	size_t n;

	while ((n = tcp_recv_peek(t->s, sc->c, &in)) > 0)
		tcp_recv_consume(t->s, sc->c, n); /* ignored, but read: unread data would mean a reset */
	if (tcp_eof(sc->c)) {
		tcp_shutdown(t->s, sc->c); /* what is queued still goes, then our FIN */
		return;
	}
	while ((n = tcp_send_buf(t->s, sc->c, &out)) > 0) {
		app_pattern_fill(out, n, sc->pos);
		tcp_send_commit(t->s, sc->c, n);
		sc->pos += n;
		t->sourced += n;
	}
}

/* Whatever was received before an end is still served, then the end is counted. The events' flags
 * are not needed: each service reads and writes until the calls return 0. */
static void serve(struct srv_tcp *t, struct srv_tcp_conn *sc)
{
	switch (sc->service) {
	case SRV_TCP_HELLO:
		serve_hello(t, sc);
		break;
	case SRV_TCP_ECHO:
		serve_echo(t, sc);
		break;
	case SRV_TCP_DISCARD:
		serve_discard(t, sc);
		break;
	case SRV_TCP_SOURCE:
		serve_source(t, sc);
		break;
	default:
		break;
	}
	if (sc->c)
		end_if_closed(t, sc);
}

static void accept_all(struct srv_tcp *t, int service)
{
	struct tcp_conn *c;

	while ((c = tcp_accept(t->s, t->l[service])) != NULL) {
		struct srv_tcp_conn *sc;

		t->accepted[service]++;
		if (t->free_head == UINT32_MAX) {
			/* Cannot happen while conns[] has as many slots as the stack (each connection we
			 * hold keeps one of its slots), but a reset is the answer if it ever does. */
			t->ended[SRV_TCP_END_ABORTED]++;
			tcp_abort(t->s, c);
			continue;
		}
		sc = &t->conns[t->free_head];
		t->free_head = sc->next_free;
		t->open++;
		sc->c = c;
		sc->service = (uint8_t)service;
		sc->pos = 0;
		tcp_conn_set_user(c, sc);
		if (service == SRV_TCP_HELLO) {
			/* The greeting, then our FIN; the connection is held until the peer's FIN (TIME-WAIT)
			 * or a reset ends it, so its end is counted like any other. */
			tcp_send(t->s, c, "hello\n", 6);
			tcp_shutdown(t->s, c);
		}
		serve(t, sc);
	}
}

bool srv_tcp_run(struct srv_tcp *t)
{
	struct tcp_event ev;
	bool any = false;

	while (tcp_next_event(t->s, &ev)) {
		any = true;
		if (ev.listener)
			accept_all(t, (int)(uintptr_t)ev.user);
		else if (ev.user)
			serve(t, ev.user);
	}
	return any;
}

void srv_tcp_stop(struct srv_tcp *t)
{
	for (uint32_t i = 0; t->conns && i < t->max_conns; i++)
		if (t->conns[i].c)
			conn_end(t, &t->conns[i], SRV_TCP_END_AT_EXIT);
}

uint64_t srv_tcp_opened(const struct srv_tcp *t)
{
	uint64_t n = 0;

	for (int i = 0; i < SRV_TCP_SERVICES; i++)
		n += t->accepted[i];
	return n;
}

uint64_t srv_tcp_ended(const struct srv_tcp *t)
{
	uint64_t n = 0;

	for (int i = 0; i < SRV_TCP_ENDS; i++)
		n += t->ended[i];
	return n;
}

uint64_t srv_tcp_drops(const struct srv_tcp *t)
{
	const struct tcp_stats *st = tcp_stack_stats(t->s);

	return st->rx_malformed + st->rx_bad_checksum + st->rx_listen_drop + st->rx_ooo_drop + st->rx_no_buffer;
}

void srv_tcp_print_stats(const struct srv_tcp *t, FILE *out)
{
	const struct tcp_stats *st = tcp_stack_stats(t->s);

	uint64_t errors = srv_tcp_ended(t) - t->ended[SRV_TCP_END_OK];

	/* Connections still open at exit were reset by srv_tcp_stop, so after it "open" is 0 and they
	 * show as "reset at exit". */
	fprintf(out, "  tcp: opened %llu (", (unsigned long long)srv_tcp_opened(t));
	for (int i = 0; i < SRV_TCP_SERVICES; i++)
		fprintf(out, "%s%s %llu", i ? ", " : "", service_names[i], (unsigned long long)t->accepted[i]);
	fprintf(out, "); ended %llu ok, %llu with errors (reset by peer %llu, timed out %llu, other %llu, "
		"reset by us %llu, reset at exit %llu); %u open\n", (unsigned long long)t->ended[SRV_TCP_END_OK],
		(unsigned long long)errors, (unsigned long long)t->ended[SRV_TCP_END_RESET],
		(unsigned long long)t->ended[SRV_TCP_END_TIMED_OUT], (unsigned long long)t->ended[SRV_TCP_END_OTHER],
		(unsigned long long)t->ended[SRV_TCP_END_ABORTED], (unsigned long long)t->ended[SRV_TCP_END_AT_EXIT],
		t->open);
	fprintf(out, "  tcp: echoed %llu bytes, discarded %llu, sourced %llu\n", (unsigned long long)t->echoed,
		(unsigned long long)t->discarded, (unsigned long long)t->sourced);
	fprintf(out, "  tcp: segments in %llu out %llu, retransmits %llu (fast %llu, timeouts %llu), rst sent %llu, "
		"refused (closed port) %llu, listen drops %llu, bad checksum %llu, malformed %llu, "
		"out of window %llu, PAWS %llu (reordered duplicate ACKs taken %llu), challenge ACKs %llu (limited %llu), bad ACKs %llu, out-of-order drops %llu, "
		"dropped for want of buffer %llu, "
		"half-open recycled %llu, TIME-WAIT recycled %llu, no TX buffer %llu\n",
		(unsigned long long)st->rx_segs, (unsigned long long)st->tx_segs, (unsigned long long)st->retransmits,
		(unsigned long long)st->fast_retransmits, (unsigned long long)st->timeouts,
		(unsigned long long)st->rst_sent, (unsigned long long)st->rx_no_conn,
		(unsigned long long)st->rx_listen_drop, (unsigned long long)st->rx_bad_checksum,
		(unsigned long long)st->rx_malformed, (unsigned long long)st->rx_out_of_window,
		(unsigned long long)st->rx_paws_rejected, (unsigned long long)st->rx_paws_disordered_acks,
		(unsigned long long)st->challenge_acks, (unsigned long long)st->challenge_acks_limited,
		(unsigned long long)st->rx_bad_ack, (unsigned long long)st->rx_ooo_drop,
		(unsigned long long)st->rx_no_buffer,
		(unsigned long long)st->syn_recv_recycled, (unsigned long long)st->time_wait_recycled,
		(unsigned long long)st->tx_no_buffer);
	srv_tcp_print_mem(t, out);
}

/* Where TCP's memory went: what each slot costs whatever it does, and the buffer pool at its peak. */
void srv_tcp_print_mem(const struct srv_tcp *t, FILE *out)
{
	struct tcp_mem_usage u;

	tcp_mem_usage(t->s, &u);
	fprintf(out, "  tcp: memory %.1f MB: %zu bytes fixed per connection slot (%u slots) + a %.1f MB buffer "
		"pool in %zu-byte chunks; at the peak %.1f MB of it held data or was promised to windows "
		"offered, %llu times it was short\n", (double)u.total / 1048576, u.per_conn_fixed, t->max_conns,
		(double)u.pool / 1048576, u.chunk_size, (double)u.pool_peak / 1048576,
		(unsigned long long)u.pool_short);
}

void srv_tcp_close(struct srv_tcp *t)
{
	if (t->iface)
		iface_set_l4_handler(t->iface, IP_PROTO_TCP, NULL);
	free(t->conns);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}
