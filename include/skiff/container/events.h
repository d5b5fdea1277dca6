/* events: what `skiff events` reports, in runc's JSON (runc types/events.go;
 * docs/cgroup-commands.md lists every field and where it comes from):
 *   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,...}}
 *   {"type":"oom","id":ID}
 * The statistics are read (events_stats.c) from whichever backend serves
 * each controller, into one struct in runc's units: cgroup2's files with
 * runc's v2 mapping, v1's files as runc's v1 driver reads them.  The watch
 * streams what happens: no process left (cgroup.events, or for a container
 * with no cgroup2 directory a look at its pids each 100 ms) and the OOM
 * killer (memory.events, or v1's memory.oom_control through an eventfd). */
#ifndef SKIFF_EVENTS_H
#define SKIFF_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/error.h"

struct sk_stats_mem { uint64_t limit, usage, max, failcnt; };
struct sk_stats_kv { char key[64]; uint64_t value; };
struct sk_stats_blkio { uint64_t major, minor; char op[16]; uint64_t value; };
struct sk_stats_hugetlb { char size[16]; uint64_t usage, max, failcnt; };

/* runc's blkio tables, in its JSON order. */
enum {
	SK_BLKIO_SERVICE_BYTES, SK_BLKIO_SERVICED, SK_BLKIO_QUEUED, SK_BLKIO_SERVICE_TIME, SK_BLKIO_WAIT_TIME,
	SK_BLKIO_MERGED, SK_BLKIO_TIME, SK_BLKIO_SECTORS, SK_BLKIO_N
};

/* runc's cpuset flags, in its JSON order (the last one may be -1). */
enum {
	SK_CPUSET_CPU_EXCLUSIVE, SK_CPUSET_MEM_HARDWALL, SK_CPUSET_MEM_EXCLUSIVE, SK_CPUSET_MEMORY_MIGRATE,
	SK_CPUSET_MEMORY_SPREAD_PAGE, SK_CPUSET_MEMORY_SPREAD_SLAB, SK_CPUSET_MEMORY_PRESSURE,
	SK_CPUSET_SCHED_LOAD_BALANCE, SK_CPUSET_SCHED_RELAX_DOMAIN_LEVEL, SK_CPUSET_N
};

struct sk_stats {
	uint64_t cpu_total, cpu_kernel, cpu_user;                /* ns */
	uint64_t *percpu, *percpu_kernel, *percpu_user;          /* ns, v1 */
	size_t n_percpu, n_percpu_kernel, n_percpu_user;
	uint64_t periods, throttled_periods, throttled_time;     /* throttled_time in ns */
	uint64_t *cpus, *mems; size_t n_cpus, n_mems;            /* v1 cpuset */
	int64_t cpuset[SK_CPUSET_N];
	uint64_t cache;
	struct sk_stats_mem usage, swap, kernel, kernel_tcp;     /* swap is memory+swap */
	struct sk_stats_kv *raw; size_t n_raw;                   /* memory.stat */
	uint64_t pids_current, pids_limit;                       /* limit 0: none */
	struct sk_stats_blkio *blkio[SK_BLKIO_N]; size_t n_blkio[SK_BLKIO_N];
	struct sk_stats_hugetlb *hugetlb; size_t n_hugetlb;
};

/* The statistics of cg as runc reports them; without a pids controller,
 * pids_current counts the processes of the cgroup and below (as runc). */
int sk_events_stats(const struct sk_cgroup *cg, struct sk_stats *st, struct sk_err *err);
void sk_events_stats_free(struct sk_stats *st);

/* One event as a line of compact JSON with its '\n', malloc()ed. */
char *sk_events_stats_json(const char *id, const struct sk_stats *st, struct sk_err *err);
char *sk_events_oom_json(const char *id, struct sk_err *err);

/* A Go duration ("5s", "100ms", "1m30s", "1.5h", "300us"), as runc's
 * --interval takes it, in nanoseconds. */
int sk_events_parse_duration(const char *s, int64_t *ns, struct sk_err *err);

struct sk_events_watch {
	int cg_events;        /* cgroup.events, for "populated 0"; -1 without cgroup2 */
	const struct sk_cgroup *procs_of;   /* without it: the cgroup whose pids are looked at */
	int mem_events;       /* memory.events (cgroup2) or an eventfd on memory.oom_control (v1); -1 */
	bool mem_v1;
	int oom_control;      /* v1: memory.oom_control, kept open for the eventfd */
	uint64_t oom_kills;   /* cgroup2: its oom_kill count when last read */
	bool stopped;         /* no process left, or the cgroup gone */
	const char *path;     /* the cgroup's, for messages */
};

enum sk_event { SK_EVENT_TIMEOUT, SK_EVENT_OOM, SK_EVENT_STOPPED };

int sk_events_watch_open(const struct sk_cgroup *cg, struct sk_events_watch *w, struct sk_err *err);
/* Wait until the CLOCK_MONOTONIC time deadline_ns: SK_EVENT_OOM when the
 * OOM killer struck, SK_EVENT_STOPPED when the cgroup has no process left
 * (or is gone), else SK_EVENT_TIMEOUT; -1 on error. */
int sk_events_watch_wait(struct sk_events_watch *w, int64_t deadline_ns, struct sk_err *err);
void sk_events_watch_close(struct sk_events_watch *w);

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t sk_events_now_ns(void);

#endif
