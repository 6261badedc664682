/* smolxdp-dump: one line per Ethernet frame, decoded by the stack's own printers (frame_print).
 * libpcap does what it does best: live capture, pcap files and BPF filter expressions. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smolxdp/wire.h"

#define DUMP_SNAPLEN 262144
#define DUMP_EXIT_USAGE 2

struct dump_opts {
	const char *iface;
	const char *read_file;
	const char *write_file;
	long count; /* 0: until interrupted or the file ends */
	char *filter;
};

struct dump_state {
	pcap_dumper_t *dumper;
	unsigned long frames;
};

static pcap_t *dump_pcap; /* for the signal handler only: pcap_breakloop is safe to call there */

static void dump_usage(FILE *out)
{
	fprintf(out,
		"usage: smolxdp-dump [-i IFACE | -r FILE.pcap] [-w FILE.pcap] [-c COUNT] [FILTER...]\n"
		"Decodes Ethernet frames one per line with smolxdp's wire layer: time, MACs, ARP, IPv4, ICMP,\n"
		"UDP, TCP (flags, seq, ack, win, options, lengths); what it cannot decode is named (truncated,\n"
		"bad checksum, unknown type).\n"
		"  -i IFACE      capture live on IFACE (needs CAP_NET_RAW)\n"
		"  -r FILE       read frames from a pcap file\n"
		"  -w FILE       also write the frames to a pcap file\n"
		"  -c COUNT      stop after COUNT frames\n"
		"  FILTER        a pcap-filter(7) expression, e.g. 'tcp port 80'\n"
		"  -h, --help    this text\n"
		"Ctrl-C stops a capture and prints the number of frames. Exit status 2 on bad usage or when the\n"
		"interface or file cannot be opened.\n");
}

static void dump_on_signal(int sig)
{
	(void)sig;
	if (dump_pcap != NULL)
		pcap_breakloop(dump_pcap);
}

/* The remaining arguments, joined with spaces, are the filter (as tcpdump takes them). */
static char *dump_join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (s == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* 0 on success; otherwise prints one line and returns DUMP_EXIT_USAGE (or 0 with help printed). */
static int dump_parse_args(int argc, char **argv, struct dump_opts *o, bool *help)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, "+:i:r:w:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case 'r':
			o->read_file = optarg;
			break;
		case 'w':
			o->write_file = optarg;
			break;
		case 'c': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "smolxdp-dump: bad count '%s' (a positive number)\n", optarg);
				return DUMP_EXIT_USAGE;
			}
			o->count = v;
			break;
		}
		case 'h':
			*help = true;
			return 0;
		case ':':
			fprintf(stderr, "smolxdp-dump: bad arguments: -%c needs a value (see --help)\n", optopt);
			return DUMP_EXIT_USAGE;
		default:
			if (optopt != 0)
				fprintf(stderr, "smolxdp-dump: bad arguments: unknown option -%c (see --help)\n", optopt);
			else
				fprintf(stderr, "smolxdp-dump: bad arguments: unknown option %s (see --help)\n",
					argv[optind - 1]);
			return DUMP_EXIT_USAGE;
		}
	}
	if ((o->iface == NULL) == (o->read_file == NULL)) {
		fprintf(stderr, "smolxdp-dump: give exactly one of -i IFACE or -r FILE (see --help)\n");
		return DUMP_EXIT_USAGE;
	}
	if (optind < argc) {
		o->filter = dump_join_args(argc - optind, argv + optind);
		if (o->filter == NULL) {
			fprintf(stderr, "smolxdp-dump: out of memory\n");
			return 1;
		}
	}
	return 0;
}

static pcap_t *dump_open_live(const char *iface)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(iface, err);

	if (p == NULL) {
		fprintf(stderr, "smolxdp-dump: %s: %s\n", iface, err);
		return NULL;
	}
	pcap_set_snaplen(p, DUMP_SNAPLEN);
	pcap_set_promisc(p, 1);
	pcap_set_immediate_mode(p, 1); /* one line per frame as it arrives, not per buffer */
	int rc = pcap_activate(p);
	if (rc < 0) {
		const char *why = pcap_geterr(p);
		if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			fprintf(stderr, "smolxdp-dump: %s: no such interface\n", iface);
		else if (rc == PCAP_ERROR_PERM_DENIED)
			fprintf(stderr, "smolxdp-dump: %s: permission denied (capturing needs CAP_NET_RAW)\n", iface);
		else
			fprintf(stderr, "smolxdp-dump: %s: %s\n", iface, why[0] ? why : pcap_statustostr(rc));
		pcap_close(p);
		return NULL;
	}
	return p;
}

static void dump_print_time(const struct timeval *tv)
{
	struct tm tm;
	time_t t = tv->tv_sec;

	localtime_r(&t, &tm);
	printf("%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv->tv_usec);
}

static void dump_on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dump_state *st = (struct dump_state *)user;
	char line[2048];
	struct strbuf sb;

	st->frames++;
	if (st->dumper != NULL)
		pcap_dump((u_char *)st->dumper, h, bytes);
	strbuf_init(&sb, line, sizeof(line));
	frame_print(bytes, h->caplen, &sb);
	dump_print_time(&h->ts);
	if (h->caplen < h->len)
		printf("%s [captured %u of %u bytes]\n", line, h->caplen, h->len);
	else
		printf("%s\n", line);
}

static int dump_run(const struct dump_opts *o)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	bool have_prog = false;
	struct dump_state st = {0};
	int ret = DUMP_EXIT_USAGE;
	pcap_t *p;

	if (o->iface != NULL) {
		p = dump_open_live(o->iface);
	} else {
		p = pcap_open_offline(o->read_file, err);
		if (p == NULL)
			fprintf(stderr, "smolxdp-dump: %s\n", err);
	}
	if (p == NULL)
		return DUMP_EXIT_USAGE;
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "smolxdp-dump: %s: link type %s, only Ethernet is decoded\n",
			o->iface ? o->iface : o->read_file, pcap_datalink_val_to_name(pcap_datalink(p)));
		goto cleanup;
	}
	if (o->filter != NULL) {
		if (pcap_compile(p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fprintf(stderr, "smolxdp-dump: bad filter '%s': %s\n", o->filter, pcap_geterr(p));
			goto cleanup;
		}
		have_prog = true;
		if (pcap_setfilter(p, &prog) < 0) {
			fprintf(stderr, "smolxdp-dump: cannot set filter: %s\n", pcap_geterr(p));
			goto cleanup;
		}
	}
	if (o->write_file != NULL) {
		st.dumper = pcap_dump_open(p, o->write_file);
		if (st.dumper == NULL) {
			fprintf(stderr, "smolxdp-dump: %s\n", pcap_geterr(p));
			goto cleanup;
		}
	}
	if (o->iface != NULL)
		fprintf(stderr, "smolxdp-dump: listening on %s\n", o->iface);
	fflush(stderr);

	dump_pcap = p;
	struct sigaction sa = {.sa_handler = dump_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int rc = pcap_loop(p, o->count > 0 ? (int)o->count : -1, dump_on_frame, (u_char *)&st);
	dump_pcap = NULL;
	fflush(stdout);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "smolxdp-dump: %s\n", pcap_geterr(p));
		ret = 1;
	} else {
		ret = 0;
	}
	fprintf(stderr, "%lu frame%s\n", st.frames, st.frames == 1 ? "" : "s");

cleanup:
	if (st.dumper != NULL)
		pcap_dump_close(st.dumper);
	if (have_prog)
		pcap_freecode(&prog);
	pcap_close(p);
	return ret;
}

int main(int argc, char **argv)
{
	struct dump_opts o = {0};
	bool help = false;
	int ret = dump_parse_args(argc, argv, &o, &help);

	if (ret == 0 && help)
		dump_usage(stdout);
	else if (ret == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as frames arrive, also through a pipe */
		ret = dump_run(&o);
	}
	free(o.filter);
	return ret;
}
