/* smolxdp-dump: one line per Ethernet frame, as tcpdump -nn prints it by default (dump_line.c), or with
 * -v the full decode of the stack's own printer (frame_print). libpcap does what it does best: live
 * capture, pcap files and BPF filter expressions. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump_line.h"
#include "smolxdp/wire.h"

#define DUMP_SNAPLEN 262144
#define DUMP_EXIT_USAGE 2

struct dump_opts {
	const char *iface;
	const char *read_file;
	const char *write_file;
	long count; /* 0: until interrupted or the file ends */
	char *filter;
	int verbose;   /* -v: the stack's full decode */
	bool link;     /* -e */
	bool absolute; /* -S */
};

struct dump_state {
	pcap_dumper_t *dumper;
	unsigned long frames;
	int verbose;
	struct dump_line line;
};

static pcap_t *dump_pcap; /* for the signal handler only: pcap_breakloop is safe to call there */

static void dump_usage(FILE *out)
{
	fprintf(out,
		"usage: smolxdp-dump [-eSv] [-i IFACE | -r FILE.pcap] [-w FILE.pcap] [-c COUNT] [FILTER...]\n"
		"Decodes Ethernet frames with smolxdp's wire layer, one line per frame in tcpdump's words and\n"
		"order (as `tcpdump -nn` prints them): local time, then ARP, IPv4, ICMP, UDP, TCP (flags, seq,\n"
		"ack, win, every option, length). What tcpdump decodes further (IPv6, DNS, HTTP...) is not.\n"
		"  -i IFACE      capture live on IFACE (needs CAP_NET_RAW)\n"
		"  -r FILE       read frames from a pcap file\n"
		"  -w FILE       also write the frames to a pcap file\n"
		"  -c COUNT      stop after COUNT frames\n"
		"  -e            print the link layer too (MACs, ethertype, VLAN tag, frame length)\n"
		"  -S            absolute TCP sequence numbers (default: relative to the flow's first ones, as\n"
		"                tcpdump does)\n"
		"  -v, -vv       the full decode: every header field, checksum verdicts with the expected values,\n"
		"                what cannot be decoded named (truncated, malformed, unknown type)\n"
		"  -n, -nn       accepted for tcpdump's habit: addresses and ports are always numbers\n"
		"  FILTER        a pcap-filter(7) expression, e.g. 'tcp port 80'\n"
		"  -h, --help    this text\n"
		"  --version     the version\n"
		"Frames that smolxdp's XDP program steers to AF_XDP on an interface never reach the kernel, so a\n"
		"capture there (this one, tcpdump, Wireshark) does not see them: capture on the peer's end of\n"
		"the link, or record with smolxdp-server --pcap FILE and read that with -r.\n"
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
static int dump_parse_args(int argc, char **argv, struct dump_opts *o, bool *help, bool *version)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, "+:i:r:w:c:eSvnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->link = true;
			break;
		case 'S':
			o->absolute = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'n':
			break;
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
		case 'V': /* as the other programs say it (apps/common app_print_version) */
			printf("smolxdp-dump (smolxdp) %s\n", SMX_VERSION);
			*version = true;
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

/* "smolxdp-dump: FILE: why", whether or not libpcap's message already starts with the file's name. */
static void dump_print_open_error(const char *file, const char *err)
{
	size_t n = strlen(file);

	if (strncmp(err, file, n) == 0 && strncmp(err + n, ": ", 2) == 0)
		err += n + 2;
	fprintf(stderr, "smolxdp-dump: %s: %s\n", file, err);
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
	if (st->verbose == 0)
		dump_line_print(&st->line, bytes, h->caplen, h->len, &sb);
	else
		frame_print(bytes, h->caplen, &sb);
	dump_print_time(&h->ts);
	if (st->verbose > 0 && h->caplen < h->len)
		printf("%s [captured %u of %u bytes]\n", line, h->caplen, h->len);
	else
		printf("%s\n", line);
}

static int dump_run(const struct dump_opts *o)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	bool have_prog = false;
	struct dump_state st = {.verbose = o->verbose};
	int ret = DUMP_EXIT_USAGE;
	pcap_t *p;

	if (dump_line_init(&st.line, o->link, o->absolute) < 0) {
		fprintf(stderr, "smolxdp-dump: out of memory\n");
		return 1;
	}

	if (o->iface != NULL) {
		p = dump_open_live(o->iface);
	} else {
		p = pcap_open_offline(o->read_file, err);
		if (p == NULL)
			dump_print_open_error(o->read_file, err);
	}
	if (p == NULL) {
		dump_line_free(&st.line);
		return DUMP_EXIT_USAGE;
	}
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
	dump_line_free(&st.line);
	return ret;
}

int main(int argc, char **argv)
{
	struct dump_opts o = {0};
	bool help = false, version = false;
	int ret = dump_parse_args(argc, argv, &o, &help, &version);

	if (ret == 0 && version)
		;
	else if (ret == 0 && help)
		dump_usage(stdout);
	else if (ret == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as frames arrive, also through a pipe */
		ret = dump_run(&o);
	}
	free(o.filter);
	return ret;
}
