/* Shared plumbing of xsk/: error text and logging, privilege and interface checks. Internal. */
#ifndef SMX_XSK_INTERNAL_H
#define SMX_XSK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

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

/* What a call needs the kernel to allow (see xsk_check_caps). */
enum {
	XSK_NEED_ATTACH = 1,  /* load and attach the XDP program */
	XSK_NEED_INSPECT = 2, /* look at programs already attached, by id */
	XSK_NEED_SOCKET = 4,  /* an AF_XDP socket */
	XSK_NEED_MEMLOCK = 8, /* lock umem_bytes of UMEM */
};
/* 0, or -EPERM with every missing capability named in one line, and the setcap line that grants
 * what `need` takes. */
int xsk_check_caps(const struct xsk_logger *lg, unsigned need, uint64_t umem_bytes);
/* The interface's index, or -ENODEV "no such interface". */
int xsk_ifindex(const struct xsk_logger *lg, const char *ifname);

/* Route libxdp's and libbpf's own messages to lg (as XSK_LOG_DEBUG) for the calling thread until
 * xsk_lib_log_end(). */
void xsk_lib_log_begin(const struct xsk_logger *lg);
void xsk_lib_log_end(void);

#endif
