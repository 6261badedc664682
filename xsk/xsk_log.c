/* Error text, logging, and the up-front checks (privileges, interface) whose failures users hit
 * first; each gives a one-line message naming the cause. */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xsk_internal.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static __thread char last_error[512]; /* room for the capability line with its setcap hint */
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
	static const char *const names[] = { "error", "warning", "info", "info", "debug" };
	int max = ctx ? *(const int *)ctx : XSK_LOG_NOTICE;

	if ((int)level <= max && (unsigned)level < sizeof(names) / sizeof(names[0]))
		fprintf(stderr, "smolxdp: %s: %s\n", names[level], msg);
}

void xsk_log_app_stderr(void *ctx, enum xsk_log_level level, const char *msg)
{
	const struct xsk_log_app *app = ctx;
	const char *prog = app && app->prog ? app->prog : "smolxdp";
	enum xsk_log_level max = app && app->max ? app->max : XSK_LOG_NOTICE;

	if (level == XSK_LOG_ERROR || level > max)
		return; /* errors: the program says them once, from xsk_last_error() */
	fprintf(stderr, "%s: %s%s\n", prog, level == XSK_LOG_WARN ? "warning: " : "", msg);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

/* RLIMIT_MEMLOCK in bytes (RLIM_INFINITY: no limit). */
static uint64_t memlock_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur;
}

struct cap_need {
	int cap;
	int alt; /* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON; -1: none */
	unsigned what;
	const char *name;
};

/* What the kernel checks, in the order a start-up meets it: attaching XDP (CAP_NET_ADMIN; loading
 * the program: bpf_capable(), and perfmon_capable() for what the verifier allows it), inspecting a
 * program found on the interface by id (CAP_SYS_ADMIN), the AF_XDP socket (CAP_NET_RAW), and the
 * UMEM's locked pages beyond RLIMIT_MEMLOCK (CAP_IPC_LOCK, xdp_umem_account_pages). */
static const struct cap_need cap_needs[] = {
	{ CAP_NET_ADMIN, -1, XSK_NEED_ATTACH | XSK_NEED_INSPECT, "net_admin" },
	{ CAP_BPF, CAP_SYS_ADMIN, XSK_NEED_ATTACH, "bpf" },
	{ CAP_PERFMON, CAP_SYS_ADMIN, XSK_NEED_ATTACH, "perfmon" },
	{ CAP_SYS_ADMIN, -1, XSK_NEED_INSPECT, "sys_admin" },
	{ CAP_NET_RAW, -1, XSK_NEED_SOCKET, "net_raw" },
	{ CAP_IPC_LOCK, -1, XSK_NEED_MEMLOCK, "ipc_lock" },
};

static void append(char *buf, size_t cap, const char *fmt, const char *s)
{
	size_t n = strlen(buf);

	if (n < cap)
		snprintf(buf + n, cap - n, fmt, s);
}

int xsk_check_caps(const struct xsk_logger *lg, unsigned need, uint64_t umem_bytes)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	uint64_t limit = memlock_limit();
	char missing[160] = "", grant[160] = "", upper[24], exe[256], memlock[96] = "";
	unsigned nmissing = 0, grant_need, i, j;
	ssize_t n;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return 0; /* cannot tell: let the kernel decide */
	/* The UMEM's pages count against RLIMIT_MEMLOCK only without CAP_IPC_LOCK. */
	if ((need & XSK_NEED_MEMLOCK) && umem_bytes <= limit)
		need &= ~(unsigned)XSK_NEED_MEMLOCK;
	/* The setcap line grants what a whole run takes (attaching and the sockets), not only this
	 * call's share: file capabilities replace, they do not add. */
	grant_need = need & (XSK_NEED_ATTACH | XSK_NEED_SOCKET) ? need | XSK_NEED_ATTACH | XSK_NEED_SOCKET : need;
	for (i = 0; i < sizeof(cap_needs) / sizeof(cap_needs[0]); i++) {
		const struct cap_need *c = &cap_needs[i];

		if (c->what & grant_need)
			append(grant, sizeof(grant), grant[0] ? ",cap_%s" : "cap_%s", c->name);
		if (!(c->what & need))
			continue;
		if (has_cap(data, c->cap) || (c->alt >= 0 && has_cap(data, c->alt)))
			continue;
		for (j = 0; c->name[j] && j < sizeof(upper) - 1; j++)
			upper[j] = (char)(c->name[j] >= 'a' && c->name[j] <= 'z' ? c->name[j] - 32 : c->name[j]);
		upper[j] = '\0';
		append(missing, sizeof(missing), nmissing ? ", CAP_%s" : "CAP_%s", upper);
		nmissing++;
		if (c->cap == CAP_IPC_LOCK)
			snprintf(memlock, sizeof(memlock), " (or RLIMIT_MEMLOCK of %llu KiB: it is %llu KiB)",
				 (unsigned long long)(umem_bytes + 1023) / 1024,
				 (unsigned long long)limit / 1024);
	}
	if (nmissing == 0)
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	return xsk_fail(lg, EPERM, "permission denied: missing %s%s; run as root, or grant them: "
			"sudo setcap %s+ep %s", missing, memlock, grant, exe[0] ? exe : "PROGRAM");
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
