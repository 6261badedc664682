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
		enum tcp_err err;

		t->l[i] = tcp_listen(t->s, 0, (uint16_t)(SRV_TCP_FIRST_PORT + i), SRV_TCP_BACKLOG,
				     (void *)(uintptr_t)i, &err);
		if (!t->l[i])
			return -EADDRINUSE;
	}
	tcp_handler(t->s, &h);
	iface_set_tcp_handler(ifc, &h);
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

static void conn_release(struct srv_tcp *t, struct srv_tcp_conn *sc, bool abort)
{
	conn_log(t, sc);
	if (abort)
		tcp_abort(t->s, sc->c);
	else
		tcp_close(t->s, sc->c);
	sc->c = NULL;
	sc->next_free = t->free_head;
	t->free_head = (uint32_t)(sc - t->conns);
}

/* Echo: what arrived goes back as far as the send buffer takes it; the rest waits for WRITABLE. */
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
		conn_release(t, sc, false);
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
		conn_release(t, sc, false);
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
		conn_release(t, sc, false);
		return;
	}
	while ((n = tcp_send_buf(t->s, sc->c, &out)) > 0) {
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(sc->pos + i);
		tcp_send_commit(t->s, sc->c, n);
		sc->pos += n;
		t->sourced += n;
	}
}

static void serve(struct srv_tcp *t, struct srv_tcp_conn *sc, uint32_t flags)
{
	if (flags & TCP_EV_CLOSED) {
		if (tcp_conn_error(sc->c) == TCP_ERROR_NONE)
			t->ended_ok++;
		else
			t->ended_error++;
		/* Whatever was received before the end is still served below, then the slot goes. */
	}
	switch (sc->service) {
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
	if (sc->c && tcp_conn_state(sc->c) == TCP_CLOSED)
		conn_release(t, sc, false);
}

static void accept_all(struct srv_tcp *t, int service)
{
	struct tcp_conn *c;

	while ((c = tcp_accept(t->s, t->l[service])) != NULL) {
		struct srv_tcp_conn *sc;

		if (service == SRV_TCP_HELLO) {
			/* Nothing to remember: the greeting is queued and the stack closes after it. */
			tcp_send(t->s, c, "hello\n", 6);
			tcp_close(t->s, c);
			t->accepted[service]++;
			continue;
		}
		if (t->free_head == UINT32_MAX) {
			t->accept_full++;
			tcp_abort(t->s, c);
			continue;
		}
		sc = &t->conns[t->free_head];
		t->free_head = sc->next_free;
		sc->c = c;
		sc->service = (uint8_t)service;
		sc->pos = 0;
		tcp_conn_set_user(c, sc);
		t->accepted[service]++;
		serve(t, sc, 0);
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
			serve(t, ev.user, ev.flags);
	}
	return any;
}

void srv_tcp_print_stats(const struct srv_tcp *t, FILE *out)
{
	const struct tcp_stats *st = tcp_stack_stats(t->s);

	fprintf(out, "  tcp: connections");
	for (int i = 0; i < SRV_TCP_SERVICES; i++)
		fprintf(out, " %s %llu", service_names[i], (unsigned long long)t->accepted[i]);
	fprintf(out, "; ended %llu ok, %llu with errors; %u open\n", (unsigned long long)t->ended_ok,
		(unsigned long long)t->ended_error, tcp_conn_count(t->s));
	fprintf(out, "  tcp: echoed %llu bytes, discarded %llu, sourced %llu\n", (unsigned long long)t->echoed,
		(unsigned long long)t->discarded, (unsigned long long)t->sourced);
	fprintf(out, "  tcp: segments in %llu out %llu, retransmits %llu (fast %llu, timeouts %llu), rst sent %llu, "
		"refused (closed port) %llu, listen drops %llu, bad checksum %llu, malformed %llu, "
		"out of window %llu, PAWS %llu, challenge ACKs %llu (limited %llu), bad ACKs %llu, out-of-order drops %llu, "
		"half-open recycled %llu, TIME-WAIT recycled %llu, no TX buffer %llu\n",
		(unsigned long long)st->rx_segs, (unsigned long long)st->tx_segs, (unsigned long long)st->retransmits,
		(unsigned long long)st->fast_retransmits, (unsigned long long)st->timeouts,
		(unsigned long long)st->rst_sent, (unsigned long long)st->rx_no_conn,
		(unsigned long long)st->rx_listen_drop, (unsigned long long)st->rx_bad_checksum,
		(unsigned long long)st->rx_malformed, (unsigned long long)st->rx_out_of_window,
		(unsigned long long)st->rx_paws_rejected,
		(unsigned long long)st->challenge_acks, (unsigned long long)st->challenge_acks_limited,
		(unsigned long long)st->rx_bad_ack, (unsigned long long)st->rx_ooo_drop,
		(unsigned long long)st->syn_recv_recycled, (unsigned long long)st->time_wait_recycled,
		(unsigned long long)st->tx_no_buffer);
}

void srv_tcp_close(struct srv_tcp *t)
{
	if (t->iface)
		iface_set_tcp_handler(t->iface, NULL);
	free(t->conns);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}
