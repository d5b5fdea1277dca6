/* plan: compile a bundle (create, validate) or one process (exec) into the
 * ordered steps the child walks.  See plan.h. */
#include "skiff/plan/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/log.h"
#include "skiff/plan/sysctl.h"
#include "skiff/base/util.h"

enum { MADE_SPEC = 1, MADE_PROC = 2, MADE_MOUNTS = 4, MADE_NS = 8 };

static const char *const step_names[SK_STEP_NKINDS] = {
	[SK_STEP_NAMESPACES] = "namespaces", [SK_STEP_KEYRING] = "keyring", [SK_STEP_ROOTFS] = "rootfs",
	[SK_STEP_MOUNT] = "mount", [SK_STEP_DEVICES] = "devices", [SK_STEP_DEV_READONLY] = "dev-readonly", [SK_STEP_HOOKS_CREATE] = "hooks-create",
	[SK_STEP_PIVOT] = "pivot", [SK_STEP_SYSCTL] = "sysctl", [SK_STEP_READONLY] = "readonly",
	[SK_STEP_MASK] = "mask", [SK_STEP_ROOT_READONLY] = "root-readonly",
	[SK_STEP_ROOT_PROPAGATION] = "root-propagation", [SK_STEP_HOSTNAME] = "hostname",
	[SK_STEP_DOMAINNAME] = "domainname", [SK_STEP_JOIN] = "join", [SK_STEP_TERMINAL] = "terminal",
	[SK_STEP_HOME] = "home", [SK_STEP_LSM] = "lsm", [SK_STEP_PERSONALITY] = "personality",
	[SK_STEP_SCHEDULER] = "scheduler", [SK_STEP_IO_PRIORITY] = "io-priority",
	[SK_STEP_MEMORY_POLICY] = "memory-policy",
	[SK_STEP_CPU_AFFINITY] = "cpu-affinity", [SK_STEP_RLIMITS] = "rlimits", [SK_STEP_USER] = "user",
	[SK_STEP_CAPS] = "caps", [SK_STEP_RESOLVE] = "resolve", [SK_STEP_NO_NEW_PRIVS] = "no-new-privs",
	[SK_STEP_FDS] = "fds", [SK_STEP_SECCOMP] = "seccomp", [SK_STEP_CAPS_FINAL] = "caps-final",
	[SK_STEP_READY] = "ready", [SK_STEP_WAIT_START] = "wait-start", [SK_STEP_HOOKS_START] = "hooks-start",
	[SK_STEP_EXEC] = "exec",
};

const char *sk_step_name(enum sk_step_kind k)
{
	return k < SK_STEP_NKINDS && step_names[k] ? step_names[k] : "?";
}

/* Steps are appended to an array sized for the worst case up front. */
static void add(struct sk_plan *p, enum sk_step_kind kind, size_t index)
{
	p->steps[p->n_steps++] = (struct sk_step){ .kind = kind, .index = (uint32_t)index };
}

/* The process tail, the init's and exec's alike. */
static void process_steps(struct sk_plan *p)
{
	const struct sk_process *pr = p->process;
	const struct sk_process_plan *pp = &p->proc;
	if (pr->terminal)
		add(p, SK_STEP_TERMINAL, 0);
	if (pp->need_home)
		add(p, SK_STEP_HOME, 0);
	if ((pr->apparmor_profile && *pr->apparmor_profile) || (pr->selinux_label && *pr->selinux_label))
		add(p, SK_STEP_LSM, 0);
	if (pp->has_personality)
		add(p, SK_STEP_PERSONALITY, 0);
	if (pr->scheduler.present)
		add(p, SK_STEP_SCHEDULER, 0);
	if (pr->io_priority.present)
		add(p, SK_STEP_IO_PRIORITY, 0);
	if (p->cspec->has_linux && p->cspec->linux_.memory_policy.present)
		add(p, SK_STEP_MEMORY_POLICY, 0);
	if (pp->exec && pp->has_affinity_final)
		add(p, SK_STEP_CPU_AFFINITY, 0);
	if (pr->n_rlimits)
		add(p, SK_STEP_RLIMITS, 0);
	add(p, SK_STEP_USER, 0);
	add(p, SK_STEP_CAPS, 0);
	add(p, SK_STEP_RESOLVE, 0);
	if (pr->no_new_privileges)
		add(p, SK_STEP_NO_NEW_PRIVS, 0);
	/* Before the filter, which may not allow close_range. */
	add(p, SK_STEP_FDS, 0);
	if (p->has_seccomp) {
		add(p, SK_STEP_SECCOMP, 0);
		if (p->keep_admin)
			add(p, SK_STEP_CAPS_FINAL, 0);
	}
}

static int alloc_steps(struct sk_plan *p, size_t n, struct sk_err *err)
{
	p->steps = malloc(n * sizeof(*p->steps));
	return p->steps ? 0 : sk_error(err, ENOMEM, "plan");
}

static int create_steps(struct sk_plan *p, const struct sk_plan_opts *o, struct sk_err *err)
{
	const struct sk_spec *s = &p->spec;
	const struct sk_linux *l = &s->linux_;
	size_t n_ro = s->has_linux ? l->n_readonly_paths : 0, n_mask = s->has_linux ? l->n_masked_paths : 0;
	if (alloc_steps(p, SK_STEP_NKINDS + p->mounts.n_steps + n_ro + n_mask, err) < 0)
		return -1;
	const struct sk_hooks *h = &s->hooks;
	add(p, SK_STEP_NAMESPACES, 0);
	if (!o->no_new_keyring)
		add(p, SK_STEP_KEYRING, 0);
	add(p, SK_STEP_ROOTFS, 0);
	for (size_t i = 0; i < p->mounts.n_steps; i++)
		add(p, SK_STEP_MOUNT, i);
	if (!p->mounts.dev_is_bind)
		add(p, SK_STEP_DEVICES, 0);
	if (p->mounts.dev_readonly)
		add(p, SK_STEP_DEV_READONLY, 0);
	/* prestart/createRuntime run in the parent, createContainer here, all
	 * before pivot_root (runtime-spec runtime.md steps 5-7); the parent
	 * also hands over the state startContainer hooks get. */
	if (h->n[SK_HOOK_PRESTART] || h->n[SK_HOOK_CREATE_RUNTIME] || h->n[SK_HOOK_CREATE_CONTAINER] ||
	    h->n[SK_HOOK_START_CONTAINER])
		add(p, SK_STEP_HOOKS_CREATE, 0);
	add(p, SK_STEP_PIVOT, p->share_mntns ? SK_PIVOT_CHROOT : o->no_pivot ? SK_PIVOT_MOVE : SK_PIVOT_ROOT);
	/* sysctls before read-only and masked paths, which cover /proc/sys. */
	if (s->has_linux && l->n_sysctl)
		add(p, SK_STEP_SYSCTL, 0);
	for (size_t i = 0; i < n_ro; i++)
		add(p, SK_STEP_READONLY, i);
	for (size_t i = 0; i < n_mask; i++)
		add(p, SK_STEP_MASK, i);
	if (s->root.readonly)
		add(p, SK_STEP_ROOT_READONLY, 0);
	if (p->mounts.has_root_propagation)
		add(p, SK_STEP_ROOT_PROPAGATION, 0);
	if (s->hostname && *s->hostname)
		add(p, SK_STEP_HOSTNAME, 0);
	if (s->domainname && *s->domainname)
		add(p, SK_STEP_DOMAINNAME, 0);
	process_steps(p);
	add(p, SK_STEP_READY, 0);
	add(p, SK_STEP_WAIT_START, 0);
	if (h->n[SK_HOOK_START_CONTAINER])
		add(p, SK_STEP_HOOKS_START, 0);
	add(p, SK_STEP_EXEC, 0);
	return 0;
}

/* config.json as read, parsed, and the rootfs found. */
static int load_bundle(const struct sk_plan_opts *o, struct sk_plan *p, struct sk_err *err)
{
	const char *b = o->bundle ? o->bundle : ".";
	p->bundle = realpath(b, NULL);
	if (!p->bundle)
		return sk_error(err, errno, "bundle \"%s\"", b);
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/config.json", p->bundle) >= (int)sizeof(path))
		return sk_error(err, ENAMETOOLONG, "bundle \"%s\"", p->bundle);
	if (sk_read_file_at(AT_FDCWD, path, "config.json", SK_SPEC_MAX_BYTES, &p->config_buf, &p->config_len, err) < 0 ||
	    sk_spec_parse("config.json", p->config_buf, p->config_len, &p->spec, err) < 0)
		return -1;
	p->made |= MADE_SPEC;
	const struct sk_spec *s = &p->spec;
	if (!s->has_process)
		return sk_error(err, 0, "config.json: process: required to create a container");
	if (!s->root.path || !*s->root.path)
		return sk_error(err, 0, "config.json: root.path: missing");
	char rp[PATH_MAX];
	if (s->root.path[0] == '/')
		snprintf(rp, sizeof(rp), "%s", s->root.path);
	else if (snprintf(rp, sizeof(rp), "%s/%s", p->bundle, s->root.path) >= (int)sizeof(rp))
		return sk_error(err, ENAMETOOLONG, "root.path");
	p->rootfs = realpath(rp, NULL);
	if (!p->rootfs)
		return sk_error(err, errno, "rootfs \"%s\"", rp);
	struct stat sb;
	if (stat(p->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return sk_error(err, ENOTDIR, "rootfs \"%s\"", p->rootfs);
	return 0;
}

/* The process is pid 1 of its namespace: tell it the fds are its own. */
static int add_listen_env(struct sk_spec *s, long listen, struct sk_err *err)
{
	char **env = realloc(s->process.env, (s->process.n_env + 3) * sizeof(char *));
	if (!env)
		return sk_error(err, ENOMEM, "LISTEN_FDS");
	s->process.env = env;
	char buf[32];
	snprintf(buf, sizeof(buf), "LISTEN_FDS=%ld", listen);
	char *fds = strdup(buf), *pid = strdup("LISTEN_PID=1");
	if (!fds || !pid) {
		free(fds);
		free(pid);
		return sk_error(err, ENOMEM, "LISTEN_FDS");
	}
	env[s->process.n_env++] = fds;
	env[s->process.n_env++] = pid;
	env[s->process.n_env] = NULL;
	return 0;
}

/* No mount namespace, or ours joined by path (pivot_root there would move
 * the root of every process of ours): the init mounts in our namespace,
 * under a bind of the rootfs, and chroots.  A new user namespace may not. */
static int plan_mntns(struct sk_plan *p, struct sk_err *err)
{
	int fd = p->ns.join_fd[SK_NS_MNT];
	struct stat a, b;
	if (fd >= 0 && (fstat(fd, &a) < 0 || stat("/proc/self/ns/mnt", &b) < 0))
		return sk_error(err, errno, "compare the mount namespace to join with skiff's");
	p->share_mntns = !sk_spec_namespace(&p->spec, SK_NS_MNT) ||
			 (fd >= 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	if (p->share_mntns && sk_spec_namespace(&p->spec, SK_NS_USER))
		return sk_error(err, 0, "config.json: linux.namespaces: a user namespace needs a mount namespace "
				"of its own");
	return 0;
}

static int plan_seccomp(struct sk_plan *p, int cache_fd, struct sk_err *err)
{
	const struct sk_seccomp *sc = &p->cspec->linux_.seccomp;
	if (!p->cspec->has_linux || !sc->present)
		return 0;
	int r = cache_fd >= 0 ? sk_seccomp_compile_cached(sc, cache_fd, &p->seccomp, err)
			      : sk_seccomp_compile(sc, &p->seccomp, err);
	if (r < 0)
		return -1;
	p->has_seccomp = true;
	/* Loading a filter without no_new_privs needs CAP_SYS_ADMIN, which
	 * the final capability sets may lack. */
	p->keep_admin = !p->process->no_new_privileges;
	return 0;
}

int sk_plan_bundle(const struct sk_plan_opts *o, struct sk_plan *p, struct sk_err *err)
{
	memset(p, 0, sizeof(*p));
	p->kind = SK_PLAN_CREATE;
	p->cspec = &p->spec;
	int r = -1;
	if (load_bundle(o, p, err) < 0)
		goto out;
	struct sk_spec *s = &p->spec;
	p->process = &s->process;
	if (sk_sysctl_check(s, err) < 0 || sk_cgroup_check(s->has_linux ? &s->linux_.resources : NULL, err) < 0 ||
	    (o->listen_fds && add_listen_env(s, o->listen_fds, err) < 0))
		goto out;
	if (sk_process_plan_build(s, &s->process, false, &p->proc, err) < 0) {
		sk_error_wrap(err, "config.json");
		goto out;
	}
	p->made |= MADE_PROC;
	if (sk_mount_plan_build(s, p->bundle, &p->mounts, err) < 0) {
		sk_error_wrap(err, "config.json");
		goto out;
	}
	p->made |= MADE_MOUNTS;
	if (sk_ns_plan_build(s, &p->ns, err) < 0) {
		sk_error_wrap(err, "config.json");
		goto out;
	}
	p->made |= MADE_NS;
	if (plan_mntns(p, err) < 0)
		goto out;
	if (plan_seccomp(p, o->seccomp_cache_fd, err) < 0) {
		sk_error_wrap(err, "config.json");
		goto out;
	}
	r = create_steps(p, o, err);
out:
	if (r < 0)
		sk_plan_free(p);
	return r;
}

int sk_plan_process(const struct sk_spec *spec, const struct sk_process *process, int seccomp_cache_fd,
		    struct sk_plan *p, struct sk_err *err)
{
	memset(p, 0, sizeof(*p));
	p->kind = SK_PLAN_EXEC;
	p->cspec = spec;
	p->process = process;
	if (sk_process_plan_build(spec, process, true, &p->proc, err) < 0)
		return -1;
	p->made |= MADE_PROC;
	if (plan_seccomp(p, seccomp_cache_fd, err) < 0 || alloc_steps(p, SK_STEP_NKINDS, err) < 0) {
		sk_plan_free(p);
		return -1;
	}
	add(p, SK_STEP_JOIN, 0);
	process_steps(p);
	/* oomScoreAdj is written from outside, as for the init: the process
	 * waits for that only when there is one. */
	if (process->has_oom_score_adj)
		add(p, SK_STEP_READY, 0);
	add(p, SK_STEP_EXEC, 0);
	return 0;
}

void sk_plan_free(struct sk_plan *p)
{
	if (p->made & MADE_NS)
		sk_ns_plan_close(&p->ns);
	if (p->made & MADE_MOUNTS)
		sk_mount_plan_free(&p->mounts);
	if (p->made & MADE_PROC)
		sk_process_plan_free(&p->proc);
	if (p->has_seccomp)
		sk_seccomp_prog_free(&p->seccomp);
	if (p->made & MADE_SPEC)
		sk_spec_free(&p->spec);
	free(p->steps);
	free(p->config_buf);
	free(p->bundle);
	free(p->rootfs);
	memset(p, 0, sizeof(*p));
}

/* What a step acts on, for the log. */
static void describe(const struct sk_plan *p, const struct sk_step *st, char *buf, size_t cap)
{
	const struct sk_spec *s = p->cspec;
	buf[0] = '\0';
	switch (st->kind) {
	case SK_STEP_NAMESPACES:
		snprintf(buf, cap, "clone 0x%lx, unshare 0x%lx%s", p->ns.clone_flags, p->ns.unshare_flags,
			 p->ns.child_joins ? ", joins paths" : "");
		break;
	case SK_STEP_ROOTFS:
		snprintf(buf, cap, "%s%s", p->rootfs, p->share_mntns ? " (in the runtime's mount namespace)" : "");
		break;
	case SK_STEP_MOUNT: {
		const struct sk_mount_step *m = &p->mounts.steps[st->index];
		snprintf(buf, cap, "mounts[%zu] %s %s on %s", m->index, m->type ? m->type : "bind", m->source,
			 m->destination);
		break;
	}
	case SK_STEP_PIVOT:
		snprintf(buf, cap, "%s", st->index == SK_PIVOT_CHROOT ? "chroot" : st->index == SK_PIVOT_MOVE
			 ? "move onto / and chroot (--no-pivot)" : "pivot_root");
		break;
	case SK_STEP_READONLY:
		snprintf(buf, cap, "%s", s->linux_.readonly_paths[st->index]);
		break;
	case SK_STEP_MASK:
		snprintf(buf, cap, "%s", s->linux_.masked_paths[st->index]);
		break;
	case SK_STEP_HOSTNAME:
		snprintf(buf, cap, "%s", s->hostname);
		break;
	case SK_STEP_DOMAINNAME:
		snprintf(buf, cap, "%s", s->domainname);
		break;
	case SK_STEP_USER:
		snprintf(buf, cap, "uid %u gid %u, cwd %s", p->process->user.uid, p->process->user.gid,
			 p->process->cwd);
		break;
	case SK_STEP_MEMORY_POLICY:
		snprintf(buf, cap, "%s nodes \"%s\" flags 0x%x", sk_mpol_mode_name(s->linux_.memory_policy.mode),
			 s->linux_.memory_policy.nodes ? s->linux_.memory_policy.nodes : "", s->linux_.memory_policy.flags);
		break;
	case SK_STEP_SECCOMP:
		snprintf(buf, cap, "%u instructions%s", p->seccomp.len, p->seccomp.notify ? ", listener" : "");
		break;
	case SK_STEP_EXEC:
		snprintf(buf, cap, "%s", p->process->args[0]);
		break;
	default:
		break;
	}
}

void sk_plan_log(const struct sk_plan *p)
{
	if (!sk_log_debug_enabled())
		return;
	char what[PATH_MAX + 64];
	for (size_t i = 0; i < p->n_steps; i++) {
		describe(p, &p->steps[i], what, sizeof(what));
		sk_debug("plan: %zu %s%s%s", i + 1, sk_step_name(p->steps[i].kind), *what ? " " : "", what);
	}
}
