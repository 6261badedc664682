/* Shared plumbing of xsk/: error text and logging, privilege and interface checks. Internal. */
#ifndef SMX_XSK_INTERNAL_H
#define SMX_XSK_INTERNAL_H

#include <stdbool.h>

#include "smolxdp/xsk_log.h"

struct xsk_logger {
	xsk_log_fn fn;
	void *ctx;
};

/* Record a one-line error (as xsk_last_error()), pass it to the logger, return -err. */
int xsk_fail(const struct xsk_logger *lg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Pass a warning/info line to the logger only. */
void xsk_say(const struct xsk_logger *lg, enum xsk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -EPERM with the missing capabilities named, or 0. need_raw: AF_XDP sockets need CAP_NET_RAW. */
int xsk_check_caps(const struct xsk_logger *lg, bool need_raw);
/* The interface's index, or -ENODEV "no such interface". */
int xsk_ifindex(const struct xsk_logger *lg, const char *ifname);

/* Route libxdp's and libbpf's own messages to lg (as XSK_LOG_DEBUG) for the calling thread until
 * xsk_lib_log_end(). */
void xsk_lib_log_begin(const struct xsk_logger *lg);
void xsk_lib_log_end(void);

#endif
