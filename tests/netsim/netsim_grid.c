/* netsim_grid: runs the simulated TCP grid (tests/netsim, virtual time) and prints a markdown table on
 * stdout, optionally the same as JSON. With no grid option it runs the netsim_grid test's cells; any of
 * --loss/--rtt-ms/--buf/--reorder makes the grid their product instead (unset axes keep the defaults,
 * reorder 0). Progress and wall time go to stderr. Exit 1 if a run did not complete byte-exact. */
#include "netsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST 16
#define MAX_RUNS 4096

struct list {
	uint64_t v[MAX_LIST];
	size_t n;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: netsim_grid [options]\n"
		"  --loss LIST        loss %% per direction, e.g. 0,1,2,5\n"
		"  --rtt-ms LIST      round-trip propagation delay, ms, e.g. 1,10,50\n"
		"  --buf LIST         TCP rx/tx buffer per connection, bytes (K, M: 1024s; at least 1K), e.g. 16K,64K\n"
		"  --reorder LIST     %% of frames held back --reorder-extra-us (default 0)\n"
		"  --sack LIST        1: SACK agreed, 0: neither stack offers it (default 1; the default grid runs both)\n"
		"  --reorder-extra-us N  (default %u)\n"
		"  --bytes N          bytes sent A->B per run (K, M, G: 1024s; default %u)\n"
		"  --rate BPS         bottleneck bit/s each way (K, M, G: 1000s; 0 unlimited; default %llu)\n"
		"  --queue BYTES      bottleneck queue (K, M: 1024s; 0 unlimited; default %u)\n"
		"  --seed N           (default %u)\n"
		"  --time-limit S     simulated seconds before a run is given up (default %llu)\n"
		"  --cold-connect     connect before the stacks have seen the clock (before any poll)\n"
		"  --json FILE        also write the results as JSON\n",
		NETSIM_REORDER_EXTRA, NETSIM_BYTES, (unsigned long long)NETSIM_RATE, NETSIM_QUEUE, NETSIM_SEED,
		(unsigned long long)(NETSIM_TIME_LIMIT / 1000000));
}

/* A whole number with an optional K/M/G suffix of `unit` (1000 or 1024); false on junk or overflow. */
static bool parse_num(const char *s, uint64_t unit, uint64_t *out)
{
	char *end;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == 'K' || *end == 'k')
		mul = unit;
	else if (*end == 'M' || *end == 'm')
		mul = unit * unit;
	else if (*end == 'G' || *end == 'g')
		mul = unit * unit * unit;
	if (mul != 1)
		end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return false;
	*out = (uint64_t)v * mul;
	return true;
}

/* Comma-separated values, each within [min, max]; an empty field is an error. */
static bool parse_list(const char *s, uint64_t unit, uint64_t min, uint64_t max, struct list *l)
{
	char field[64];

	l->n = 0;
	if (!s)
		return false;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == 0 || len >= sizeof(field) || l->n == MAX_LIST)
			return false;
		memcpy(field, s, len);
		field[len] = '\0';
		if (!parse_num(field, unit, &l->v[l->n]) || l->v[l->n] < min || l->v[l->n] > max)
			return false;
		l->n++;
		if (!comma)
			return true;
		s = comma + 1;
	}
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct opts {
	struct list loss, rtt, buf, reorder, sack;
	bool product;
	struct netsim_config common; /* everything but the grid's axes */
	const char *json;
};

static void list_default(struct list *l, const uint64_t *v, size_t n)
{
	if (l->n)
		return;
	memcpy(l->v, v, n * sizeof(*v));
	l->n = n;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	struct netsim_cell none = {0};
	uint64_t v;

	memset(o, 0, sizeof(*o));
	netsim_cell_config(&none, &o->common);
	o->common.time_limit = NETSIM_TIME_LIMIT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--loss")) {
			ok = parse_list(val, 1, 0, 100, &o->loss);
			o->product = true;
		} else if (!strcmp(a, "--rtt-ms")) {
			ok = parse_list(val, 1, 0, 3600000, &o->rtt);
			o->product = true;
		} else if (!strcmp(a, "--buf")) {
			ok = parse_list(val, 1024, 1024, (1u << 30) - 1, &o->buf);
			o->product = true;
		} else if (!strcmp(a, "--reorder")) {
			ok = parse_list(val, 1, 0, 100, &o->reorder);
			o->product = true;
		} else if (!strcmp(a, "--sack")) {
			ok = parse_list(val, 1, 0, 1, &o->sack);
			o->product = true;
		} else if (!strcmp(a, "--reorder-extra-us")) {
			ok = parse_num(val, 1000, &v) && v <= 60000000;
			o->common.reorder_extra = v;
		} else if (!strcmp(a, "--bytes")) {
			ok = parse_num(val, 1024, &v) && v > 0 && v <= (1ull << 40);
			o->common.bytes = v;
		} else if (!strcmp(a, "--rate")) {
			ok = parse_num(val, 1000, &v);
			o->common.rate = v;
		} else if (!strcmp(a, "--queue")) {
			ok = parse_num(val, 1024, &v) && v <= UINT32_MAX;
			o->common.queue = (uint32_t)v;
		} else if (!strcmp(a, "--seed")) {
			ok = parse_num(val, 1, &v);
			o->common.seed = v;
		} else if (!strcmp(a, "--time-limit")) {
			ok = parse_num(val, 1, &v) && v > 0 && v <= 1000000000;
			o->common.time_limit = v * 1000000;
		} else if (!strcmp(a, "--cold-connect")) {
			o->common.cold_connect = true;
			continue;
		} else if (!strcmp(a, "--json")) {
			ok = val != NULL;
			o->json = val;
		} else {
			fprintf(stderr, "netsim_grid: unknown option %s\n", a);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "netsim_grid: bad value for %s: %s\n", a, val ? val : "(none)");
			return -1;
		}
		i++;
	}
	return 0;
}

/* The runs to do: the default cells, or the product of the lists. */
static size_t build_grid(struct opts *o, struct netsim_config *runs, size_t cap)
{
	static const uint64_t loss[] = {0, 1, 2, 5}, rtt[] = {1, 10, 50}, buf[] = {16384, 65536}, reorder[] = {0};
	static const uint64_t sack[] = {1};
	size_t n = 0;

	if (!o->product) {
		for (int no_sack = 0; no_sack <= 1; no_sack++)
			for (size_t i = 0; i < netsim_grid_count && n < cap; i++) {
				struct netsim_config c = o->common;
				c.loss_pct = netsim_grid_cells[i].loss_pct;
				c.rtt = (smx_instant)netsim_grid_cells[i].rtt_ms * 1000;
				c.buf = netsim_grid_cells[i].buf;
				c.reorder_pct = netsim_grid_cells[i].reorder_pct;
				c.no_sack = no_sack;
				runs[n++] = c;
			}
		return n;
	}
	list_default(&o->loss, loss, 4);
	list_default(&o->rtt, rtt, 3);
	list_default(&o->buf, buf, 2);
	list_default(&o->reorder, reorder, 1);
	list_default(&o->sack, sack, 1);
	for (size_t k = 0; k < o->sack.n; k++)
		for (size_t r = 0; r < o->reorder.n; r++)
			for (size_t l = 0; l < o->loss.n; l++)
				for (size_t t = 0; t < o->rtt.n; t++)
					for (size_t b = 0; b < o->buf.n && n < cap; b++) {
						struct netsim_config c = o->common;
						c.loss_pct = (uint8_t)o->loss.v[l];
						c.rtt = o->rtt.v[t] * 1000;
						c.buf = (uint32_t)o->buf.v[b];
						c.reorder_pct = (uint8_t)o->reorder.v[r];
						c.no_sack = !o->sack.v[k];
						runs[n++] = c;
					}
	return n;
}

int main(int argc, char **argv)
{
	static struct netsim_config runs[MAX_RUNS];
	struct opts o;
	FILE *json = NULL;
	int status = 0;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	size_t n = build_grid(&o, runs, MAX_RUNS);
	if (n == MAX_RUNS)
		fprintf(stderr, "netsim_grid: the grid is cut at %d runs\n", MAX_RUNS);
	if (o.json && !(json = fopen(o.json, "w"))) {
		fprintf(stderr, "netsim_grid: %s: %s\n", o.json, strerror(errno));
		return 2;
	}
	netsim_md_header(stdout, &o.common);
	if (json)
		netsim_json_open(json, &o.common);
	double t0 = wall_now();
	for (size_t i = 0; i < n; i++) {
		struct netsim_result res;
		double t = wall_now();
		bool ok = netsim_run(&runs[i], &res);

		netsim_md_row(stdout, &runs[i], &res);
		fflush(stdout);
		if (json)
			netsim_json_row(json, &runs[i], &res, i == 0);
		fprintf(stderr, "netsim_grid: loss %u%% rtt %g ms buf %u reorder %u%% SACK %s: %s, %.3f s simulated (longest "
			"stall %.0f ms, largest RTO %.0f ms), %llu steps, %.2f s wall%s%s\n",
			runs[i].loss_pct, (double)runs[i].rtt / 1000, runs[i].buf, runs[i].reorder_pct,
			runs[i].no_sack ? "off" : "on",
			ok ? "ok" : "FAILED", res.sim_s, (double)res.max_stall_us / 1000, (double)res.max_rto_us / 1000,
			(unsigned long long)res.steps,
			wall_now() - t, res.why[0] ? ": " : "", res.why);
		if (!ok)
			status = 1;
	}
	fprintf(stderr, "netsim_grid: %zu runs in %.2f s wall\n", n, wall_now() - t0);
	if (json) {
		netsim_json_close(json);
		if (fclose(json) != 0) {
			fprintf(stderr, "netsim_grid: writing %s failed\n", o.json);
			status = 2;
		}
	}
	return status;
}
