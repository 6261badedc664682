/* Stand-in for the stack transport when smolxdp-bench is built without the smolxdp stack or the
 * AF_XDP device (they are not in this build): --backend stack says so and fails. */
#include "bench_stack.h"

#include <errno.h>
#include <stdio.h>

int bench_stack_open(struct bench_transport *t, const struct bench_opts *o, const struct bench_stack_opts *so)
{
	fprintf(stderr, "smolxdp-bench: this build has no stack backend (the AF_XDP device was not built)\n");
	return -ENOTSUP;
}

bool bench_stack_available(void)
{
	return false;
}
