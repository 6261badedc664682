/* smolxdp-detach IFACE [--force]: removes a steering program that a killed smolxdp process left on
 * an interface, so the host gets its traffic back. A program whose owner still runs is kept unless
 * --force. */
#include <stdio.h>
#include <string.h>

#include "smolxdp/xsk_prog.h"

int main(int argc, char **argv)
{
	struct xsk_prog_opts opts = { .mode = XSK_ATTACH_AUTO, .log = xsk_log_stderr, .log_ctx = NULL };
	bool force = false;
	int n;

	if (argc == 3 && strcmp(argv[2], "--force") == 0)
		force = true;
	else if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: smolxdp-detach IFACE [--force]\n");
		return 2;
	}
	n = xsk_prog_remove(argv[1], force, &opts);
	if (n < 0)
		return 1; /* the error was printed by the log callback */
	printf("smolxdp-detach: removed %d program%s from %s\n", n, n == 1 ? "" : "s", argv[1]);
	return 0;
}
