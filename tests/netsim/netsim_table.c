/* The default grid shared by the netsim_grid test and program, and its reports: a markdown table for
 * people (and scripts/bench.sh) and the same numbers as JSON. */
#include "netsim.h"

#include <string.h>

#define KB 1024u

/* loss {0, 1, 2, 5}% x RTT {1, 10, 50} ms x buffer {16, 64} KB, then reordering on the 10 and 50 ms
 * paths. The test's bound table lists the same cells in the same order. */
const struct netsim_cell netsim_grid_cells[] = {
	{0, 1, 16 * KB, 0}, {0, 1, 64 * KB, 0}, {0, 10, 16 * KB, 0}, {0, 10, 64 * KB, 0},
	{0, 50, 16 * KB, 0}, {0, 50, 64 * KB, 0},
	{1, 1, 16 * KB, 0}, {1, 1, 64 * KB, 0}, {1, 10, 16 * KB, 0}, {1, 10, 64 * KB, 0},
	{1, 50, 16 * KB, 0}, {1, 50, 64 * KB, 0},
	{2, 1, 16 * KB, 0}, {2, 1, 64 * KB, 0}, {2, 10, 16 * KB, 0}, {2, 10, 64 * KB, 0},
	{2, 50, 16 * KB, 0}, {2, 50, 64 * KB, 0},
	{5, 1, 16 * KB, 0}, {5, 1, 64 * KB, 0}, {5, 10, 16 * KB, 0}, {5, 10, 64 * KB, 0},
	{5, 50, 16 * KB, 0}, {5, 50, 64 * KB, 0},
	{0, 10, 64 * KB, 1}, {0, 10, 64 * KB, 5}, {1, 10, 64 * KB, 2}, {0, 50, 64 * KB, 2},
};
const size_t netsim_grid_count = sizeof(netsim_grid_cells) / sizeof(netsim_grid_cells[0]);

void netsim_cell_config(const struct netsim_cell *cell, struct netsim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bytes = NETSIM_BYTES;
	cfg->loss_pct = cell->loss_pct;
	cfg->rtt = (smx_instant)cell->rtt_ms * 1000;
	cfg->rate = NETSIM_RATE;
	cfg->queue = NETSIM_QUEUE;
	cfg->reorder_pct = cell->reorder_pct;
	cfg->reorder_extra = NETSIM_REORDER_EXTRA;
	cfg->buf = cell->buf;
	cfg->seed = NETSIM_SEED;
}

static void size_str(char *out, size_t cap, uint64_t n)
{
	if (n >= 1048576 && n % 1048576 == 0)
		snprintf(out, cap, "%llu MB", (unsigned long long)(n / 1048576));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, cap, "%llu KB", (unsigned long long)(n / 1024));
	else
		snprintf(out, cap, "%llu B", (unsigned long long)n);
}

void netsim_md_header(FILE *out, const struct netsim_config *common)
{
	char bytes[32], queue[32];

	size_str(bytes, sizeof(bytes), common->bytes);
	size_str(queue, sizeof(queue), common->queue);
	fprintf(out,
		"%s A->B per run, bottleneck %.0f Mbit/s each way, queue %s, reordered frames held %.1f ms more, "
		"seed %llu. Loss is per direction; RTT is propagation only. Goodput is over simulated time, "
		"connect to the last byte read; retransmits/fast/timeouts are the sender's.\n\n",
		bytes, (double)common->rate / 1e6, common->queue ? queue : "unlimited",
		(double)common->reorder_extra / 1000, (unsigned long long)common->seed);
	fprintf(out, "| loss %% | RTT ms | buffer | reorder %% | SACK | goodput Mbit/s | sim s | retransmits | fast | "
		     "timeouts | loss drops | queue drops | result |\n");
	fprintf(out, "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
}

static const char *result_word(const struct netsim_result *res)
{
	if (!res->completed)
		return "INCOMPLETE";
	if (!res->byte_exact)
		return "NOT BYTE-EXACT";
	return res->frames_leaked ? "FRAMES LEAKED" : "ok";
}

void netsim_md_row(FILE *out, const struct netsim_config *cfg, const struct netsim_result *res)
{
	char buf[32];

	size_str(buf, sizeof(buf), cfg->buf);
	fprintf(out, "| %u | %g | %s | %u | %s | %.2f | %.3f | %llu | %llu | %llu | %llu | %llu | %s |\n",
		cfg->loss_pct, (double)cfg->rtt / 1000, buf, cfg->reorder_pct, cfg->no_sack ? "off" : "on",
		res->goodput_bps / 1e6, res->sim_s,
		(unsigned long long)res->retransmits, (unsigned long long)res->fast_retransmits,
		(unsigned long long)res->timeouts, (unsigned long long)res->loss_drops,
		(unsigned long long)res->queue_drops, result_word(res));
}

/* The reason strings are ours (no quotes or backslashes), but escape anyway: JSON must stay valid. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void netsim_json_open(FILE *out, const struct netsim_config *common)
{
	fprintf(out,
		"{\n \"bytes\": %llu,\n \"rate_bps\": %llu,\n \"queue_bytes\": %u,\n \"reorder_extra_us\": %llu,\n"
		" \"seed\": %llu,\n \"runs\": [",
		(unsigned long long)common->bytes, (unsigned long long)common->rate, common->queue,
		(unsigned long long)common->reorder_extra, (unsigned long long)common->seed);
}

void netsim_json_row(FILE *out, const struct netsim_config *cfg, const struct netsim_result *res, bool first)
{
	fprintf(out,
		"%s\n  {\"loss_pct\": %u, \"rtt_ms\": %g, \"buf\": %u, \"reorder_pct\": %u, \"sack\": %s, \"bytes\": %llu, "
		"\"completed\": %s, \"byte_exact\": %s, \"sim_s\": %.6f, \"open_s\": %.6f, \"data_s\": %.6f, "
		"\"goodput_mbps\": %.3f, "
		"\"retransmits\": %llu, \"fast_retransmits\": %llu, \"timeouts\": %llu, \"segs_a\": %llu, "
		"\"segs_b\": %llu, \"loss_drops\": %llu, \"queue_drops\": %llu, \"full_drops\": %llu, "
		"\"reordered\": %llu, \"max_stall_ms\": %.3f, \"max_rto_ms\": %.3f, \"frames_leaked\": %u, \"why\": ",
		first ? "" : ",", cfg->loss_pct, (double)cfg->rtt / 1000, cfg->buf, cfg->reorder_pct,
		cfg->no_sack ? "false" : "true", (unsigned long long)cfg->bytes, res->completed ? "true" : "false", res->byte_exact ? "true" : "false",
		res->sim_s, res->open_s, res->data_s, res->goodput_bps / 1e6, (unsigned long long)res->retransmits,
		(unsigned long long)res->fast_retransmits, (unsigned long long)res->timeouts,
		(unsigned long long)res->segs_a, (unsigned long long)res->segs_b, (unsigned long long)res->loss_drops,
		(unsigned long long)res->queue_drops, (unsigned long long)res->full_drops,
		(unsigned long long)res->reordered, (double)res->max_stall_us / 1000, (double)res->max_rto_us / 1000,
		res->frames_leaked);
	json_str(out, res->why);
	fputc('}', out);
}

void netsim_json_close(FILE *out)
{
	fprintf(out, "\n ]\n}\n");
}
