/* How the AF_XDP layer (xsk_prog, xsk_dev) reports what went wrong: every failing call returns a
 * negative errno and leaves a one-line explanation in xsk_last_error(); an optional callback also
 * receives it, with warnings (stale program replaced), notices (zero-copy fallback) and libxdp's own
 * chatter. A program that prints xsk_last_error() itself passes xsk_log_app_stderr, which skips
 * errors, so each failure is said once. */
#ifndef SMOLXDP_XSK_LOG_H
#define SMOLXDP_XSK_LOG_H

#include "smolxdp/api.h"

SMX_API_BEGIN

enum xsk_log_level {
	XSK_LOG_ERROR = 0,
	XSK_LOG_WARN = 1,
	XSK_LOG_NOTICE = 2, /* worth saying once by default, not a problem (copy mode on veth) */
	XSK_LOG_INFO = 3,   /* set-up details */
	XSK_LOG_DEBUG = 4,  /* libxdp/libbpf messages, forwarded verbatim */
};

/* msg is one line without a trailing newline, valid only during the call. */
typedef void (*xsk_log_fn)(void *ctx, enum xsk_log_level level, const char *msg);

/* The calling thread's last error text from any xsk_* call ("" if none). Valid until the thread's
 * next failing xsk_* call. */
const char *xsk_last_error(void);

/* A ready-made callback printing "smolxdp: <level>: msg" to stderr, for apps and tools. ctx: a
 * pointer to an int holding the most verbose level to print, or NULL for errors, warnings and
 * notices. */
void xsk_log_stderr(void *ctx, enum xsk_log_level level, const char *msg);

/* For programs that report a failure themselves (from xsk_last_error(), once, with their own
 * context): errors are skipped; warnings print as "PROG: warning: msg", the rest as "PROG: msg". */
struct xsk_log_app {
	const char *prog;            /* the program's short name */
	enum xsk_log_level max;      /* the most verbose level printed (0: XSK_LOG_NOTICE) */
};
void xsk_log_app_stderr(void *ctx, enum xsk_log_level level, const char *msg);

SMX_API_END

#endif
