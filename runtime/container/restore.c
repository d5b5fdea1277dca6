/* restore: a container from CRIU images (restore.h). */
#include "skiff/container/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/base/fdpass.h"
#include "skiff/base/log.h"
#include "skiff/base/pidfd.h"
#include "skiff/base/util.h"
#include "skiff/cgroup/cgroup.h"
#include "skiff/container/state.h"
#include "skiff/plan/hooks.h"
#include "skiff/plan/inroot.h"
#include "skiff/plan/plan.h"
#include "skiff/plan/terminal.h"
#include "skiff/spec/json.h"

/* The devices create makes, which are bind mounts in a user namespace;
 * checkpoint records them as external mounts under the same names. */
static const char *const default_devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					       "/dev/urandom", "/dev/tty" };

struct restore {
	const struct sk_restore_opts *o;
	struct sk_plan plan;
	bool have_plan, dir_made, have_cg, cg_made, root_bound;
	int root_fd, dir_fd, img, work, console_fd;
	int ns_fds[SK_NS_NTYPES];
	struct sk_cgroup cg;
	struct sk_kv cg_paths[SK_CG_MAX_DIRS];
	struct sk_criu c;
	bool have_criu, empty_net;
	char criu_root[PATH_MAX], work_abs[PATH_MAX], created[48];
	char *desc[3];
	char *own_cgroups;             /* /proc/self/cgroup, for cgroup_swap */
	struct sk_state st;
};

/* runc's hooks of a restore, at CRIU's setup-namespaces (the restored
 * init's namespaces exist, its processes not yet): prestart (state
 * "created", as create gives it) and createRuntime ("creating").
 * createContainer and startContainer run inside a container that create
 * builds, which CRIU builds here instead: runc runs neither, nor does
 * skiff. */
static int run_hooks(struct restore *r, int pid, struct sk_err *err)
{
	const struct sk_hooks *h = &r->plan.spec.hooks;
	if (!h->n[SK_HOOK_PRESTART] && !h->n[SK_HOOK_CREATE_RUNTIME])
		return 0;
	r->st.pid = pid;
	int rc = 0;
	const enum sk_hook_kind kinds[] = { SK_HOOK_PRESTART, SK_HOOK_CREATE_RUNTIME };
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		if (!h->n[kinds[i]])
			continue;
		char *json = sk_state_oci_json(&r->st, i == 0 ? SK_STATUS_CREATED : SK_STATUS_CREATING, err);
		rc = json ? sk_hooks_run(kinds[i], h, json, r->plan.bundle, err) : -1;
		free(json);
	}
	r->st.pid = 0;
	return rc;
}

static int notify(void *arg, const char *script, int pid, int fd, struct sk_err *err)
{
	struct restore *r = arg;
	if (!strcmp(script, "setup-namespaces"))
		return run_hooks(r, pid, err);
	if (strcmp(script, "orphan-pts-master"))
		return 0;
	/* CRIU made a new pty master for the restored terminal (the old
	 * one stayed with whoever held it): it goes where create's went. */
	if (fd < 0)
		return sk_error(err, 0, "criu sent no pty master");
	if (r->console_fd < 0)
		return sk_error(err, 0, "the container has a terminal: --console-socket is required");
	return sk_fd_send(r->console_fd, fd, NULL, err);
}

/* descriptors.json (checkpoint.h): a JSON array of the init's fds 0-2. */
static int read_descriptors(struct restore *r, struct sk_err *err)
{
	char *buf = NULL;
	size_t len;
	struct sk_jdoc doc;
	if (sk_read_file_at(r->img, "descriptors.json", "descriptors.json", 1u << 20, &buf, &len, err) < 0)
		return sk_error_wrap(err, "--image-path \"%s\"", r->o->criu.image_path);
	int rc = sk_jdoc_parse("descriptors.json", buf, len, &doc, err);
	free(buf);
	if (rc < 0)
		return -1;
	const struct sk_jv *v = doc.root;
	if (v->type != SK_JARR)
		rc = sk_error(err, 0, "descriptors.json: not an array");
	for (size_t i = 0; rc == 0 && i < v->n && i < 3; i++) {
		if (v->u.items[i].type != SK_JSTR)
			rc = sk_error(err, 0, "descriptors.json: [%zu]: not a string", i);
		else if (!(r->desc[i] = strdup(v->u.items[i].u.s)))
			rc = sk_error(err, ENOMEM, "descriptors.json");
	}
	sk_jdoc_free(&doc);
	return rc;
}

static int open_images(struct restore *r, struct sk_err *err)
{
	if (sk_criu_dirs(&r->o->criu, false, &r->img, &r->work, r->work_abs, sizeof(r->work_abs), err) < 0)
		return sk_error_wrap(err, "--image-path");
	if (faccessat(r->img, "inventory.img", R_OK, 0) < 0)
		return sk_error(err, errno, "--image-path \"%s\": no checkpoint there (inventory.img)",
				r->o->criu.image_path);
	r->empty_net = r->o->criu.n_empty_ns > 0 || faccessat(r->img, SK_CRIU_EMPTY_NET_MARK, F_OK, 0) == 0;
	return read_descriptors(r, err);
}

/* Whether dest lies under the destination of a tmpfs of the plan (whose
 * contents CRIU restores itself). */
static bool under_tmpfs(const struct sk_mount_plan *mp, const char *dest)
{
	for (size_t i = 0; i < mp->n_steps; i++) {
		const struct sk_mount_step *t = &mp->steps[i];
		size_t n = strlen(t->destination);
		if (t->type && !strcmp(t->type, "tmpfs") && !strncmp(dest, t->destination, n) && dest[n] == '/')
			return true;
	}
	return false;
}

/* CRIU mounts on existing mount points only, and a rootfs made anew (podman
 * --import) lacks those create made: make them, as create does (a file for
 * a bind of a file), except under a tmpfs. */
static int mount_points(struct restore *r, struct sk_err *err)
{
	int rootfd = open(r->plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sk_error(err, errno, "open rootfs %s", r->plan.rootfs);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->plan.mounts.n_steps; i++) {
		const struct sk_mount_step *st = &r->plan.mounts.steps[i];
		if (under_tmpfs(&r->plan.mounts, st->destination))
			continue;
		struct stat sb;
		bool file = st->kind == SK_MOUNT_BIND && stat(st->source, &sb) == 0 && !S_ISDIR(sb.st_mode);
		int fd;
		rc = sk_inroot_resolve(rootfd, st->destination, file ? SK_CREATE_FILE : SK_CREATE_DIR, &fd, err);
		if (rc == 0)
			close(fd);
	}
	close(rootfd);
	return rc;
}

/* CRIU wants its root to be a mount point whose parent is not mounted
 * over: a recursive bind of the rootfs in the state directory. */
static int bind_root(struct restore *r, struct sk_err *err)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/self/fd/%d", r->dir_fd);
	ssize_t n = readlink(dir, r->criu_root, sizeof(r->criu_root) - sizeof("/criu-root"));
	if (n < 0)
		return sk_error(err, errno, "readlink %s", dir);
	memcpy(r->criu_root + n, "/criu-root", sizeof("/criu-root"));
	if (mkdirat(r->dir_fd, "criu-root", 0700) < 0)
		return sk_error(err, errno, "mkdir %s", r->criu_root);
	if (mount(r->plan.rootfs, r->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;
		unlinkat(r->dir_fd, "criu-root", AT_REMOVEDIR);
		return sk_error(err, e, "bind %s on %s", r->plan.rootfs, r->criu_root);
	}
	r->root_bound = true;
	return 0;
}

static void unbind_root(struct restore *r)
{
	if (!r->root_bound)
		return;
	if (umount2(r->criu_root, MNT_DETACH) < 0)
		sk_log(SK_LOG_WARN, "umount %s: %s", r->criu_root, sk_errno_name(errno));
	unlinkat(r->dir_fd, "criu-root", AT_REMOVEDIR);
	r->root_bound = false;
}

static const char *join_name(enum sk_ns_type t)
{
	switch (t) {
	case SK_NS_MNT: return "mnt";
	case SK_NS_IPC: return "ipc";
	case SK_NS_UTS: return "uts";
	case SK_NS_USER: return "user";
	case SK_NS_TIME: return "time";
	default: return NULL;
	}
}

/* The options only restore has: the root, mounts, namespaces, cgroups,
 * stdio and the terminal. */
static int restore_options(struct restore *r, struct sk_err *err)
{
	struct sk_criu *c = &r->c;
	const struct sk_spec *spec = &r->plan.spec;
	const struct sk_linux *l = &spec->linux_;
	sk_criu_apply(c, &r->o->criu, r->img, r->work, "restore.log", r->empty_net);
	sk_criu_set_bool(c, NULL, "evasive_devices", true);
	/* The restored init is our child, as create's is. */
	sk_criu_set_bool(c, NULL, "rst_sibling", true);
	sk_criu_set_str(c, NULL, "root", r->criu_root);
	if (r->o->lsm_profile)
		sk_criu_set_str(c, NULL, "lsm_profile", r->o->lsm_profile);
	if (r->o->lsm_mount_context)
		sk_criu_set_str(c, NULL, "lsm_mount_context", r->o->lsm_mount_context);
	for (size_t i = 0; i < r->plan.mounts.n_steps; i++) {
		const struct sk_mount_step *st = &r->plan.mounts.steps[i];
		if (st->kind == SK_MOUNT_BIND)
			sk_criu_ext_mount(c, st->destination, st->source);
	}
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		sk_criu_ext_mount(c, default_devices[i], default_devices[i]);
	for (size_t i = 0; i < l->n_devices; i++)
		sk_criu_ext_mount(c, l->devices[i].path, l->devices[i].path);
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct sk_namespace *ns = &l->namespaces[i];
		if (!ns->path)
			continue;
		if (ns->type == SK_NS_NET || ns->type == SK_NS_PID) {
			int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return sk_error(err, errno, "open namespace %s", ns->path);
			r->ns_fds[ns->type] = fd;
			sk_criu_pass_fd(c, ns->type == SK_NS_NET ? "extRootNetNS" : "extRootPidNS", fd);
		} else if (join_name(ns->type)) {
			struct ProtobufCMessage *j = sk_criu_add_msg(c, "join_ns");
			if (j) {
				sk_criu_set_str(c, j, "ns", join_name(ns->type));
				sk_criu_set_str(c, j, "ns_file", ns->path);
			}
		} else {
			return sk_error(err, 0, "cannot restore into a %s namespace given by path (%s)",
					sk_ns_type_name(ns->type), ns->path);
		}
	}
	/* The caller's stdio replaces the pipes the init had. */
	for (int fd = 0; fd < 3; fd++)
		if (r->desc[fd] && !strncmp(r->desc[fd], "pipe:", 5))
			sk_criu_inherit_fd(c, r->desc[fd], fd);
	/* CRIU puts the tree where it was, rebased on the new cgroup. */
	for (size_t i = 0; i < r->cg.n; i++) {
		const struct sk_cgroup_dir *d = &r->cg.dir[i];
		struct ProtobufCMessage *cg = sk_criu_add_msg(c, "cg_root");
		if (cg && !(r->cg.v2 && i == 0))
			sk_criu_set_str(c, cg, "ctrl", d->name);
		if (cg)
			sk_criu_set_str(c, cg, "path", d->path + d->mount_len);
	}
	return 0;
}

/* Move this process into the cgroup of each hierarchy that dir i of cg
 * names: the container's (rel NULL), or the one at rel under the same
 * mount. */
static int move_self(const struct sk_cgroup_dir *d, const char *rel, struct sk_err *err)
{
	char path[PATH_MAX];
	if (rel)
		snprintf(path, sizeof(path), "%.*s%s/cgroup.procs", (int)d->mount_len, d->path, rel);
	else
		snprintf(path, sizeof(path), "%s/cgroup.procs", d->path);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sk_error(err, e, "move into %s", path);
	}
	close(fd);
	return 0;
}

/* Our own cgroup in the hierarchy of d, from /proc/self/cgroup's text. */
static char *own_cgroup(const char *text, const struct sk_cgroup_dir *d, bool v2)
{
	for (const char *line = text; *line;) {
		const char *nl = strchrnul(line, '\n'), *c1 = memchr(line, ':', (size_t)(nl - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (c2 && (v2 ? c2 == c1 + 1 && !strncmp(line, "0:", 2)
			      : (size_t)(c2 - c1 - 1) == strlen(d->name) && !strncmp(c1 + 1, d->name, strlen(d->name))))
			return strndup(c2 + 1, (size_t)(nl - c2 - 1));
		line = *nl ? nl + 1 : nl;
	}
	return NULL;
}

/* --manage-cgroups-mode ignore: CRIU leaves the tree where criu swrk is,
 * so this process (its parent) stands in the container's cgroup during
 * the restore, as runc puts criu there, and goes back afterwards. */
static int cgroup_swap(struct restore *r, bool in, struct sk_err *err)
{
	if (!r->o->criu.manage_cgroups_mode || strcmp(r->o->criu.manage_cgroups_mode, "ignore"))
		return 0;
	for (size_t i = 0; i < r->cg.n; i++) {
		const struct sk_cgroup_dir *d = &r->cg.dir[i];
		if (in) {
			if (move_self(d, NULL, err) < 0)
				return -1;
			continue;
		}
		char *own = own_cgroup(r->own_cgroups, d, r->cg.v2 && i == 0);
		int rc = own ? move_self(d, own, err) : sk_error(err, ENOENT, "own cgroup in %s", d->path);
		free(own);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void restore_cleanup(struct restore *r)
{
	struct sk_err ignored;
	unbind_root(r);
	if (r->cg_made) {
		sk_cgroup_kill_each(&r->cg, &ignored);
		if (sk_cgroup_destroy(&r->cg, &ignored) < 0)
			sk_log(SK_LOG_WARN, "%s", ignored.msg);
	}
	if (r->dir_made)
		sk_state_remove(r->root_fd, r->o->id, &ignored);
}

static void restore_free(struct restore *r)
{
	if (r->have_cg)
		sk_cgroup_close(&r->cg);
	if (r->have_plan)
		sk_plan_free(&r->plan);
	for (int i = 0; i < 3; i++)
		free(r->desc[i]);
	free(r->own_cgroups);
	for (int i = 0; i < SK_NS_NTYPES; i++)
		if (r->ns_fds[i] >= 0)
			close(r->ns_fds[i]);
	if (r->have_criu)
		sk_criu_close(&r->c);
	const int fds[] = { r->img, r->work, r->console_fd, r->dir_fd, r->root_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int save_config(struct restore *r, struct sk_err *err)
{
	int fd = openat(r->dir_fd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_error(err, errno, "create \"%s/%s/config.json\"", r->o->root, r->o->id);
	int rc = sk_write_all(fd, r->plan.config_buf, r->plan.config_len);
	int e = errno;
	close(fd);
	return rc < 0 ? sk_error(err, e, "write \"%s/%s/config.json\"", r->o->root, r->o->id) : 0;
}

/* Check, record and make what the restored tree goes into. */
static int prepare(struct restore *r, struct sk_err *err)
{
	const struct sk_restore_opts *o = r->o;
	const struct sk_plan_opts po = { .bundle = o->bundle, .no_pivot = o->no_pivot, .seccomp_cache_fd = r->root_fd };
	if (sk_plan_bundle(&po, &r->plan, err) < 0)
		return -1;
	r->have_plan = true;
	const struct sk_spec *spec = &r->plan.spec;
	if (r->plan.share_mntns)
		return sk_error(err, 0, "cannot restore a container without its own mount namespace");
	if (sk_criu_load(&o->criu, &r->c, err) < 0)
		return -1;
	r->have_criu = true;
	if (open_images(r, err) < 0)
		return -1;
	if (spec->process.terminal) {
		if (!o->console_socket)
			return sk_error(err, 0, "process.terminal is true: --console-socket is required");
		r->console_fd = sk_console_socket_open(o->console_socket, err);
		if (r->console_fd < 0)
			return -1;
	}
	r->dir_fd = sk_state_lock(r->root_fd, o->id, true, err);
	if (r->dir_fd < 0)
		return -1;
	r->dir_made = true;
	if (save_config(r, err) < 0 || sk_cgroup_plan(spec, o->id, &r->cg, err) < 0)
		return -1;
	r->have_cg = true;
	sk_now_rfc3339(r->created, sizeof(r->created));
	r->st = (struct sk_state){
		.id = (char *)o->id, .bundle = r->plan.bundle, .rootfs = r->plan.rootfs, .created = r->created,
		.cgroup_path = (char *)sk_cgroup_path(&r->cg),
		.cgroup_paths = r->cg_paths, .n_cgroup_paths = sk_cgroup_v1_paths(&r->cg, r->cg_paths, SK_CG_MAX_DIRS),
		.owner = geteuid(), .annotations = spec->annotations, .n_annotations = spec->n_annotations,
		.poststart_hooks = spec->hooks.n[SK_HOOK_POSTSTART] > 0,
		.poststop_hooks = spec->hooks.n[SK_HOOK_POSTSTOP] > 0,
	};
	/* Recorded before anything is made: a restore killed from here on
	 * leaves what `delete` cleans up. */
	if (sk_state_write(r->dir_fd, &r->st, err) < 0 || sk_cgroup_make(spec, &r->cg, err) < 0)
		return -1;
	r->cg_made = true;
	size_t len;
	if (sk_read_file_at(AT_FDCWD, "/proc/self/cgroup", NULL, 1u << 20, &r->own_cgroups, &len, err) < 0)
		return -1;
	if (mount_points(r, err) < 0 || bind_root(r, err) < 0)
		return -1;
	return restore_options(r, err);
}

int sk_container_restore(const struct sk_restore_opts *o, struct sk_created *out, struct sk_err *err)
{
	struct restore r = { .o = o, .root_fd = -1, .dir_fd = -1, .img = -1, .work = -1, .console_fd = -1 };
	for (int i = 0; i < SK_NS_NTYPES; i++)
		r.ns_fds[i] = -1;
	out->pid = 0;
	out->pidfd = out->pty_master = -1;
	if (sk_criu_opts_check(&o->criu, err) < 0 || sk_state_validate_id(o->id, err) < 0)
		return -1;
	if (o->foreground) {
		sigset_t fwd;
		sk_container_forwarded(&fwd);
		sigprocmask(SIG_BLOCK, &fwd, &out->saved_mask);
	}
	int rc = -1;
	r.root_fd = sk_state_open_root(o->root, err);
	if (r.root_fd < 0 || prepare(&r, err) < 0)
		goto fail;
	struct sk_err back = { 0 };
	if (cgroup_swap(&r, true, err) < 0) {
		cgroup_swap(&r, false, &back);
		goto fail;
	}
	const struct sk_criu_req_ctx x = { .what = "criu restore", .log = "restore.log", .work_abs = r.work_abs,
					   .work = r.work, .notify = notify, .arg = &r };
	int pid = 0;
	int crc = sk_criu_request(&r.c, SK_CRIU_RESTORE, &x, &pid, err);
	if (cgroup_swap(&r, false, &back) < 0 && crc == 0) {
		*err = back;
		goto kill;
	}
	if (crc < 0 || pid <= 0) {
		if (crc == 0)
			sk_error(err, 0, "criu restore gave no pid");
		goto fail;
	}
	out->pid = r.st.pid = pid;
	unbind_root(&r);
	int pidfd = sk_pidfd_open(pid);
	if (pidfd < 0) {
		sk_error(err, errno, "pidfd_open %d", (int)pid);
		goto kill;
	}
	if (sk_proc_start_time(pid, &r.st.start_time, err) < 0 || sk_state_write(r.dir_fd, &r.st, err) < 0 ||
	    (o->pid_file && sk_write_pid_file(o->pid_file, pid, err) < 0)) {
		sk_pidfd_signal(pidfd, SIGKILL);
		close(pidfd);
		goto kill;
	}
	if (o->foreground)
		out->pidfd = pidfd;
	else
		close(pidfd);
	rc = 0;
	goto out;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
fail:
	restore_cleanup(&r);
	if (o->foreground)
		sigprocmask(SIG_SETMASK, &out->saved_mask, NULL);
out:
	restore_free(&r);
	return rc;
}
