/* path_emu: a network path emulator for tests and benchmarks (this kernel has no tc netem). It joins two
 * interfaces as a transparent wire, every frame (ARP included) forwarded unchanged, and impairs each
 * direction: random loss, a bottleneck of a given rate with a finite tail-drop queue, a fixed delay, and
 * reordering by holding some frames back. Decisions come from a seeded PRNG, so a run can be repeated.
 *
 * Model, per direction, for a frame arriving at time t (read from the socket):
 *   1. lost with probability loss;
 *   2. if rate > 0: tail-dropped if the frames still at the bottleneck (queued or in transmission) reach
 *      the limit, else it departs at max(t, previous departure) + len * 8 / rate;
 *   3. released at departure + delay, + the hold if chosen for reordering (probability reorder);
 *   4. frames go out in release-time order, FIFO among equal times.
 * Every arriving frame draws exactly two numbers (loss, reorder) whatever happens to it, so the loss
 * decisions depend only on the seed and the frame's rank: --predict-loss reproduces them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PE_FRAME_MAX 9216 /* jumbo frames; anything longer is counted as too_big */
#define PE_BATCH 64       /* frames per recvmmsg/sendmmsg */
#define PE_RX_ROUNDS 8    /* batches read per direction before due frames are sent again */
#define PE_NONE UINT32_MAX
#define PE_RCVBUF (32 << 20) /* so a burst waits in the socket, not dropped by the kernel */

enum pe_way { PE_A2B, PE_B2A, PE_WAYS };
static const char *const pe_way_name[PE_WAYS] = {"a2b", "b2a"};

/* What one direction does to its frames. */
struct pe_dir_opts {
	double delay_ms;
	double loss_pct;
	double reorder_pct;
	double hold_ms;        /* extra delay of a frame chosen for reordering */
	uint64_t rate_bps;     /* 0: no bottleneck */
	uint64_t limit_bytes;  /* 0: no byte limit */
	uint64_t limit_frames; /* 0: no frame limit */
	uint64_t seed;
};

struct pe_opts {
	const char *ifname[PE_WAYS]; /* [PE_A2B] = --a (frames read there go a->b), [PE_B2A] = --b */
	struct pe_dir_opts dir[PE_WAYS];
	uint32_t slots; /* frames held at once, per direction */
	bool spin;
	const char *stats_path;
	long long predict_loss; /* -1: forward, as usual */
};

/* One counter per outcome: frames_in = forwarded + dropped_* + too_big + send_errors + held (the
 * heap, printed too). kernel_drops never reached us: the socket's queue was full. */
struct pe_counters {
	uint64_t frames_in, forwarded, dropped_loss, dropped_queue, dropped_no_slot, too_big, send_errors,
		reordered, kernel_drops, max_queue_frames, max_queue_bytes;
};

static const struct {
	const char *name;
	size_t off;
} pe_counter_fields[] = {
#define PE_FIELD(f) {#f, offsetof(struct pe_counters, f)}
	PE_FIELD(frames_in),       PE_FIELD(forwarded), PE_FIELD(dropped_loss),     PE_FIELD(dropped_queue),
	PE_FIELD(dropped_no_slot), PE_FIELD(too_big),   PE_FIELD(send_errors),      PE_FIELD(reordered),
	PE_FIELD(kernel_drops),    PE_FIELD(max_queue_frames), PE_FIELD(max_queue_bytes),
#undef PE_FIELD
};

struct pe_slot {
	uint64_t release; /* ns, CLOCK_MONOTONIC */
	uint64_t seq;     /* arrival rank: FIFO among equal release times */
	uint32_t len;
};

/* One direction: frames read from in_fd, held in slots, written to out_fd. All memory is allocated at
 * start; the fast path moves slot indices between the free stack, the release heap and the bottleneck. */
struct pe_dir {
	int in_fd, out_fd;
	struct pe_counters c;
	uint64_t prng;
	double loss_p, reorder_p;
	uint64_t delay_ns, hold_ns, rate_bps, limit_bytes, limit_frames;
	uint64_t last_depart, next_seq;
	uint32_t nslots;
	uint8_t *buf; /* nslots * PE_FRAME_MAX, then one scratch frame */
	struct pe_slot *slot;
	uint32_t *free_stack, nfree;
	uint32_t *heap, nheap; /* min-heap of slots by (release, seq) */
	/* Frames at the bottleneck: departure times and lengths, a FIFO as departures only grow. */
	uint64_t *bq_depart;
	uint32_t *bq_len, bq_head, bq_count;
	uint64_t bq_bytes;
	bool tx_blocked; /* out_fd said EAGAIN: wait for POLLOUT */
};

struct pe_path {
	struct pe_opts opts;
	struct pe_dir dir[PE_WAYS];
	int fd[PE_WAYS]; /* socket on --a, on --b */
};

/* Signal handlers can only reach globals; the loop reads these between batches. */
static volatile sig_atomic_t pe_stop, pe_dump;

static void pe_on_signal(int sig)
{
	if (sig == SIGUSR1)
		pe_dump = 1;
	else
		pe_stop = 1;
}

static uint64_t pe_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- PRNG: xorshift64*, seeded through splitmix64 so that seeds 0, 1, 2 give unrelated streams ---- */

static uint64_t pe_prng_seed(uint64_t seed, enum pe_way way)
{
	/* The direction is mixed in so that one --seed gives the two directions different streams. */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (1 + (uint64_t)way);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1; /* xorshift's state must not be 0 */
}

/* A uniform double in [0, 1) from the top 53 bits: p = 1 always hits, p = 0 never does. */
static double pe_prng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545f4914f6cdd1dull) >> 11) * 0x1p-53;
}

/* ---- slots, release heap, bottleneck ---- */

static bool pe_slot_before(const struct pe_dir *d, uint32_t x, uint32_t y)
{
	const struct pe_slot *a = &d->slot[x], *b = &d->slot[y];
	return a->release < b->release || (a->release == b->release && a->seq < b->seq);
}

static void pe_heap_push(struct pe_dir *d, uint32_t s)
{
	uint32_t i = d->nheap++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!pe_slot_before(d, s, d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = s;
}

static uint32_t pe_heap_pop(struct pe_dir *d)
{
	uint32_t top = d->heap[0], last = d->heap[--d->nheap], i = 0;
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= d->nheap)
			break;
		if (child + 1 < d->nheap && pe_slot_before(d, d->heap[child + 1], d->heap[child]))
			child++;
		if (!pe_slot_before(d, d->heap[child], last))
			break;
		d->heap[i] = d->heap[child];
		i = child;
	}
	if (d->nheap)
		d->heap[i] = last;
	return top;
}

static void pe_slot_free(struct pe_dir *d, uint32_t s)
{
	if (s != PE_NONE)
		d->free_stack[d->nfree++] = s;
}

static uint8_t *pe_slot_data(struct pe_dir *d, uint32_t s)
{
	return d->buf + (size_t)(s == PE_NONE ? d->nslots : s) * PE_FRAME_MAX;
}

/* Forgets the frames that have left the bottleneck by now. */
static void pe_bq_expire(struct pe_dir *d, uint64_t now)
{
	while (d->bq_count && d->bq_depart[d->bq_head] <= now) {
		d->bq_bytes -= d->bq_len[d->bq_head];
		d->bq_head = (d->bq_head + 1) % d->nslots;
		d->bq_count--;
	}
}

/* Step 2 of the model: the departure time of a frame of len bytes arriving at now, or 0 to drop it. */
static uint64_t pe_bottleneck(struct pe_dir *d, uint32_t len, uint64_t now)
{
	if (!d->rate_bps)
		return now;
	pe_bq_expire(d, now);
	if ((d->limit_frames && d->bq_count >= d->limit_frames) ||
	    (d->limit_bytes && d->bq_bytes + len > d->limit_bytes))
		return 0;
	/* Rounded up, so the configured rate is never exceeded. */
	uint64_t tx_ns = ((uint64_t)len * 8 * 1000000000u + d->rate_bps - 1) / d->rate_bps;
	uint64_t depart = (now > d->last_depart ? now : d->last_depart) + tx_ns;
	d->last_depart = depart;
	/* Holds at most nslots entries: each is a frame that still holds a slot (release >= depart > now). */
	uint32_t tail = (d->bq_head + d->bq_count) % d->nslots;
	d->bq_depart[tail] = depart;
	d->bq_len[tail] = len;
	d->bq_count++;
	d->bq_bytes += len;
	if (d->bq_count > d->c.max_queue_frames)
		d->c.max_queue_frames = d->bq_count;
	if (d->bq_bytes > d->c.max_queue_bytes)
		d->c.max_queue_bytes = d->bq_bytes;
	return depart;
}

/* A frame of len bytes read into slot s (PE_NONE: none was free, it sits in the scratch buffer). */
static void pe_dir_arrive(struct pe_dir *d, uint32_t s, uint32_t len, uint64_t now)
{
	d->c.frames_in++;
	double u_loss = pe_prng_next(&d->prng), u_reorder = pe_prng_next(&d->prng);
	if (u_loss < d->loss_p) {
		d->c.dropped_loss++;
		pe_slot_free(d, s);
		return;
	}
	if (s == PE_NONE) {
		d->c.dropped_no_slot++;
		return;
	}
	uint64_t depart = pe_bottleneck(d, len, now);
	if (!depart) {
		d->c.dropped_queue++;
		pe_slot_free(d, s);
		return;
	}
	uint64_t release = depart + d->delay_ns;
	if (u_reorder < d->reorder_p) {
		release += d->hold_ns;
		d->c.reordered++;
	}
	d->slot[s] = (struct pe_slot){.release = release, .seq = d->next_seq++, .len = len};
	pe_heap_push(d, s);
}

/* ---- I/O ---- */

/* Reads what in_fd holds, PE_RX_ROUNDS batches at most. Returns 0, or -errno on a fatal error. */
static int pe_dir_receive(struct pe_dir *d)
{
	struct mmsghdr msg[PE_BATCH];
	struct iovec iov[PE_BATCH];
	uint32_t slot[PE_BATCH];
	for (int round = 0; round < PE_RX_ROUNDS; round++) {
		/* With no slot free, one frame is still read (into scratch) to be counted, not lost unseen. */
		unsigned n = d->nfree < PE_BATCH ? d->nfree : PE_BATCH;
		if (n == 0)
			n = 1;
		memset(msg, 0, sizeof(msg[0]) * n);
		for (unsigned i = 0; i < n; i++) {
			slot[i] = d->nfree ? d->free_stack[d->nfree - 1 - i] : PE_NONE;
			iov[i] = (struct iovec){pe_slot_data(d, slot[i]), PE_FRAME_MAX};
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		/* MSG_TRUNC: packet sockets then report a frame's real length, so too long ones are seen. */
		int r = recvmmsg(d->in_fd, msg, n, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0) {
			/* ENETDOWN is reported once when the interface goes down: not the emulator's fault. */
			if (errno == EAGAIN || errno == EINTR || errno == ENETDOWN)
				return 0;
			return -errno;
		}
		uint64_t now = pe_now_ns();
		if (d->nfree)
			d->nfree -= (uint32_t)r;
		for (int i = 0; i < r; i++) {
			if (msg[i].msg_len > PE_FRAME_MAX) {
				d->c.frames_in++;
				d->c.too_big++;
				pe_slot_free(d, slot[i]);
				continue;
			}
			pe_dir_arrive(d, slot[i], msg[i].msg_len, now);
		}
		if ((unsigned)r < n)
			return 0;
	}
	return 0;
}

/* Sends every frame due by now. EAGAIN puts the rest back (their (release, seq) keys restore their
 * places) and waits for POLLOUT; any other error loses that one frame, counted. */
static void pe_dir_release(struct pe_dir *d, uint64_t now)
{
	struct mmsghdr msg[PE_BATCH];
	struct iovec iov[PE_BATCH];
	uint32_t slot[PE_BATCH];
	while (!d->tx_blocked && d->nheap && d->slot[d->heap[0]].release <= now) {
		unsigned n = 0;
		memset(msg, 0, sizeof(msg));
		while (n < PE_BATCH && d->nheap && d->slot[d->heap[0]].release <= now) {
			slot[n] = pe_heap_pop(d);
			iov[n] = (struct iovec){pe_slot_data(d, slot[n]), d->slot[slot[n]].len};
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		unsigned sent = 0;
		while (sent < n) {
			int r = sendmmsg(d->out_fd, msg + sent, n - sent, MSG_DONTWAIT);
			if (r > 0) {
				for (int i = 0; i < r; i++)
					pe_slot_free(d, slot[sent + (unsigned)i]);
				d->c.forwarded += (unsigned)r;
				sent += (unsigned)r;
			} else if (errno == EINTR) {
				continue;
			} else if (errno == EAGAIN) {
				while (sent < n)
					pe_heap_push(d, slot[sent++]);
				d->tx_blocked = true;
			} else {
				d->c.send_errors++;
				pe_slot_free(d, slot[sent++]);
			}
		}
	}
}

/* The socket's own drop count (its receive queue overflowed): read and reset by the kernel. */
static void pe_dir_kernel_drops(struct pe_dir *d)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	if (d->in_fd >= 0 && getsockopt(d->in_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		d->c.kernel_drops += st.tp_drops;
}

static void pe_stats_print(struct pe_path *p, FILE *f)
{
	fputc('{', f);
	for (int w = 0; w < PE_WAYS; w++) {
		struct pe_dir *d = &p->dir[w];
		pe_dir_kernel_drops(d);
		fprintf(f, "%s\"%s\":{", w ? "," : "", pe_way_name[w]);
		for (size_t i = 0; i < sizeof(pe_counter_fields) / sizeof(pe_counter_fields[0]); i++) {
			uint64_t v;
			memcpy(&v, (const char *)&d->c + pe_counter_fields[i].off, sizeof(v));
			fprintf(f, "%s\"%s\":%llu", i ? "," : "", pe_counter_fields[i].name, (unsigned long long)v);
		}
		fprintf(f, ",\"held\":%u}", d->nheap);
	}
	fputs("}\n", f);
}

/* To stdout, or replacing --stats FILE whole (written aside, then renamed: a reader never sees half). */
static void pe_stats_dump(struct pe_path *p)
{
	if (!p->opts.stats_path) {
		pe_stats_print(p, stdout);
		fflush(stdout);
		return;
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->opts.stats_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "path_emu: %s: %s\n", tmp, strerror(errno));
		return;
	}
	pe_stats_print(p, f);
	if (fclose(f) != 0 || rename(tmp, p->opts.stats_path) != 0)
		fprintf(stderr, "path_emu: %s: %s\n", p->opts.stats_path, strerror(errno));
}

/* ---- set-up ---- */

static int pe_socket_open(const char *opt, const char *ifname, int *out)
{
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "path_emu: %s %s: %s\n", opt, ifname,
			errno == ENODEV ? "no such interface" : strerror(errno));
		return -ENODEV;
	}
	/* Protocol 0: no frame is queued before bind, so nothing from other interfaces slips in. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		fprintf(stderr, "path_emu: AF_PACKET socket: %s%s\n", strerror(err),
			err == EPERM ? " (needs root or CAP_NET_RAW)" : "");
		return -err;
	}
	int one = 1, buf = PE_RCVBUF;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	struct packet_mreq mr = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC};
	const char *what = NULL;
	/* Our own transmissions on this interface would otherwise come back as input. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		what = "PACKET_IGNORE_OUTGOING";
	/* Promiscuous for as long as the socket lives: a wire passes frames for any MAC. */
	else if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		what = "PACKET_MR_PROMISC";
	/* The FORCE variants pass net.core.rmem_max; root has CAP_NET_ADMIN, else the plain ones. */
	else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0 &&
		 setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) < 0)
		what = "SO_RCVBUF";
	else if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0 &&
		 setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) < 0)
		what = "SO_SNDBUF";
	else if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		what = "bind";
	if (what) {
		int err = errno;
		fprintf(stderr, "path_emu: %s %s: %s: %s\n", opt, ifname, what, strerror(err));
		close(fd);
		return -err;
	}
	*out = fd;
	return 0;
}

static void pe_dir_fini(struct pe_dir *d)
{
	free(d->buf);
	free(d->slot);
	free(d->free_stack);
	free(d->heap);
	free(d->bq_depart);
	free(d->bq_len);
}

static int pe_dir_init(struct pe_dir *d, const struct pe_dir_opts *o, enum pe_way way, uint32_t nslots)
{
	*d = (struct pe_dir){
		.in_fd = -1,
		.out_fd = -1,
		.prng = pe_prng_seed(o->seed, way),
		.loss_p = o->loss_pct / 100,
		.reorder_p = o->reorder_pct / 100,
		.delay_ns = (uint64_t)llround(o->delay_ms * 1e6),
		.hold_ns = (uint64_t)llround(o->hold_ms * 1e6),
		.rate_bps = o->rate_bps,
		.limit_bytes = o->limit_bytes,
		.limit_frames = o->limit_frames,
		.nslots = nslots,
	};
	d->buf = calloc((size_t)nslots + 1, PE_FRAME_MAX);
	d->slot = calloc(nslots, sizeof(*d->slot));
	d->free_stack = calloc(nslots, sizeof(*d->free_stack));
	d->heap = calloc(nslots, sizeof(*d->heap));
	d->bq_depart = calloc(nslots, sizeof(*d->bq_depart));
	d->bq_len = calloc(nslots, sizeof(*d->bq_len));
	if (!d->buf || !d->slot || !d->free_stack || !d->heap || !d->bq_depart || !d->bq_len) {
		fprintf(stderr, "path_emu: cannot allocate %u slots of %d bytes\n", nslots, PE_FRAME_MAX);
		pe_dir_fini(d);
		return -ENOMEM;
	}
	/* Slot 0 on top: a light load keeps reusing the same few buffers (warm in cache). */
	for (uint32_t i = 0; i < nslots; i++)
		d->free_stack[i] = nslots - 1 - i;
	d->nfree = nslots;
	return 0;
}

/* ---- the loop ---- */

static int pe_run(struct pe_path *p)
{
	sigset_t block, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	/* Signals are blocked except inside ppoll, so one landing between the flag check and the sleep
	 * still wakes it; with --spin there is no sleep and they stay open. */
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGUSR1);
	if (p->opts.spin)
		sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	struct sigaction sa = {.sa_handler = pe_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	/* Timers wake us within a nanosecond of the deadline instead of the default 50 us slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	fprintf(stderr, "path_emu: ready, forwarding %s <-> %s\n", p->opts.ifname[PE_A2B], p->opts.ifname[PE_B2A]);
	int rc = 0;
	while (!pe_stop) {
		if (pe_dump) {
			pe_dump = 0;
			pe_stats_dump(p);
		}
		uint64_t now = pe_now_ns(), next = UINT64_MAX;
		for (int w = 0; w < PE_WAYS; w++) {
			struct pe_dir *d = &p->dir[w];
			if (p->opts.spin)
				d->tx_blocked = false;
			pe_dir_release(d, now);
			if (!d->tx_blocked && d->nheap && d->slot[d->heap[0]].release < next)
				next = d->slot[d->heap[0]].release;
		}
		if (!p->opts.spin) {
			/* fd[PE_A2B] reads a->b and writes b->a: POLLOUT there unblocks b->a. */
			struct pollfd pfd[PE_WAYS];
			for (int w = 0; w < PE_WAYS; w++)
				pfd[w] = (struct pollfd){.fd = p->fd[w],
							 .events = POLLIN | (p->dir[!w].tx_blocked ? POLLOUT : 0)};
			struct timespec ts, *tsp = NULL;
			if (next != UINT64_MAX) {
				uint64_t now2 = pe_now_ns(), wait = next > now2 ? next - now2 : 0;
				ts = (struct timespec){.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
				tsp = &ts;
			}
			if (ppoll(pfd, PE_WAYS, tsp, &wait_mask) < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				fprintf(stderr, "path_emu: ppoll: %s\n", strerror(errno));
				break;
			}
			for (int w = 0; w < PE_WAYS; w++)
				if (pfd[w].revents & (POLLOUT | POLLERR))
					p->dir[!w].tx_blocked = false;
		}
		for (int w = 0; w < PE_WAYS && !rc; w++) {
			rc = pe_dir_receive(&p->dir[w]);
			if (rc < 0)
				fprintf(stderr, "path_emu: receive on %s: %s\n", p->opts.ifname[w], strerror(-rc));
		}
		if (rc)
			break;
	}
	pe_stats_dump(p);
	return rc;
}

/* ---- command line ---- */

static const char pe_usage[] =
	"usage: path_emu --a IFACE --b IFACE [options]\n"
	"Forwards every Ethernet frame between IFACE a and IFACE b, unchanged (a transparent wire, ARP\n"
	"included), impairing each direction: loss, then a bottleneck (rate, tail-drop queue), then delay,\n"
	"then reordering. Put the two interfaces in a namespace of their own with no address (netem_lib.sh).\n"
	"\n"
	"Impairments, for both directions; prefix a2b- or b2a- to set one direction only (--a2b-loss 1).\n"
	"Options apply left to right: --delay-ms 5 --b2a-delay-ms 0 delays a->b only.\n"
	"  --delay-ms MS         one-way delay, fractional allowed (default 0)\n"
	"  --loss PCT            drop PCT% of frames at random, fractional allowed (default 0)\n"
	"  --reorder PCT         hold PCT% of frames back by the hold, letting later ones pass (default 0)\n"
	"  --reorder-hold-ms MS  extra delay of a reordered frame (default 0.25)\n"
	"  --rate BITS           bottleneck rate in bit/s, suffix k, M or G (x1000); frame bytes as read,\n"
	"                        no preamble or FCS; 0 = no bottleneck (default 0)\n"
	"  --limit-frames N      tail-drop a frame when N frames are already at the bottleneck (queued or\n"
	"                        in transmission); 0 = no limit (default 1000)\n"
	"  --limit-bytes N       same in bytes, counting the new frame; 0 = no limit (default 0)\n"
	"  --seed N              seed of the direction's PRNG (default 1; the direction is mixed in, so\n"
	"                        a->b and b->a differ even with one seed)\n"
	"Other options:\n"
	"  --slots N             frames held at once per direction, allocated at start (9216 bytes each;\n"
	"                        default 4096): size for rate x delay; a frame finding none is dropped\n"
	"                        (dropped_no_slot)\n"
	"  --spin                never sleep (poll the sockets in a loop)\n"
	"  --stats FILE          write the counters to FILE (replaced whole) instead of stdout\n"
	"  --predict-loss N      print {\"a2b\":X,\"b2a\":Y}, how many of each direction's first N frames\n"
	"                        the seed and loss drop for loss (queue effects aside), and exit\n"
	"  -h, --help            this text\n"
	"Counters, one JSON object per direction, go to stdout (or --stats FILE) on SIGUSR1 and at exit\n"
	"(SIGTERM or SIGINT: exit status 0). Frames longer than 9216 bytes are dropped (too_big). Both ends\n"
	"must send complete checksums (ethtool -K IFACE tx off): offload metadata does not cross the wire,\n"
	"nor do 802.1Q tags (the kernel takes them off before a packet socket sees the frame).\n";

/* The per-direction options, in the order of pe_dir_opt_names. */
enum pe_dir_key { PK_DELAY, PK_LOSS, PK_REORDER, PK_HOLD, PK_RATE, PK_LIMIT_FRAMES, PK_LIMIT_BYTES, PK_SEED, PK_COUNT };

enum {
	PE_OPT_A = 256,
	PE_OPT_B,
	PE_OPT_SLOTS,
	PE_OPT_SPIN,
	PE_OPT_STATS,
	PE_OPT_PREDICT,
	PE_OPT_DIR = 512, /* + key * 4 + scope: 0 both directions, 1 + PE_A2B, 1 + PE_B2A */
};

/* NAME, a2b-NAME and b2a-NAME: one per-direction option in its three scopes. */
#define PE_DIR_OPT(name, key)                                              \
	{name, required_argument, NULL, PE_OPT_DIR + (key) * 4},           \
	{"a2b-" name, required_argument, NULL, PE_OPT_DIR + (key) * 4 + 1}, \
	{"b2a-" name, required_argument, NULL, PE_OPT_DIR + (key) * 4 + 2}

static const struct option pe_long_opts[] = {
	{"a", required_argument, NULL, PE_OPT_A},
	{"b", required_argument, NULL, PE_OPT_B},
	PE_DIR_OPT("delay-ms", PK_DELAY),
	PE_DIR_OPT("loss", PK_LOSS),
	PE_DIR_OPT("reorder", PK_REORDER),
	PE_DIR_OPT("reorder-hold-ms", PK_HOLD),
	PE_DIR_OPT("rate", PK_RATE),
	PE_DIR_OPT("limit-frames", PK_LIMIT_FRAMES),
	PE_DIR_OPT("limit-bytes", PK_LIMIT_BYTES),
	PE_DIR_OPT("seed", PK_SEED),
	{"slots", required_argument, NULL, PE_OPT_SLOTS},
	{"spin", no_argument, NULL, PE_OPT_SPIN},
	{"stats", required_argument, NULL, PE_OPT_STATS},
	{"predict-loss", required_argument, NULL, PE_OPT_PREDICT},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* What a value of each per-direction option must be, for the error message. */
static const char *const pe_dir_opt_expect[PK_COUNT] = {
	[PK_DELAY] = "milliseconds, 0 to 60000",
	[PK_LOSS] = "a percentage, 0 to 100",
	[PK_REORDER] = "a percentage, 0 to 100",
	[PK_HOLD] = "milliseconds, 0 to 60000",
	[PK_RATE] = "bit/s, e.g. 500M, 1.5G, 0 for none",
	[PK_LIMIT_FRAMES] = "a whole number of frames",
	[PK_LIMIT_BYTES] = "a whole number of bytes",
	[PK_SEED] = "a whole number, 0 to 2^64-1",
};

static int pe_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int pe_parse_u64(const char *s, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* 500M, 1.5G, 64k, 1000000: bit/s, decimal multipliers as tc's. */
static int pe_parse_rate(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	else if (*end == 'G')
		v *= 1e9, end++;
	if (*end || v > 1e13 || (v > 0 && v < 1))
		return -EINVAL;
	*out = (uint64_t)llround(v);
	return 0;
}

static int pe_dir_opt_apply(struct pe_dir_opts *d, enum pe_dir_key key, const char *arg)
{
	switch (key) {
	case PK_DELAY:
		return pe_parse_double(arg, 0, 60000, &d->delay_ms);
	case PK_LOSS:
		return pe_parse_double(arg, 0, 100, &d->loss_pct);
	case PK_REORDER:
		return pe_parse_double(arg, 0, 100, &d->reorder_pct);
	case PK_HOLD:
		return pe_parse_double(arg, 0, 60000, &d->hold_ms);
	case PK_RATE:
		return pe_parse_rate(arg, &d->rate_bps);
	case PK_LIMIT_FRAMES:
		return pe_parse_u64(arg, UINT32_MAX, &d->limit_frames);
	case PK_LIMIT_BYTES:
		return pe_parse_u64(arg, UINT64_MAX / 2, &d->limit_bytes);
	case PK_SEED:
		return pe_parse_u64(arg, UINT64_MAX, &d->seed);
	case PK_COUNT:
		break;
	}
	return -EINVAL;
}

/* Returns 0, or 2 (bad usage, said on stderr), or 1 after --help. */
static int pe_opts_parse(int argc, char **argv, struct pe_opts *o)
{
	const struct pe_dir_opts dflt = {.hold_ms = 0.25, .limit_frames = 1000, .seed = 1};
	*o = (struct pe_opts){.dir = {dflt, dflt}, .slots = 4096, .predict_loss = -1};
	int c, idx;
	while ((c = getopt_long(argc, argv, "h", pe_long_opts, &idx)) != -1) {
		uint64_t v = 0;
		int err = 0;
		const char *expect = NULL;
		if (c >= PE_OPT_DIR) {
			enum pe_dir_key key = (enum pe_dir_key)((c - PE_OPT_DIR) / 4);
			int scope = (c - PE_OPT_DIR) % 4;
			for (int w = 0; w < PE_WAYS && !err; w++)
				if (scope == 0 || scope == 1 + w)
					err = pe_dir_opt_apply(&o->dir[w], key, optarg);
			expect = pe_dir_opt_expect[key];
		} else {
			switch (c) {
			case PE_OPT_A:
			case PE_OPT_B:
				o->ifname[c - PE_OPT_A] = optarg;
				err = strlen(optarg) >= IF_NAMESIZE ? -EINVAL : 0;
				expect = "an interface name";
				break;
			case PE_OPT_SLOTS:
				err = pe_parse_u64(optarg, 1u << 20, &v);
				err = err ? err : v == 0 ? -EINVAL : 0;
				o->slots = (uint32_t)v;
				expect = "1 to 1048576";
				break;
			case PE_OPT_SPIN:
				o->spin = true;
				break;
			case PE_OPT_STATS:
				o->stats_path = optarg;
				break;
			case PE_OPT_PREDICT:
				err = pe_parse_u64(optarg, 1ull << 40, &v);
				o->predict_loss = (long long)v;
				expect = "a whole number of frames";
				break;
			case 'h':
				fputs(pe_usage, stdout);
				return 1;
			default:
				fprintf(stderr, "path_emu: see --help\n");
				return 2;
			}
		}
		if (err) {
			fprintf(stderr, "path_emu: --%s: bad value '%s' (%s)\n", pe_long_opts[idx].name, optarg, expect);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "path_emu: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (o->predict_loss >= 0)
		return 0;
	if (!o->ifname[PE_A2B] || !o->ifname[PE_B2A]) {
		fprintf(stderr, "path_emu: --a IFACE and --b IFACE are required (see --help)\n");
		return 2;
	}
	if (strcmp(o->ifname[PE_A2B], o->ifname[PE_B2A]) == 0) {
		fprintf(stderr, "path_emu: --a and --b name the same interface\n");
		return 2;
	}
	return 0;
}

/* --predict-loss: the same draws as pe_dir_arrive, two per frame, without the sockets. */
static void pe_predict_loss(const struct pe_opts *o)
{
	printf("{");
	for (int w = 0; w < PE_WAYS; w++) {
		uint64_t s = pe_prng_seed(o->dir[w].seed, (enum pe_way)w), lost = 0;
		double p = o->dir[w].loss_pct / 100;
		for (long long i = 0; i < o->predict_loss; i++) {
			lost += pe_prng_next(&s) < p;
			(void)pe_prng_next(&s);
		}
		printf("%s\"%s\":%llu", w ? "," : "", pe_way_name[w], (unsigned long long)lost);
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	struct pe_path p = {.fd = {-1, -1}};
	int rc = pe_opts_parse(argc, argv, &p.opts);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (p.opts.predict_loss >= 0) {
		pe_predict_loss(&p.opts);
		return 0;
	}
	rc = pe_socket_open("--a", p.opts.ifname[PE_A2B], &p.fd[PE_A2B]);
	if (!rc)
		rc = pe_socket_open("--b", p.opts.ifname[PE_B2A], &p.fd[PE_B2A]);
	if (!rc)
		rc = pe_dir_init(&p.dir[PE_A2B], &p.opts.dir[PE_A2B], PE_A2B, p.opts.slots);
	if (!rc && (rc = pe_dir_init(&p.dir[PE_B2A], &p.opts.dir[PE_B2A], PE_B2A, p.opts.slots)) < 0)
		pe_dir_fini(&p.dir[PE_A2B]);
	if (!rc) {
		p.dir[PE_A2B].in_fd = p.dir[PE_B2A].out_fd = p.fd[PE_A2B];
		p.dir[PE_B2A].in_fd = p.dir[PE_A2B].out_fd = p.fd[PE_B2A];
		rc = pe_run(&p);
		pe_dir_fini(&p.dir[PE_A2B]);
		pe_dir_fini(&p.dir[PE_B2A]);
	}
	for (int w = 0; w < PE_WAYS; w++)
		if (p.fd[w] >= 0)
			close(p.fd[w]);
	return rc ? 1 : 0;
}
