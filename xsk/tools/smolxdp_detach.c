/* smolxdp-detach IFACE [--force]: removes a steering program that a killed smolxdp process left on
 * an interface, so the host gets its traffic back. A program whose owner still runs is kept unless
 * --force. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "smolxdp/xsk_prog.h"

#define PROG "smolxdp-detach"
#define VERSION "0.1.0" /* as SMX_APP_VERSION in apps/common/app_sys.h */

static const char usage[] =
	"usage: smolxdp-detach IFACE [--force]\n"
	"Removes the XDP steering program a smolxdp program (smolxdp-server, smolxdp-tcpclient,\n"
	"smolxdp-bench) left attached to IFACE when it was killed (kill -9, a crash), so the traffic it\n"
	"steered reaches the kernel again. A smolxdp program that stops normally removes its own, and the\n"
	"next one to start on IFACE replaces a stale one by itself. Other XDP programs are never touched.\n"
	"\n"
	"  --force       also remove the program of a smolxdp process that still runs: that process\n"
	"                then receives nothing more (it notices, says so and stops)\n"
	"  -h, --help    this text\n"
	"  --version     the version\n"
	"Exit status: 0 removed (or nothing to remove), 1 failed or the owner still runs, 2 bad usage.\n"
	"Needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN (to look at the attached programs).\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct xsk_log_app log = { .prog = PROG, .max = XSK_LOG_NOTICE };
	struct xsk_prog_opts opts = { .mode = XSK_ATTACH_AUTO, .log = xsk_log_app_stderr, .log_ctx = &log };
	bool force = false;
	int c, n;

	opterr = 0; /* our own one line, naming the program by its short name */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf(PROG " (smolxdp) " VERSION "\n");
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default: {
			char name[4] = { '-', (char)optopt, 0, 0 };

			return bad_usage("unknown option '%s'", optopt > 0 && optopt < 128 &&
					 strncmp(argv[optind - 1], "--", 2) != 0 ? name : argv[optind - 1]);
		}
		}
	}
	if (optind >= argc)
		return bad_usage("give the interface%s", " (smolxdp-detach IFACE [--force])");
	if (optind < argc - 1)
		return bad_usage("one interface only: '%s' is extra", argv[optind + 1]);
	n = xsk_prog_remove(argv[optind], force, &opts);
	if (n < 0) {
		fprintf(stderr, PROG ": %s\n", xsk_last_error());
		return 1;
	}
	if (n == 0)
		printf(PROG ": no smolxdp program on %s: nothing to remove\n", argv[optind]);
	else
		printf(PROG ": removed %d program%s from %s\n", n, n == 1 ? "" : "s", argv[optind]);
	return 0;
}
