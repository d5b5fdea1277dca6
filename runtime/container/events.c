/* events: runc's stats and OOM events in JSON, and the watch that streams
 * them (see include/skiff/container/events.h). */
#include "skiff/container/events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skiff/cgroup/fs.h"
#include "skiff/spec/json_gen.h"

int64_t sk_events_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- JSON ----------------------------------------------------------------------- */

/* Go's omitempty: the member only when it is not zero. */
static void kuint_nz(struct sk_json *j, const char *key, uint64_t v)
{
	if (v)
		sk_json_kuint(j, key, v);
}

static void kuints(struct sk_json *j, const char *key, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	sk_json_str(j, key);
	sk_json_array_open(j);
	for (size_t i = 0; i < n; i++)
		sk_json_uint(j, v[i]);
	sk_json_array_close(j);
}

static void memory_entry(struct sk_json *j, const char *key, const struct sk_stats_mem *e)
{
	sk_json_str(j, key);
	sk_json_map_open(j);
	sk_json_kuint(j, "limit", e->limit);
	kuint_nz(j, "usage", e->usage);
	kuint_nz(j, "max", e->max);
	sk_json_kuint(j, "failcnt", e->failcnt);
	sk_json_map_close(j);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const struct sk_stats_kv *const *)a)->key, (*(const struct sk_stats_kv *const *)b)->key);
}

static int cmp_hugetlb(const void *a, const void *b)
{
	return strcmp((*(const struct sk_stats_hugetlb *const *)a)->size,
		      (*(const struct sk_stats_hugetlb *const *)b)->size);
}

/* Go encodes maps with their keys sorted: so do we. */
static int gen_memory(struct sk_json *j, const struct sk_stats *st, struct sk_err *err)
{
	sk_json_str(j, "memory");
	sk_json_map_open(j);
	kuint_nz(j, "cache", st->cache);
	memory_entry(j, "usage", &st->usage);
	memory_entry(j, "swap", &st->swap);
	memory_entry(j, "kernel", &st->kernel);
	memory_entry(j, "kernelTCP", &st->kernel_tcp);
	if (st->n_raw) {
		const struct sk_stats_kv **v = malloc(st->n_raw * sizeof(*v));
		if (!v)
			return sk_error(err, ENOMEM, "stats JSON");
		for (size_t i = 0; i < st->n_raw; i++)
			v[i] = &st->raw[i];
		qsort(v, st->n_raw, sizeof(*v), cmp_kv);
		sk_json_str(j, "raw");
		sk_json_map_open(j);
		for (size_t i = 0; i < st->n_raw; i++)
			sk_json_kuint(j, v[i]->key, v[i]->value);
		sk_json_map_close(j);
		free(v);
	}
	sk_json_map_close(j);
	return 0;
}

static void gen_blkio(struct sk_json *j, const struct sk_stats *st)
{
	static const char *const names[SK_BLKIO_N] = {
		"ioServiceBytesRecursive", "ioServicedRecursive", "ioQueueRecursive", "ioServiceTimeRecursive",
		"ioWaitTimeRecursive", "ioMergedRecursive", "ioTimeRecursive", "sectorsRecursive",
	};
	sk_json_str(j, "blkio");
	sk_json_map_open(j);
	for (int t = 0; t < SK_BLKIO_N; t++) {
		if (!st->n_blkio[t])
			continue;
		sk_json_str(j, names[t]);
		sk_json_array_open(j);
		for (size_t i = 0; i < st->n_blkio[t]; i++) {
			const struct sk_stats_blkio *e = &st->blkio[t][i];
			sk_json_map_open(j);
			kuint_nz(j, "major", e->major);
			kuint_nz(j, "minor", e->minor);
			if (e->op[0])
				sk_json_kstr(j, "op", e->op);
			kuint_nz(j, "value", e->value);
			sk_json_map_close(j);
		}
		sk_json_array_close(j);
	}
	sk_json_map_close(j);
}

static int gen_hugetlb(struct sk_json *j, const struct sk_stats *st, struct sk_err *err)
{
	sk_json_str(j, "hugetlb");
	sk_json_map_open(j);
	if (st->n_hugetlb) {
		const struct sk_stats_hugetlb **v = malloc(st->n_hugetlb * sizeof(*v));
		if (!v)
			return sk_error(err, ENOMEM, "stats JSON");
		for (size_t i = 0; i < st->n_hugetlb; i++)
			v[i] = &st->hugetlb[i];
		qsort(v, st->n_hugetlb, sizeof(*v), cmp_hugetlb);
		for (size_t i = 0; i < st->n_hugetlb; i++) {
			sk_json_str(j, v[i]->size);
			sk_json_map_open(j);
			kuint_nz(j, "usage", v[i]->usage);
			kuint_nz(j, "max", v[i]->max);
			sk_json_kuint(j, "failcnt", v[i]->failcnt);
			sk_json_map_close(j);
		}
		free(v);
	}
	sk_json_map_close(j);
	return 0;
}

static void gen_cpu(struct sk_json *j, const struct sk_stats *st)
{
	sk_json_str(j, "cpu");
	sk_json_map_open(j);
	sk_json_str(j, "usage");
	sk_json_map_open(j);
	kuint_nz(j, "total", st->cpu_total);
	kuints(j, "percpu", st->percpu, st->n_percpu);
	kuints(j, "percpu_kernel", st->percpu_kernel, st->n_percpu_kernel);
	kuints(j, "percpu_user", st->percpu_user, st->n_percpu_user);
	sk_json_kuint(j, "kernel", st->cpu_kernel);
	sk_json_kuint(j, "user", st->cpu_user);
	sk_json_map_close(j);
	sk_json_str(j, "throttling");
	sk_json_map_open(j);
	kuint_nz(j, "periods", st->periods);
	kuint_nz(j, "throttledPeriods", st->throttled_periods);
	kuint_nz(j, "throttledTime", st->throttled_time);
	sk_json_map_close(j);
	sk_json_map_close(j);
}

/* runc's cpuset object (all zero with cgroup2, which keeps no such flags). */
static void gen_cpuset(struct sk_json *j, const struct sk_stats *st)
{
	static const char *const keys[SK_CPUSET_N] = {
		"cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
		"memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level",
	};
	sk_json_str(j, "cpuset");
	sk_json_map_open(j);
	kuints(j, "cpus", st->cpus, st->n_cpus);
	for (size_t i = 0; i < SK_CPUSET_N; i++) {
		if (i == SK_CPUSET_MEM_HARDWALL)
			kuints(j, "mems", st->mems, st->n_mems);
		sk_json_str(j, keys[i]);
		sk_json_int(j, st->cpuset[i]);
	}
	sk_json_map_close(j);
}

static char *finish(struct sk_json *j, struct sk_err *err)
{
	const char *buf;
	size_t len;
	if (sk_json_buf(j, &buf, &len, err) < 0) {
		sk_json_free(j);
		return NULL;
	}
	char *line = malloc(len + 2);
	if (line) {
		memcpy(line, buf, len);
		line[len] = '\n';
		line[len + 1] = '\0';
	} else {
		sk_error(err, ENOMEM, "event JSON");
	}
	sk_json_free(j);
	return line;
}

char *sk_events_stats_json(const char *id, const struct sk_stats *st, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return NULL;
	sk_json_map_open(&j);
	sk_json_kstr(&j, "type", "stats");
	sk_json_kstr(&j, "id", id);
	sk_json_str(&j, "data");
	sk_json_map_open(&j);
	gen_cpu(&j, st);
	gen_cpuset(&j, st);
	if (gen_memory(&j, st, err) < 0) {
		sk_json_free(&j);
		return NULL;
	}
	sk_json_str(&j, "pids");
	sk_json_map_open(&j);
	kuint_nz(&j, "current", st->pids_current);
	kuint_nz(&j, "limit", st->pids_limit);
	sk_json_map_close(&j);
	gen_blkio(&j, st);
	if (gen_hugetlb(&j, st, err) < 0) {
		sk_json_free(&j);
		return NULL;
	}
	sk_json_str(&j, "intel_rdt");
	sk_json_empty_map(&j);
	sk_json_kstr(&j, "network_interfaces", NULL);
	sk_json_map_close(&j);
	sk_json_map_close(&j);
	return finish(&j, err);
}

char *sk_events_oom_json(const char *id, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return NULL;
	sk_json_map_open(&j);
	sk_json_kstr(&j, "type", "oom");
	sk_json_kstr(&j, "id", id);
	sk_json_map_close(&j);
	return finish(&j, err);
}

/* ---- durations ------------------------------------------------------------------ */

int sk_events_parse_duration(const char *s, int64_t *ns, struct sk_err *err)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 }, { "h", 3600000000000 },
	};
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (!strcmp(p, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		goto bad;
	unsigned __int128 total = 0;
	while (*p) {
		unsigned __int128 whole = 0, frac = 0, scale = 1;
		bool digits = false;
		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			if ((whole = whole * 10 + (unsigned)(*p - '0')) > INT64_MAX)
				goto big;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
				if (scale < 1000000000000000000ull) {
					frac = frac * 10 + (unsigned)(*p - '0');
					scale *= 10;
				}
		if (!digits)
			goto bad;
		size_t ul = strcspn(p, "0123456789.");
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == ul && !strncmp(p, units[i].name, ul))
				unit = units[i].ns;
		if (!unit)
			goto bad;
		p += ul;
		total += whole * unit + frac * unit / scale;
		if (total > INT64_MAX)
			goto big;
	}
	*ns = neg ? -(int64_t)total : (int64_t)total;
	return 0;
bad:
	return sk_error(err, 0, "\"%s\" is not a duration (like 5s, 100ms, 1m30s)", s);
big:
	return sk_error(err, 0, "duration \"%s\" is too large", s);
}

/* ---- the watch ------------------------------------------------------------------ */

/* Without cgroup2's cgroup.events, how often cgroup.procs is looked at. */
#define PROCS_POLL_NS 100000000

/* The value of key in the flat keyed file at fd, read from its start
 * (which also re-arms its poll notification).  -1 with errno. */
static int keyed_value(int fd, const char *key, uint64_t *out)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	size_t kl = strlen(key);
	for (const char *l = buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			*out = strtoull(l + kl + 1, NULL, 10);
			return 0;
		}
	}
	errno = ENODATA;
	return -1;
}

/* Files of a removed cgroup read as ENODEV. */
static bool gone(int e) { return e == ENODEV || e == ENOENT; }

/* v1: an eventfd the kernel signals on each OOM of the memory cgroup (and
 * when it is removed), registered through cgroup.event_control. */
static int v1_oom_open(int dir_fd, const char *path, struct sk_events_watch *w, struct sk_err *err)
{
	w->oom_control = openat(dir_fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
	if (w->oom_control < 0)
		return sk_error(err, errno, "open \"%s/memory.oom_control\"", path);
	w->mem_events = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->mem_events < 0)
		return sk_error(err, errno, "eventfd");
	char line[32];
	snprintf(line, sizeof(line), "%d %d", w->mem_events, w->oom_control);
	w->mem_v1 = true;
	return sk_cgroup_write_at(dir_fd, path, "cgroup.event_control", line, err);
}

int sk_events_watch_open(const struct sk_cgroup *cg, struct sk_events_watch *w, struct sk_err *err)
{
	*w = (struct sk_events_watch){ .cg_events = -1, .mem_events = -1, .oom_control = -1,
				       .path = sk_cgroup_path(cg) };
	uint64_t populated;
	int fd = sk_cgroup_v2_fd(cg);
	if (fd >= 0) {
		w->cg_events = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
		if (w->cg_events < 0 || keyed_value(w->cg_events, "populated", &populated) < 0) {
			sk_error(err, errno, "read \"%s/cgroup.events\"", w->path);
			goto fail;
		}
		w->stopped = populated == 0;
	} else {
		w->procs_of = cg;
	}
	bool v2;
	const char *mpath;
	if ((fd = sk_cgroup_ctrl_fd(cg, SK_CG_MEMORY, &v2, &mpath)) < 0)
		return 0;
	if (!v2) {
		if (v1_oom_open(fd, mpath, w, err) < 0)
			goto fail;
		return 0;
	}
	w->mem_events = openat(fd, "memory.events", O_RDONLY | O_CLOEXEC);
	if (w->mem_events < 0 && errno != ENOENT) {
		sk_error(err, errno, "open \"%s/memory.events\"", mpath);
		goto fail;
	}
	if (w->mem_events >= 0 && keyed_value(w->mem_events, "oom_kill", &w->oom_kills) < 0) {
		sk_error(err, errno, "read \"%s/memory.events\"", mpath);
		goto fail;
	}
	return 0;
fail:
	sk_events_watch_close(w);
	return -1;
}

/* No cgroup2 directory: no process left is no pid in the cgroup and below. */
static bool procs_empty(const struct sk_cgroup *cg)
{
	pid_t *pids;
	size_t n;
	struct sk_err e;
	if (sk_cgroup_pids(cg, &pids, &n, &e) < 0)
		return gone(e.errnum);
	free(pids);
	return n == 0;
}

int sk_events_watch_wait(struct sk_events_watch *w, int64_t deadline_ns, struct sk_err *err)
{
	for (;;) {
		if (w->procs_of && !w->stopped && procs_empty(w->procs_of))
			w->stopped = true;
		if (w->stopped)
			return SK_EVENT_STOPPED;
		int64_t now = sk_events_now_ns(), left = deadline_ns - now;
		if (left <= 0)
			return SK_EVENT_TIMEOUT;
		if (w->procs_of && left > PROCS_POLL_NS)
			left = PROCS_POLL_NS;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		struct pollfd p[2];
		nfds_t np = 0;
		int ip = -1, im = -1;
		if (w->cg_events >= 0)
			p[ip = (int)np++] = (struct pollfd){ .fd = w->cg_events, .events = POLLPRI };
		if (w->mem_events >= 0)
			p[im = (int)np++] = (struct pollfd){ .fd = w->mem_events, .events = w->mem_v1 ? POLLIN : POLLPRI };
		int n = ppoll(p, np, &ts, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_error(err, errno, "poll the events of cgroup \"%s\"", w->path);
		if (n == 0)
			continue;
		/* Both files are read at every wake-up: a read re-arms the
		 * notification, and the OOM that killed the last process must
		 * be told before the stop. */
		bool oom = false;
		uint64_t v;
		if (im >= 0 && p[im].revents && w->mem_v1) {
			/* Signalled for an OOM, or because the cgroup went away. */
			if (read(w->mem_events, &v, sizeof(v)) == sizeof(v)) {
				char buf[8];
				if (pread(w->oom_control, buf, sizeof(buf), 0) < 0)
					w->stopped = true;
				else
					oom = true;
			}
		} else if (im >= 0 && p[im].revents) {
			if (keyed_value(w->mem_events, "oom_kill", &v) < 0) {
				if (!gone(errno))
					return sk_error(err, errno, "read \"%s/memory.events\"", w->path);
				w->stopped = true;
			} else if (v > w->oom_kills) {
				w->oom_kills = v;
				oom = true;
			}
		}
		if (ip >= 0 && p[ip].revents) {
			if (keyed_value(w->cg_events, "populated", &v) < 0) {
				if (!gone(errno))
					return sk_error(err, errno, "read \"%s/cgroup.events\"", w->path);
				w->stopped = true;
			} else if (v == 0) {
				w->stopped = true;
			}
		}
		if (oom)
			return SK_EVENT_OOM;
	}
}

void sk_events_watch_close(struct sk_events_watch *w)
{
	const int fds[] = { w->cg_events, w->mem_events, w->oom_control };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	w->cg_events = w->mem_events = w->oom_control = -1;
}
