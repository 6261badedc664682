/* How the AF_XDP layer (xsk_prog, xsk_dev) reports what went wrong: every failing call returns a
 * negative errno and leaves a one-line explanation in xsk_last_error(); an optional callback also
 * receives it, with warnings (zero-copy fallback, stale program replaced) and libxdp's own chatter. */
#ifndef SMOLXDP_XSK_LOG_H
#define SMOLXDP_XSK_LOG_H

enum xsk_log_level {
	XSK_LOG_ERROR = 0,
	XSK_LOG_WARN = 1,
	XSK_LOG_INFO = 2,
	XSK_LOG_DEBUG = 3, /* libxdp/libbpf messages, forwarded verbatim */
};

/* msg is one line without a trailing newline, valid only during the call. */
typedef void (*xsk_log_fn)(void *ctx, enum xsk_log_level level, const char *msg);

/* The calling thread's last error text from any xsk_* call ("" if none). Valid until the thread's
 * next failing xsk_* call. */
const char *xsk_last_error(void);

/* A ready-made callback printing "smolxdp: <level>: msg" to stderr, for apps and tools. ctx: a
 * pointer to an int holding the most verbose level to print, or NULL for warnings and errors. */
void xsk_log_stderr(void *ctx, enum xsk_log_level level, const char *msg);

#endif
