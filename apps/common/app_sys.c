/* See app_sys.h. */
#include <stdio.h>
#include <sys/resource.h>

#include "app_sys.h"

int app_bad_usage(const char *prog, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s (see --help)\n", prog, what, arg ? " " : "", arg ? arg : "");
	return 2;
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
