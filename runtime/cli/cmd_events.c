/* skiff events [--stats] [--interval D] ID: runc's events.  --stats prints
 * one stats event and exits; otherwise a stats event every interval
 * (default 5s) and an oom event whenever the OOM killer kills in the
 * container, until it has no process left.  One JSON object per line. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/container/container.h"
#include "skiff/container/events.h"

/* The container's cgroup, opened under its lock, which is then released:
 * a stream must not keep other commands (kill, delete) waiting. */
static int open_cgroup(const char *root, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	struct sk_held h;
	if (sk_container_hold_cgroup(root, id, &h, cg, err) < 0)
		return -1;
	sk_container_release(&h);
	return 0;
}

static int print_stats(const struct sk_cgroup *cg, const char *id, struct sk_err *err)
{
	struct sk_stats st;
	if (sk_events_stats(cg, &st, err) < 0)
		return -1;
	char *line = sk_events_stats_json(id, &st, err);
	sk_events_stats_free(&st);
	if (!line)
		return -1;
	int r = sk_out_write(line, strlen(line), err);
	free(line);
	return r;
}

static int stream(const struct sk_cgroup *cg, const char *id, int64_t interval, struct sk_err *err)
{
	struct sk_events_watch w;
	if (sk_events_watch_open(cg, &w, err) < 0)
		return -1;
	int r = 0;
	/* As runc's ticker: the first statistics after one interval. */
	int64_t next = sk_events_now_ns() + interval;
	for (;;) {
		int ev = sk_events_watch_wait(&w, next, err);
		if (ev < 0 || ev == SK_EVENT_STOPPED) {
			r = ev < 0 ? -1 : 0;
			break;
		}
		if (ev == SK_EVENT_OOM) {
			char *line = sk_events_oom_json(id, err);
			r = line ? sk_out_write(line, strlen(line), err) : -1;
			free(line);
			if (r < 0)
				break;
			continue;
		}
		if (print_stats(cg, id, err) < 0) {
			/* Removed meanwhile (deleted): the container is gone. */
			r = err->errnum == ENOENT || err->errnum == ENODEV ? 0 : -1;
			break;
		}
		/* Ticks that a slow round missed are dropped, not bunched. */
		next += interval;
		int64_t now = sk_events_now_ns();
		if (next <= now)
			next = now + interval;
	}
	sk_events_watch_close(&w);
	return r;
}

int cmd_events(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *interval = "5s";
	bool stats = false;
	struct sk_opt opts[] = {
		{ "interval", 0, SK_OPT_STRING, &interval, "DURATION", "time between statistics (default: 5s)" },
		{ "stats", 0, SK_OPT_BOOL, &stats, NULL, "print the statistics once and exit" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	const char *id = argv[0];
	int64_t ns;
	if (sk_events_parse_duration(interval, &ns, err) < 0) {
		sk_error_wrap(err, "invalid --interval");
		return SK_EXIT_USAGE;
	}
	if (ns <= 0) {
		sk_error(err, 0, "invalid --interval \"%s\": must be greater than 0", interval);
		return SK_EXIT_USAGE;
	}
	struct sk_cgroup cg;
	if (open_cgroup(g->root, id, &cg, err) < 0)
		return SK_EXIT_ERROR;
	int r = stats ? print_stats(&cg, id, err) : stream(&cg, id, ns, err);
	sk_cgroup_close(&cg);
	return r < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
