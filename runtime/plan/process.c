/* process: the process a container runs: its plan (env, CPU sets, HOME),
 * and the child's steps for user, LSM labels, scheduling, rlimits, the
 * executable lookup and execve.  See process.h. */
#include "skiff/plan/process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff/base/log.h"
#include "skiff/base/rootless.h"
#include "skiff/base/util.h"
#include "skiff/plan/inroot.h"

/* ---- parent: the plan ---- */

static bool blank(char c) { return c == ' ' || c == '\t'; }

static int cpu_number(const char **s, unsigned long *out)
{
	const char *p = *s;
	if (*p < '0' || *p > '9')
		return -1;
	unsigned long x = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((x = x * 10 + (unsigned long)(*p - '0')) >= CPU_SETSIZE)
			x = CPU_SETSIZE;
	*s = p;
	*out = x;
	return 0;
}

int sk_cpuset_parse(const char *list, cpu_set_t *set, struct sk_err *err)
{
	CPU_ZERO(set);
	bool any = false;
	const char *s = list;
	while (*s) {
		while (blank(*s))
			s++;
		if (*s == ',') {
			s++;
			continue;
		}
		if (!*s)
			break;
		unsigned long lo, hi;
		if (cpu_number(&s, &lo) < 0)
			return sk_error(err, 0, "invalid CPU list \"%s\"", list);
		hi = lo;
		if (*s == '-') {
			s++;
			if (cpu_number(&s, &hi) < 0 || hi < lo)
				return sk_error(err, 0, "invalid CPU list \"%s\"", list);
		}
		while (blank(*s))
			s++;
		if (*s && *s++ != ',')
			return sk_error(err, 0, "invalid CPU list \"%s\"", list);
		if (hi >= CPU_SETSIZE)
			return sk_error(err, 0, "CPU list \"%s\": CPUs above %d are not supported", list,
					CPU_SETSIZE - 1);
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		any = true;
	}
	if (!any)
		return sk_error(err, 0, "invalid CPU list \"%s\": no CPU", list);
	return 0;
}

static bool apparmor_enabled(void)
{
	char buf[8];
	struct sk_err ignored;
	return access("/sys/kernel/security/apparmor", F_OK) == 0 &&
	       sk_read_small_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", buf, sizeof(buf), &ignored) > 0 &&
	       buf[0] == 'Y';
}

static bool selinux_enabled(void)
{
	struct statfs sf;
	return statfs("/sys/fs/selinux", &sf) == 0 && sf.f_type == (typeof(sf.f_type))SELINUX_MAGIC;
}

struct env_key { const char *s; size_t len, index; };

static int env_key_cmp(const void *a, const void *b)
{
	const struct env_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);
	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* envp: env in order without the entries a later one with the same name
 * overrides (runc's prepareEnv) and without an empty HOME, which gets
 * replaced.  Sorting keeps this O(n log n) whatever the config holds. */
static int build_env(struct sk_process_plan *pp, struct sk_err *err)
{
	const struct sk_process *p = pp->proc;
	size_t n = p->n_env;
	pp->envp = calloc(n + 2, sizeof(char *));
	struct env_key *keys = calloc(n ? n : 1, sizeof(*keys));
	bool *drop = calloc(n ? n : 1, sizeof(bool));
	int r = 0;
	if (!pp->envp || !keys || !drop) {
		r = sk_error(err, ENOMEM, "process.env");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(p->env[i], '=');
		if (!eq || eq == p->env[i]) {
			r = sk_error(err, 0, "process.env[%zu]: \"%s\" is not NAME=VALUE", i, p->env[i]);
			goto out;
		}
		keys[i] = (struct env_key){ p->env[i], (size_t)(eq - p->env[i]), i };
	}
	qsort(keys, n, sizeof(*keys), env_key_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (keys[i].len == keys[i + 1].len && memcmp(keys[i].s, keys[i + 1].s, keys[i].len) == 0)
			drop[keys[i].index] = true;
	pp->need_home = true;
	for (size_t i = 0; i < n; i++) {
		const char *e = p->env[i];
		if (drop[i])
			continue;
		if (strncmp(e, "HOME=", 5) == 0) {
			if (!e[5])
				continue;
			pp->need_home = false;
		}
		if (strncmp(e, "PATH=", 5) == 0)
			pp->path = e + 5;
		pp->envp[pp->n_env++] = p->env[i];
	}
out:
	free(keys);
	free(drop);
	return r;
}

int sk_process_plan_build(const struct sk_spec *spec, const struct sk_process *p, bool exec,
			  struct sk_process_plan *pp, struct sk_err *err)
{
	memset(pp, 0, sizeof(*pp));
	pp->proc = p;
	pp->exec = exec;

	const struct sk_personality *per = &spec->linux_.personality;
	if (per->present) {
		if (per->n_flags)
			return sk_error(err, 0, "linux.personality.flags: \"%s\" is not supported "
				       "(the runtime-spec defines no flags)", per->flags[0]);
		/* spec.c admits only the domains "LINUX" and "LINUX32". */
		pp->personality = strcmp(per->domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
		pp->has_personality = true;
	}
	if (p->exec_cpu_affinity_initial) {
		if (sk_cpuset_parse(p->exec_cpu_affinity_initial, &pp->affinity_initial, err) < 0)
			return sk_error_wrap(err, "process.execCPUAffinity.initial");
		pp->has_affinity_initial = true;
	}
	if (p->exec_cpu_affinity_final) {
		if (sk_cpuset_parse(p->exec_cpu_affinity_final, &pp->affinity_final, err) < 0)
			return sk_error_wrap(err, "process.execCPUAffinity.final");
		pp->has_affinity_final = true;
	}
	/* The init sees the container's /sys: ask the host's here. */
	if (p->apparmor_profile && *p->apparmor_profile && !apparmor_enabled())
		return sk_error(err, 0, "process.apparmorProfile: apparmor profile \"%s\" requested "
			       "but AppArmor is not enabled on this host", p->apparmor_profile);
	if (p->selinux_label && *p->selinux_label && !selinux_enabled())
		return sk_error(err, 0, "process.selinuxLabel: selinux label \"%s\" requested "
			       "but SELinux is not enabled on this host", p->selinux_label);

	pp->argv = calloc(p->n_args + 1, sizeof(char *));
	if (!pp->argv)
		return sk_error(err, ENOMEM, "process.args");
	memcpy(pp->argv, p->args, p->n_args * sizeof(char *));
	if (build_env(pp, err) < 0) {
		sk_process_plan_free(pp);
		return -1;
	}
	return 0;
}

static int own_oom(int *v, struct sk_err *err)
{
	char buf[32];
	if (sk_read_small_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, sizeof(buf), err) < 0)
		return -1;
	*v = atoi(buf);
	return 0;
}

static int write_own_oom(int v, struct sk_err *err)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", v);
	/* The sealed binary is not dumpable, which gives our /proc files to
	 * the host's root: dumpable for this open only (the container has no
	 * process yet, and the caller owns us anyway). */
	bool undump = prctl(PR_GET_DUMPABLE) == 0;
	if (undump && prctl(PR_SET_DUMPABLE, 1) < 0)
		return sk_error(err, errno, "prctl PR_SET_DUMPABLE 1");
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	int e = errno;
	if (undump && prctl(PR_SET_DUMPABLE, 0) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		return sk_error(err, e, "prctl PR_SET_DUMPABLE 0");
	}
	if (fd < 0)
		return sk_error(err, e, "open /proc/self/oom_score_adj");
	int r = sk_write_all(fd, buf, (size_t)n) < 0 ? sk_error(err, errno, "write /proc/self/oom_score_adj") : 0;
	close(fd);
	return r;
}

int sk_process_rootless_check(const struct sk_process_plan *pp, struct sk_err *err)
{
	const struct sk_process *p = pp->proc;
	int own;
	if (p->has_oom_score_adj) {
		if (own_oom(&own, err) < 0)
			return -1;
		if (p->oom_score_adj < own)
			return sk_error(err, 0, "process.oomScoreAdj %d: below the caller's own (%d), which needs "
					"privileges a rootless caller has not", p->oom_score_adj, own);
	}
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct sk_rlimit *r = &p->rlimits[i];
		struct rlimit cur;
		if (getrlimit((__rlimit_resource_t)r->resource, &cur) < 0)
			return sk_error(err, errno, "process.rlimits: getrlimit %s", r->type);
		if (cur.rlim_max != RLIM_INFINITY && r->hard > cur.rlim_max)
			return sk_error(err, 0, "process.rlimits: %s hard %llu is above the caller's hard limit %llu, "
					"which needs privileges a rootless caller has not", r->type,
					(unsigned long long)r->hard, (unsigned long long)cur.rlim_max);
	}
	return 0;
}

int sk_process_oom_inherit_begin(const struct sk_process_plan *pp, int *saved, struct sk_err *err)
{
	*saved = INT_MIN;
	if (!pp->proc->has_oom_score_adj)
		return 0;
	int own;
	if (own_oom(&own, err) < 0 || write_own_oom(pp->proc->oom_score_adj, err) < 0)
		return sk_error_wrap(err, "process.oomScoreAdj");
	*saved = own;
	return 0;
}

void sk_process_oom_inherit_end(int saved)
{
	struct sk_err ignored;
	/* Back down to where we were: allowed, being no lower than before. */
	if (saved != INT_MIN && write_own_oom(saved, &ignored) < 0)
		sk_log(SK_LOG_WARN, "process.oomScoreAdj: restoring our own: %s", ignored.msg);
}

int sk_process_set_oom_score_adj(const struct sk_process_plan *pp, pid_t pid, struct sk_err *err)
{
	if (!pp->proc->has_oom_score_adj || sk_rootless_auto())
		return 0;
	char path[64], v[16];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	int n = snprintf(v, sizeof(v), "%d", pp->proc->oom_score_adj);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "process.oomScoreAdj: open \"%s\"", path);
	int r = 0;
	if (sk_write_all(fd, v, (size_t)n) < 0)
		r = sk_error(err, errno, "process.oomScoreAdj: write \"%s\" to \"%s\"", v, path);
	close(fd);
	return r;
}

void sk_process_plan_free(struct sk_process_plan *pp)
{
	free(pp->argv);
	free(pp->envp);
	pp->argv = pp->envp = NULL;
}

/* ---- child: prepare ---- */

/* Field 6 (home) of the line of uid in a passwd line, or NULL. */
static const char *passwd_match(char *line, uid_t uid, size_t *len)
{
	char *f[7] = { line };
	size_t nf = 1;
	for (char *c = line; *c && nf < 7; c++)
		if (*c == ':') {
			*c = '\0';
			f[nf++] = c + 1;
		}
	if (nf < 6 || !*f[2] || strspn(f[2], "0123456789") != strlen(f[2]))
		return NULL;
	errno = 0;
	unsigned long v = strtoul(f[2], NULL, 10);
	if (errno || v != uid)
		return NULL;
	*len = strlen(f[5]);
	return f[5];
}

/* The home of uid in the container's /etc/passwd into out; "/" when the
 * file or the uid is not there (runc's default), or the file is not a
 * regular file (a FIFO would block, a device never end). */
static void passwd_home(uid_t uid, char *out, size_t cap)
{
	snprintf(out, cap, "/");
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return;
	}
	char buf[8192];
	size_t have = 0;            /* always < sizeof(buf) between reads */
	bool skipping = false;      /* inside a line longer than buf: ignored */
	bool eof = false;
	while (!eof) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			eof = true;
			if (!have || skipping)
				break;
			buf[have++] = '\n';  /* a last line without one */
		} else {
			have += (size_t)n;
		}
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			size_t len;
			const char *home = skipping ? NULL : passwd_match(line, uid, &len);
			if (home) {
				if (len && len < cap)
					memcpy(out, home, len + 1);
				close(fd);
				return;
			}
			skipping = false;
			line = nl + 1;
		}
		size_t rest = have - (size_t)(line - buf);
		if (rest == sizeof(buf)) {
			skipping = true;
			rest = 0;
		}
		memmove(buf, line, rest);
		have = rest;
	}
	close(fd);
}

static int write_lsm_attrs(int proc, const struct sk_process *p, struct sk_err *err)
{
	char buf[PATH_MAX];
	if (p->apparmor_profile && *p->apparmor_profile) {
		int n = snprintf(buf, sizeof(buf), "exec %s", p->apparmor_profile);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return sk_error(err, ENAMETOOLONG, "process.apparmorProfile");
		/* The LSM-specific file first; kernels before 5.1 have only the shared one. */
		if (sk_proc_write(proc, "self/attr/apparmor/exec", buf, (size_t)n, err) < 0 &&
		    (err->errnum != ENOENT || sk_proc_write(proc, "self/attr/exec", buf, (size_t)n, err) < 0))
			return sk_error_wrap(err, "process.apparmorProfile \"%s\"", p->apparmor_profile);
	}
	if (p->selinux_label && *p->selinux_label &&
	    sk_proc_write(proc, "self/attr/exec", p->selinux_label, strlen(p->selinux_label), err) < 0)
		return sk_error_wrap(err, "process.selinuxLabel \"%s\"", p->selinux_label);
	return 0;
}

int sk_process_lsm(const struct sk_process_plan *pp, struct sk_err *err)
{
	int proc = sk_proc_open(err);
	if (proc < 0)
		return -1;
	int r = write_lsm_attrs(proc, pp->proc, err);
	close(proc);
	return r;
}

/* sched_setattr(2)'s argument, first version (SCHED_ATTR_SIZE_VER0):
 * <linux/sched/types.h> cannot be included next to glibc's <sched.h>. */
struct sched_attr_v0 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

int sk_process_scheduler(const struct sk_process_plan *pp, struct sk_err *err)
{
	const struct sk_scheduler *s = &pp->proc->scheduler;
	struct sched_attr_v0 a = {
		.size = sizeof(a),
		.sched_policy = (uint32_t)s->policy,
		.sched_flags = s->flags,
		.sched_nice = s->nice,
		.sched_priority = (uint32_t)s->priority,
		.sched_runtime = s->runtime,
		.sched_deadline = s->deadline,
		.sched_period = s->period,
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return sk_error(err, errno, "process.scheduler: sched_setattr (policy %d, nice %d, priority %d, flags 0x%x)",
				s->policy, s->nice, s->priority, s->flags);
	return 0;
}

void sk_process_home(struct sk_process_plan *pp)
{
	char home[PATH_MAX];
	passwd_home(pp->proc->user.uid, home, sizeof(home));
	snprintf(pp->home, sizeof(pp->home), "HOME=%s", home);
	pp->envp[pp->n_env] = pp->home;
}

int sk_process_personality(const struct sk_process_plan *pp, struct sk_err *err)
{
	if (personality(pp->personality) < 0)
		return sk_error(err, errno, "linux.personality: personality(0x%lx)", pp->personality);
	return 0;
}

int sk_process_io_priority(const struct sk_process_plan *pp, struct sk_err *err)
{
	const struct sk_process *p = pp->proc;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    IOPRIO_PRIO_VALUE(p->io_priority.class_, p->io_priority.priority)) < 0)
		return sk_error(err, errno, "process.ioPriority: ioprio_set (class %d, priority %d)",
				p->io_priority.class_, p->io_priority.priority);
	return 0;
}

int sk_process_memory_policy(const struct sk_memory_policy *m, struct sk_err *err)
{
	/* maxnode counts one past the mask's bits (set_mempolicy(2)). */
	unsigned long maxnode = m->n_nodes ? SK_MPOL_MAX_NODES + 1 : 0;
	if (syscall(SYS_set_mempolicy, m->mode | (int)m->flags, m->n_nodes ? m->nodemask : NULL, maxnode) < 0)
		return sk_error(err, errno, "linux.memoryPolicy: set_mempolicy(%s, flags 0x%x, nodes \"%s\")",
				sk_mpol_mode_name(m->mode), m->flags, m->nodes ? m->nodes : "");
	return 0;
}

int sk_process_cpu_affinity(const struct sk_process_plan *pp, struct sk_err *err)
{
	if (sched_setaffinity(0, sizeof(pp->affinity_final), &pp->affinity_final) < 0)
		return sk_error(err, errno, "process.execCPUAffinity.final \"%s\": sched_setaffinity",
				pp->proc->exec_cpu_affinity_final);
	return 0;
}

int sk_process_rlimits(const struct sk_process_plan *pp, struct sk_err *err)
{
	const struct sk_process *p = pp->proc;
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct sk_rlimit *r = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
		if (setrlimit((__rlimit_resource_t)r->resource, &rl) < 0)
			return sk_error(err, errno, "process.rlimits: %s (soft %llu, hard %llu)", r->type,
					(unsigned long long)r->soft, (unsigned long long)r->hard);
	}
	return 0;
}

/* ---- child: user ---- */

static int cwd_error(const char *cwd, int e, struct sk_err *err)
{
	return sk_error(err, e, "chdir to cwd (\"%s\") set in config.json failed", cwd);
}

/* Stdio pipes and sockets belong to the runtime's uid: give them to the
 * process's so that it can reopen them (/dev/stdout), as runc does.  Files
 * and devices (the caller's terminal) are left alone; the container's own
 * pty is handed over by terminal.c.  EINVAL, EPERM and EROFS mean an owner
 * the user namespace cannot express: left as is. */
static int give_stdio(uid_t uid, struct sk_err *err)
{
	for (int fd = 0; fd <= 2; fd++) {
		struct stat sb;
		if (fstat(fd, &sb) < 0) {
			if (errno == EBADF)
				continue;
			return sk_error(err, errno, "stat stdio fd %d", fd);
		}
		if (sb.st_uid == uid || !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)))
			continue;
		if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
			return sk_error(err, errno, "give stdio fd %d to uid %u", fd, (unsigned)uid);
	}
	return 0;
}

int sk_process_set_user(const struct sk_process_plan *pp, bool in_userns, struct sk_err *err)
{
	const struct sk_process *p = pp->proc;
	const struct sk_user *u = &p->user;
	int pdeath = 0;
	if (prctl(PR_GET_PDEATHSIG, &pdeath) < 0)
		return sk_error(err, errno, "prctl(PR_GET_PDEATHSIG)");
	/* As root first: the runtime may reach directories the user cannot. */
	bool in_cwd = chdir(p->cwd) == 0;
	if (!in_cwd && errno != EACCES && errno != EPERM)
		return cwd_error(p->cwd, errno, err);
	if (give_stdio(u->uid, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return sk_error(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0) {
		/* A user namespace with setgroups "deny" keeps the groups it has. */
		if (errno == EPERM && in_userns && u->n_additional_gids)
			return sk_error(err, EPERM, "process.user.additionalGids: setgroups is denied in the "
				       "container's user namespace");
		if (!(errno == EPERM && in_userns))
			return sk_error(err, errno, "process.user.additionalGids: setgroups (%zu groups)",
					u->n_additional_gids);
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return errno == EINVAL ? sk_error(err, EINVAL, "process.user.gid: gid %u is not mapped in the "
						  "container's user namespace", u->gid)
				       : sk_error(err, errno, "process.user.gid: setresgid(%u)", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return errno == EINVAL ? sk_error(err, EINVAL, "process.user.uid: uid %u is not mapped in the "
						  "container's user namespace", u->uid)
				       : sk_error(err, errno, "process.user.uid: setresuid(%u)", u->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return sk_error(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (u->has_umask)
		umask((mode_t)(u->umask & 07777));
	else if (!pp->exec)
		umask(022);
	if (!in_cwd && chdir(p->cwd) < 0)
		return cwd_error(p->cwd, errno, err);
	/* getcwd fails with ENOENT when the cwd is outside our root: an fd of
	 * the host's leaked into the cwd (CVE-2024-21626). */
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd))) {
		if (errno != ENOENT)
			return sk_error(err, errno, "getcwd in \"%s\"", p->cwd);
		cwd[0] = '\0';
	}
	if (cwd[0] != '/')
		return sk_error(err, 0, "the working directory (\"%s\") is outside the container's root", p->cwd);
	if (pdeath && prctl(PR_SET_PDEATHSIG, pdeath) < 0)
		return sk_error(err, errno, "prctl(PR_SET_PDEATHSIG)");
	return 0;
}

/* ---- child: exec ---- */

/* 0 when path is a regular file the process may execute, else an errno. */
static int check_exe(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return errno;
	if (S_ISDIR(sb.st_mode))
		return EISDIR;
	if (!S_ISREG(sb.st_mode))
		return EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return errno;
	return 0;
}

/* "exec: NAME: no such file or directory: ENOENT": docker and podman read
 * the words (Go's, runc's) to tell a missing command (127) from one that
 * cannot be run (126); the name after them is skiff's convention. */
static int exec_error(struct sk_err *err, int e, const char *name)
{
	char words[64];
	snprintf(words, sizeof(words), "%s", strerrordesc_np(e) ? strerrordesc_np(e) : "error");
	words[0] = (char)tolower((unsigned char)words[0]);
	return sk_error(err, e, "exec: \"%s\": %s", name, words);
}

int sk_process_resolve(struct sk_process_plan *pp, struct sk_err *err)
{
	const char *name = pp->proc->args[0];
	if (strchr(name, '/')) {
		size_t len = strlen(name);
		if (len >= sizeof(pp->exe))
			return sk_error(err, ENAMETOOLONG, "exec: \"%s\"", name);
		int e = check_exe(name);
		if (e)
			return exec_error(err, e, name);
		memcpy(pp->exe, name, len + 1);
		return 0;
	}
	for (const char *dir = pp->path; *name && dir && *dir;) {
		const char *end = strchrnul(dir, ':');
		/* Relative entries would depend on the cwd: Go refuses them too. */
		if (*dir == '/') {
			int n = snprintf(pp->exe, sizeof(pp->exe), "%.*s/%s", (int)(end - dir), dir, name);
			if (n > 0 && (size_t)n < sizeof(pp->exe) && check_exe(pp->exe) == 0)
				return 0;
		}
		dir = *end ? end + 1 : end;
	}
	pp->exe[0] = '\0';
	return sk_error(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

int sk_process_no_new_privs(const struct sk_process_plan *pp, struct sk_err *err)
{
	if (pp->proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sk_error(err, errno, "process.noNewPrivileges: prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}

int sk_process_exec(const struct sk_process_plan *pp, struct sk_err *err)
{
	execve(pp->exe, pp->argv, pp->envp);
	return exec_error(err, errno, pp->exe);
}

