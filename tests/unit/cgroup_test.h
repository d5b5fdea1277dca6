/* Helpers for the cgroup tests that need root (test_cgroup_root.c,
 * test_cgroup_limits.c): the host's hierarchies, a unique cgroupsPath per
 * test, prepare/destroy checked in every hierarchy, a file read where its
 * controller is served, a child started the way the init is, and a
 * clean-up that finds what a failed test left in any hierarchy. */
#ifndef SKIFF_TEST_CGROUP_H
#define SKIFF_TEST_CGROUP_H

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/cgroup/fs.h"

static const struct sk_cgroup_host *host;
static int serial;

static inline void need_root(void)
{
	struct sk_err err = { 0 };
	if (geteuid() != 0)
		cr_skip_test("needs root");
	if (sk_cgroup_host(&host, &err) < 0 || !host->n)
		cr_skip_test("no cgroup hierarchy: %s", err.msg);
}

static inline bool v2_has(const char *name)
{
	char path[512], buf[512] = { 0 };
	if (!host->v2)
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", host->h[0].mount);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (!strcmp(t, name))
			return true;
	return false;
}

/* 'v' (its v1 hierarchy), '2' (cgroup2), or 0 when nothing serves c. */
static inline char backend(enum sk_cgroup_ctrl c)
{
	if (host->v1_ctrls & (1u << c))
		return 'v';
	return v2_has(sk_cgroup_ctrl_name(c)) ? '2' : 0;
}

static inline char need_controller(enum sk_cgroup_ctrl c)
{
	need_root();
	char b = backend(c);
	if (!b)
		cr_skip_test("controller \"%s\" is served by no hierarchy here", sk_cgroup_ctrl_name(c));
	return b;
}

/* A cgroupsPath no other test (or run) uses. */
static inline char *unique(const char *tag)
{
	char *s;
	cr_assert_neq(asprintf(&s, "/skiff-ut-%d-%d-%s", (int)getpid(), serial++, tag), -1);
	return s;
}

static inline struct sk_spec spec_at(const char *cgpath)
{
	struct sk_spec s;
	memset(&s, 0, sizeof(s));
	s.has_linux = true;
	s.linux_.cgroups_path = (char *)cgpath;
	return s;
}

/* What a test made, found again in every hierarchy, so that a failed one
 * leaves no process or cgroup behind. */
static inline void cleanup(void)
{
	const struct sk_cgroup_host *h;
	struct sk_err err;
	char prefix[64];
	if (geteuid() != 0 || sk_cgroup_host(&h, &err) < 0)
		return;
	snprintf(prefix, sizeof(prefix), "skiff-ut-%d-", (int)getpid());
	for (size_t i = 0; i < h->n; i++) {
		DIR *d = opendir(h->h[i].mount);
		for (struct dirent *e; d && (e = readdir(d));) {
			if (strncmp(e->d_name, prefix, strlen(prefix)))
				continue;
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", h->h[i].mount, e->d_name);
			int fd = open(path, O_RDONLY | O_DIRECTORY);
			struct sk_pidset ps = { 0 };
			if (fd >= 0 && sk_cgroup_collect(fd, path, &ps, &err) == 0)
				for (size_t k = 0; k < ps.n; k++)
					kill(ps.v[k], SIGKILL);
			free(ps.v);
			if (fd >= 0) {
				sk_cgroup_write_at(fd, path, "freezer.state", "THAWED", &err);
				sk_cgroup_write_at(fd, path, "cgroup.freeze", "0", &err);
				close(fd);
			}
			sk_cgroup_remove_tree(path, h->h[i].v2, sk_cgroup_now_ms() + 2000, &err);
		}
		if (d)
			closedir(d);
	}
}

static inline void prepare_ok(struct sk_spec *s, struct sk_cgroup *cg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(s, "ut", cg, &err), 0, "prepare: %s", err.msg);
	cr_assert_eq(cg->n, host->n, "a cgroup in every hierarchy");
}

static inline void destroy_ok(struct sk_cgroup *cg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_destroy(cg, &err), 0, "destroy: %s", err.msg);
	struct stat st;
	for (size_t i = 0; i < cg->n; i++)
		cr_assert_eq(stat(cg->dir[i].path, &st), -1, "%s still exists", cg->dir[i].path);
	sk_cgroup_close(cg);
}

/* The file name of the controller its prefix names, where it is served. */
static inline void file_is(const struct sk_cgroup *cg, const char *name, const char *want)
{
	static const struct { const char *prefix; enum sk_cgroup_ctrl c; } ctrl[] = {
		{ "memory.", SK_CG_MEMORY }, { "cpu.", SK_CG_CPU }, { "cpuset.", SK_CG_CPUSET },
		{ "pids.", SK_CG_PIDS }, { "io.", SK_CG_IO }, { "blkio.", SK_CG_IO }, { "hugetlb.", SK_CG_HUGETLB },
		{ "devices.", SK_CG_DEVICES }, { "freezer.", SK_CG_FREEZER },
	};
	int fd = sk_cgroup_v2_fd(cg);
	const char *path = sk_cgroup_path(cg);
	bool v2;
	for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++)
		if (!strncmp(name, ctrl[i].prefix, strlen(ctrl[i].prefix)))
			fd = sk_cgroup_ctrl_fd(cg, ctrl[i].c, &v2, &path);
	char buf[256];
	struct sk_err err = { 0 };
	cr_assert_geq(sk_cgroup_read_at(fd, path, name, buf, sizeof(buf), &err), 0, "%s", err.msg);
	buf[strcspn(buf, "\n")] = '\0';
	cr_assert_str_eq(buf, want, "%s/%s", path, name);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* A child started the way the init is.  It runs fn and exits with its
 * result (100 when it could not join the v1 directories). */
static inline pid_t spawn_in(struct sk_cgroup *cg, int (*fn)(void *), void *arg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_enter_prepare(cg, &err), 0, "%s", err.msg);
	int fd = sk_cgroup_v2_fd(cg);
	struct clone_args_v2 a = { .flags = fd >= 0 ? CLONE_INTO_CGROUP : 0, .exit_signal = SIGCHLD,
				   .cgroup = (uint64_t)(fd >= 0 ? fd : 0) };
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	cr_assert_neq(pid, -1, "clone3 into %s: %s", sk_cgroup_path(cg), strerror(errno));
	if (pid == 0)
		_exit(sk_cgroup_enter(cg, &err) < 0 ? 100 : fn(arg));
	sk_cgroup_enter_done(cg);
	return (pid_t)pid;
}

static inline int wait_status(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static inline int sleeper(void *arg)
{
	(void)arg;
	while (pause() < 0) {
	}
	return 0;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static inline size_t count_pids(const struct sk_cgroup *cg)
{
	pid_t *pids;
	size_t n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_pids(cg, &pids, &n, &err), 0, "%s", err.msg);
	free(pids);
	return n;
}

/* cg as its state records it, opened again (the caller closes it). */
static inline void reopen(const struct sk_cgroup *cg, struct sk_cgroup *out)
{
	struct sk_kv kv[SK_CG_MAX_DIRS];
	size_t n = sk_cgroup_v1_paths(cg, kv, SK_CG_MAX_DIRS);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_open(sk_cgroup_path(cg), kv, n, out, &err), 0, "%s", err.msg);
}

#endif
