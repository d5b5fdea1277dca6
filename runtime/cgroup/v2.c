/* cgroup_v2: linux.resources -> cgroup v2 files, controllers, freezer and
 * kill (see include/skiff/cgroup/v2.h and docs/cgroups.md). */
#include "skiff/cgroup/v2.h"
#include "skiff/cgroup/dev.h"
#include "skiff/cgroup/fs.h"
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

/* ---- controllers ------------------------------------------------------------ */

/* Set flags[c] for each controller named in a space-separated list. */
static void parse_ctrls(char *list, char flags[SK_CG_V2_NCTRL])
{
	for (char *save = NULL, *t = strtok_r(list, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		for (int c = 0; c < SK_CG_V2_NCTRL; c++)
			if (!strcmp(t, sk_cgroup_ctrl_name(c)))
				flags[c] = 1;
}

int sk_cg2_enable(const char *mount, const char *rel, unsigned mask, const struct sk_cgroup_needs *needs,
		  struct sk_err *err)
{
	char file[PATH_MAX], buf[512], have[SK_CG_V2_NCTRL] = { 0 };
	snprintf(file, sizeof(file), "%s/cgroup.controllers", mount);
	if (sk_read_small_at(AT_FDCWD, file, buf, sizeof(buf), err) < 0)
		return -1;
	parse_ctrls(buf, have);
	for (int c = 0; c < SK_CG_NCTRL; c++) {
		if (!(mask & (1u << c)) || (c < SK_CG_V2_NCTRL && have[c]))
			continue;
		if (needs->why_key[c])
			return sk_error(err, 0, "cgroup: controller \"%s\" is not available in %s (needed by linux.resources.unified[\"%s\"])",
					sk_cgroup_ctrl_name(c), mount, needs->why_key[c]);
		return sk_error(err, 0, "cgroup: controller \"%s\" is not available in %s (needed by %s)",
				sk_cgroup_ctrl_name(c), mount, needs->why[c]);
	}
	/* Each ancestor, from the root down to the leaf's parent (the prefix
	 * of rel before each of its '/'), must hand the controllers down;
	 * enable only what is missing. */
	for (const char *slash = rel; slash; slash = strchr(slash + 1, '/')) {
		int plen = (int)(slash - rel);
		snprintf(file, sizeof(file), "%s%.*s/cgroup.subtree_control", mount, plen, rel);
		char on[SK_CG_V2_NCTRL] = { 0 }, add[256];
		if (sk_read_small_at(AT_FDCWD, file, buf, sizeof(buf), err) < 0)
			return -1;
		parse_ctrls(buf, on);
		size_t n = 0;
		for (int c = 0; c < SK_CG_V2_NCTRL; c++)
			if ((mask & (1u << c)) && !on[c])
				n += (size_t)snprintf(add + n, sizeof(add) - n, "%s+%s", n ? " " : "", sk_cgroup_ctrl_name(c));
		if (!n)
			continue;
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return sk_error(err, errno, "open \"%s\"", file);
		ssize_t w = write(fd, add, n);
		int e = errno;
		close(fd);
		if (w == (ssize_t)n) {
			sk_debug("cgroup: enabled \"%s\" in %s", add, file);
			continue;
		}
		if (e == EBUSY)
			return sk_error(err, e, "cgroup: enable \"%s\" in \"%s\" (a cgroup holding processes cannot hand controllers down)",
					add, file);
		return sk_error(err, e, "cgroup: enable \"%s\" in \"%s\"", add, file);
	}
	return 0;
}

/* ---- files ------------------------------------------------------------------- */

static void fmt_limit(char *buf, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRId64, v);
}

/* On update, refuse a limit at or below what the cgroup already uses: the
 * kernel would not refuse it but OOM-kill (runtime-spec checkBeforeUpdate). */
static int check_usage(int fd, const char *path, int64_t limit, int64_t swap, struct sk_err *err)
{
	if (limit <= 0 && swap <= 0)
		return 0;
	char buf[32];
	if (sk_cgroup_read_at(fd, path, "memory.current", buf, sizeof(buf), err) < 0)
		return -1;
	uint64_t usage = strtoull(buf, NULL, 10);
	if (swap > 0 && (uint64_t)swap <= usage)
		return sk_error(err, 0, "linux.resources.memory.swap: %" PRId64 " is not above the current usage %" PRIu64
				" (checkBeforeUpdate)", swap, usage);
	if (limit > 0 && (uint64_t)limit <= usage)
		return sk_error(err, 0, "linux.resources.memory.limit: %" PRId64 " is not above the current usage %" PRIu64
				" (checkBeforeUpdate)", limit, usage);
	return 0;
}

static int write_memory(int fd, const char *path, const struct sk_resources *r, bool update, struct sk_err *err)
{
	if (!r->memory.present)
		return 0;
	if ((r->memory.has_kernel && r->memory.kernel) || (r->memory.has_kernel_tcp && r->memory.kernel_tcp))
		sk_warn("linux.resources.memory.kernel and kernelTCP are ignored, as runc does (cgroup v2 has no "
			"kernel memory limit)");
	int64_t limit = r->memory.has_limit ? r->memory.limit : 0;
	int64_t swap = r->memory.has_swap ? r->memory.swap : 0, swap_max;
	char buf[32];
	if (update && r->memory.has_check_before_update && r->memory.check_before_update &&
	    check_usage(fd, path, limit, swap, err))
		return -1;
	int sw = sk_cgroup_swap_max(swap, limit, &swap_max, err);
	if (sw < 0)
		return -1;
	if (sw) {
		fmt_limit(buf, sizeof(buf), swap_max);
		if (sk_cgroup_write_at(fd, path, "memory.swap.max", buf, err)) {
			/* No swap accounting: "no limit" and "no swap" hold anyway. */
			if (err->errnum != ENOENT || swap_max > 0)
				return -1;
			sk_debug("cgroup %s: no memory.swap.max (swap accounting off); \"%s\" holds anyway", path, buf);
		}
	}
	if (limit) {
		fmt_limit(buf, sizeof(buf), limit);
		if (sk_cgroup_write_at(fd, path, "memory.max", buf, err))
			return -1;
	}
	if (r->memory.has_reservation && r->memory.reservation) {
		fmt_limit(buf, sizeof(buf), r->memory.reservation);
		if (sk_cgroup_write_at(fd, path, "memory.low", buf, err))
			return -1;
	}
	return 0;
}

static int write_cpu(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	if (!r->cpu.present)
		return 0;
	char buf[48], max[48];
	if (r->cpu.has_idle) {
		snprintf(buf, sizeof(buf), "%" PRId64, r->cpu.idle);
		if (sk_cgroup_write_at(fd, path, "cpu.idle", buf, err))
			return -1;
	}
	if (r->cpu.has_shares && r->cpu.shares) {
		snprintf(buf, sizeof(buf), "%" PRIu64, sk_cgroup_shares_to_weight(r->cpu.shares));
		if (sk_cgroup_write_at(fd, path, "cpu.weight", buf, err))
			return -1;
	}
	sk_cgroup_cpu_max(r, max, sizeof(max));
	bool burst_later = false;
	if (r->cpu.has_burst) {
		snprintf(buf, sizeof(buf), "%" PRIu64, r->cpu.burst);
		/* A burst above the current quota is refused until the new quota
		 * is in place: then try again after cpu.max (as runc). */
		if (sk_cgroup_write_at(fd, path, "cpu.max.burst", buf, err)) {
			if (err->errnum != EINVAL || !max[0])
				return -1;
			burst_later = true;
		}
	}
	if (max[0] && sk_cgroup_write_at(fd, path, "cpu.max", max, err))
		return -1;
	if (burst_later && sk_cgroup_write_at(fd, path, "cpu.max.burst", buf, err))
		return -1;
	return 0;
}

static int write_cpuset(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	if (r->cpu.cpus && *r->cpu.cpus && sk_cgroup_write_at(fd, path, "cpuset.cpus", r->cpu.cpus, err))
		return -1;
	if (r->cpu.mems && *r->cpu.mems && sk_cgroup_write_at(fd, path, "cpuset.mems", r->cpu.mems, err))
		return -1;
	return 0;
}

static int write_throttle(int fd, const char *path, const struct sk_throttle_device *d, size_t n, const char *key,
			  struct sk_err *err)
{
	char buf[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major, d[i].minor, key, d[i].rate);
		if (sk_cgroup_write_at(fd, path, "io.max", buf, err))
			return -1;
	}
	return 0;
}

static int write_io(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	if (!r->block_io.present)
		return 0;
	/* With BFQ, its own weight file takes the v1 scale as is; otherwise
	 * io.weight (blk-iocost) with runc's linear conversion. */
	bool bfq = faccessat(fd, "io.bfq.weight", F_OK, 0) == 0;
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	char buf[96];
	if (r->block_io.has_weight && r->block_io.weight) {
		uint64_t w = bfq ? r->block_io.weight : sk_cgroup_blkio_to_io_weight(r->block_io.weight);
		snprintf(buf, sizeof(buf), "%" PRIu64, w);
		if (sk_cgroup_write_at(fd, path, wfile, buf, err))
			return -1;
	}
	for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
		const struct sk_weight_device *d = &r->block_io.weight_device[i];
		if (d->has_leaf_weight)
			sk_debug("cgroup %s: blockIO.weightDevice[%zu].leafWeight ignored: cgroup v2 has no leaf weight",
				 path, i);
		if (!d->has_weight || !d->weight)
			continue;
		uint64_t w = bfq ? d->weight : sk_cgroup_blkio_to_io_weight(d->weight);
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, w);
		if (sk_cgroup_write_at(fd, path, wfile, buf, err))
			return -1;
	}
	const typeof(r->block_io) *b = &r->block_io;
	if (write_throttle(fd, path, b->throttle_read_bps, b->n_throttle_read_bps, "rbps", err) ||
	    write_throttle(fd, path, b->throttle_write_bps, b->n_throttle_write_bps, "wbps", err) ||
	    write_throttle(fd, path, b->throttle_read_iops, b->n_throttle_read_iops, "riops", err) ||
	    write_throttle(fd, path, b->throttle_write_iops, b->n_throttle_write_iops, "wiops", err))
		return -1;
	return 0;
}

static int write_hugetlb(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	char name[64], buf[32];
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct sk_hugepage_limit *h = &r->hugepage_limits[i];
		snprintf(buf, sizeof(buf), "%" PRIu64, h->limit);
		snprintf(name, sizeof(name), "hugetlb.%s.max", h->page_size);
		if (sk_cgroup_write_at(fd, path, name, buf, err)) {
			if (err->errnum == ENOENT)
				return sk_error(err, 0, "linux.resources.hugepageLimits[%zu]: page size \"%s\" is not supported here"
						" (no %s in \"%s\")", i, h->page_size, name, path);
			return -1;
		}
		/* The reservation limit (5.7+) is what the spec asks for first;
		 * kernels without it only have the fault-time limit above. */
		snprintf(name, sizeof(name), "hugetlb.%s.rsvd.max", h->page_size);
		if (sk_cgroup_write_at(fd, path, name, buf, err) && err->errnum != ENOENT)
			return -1;
	}
	return 0;
}

static int write_rdma(int fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	char buf[160];
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct sk_rdma_limit *l = &r->rdma[i];
		if (!l->has_hca_handles && !l->has_hca_objects)
			continue;
		int n = snprintf(buf, sizeof(buf), "%s", l->device);
		if (l->has_hca_handles)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_handle=%" PRIu32, l->hca_handles);
		if (l->has_hca_objects)
			snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_object=%" PRIu32, l->hca_objects);
		if (sk_cgroup_write_at(fd, path, "rdma.max", buf, err))
			return -1;
	}
	return 0;
}

int sk_cg2_write(int fd, const char *path, enum sk_cgroup_ctrl c, const struct sk_resources *r, bool update,
		 struct sk_err *err)
{
	char buf[32];
	switch (c) {
	case SK_CG_PIDS:
		if (!r->pids.present || !r->pids.has_limit)
			return 0;
		/* -1 (any negative) is "max"; 0 becomes 1, as runc does: the
		 * init itself must be able to enter the cgroup. */
		if (r->pids.limit < 0)
			snprintf(buf, sizeof(buf), "max");
		else
			snprintf(buf, sizeof(buf), "%" PRId64, r->pids.limit ? r->pids.limit : 1);
		return sk_cgroup_write_at(fd, path, "pids.max", buf, err);
	case SK_CG_MEMORY: return write_memory(fd, path, r, update, err);
	case SK_CG_CPU: return write_cpu(fd, path, r, err);
	case SK_CG_CPUSET: return write_cpuset(fd, path, r, err);
	case SK_CG_IO: return write_io(fd, path, r, err);
	case SK_CG_HUGETLB: return write_hugetlb(fd, path, r, err);
	case SK_CG_RDMA: return write_rdma(fd, path, r, err);
	default: return 0;
	}
}

void sk_cg2_complete(int fd, enum sk_cgroup_ctrl c, struct sk_resources *r)
{
	char buf[64];
	struct sk_err ignored;
	if (c == SK_CG_CPU) {
		bool quota = r->cpu.has_quota && r->cpu.quota, period = r->cpu.has_period && r->cpu.period;
		/* "max 100000" or "50000 100000" */
		char *sp;
		if (quota == period || sk_cgroup_read_at(fd, "", "cpu.max", buf, sizeof(buf), &ignored) <= 0 ||
		    !(sp = strchr(buf, ' ')))
			return;
		if (quota) {
			r->cpu.has_period = true;
			r->cpu.period = strtoull(sp + 1, NULL, 10);
		} else {
			r->cpu.has_quota = true;
			r->cpu.quota = strncmp(buf, "max", 3) == 0 ? -1 : strtoll(buf, NULL, 10);
		}
	} else if (c == SK_CG_MEMORY) {
		bool limit = r->memory.has_limit && r->memory.limit;
		if (r->memory.has_swap && r->memory.swap > 0 && !limit &&
		    sk_cgroup_read_at(fd, "", "memory.max", buf, sizeof(buf), &ignored) > 0) {
			r->memory.has_limit = true;
			r->memory.limit = strncmp(buf, "max", 3) == 0 ? -1 : strtoll(buf, NULL, 10);
		}
	}
}

/* Values may hold several lines (io.max for two devices): the kernel takes
 * one per write. */
int sk_cg2_write_unified(int dir_fd, const char *path, const struct sk_resources *r, struct sk_err *err)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *key = r->unified[i].key, *v = r->unified[i].value ? r->unified[i].value : "";
		int fd = -1;
		while (*v) {
			size_t len = strcspn(v, "\n");
			if (len) {
				if (fd < 0 && (fd = openat(dir_fd, key, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
					return sk_error(err, errno, "linux.resources.unified[\"%s\"]: open \"%s/%s\"",
							key, path, key);
				if (write(fd, v, len) != (ssize_t)len) {
					int e = errno;
					close(fd);
					return sk_error(err, e, "linux.resources.unified[\"%s\"]: write \"%.*s\" to \"%s/%s\"",
							key, (int)(len > 80 ? 80 : len), v, path, key);
				}
			}
			v += len;
			if (*v == '\n')
				v++;
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int sk_cg2_devices(int fd, const char *path, const struct sk_device_rule *rules, size_t n, bool replace,
		   struct sk_err *err)
{
	struct sk_bpf_prog prog;
	if (sk_cgroup_dev_build(rules, n, &prog, err))
		return -1;
	int rc = sk_cgroup_dev_install(fd, path, &prog, replace, err);
	sk_cgroup_dev_free(&prog);
	return rc;
}

/* ---- freezer, kill, delegation --------------------------------------------- */

int sk_cg2_freeze(int fd, const char *path, bool freeze, struct sk_err *err)
{
	if (sk_cgroup_write_at(fd, path, "cgroup.freeze", freeze ? "1" : "0", err))
		return -1;
	int r = sk_cgroup_wait_event(fd, "frozen", freeze, sk_cgroup_now_ms() + FREEZE_WAIT_MS);
	if (r == 1)
		return 0;
	if (r < 0)
		return sk_error(err, errno, "read \"%s/cgroup.events\"", path);
	if (freeze) {
		struct sk_err ignored;
		sk_cgroup_write_at(fd, path, "cgroup.freeze", "0", &ignored);
	}
	return sk_error(err, ETIMEDOUT, "cgroup \"%s\" did not %s within %d s", path, freeze ? "freeze" : "thaw",
			FREEZE_WAIT_MS / 1000);
}

int sk_cg2_kill(int fd, const char *path, struct sk_err *err)
{
	return sk_cgroup_write_at(fd, path, "cgroup.kill", "1", err);
}

/* The files the kernel lists as delegatable (cgroups(7)'s three when it
 * lists none). */
int sk_cg2_delegate(int fd, const char *path, uid_t owner, struct sk_err *err)
{
	char list[1024];
	static const char fallback[] = "cgroup.procs\ncgroup.subtree_control\ncgroup.threads\n";
	struct sk_err ignored;
	if (sk_read_small_at(AT_FDCWD, "/sys/kernel/cgroup/delegate", list, sizeof(list), &ignored) < 0)
		memcpy(list, fallback, sizeof(fallback));
	if (fchownat(fd, "", owner, (gid_t)-1, AT_EMPTY_PATH) < 0)
		return sk_error(err, errno, "chown cgroup \"%s\" to %u", path, (unsigned)owner);
	char *save = NULL;
	for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save))
		if (!strchr(name, '/') && fchownat(fd, name, owner, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			return sk_error(err, errno, "chown \"%s/%s\" to %u", path, name, (unsigned)owner);
	return 0;
}
