/* spec_resources: linux.resources of config.json (struct sk_resources),
 * the cgroup limits: devices, memory, cpu, pids, block I/O, huge pages,
 * RDMA, network, unified.  Docker's and Go's sentinels for "unset" are read
 * as runc reads them. */
#include "skiff/spec/parse.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int parse_device_rule(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_device_rule *r = out;
	char *access = NULL;
	bool opt;
	r->type = 'a';
	r->major = r->minor = -1;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_bool(c, v, "allow", NULL, &r->allow) ||
	    sk_spec_get_dev_type(c, v, false, "acb", &r->type) ||
	    sk_jget_i64(c, v, "major", -1, UINT32_MAX, &opt, &r->major) ||
	    sk_jget_i64(c, v, "minor", -1, UINT32_MAX, &opt, &r->minor) ||
	    sk_jget_str(c, v, "access", false, &access))
		return -1;
	if (!access)
		return 0;
	/* Kept as a subset of "rwm" in that order, whatever order was given. */
	bool bad = access[strspn(access, "rwm")] != '\0';
	size_t n = 0;
	for (const char *p = "rwm"; *p; p++)
		if (strchr(access, *p))
			r->access[n++] = *p;
	r->access[n] = '\0';
	if (bad) {
		char q[SK_JQUOTE_MAX];
		sk_jenter_key(c, "access");
		sk_jfail(c, "invalid access %s (must be a combination of r, w and m)", sk_jquote(q, access));
	}
	free(access);
	return bad ? -1 : 0;
}

/* 0..100, or Go's uint64(-1), which docker sends for "unset" and runc reads
 * so. */
static int get_swappiness(struct sk_jwalk *c, const struct sk_jv *o, bool *has, uint64_t *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, "swappiness", &mark);
	int r = 0;
	if (!v)
		r = sk_jabsent(c, has);
	else if (sk_jto_u64(c, v, UINT64_MAX, out) || (*out > 100 && *out != UINT64_MAX))
		r = sk_jfail(c, "must be an integer in range 0..100 (or %" PRIu64 ": unset)", UINT64_MAX);
	else
		*has = *out != UINT64_MAX;
	sk_jleave(c, mark);
	return r;
}

static int parse_memory(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->memory.has_limit, &r->memory.limit) ||
	    sk_jget_i64(c, v, "reservation", INT64_MIN, INT64_MAX, &r->memory.has_reservation, &r->memory.reservation) ||
	    sk_jget_i64(c, v, "swap", INT64_MIN, INT64_MAX, &r->memory.has_swap, &r->memory.swap) ||
	    sk_jget_i64(c, v, "kernel", INT64_MIN, INT64_MAX, &r->memory.has_kernel, &r->memory.kernel) ||
	    sk_jget_i64(c, v, "kernelTCP", INT64_MIN, INT64_MAX, &r->memory.has_kernel_tcp, &r->memory.kernel_tcp) ||
	    get_swappiness(c, v, &r->memory.has_swappiness, &r->memory.swappiness) ||
	    sk_jget_bool(c, v, "disableOOMKiller", &r->memory.has_disable_oom_killer, &r->memory.disable_oom_killer) ||
	    sk_jget_bool(c, v, "useHierarchy", &r->memory.has_use_hierarchy, &r->memory.use_hierarchy) ||
	    sk_jget_bool(c, v, "checkBeforeUpdate", &r->memory.has_check_before_update, &r->memory.check_before_update))
		return -1;
	return 0;
}

static int parse_cpu(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u64(c, v, "shares", UINT64_MAX, &r->cpu.has_shares, &r->cpu.shares) ||
	    sk_jget_i64(c, v, "quota", INT64_MIN, INT64_MAX, &r->cpu.has_quota, &r->cpu.quota) ||
	    sk_jget_u64(c, v, "burst", UINT64_MAX, &r->cpu.has_burst, &r->cpu.burst) ||
	    sk_jget_u64(c, v, "period", UINT64_MAX, &r->cpu.has_period, &r->cpu.period) ||
	    sk_jget_i64(c, v, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu.has_realtime_runtime, &r->cpu.realtime_runtime) ||
	    sk_jget_u64(c, v, "realtimePeriod", UINT64_MAX, &r->cpu.has_realtime_period, &r->cpu.realtime_period) ||
	    sk_jget_str(c, v, "cpus", false, &r->cpu.cpus) ||
	    sk_jget_str(c, v, "mems", false, &r->cpu.mems) ||
	    sk_jget_i64(c, v, "idle", INT64_MIN, INT64_MAX, &r->cpu.has_idle, &r->cpu.idle))
		return -1;
	return 0;
}

static int parse_pids(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->pids.has_limit, &r->pids.limit))
		return -1;
	return 0;
}

static int get_dev_numbers(struct sk_jwalk *c, const struct sk_jv *v, int64_t *major, int64_t *minor)
{
	if (sk_jget_i64(c, v, "major", 0, UINT32_MAX, NULL, major) ||
	    sk_jget_i64(c, v, "minor", 0, UINT32_MAX, NULL, minor))
		return -1;
	return 0;
}

/* A 10..1000 cgroup v1 blkio weight, or 0: unset, as runc reads it (docker
 * sends "weight": 0 in every config). */
static int get_weight(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool *has, uint16_t *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int64_t x = 0;
	int r = 0;
	if (!v)
		r = sk_jabsent(c, has);
	else if (!sk_jis_int(v) || sk_jto_i64(c, v, INT64_MIN, INT64_MAX, &x) || (x != 0 && (x < 10 || x > 1000)))
		r = sk_jfail(c, "must be 0 (unset) or an integer in range 10..1000");
	else
		*out = (uint16_t)x;
	if (v && has)
		*has = true;
	sk_jleave(c, mark);
	return r;
}

static int parse_weight_device(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_weight_device *w = out;
	if (sk_jwant_obj(c, v) ||
	    get_dev_numbers(c, v, &w->major, &w->minor) ||
	    get_weight(c, v, "weight", &w->has_weight, &w->weight) ||
	    get_weight(c, v, "leafWeight", &w->has_leaf_weight, &w->leaf_weight))
		return -1;
	if (!w->has_weight && !w->has_leaf_weight)
		return sk_jfail(c, "must have weight or leafWeight");
	return 0;
}

static int parse_throttle(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_throttle_device *t = out;
	if (sk_jwant_obj(c, v) ||
	    get_dev_numbers(c, v, &t->major, &t->minor) ||
	    sk_jget_u64(c, v, "rate", UINT64_MAX, NULL, &t->rate))
		return -1;
	return 0;
}

static int parse_block_io(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	typeof(r->block_io) *b = &r->block_io;
	if (sk_jwant_obj(c, v) ||
	    get_weight(c, v, "weight", &b->has_weight, &b->weight) ||
	    get_weight(c, v, "leafWeight", &b->has_leaf_weight, &b->leaf_weight) ||
	    sk_jget_list(c, v, "weightDevice", sizeof(*b->weight_device), &b->weight_device,
		         &b->n_weight_device, parse_weight_device) ||
	    sk_jget_list(c, v, "throttleReadBpsDevice", sizeof(*b->throttle_read_bps), &b->throttle_read_bps,
		         &b->n_throttle_read_bps, parse_throttle) ||
	    sk_jget_list(c, v, "throttleWriteBpsDevice", sizeof(*b->throttle_write_bps), &b->throttle_write_bps,
		         &b->n_throttle_write_bps, parse_throttle) ||
	    sk_jget_list(c, v, "throttleReadIOPSDevice", sizeof(*b->throttle_read_iops), &b->throttle_read_iops,
		         &b->n_throttle_read_iops, parse_throttle) ||
	    sk_jget_list(c, v, "throttleWriteIOPSDevice", sizeof(*b->throttle_write_iops), &b->throttle_write_iops,
		         &b->n_throttle_write_iops, parse_throttle))
		return -1;
	return 0;
}

static int parse_hugepage(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_hugepage_limit *h = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_str(c, v, "pageSize", true, &h->page_size) ||
	    sk_jget_u64(c, v, "limit", UINT64_MAX, NULL, &h->limit))
		return -1;
	/* It becomes part of a cgroup file name. */
	if (!sk_spec_page_size_ok(h->page_size)) {
		char q[SK_JQUOTE_MAX];
		sk_jenter_key(c, "pageSize");
		return sk_jfail(c, "invalid page size %s (expected e.g. \"2MB\")", sk_jquote(q, h->page_size));
	}
	return 0;
}

static int parse_rdma(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	if (sk_jwant_obj(c, v))
		return -1;
	if (v->n) {
		if (!(r->rdma = calloc(v->n, sizeof(*r->rdma))))
			return sk_joom(c);
		r->n_rdma = v->n;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct sk_jv *item = &v->u.items[i];
		struct sk_rdma_limit *l = &r->rdma[i];
		size_t mark = sk_jenter_map_key(c, item->key);
		if (sk_spec_check_word(c, item->key) ||
		    sk_jdup(c, item->key, &l->device) ||
		    sk_jwant_obj(c, item) ||
		    sk_jget_u32(c, item, "hcaHandles", UINT32_MAX, &l->has_hca_handles, &l->hca_handles) ||
		    sk_jget_u32(c, item, "hcaObjects", UINT32_MAX, &l->has_hca_objects, &l->hca_objects))
			return -1;
		if (!l->has_hca_handles && !l->has_hca_objects)
			return sk_jfail(c, "must have hcaHandles or hcaObjects");
		sk_jleave(c, mark);
	}
	return 0;
}

static int parse_net_prio(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_net_prio *p = out;
	size_t mark;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_str(c, v, "name", true, &p->name) ||
	    sk_jget_u32(c, v, "priority", UINT32_MAX, NULL, &p->priority))
		return -1;
	mark = sk_jenter_key(c, "name");
	if (sk_spec_check_word(c, p->name))
		return -1;
	sk_jleave(c, mark);
	return 0;
}

static int parse_network(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u32(c, v, "classID", UINT32_MAX, &r->network.has_class_id, &r->network.class_id) ||
	    sk_jget_list(c, v, "priorities", sizeof(*r->network.priorities), &r->network.priorities,
		         &r->network.n_priorities, parse_net_prio))
		return -1;
	return 0;
}

int sk_spec_read_resources(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_resources *r = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_list(c, v, "devices", sizeof(*r->devices), &r->devices, &r->n_devices, parse_device_rule) ||
	    sk_jget_obj(c, v, "memory", &r->memory.present, parse_memory, r) ||
	    sk_jget_obj(c, v, "cpu", &r->cpu.present, parse_cpu, r) ||
	    sk_jget_obj(c, v, "pids", &r->pids.present, parse_pids, r) ||
	    sk_jget_obj(c, v, "blockIO", &r->block_io.present, parse_block_io, r) ||
	    sk_jget_list(c, v, "hugepageLimits", sizeof(*r->hugepage_limits), &r->hugepage_limits,
		         &r->n_hugepage_limits, parse_hugepage) ||
	    sk_jget_obj(c, v, "rdma", &opt, parse_rdma, r) ||
	    sk_jget_obj(c, v, "network", &r->network.present, parse_network, r) ||
	    sk_spec_get_kv(c, v, "unified", &r->unified, &r->n_unified, sk_spec_check_unified_key))
		return -1;
	return 0;
}

void sk_spec_free_resources(struct sk_resources *r)
{
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->block_io.weight_device);
	free(r->block_io.throttle_read_bps);
	free(r->block_io.throttle_write_bps);
	free(r->block_io.throttle_read_iops);
	free(r->block_io.throttle_write_iops);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	for (size_t i = 0; i < r->network.n_priorities; i++)
		free(r->network.priorities[i].name);
	free(r->network.priorities);
	sk_spec_free_kv(r->unified, r->n_unified);
}
