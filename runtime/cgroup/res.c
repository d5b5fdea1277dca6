/* cgroup_res: linux.resources checked against the hierarchies serving
 * them, and the v1 -> v2 conversions (see include/skiff/cgroup/res.h). */
#include "skiff/cgroup/res.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const ctrl_names[SK_CG_NCTRL] = {
	[SK_CG_CPU] = "cpu", [SK_CG_CPUSET] = "cpuset", [SK_CG_IO] = "io",
	[SK_CG_MEMORY] = "memory", [SK_CG_PIDS] = "pids", [SK_CG_HUGETLB] = "hugetlb",
	[SK_CG_RDMA] = "rdma", [SK_CG_MISC] = "misc", [SK_CG_CPUACCT] = "cpuacct", [SK_CG_DEVICES] = "devices",
	[SK_CG_FREEZER] = "freezer", [SK_CG_NET_CLS] = "net_cls", [SK_CG_NET_PRIO] = "net_prio",
	[SK_CG_PERF_EVENT] = "perf_event",
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
	for (int c = 0; c < SK_CG_V2_NCTRL; c++)
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

/* Fields only a v1 hierarchy has a file for: refused when cgroup2 serves
 * the controller (as crun does: better than running without the limit). */
static int v1_only(bool v1, const char *field, struct sk_err *err)
{
	return v1 ? 0 : sk_error(err, 0, "linux.resources.%s: not supported on cgroup v2", field);
}

static int needs_memory(const struct sk_resources *r, bool v1, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->memory.present)
		return 0;
	/* Kernel memory limits: written on v1 where the kernel still enforces
	 * them; otherwise ignored with a warning, as runc 1.1 does everywhere
	 * (the writers say so).  0 leaves them alone. */
	bool any = v1 && ((r->memory.has_kernel && r->memory.kernel) || (r->memory.has_kernel_tcp && r->memory.kernel_tcp));
	if (r->memory.has_swappiness) {
		if (v1_only(v1, "memory.swappiness", err))
			return -1;
		any = true;
	}
	if (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer) {
		if (v1_only(v1, "memory.disableOOMKiller", err))
			return -1;
		any = true;
	}
	if (r->memory.has_use_hierarchy) {
		if (!v1 && !r->memory.use_hierarchy)
			return sk_error(err, 0, "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
		any = any || v1;
	}
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
	if (any || limit || sw || (r->memory.has_reservation && r->memory.reservation))
		need(n, SK_CG_MEMORY, "linux.resources.memory", NULL);
	return 0;
}

static int needs_cpu(const struct sk_resources *r, bool v1, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->cpu.present)
		return 0;
	bool rt = false;
	if (r->cpu.has_realtime_runtime && r->cpu.realtime_runtime) {
		if (v1_only(v1, "cpu.realtimeRuntime", err))
			return -1;
		rt = true;
	}
	if (r->cpu.has_realtime_period && r->cpu.realtime_period) {
		if (v1_only(v1, "cpu.realtimePeriod", err))
			return -1;
		rt = true;
	}
	if (r->cpu.has_period && r->cpu.period > 1000000)
		return sk_error(err, 0, "linux.resources.cpu.period: %" PRIu64 " is above the kernel's 1000000 us", r->cpu.period);
	if (r->cpu.has_idle && r->cpu.idle != 0 && r->cpu.idle != 1)
		return sk_error(err, 0, "linux.resources.cpu.idle: must be 0 or 1");
	char max[48];
	sk_cgroup_cpu_max(r, max, sizeof(max));
	if ((r->cpu.has_shares && r->cpu.shares) || max[0] || r->cpu.has_burst || r->cpu.has_idle || rt)
		need(n, SK_CG_CPU, "linux.resources.cpu", NULL);
	if (r->cpu.cpus && *r->cpu.cpus)
		need(n, SK_CG_CPUSET, "linux.resources.cpu.cpus", NULL);
	if (r->cpu.mems && *r->cpu.mems)
		need(n, SK_CG_CPUSET, "linux.resources.cpu.mems", NULL);
	return 0;
}

static int needs_io(const struct sk_resources *r, bool v1, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->block_io.present)
		return 0;
	bool any = (r->block_io.has_weight && r->block_io.weight) || r->block_io.n_throttle_read_bps ||
		   r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
		   r->block_io.n_throttle_write_iops;
	if (r->block_io.has_leaf_weight && r->block_io.leaf_weight) {
		if (v1_only(v1, "blockIO.leafWeight", err))
			return -1;
		any = true;
	}
	if (r->block_io.has_weight && r->block_io.weight && (r->block_io.weight < 10 || r->block_io.weight > 1000))
		return sk_error(err, 0, "linux.resources.blockIO.weight: %u is outside 10..1000", r->block_io.weight);
	for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
		const struct sk_weight_device *d = &r->block_io.weight_device[i];
		/* 0 is docker's "unset". */
		bool w = d->has_weight && d->weight, lw = d->has_leaf_weight && d->leaf_weight;
		if (w && (d->weight < 10 || d->weight > 1000))
			return sk_error(err, 0, "linux.resources.blockIO.weightDevice[%zu].weight: %u is outside 10..1000",
					i, d->weight);
		any = any || w || (v1 && lw);
	}
	if (any)
		need(n, SK_CG_IO, "linux.resources.blockIO", NULL);
	return 0;
}

static int needs_network(const struct sk_resources *r, unsigned v1, struct sk_cgroup_needs *n, struct sk_err *err)
{
	if (!r->network.present)
		return 0;
	/* cgroup v2 has neither controller. */
	if (r->network.has_class_id) {
		if (!(v1 & (1u << SK_CG_NET_CLS)))
			return sk_error(err, 0, "linux.resources.network.classID: no net_cls hierarchy is mounted "
					"(cgroup v1 only)");
		need(n, SK_CG_NET_CLS, "linux.resources.network.classID", NULL);
	}
	if (r->network.n_priorities) {
		if (!(v1 & (1u << SK_CG_NET_PRIO)))
			return sk_error(err, 0, "linux.resources.network.priorities: no net_prio hierarchy is mounted "
					"(cgroup v1 only)");
		need(n, SK_CG_NET_PRIO, "linux.resources.network.priorities", NULL);
	}
	return 0;
}

static bool on(unsigned v1, enum sk_cgroup_ctrl c) { return v1 & (1u << c); }

int sk_cgroup_needs(const struct sk_resources *r, unsigned v1, bool v2, struct sk_cgroup_needs *n, struct sk_err *err)
{
	memset(n, 0, sizeof(*n));
	if (!r)
		return 0;
	if (needs_memory(r, on(v1, SK_CG_MEMORY), n, err) || needs_cpu(r, on(v1, SK_CG_CPU), n, err) ||
	    needs_io(r, on(v1, SK_CG_IO), n, err) || needs_network(r, v1, n, err))
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
	for (size_t i = 0; i < r->n_unified; i++) {
		int c;
		const char *key = r->unified[i].key;
		if (sk_cgroup_unified_key(key, &c, err))
			return -1;
		if (!v2)
			return sk_error(err, 0, "linux.resources.unified[\"%s\"]: this host has no cgroup2 hierarchy "
					"(cgroup v1 only)", key);
		if (c >= 0 && on(v1, (enum sk_cgroup_ctrl)c))
			return sk_error(err, 0, "linux.resources.unified[\"%s\"]: the %s controller is a cgroup v1 one "
					"on this host", key, sk_cgroup_ctrl_name((enum sk_cgroup_ctrl)c));
		if (c >= 0)
			need(n, (enum sk_cgroup_ctrl)c, NULL, key);
	}
	return 0;
}
