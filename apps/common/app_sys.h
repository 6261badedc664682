/* Small system chores the programs share: usage errors in one style, --version, the open-file limit,
 * and whether the kernel already owns an address. */
#ifndef SMX_APP_SYS_H
#define SMX_APP_SYS_H

#include <stdint.h>

/* The programs' version, printed by --version. (smolxdp-detach, which does not link this, says the
 * same: keep xsk/tools/smolxdp_detach.c in step.) */
#define SMX_APP_VERSION "0.1.0"

/* "PROG: MESSAGE" then "Try 'PROG --help'." on stderr, as GNU tools do (never the whole help);
 * returns 2, the exit status of bad usage. */
int app_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, "PROG: WHAT ARG". */
int app_bad_usage(const char *prog, const char *what, const char *arg);
/* After getopt_long returned '?' or ':' (with opterr = 0 and optstring starting with ':'): names the
 * unknown option, or the one missing its value, by what the user typed. Returns 2. */
int app_getopt_error(const char *prog, int c, char **argv);
/* "PROG (smolxdp) VERSION" on stdout. */
void app_print_version(const char *prog);
/* Raises the open-file limit to at least `need` descriptors (the hard limit too, as root may);
 * returns the limit now in force. */
long app_raise_nofile(long need);
/* 1 if the kernel has the IPv4 address addr (host byte order) on ifname, 0 if not, or a negative
 * errno if it cannot tell. */
int app_kernel_has_addr(const char *ifname, uint32_t addr);

#endif
