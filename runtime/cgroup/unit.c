/* cgroup_unit: the container's cgroup as a systemd unit (cgroup/unit.h). */
#include "skiff/cgroup/unit.h"
#include "skiff/cgroup/res.h"
#include "skiff/cgroup/systemd.h"
#include "skiff/base/fault.h"
#include "skiff/base/log.h"
#include "skiff/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* The manager's ControlGroup, as the manager says it (it is the caller's
 * own, but check_place compares the result with the kernel's view):
 * absolute, no "." or ".." nor empty component, bounded; "/" is "". */
static int root_ok(const char *root, struct sk_err *err)
{
	size_t len = strlen(root);
	if (!len || !strcmp(root, "/"))
		return 0;
	if (root[0] != '/' || len >= PATH_MAX / 4 || root[len - 1] == '/')
		goto bad;
	for (const char *p = root; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			goto bad;
		if (*p == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || !p[2] || (p[2] == '.' && (p[3] == '/' || !p[3]))))))
			goto bad;
	}
	return 1;
bad:
	return sk_error(err, 0, "systemd cgroup driver: the user manager's ControlGroup \"%.128s\" is not a cgroup path",
			root);
}

/* Every controller res needs is in the manager's cgroup.controllers: the
 * ones its parent handed down (user@.service's Delegate=). */
static int check_delegated(const char *mount, const char *root, const struct sk_resources *res, struct sk_err *err)
{
	struct sk_cgroup_needs needs;
	if (sk_cgroup_needs(res, 0, true, &needs, err) < 0)
		return -1;
	char file[PATH_MAX], buf[512], have[600];
	snprintf(file, sizeof(file), "%s%s/cgroup.controllers", mount, root);
	if (sk_read_small_at(AT_FDCWD, file, buf, sizeof(buf), err) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(have, sizeof(have), " %s ", buf);
	for (int c = 0; c < SK_CG_V2_NCTRL; c++) {
		char word[32];
		snprintf(word, sizeof(word), " %s ", sk_cgroup_ctrl_name(c));
		if (!(needs.mask & (1u << c)) || strstr(have, word))
			continue;
		if (needs.why_key[c])
			return sk_error(err, 0, "systemd cgroup driver: controller \"%s\" is not delegated to the user's "
					"manager (%s: \"%s\"), needed by linux.resources.unified[\"%s\"]",
					sk_cgroup_ctrl_name(c), file, buf, needs.why_key[c]);
		return sk_error(err, 0, "systemd cgroup driver: controller \"%s\" is not delegated to the user's manager "
				"(%s: \"%s\"), needed by %s", sk_cgroup_ctrl_name(c), file, buf, needs.why[c]);
	}
	return 0;
}

int sk_cgroup_unit_path(const struct sk_sd_unit *sd, const struct sk_resources *res, char **path, struct sk_err *err)
{
	*path = NULL;
	if (!sd->user)
		return (*path = strdup(sd->path)) ? 0 : sk_error(err, ENOMEM, "cgroup");
	/* runc's rule too: a user manager's delegation is cgroup v2's. */
	if (strcmp(sk_cgroup_backend(), "unified"))
		return sk_error(err, 0, "systemd cgroup driver: the user's manager (rootless) needs cgroup v2 only, and "
				"this host's cgroups are %s", sk_cgroup_backend());
	const char *mount;
	char *root;
	if (sk_cgroup_mount_find(&mount, err) < 0 || sk_sd_manager_cgroup(true, &root, err) < 0)
		return -1;
	int r = root_ok(root, err);
	const char *prefix = r > 0 ? root : "";
	if (r >= 0)
		r = check_delegated(mount, prefix, res, err);
	if (r >= 0 && asprintf(path, "%s%s", prefix, sd->path) < 0) {
		*path = NULL;
		r = sk_error(err, ENOMEM, "cgroup");
	}
	free(root);
	return r < 0 ? -1 : 0;
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

int sk_cgroup_attach_unit(const struct sk_cgroup *cg, pid_t pid, struct sk_err *err)
{
	const char *mount;
	if (!cg->sd.name || !cg->v2)
		return sk_error(err, EACCES, "cgroup \"%s\": no systemd unit on cgroup v2 to move the process into",
				sk_cgroup_path(cg));
	if (sk_cgroup_mount_find(&mount, err) < 0)
		return -1;
	size_t ml = strlen(mount);
	const char *want = cg->dir[0].path;
	if (strncmp(want, mount, ml) || want[ml] != '/')
		return sk_error(err, 0, "cgroup \"%s\" is not below the cgroup2 mount %s", want, mount);
	want += ml;
	if (sk_sd_attach(cg->sd.name, cg->sd.user, pid, err) < 0)
		return -1;
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), err) < 0)
		return -1;
	const char *at = !strncmp(buf, "0::", 3) ? buf + 3 : strstr(buf, "\n0::");
	if (at && at != buf + 3)
		at += 4;
	size_t len = at ? strcspn(at, "\n") : 0;
	if (!at || len != strlen(want) || strncmp(at, want, len))
		return sk_error(err, 0, "systemd moved process %d of unit %s to cgroup \"%.*s\", not \"%s\"", (int)pid,
				cg->sd.name, (int)len, at ? at : "", want);
	return 0;
}
