/* cgroup_v1: linux.resources -> cgroup v1 files, device lists and the
 * freezer (see include/skiff/cgroup/v1.h and docs/cgroups.md). */
#include "skiff/cgroup/v1.h"
#include "skiff/cgroup/dev.h"
#include "skiff/cgroup/v2.h"
#include "skiff/base/log.h"
#include "skiff/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FREEZE_WAIT_MS 10000

static int write_i64(int fd, const char *path, const char *name, int64_t v, struct sk_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return sk_cgroup_write_at(fd, path, name, buf, err);
}

static int write_u64(int fd, const char *path, const char *name, uint64_t v, struct sk_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return sk_cgroup_write_at(fd, path, name, buf, err);
}

static bool has_file(int fd, const char *name)
{
	return faccessat(fd, name, F_OK, 0) == 0;
}

/* ---- cpuset ------------------------------------------------------------------ */

/* A new cpuset cgroup starts with empty cpus and mems (unless the parent
 * has cgroup.clone_children, which copies the same values), and takes no
 * process until they are set: give it its parent's.  An existing one may
 * have been left empty too. */
int sk_cg1_cpuset_fill(int parent, int fd, const char *mount, const char *rel, struct sk_err *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < 2; i++) {
		char theirs[4096], ours[8];
		if (sk_cgroup_read_at(fd, mount, files[i], ours, sizeof(ours), err) < 0)
			return sk_error_wrap(err, "cgroup \"%s%s\"", mount, rel);
		if (ours[0] && ours[0] != '\n')
			continue;
		if (sk_cgroup_read_at(parent, mount, files[i], theirs, sizeof(theirs), err) < 0)
			return sk_error_wrap(err, "cgroup \"%s%s\"", mount, rel);
		theirs[strcspn(theirs, "\n")] = '\0';
		if (sk_cgroup_write_at(fd, mount, files[i], theirs, err) < 0)
			return sk_error_wrap(err, "cgroup \"%s%s\"", mount, rel);
	}
	return 0;
}

/* ---- memory ------------------------------------------------------------------ */

void sk_cg1_complete(int fd, enum sk_cgroup_ctrl c, struct sk_resources *r)
{
	uint64_t cur;
	if (c == SK_CG_MEMORY && r->memory.has_swap && r->memory.swap > 0 &&
	    !(r->memory.has_limit && r->memory.limit) && sk_cgroup_read_u64(fd, "memory.limit_in_bytes", &cur)) {
		r->memory.has_limit = true;
		r->memory.limit = cur == SK_CG_MAX ? -1 : (int64_t)cur;
	}
}

/* runtime-spec checkBeforeUpdate: a limit at or below the usage would not
 * be refused but make the kernel reclaim and OOM-kill. */
static int check_usage(int fd, const char *path, int64_t limit, int64_t swap, struct sk_err *err)
{
	uint64_t usage, memsw;
	if ((limit > 0 || swap > 0) && !sk_cgroup_read_u64(fd, "memory.usage_in_bytes", &usage))
		return sk_error(err, errno, "read \"%s/memory.usage_in_bytes\"", path);
	if (swap > 0 && sk_cgroup_read_u64(fd, "memory.memsw.usage_in_bytes", &memsw) && (uint64_t)swap <= memsw)
		return sk_error(err, 0, "linux.resources.memory.swap: %" PRId64 " is not above the current usage %" PRIu64
				" (checkBeforeUpdate)", swap, memsw);
	if (limit > 0 && (uint64_t)limit <= usage)
		return sk_error(err, 0, "linux.resources.memory.limit: %" PRId64 " is not above the current usage %" PRIu64
				" (checkBeforeUpdate)", limit, usage);
	return 0;
}

/* Kernel memory, where the kernel still has it: a kernel without the file,
 * or that takes the value and ignores it (kmem since Linux 5.16; what is
 * read back must be the value, rounded down to a page), gets a warning, as
 * runc 1.1 ignores these limits everywhere. */
static int write_kmem(int fd, const char *path, const char *name, const char *field, int64_t v, struct sk_err *err)
{
	uint64_t got;
	long page = sysconf(_SC_PAGESIZE);
	if (write_i64(fd, path, name, v, err) < 0) {
		if (err->errnum != ENOENT && err->errnum != EOPNOTSUPP)
			return sk_error_wrap(err, "linux.resources.memory.%s", field);
	} else if (sk_cgroup_read_u64(fd, name, &got) &&
		   (v < 0 ? got == SK_CG_MAX : got == (uint64_t)v / (uint64_t)page * (uint64_t)page)) {
		return 0;
	}
	sk_warn("linux.resources.memory.%s is ignored: this kernel no longer enforces it (%s/%s), and runc ignores it too",
		field, path, name);
	return 0;
}

static int write_memory(int fd, const char *path, const struct sk_resources *r, bool update, struct sk_err *err)
{
	const typeof(r->memory) *m = &r->memory;
	if (!m->present)
		return 0;
	int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
	if (update && m->has_check_before_update && m->check_before_update && check_usage(fd, path, limit, swap, err))
		return -1;
	bool memsw = has_file(fd, "memory.memsw.limit_in_bytes");
	/* runc: no memory limit and nothing said of swap, no swap limit either. */
	if (limit == -1 && swap == 0 && memsw)
		swap = -1;
	if (swap && !memsw) {
		/* No swap accounting: only what needs no limit holds. */
		if (swap != -1 && swap != limit)
			return sk_error(err, 0, "linux.resources.memory.swap: no swap accounting here (no "
					"%s/memory.memsw.limit_in_bytes)", path);
		swap = 0;
	}
	/* The kernel keeps limit <= memsw at every step: raising both, memsw
	 * goes first; lowering, the limit does (runc's order). */
	bool swap_first = false;
	uint64_t cur;
	if (limit && swap)
		swap_first = swap == -1 || (sk_cgroup_read_u64(fd, "memory.limit_in_bytes", &cur) &&
					   cur != SK_CG_MAX && cur < (uint64_t)swap);
	for (int pass = 0; pass < 2; pass++) {
		bool do_swap = (pass == 0) == swap_first;
		if (do_swap && swap && write_i64(fd, path, "memory.memsw.limit_in_bytes", swap, err) < 0)
			return sk_error_wrap(err, "linux.resources.memory.swap");
		if (!do_swap && limit && write_i64(fd, path, "memory.limit_in_bytes", limit, err) < 0) {
			if (err->errnum == EBUSY)
				return sk_error(err, EBUSY, "linux.resources.memory.limit: %" PRId64 " is below what the "
						"container uses (%s/memory.usage_in_bytes)", limit, path);
			return sk_error_wrap(err, "linux.resources.memory.limit");
		}
	}
	if (m->has_reservation && m->reservation &&
	    write_i64(fd, path, "memory.soft_limit_in_bytes", m->reservation, err) < 0)
		return sk_error_wrap(err, "linux.resources.memory.reservation");
	if (m->has_kernel && m->kernel && write_kmem(fd, path, "memory.kmem.limit_in_bytes", "kernel", m->kernel, err) < 0)
		return -1;
	if (m->has_kernel_tcp && m->kernel_tcp &&
	    write_kmem(fd, path, "memory.kmem.tcp.limit_in_bytes", "kernelTCP", m->kernel_tcp, err) < 0)
		return -1;
	if (m->has_swappiness && write_u64(fd, path, "memory.swappiness", m->swappiness, err) < 0)
		return sk_error_wrap(err, "linux.resources.memory.swappiness");
	if (m->has_disable_oom_killer &&
	    sk_cgroup_write_at(fd, path, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err) < 0)
		return sk_error_wrap(err, "linux.resources.memory.disableOOMKiller");
	if (m->has_use_hierarchy &&
	    sk_cgroup_write_at(fd, path, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", err) < 0)
		return sk_error_wrap(err, "linux.resources.memory.useHierarchy");
	return 0;
}

/* ---- cpu ------------------------------------------------------------------------ */

/* Two files whose values the kernel checks against each other: the first
 * is retried after the second when it is refused (EINVAL) and the second
 * is to be written (runc's order for rt and cfs). */
static int write_pair(int fd, const char *path, const char *f1, const char *v1, const char *f2, const char *v2,
		      struct sk_err *err)
{
	bool again = false;
	if (v1 && sk_cgroup_write_at(fd, path, f1, v1, err) < 0) {
		if (err->errnum != EINVAL || !v2)
			return -1;
		again = true;
	}
	if (v2 && sk_cgroup_write_at(fd, path, f2, v2, err) < 0)
		return -1;
	if (again && sk_cgroup_write_at(fd, path, f1, v1, err) < 0)
		return -1;
	return 0;
}

static int write_cpu(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	const typeof(r->cpu) *c = &r->cpu;
	if (!c->present)
		return 0;
	char a[32], b[32];
	if (c->has_shares && c->shares) {
		uint64_t got;
		if (write_u64(fd, path, "cpu.shares", c->shares, err) < 0)
			return sk_error_wrap(err, "linux.resources.cpu.shares");
		/* The kernel clamps to its range rather than refuse. */
		if (sk_cgroup_read_u64(fd, "cpu.shares", &got) && got != c->shares)
			return sk_error(err, 0, "linux.resources.cpu.shares: %" PRIu64 " is outside the kernel's range "
					"(it would be %" PRIu64 ")", c->shares, got);
	}
	bool quota = c->has_quota && c->quota, period = c->has_period && c->period;
	snprintf(a, sizeof(a), "%" PRIu64, c->period);
	/* Any negative quota is none (runc, and the kernel's -1). */
	snprintf(b, sizeof(b), "%" PRId64, c->quota < 0 ? -1 : c->quota);
	if (write_pair(fd, path, "cpu.cfs_period_us", period ? a : NULL, "cpu.cfs_quota_us", quota ? b : NULL, err) < 0)
		return sk_error_wrap(err, "linux.resources.cpu");
	if (c->has_burst) {
		snprintf(a, sizeof(a), "%" PRIu64, c->burst);
		if (sk_cgroup_write_at(fd, path, "cpu.cfs_burst_us", a, err) < 0)
			return sk_error_wrap(err, "linux.resources.cpu.burst");
	}
	if (c->has_idle && write_i64(fd, path, "cpu.idle", c->idle, err) < 0)
		return sk_error_wrap(err, "linux.resources.cpu.idle");
	bool rt_period = c->has_realtime_period && c->realtime_period;
	bool rt_runtime = c->has_realtime_runtime && c->realtime_runtime;
	snprintf(a, sizeof(a), "%" PRIu64, c->realtime_period);
	snprintf(b, sizeof(b), "%" PRId64, c->realtime_runtime);
	if (write_pair(fd, path, "cpu.rt_period_us", rt_period ? a : NULL, "cpu.rt_runtime_us", rt_runtime ? b : NULL,
		       err) < 0) {
		if (err->errnum == ENOENT)
			return sk_error(err, 0, "linux.resources.cpu.realtime: this kernel has no real-time group "
					"scheduling (no %s/cpu.rt_runtime_us)", path);
		return sk_error_wrap(err, "linux.resources.cpu.realtime");
	}
	return 0;
}

/* ---- blkio ---------------------------------------------------------------------- */

static int write_devices(int fd, const char *path, const char *file, const char *field,
			 const struct sk_throttle_device *d, size_t n, struct sk_err *err)
{
	char buf[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d[i].major, d[i].minor, d[i].rate);
		if (sk_cgroup_write_at(fd, path, file, buf, err) < 0)
			return sk_error_wrap(err, "linux.resources.blockIO.%s[%zu]", field, i);
	}
	return 0;
}

static int write_blkio(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	const typeof(r->block_io) *b = &r->block_io;
	if (!b->present)
		return 0;
	/* CFQ's files, else BFQ's (the same scale) as runc. */
	bool cfq = has_file(fd, "blkio.weight");
	const char *wfile = cfq ? "blkio.weight" : "blkio.bfq.weight";
	const char *dfile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
	char buf[96];
	if (b->has_weight && b->weight && write_u64(fd, path, wfile, b->weight, err) < 0)
		return sk_error_wrap(err, "linux.resources.blockIO.weight");
	if (b->has_leaf_weight && b->leaf_weight && write_u64(fd, path, "blkio.leaf_weight", b->leaf_weight, err) < 0) {
		if (err->errnum == ENOENT)
			return sk_error(err, 0, "linux.resources.blockIO.leafWeight: this kernel has no leaf weight "
					"(no %s/blkio.leaf_weight: a CFQ file)", path);
		return sk_error_wrap(err, "linux.resources.blockIO.leafWeight");
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct sk_weight_device *d = &b->weight_device[i];
		if (d->has_weight && d->weight) {
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->weight);
			if (sk_cgroup_write_at(fd, path, dfile, buf, err) < 0)
				return sk_error_wrap(err, "linux.resources.blockIO.weightDevice[%zu].weight", i);
		}
		if (d->has_leaf_weight && d->leaf_weight) {
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->leaf_weight);
			if (sk_cgroup_write_at(fd, path, "blkio.leaf_weight_device", buf, err) < 0)
				return sk_error_wrap(err, "linux.resources.blockIO.weightDevice[%zu].leafWeight", i);
		}
	}
	if (write_devices(fd, path, "blkio.throttle.read_bps_device", "throttleReadBpsDevice", b->throttle_read_bps,
			  b->n_throttle_read_bps, err) ||
	    write_devices(fd, path, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice", b->throttle_write_bps,
			  b->n_throttle_write_bps, err) ||
	    write_devices(fd, path, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice", b->throttle_read_iops,
			  b->n_throttle_read_iops, err) ||
	    write_devices(fd, path, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
			  b->throttle_write_iops, b->n_throttle_write_iops, err))
		return -1;
	return 0;
}

/* ---- the others ------------------------------------------------------------------ */

static int write_hugetlb(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	char name[64];
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct sk_hugepage_limit *h = &r->hugepage_limits[i];
		snprintf(name, sizeof(name), "hugetlb.%s.limit_in_bytes", h->page_size);
		if (write_u64(fd, path, name, h->limit, err) < 0) {
			if (err->errnum == ENOENT)
				return sk_error(err, 0, "linux.resources.hugepageLimits[%zu]: page size \"%s\" is not supported here"
						" (no %s in \"%s\")", i, h->page_size, name, path);
			return sk_error_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
		}
		/* The reservation limit where the kernel has one (5.7+). */
		snprintf(name, sizeof(name), "hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
		if (write_u64(fd, path, name, h->limit, err) < 0 && err->errnum != ENOENT)
			return sk_error_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
	}
	return 0;
}

static int write_net_prio(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	char buf[128];
	for (size_t i = 0; i < r->network.n_priorities; i++) {
		snprintf(buf, sizeof(buf), "%s %" PRIu32, r->network.priorities[i].name, r->network.priorities[i].priority);
		if (sk_cgroup_write_at(fd, path, "net_prio.ifpriomap", buf, err) < 0)
			return sk_error_wrap(err, "linux.resources.network.priorities[%zu]", i);
	}
	return 0;
}

int sk_cg1_write(int fd, const char *path, enum sk_cgroup_ctrl c, const struct sk_resources *r, bool update,
		 struct sk_err *err)
{
	switch (c) {
	case SK_CG_PIDS:
	case SK_CG_RDMA:
		/* The same files and values as cgroup2's. */
		return sk_cg2_write(fd, path, c, r, update, err);
	case SK_CG_MEMORY: return write_memory(fd, path, r, update, err);
	case SK_CG_CPU: return write_cpu(fd, path, r, err);
	case SK_CG_CPUSET:
		if (r->cpu.cpus && *r->cpu.cpus && sk_cgroup_write_at(fd, path, "cpuset.cpus", r->cpu.cpus, err))
			return sk_error_wrap(err, "linux.resources.cpu.cpus");
		if (r->cpu.mems && *r->cpu.mems && sk_cgroup_write_at(fd, path, "cpuset.mems", r->cpu.mems, err))
			return sk_error_wrap(err, "linux.resources.cpu.mems");
		return 0;
	case SK_CG_IO: return write_blkio(fd, path, r, err);
	case SK_CG_HUGETLB: return write_hugetlb(fd, path, r, err);
	case SK_CG_NET_CLS:
		if (r->network.present && r->network.has_class_id &&
		    write_u64(fd, path, "net_cls.classid", r->network.class_id, err) < 0)
			return sk_error_wrap(err, "linux.resources.network.classID");
		return 0;
	case SK_CG_NET_PRIO: return write_net_prio(fd, path, r, err);
	default: return 0;
	}
}

/* devices.allow and devices.deny, each opened once: the kernel takes one
 * rule per write. */
struct emit_ctx { int dir, fd[2]; const char *path; };

static int emit_line(void *p, bool allow, const char *line, struct sk_err *err)
{
	struct emit_ctx *c = p;
	const char *name = allow ? "devices.allow" : "devices.deny";
	if (c->fd[allow] < 0 && (c->fd[allow] = openat(c->dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return sk_error(err, errno, "open \"%s/%s\"", c->path, name);
	size_t len = strlen(line);
	if (write(c->fd[allow], line, len) != (ssize_t)len)
		return sk_error(err, errno, "write \"%s\" to \"%s/%s\"", line, c->path, name);
	return 0;
}

int sk_cg1_devices(int fd, const char *path, const struct sk_device_rule *rules, size_t n, struct sk_err *err)
{
	struct emit_ctx c = { fd, { -1, -1 }, path };
	int r = sk_cgroup_dev_v1(rules, n, emit_line, &c, err);
	for (int i = 0; i < 2; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	return r;
}

/* ---- freezer --------------------------------------------------------------------- */

static int state(int fd, char *buf, size_t size)
{
	struct sk_err ignored;
	if (sk_cgroup_read_at(fd, "", "freezer.state", buf, size, &ignored) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int sk_cg1_freeze(int fd, const char *path, bool freeze, struct sk_err *err)
{
	const char *want = freeze ? "FROZEN" : "THAWED";
	int64_t deadline = sk_cgroup_now_ms() + FREEZE_WAIT_MS;
	char buf[32];
	/* A v1 freeze can stall in FREEZING while processes fork or join;
	 * writing FROZEN again, with an occasional thaw, gets it through
	 * (runc's experience, kernels up to at least 5.4). */
	for (int i = 0;; i++) {
		if (freeze && i % 50 == 49) {
			struct sk_err ignored;
			sk_cgroup_write_at(fd, path, "freezer.state", "THAWED", &ignored);
			sk_cgroup_sleep_ms(10);
		}
		if (sk_cgroup_write_at(fd, path, "freezer.state", want, err) < 0)
			return -1;
		if (state(fd, buf, sizeof(buf)) < 0)
			return sk_error(err, errno, "read \"%s/freezer.state\"", path);
		if (!strcmp(buf, want))
			return 0;
		if (sk_cgroup_now_ms() > deadline)
			break;
		sk_cgroup_sleep_ms(i < 10 ? 1 : 5);
	}
	if (freeze) {
		struct sk_err ignored;
		sk_cgroup_write_at(fd, path, "freezer.state", "THAWED", &ignored);
	}
	return sk_error(err, ETIMEDOUT, "cgroup \"%s\" did not %s within %d s (freezer.state %s)", path,
			freeze ? "freeze" : "thaw", FREEZE_WAIT_MS / 1000, buf);
}

int sk_cg1_frozen(const char *path)
{
	char file[PATH_MAX], buf[32];
	struct sk_err ignored;
	if ((size_t)snprintf(file, sizeof(file), "%s/freezer.state", path) >= sizeof(file) ||
	    sk_read_small_at(AT_FDCWD, file, buf, sizeof(buf), &ignored) < 0)
		return 0;
	return !strncmp(buf, "FROZEN", 6);
}
