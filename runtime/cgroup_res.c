/* cgroup_res: linux.resources -> cgroup v2 files (see docs/cgroups.md). */
#include "skiff/cgroup.h"
#include "skiff/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const ctrl_names[SK_CG_NCTRL] = {
	[SK_CG_CPU] = "cpu", [SK_CG_CPUSET] = "cpuset", [SK_CG_IO] = "io",
	[SK_CG_MEMORY] = "memory", [SK_CG_PIDS] = "pids", [SK_CG_HUGETLB] = "hugetlb",
	[SK_CG_RDMA] = "rdma", [SK_CG_MISC] = "misc",
};

const char *sk_cgroup_ctrl_name(enum sk_cgroup_ctrl c)
{
	return (unsigned)c < SK_CG_NCTRL ? ctrl_names[c] : "?";
}

/* ---- conversions ---------------------------------------------------------- */

/* libm is not linked, and the weight must come out exactly as runc's and
 * crun's (ceil of a power of ten, in doubles): these two series are precise
 * to far below the 4e-10 relative distance that separates any result from
 * an integer boundary over the whole shares range (checked exhaustively
 * against libm), and exact for the one exact case (1024 -> 100). */
static long double log2_u64(uint64_t x)
{
	const long double ln2 = 0.693147180559945309417232121458176568L;
	int k = 63 - __builtin_clzll(x);
	long double m = (long double)x / (long double)(1ULL << k);   /* [1, 2) */
	long double y = (m - 1) / (m + 1), y2 = y * y, term = y, sum = 0;
	for (int i = 1; i < 80; i += 2) {   /* ln m = 2 atanh y, y <= 1/3 */
		sum += term / i;
		term *= y2;
	}
	return k + 2 * sum / ln2;
}

static long double pow10_pos(double e)   /* e in [0, 4] */
{
	const long double ln10 = 2.302585092994045684017991454684364208L;
	int n = (int)e;
	long double x = ((long double)e - n) * ln10, term = 1, sum = 1;
	for (int i = 1; i < 48; i++) {
		term *= x / i;
		sum += term;
	}
	while (n-- > 0)
		sum *= 10;
	return sum;
}

uint64_t sk_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares <= 2)
		return 1;
	if (shares >= 262144)
		return 10000;
	/* A quadratic in log2(shares) through (2, 1), (1024, 100) and
	 * (262144, 10000): v1's default maps to v2's default. */
	double l = (double)log2_u64(shares);
	double e = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
	long double v = pow10_pos(e);
	uint64_t w = (uint64_t)v;
	return (long double)w < v ? w + 1 : w;
}

uint64_t sk_cgroup_blkio_to_io_weight(uint16_t weight)
{
	if (weight == 0)
		return 0;
	return 1 + ((uint64_t)weight - 10) * 9999 / 990;
}

int sk_cgroup_swap_max(int64_t swap, int64_t limit, int64_t *out, struct sk_err *err)
{
	/* runc's reading: swap is memory+swap; 0 is "unset", -1 "max". */
	if (limit == -1 && swap == 0) {
		*out = -1;   /* unlimited memory and nothing said of swap: v1 parity */
		return 1;
	}
	if (swap == 0)
		return 0;
	if (swap == -1 || limit == -1) {
		*out = swap;
		return 1;
	}
	if (swap < -1)
		return sk_error(err, 0, "linux.resources.memory.swap: %" PRId64 " is not a limit (use -1 for none)", swap);
	if (limit == 0)
		return sk_error(err, 0, "linux.resources.memory.swap: cannot be set without memory.limit");
	if (limit < 0)
		return sk_error(err, 0, "linux.resources.memory.limit: %" PRId64 " is not a limit (use -1 for none)", limit);
	if (swap < limit)
		return sk_error(err, 0, "linux.resources.memory.swap: %" PRId64 " (memory+swap) is below memory.limit %" PRId64,
				swap, limit);
	*out = swap - limit;
	return 1;
}

void sk_cgroup_cpu_max(const struct sk_resources *res, char *buf, size_t size)
{
	int64_t quota = res->cpu.has_quota ? res->cpu.quota : 0;
	uint64_t period = res->cpu.has_period ? res->cpu.period : 0;
	buf[0] = '\0';
	if (quota == 0 && period == 0)
		return;
	if (period == 0)
		period = 100000;   /* the kernel's default period */
	if (quota > 0)
		snprintf(buf, size, "%" PRId64 " %" PRIu64, quota, period);
	else
		snprintf(buf, size, "max %" PRIu64, period);
}

/* ---- validation: what the resources need ------------------------------- */

static void need(struct sk_cgroup_needs *n, enum sk_cgroup_ctrl c, const char *why, const char *key)
{
	if (n->mask & (1u << c))
		return;
	n->mask |= 1u << c;
	n->why[c] = why;
	n->why_key[c] = key;
}

/* Files skiff itself drives; writing them from a config would move
 * processes, reshape the tree or fight pause/resume/kill. */
static const char *const owned_files[] = {
	"cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.type",
	"cgroup.freeze", "cgroup.kill",
};

int sk_cgroup_unified_key(const char *key, int *ctrl, struct sk_err *err)
{
	if (!*key || key[0] == '.' || strchr(key, '/') || strlen(key) > 255)
		return sk_error(err, 0, "linux.resources.unified: key \"%s\" is not a cgroup file name", key);
	for (size_t i = 0; i < sizeof(owned_files) / sizeof(owned_files[0]); i++)
		if (!strcmp(key, owned_files[i]))
			return sk_error(err, 0, "linux.resources.unified: key \"%s\" is managed by skiff and cannot be set", key);
	const char *dot = strchr(key, '.');
	if (!dot || dot[1] == '\0')
		return sk_error(err, 0, "linux.resources.unified: key \"%s\" is not of the form CONTROLLER.FILE", key);
	size_t len = (size_t)(dot - key);
	if (len == 6 && !strncmp(key, "cgroup", 6)) {
		*ctrl = -1;
		return 0;
	}
	for (int c = 0; c < SK_CG_NCTRL; c++)
		if (strlen(ctrl_names[c]) == len && !strncmp(key, ctrl_names[c], len)) {
			*ctrl = c;
			return 0;
		}
	return sk_error(err, 0, "linux.resources.unified: key \"%s\": \"%.*s\" is not a cgroup v2 controller",
			key, (int)len, key);
}

/* "2MB", "64KB", "1GB": digits then a binary unit; it becomes a file name. */
static bool page_size_ok(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 8 || s[0] == '0')
		return false;
	return (s[i] == 'K' || s[i] == 'M' || s[i] == 'G') && s[i + 1] == 'B' && s[i + 2] == '\0';
}

static bool rdma_device_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '/' || *s == 0x7f)
			return false;
	return true;
}

static int needs_memory(const struct sk_resources *r, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->memory.present)
		return 0;
	/* No cgroup v2 file holds these; refusing (as crun does) beats running
	 * a container without a limit it asked for.  Kernel memory limits are
	 * the exception: runc 1.1 ignores them everywhere (write_memory warns). */
	if (r->memory.has_swappiness)
		return sk_error(err, 0, "linux.resources.memory.swappiness: not supported on cgroup v2");
	if (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer)
		return sk_error(err, 0, "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
	if (r->memory.has_use_hierarchy && !r->memory.use_hierarchy)
		return sk_error(err, 0, "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
	int64_t limit = r->memory.has_limit ? r->memory.limit : 0;
	int64_t swap = r->memory.has_swap ? r->memory.swap : 0, out;
	if (limit < -1)
		return sk_error(err, 0, "linux.resources.memory.limit: %" PRId64 " is not a limit (use -1 for none)", limit);
	if (r->memory.has_reservation && r->memory.reservation < -1)
		return sk_error(err, 0, "linux.resources.memory.reservation: %" PRId64 " is not a limit (use -1 for none)",
				r->memory.reservation);
	int sw = sk_cgroup_swap_max(swap, limit, &out, err);
	if (sw < 0)
		return -1;
	if (limit || sw || (r->memory.has_reservation && r->memory.reservation))
		need(n, SK_CG_MEMORY, "linux.resources.memory", NULL);
	return 0;
}

static int needs_cpu(const struct sk_resources *r, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->cpu.present)
		return 0;
	if (r->cpu.has_realtime_runtime && r->cpu.realtime_runtime)
		return sk_error(err, 0, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
	if (r->cpu.has_realtime_period && r->cpu.realtime_period)
		return sk_error(err, 0, "linux.resources.cpu.realtimePeriod: not supported on cgroup v2");
	if (r->cpu.has_period && r->cpu.period > 1000000)
		return sk_error(err, 0, "linux.resources.cpu.period: %" PRIu64 " is above the kernel's 1000000 us", r->cpu.period);
	if (r->cpu.has_idle && r->cpu.idle != 0 && r->cpu.idle != 1)
		return sk_error(err, 0, "linux.resources.cpu.idle: must be 0 or 1");
	char max[48];
	sk_cgroup_cpu_max(r, max, sizeof(max));
	if ((r->cpu.has_shares && r->cpu.shares) || max[0] || r->cpu.has_burst || r->cpu.has_idle)
		need(n, SK_CG_CPU, "linux.resources.cpu", NULL);
	if (r->cpu.cpus && *r->cpu.cpus)
		need(n, SK_CG_CPUSET, "linux.resources.cpu.cpus", NULL);
	if (r->cpu.mems && *r->cpu.mems)
		need(n, SK_CG_CPUSET, "linux.resources.cpu.mems", NULL);
	return 0;
}

static int needs_io(const struct sk_resources *r, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->block_io.present)
		return 0;
	if (r->block_io.has_leaf_weight && r->block_io.leaf_weight)
		return sk_error(err, 0, "linux.resources.blockIO.leafWeight: not supported on cgroup v2");
	if (r->block_io.has_weight && r->block_io.weight && (r->block_io.weight < 10 || r->block_io.weight > 1000))
		return sk_error(err, 0, "linux.resources.blockIO.weight: %u is outside 10..1000", r->block_io.weight);
	bool any = (r->block_io.has_weight && r->block_io.weight) || r->block_io.n_throttle_read_bps ||
		   r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
		   r->block_io.n_throttle_write_iops;
	for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
		const struct sk_weight_device *d = &r->block_io.weight_device[i];
		if (!d->has_weight || !d->weight)
			continue;
		if (d->weight < 10 || d->weight > 1000)
			return sk_error(err, 0, "linux.resources.blockIO.weightDevice[%zu].weight: %u is outside 10..1000",
					i, d->weight);
		any = true;
	}
	if (any)
		need(n, SK_CG_IO, "linux.resources.blockIO", NULL);
	return 0;
}

int sk_cgroup_needs(const struct sk_resources *r, struct sk_cgroup_needs *n, struct sk_err *err)
{
	memset(n, 0, sizeof(*n));
	if (!r)
		return 0;
	if (needs_memory(r, n, err) || needs_cpu(r, n, err) || needs_io(r, n, err))
		return -1;
	if (r->pids.present && r->pids.has_limit)
		need(n, SK_CG_PIDS, "linux.resources.pids", NULL);
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const char *ps = r->hugepage_limits[i].page_size;
		if (!ps || !page_size_ok(ps))
			return sk_error(err, 0, "linux.resources.hugepageLimits[%zu].pageSize: \"%s\" is not a size like \"2MB\"",
					i, ps ? ps : "");
		need(n, SK_CG_HUGETLB, "linux.resources.hugepageLimits", NULL);
	}
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct sk_rdma_limit *l = &r->rdma[i];
		if (!l->device || !rdma_device_ok(l->device))
			return sk_error(err, 0, "linux.resources.rdma: \"%s\" is not a device name", l->device ? l->device : "");
		if (l->has_hca_handles || l->has_hca_objects)
			need(n, SK_CG_RDMA, "linux.resources.rdma", NULL);
	}
	if (r->network.present && (r->network.has_class_id || r->network.n_priorities))
		return sk_error(err, 0, "linux.resources.network: not supported on cgroup v2 (no net_cls or net_prio)");
	for (size_t i = 0; i < r->n_unified; i++) {
		int c;
		if (sk_cgroup_unified_key(r->unified[i].key, &c, err))
			return -1;
		if (c >= 0)
			need(n, (enum sk_cgroup_ctrl)c, NULL, r->unified[i].key);
	}
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

int sk_cgroup_write(const struct sk_cgroup *cg, const char *name, const char *value, struct sk_err *err)
{
	int fd = openat(cg->dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s/%s\"", cg->path, name);
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int e = w < 0 ? errno : EIO;
	close(fd);
	if (w != (ssize_t)len)
		return sk_error(err, e, "write \"%.80s\" to \"%s/%s\"", value, cg->path, name);
	return 0;
}

ssize_t sk_cgroup_read(const struct sk_cgroup *cg, const char *name, char *buf, size_t size, struct sk_err *err)
{
	int fd = openat(cg->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s/%s\"", cg->path, name);
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0) {
			int e = errno;
			close(fd);
			return sk_error(err, e, "read \"%s/%s\"", cg->path, name);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static void fmt_limit(char *buf, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRId64, v);
}

/* On update, refuse a limit at or below what the cgroup already uses: the
 * kernel would not refuse it but OOM-kill (runtime-spec checkBeforeUpdate). */
static int check_usage(const struct sk_cgroup *cg, int64_t limit, int64_t swap, struct sk_err *err)
{
	if (limit <= 0 && swap <= 0)
		return 0;
	char buf[32];
	if (sk_cgroup_read(cg, "memory.current", buf, sizeof(buf), err) < 0)
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

static int write_memory(const struct sk_cgroup *cg, const struct sk_resources *r, bool update, struct sk_err *err)
{
	if (!r->memory.present)
		return 0;
	if ((r->memory.has_kernel && r->memory.kernel) || (r->memory.has_kernel_tcp && r->memory.kernel_tcp))
		sk_warn("linux.resources.memory.kernel and kernelTCP are ignored, as runc does (kernel memory limits are deprecated)");
	int64_t limit = r->memory.has_limit ? r->memory.limit : 0;
	int64_t swap = r->memory.has_swap ? r->memory.swap : 0, swap_max;
	char buf[32];
	if (update && r->memory.has_check_before_update && r->memory.check_before_update &&
	    check_usage(cg, limit, swap, err))
		return -1;
	int sw = sk_cgroup_swap_max(swap, limit, &swap_max, err);
	if (sw < 0)
		return -1;
	if (sw) {
		fmt_limit(buf, sizeof(buf), swap_max);
		if (sk_cgroup_write(cg, "memory.swap.max", buf, err)) {
			/* No swap accounting: "no limit" and "no swap" hold anyway. */
			if (err->errnum != ENOENT || swap_max > 0)
				return -1;
			sk_debug("cgroup %s: no memory.swap.max (swap accounting off); \"%s\" holds anyway", cg->path, buf);
		}
	}
	if (limit) {
		fmt_limit(buf, sizeof(buf), limit);
		if (sk_cgroup_write(cg, "memory.max", buf, err))
			return -1;
	}
	if (r->memory.has_reservation && r->memory.reservation) {
		fmt_limit(buf, sizeof(buf), r->memory.reservation);
		if (sk_cgroup_write(cg, "memory.low", buf, err))
			return -1;
	}
	return 0;
}

static int write_cpu(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
{
	if (!r->cpu.present)
		return 0;
	char buf[48], max[48];
	if (r->cpu.has_idle) {
		snprintf(buf, sizeof(buf), "%" PRId64, r->cpu.idle);
		if (sk_cgroup_write(cg, "cpu.idle", buf, err))
			return -1;
	}
	if (r->cpu.has_shares && r->cpu.shares) {
		snprintf(buf, sizeof(buf), "%" PRIu64, sk_cgroup_shares_to_weight(r->cpu.shares));
		if (sk_cgroup_write(cg, "cpu.weight", buf, err))
			return -1;
	}
	sk_cgroup_cpu_max(r, max, sizeof(max));
	bool burst_later = false;
	if (r->cpu.has_burst) {
		snprintf(buf, sizeof(buf), "%" PRIu64, r->cpu.burst);
		/* A burst above the current quota is refused until the new quota
		 * is in place: then try again after cpu.max (as runc). */
		if (sk_cgroup_write(cg, "cpu.max.burst", buf, err)) {
			if (err->errnum != EINVAL || !max[0])
				return -1;
			burst_later = true;
		}
	}
	if (max[0] && sk_cgroup_write(cg, "cpu.max", max, err))
		return -1;
	if (burst_later && sk_cgroup_write(cg, "cpu.max.burst", buf, err))
		return -1;
	if (r->cpu.cpus && *r->cpu.cpus && sk_cgroup_write(cg, "cpuset.cpus", r->cpu.cpus, err))
		return -1;
	if (r->cpu.mems && *r->cpu.mems && sk_cgroup_write(cg, "cpuset.mems", r->cpu.mems, err))
		return -1;
	return 0;
}

static int write_throttle(const struct sk_cgroup *cg, const struct sk_throttle_device *d, size_t n,
			  const char *key, struct sk_err *err)
{
	char buf[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major, d[i].minor, key, d[i].rate);
		if (sk_cgroup_write(cg, "io.max", buf, err))
			return -1;
	}
	return 0;
}

static int write_io(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
{
	if (!r->block_io.present)
		return 0;
	/* With BFQ, its own weight file takes the v1 scale as is; otherwise
	 * io.weight (blk-iocost) with runc's linear conversion. */
	bool bfq = faccessat(cg->dir_fd, "io.bfq.weight", F_OK, 0) == 0;
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	char buf[96];
	if (r->block_io.has_weight && r->block_io.weight) {
		uint64_t w = bfq ? r->block_io.weight : sk_cgroup_blkio_to_io_weight(r->block_io.weight);
		snprintf(buf, sizeof(buf), "%" PRIu64, w);
		if (sk_cgroup_write(cg, wfile, buf, err))
			return -1;
	}
	for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
		const struct sk_weight_device *d = &r->block_io.weight_device[i];
		if (d->has_leaf_weight)
			sk_debug("cgroup %s: blockIO.weightDevice[%zu].leafWeight ignored: cgroup v2 has no leaf weight",
				 cg->path, i);
		if (!d->has_weight || !d->weight)
			continue;
		uint64_t w = bfq ? d->weight : sk_cgroup_blkio_to_io_weight(d->weight);
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, w);
		if (sk_cgroup_write(cg, wfile, buf, err))
			return -1;
	}
	if (write_throttle(cg, r->block_io.throttle_read_bps, r->block_io.n_throttle_read_bps, "rbps", err) ||
	    write_throttle(cg, r->block_io.throttle_write_bps, r->block_io.n_throttle_write_bps, "wbps", err) ||
	    write_throttle(cg, r->block_io.throttle_read_iops, r->block_io.n_throttle_read_iops, "riops", err) ||
	    write_throttle(cg, r->block_io.throttle_write_iops, r->block_io.n_throttle_write_iops, "wiops", err))
		return -1;
	return 0;
}

static int write_hugetlb(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
{
	char name[64], buf[32];
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct sk_hugepage_limit *h = &r->hugepage_limits[i];
		snprintf(buf, sizeof(buf), "%" PRIu64, h->limit);
		snprintf(name, sizeof(name), "hugetlb.%s.max", h->page_size);
		if (sk_cgroup_write(cg, name, buf, err)) {
			if (err->errnum == ENOENT)
				return sk_error(err, 0, "linux.resources.hugepageLimits[%zu]: page size \"%s\" is not supported here"
						" (no %s in \"%s\")", i, h->page_size, name, cg->path);
			return -1;
		}
		/* The reservation limit (5.7+) is what the spec asks for first;
		 * kernels without it only have the fault-time limit above. */
		snprintf(name, sizeof(name), "hugetlb.%s.rsvd.max", h->page_size);
		if (sk_cgroup_write(cg, name, buf, err) && err->errnum != ENOENT)
			return -1;
	}
	return 0;
}

static int write_rdma(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
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
		if (sk_cgroup_write(cg, "rdma.max", buf, err))
			return -1;
	}
	return 0;
}

/* Values may hold several lines (io.max for two devices): the kernel takes
 * one per write. */
static int write_unified(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *key = r->unified[i].key, *v = r->unified[i].value ? r->unified[i].value : "";
		int fd = -1;
		while (*v) {
			size_t len = strcspn(v, "\n");
			if (len) {
				if (fd < 0 && (fd = openat(cg->dir_fd, key, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
					return sk_error(err, errno, "linux.resources.unified[\"%s\"]: open \"%s/%s\"",
							key, cg->path, key);
				if (write(fd, v, len) != (ssize_t)len) {
					int e = errno;
					close(fd);
					return sk_error(err, e, "linux.resources.unified[\"%s\"]: write \"%.*s\" to \"%s/%s\"",
							key, (int)(len > 80 ? 80 : len), v, cg->path, key);
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

int sk_cgroup_apply(const struct sk_cgroup *cg, const struct sk_resources *r, bool update, struct sk_err *err)
{
	struct sk_cgroup_needs needs;
	if (sk_cgroup_needs(r, &needs, err))
		return -1;
	if (needs.mask && sk_cgroup_enable(cg, &needs, err))
		return -1;
	if (r) {
		char buf[32];
		if (r->pids.present && r->pids.has_limit) {
			/* -1 (any negative) is "max".  0 is a limit only from
			 * runtime-spec 1.3 on (the parser made it -1 before):
			 * it becomes 1, as runc does, so that the init itself can
			 * enter the cgroup. */
			if (r->pids.limit < 0)
				snprintf(buf, sizeof(buf), "max");
			else
				snprintf(buf, sizeof(buf), "%" PRId64, r->pids.limit ? r->pids.limit : 1);
			if (sk_cgroup_write(cg, "pids.max", buf, err))
				return -1;
		}
		if (write_memory(cg, r, update, err) || write_io(cg, r, err) || write_cpu(cg, r, err) ||
		    write_hugetlb(cg, r, err) || write_rdma(cg, r, err) || write_unified(cg, r, err))
			return -1;
	}
	if (update && (!r || !r->n_devices))
		return 0;
	struct sk_bpf_prog prog;
	if (sk_cgroup_dev_build(r ? r->devices : NULL, r ? r->n_devices : 0, &prog, err))
		return -1;
	int rc = sk_cgroup_dev_install(cg->dir_fd, cg->path, &prog, update || !cg->created, err);
	sk_cgroup_dev_free(&prog);
	return rc;
}
