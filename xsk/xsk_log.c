/* Error text, logging, and the up-front checks (privileges, interface) whose failures users hit
 * first; each gives a one-line message naming the cause. */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xsk_internal.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static __thread char last_error[256];
static __thread const struct xsk_logger *lib_logger;

const char *xsk_last_error(void)
{
	return last_error;
}

static void vlog(const struct xsk_logger *lg, enum xsk_log_level level, const char *fmt, va_list ap,
		 char *buf, size_t cap)
{
	vsnprintf(buf, cap, fmt, ap);
	if (lg && lg->fn)
		lg->fn(lg->ctx, level, buf);
}

int xsk_fail(const struct xsk_logger *lg, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lg, XSK_LOG_ERROR, fmt, ap, last_error, sizeof(last_error));
	va_end(ap);
	return -err;
}

void xsk_say(const struct xsk_logger *lg, enum xsk_log_level level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vlog(lg, level, fmt, ap, buf, sizeof(buf));
	va_end(ap);
}

void xsk_log_stderr(void *ctx, enum xsk_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	int max = ctx ? *(const int *)ctx : XSK_LOG_WARN;

	if ((int)level <= max)
		fprintf(stderr, "smolxdp: %s: %s\n", names[level], msg);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

int xsk_check_caps(const struct xsk_logger *lg, bool need_raw)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	char missing[96] = "";

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return 0; /* cannot tell: let the kernel decide */
	if (!has_cap(data, CAP_NET_ADMIN))
		strcat(missing, " CAP_NET_ADMIN");
	if (!has_cap(data, CAP_BPF) && !has_cap(data, CAP_SYS_ADMIN))
		strcat(missing, " CAP_BPF");
	if (need_raw && !has_cap(data, CAP_NET_RAW))
		strcat(missing, " CAP_NET_RAW");
	if (missing[0] == '\0')
		return 0;
	return xsk_fail(lg, EPERM, "permission denied: AF_XDP needs root or CAP_NET_ADMIN, CAP_BPF and "
			"CAP_NET_RAW (missing:%s)", missing);
}

int xsk_ifindex(const struct xsk_logger *lg, const char *ifname)
{
	unsigned int idx;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE)
		return xsk_fail(lg, ENODEV, "no such interface: '%s'", ifname ? ifname : "");
	idx = if_nametoindex(ifname);
	if (idx == 0)
		return xsk_fail(lg, ENODEV, "no such interface: %s", ifname);
	return (int)idx;
}

/* libxdp and libbpf print through process-wide hooks; route them to the logger of whichever thread
 * is inside an xsk_* call, and drop them otherwise (never straight to stderr). */
static int lib_print(const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	if (!lib_logger || !lib_logger->fn)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	lib_logger->fn(lib_logger->ctx, XSK_LOG_DEBUG, buf);
	return (int)n;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return lib_print(fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return lib_print(fmt, ap);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void)
{
	libxdp_set_print(libxdp_print);
	libbpf_set_print(libbpf_print);
}

void xsk_lib_log_begin(const struct xsk_logger *lg)
{
	pthread_once(&hooks_once, install_hooks);
	lib_logger = lg;
}

void xsk_lib_log_end(void)
{
	lib_logger = NULL;
}
