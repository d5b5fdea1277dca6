/* cgroup_unit: the container's cgroup as a systemd unit (cgroup/unit.h). */
#include "skiff/cgroup/unit.h"
#include "skiff/cgroup/systemd.h"
#include "skiff/base/fault.h"
#include "skiff/base/log.h"
#include "skiff/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether the controllers systemd manages are on cgroup2 (its unified
 * property names) or on v1 hierarchies (its legacy ones). */
static bool unified(const struct sk_cgroup *cg)
{
	return cg->v2 && !cg->at[SK_CG_MEMORY];
}

/* A process that does nothing until killed, with no fd of ours (the
 * state lock among them); it dies with us (a killed create leaves an
 * empty unit, which systemd collects). */
static pid_t holder_start(struct sk_err *err)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		sk_error(err, errno, "fork the systemd unit's holder");
		return -1;
	}
	if (pid == 0) {
		syscall(SYS_close_range, 0U, ~0U, 0U);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

void sk_cgroup_unit_release(struct sk_cgroup *cg)
{
	if (cg->holder > 0) {
		kill(cg->holder, SIGKILL);
		waitpid(cg->holder, NULL, 0);
	}
	cg->holder = 0;
}

/* The holder must be in the planned cgroup: a user manager's tree, a
 * systemd that placed it elsewhere, would leave the limits on another
 * cgroup than the one recorded. */
static int check_place(const struct sk_cgroup *cg, struct sk_err *err)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)cg->holder);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), err) < 0)
		return -1;
	const char *want = cg->dir[0].path + cg->dir[0].mount_len;
	/* cgroup2 "0::/x", else the hierarchy systemd tracks with ("name=systemd"). */
	const char *key = cg->v2 ? "0::" : "name=systemd:";
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *at = cg->v2 ? (strncmp(line, key, 3) ? NULL : line) : strstr(line, key);
		if (!at)
			continue;
		at += strlen(key);
		if (strcmp(at, want))
			return sk_error(err, 0, "systemd put unit %s in cgroup \"%s\", not \"%s\"", cg->sd.name, at, want);
		return 0;
	}
	return 0;
}

int sk_cgroup_unit_start(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err)
{
	struct sk_sd_props p = { 0 };
	cg->holder = holder_start(err);
	if (cg->holder < 0) {
		cg->holder = 0;
		return -1;
	}
	const struct sk_resources *res = spec->has_linux ? &spec->linux_.resources : NULL;
	int r = sk_sd_props_unit(&cg->sd, cg->holder, &p, err);
	if (r == 0)
		r = sk_sd_props_resources(res, unified(cg), true, &p, err);
	if (r == 0)
		r = sk_sd_props_annotations(spec->annotations, spec->n_annotations, &p, err);
	if (r == 0)
		r = sk_sd_start(&cg->sd, &p, err);
	sk_sd_props_free(&p);
	if (r < 0) {
		sk_cgroup_unit_release(cg);
		return -1;
	}
	sk_fault_point("unit-started");
	if (check_place(cg, err) < 0) {
		sk_cgroup_unit_release(cg);
		sk_cgroup_unit_stop(cg);
		return -1;
	}
	return 0;
}

int sk_cgroup_unit_stop_err(struct sk_cgroup *cg, struct sk_err *err)
{
	return sk_sd_stop(cg->sd.name, cg->sd.user, err);
}

void sk_cgroup_unit_stop(struct sk_cgroup *cg)
{
	struct sk_err e;
	if (sk_cgroup_unit_stop_err(cg, &e) < 0)
		sk_log(SK_LOG_WARN, "%s", e.msg);
}

int sk_cgroup_unit_set(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err)
{
	struct sk_sd_props p = { 0 };
	int rc = sk_sd_props_resources(r, unified(cg), false, &p, err);
	if (rc == 0)
		rc = sk_sd_set(cg->sd.name, cg->sd.user, &p, err);
	sk_sd_props_free(&p);
	return rc;
}

int sk_cgroup_set_unit(struct sk_cgroup *cg, const char *unit, bool user, struct sk_err *err)
{
	sk_sd_unit_free(&cg->sd);
	cg->sd.user = user;
	if (!(cg->sd.name = strdup(unit)))
		return sk_error(err, ENOMEM, "cgroup unit");
	return 0;
}
