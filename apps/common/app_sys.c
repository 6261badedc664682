/* See app_sys.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "app_sys.h"

int app_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return 2;
}

int app_bad_usage(const char *prog, const char *what, const char *arg)
{
	return app_usage_error(prog, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
}

int app_getopt_error(const char *prog, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];

	if (arg && strncmp(arg, "--", 2) == 0) {
		size_t n = strcspn(arg, "=");
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) - 1 ? n : sizeof(name) - 1), arg);
		if (c == '?' && arg[n] == '=' && optopt)
			return app_usage_error(prog, "option '%s' takes no value", name);
	} else if (optopt > 0 && optopt < 128) {
		snprintf(name, sizeof(name), "-%c", optopt);
	} else {
		snprintf(name, sizeof(name), "%s", arg ? arg : "?");
	}
	if (c == ':')
		return app_usage_error(prog, "option '%s' needs a value", name);
	return app_usage_error(prog, "unknown option '%s'", name);
}

void app_print_version(const char *prog)
{
	printf("%s (smolxdp) %s\n", prog, SMX_APP_VERSION);
}

long app_raise_nofile(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < (rlim_t)need) {
		rl.rlim_cur = (rlim_t)need;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need)
			rl.rlim_max = (rlim_t)need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? need : (long)rl.rlim_cur;
}

int app_kernel_has_addr(const char *ifname, uint32_t addr)
{
	struct ifaddrs *all, *a;
	int found = 0;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (a = all; a && !found; a = a->ifa_next) {
		size_t n = strlen(ifname);

		/* An address with a label (ip addr add ... label veth0:1) is listed as "veth0:1". */
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || strncmp(a->ifa_name, ifname, n) != 0 ||
		    (a->ifa_name[n] != '\0' && a->ifa_name[n] != ':'))
			continue;
		found = ntohl(((const struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr) == addr;
	}
	freeifaddrs(all);
	return found;
}
