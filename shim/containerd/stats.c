/* The container's cgroup counters (stats.h). */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/metrics_v1.pb-c.h"
#include "containerd/metrics_v2.pb-c.h"
#include "skiff/base/util.h"

#define CG "/sys/fs/cgroup"

/* The cgroup of pid in hierarchy ctrl ("" for the unified one), as a
 * directory under CG. */
static int cgroup_dir(pid_t pid, const char *ctrl, char *out, size_t cap)
{
	char path[64], buf[4096];
	struct sk_err e;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), &e) < 0)
		return -1;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0'; /* l: the hierarchy's number, c1 + 1: its controllers */
		bool match = false;
		if (!*ctrl) {
			match = !strcmp(l, "0") && c1[1] == '\0';
		} else {
			for (char *s2 = NULL, *n = strtok_r(c1 + 1, ",", &s2); n && !match; n = strtok_r(NULL, ",", &s2))
				match = !strcmp(n, ctrl);
		}
		if (match && !strstr(c2 + 1, "..")) {
			int n = snprintf(out, cap, CG "%s%s%s", *ctrl ? "/" : "", ctrl, c2 + 1);
			return n > 0 && (size_t)n < cap ? 0 : -1;
		}
	}
	return -1;
}

/* A number file: "max" (no limit) is 0, as containerd reports it. */
static bool read_u64(const char *dir, const char *name, uint64_t *v)
{
	char path[PATH_MAX], buf[64];
	struct sk_err e;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), &e) <= 0)
		return false;
	*v = strncmp(buf, "max", 3) ? strtoull(buf, NULL, 10) : 0;
	return true;
}

/* "key value" lines into msg's uint64 fields of the same name (renamed
 * ones through ren, pairs of file key and field name). */
static bool read_keyed(const char *dir, const char *name, ProtobufCMessage *msg, const char *const *ren)
{
	char path[PATH_MAX], buf[8192];
	struct sk_err e;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), &e) <= 0)
		return false;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		const char *key = l;
		for (size_t i = 0; ren && ren[i]; i += 2)
			if (!strcmp(ren[i], key))
				key = ren[i + 1];
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, key);
		if (f && f->type == PROTOBUF_C_TYPE_UINT64 && f->label != PROTOBUF_C_LABEL_REPEATED)
			*(uint64_t *)((char *)msg + f->offset) = strtoull(sp + 1, NULL, 10);
	}
	return true;
}

static int pack_any(const ProtobufCMessage *m, const char *type, Google__Protobuf__Any **out, struct sk_err *err)
{
	Google__Protobuf__Any *a = malloc(sizeof(*a));
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	char *t = strdup(type);
	if (!a || !buf || !t) {
		free(a);
		free(buf);
		free(t);
		return sk_error(err, ENOMEM, "stats");
	}
	google__protobuf__any__init(a);
	protobuf_c_message_pack(m, buf);
	a->type_url = t;
	a->value.data = buf;
	a->value.len = len;
	*out = a;
	return 0;
}

static int stats_v2(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err)
{
	char dir[PATH_MAX];
	if (cgroup_dir(pid, "", dir, sizeof(dir)) < 0)
		return sk_error(err, ENOENT, "the cgroup of %d", pid);
	Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryEvents ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	if (read_u64(dir, "pids.current", &pids.current)) {
		read_u64(dir, "pids.max", &pids.limit);
		m.pids = &pids;
	}
	if (read_keyed(dir, "cpu.stat", &cpu.base, NULL))
		m.cpu = &cpu;
	if (read_keyed(dir, "memory.stat", &mem.base, NULL)) {
		read_u64(dir, "memory.current", &mem.usage);
		read_u64(dir, "memory.max", &mem.usage_limit);
		read_u64(dir, "memory.swap.current", &mem.swap_usage);
		read_u64(dir, "memory.swap.max", &mem.swap_limit);
		m.memory = &mem;
	}
	if (read_keyed(dir, "memory.events", &ev.base, NULL))
		m.memory_events = &ev;
	return pack_any(&m.base, "io.containerd.cgroups.v2.Metrics", out, err);
}

static int stats_v1(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err)
{
	static const char *const ren[] = {
		"pgpgin", "pg_pg_in", "pgpgout", "pg_pg_out", "pgfault", "pg_fault", "pgmajfault", "pg_maj_fault",
		"total_pgpgin", "total_pg_pg_in", "total_pgpgout", "total_pg_pg_out", "total_pgfault",
		"total_pg_fault", "total_pgmajfault", "total_pg_maj_fault", "hierarchical_memsw_limit",
		"hierarchical_swap_limit", NULL,
	};
	char dir[PATH_MAX];
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Io__Containerd__Cgroups__V1__Throttle thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry sw = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	if (cgroup_dir(pid, "pids", dir, sizeof(dir)) == 0 && read_u64(dir, "pids.current", &pids.current)) {
		read_u64(dir, "pids.max", &pids.limit);
		m.pids = &pids;
	}
	if (cgroup_dir(pid, "cpuacct", dir, sizeof(dir)) == 0 && read_u64(dir, "cpuacct.usage", &usage.total)) {
		uint64_t u = 0, s = 0;
		if (read_u64(dir, "cpuacct.usage_user", &u) && read_u64(dir, "cpuacct.usage_sys", &s)) {
			usage.user = u;
			usage.kernel = s;
		}
		cpu.usage = &usage;
		m.cpu = &cpu;
	}
	if (cgroup_dir(pid, "cpu", dir, sizeof(dir)) == 0 && read_keyed(dir, "cpu.stat", &thr.base, (const char *const[]){
		"nr_periods", "periods", "nr_throttled", "throttled_periods", NULL })) {
		cpu.throttling = &thr;
		m.cpu = &cpu;
	}
	if (cgroup_dir(pid, "memory", dir, sizeof(dir)) == 0 && read_keyed(dir, "memory.stat", &mem.base, ren)) {
		read_u64(dir, "memory.usage_in_bytes", &mu.usage);
		read_u64(dir, "memory.limit_in_bytes", &mu.limit);
		read_u64(dir, "memory.max_usage_in_bytes", &mu.max);
		read_u64(dir, "memory.failcnt", &mu.failcnt);
		mem.usage = &mu;
		if (read_u64(dir, "memory.memsw.usage_in_bytes", &sw.usage)) {
			read_u64(dir, "memory.memsw.limit_in_bytes", &sw.limit);
			mem.swap = &sw;
		}
		m.memory = &mem;
	}
	return pack_any(&m.base, "io.containerd.cgroups.v1.Metrics", out, err);
}

int ctrd_stats(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err)
{
	struct stat st;
	if (stat(CG "/cgroup.controllers", &st) == 0)
		return stats_v2(pid, out, err);
	return stats_v1(pid, out, err);
}
