/* events: runc's stats and OOM events for a container's cgroup. */
#include "skiff/events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skiff/json_gen.h"

int64_t sk_events_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sk_events_stats(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err)
{
	if (sk_cgroup_stats(cg, st, err) < 0)
		return -1;
	if (st->has_pids)
		return 0;
	pid_t *pids;
	size_t n;
	if (sk_cgroup_pids(cg, &pids, &n, err) < 0) {
		sk_cgroup_stats_free(st);
		return -1;
	}
	free(pids);
	st->pids_current = n;
	return 0;
}

/* ---- JSON ----------------------------------------------------------------------- */

/* Go's omitempty: the member only when it is not zero. */
static void kuint_nz(struct sk_json *j, const char *key, uint64_t v)
{
	if (v)
		sk_json_kuint(j, key, v);
}

static void memory_entry(struct sk_json *j, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
			 uint64_t failcnt)
{
	sk_json_str(j, key);
	sk_json_map_open(j);
	sk_json_kuint(j, "limit", limit);
	kuint_nz(j, "usage", usage);
	kuint_nz(j, "max", max);
	sk_json_kuint(j, "failcnt", failcnt);
	sk_json_map_close(j);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const struct sk_cgroup_kv *const *)a)->key, (*(const struct sk_cgroup_kv *const *)b)->key);
}

static int cmp_hugetlb(const void *a, const void *b)
{
	return strcmp((*(const struct sk_cgroup_hugetlb *const *)a)->size,
		      (*(const struct sk_cgroup_hugetlb *const *)b)->size);
}

/* Go encodes maps with their keys sorted: so do we. */
static int gen_memory(struct sk_json *j, const struct sk_cgroup_stats *st, struct sk_err *err)
{
	sk_json_str(j, "memory");
	sk_json_map_open(j);
	uint64_t cache = 0;
	for (size_t i = 0; i < st->n_mem_stat; i++)
		if (!strcmp(st->mem_stat[i].key, "file"))
			cache = st->mem_stat[i].value;
	kuint_nz(j, "cache", cache);
	/* v1's failcnt counted hits of the limit: memory.events "max". */
	memory_entry(j, "usage", st->mem_max, st->mem_current, st->mem_peak, st->mem_events_max);
	/* v1 reported memory+swap, and runc keeps that for v2. */
	uint64_t swap_limit = st->mem_swap_max;
	if (st->has_memory && swap_limit != SK_CG_MAX)
		swap_limit = st->mem_max > SK_CG_MAX - swap_limit ? SK_CG_MAX : swap_limit + st->mem_max;
	memory_entry(j, "swap", swap_limit, st->mem_swap_current + st->mem_current, 0, 0);
	memory_entry(j, "kernel", 0, 0, 0, 0);
	memory_entry(j, "kernelTCP", 0, 0, 0, 0);
	if (st->n_mem_stat) {
		const struct sk_cgroup_kv **v = malloc(st->n_mem_stat * sizeof(*v));
		if (!v)
			return sk_error(err, ENOMEM, "stats JSON");
		for (size_t i = 0; i < st->n_mem_stat; i++)
			v[i] = &st->mem_stat[i];
		qsort(v, st->n_mem_stat, sizeof(*v), cmp_kv);
		sk_json_str(j, "raw");
		sk_json_map_open(j);
		for (size_t i = 0; i < st->n_mem_stat; i++)
			sk_json_kuint(j, v[i]->key, v[i]->value);
		sk_json_map_close(j);
		free(v);
	}
	sk_json_map_close(j);
	return 0;
}

static void blkio_entry(struct sk_json *j, const struct sk_cgroup_io *d, const char *op, uint64_t value)
{
	sk_json_map_open(j);
	kuint_nz(j, "major", d->major);
	kuint_nz(j, "minor", d->minor);
	sk_json_kstr(j, "op", op);
	kuint_nz(j, "value", value);
	sk_json_map_close(j);
}

static void gen_blkio(struct sk_json *j, const struct sk_cgroup_stats *st)
{
	sk_json_str(j, "blkio");
	sk_json_map_open(j);
	if (st->n_io) {
		/* v1's tables: bytes, then operations, each read and write. */
		sk_json_str(j, "ioServiceBytesRecursive");
		sk_json_array_open(j);
		for (size_t i = 0; i < st->n_io; i++) {
			blkio_entry(j, &st->io[i], "Read", st->io[i].rbytes);
			blkio_entry(j, &st->io[i], "Write", st->io[i].wbytes);
		}
		sk_json_array_close(j);
		sk_json_str(j, "ioServicedRecursive");
		sk_json_array_open(j);
		for (size_t i = 0; i < st->n_io; i++) {
			blkio_entry(j, &st->io[i], "Read", st->io[i].rios);
			blkio_entry(j, &st->io[i], "Write", st->io[i].wios);
		}
		sk_json_array_close(j);
	}
	sk_json_map_close(j);
}

static int gen_hugetlb(struct sk_json *j, const struct sk_cgroup_stats *st, struct sk_err *err)
{
	sk_json_str(j, "hugetlb");
	sk_json_map_open(j);
	if (st->n_hugetlb) {
		const struct sk_cgroup_hugetlb **v = malloc(st->n_hugetlb * sizeof(*v));
		if (!v)
			return sk_error(err, ENOMEM, "stats JSON");
		for (size_t i = 0; i < st->n_hugetlb; i++)
			v[i] = &st->hugetlb[i];
		qsort(v, st->n_hugetlb, sizeof(*v), cmp_hugetlb);
		/* "max" is v1's peak usage, which v2 does not keep. */
		for (size_t i = 0; i < st->n_hugetlb; i++) {
			sk_json_str(j, v[i]->size);
			sk_json_map_open(j);
			kuint_nz(j, "usage", v[i]->usage);
			sk_json_kuint(j, "failcnt", v[i]->failcnt);
			sk_json_map_close(j);
		}
		free(v);
	}
	sk_json_map_close(j);
	return 0;
}

static void gen_cpu(struct sk_json *j, const struct sk_cgroup_stats *st)
{
	/* cpu.stat is in microseconds, runc's numbers in nanoseconds. */
	sk_json_str(j, "cpu");
	sk_json_map_open(j);
	sk_json_str(j, "usage");
	sk_json_map_open(j);
	kuint_nz(j, "total", st->cpu_usage_usec * 1000);
	sk_json_kuint(j, "kernel", st->cpu_system_usec * 1000);
	sk_json_kuint(j, "user", st->cpu_user_usec * 1000);
	sk_json_map_close(j);
	sk_json_str(j, "throttling");
	sk_json_map_open(j);
	kuint_nz(j, "periods", st->cpu_nr_periods);
	kuint_nz(j, "throttledPeriods", st->cpu_nr_throttled);
	kuint_nz(j, "throttledTime", st->cpu_throttled_usec * 1000);
	sk_json_map_close(j);
	sk_json_map_close(j);
}

/* runc's cpuset object, which its cgroup v2 driver leaves at zero. */
static void gen_cpuset(struct sk_json *j)
{
	static const char *const zero[] = {
		"cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
		"memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level",
	};
	sk_json_str(j, "cpuset");
	sk_json_map_open(j);
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		sk_json_kuint(j, zero[i], 0);
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

char *sk_events_stats_json(const char *id, const struct sk_cgroup_stats *st, struct sk_err *err)
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
	gen_cpuset(&j);
	if (gen_memory(&j, st, err) < 0) {
		sk_json_free(&j);
		return NULL;
	}
	sk_json_str(&j, "pids");
	sk_json_map_open(&j);
	kuint_nz(&j, "current", st->pids_current);
	/* runc's "no limit" is 0 (omitted). */
	kuint_nz(&j, "limit", st->pids_max == SK_CG_MAX ? 0 : st->pids_max);
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

int sk_events_watch_open(const struct sk_cgroup *cg, struct sk_events_watch *w, struct sk_err *err)
{
	*w = (struct sk_events_watch){ .cg_events = -1, .mem_events = -1, .path = cg->path };
	uint64_t populated;
	w->cg_events = openat(cg->dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (w->cg_events < 0 || keyed_value(w->cg_events, "populated", &populated) < 0) {
		sk_error(err, errno, "read \"%s/cgroup.events\"", cg->path);
		sk_events_watch_close(w);
		return -1;
	}
	w->stopped = populated == 0;
	w->mem_events = openat(cg->dir_fd, "memory.events", O_RDONLY | O_CLOEXEC);
	if (w->mem_events < 0 && errno != ENOENT) {
		sk_error(err, errno, "open \"%s/memory.events\"", cg->path);
		sk_events_watch_close(w);
		return -1;
	}
	if (w->mem_events >= 0 && keyed_value(w->mem_events, "oom_kill", &w->oom_kills) < 0) {
		sk_error(err, errno, "read \"%s/memory.events\"", cg->path);
		sk_events_watch_close(w);
		return -1;
	}
	return 0;
}

int sk_events_watch_wait(struct sk_events_watch *w, int64_t deadline_ns, struct sk_err *err)
{
	for (;;) {
		if (w->stopped)
			return SK_EVENT_STOPPED;
		int64_t left = deadline_ns - sk_events_now_ns();
		if (left <= 0)
			return SK_EVENT_TIMEOUT;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		struct pollfd p[2] = { { .fd = w->cg_events, .events = POLLPRI }, { .fd = w->mem_events, .events = POLLPRI } };
		int n = ppoll(p, w->mem_events >= 0 ? 2 : 1, &ts, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_error(err, errno, "poll the events of cgroup \"%s\"", w->path);
		if (n == 0)
			return SK_EVENT_TIMEOUT;
		/* Both files are read at every wake-up: a read re-arms the
		 * notification, and the OOM that killed the last process must
		 * be told before the stop. */
		bool oom = false;
		uint64_t v;
		if (w->mem_events >= 0 && p[1].revents) {
			if (keyed_value(w->mem_events, "oom_kill", &v) < 0) {
				if (!gone(errno))
					return sk_error(err, errno, "read \"%s/memory.events\"", w->path);
				w->stopped = true;
			} else if (v > w->oom_kills) {
				w->oom_kills = v;
				oom = true;
			}
		}
		if (p[0].revents) {
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
	if (w->cg_events >= 0)
		close(w->cg_events);
	if (w->mem_events >= 0)
		close(w->mem_events);
	w->cg_events = w->mem_events = -1;
}
