/* Attaching the embedded steering program (bpf/smx_steer.bpf.c) with libxdp: native mode first, SKB
 * mode as fallback, through libxdp's dispatcher when it can and as a single program when it cannot.
 * Our own program left behind by a killed process is recognised by name and owner record and
 * replaced, so a crash never leaves the host's traffic stolen for long. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "smolxdp/xsk_prog.h"
#include "smx_steer_maps.h"
#include "smx_steer_obj.h"
#include "xsk_internal.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* kernel 6.3's uapi; Debian 12's headers predate it */
#endif

struct xsk_prog {
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct bpf_object *obj;
	struct xdp_program *xprog;
	enum xdp_attach_mode mode;
	bool dispatcher;
	bool dev_bound; /* BPF_F_XDP_DEV_BOUND_ONLY: the driver's RX metadata kfuncs answer */
	uint16_t vlan_id;
	__u32 top_id;  /* the program the interface runs: ours, or the dispatcher holding ours */
	bool removed;  /* found detached by someone else (smolxdp-detach --force) */
	int xsks_fd;
	int addrs_fd;
	int counters_fd;
	int owner_fd;
	int config_fd;
	int prog_fd;   /* ours, loaded (whether by libxdp or, bound to the device, by us) */
	__u32 prog_id;
	struct xsk_logger log;
};

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unknown";
	}
}

/* Field 22 of /proc/<pid>/stat (start time in clock ticks), or 0 if the process does not exist. */
static uint64_t proc_start_time(uint32_t pid)
{
	char path[64];
	char buf[1024];
	unsigned long long start = 0;
	const char *p;
	size_t n;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and ')': count fields from its last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* p is at the end of field 2; each space starts the next field. Stop at the start of 22. */
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

/* Either copy of our program (smx_steer, or smx_steer_bound loaded bound to the device). */
static bool our_prog_name(const char *name)
{
	return name && (strcmp(name, SMX_STEER_PROG_NAME) == 0 || strcmp(name, SMX_STEER_BOUND_PROG_NAME) == 0);
}

/* Reads the owner record from the smx_owner map of a loaded program. */
static int read_owner(int prog_fd, struct smx_steer_owner *own)
{
	struct bpf_prog_info info;
	__u32 ids[16];
	__u32 len = sizeof(info);
	__u32 i;
	int err = -ENOENT;

	memset(&info, 0, sizeof(info));
	memset(own, 0, sizeof(*own));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
		return -errno;
	for (i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		__u32 key = 0;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 && strcmp(mi.name, "smx_owner") == 0)
			err = bpf_map_lookup_elem(fd, &key, own) == 0 ? 0 : -errno;
		close(fd);
	}
	return err;
}

static bool owner_alive(const struct smx_steer_owner *own)
{
	uint64_t start;

	if (own->pid == 0)
		return false;
	start = proc_start_time(own->pid);
	return start != 0 && start == own->start_time;
}

/* Detach one of our programs found on the interface, unless its owner still runs (and !force).
 * prog_fd/prog_id: the program; mp: the dispatcher holding it, or NULL if attached alone in `flags`
 * mode. Returns 1 removed, 0 kept because alive (message in busy), or a negative errno. */
static int sweep_one(const struct xsk_logger *lg, struct xdp_multiprog *mp, struct xdp_program *prog,
		     int prog_fd, __u32 prog_id, __u32 flags, int ifindex, const char *ifname,
		     bool force, bool removing, char *busy, size_t busy_cap)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = prog_fd);
	struct smx_steer_owner own;
	int err;

	read_owner(prog_fd, &own);
	if (!force && owner_alive(&own)) {
		if (removing) /* by hand (smolxdp-detach), rather than attaching beside it */
			snprintf(busy, busy_cap, "smolxdp (pid %u) still runs on %s (program id %u): stop it "
				 "first, or --force removes its program anyway (and it gets no more traffic)",
				 own.pid, ifname, prog_id);
		else
			snprintf(busy, busy_cap, "smolxdp (pid %u) is already attached to %s (program id %u); "
				 "share its xsk_prog or stop it first", own.pid, ifname, prog_id);
		return 0;
	}
	if (mp)
		err = xdp_program__detach(prog, ifindex, xdp_multiprog__attach_mode(mp), 0);
	else /* only if it is still the one attached (XDP_FLAGS_REPLACE) */
		err = bpf_xdp_detach(ifindex, flags, &ao);
	if (err)
		return xsk_fail(lg, -err, "cannot remove the stale smolxdp program (id %u) from %s: %s",
				prog_id, ifname, strerror(-err));
	xsk_say(lg, XSK_LOG_WARN, "removed a smolxdp program (id %u) left on %s by pid %u, which %s",
		prog_id, ifname, own.pid, force ? "was forced off" : "no longer runs");
	return 1;
}

/* Our programs inside libxdp's dispatcher. */
static int sweep_dispatcher(const struct xsk_logger *lg, int ifindex, const char *ifname, bool force,
			    bool removing, char *busy, size_t busy_cap)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *prog = NULL;
	long err = libxdp_get_error(mp);
	int removed = 0;

	if (err)
		return xsk_fail(lg, (int)-err, "cannot query the XDP dispatcher on %s: %s", ifname,
				strerror((int)-err));
	while ((prog = xdp_multiprog__next_prog(prog, mp)) != NULL) {
		const char *name = xdp_program__name(prog);

		if (!our_prog_name(name))
			continue;
		err = sweep_one(lg, mp, prog, xdp_program__fd(prog), xdp_program__id(prog), 0, ifindex,
				ifname, force, removing, busy, busy_cap);
		if (err < 0)
			break;
		removed += err > 0;
	}
	xdp_multiprog__close(mp);
	return err < 0 ? (int)err : removed;
}

/* Remove our programs whose owners are gone (all of ours if force). With check_foreign, a single
 * (non-dispatcher) program of someone else's is reported, since ours cannot be added beside it.
 * Returns how many were removed, or a negative errno with the message set. A lone program is
 * examined with plain libbpf calls (libxdp 1.3's multiprog query leaks a descriptor per call). */
static int sweep(const struct xsk_logger *lg, int ifindex, const char *ifname, bool force,
		 bool check_foreign)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	char busy[200] = "";
	__u32 flags;
	int fd, err;

	if (bpf_xdp_query(ifindex, 0, &q) != 0)
		return xsk_fail(lg, errno, "cannot query the XDP program of %s: %s", ifname,
				strerror(errno));
	if (q.attach_mode == XDP_ATTACHED_NONE || q.prog_id == 0)
		return 0;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0 && (errno == EPERM || errno == EACCES))
		/* Looking a program up by id takes CAP_SYS_ADMIN, which attaching does not. */
		return xsk_fail(lg, EBUSY, "an XDP program (id %u) is attached to %s, and only root (CAP_SYS_ADMIN) "
				"can tell whether it is a stale smolxdp one: if so, remove it as root with "
				"smolxdp-detach %s", q.prog_id, ifname, ifname);
	if (fd < 0)
		return 0; /* gone meanwhile */
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		err = xsk_fail(lg, errno, "cannot inspect XDP program %u on %s: %s", q.prog_id, ifname,
			       strerror(errno));
	} else if (strcmp(info.name, "xdp_dispatcher") == 0) {
		err = sweep_dispatcher(lg, ifindex, ifname, force, !check_foreign, busy, sizeof(busy));
	} else if (our_prog_name(info.name)) {
		flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
			q.attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
		err = sweep_one(lg, NULL, NULL, fd, q.prog_id, flags, ifindex, ifname, force,
				!check_foreign, busy, sizeof(busy));
	} else if (check_foreign) {
		err = xsk_fail(lg, EBUSY, "another XDP program is attached to %s: %s (id %u, %s mode); "
			       "remove it first (xdp-loader unload %s --all)", ifname, info.name,
			       q.prog_id, q.attach_mode == XDP_ATTACHED_SKB ? "skb" : "native", ifname);
	} else {
		err = 0;
	}
	close(fd);
	if (err < 0)
		return err;
	if (busy[0])
		return xsk_fail(lg, EBUSY, "%s", busy);
	return err;
}

static void close_objects(struct xsk_prog *p)
{
	if (p->xprog)
		xdp_program__close(p->xprog);
	if (p->obj)
		bpf_object__close(p->obj); /* created by us, so libxdp leaves it to us */
	p->xprog = NULL;
	p->obj = NULL;
}

/* Open a fresh copy of the embedded object and try to attach it in one mode. */
static int try_attach(struct xsk_prog *p, enum xdp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = SMX_STEER_PROG_NAME);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .prog_name = SMX_STEER_PROG_NAME);
	long err;

	p->obj = bpf_object__open_mem(smx_steer_obj, smx_steer_obj_len, &oo);
	err = libbpf_get_error(p->obj);
	if (err) {
		p->obj = NULL;
		return (int)err;
	}
	/* libxdp loads the whole object: not the bound copy, which only a bound load may hold. */
	bpf_program__set_autoload(bpf_object__find_program_by_name(p->obj, SMX_STEER_BOUND_PROG_NAME), false);
	xo.obj = p->obj;
	p->xprog = xdp_program__create(&xo);
	err = libxdp_get_error(p->xprog);
	if (err) {
		p->xprog = NULL;
		close_objects(p);
		return (int)err;
	}
	err = xdp_program__attach(p->xprog, p->ifindex, mode, 0);
	if (err) {
		close_objects(p);
		return (int)err;
	}
	p->mode = mode;
	return 0;
}

/* On a VLAN, first smx_steer_bound, loaded bound to the device (BPF_F_XDP_DEV_BOUND_ONLY), whose RX
 * metadata kfunc reads a tag the NIC stripped (bpf/smx_steer.bpf.c). Loaded and attached with plain
 * libbpf, alone and in native mode: the kernel refuses a bound program behind libxdp's dispatcher
 * (which is not bound) and in SKB mode. veth answers the kfunc for frames its peer sent with the tag
 * outside the data (tx-vlan-offload on). Where any of it fails (another program already attached,
 * no native XDP), the ordinary attach of smx_steer follows, which reads the tag in the frame only:
 * frames whose tag a NIC stripped then go to the host (ethtool -K IFACE rxvlan off keeps tags). */
static int try_attach_bound(struct xsk_prog *p)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = SMX_STEER_PROG_NAME);
	struct bpf_program *prog;
	int err;

	p->obj = bpf_object__open_mem(smx_steer_obj, smx_steer_obj_len, &oo);
	err = (int)libbpf_get_error(p->obj);
	if (err) {
		p->obj = NULL;
		return err;
	}
	prog = bpf_object__find_program_by_name(p->obj, SMX_STEER_BOUND_PROG_NAME);
	if (!prog) {
		close_objects(p);
		return -ENOENT;
	}
	bpf_program__set_autoload(bpf_object__find_program_by_name(p->obj, SMX_STEER_PROG_NAME), false);
	bpf_program__set_ifindex(prog, (__u32)p->ifindex);
	bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_XDP_DEV_BOUND_ONLY);
	err = bpf_object__load(p->obj);
	if (!err)
		err = bpf_xdp_attach(p->ifindex, bpf_program__fd(prog),
				     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		close_objects(p);
		return err;
	}
	p->prog_fd = bpf_program__fd(prog);
	p->mode = XDP_MODE_NATIVE;
	p->dev_bound = true;
	return 0;
}

static int find_map(struct xsk_prog *p, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(p->obj, name);

	if (fd < 0)
		return xsk_fail(&p->log, ENOENT, "steering program has no map %s", name);
	return fd;
}

static int attach_fail(struct xsk_prog *p, int err)
{
	if (err == -EPERM || err == -EACCES)
		return xsk_fail(&p->log, EPERM, "permission denied attaching XDP to %s, although "
				"CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON are held (a security module, or "
				"kernel lockdown?)", p->ifname);
	if (err == -EBUSY || err == -EEXIST) {
		/* Name the program in the way, if the query can. */
		int s = sweep(&p->log, p->ifindex, p->ifname, false, true);

		if (s < 0)
			return s;
		return xsk_fail(&p->log, EBUSY, "another XDP program is attached to %s", p->ifname);
	}
	return xsk_fail(&p->log, -err, "cannot attach the XDP program to %s: %s", p->ifname,
			strerror(-err));
}

static int finish_attach(struct xsk_prog *p)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct smx_steer_owner own = { .pid = (__u32)getpid(), .pad = 0, .start_time = 0 };
	__u32 key = 0;

	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	if (!p->dev_bound)
		p->prog_fd = xdp_program__fd(p->xprog);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(p->prog_fd, &info, &len) != 0)
		return xsk_fail(&p->log, errno, "cannot inspect the steering program: %s", strerror(errno));
	p->prog_id = info.id;
	if ((p->xsks_fd = find_map(p, "smx_xsks")) < 0)
		return p->xsks_fd;
	if ((p->addrs_fd = find_map(p, "smx_addrs")) < 0)
		return p->addrs_fd;
	if ((p->counters_fd = find_map(p, "smx_counters")) < 0)
		return p->counters_fd;
	if ((p->owner_fd = find_map(p, "smx_owner")) < 0)
		return p->owner_fd;
	if ((p->config_fd = find_map(p, "smx_config")) < 0)
		return p->config_fd;
	/* Before the owner record, which is what starts the steering. */
	struct smx_steer_config cfg = { .vlan_id = p->vlan_id };
	if (bpf_map_update_elem(p->config_fd, &key, &cfg, BPF_ANY) != 0)
		return xsk_fail(&p->log, errno, "cannot configure the steering program: %s", strerror(errno));
	own.start_time = proc_start_time(own.pid);
	if (bpf_map_update_elem(p->owner_fd, &key, &own, BPF_ANY) != 0)
		return xsk_fail(&p->log, errno, "cannot record the owner in the steering program: %s",
				strerror(errno));
	/* Alone on the interface, or behind libxdp's dispatcher? */
	if (bpf_xdp_query(p->ifindex, 0, &q) == 0) {
		p->dispatcher = q.prog_id != p->prog_id;
		p->top_id = q.prog_id;
	}
	return 0;
}

int xsk_prog_attach(const char *ifname, const struct xsk_prog_opts *opts, struct xsk_prog **out)
{
	static const struct xsk_prog_opts defaults;
	struct xsk_prog *p;
	int err;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->log.fn = opts->log;
	p->log.ctx = opts->log_ctx;
	p->vlan_id = opts->vlan_id;
	xsk_lib_log_begin(&p->log);
	if (opts->vlan_id > 4094) {
		err = xsk_fail(&p->log, EINVAL, "VLAN id %u out of range (1..4094, 0: untagged)", opts->vlan_id);
		goto fail;
	}
	err = xsk_check_caps(&p->log, XSK_NEED_ATTACH, 0);
	if (err)
		goto fail;
	err = xsk_ifindex(&p->log, ifname);
	if (err < 0)
		goto fail;
	p->ifindex = err;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);

	err = sweep(&p->log, p->ifindex, p->ifname, false, true);
	if (err < 0)
		goto fail;

	err = -EOPNOTSUPP;
	if (opts->vlan_id && opts->mode != XSK_ATTACH_SKB)
		err = try_attach_bound(p);
	if (err && opts->mode != XSK_ATTACH_SKB) {
		err = try_attach(p, XDP_MODE_NATIVE);
		if (err && opts->mode == XSK_ATTACH_AUTO && err != -EBUSY && err != -EEXIST &&
		    err != -EPERM)
			xsk_say(&p->log, XSK_LOG_INFO, "native XDP refused on %s (%s); using SKB mode",
				ifname, strerror(-err));
	}
	if (err && opts->mode != XSK_ATTACH_NATIVE && err != -EBUSY && err != -EEXIST &&
	    err != -EPERM)
		err = try_attach(p, XDP_MODE_SKB);
	if (err) {
		err = attach_fail(p, err);
		goto fail;
	}
	err = finish_attach(p);
	if (err)
		goto fail;
	xsk_say(&p->log, XSK_LOG_INFO, "steering program attached to %s (id %u, %s mode, %s%s)", ifname,
		p->prog_id, mode_name(p->mode), p->dispatcher ? "libxdp dispatcher" : "single program",
		p->dev_bound ? ", bound to the device: reads stripped VLAN tags" : "");
	xsk_lib_log_end();
	*out = p;
	return 0;
fail:
	xsk_lib_log_end();
	xsk_prog_detach(p);
	return err;
}

void xsk_prog_detach(struct xsk_prog *p)
{
	if (!p)
		return;
	xsk_lib_log_begin(&p->log);
	if (p->obj && p->mode != XDP_MODE_UNSPEC && p->top_id && !xsk_prog_attached(p)) {
		/* Removed under us (smolxdp-detach --force): nothing is left to detach. */
		xsk_say(&p->log, XSK_LOG_INFO, "the steering program was already removed from %s", p->ifname);
	} else if (p->obj && p->mode != XDP_MODE_UNSPEC) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = p->prog_fd);
		__u32 flags = p->mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		/* Alone: detach only if it is still ours that is attached (XDP_FLAGS_REPLACE), with
		 * plain libbpf (libxdp 1.3's detach leaks a descriptor per call). */
		int err = p->dispatcher ? xdp_program__detach(p->xprog, p->ifindex, p->mode, 0) :
					  bpf_xdp_detach(p->ifindex, flags, &ao);

		if (err)
			xsk_say(&p->log, XSK_LOG_WARN, "detaching the XDP program from %s failed: %s "
				"(remove it with smolxdp-detach %s)", p->ifname, strerror(-err), p->ifname);
	}
	close_objects(p);
	xsk_lib_log_end();
	free(p);
}

/* Whether our program id is among the dispatcher's (libxdp's query opens the dispatcher anew). */
static bool in_dispatcher(const struct xsk_prog *p)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(p->ifindex);
	struct xdp_program *prog = NULL;
	__u32 ours = p->prog_id;
	bool found = false;

	if (libxdp_get_error(mp))
		return true; /* cannot tell: do not claim it is gone */
	while (!found && (prog = xdp_multiprog__next_prog(prog, mp)) != NULL)
		found = xdp_program__id(prog) == ours;
	xdp_multiprog__close(mp);
	return found;
}

bool xsk_prog_attached(struct xsk_prog *p)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (p->removed)
		return false;
	if (bpf_xdp_query(p->ifindex, 0, &q) != 0)
		return true; /* cannot tell (the interface is going away?): do not claim it is gone */
	if (q.prog_id != p->top_id) {
		/* Alone: another program (or none) now runs. Behind the dispatcher: libxdp builds a new
		 * dispatcher on every change, so only then is the (costlier) look inside needed. */
		if (p->dispatcher && q.prog_id && in_dispatcher(p))
			p->top_id = q.prog_id;
		else
			p->removed = true;
	}
	return !p->removed;
}

int xsk_prog_add_addr(struct xsk_prog *p, uint32_t addr)
{
	__u32 key = htonl(addr);
	__u32 one = 1;

	if (bpf_map_update_elem(p->addrs_fd, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	if (errno == E2BIG)
		return xsk_fail(&p->log, ENOSPC, "too many addresses (at most %d)", SMX_STEER_MAX_ADDRS);
	return xsk_fail(&p->log, errno, "cannot add address %u.%u.%u.%u: %s", addr >> 24,
			(addr >> 16) & 255, (addr >> 8) & 255, addr & 255, strerror(errno));
}

int xsk_prog_del_addr(struct xsk_prog *p, uint32_t addr)
{
	__u32 key = htonl(addr);

	if (bpf_map_delete_elem(p->addrs_fd, &key) == 0)
		return 0;
	return xsk_fail(&p->log, errno, "cannot remove address %u.%u.%u.%u: %s", addr >> 24,
			(addr >> 16) & 255, (addr >> 8) & 255, addr & 255, strerror(errno));
}

int xsk_prog_xskmap_fd(const struct xsk_prog *p)
{
	return p->xsks_fd;
}

void xsk_prog_get_info(const struct xsk_prog *p, struct xsk_prog_info *info)
{
	info->prog_id = p->prog_id;
	info->native = p->mode == XDP_MODE_NATIVE;
	info->dispatcher = p->dispatcher;
	info->dev_bound = p->dev_bound;
	info->ifindex = p->ifindex;
}

int xsk_prog_stats(const struct xsk_prog *p, struct xsk_prog_stats *stats)
{
	uint64_t sums[SMX_STEER_NCOUNTERS] = { 0 };
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 k;
	int c;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < SMX_STEER_NCOUNTERS; k++) {
		if (bpf_map_lookup_elem(p->counters_fd, &k, vals) != 0) {
			free(vals);
			return -errno;
		}
		for (c = 0; c < ncpu; c++)
			sums[k] += vals[c];
	}
	free(vals);
	stats->steered = sums[SMX_STEER_STEERED];
	stats->passed = sums[SMX_STEER_PASSED];
	stats->malformed = sums[SMX_STEER_MALFORMED];
	stats->no_socket = sums[SMX_STEER_NO_SOCKET];
	stats->other_vlan = sums[SMX_STEER_OTHER_VLAN];
	stats->vlan_restored = sums[SMX_STEER_VLAN_RESTORED];
	return 0;
}

int xsk_prog_remove(const char *ifname, bool force, const struct xsk_prog_opts *opts)
{
	struct xsk_logger lg = { opts ? opts->log : NULL, opts ? opts->log_ctx : NULL };
	int err;

	xsk_lib_log_begin(&lg);
	err = xsk_check_caps(&lg, XSK_NEED_INSPECT, 0);
	if (!err)
		err = xsk_ifindex(&lg, ifname);
	if (err >= 0)
		err = sweep(&lg, err, ifname, force, false);
	xsk_lib_log_end();
	return err;
}
