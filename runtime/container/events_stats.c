/* events_stats: a container's statistics in runc's units, read from the
 * files of whichever backend serves each controller (see
 * include/skiff/container/events.h; docs/cgroup-commands.md has the mapping). */
#include "skiff/container/events.h"
#include "skiff/cgroup/fs.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------- */

static size_t count_lines(const char *text)
{
	size_t n = 1;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* A file that may be absent: false then (and for any other failure). */
static bool read_opt(int fd, const char *name, char **text)
{
	struct sk_err ignored;
	return sk_cgroup_read_all(fd, NULL, name, text, NULL, &ignored) == 0;
}

/* A number as written, v1's "unlimited" included (runc prints it). */
static bool read_raw(int fd, const char *name, uint64_t *out)
{
	char buf[64];
	struct sk_err ignored;
	if (sk_cgroup_read_at(fd, "", name, buf, sizeof(buf), &ignored) < 0)
		return false;
	*out = !strncmp(buf, "max", 3) ? SK_CG_MAX : strtoull(buf, NULL, 10);
	return true;
}

/* "key value" lines into st->raw. */
static int keyed_lines(char *text, struct sk_stats *st, const char *what, struct sk_err *err)
{
	st->raw = calloc(count_lines(text), sizeof(*st->raw));
	if (!st->raw)
		return sk_error(err, ENOMEM, "%s", what);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp || (size_t)(sp - l) >= sizeof(st->raw[0].key))
			continue;
		struct sk_stats_kv *kv = &st->raw[st->n_raw++];
		memcpy(kv->key, l, (size_t)(sp - l));
		kv->value = strtoull(sp + 1, NULL, 10);
	}
	return 0;
}

static uint64_t raw_value(const struct sk_stats *st, const char *key)
{
	for (size_t i = 0; i < st->n_raw; i++)
		if (!strcmp(st->raw[i].key, key))
			return st->raw[i].value;
	return 0;
}

/* Numbers separated by blanks, into a malloc()ed array. */
static int numbers(const char *text, uint64_t **out, size_t *n, struct sk_err *err)
{
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ' ' || *p == '\n';
	*out = calloc(cap, sizeof(**out));
	if (!*out)
		return sk_error(err, ENOMEM, "statistics");
	for (const char *p = text; *p;) {
		char *end;
		uint64_t v = strtoull(p, &end, 10);
		if (end == p)
			break;
		(*out)[(*n)++] = v;
		p = end + strspn(end, " \n");
	}
	return 0;
}

/* ---- cgroup2 ----------------------------------------------------------------------- */

static void v2_cpu(int fd, struct sk_stats *st, bool usage, bool throttling)
{
	char *text;
	if (!read_opt(fd, "cpu.stat", &text))
		return;
	int64_t v;
	/* cpu.stat is in microseconds, runc's numbers in nanoseconds. */
	if (usage) {
		if ((v = sk_cgroup_keyed(text, "usage_usec")) >= 0)
			st->cpu_total = (uint64_t)v * 1000;
		if ((v = sk_cgroup_keyed(text, "user_usec")) >= 0)
			st->cpu_user = (uint64_t)v * 1000;
		if ((v = sk_cgroup_keyed(text, "system_usec")) >= 0)
			st->cpu_kernel = (uint64_t)v * 1000;
	}
	if (throttling) {
		if ((v = sk_cgroup_keyed(text, "nr_periods")) >= 0)
			st->periods = (uint64_t)v;
		if ((v = sk_cgroup_keyed(text, "nr_throttled")) >= 0)
			st->throttled_periods = (uint64_t)v;
		if ((v = sk_cgroup_keyed(text, "throttled_usec")) >= 0)
			st->throttled_time = (uint64_t)v * 1000;
	}
	free(text);
}

/* runc's v2 mapping: v1's failcnt is memory.events "max"; swap is reported
 * as memory+swap. */
static int v2_memory(int fd, const char *path, struct sk_stats *st, struct sk_err *err)
{
	uint64_t swap_cur = 0, swap_max = 0;
	if (!read_raw(fd, "memory.current", &st->usage.usage))
		return 0;
	read_raw(fd, "memory.max", &st->usage.limit);
	read_raw(fd, "memory.peak", &st->usage.max);
	read_raw(fd, "memory.swap.current", &swap_cur);
	read_raw(fd, "memory.swap.max", &swap_max);
	st->swap.usage = st->usage.usage + swap_cur;
	st->swap.limit = swap_max == SK_CG_MAX || st->usage.limit > SK_CG_MAX - swap_max ? SK_CG_MAX
											  : swap_max + st->usage.limit;
	char *text;
	if (sk_cgroup_read_all(fd, path, "memory.events", &text, NULL, err) < 0)
		return -1;
	int64_t v = sk_cgroup_keyed(text, "max");
	st->usage.failcnt = v > 0 ? (uint64_t)v : 0;
	free(text);
	if (sk_cgroup_read_all(fd, path, "memory.stat", &text, NULL, err) < 0)
		return -1;
	int r = keyed_lines(text, st, "memory.stat", err);
	free(text);
	st->cache = raw_value(st, "file");
	return r;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N", as
 * v1's bytes and operations tables, each read then write. */
static int v2_io(int fd, struct sk_stats *st, struct sk_err *err)
{
	char *text;
	if (!read_opt(fd, "io.stat", &text))
		return 0;
	size_t lines = count_lines(text);
	for (int t = 0; t < 2; t++) {
		st->blkio[t] = calloc(2 * lines, sizeof(*st->blkio[t]));
		if (!st->blkio[t]) {
			free(text);
			return sk_error(err, ENOMEM, "io.stat");
		}
	}
	static const char *const keys[2][2] = { { "rbytes=", "wbytes=" }, { "rios=", "wios=" } };
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *p;
		uint64_t major = strtoull(l, &p, 10), minor;
		if (*p != ':')
			continue;
		minor = strtoull(p + 1, &p, 10);
		for (int t = 0; t < 2; t++) {
			for (int rw = 0; rw < 2; rw++) {
				const char *k = strstr(p, keys[t][rw]);
				struct sk_stats_blkio *e = &st->blkio[t][st->n_blkio[t]++];
				*e = (struct sk_stats_blkio){ .major = major, .minor = minor };
				snprintf(e->op, sizeof(e->op), "%s", rw ? "Write" : "Read");
				e->value = k ? strtoull(k + strlen(keys[t][rw]), NULL, 10) : 0;
			}
		}
	}
	free(text);
	return 0;
}

/* ---- v1 --------------------------------------------------------------------------- */

static int v1_cpuacct(int fd, struct sk_stats *st, struct sk_err *err)
{
	char *text;
	read_raw(fd, "cpuacct.usage", &st->cpu_total);
	/* cpuacct.stat counts USER_HZ ticks. */
	if (read_opt(fd, "cpuacct.stat", &text)) {
		long hz = sysconf(_SC_CLK_TCK);
		int64_t u = sk_cgroup_keyed(text, "user"), s = sk_cgroup_keyed(text, "system");
		st->cpu_user = u > 0 && hz > 0 ? (uint64_t)u * 1000000000 / (uint64_t)hz : 0;
		st->cpu_kernel = s > 0 && hz > 0 ? (uint64_t)s * 1000000000 / (uint64_t)hz : 0;
		free(text);
	}
	if (read_opt(fd, "cpuacct.usage_percpu", &text)) {
		int r = numbers(text, &st->percpu, &st->n_percpu, err);
		free(text);
		if (r < 0)
			return -1;
	}
	/* "cpu user system" then a line per CPU. */
	if (read_opt(fd, "cpuacct.usage_all", &text)) {
		size_t lines = count_lines(text);
		st->percpu_kernel = calloc(lines, sizeof(uint64_t));
		st->percpu_user = calloc(lines, sizeof(uint64_t));
		if (!st->percpu_kernel || !st->percpu_user) {
			free(text);
			return sk_error(err, ENOMEM, "cpuacct.usage_all");
		}
		char *save = NULL, *l = strtok_r(text, "\n", &save);
		while ((l = strtok_r(NULL, "\n", &save))) {
			unsigned long long cpu, user, sys;
			if (sscanf(l, "%llu %llu %llu", &cpu, &user, &sys) != 3)
				continue;
			st->percpu_user[st->n_percpu_user++] = user;
			st->percpu_kernel[st->n_percpu_kernel++] = sys;
		}
		free(text);
	}
	return 0;
}

static void v1_throttling(int fd, struct sk_stats *st)
{
	char *text;
	if (!read_opt(fd, "cpu.stat", &text))
		return;
	int64_t v;
	if ((v = sk_cgroup_keyed(text, "nr_periods")) >= 0)
		st->periods = (uint64_t)v;
	if ((v = sk_cgroup_keyed(text, "nr_throttled")) >= 0)
		st->throttled_periods = (uint64_t)v;
	if ((v = sk_cgroup_keyed(text, "throttled_time")) >= 0)
		st->throttled_time = (uint64_t)v;
	free(text);
}

/* A cpuset list ("0-3,6") expanded. */
static int cpu_list(int fd, const char *name, uint64_t **out, size_t *n, struct sk_err *err)
{
	char buf[4096];
	struct sk_err ignored;
	if (sk_cgroup_read_at(fd, "", name, buf, sizeof(buf), &ignored) < 0)
		return 0;
	size_t cap = 0;
	for (const char *p = buf; *p && *p != '\n';) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p)
			break;
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		for (unsigned long c = a; c <= b && c <= UINT16_MAX; c++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				uint64_t *v = realloc(*out, cap * sizeof(*v));
				if (!v)
					return sk_error(err, ENOMEM, "%s", name);
				*out = v;
			}
			(*out)[(*n)++] = c;
		}
		p = end + (*end == ',');
	}
	return 0;
}

static int v1_cpuset(int fd, struct sk_stats *st, struct sk_err *err)
{
	static const char *const files[SK_CPUSET_N] = {
		"cpuset.cpu_exclusive", "cpuset.mem_hardwall", "cpuset.mem_exclusive", "cpuset.memory_migrate",
		"cpuset.memory_spread_page", "cpuset.memory_spread_slab", "cpuset.memory_pressure",
		"cpuset.sched_load_balance", "cpuset.sched_relax_domain_level",
	};
	for (size_t i = 0; i < SK_CPUSET_N; i++) {
		char buf[32];
		struct sk_err ignored;
		if (sk_cgroup_read_at(fd, "", files[i], buf, sizeof(buf), &ignored) >= 0)
			st->cpuset[i] = strtoll(buf, NULL, 10);
	}
	return cpu_list(fd, "cpuset.cpus", &st->cpus, &st->n_cpus, err) < 0 ||
			       cpu_list(fd, "cpuset.mems", &st->mems, &st->n_mems, err) < 0
		       ? -1
		       : 0;
}

/* memory[.NAME].{usage_in_bytes,max_usage_in_bytes,failcnt,limit_in_bytes} */
static void v1_mem_entry(int fd, const char *name, struct sk_stats_mem *e)
{
	static const char *const files[] = { "limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt" };
	uint64_t *fields[] = { &e->limit, &e->usage, &e->max, &e->failcnt };
	for (size_t i = 0; i < 4; i++) {
		char file[64];
		snprintf(file, sizeof(file), "memory%s%s.%s", *name ? "." : "", name, files[i]);
		read_raw(fd, file, fields[i]);
	}
}

static int v1_memory(int fd, const char *path, struct sk_stats *st, struct sk_err *err)
{
	char *text;
	if (sk_cgroup_read_all(fd, path, "memory.stat", &text, NULL, err) < 0)
		return -1;
	int r = keyed_lines(text, st, "memory.stat", err);
	free(text);
	if (r < 0)
		return -1;
	st->cache = raw_value(st, "cache");
	v1_mem_entry(fd, "", &st->usage);
	v1_mem_entry(fd, "memsw", &st->swap);
	v1_mem_entry(fd, "kmem", &st->kernel);
	v1_mem_entry(fd, "kmem.tcp", &st->kernel_tcp);
	return 0;
}

/* "MAJ:MIN Op value" lines ("Total" ones skipped); false when the file is
 * absent or has no entry. */
static int v1_blkio_file(int fd, const char *name, struct sk_stats_blkio **out, size_t *n, struct sk_err *err)
{
	char *text;
	if (!read_opt(fd, name, &text))
		return 0;
	*out = calloc(count_lines(text), sizeof(**out));
	if (!*out) {
		free(text);
		return sk_error(err, ENOMEM, "%s", name);
	}
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct sk_stats_blkio e = { 0 };
		char op[16];
		unsigned long long maj, min, v;
		if (sscanf(l, "%llu:%llu %15s %llu", &maj, &min, op, &v) == 4)
			snprintf(e.op, sizeof(e.op), "%s", op);
		else if (sscanf(l, "%llu:%llu %llu", &maj, &min, &v) != 3)
			continue;
		e.major = maj;
		e.minor = min;
		e.value = v;
		(*out)[(*n)++] = e;
	}
	free(text);
	if (*n)
		return 1;
	free(*out);
	*out = NULL;
	return 0;
}

/* runc's order: the first family whose first file has entries. */
static int v1_blkio(int fd, struct sk_stats *st, struct sk_err *err)
{
	static const struct { int table; const char *file; } families[][8] = {
		{ { SK_BLKIO_SERVICED, "blkio.bfq.io_serviced_recursive" },
		  { SK_BLKIO_SERVICE_BYTES, "blkio.bfq.io_service_bytes_recursive" } },
		{ { SK_BLKIO_SECTORS, "blkio.sectors_recursive" },
		  { SK_BLKIO_SERVICE_TIME, "blkio.io_service_time_recursive" },
		  { SK_BLKIO_WAIT_TIME, "blkio.io_wait_time_recursive" },
		  { SK_BLKIO_MERGED, "blkio.io_merged_recursive" },
		  { SK_BLKIO_QUEUED, "blkio.io_queued_recursive" },
		  { SK_BLKIO_TIME, "blkio.time_recursive" },
		  { SK_BLKIO_SERVICED, "blkio.io_serviced_recursive" },
		  { SK_BLKIO_SERVICE_BYTES, "blkio.io_service_bytes_recursive" } },
		{ { SK_BLKIO_SERVICED, "blkio.throttle.io_serviced_recursive" },
		  { SK_BLKIO_SERVICE_BYTES, "blkio.throttle.io_service_bytes_recursive" } },
		{ { SK_BLKIO_SERVICED, "blkio.throttle.io_serviced" },
		  { SK_BLKIO_SERVICE_BYTES, "blkio.throttle.io_service_bytes" } },
	};
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		for (size_t i = 0; i < 8 && families[f][i].file; i++) {
			int t = families[f][i].table;
			int r = v1_blkio_file(fd, families[f][i].file, &st->blkio[t], &st->n_blkio[t], err);
			if (r < 0)
				return -1;
			if (r == 0 && i == 0)
				break;
			if (i == 7 || !families[f][i + 1].file)
				return 0;
		}
	}
	return 0;
}

/* ---- both ------------------------------------------------------------------------- */

/* hugetlb.<size>.current (cgroup2) or .usage_in_bytes (v1) for every page
 * size the cgroup has files for. */
static int hugetlb(int fd, const char *path, bool v2, struct sk_stats *st, struct sk_err *err)
{
	const char *usage = v2 ? ".current" : ".usage_in_bytes";
	size_t ul = strlen(usage), cap = 0;
	DIR *d = sk_cgroup_opendir(fd);
	if (!d)
		return sk_error(err, errno, "list \"%s\"", path);
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (strncmp(n, "hugetlb.", 8) || len < 8 + ul + 1 || strcmp(n + len - ul, usage) ||
		    memchr(n + 8, '.', len - 8 - ul) || len - 8 - ul >= sizeof(st->hugetlb[0].size))
			continue;
		if (st->n_hugetlb == cap) {
			cap = cap ? cap * 2 : 4;
			struct sk_stats_hugetlb *v = realloc(st->hugetlb, cap * sizeof(*v));
			if (!v) {
				rc = sk_error(err, ENOMEM, "hugetlb stats");
				break;
			}
			st->hugetlb = v;
		}
		struct sk_stats_hugetlb *h = &st->hugetlb[st->n_hugetlb++];
		memset(h, 0, sizeof(*h));
		memcpy(h->size, n + 8, len - 8 - ul);
		char name[64];
		read_raw(fd, n, &h->usage);
		if (v2) {
			/* v1's "max" is the peak, which cgroup2 does not keep;
			 * its failcnt the "max" count of .events. */
			char text[256];
			struct sk_err ignored;
			snprintf(name, sizeof(name), "hugetlb.%s.events", h->size);
			if (sk_cgroup_read_at(fd, "", name, text, sizeof(text), &ignored) >= 0 &&
			    sk_cgroup_keyed(text, "max") >= 0)
				h->failcnt = (uint64_t)sk_cgroup_keyed(text, "max");
		} else {
			snprintf(name, sizeof(name), "hugetlb.%s.max_usage_in_bytes", h->size);
			read_raw(fd, name, &h->max);
			snprintf(name, sizeof(name), "hugetlb.%s.failcnt", h->size);
			read_raw(fd, name, &h->failcnt);
		}
	}
	closedir(d);
	return rc;
}

int sk_events_stats(const struct sk_cgroup *cg, struct sk_stats *st, struct sk_err *err)
{
	memset(st, 0, sizeof(*st));
	bool v2;
	const char *path;
	int fd, rc = 0;
	/* cpu usage: cpuacct on v1, cpu.stat (core) on cgroup2; throttling:
	 * the cpu controller's cpu.stat. */
	if ((fd = sk_cgroup_ctrl_fd(cg, SK_CG_CPUACCT, &v2, &path)) >= 0)
		rc = v1_cpuacct(fd, st, err);
	else if ((fd = sk_cgroup_ctrl_fd(cg, SK_CG_CPU, &v2, &path)) >= 0)
		v2_cpu(fd, st, true, v2);
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_CPU, &v2, &path)) >= 0)
		v2 ? v2_cpu(fd, st, false, true) : v1_throttling(fd, st);
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_CPUSET, &v2, &path)) >= 0 && !v2)
		rc = v1_cpuset(fd, st, err);
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_MEMORY, &v2, &path)) >= 0)
		rc = v2 ? v2_memory(fd, path, st, err) : v1_memory(fd, path, st, err);
	bool pids = false;
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_PIDS, &v2, &path)) >= 0 &&
	    read_raw(fd, "pids.current", &st->pids_current)) {
		pids = true;
		/* runc's "no limit" is 0. */
		if (read_raw(fd, "pids.max", &st->pids_limit) && st->pids_limit == SK_CG_MAX)
			st->pids_limit = 0;
	}
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_IO, &v2, &path)) >= 0)
		rc = v2 ? v2_io(fd, st, err) : v1_blkio(fd, st, err);
	if (rc == 0 && (fd = sk_cgroup_ctrl_fd(cg, SK_CG_HUGETLB, &v2, &path)) >= 0)
		rc = hugetlb(fd, path, v2, st, err);
	if (rc == 0 && !pids) {
		pid_t *p;
		size_t n;
		if ((rc = sk_cgroup_pids(cg, &p, &n, err)) == 0) {
			free(p);
			st->pids_current = n;
		}
	}
	if (rc < 0)
		sk_events_stats_free(st);
	return rc;
}

void sk_events_stats_free(struct sk_stats *st)
{
	free(st->percpu);
	free(st->percpu_kernel);
	free(st->percpu_user);
	free(st->cpus);
	free(st->mems);
	free(st->raw);
	for (int t = 0; t < SK_BLKIO_N; t++)
		free(st->blkio[t]);
	free(st->hugetlb);
	memset(st, 0, sizeof(*st));
}
