/* events: what `skiff events` reports, in runc's JSON (runc types/events.go
 * and its cgroup v2 mapping; docs/cgroup-commands.md lists every field):
 *   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,...}}
 *   {"type":"oom","id":ID}
 * and the watch that streams them: cgroup.events tells when the container
 * has no process left, memory.events when the OOM killer struck. */
#ifndef SKIFF_EVENTS_H
#define SKIFF_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/cgroup.h"
#include "skiff/error.h"

/* The statistics of cg as runc reports them: sk_cgroup_stats, with the
 * process count of the cgroup and below as pids_current when the pids
 * controller is off (as runc counts cgroup.procs then). */
int sk_events_stats(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err);

/* One event as a line of compact JSON with its '\n', malloc()ed. */
char *sk_events_stats_json(const char *id, const struct sk_cgroup_stats *st, struct sk_err *err);
char *sk_events_oom_json(const char *id, struct sk_err *err);

/* A Go duration ("5s", "100ms", "1m30s", "1.5h", "300us"), as runc's
 * --interval takes it, in nanoseconds. */
int sk_events_parse_duration(const char *s, int64_t *ns, struct sk_err *err);

struct sk_events_watch {
	int cg_events;        /* cgroup.events, for "populated 0" */
	int mem_events;       /* memory.events, -1 without the memory controller */
	uint64_t oom_kills;   /* its oom_kill count when last read */
	bool stopped;         /* seen "populated 0", or the cgroup gone */
	const char *path;     /* the cgroup's, for messages */
};

enum sk_event { SK_EVENT_TIMEOUT, SK_EVENT_OOM, SK_EVENT_STOPPED };

int sk_events_watch_open(const struct sk_cgroup *cg, struct sk_events_watch *w, struct sk_err *err);
/* Wait until the CLOCK_MONOTONIC time deadline_ns: SK_EVENT_OOM when the
 * oom_kill count grew, SK_EVENT_STOPPED when the cgroup has no process left
 * (or is gone), else SK_EVENT_TIMEOUT; -1 on error. */
int sk_events_watch_wait(struct sk_events_watch *w, int64_t deadline_ns, struct sk_err *err);
void sk_events_watch_close(struct sk_events_watch *w);

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t sk_events_now_ns(void);

#endif
