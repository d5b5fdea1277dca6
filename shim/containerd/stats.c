/* The container's cgroup counters (stats.h). */
#include "stats.h"

#include <dirent.h>
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
#include "skiff/cgroup/cgroup.h"

/* Whether s, a comma list, has the name n. */
static bool in_list(const char *s, const char *n)
{
	size_t l = strlen(n);
	for (const char *p = s; (p = strstr(p, n)); p += l)
		if ((p == s || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
			return true;
	return false;
}

/* The cgroup of pid in the hierarchy of controller ctrl ("" for the
 * unified one), as a directory on the host: its mount point and its path
 * from /proc/PID/cgroup (relative to the mounted root). */
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
		const char *rel = c2 + 1, *mount = NULL;
		if (strstr(rel, ".."))
			continue;
		if (!*ctrl) {
			if (strcmp(l, "0") || c1[1] || sk_cgroup_mount_find(&mount, &e) < 0)
				continue;
		} else {
			if (!in_list(c1 + 1, ctrl))
				continue;
			const struct sk_cgroup_v1_mount *m;
			size_t n;
			if (sk_cgroup_v1_mounts(&m, &n, &e) < 0)
				return -1;
			for (size_t i = 0; i < n && !mount; i++) {
				if (!in_list(m[i].name, ctrl))
					continue;
				mount = m[i].mount;
				size_t rl = strlen(m[i].root);
				if (strcmp(m[i].root, "/") && !strncmp(rel, m[i].root, rl) && (!rel[rl] || rel[rl] == '/'))
					rel += rl;
			}
			if (!mount)
				return -1;
		}
		int k = snprintf(out, cap, "%s%s", mount, rel);
		return k > 0 && (size_t)k < cap ? 0 : -1;
	}
	return -1;
}

/* A number file; "max" (no limit) is max_is: containerd reports v1's as 0
 * and v2's as UINT64_MAX. */
static bool read_u64(const char *dir, const char *name, uint64_t *v, uint64_t max_is)
{
	char path[PATH_MAX], buf[64];
	struct sk_err e;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), &e) <= 0)
		return false;
	*v = strncmp(buf, "max", 3) ? strtoull(buf, NULL, 10) : max_is;
	return true;
}

/* What a Stats answer points to, freed once it is packed. */
struct arena {
	void **p;
	size_t n, cap;
	bool failed;
};

static void *grab(struct arena *a, size_t size)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		void **p = realloc(a->p, cap * sizeof(*p));
		if (!p) {
			a->failed = true;
			return NULL;
		}
		a->p = p;
		a->cap = cap;
	}
	void *m = calloc(1, size);
	if (!m)
		a->failed = true;
	else
		a->p[a->n++] = m;
	return m;
}

static char *grab_str(struct arena *a, const char *s)
{
	char *d = grab(a, strlen(s) + 1);
	return d ? strcpy(d, s) : (char *)"";
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

/* A file's lines, in buf. */
static bool read_lines(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX];
	struct sk_err e;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	return n > 0 && (size_t)n < sizeof(path) && sk_read_small_at(AT_FDCWD, path, buf, cap, &e) >= 0;
}

/* Append to a repeated field (an array of pointers, grown by one). */
static void *push(struct arena *a, size_t *n, void ***arr, size_t size)
{
	void **na = grab(a, (*n + 1) * sizeof(void *));
	void *e = grab(a, size);
	if (!na || !e)
		return NULL;
	if (*n)
		memcpy(na, *arr, *n * sizeof(void *));
	na[(*n)++] = e;
	*arr = na;
	return e;
}

/* rdma.current or rdma.max: "DEV hca_handle=N hca_object=N" ("max" is
 * UINT32_MAX), containerd's RdmaEntry in both versions. */
static void read_rdma(struct arena *a, const char *dir, const char *name, size_t *n, void ***arr, size_t esize,
		      const ProtobufCMessageDescriptor *d)
{
	char buf[4096];
	if (!read_lines(dir, name, buf, sizeof(buf)))
		return;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char dev[256], k1[32], k2[32];
		if (sscanf(l, "%255s %31s %31s", dev, k1, k2) != 3)
			continue;
		ProtobufCMessage *m = push(a, n, arr, esize);
		if (!m)
			return;
		protobuf_c_message_init(d, m);
		const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(d, "device");
		*(char **)((char *)m + fd->offset) = grab_str(a, dev);
		const char *kv[] = { k1, k2 };
		for (int i = 0; i < 2; i++) {
			const char *eq = strchr(kv[i], '=');
			if (!eq)
				continue;
			uint32_t v = strcmp(eq + 1, "max") ? (uint32_t)strtoul(eq + 1, NULL, 10) : UINT32_MAX;
			const char *field = !strncmp(kv[i], "hca_handle=", 11) ? "hca_handles"
					    : !strncmp(kv[i], "hca_object=", 11) ? "hca_objects" : NULL;
			if (field) {
				fd = protobuf_c_message_descriptor_get_field_by_name(d, field);
				*(uint32_t *)((char *)m + fd->offset) = v;
			}
		}
	}
}

static int cmp_size(const void *x, const void *y)
{
	return strcmp(x, y);
}

/* The page sizes of the hugetlb files in dir ("2MB", "1GB"), sorted, as
 * containerd lists them. */
static size_t huge_sizes(const char *dir, const char *suffix, char sizes[][16], size_t max)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		const char *nm = de->d_name;
		if (strncmp(nm, "hugetlb.", 8))
			continue;
		const char *dot = strchr(nm + 8, '.');
		if (!dot || strcmp(dot + 1, suffix) || (size_t)(dot - nm - 8) >= 16)
			continue;
		memcpy(sizes[n], nm + 8, (size_t)(dot - nm - 8));
		sizes[n][dot - nm - 8] = '\0';
		n++;
	}
	closedir(d);
	qsort(sizes, n, sizeof(sizes[0]), cmp_size);
	return n;
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

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." */
static void v2_io(struct arena *a, const char *dir, Io__Containerd__Cgroups__V2__IOStat *io)
{
	char buf[8192];
	if (!read_lines(dir, "io.stat", buf, sizeof(buf)))
		return;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long maj, min;
		int off;
		if (sscanf(l, "%llu:%llu%n", &maj, &min, &off) != 2)
			continue;
		Io__Containerd__Cgroups__V2__IOEntry *e = push(a, &io->n_usage, (void ***)&io->usage, sizeof(*e));
		if (!e)
			return;
		io__containerd__cgroups__v2__ioentry__init(e);
		e->major = maj;
		e->minor = min;
		for (char *s2 = NULL, *kv = strtok_r(l + off, " ", &s2); kv; kv = strtok_r(NULL, " ", &s2)) {
			char *eq = strchr(kv, '=');
			if (!eq)
				continue;
			*eq = '\0';
			uint64_t v = strtoull(eq + 1, NULL, 10);
			if (!strcmp(kv, "rbytes"))
				e->rbytes = v;
			else if (!strcmp(kv, "wbytes"))
				e->wbytes = v;
			else if (!strcmp(kv, "rios"))
				e->rios = v;
			else if (!strcmp(kv, "wios"))
				e->wios = v;
		}
	}
}

static void v2_hugetlb(struct arena *a, const char *dir, Io__Containerd__Cgroups__V2__Metrics *m)
{
	char sizes[8][16];
	size_t n = huge_sizes(dir, "current", sizes, 8);
	for (size_t i = 0; i < n; i++) {
		Io__Containerd__Cgroups__V2__HugeTlbStat *h = push(a, &m->n_hugetlb, (void ***)&m->hugetlb, sizeof(*h));
		if (!h)
			return;
		io__containerd__cgroups__v2__huge_tlb_stat__init(h);
		h->pagesize = grab_str(a, sizes[i]);
		char name[48];
		snprintf(name, sizeof(name), "hugetlb.%s.current", sizes[i]);
		read_u64(dir, name, &h->current, UINT64_MAX);
		snprintf(name, sizeof(name), "hugetlb.%s.max", sizes[i]);
		read_u64(dir, name, &h->max, UINT64_MAX);
	}
}

static int stats_v2(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err)
{
	char dir[PATH_MAX];
	if (cgroup_dir(pid, "", dir, sizeof(dir)) < 0)
		return sk_error(err, ENOENT, "the cgroup of %d", pid);
	struct arena a = { 0 };
	Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryEvents ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	Io__Containerd__Cgroups__V2__IOStat io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	Io__Containerd__Cgroups__V2__RdmaStat rdma = IO__CONTAINERD__CGROUPS__V2__RDMA_STAT__INIT;
	/* pids, cpu and memory always, zeros for a controller the cgroup
	 * lacks, as containerd's own shim answers. */
	read_u64(dir, "pids.current", &pids.current, UINT64_MAX);
	read_u64(dir, "pids.max", &pids.limit, UINT64_MAX);
	m.pids = &pids;
	read_keyed(dir, "cpu.stat", &cpu.base, NULL);
	m.cpu = &cpu;
	read_keyed(dir, "memory.stat", &mem.base, NULL);
	read_u64(dir, "memory.current", &mem.usage, UINT64_MAX);
	read_u64(dir, "memory.max", &mem.usage_limit, UINT64_MAX);
	read_u64(dir, "memory.swap.current", &mem.swap_usage, UINT64_MAX);
	read_u64(dir, "memory.swap.max", &mem.swap_limit, UINT64_MAX);
	m.memory = &mem;
	if (read_keyed(dir, "memory.events", &ev.base, NULL))
		m.memory_events = &ev;
	/* Always there, empty without the controller, as containerd's. */
	v2_io(&a, dir, &io);
	m.io = &io;
	read_rdma(&a, dir, "rdma.current", &rdma.n_current, (void ***)&rdma.current,
		  sizeof(Io__Containerd__Cgroups__V2__RdmaEntry), &io__containerd__cgroups__v2__rdma_entry__descriptor);
	read_rdma(&a, dir, "rdma.max", &rdma.n_limit, (void ***)&rdma.limit,
		  sizeof(Io__Containerd__Cgroups__V2__RdmaEntry), &io__containerd__cgroups__v2__rdma_entry__descriptor);
	m.rdma = &rdma;
	v2_hugetlb(&a, dir, &m);
	int r = a.failed ? sk_error(err, ENOMEM, "stats") : pack_any(&m.base, "io.containerd.cgroups.v2.Metrics", out, err);
	arena_free(&a);
	return r;
}

/* blkio.NAME: "MAJ:MIN OP VALUE" or "MAJ:MIN VALUE" lines ("Total N"
 * skipped); devices named from /proc/partitions, as containerd does. */
static void v1_blkio_file(struct arena *a, const char *dir, const char *name, size_t *n,
			  Io__Containerd__Cgroups__V1__BlkIOEntry ***arr, const char *parts)
{
	char buf[16384], file[64];
	snprintf(file, sizeof(file), "blkio.%s", name);
	if (!read_lines(dir, file, buf, sizeof(buf)))
		return;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long maj, min, v;
		char op[32] = "";
		if (sscanf(l, "%llu:%llu %31s %llu", &maj, &min, op, &v) != 4) {
			op[0] = '\0';
			if (sscanf(l, "%llu:%llu %llu", &maj, &min, &v) != 3)
				continue;
		}
		Io__Containerd__Cgroups__V1__BlkIOEntry *e = push(a, n, (void ***)arr, sizeof(*e));
		if (!e)
			return;
		io__containerd__cgroups__v1__blk_ioentry__init(e);
		e->major = maj;
		e->minor = min;
		e->value = v;
		e->op = grab_str(a, op);
		/* "MAJ MIN BLOCKS NAME" lines after a header. */
		char dev[64] = "";
		for (const char *p = parts; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			unsigned long long pm, pn;
			char nm[32];
			if (sscanf(p, "%llu %llu %*u %31s", &pm, &pn, nm) == 3 && pm == maj && pn == min) {
				snprintf(dev, sizeof(dev), "/dev/%s", nm);
				break;
			}
		}
		e->device = grab_str(a, dev);
	}
}

static void v1_blkio(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__BlkIOStat *b)
{
	static char parts[8192];
	struct sk_err e;
	if (sk_read_small_at(AT_FDCWD, "/proc/partitions", parts, sizeof(parts), &e) < 0)
		parts[0] = '\0';
	/* The CFQ/BFQ files where the kernel has them, else the throttle
	 * counters, which every kernel keeps. */
	char probe[PATH_MAX];
	int k = snprintf(probe, sizeof(probe), "%s/blkio.io_serviced_recursive", dir);
	if (k > 0 && (size_t)k < sizeof(probe) && access(probe, F_OK) == 0) {
		v1_blkio_file(a, dir, "sectors_recursive", &b->n_sectors_recursive, &b->sectors_recursive, parts);
		v1_blkio_file(a, dir, "io_service_bytes_recursive", &b->n_io_service_bytes_recursive,
			      &b->io_service_bytes_recursive, parts);
		v1_blkio_file(a, dir, "io_serviced_recursive", &b->n_io_serviced_recursive, &b->io_serviced_recursive,
			      parts);
		v1_blkio_file(a, dir, "io_queued_recursive", &b->n_io_queued_recursive, &b->io_queued_recursive, parts);
		v1_blkio_file(a, dir, "io_service_time_recursive", &b->n_io_service_time_recursive,
			      &b->io_service_time_recursive, parts);
		v1_blkio_file(a, dir, "io_wait_time_recursive", &b->n_io_wait_time_recursive,
			      &b->io_wait_time_recursive, parts);
		v1_blkio_file(a, dir, "io_merged_recursive", &b->n_io_merged_recursive, &b->io_merged_recursive, parts);
		v1_blkio_file(a, dir, "time_recursive", &b->n_io_time_recursive, &b->io_time_recursive, parts);
		if (b->n_sectors_recursive + b->n_io_service_bytes_recursive + b->n_io_serviced_recursive +
		    b->n_io_queued_recursive + b->n_io_service_time_recursive + b->n_io_wait_time_recursive +
		    b->n_io_merged_recursive + b->n_io_time_recursive)
			return;
	}
	v1_blkio_file(a, dir, "throttle.io_serviced", &b->n_io_serviced_recursive, &b->io_serviced_recursive, parts);
	v1_blkio_file(a, dir, "throttle.io_service_bytes", &b->n_io_service_bytes_recursive,
		      &b->io_service_bytes_recursive, parts);
}

static void v1_hugetlb(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__Metrics *m)
{
	char sizes[8][16];
	size_t n = huge_sizes(dir, "usage_in_bytes", sizes, 8);
	for (size_t i = 0; i < n; i++) {
		Io__Containerd__Cgroups__V1__HugetlbStat *h = push(a, &m->n_hugetlb, (void ***)&m->hugetlb, sizeof(*h));
		if (!h)
			return;
		io__containerd__cgroups__v1__hugetlb_stat__init(h);
		h->pagesize = grab_str(a, sizes[i]);
		char name[64];
		snprintf(name, sizeof(name), "hugetlb.%s.usage_in_bytes", sizes[i]);
		read_u64(dir, name, &h->usage, 0);
		snprintf(name, sizeof(name), "hugetlb.%s.max_usage_in_bytes", sizes[i]);
		read_u64(dir, name, &h->max, 0);
		snprintf(name, sizeof(name), "hugetlb.%s.failcnt", sizes[i]);
		read_u64(dir, name, &h->failcnt, 0);
	}
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
	struct arena a = { 0 };
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Io__Containerd__Cgroups__V1__Throttle thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry sw = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry km = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry kt = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryOomControl oomc = IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
	Io__Containerd__Cgroups__V1__BlkIOStat blkio = IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
	Io__Containerd__Cgroups__V1__RdmaStat rdma = IO__CONTAINERD__CGROUPS__V1__RDMA_STAT__INIT;
	if (cgroup_dir(pid, "pids", dir, sizeof(dir)) == 0 && read_u64(dir, "pids.current", &pids.current, 0)) {
		read_u64(dir, "pids.max", &pids.limit, 0);
		m.pids = &pids;
	}
	if (cgroup_dir(pid, "cpuacct", dir, sizeof(dir)) == 0 && read_u64(dir, "cpuacct.usage", &usage.total, 0)) {
		uint64_t u = 0, s = 0;
		if (read_u64(dir, "cpuacct.usage_user", &u, 0) && read_u64(dir, "cpuacct.usage_sys", &s, 0)) {
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
		/* memory.{,memsw.,kmem.,kmem.tcp.}{usage_in_bytes,...}: memsw
		 * only with swap accounting. */
		struct { const char *mod; Io__Containerd__Cgroups__V1__MemoryEntry *e, **at; } ents[] = {
			{ "", &mu, &mem.usage }, { "memsw.", &sw, &mem.swap },
			{ "kmem.", &km, &mem.kernel }, { "kmem.tcp.", &kt, &mem.kernel_tcp },
		};
		for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			char f[64];
			snprintf(f, sizeof(f), "memory.%susage_in_bytes", ents[i].mod);
			if (!read_u64(dir, f, &ents[i].e->usage, 0) && i)
				continue;
			snprintf(f, sizeof(f), "memory.%smax_usage_in_bytes", ents[i].mod);
			read_u64(dir, f, &ents[i].e->max, 0);
			snprintf(f, sizeof(f), "memory.%sfailcnt", ents[i].mod);
			read_u64(dir, f, &ents[i].e->failcnt, 0);
			snprintf(f, sizeof(f), "memory.%slimit_in_bytes", ents[i].mod);
			read_u64(dir, f, &ents[i].e->limit, 0);
			*ents[i].at = ents[i].e;
		}
		m.memory = &mem;
		if (read_keyed(dir, "memory.oom_control", &oomc.base, NULL))
			m.memory_oom_control = &oomc;
	}
	if (cgroup_dir(pid, "blkio", dir, sizeof(dir)) == 0) {
		v1_blkio(&a, dir, &blkio);
		m.blkio = &blkio;
	}
	if (cgroup_dir(pid, "hugetlb", dir, sizeof(dir)) == 0)
		v1_hugetlb(&a, dir, &m);
	if (cgroup_dir(pid, "rdma", dir, sizeof(dir)) == 0) {
		read_rdma(&a, dir, "rdma.current", &rdma.n_current, (void ***)&rdma.current,
			  sizeof(Io__Containerd__Cgroups__V1__RdmaEntry), &io__containerd__cgroups__v1__rdma_entry__descriptor);
		read_rdma(&a, dir, "rdma.max", &rdma.n_limit, (void ***)&rdma.limit,
			  sizeof(Io__Containerd__Cgroups__V1__RdmaEntry), &io__containerd__cgroups__v1__rdma_entry__descriptor);
		m.rdma = &rdma;
	}
	int r = a.failed ? sk_error(err, ENOMEM, "stats") : pack_any(&m.base, "io.containerd.cgroups.v1.Metrics", out, err);
	arena_free(&a);
	return r;
}

int ctrd_stats(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err)
{
	/* containerd's choice: v2 metrics only on a unified host. */
	if (!strcmp(sk_cgroup_backend(), "unified"))
		return stats_v2(pid, out, err);
	return stats_v1(pid, out, err);
}
