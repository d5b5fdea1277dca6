/* cgroup, as root: real cgroups on this machine's hierarchies, through the
 * library interface.  Each test checks the backend that serves the
 * controller here (cgroup v1 on the hybrid development host, cgroup2 in
 * tests/vm/run) and skips only when none does; a v1-only ("legacy") host
 * is made by hiding the cgroup2 mount in a private mount namespace.  A
 * child is started the way the init is: clone3 into the cgroup2 directory,
 * then sk_cgroup_enter for the v1 ones. */
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "cgroup_test.h"
#include "skiff/cgroup/v1.h"
#include "skiff/container/events.h"

TestSuite(cgroup_root, .fini = cleanup);

Test(cgroup_root, create_destroy_no_controllers)
{
	need_root();
	char *p = unique("plain");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg, again;
	prepare_ok(&s, &cg);
	cr_assert(cg.created);
	cr_assert_eq(cg.v2, host->v2);
	for (size_t i = 0; i < cg.n; i++) {
		char want[512];
		snprintf(want, sizeof(want), "%s%s", host->h[i].mount, p);
		cr_assert_str_eq(cg.dir[i].path, want);
		cr_assert_eq(access(want, F_OK), 0);
	}
	struct sk_stats stats;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_events_stats(&cg, &stats, &err), 0, "%s", err.msg);
	sk_events_stats_free(&stats);
	reopen(&cg, &again);
	destroy_ok(&cg);
	/* Gone already: open says ENOENT, destroy is no error. */
	cr_assert_eq(sk_cgroup_destroy(&again, &err), 0, "%s", err.msg);
	struct sk_kv kv[SK_CG_MAX_DIRS];
	size_t n = sk_cgroup_v1_paths(&again, kv, SK_CG_MAX_DIRS);
	cr_assert_eq(sk_cgroup_open(sk_cgroup_path(&again), kv, n, &cg, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);
	sk_cgroup_close(&again);
	free(p);
}

Test(cgroup_root, default_path_from_id)
{
	need_root();
	struct sk_spec s = spec_at(NULL);
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	char id[64];
	snprintf(id, sizeof(id), "skiff-ut-%d-default", (int)getpid());
	cr_assert_eq(sk_cgroup_prepare(&s, id, &cg, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < cg.n; i++)
		cr_assert_str_eq(strrchr(cg.dir[i].path, '/') + 1, id);
	destroy_ok(&cg);
}

Test(cgroup_root, nested_path_and_hugetlb)
{
	char b = need_controller(SK_CG_HUGETLB);
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK))
		cr_skip_test("no 2MB huge pages on this kernel");
	char *top = unique("nest"), path[256];
	snprintf(path, sizeof(path), "%s/a/b", top);
	struct sk_spec s = spec_at(path);
	struct sk_hugepage_limit h = { (char *)"2MB", 4 << 21 };
	s.linux_.resources.hugepage_limits = &h;
	s.linux_.resources.n_hugepage_limits = 1;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, b == 'v' ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max", "8388608");
	if (b == '2') {
		char ctl[512], buf[256];
		snprintf(ctl, sizeof(ctl), "%s%s/a/cgroup.subtree_control", host->h[0].mount, top);
		FILE *f = fopen(ctl, "r");
		cr_assert_not_null(f);
		cr_assert_not_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		cr_assert(strstr(buf, "hugetlb"), "%s: %s", ctl, buf);
	}
	destroy_ok(&cg);
	/* Parents stay: they may be shared. */
	for (size_t i = 0; i < host->n; i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s%s/a", host->h[i].mount, top);
		cr_assert_eq(rmdir(dir), 0, "%s: %s", dir, strerror(errno));
		snprintf(dir, sizeof(dir), "%s%s", host->h[i].mount, top);
		cr_assert_eq(rmdir(dir), 0, "%s: %s", dir, strerror(errno));
	}
	free(top);
}

Test(cgroup_root, missing_controller_is_named)
{
	need_root();
	static const enum sk_cgroup_ctrl try[] = { SK_CG_MEMORY, SK_CG_PIDS, SK_CG_RDMA };
	enum sk_cgroup_ctrl c = SK_CG_NCTRL;
	for (size_t i = 0; i < 3 && c == SK_CG_NCTRL; i++)
		if (!backend(try[i]))
			c = try[i];
	if (c == SK_CG_NCTRL)
		cr_skip_test("memory, pids and rdma are all served here: nothing missing to report");
	char *top = unique("miss"), path[256];
	snprintf(path, sizeof(path), "%s/leaf", top);
	struct sk_spec s = spec_at(path);
	struct sk_resources *r = &s.linux_.resources;
	struct sk_rdma_limit rd = { (char *)"mlx4_0", true, 2, false, 0 };
	const char *why = c == SK_CG_RDMA ? "linux.resources.rdma" : c == SK_CG_PIDS ? "linux.resources.pids"
										     : "linux.resources.memory";
	r->memory = (typeof(r->memory)){ .present = c == SK_CG_MEMORY, .has_limit = true, .limit = 1 << 26 };
	r->pids = (typeof(r->pids)){ .present = c == SK_CG_PIDS, .has_limit = c == SK_CG_PIDS, .limit = 10 };
	if (c == SK_CG_RDMA) {
		r->rdma = &rd;
		r->n_rdma = 1;
	}
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &cg, &err), -1);
	char want[512];
	if (host->v2)
		snprintf(want, sizeof(want), "cgroup: controller \"%s\" is not available in %s (needed by %s)",
			 sk_cgroup_ctrl_name(c), host->h[0].mount, why);
	else
		snprintf(want, sizeof(want), "cgroup: controller \"%s\" is not available: no cgroup v1 hierarchy has it "
			 "and there is no cgroup2 mount (needed by %s)", sk_cgroup_ctrl_name(c), why);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(cg.n, 0);
	/* Nothing left behind in any hierarchy, parents included. */
	for (size_t i = 0; i < host->n; i++) {
		char made[512];
		snprintf(made, sizeof(made), "%s%s", host->h[i].mount, top);
		cr_assert_eq(access(made, F_OK), -1, "%s left behind", made);
	}
	free(top);
}

Test(cgroup_root, existing_cgroup_reused_or_refused)
{
	need_root();
	char *p = unique("exist"), path[512];
	snprintf(path, sizeof(path), "%s%s", host->h[0].mount, p);
	cr_assert_eq(mkdir(path, 0755), 0);
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg, busy;
	prepare_ok(&s, &cg);
	cr_assert_not(cg.created);
	/* With a process in it, it belongs to someone: refused. */
	pid_t pid = spawn_in(&cg, sleeper, NULL);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &busy, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "cgroup \"%s\" already exists and has processes in it", path);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(access(path, F_OK), 0, "a refused prepare removed a cgroup it did not make");
	cr_assert_eq(sk_cgroup_signal(&cg, SIGKILL, &err), 0, "%s", err.msg);
	int st = wait_status(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* With a sub-cgroup, the init would land in an inner node: refused. */
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub", path);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &busy, &err), -1);
	snprintf(want, sizeof(want), "cgroup \"%s\" already exists and has sub-cgroups", path);
	cr_assert_str_eq(err.msg, want);
	destroy_ok(&cg);
	free(p);
}

Test(cgroup_root, open_checks_path)
{
	need_root();
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_open("/etc", NULL, 0, &cg, &err), -1);
	cr_assert(strstr(err.msg, "is not a cgroup2 directory"), "%s", err.msg);
	/* A hierarchy's root is no container's. */
	cr_assert_eq(sk_cgroup_open(host->h[0].mount, NULL, 0, &cg, &err), -1);
	cr_assert(strstr(err.msg, "is the root of"), "%s", err.msg);
	cr_assert_eq(sk_cgroup_open("relative", NULL, 0, &cg, &err), -1);
	char *p = unique("open");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup made;
	prepare_ok(&s, &made);
	reopen(&made, &cg);
	cr_assert_eq(cg.n, made.n);
	cr_assert_eq(cg.v2, made.v2);
	for (size_t i = 0; i < cg.n; i++) {
		cr_assert_str_eq(cg.dir[i].path, made.dir[i].path);
		cr_assert_eq(cg.dir[i].ctrls, made.dir[i].ctrls, "%s", cg.dir[i].name);
	}
	cr_assert_not(cg.created);
	sk_cgroup_close(&cg);
	cr_assert_eq(cg.n, 0);
	destroy_ok(&made);
	free(p);
}

static int try_kmsg_and_null(void *arg)
{
	(void)arg;
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return 10;
	close(fd);
	fd = open("/dev/kmsg", O_RDONLY);
	if (fd >= 0) {
		close(fd);
		return 0;   /* allowed */
	}
	return errno == EPERM ? 1 : 20;   /* 1: denied by the device rules */
}

static struct sk_device_rule rule(bool allow, char type, int64_t major, int64_t minor, const char *access)
{
	struct sk_device_rule r = { allow, type, major, minor, { 0 } };
	snprintf(r.access, sizeof(r.access), "%s", access);
	return r;
}

Test(cgroup_root, device_rules_enforced_and_replaced)
{
	need_root();
	if (access("/dev/kmsg", R_OK))
		cr_skip_test("no /dev/kmsg to be denied");
	char *p = unique("dev");
	struct sk_spec s = spec_at(p);
	struct sk_device_rule deny_all = rule(false, 'a', -1, -1, "rwm");
	s.linux_.resources.devices = &deny_all;
	s.linux_.resources.n_devices = 1;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	int st = wait_status(spawn_in(&cg, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: /dev/kmsg should be denied, /dev/null allowed", st);
	/* update: the old rules must be gone, not just joined by the new. */
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	struct sk_device_rule allow_kmsg[] = { rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 1, 11, "r") };
	upd.devices = allow_kmsg;
	upd.n_devices = 2;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	st = wait_status(spawn_in(&cg, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: /dev/kmsg should be allowed after update", st);
	/* Reusing the cgroup (prepare on an existing, empty one) replaces too. */
	struct sk_cgroup again;
	prepare_ok(&s, &again);
	st = wait_status(spawn_in(&again, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d after re-prepare", st);
	sk_cgroup_close(&again);
	destroy_ok(&cg);
	free(p);
}

struct counter { volatile unsigned long n; };

static int spin(void *arg)
{
	struct counter *c = arg;
	while (c->n + 1 != 0)
		c->n++;
	return 0;
}

static bool frozen(const struct sk_cgroup *cg)
{
	struct sk_kv kv[SK_CG_MAX_DIRS];
	size_t n = sk_cgroup_v1_paths(cg, kv, SK_CG_MAX_DIRS);
	return sk_cgroup_is_frozen(sk_cgroup_path(cg), kv, n) == 1;
}

Test(cgroup_root, freeze_thaw)
{
	need_root();
	char *p = unique("freeze");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	if (!(host->v1_ctrls & (1u << SK_CG_FREEZER)) && faccessat(sk_cgroup_v2_fd(&cg), "cgroup.freeze", F_OK, 0)) {
		destroy_ok(&cg);
		cr_skip_test("no freezer (no v1 hierarchy, no cgroup.freeze)");
	}
	struct counter *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(c, MAP_FAILED);
	pid_t pid = spawn_in(&cg, spin, c);
	while (c->n == 0)
		sleep_ms(1);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_freeze(&cg, true, &err), 0, "%s", err.msg);
	cr_assert(frozen(&cg));
	unsigned long a = c->n;
	sleep_ms(100);
	cr_assert_eq(c->n, a, "the frozen child made progress");
	cr_assert_eq(sk_cgroup_freeze(&cg, false, &err), 0, "%s", err.msg);
	cr_assert_not(frozen(&cg));
	for (int i = 0; i < 500 && c->n == a; i++)
		sleep_ms(1);
	cr_assert_gt(c->n, a, "the thawed child made no progress");
	/* A signal other than KILL leaves a frozen cgroup frozen... */
	cr_assert_eq(sk_cgroup_freeze(&cg, true, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_cgroup_signal(&cg, SIGCONT, &err), 0, "%s", err.msg);
	cr_assert(frozen(&cg));
	/* ... and killing a frozen cgroup works. */
	cr_assert_eq(sk_cgroup_signal(&cg, SIGKILL, &err), 0, "%s", err.msg);
	int st = wait_status(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	destroy_ok(&cg);
	munmap(c, sizeof(*c));
	free(p);
}

static int fork_and_sleep(void *arg)
{
	(void)arg;
	if (fork() < 0)
		return 1;
	return sleeper(NULL);
}

static void kill_test(bool fallback)
{
	need_root();
	char *p = unique(fallback ? "killeach" : "kill");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg, sub;
	prepare_ok(&s, &cg);
	/* A sub-cgroup (in every hierarchy) with its own process: kill
	 * reaches it too. */
	struct sk_err err = { 0 };
	for (size_t i = 0; i < cg.n; i++) {
		char dir[600];
		snprintf(dir, sizeof(dir), "%s/sub", cg.dir[i].path);
		cr_assert_eq(mkdir(dir, 0755), 0);
		/* An empty v1 cpuset takes no process. */
		if (cg.dir[i].ctrls & (1u << SK_CG_CPUSET)) {
			int fd = open(dir, O_RDONLY | O_DIRECTORY);
			cr_assert_eq(sk_cg1_cpuset_fill(cg.dir[i].fd, fd, dir, "", &err), 0, "%s", err.msg);
			close(fd);
		}
	}
	reopen(&cg, &sub);
	cr_assert_eq(sk_cgroup_open_sub(&sub, "sub", &err), 0, "%s", err.msg);
	pid_t a = spawn_in(&cg, fork_and_sleep, NULL);
	pid_t b = spawn_in(&sub, sleeper, NULL);
	sk_cgroup_close(&sub);
	for (int i = 0; i < 1000 && count_pids(&cg) < 3; i++)
		sleep_ms(1);
	cr_assert_eq(count_pids(&cg), 3);
	int rc = fallback ? sk_cgroup_kill_each(&cg, &err) : sk_cgroup_signal(&cg, SIGKILL, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	int st = wait_status(a);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = wait_status(b);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %d", st);
	destroy_ok(&cg);   /* the orphaned grandchild is waited for, the sub-cgroups removed */
	free(p);
}

Test(cgroup_root, kill_all) { kill_test(false); }
Test(cgroup_root, kill_each_fallback) { kill_test(true); }

Test(cgroup_root, destroy_names_what_is_left)
{
	need_root();
	char *p = unique("busy");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	pid_t pid = spawn_in(&cg, sleeper, NULL);
	pid_t *pids;
	size_t n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_pids(&cg, &pids, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(pids[0], pid);
	free(pids);
	cr_assert_eq(sk_cgroup_destroy(&cg, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "remove cgroup \"%s\": processes still in it: %d", sk_cgroup_path(&cg), (int)pid);
	cr_assert_str_eq(err.msg, want);
	kill(pid, SIGKILL);
	wait_status(pid);
	destroy_ok(&cg);
	free(p);
}

/* A v1-only ("legacy") host: the cgroup2 mount hidden in a private mount
 * namespace of this test's own process, before the library first reads
 * the hierarchies (each test is a process of its own). */
Test(cgroup_root, legacy_host)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	char cg2[256] = "", line[4096];
	bool v1 = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		v1 = v1 || strstr(line, " - cgroup ");
		if (!cg2[0] && strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %255s", cg2) != 1)
			cg2[0] = '\0';
	}
	fclose(f);
	if (!cg2[0] || !v1)
		cr_skip_test("not a hybrid host: no legacy one to make of it");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "%s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(umount2(cg2, MNT_DETACH), 0, "umount %s: %s", cg2, strerror(errno));
	need_root();
	cr_assert_str_eq(sk_cgroup_backend(), "legacy");
	cr_assert_not(host->v2);
	char *p = unique("legacy");
	struct sk_spec s = spec_at(p);
	s.linux_.resources.pids = (typeof(s.linux_.resources.pids)){ .present = true, .has_limit = true, .limit = 50 };
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	cr_assert_not(cg.v2);
	cr_assert_eq(sk_cgroup_v2_fd(&cg), -1);
	file_is(&cg, "pids.max", "50");
	/* No clone3 into a cgroup2 directory: the v1 ones are joined. */
	pid_t a = spawn_in(&cg, fork_and_sleep, NULL);
	for (int i = 0; i < 1000 && count_pids(&cg) < 2; i++)
		sleep_ms(1);
	cr_assert_eq(count_pids(&cg), 2);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_freeze(&cg, true, &err), 0, "%s", err.msg);
	cr_assert(frozen(&cg));
	file_is(&cg, "freezer.state", "FROZEN");
	cr_assert_eq(sk_cgroup_freeze(&cg, false, &err), 0, "%s", err.msg);
	/* No cgroup.kill: frozen, signalled, thawed. */
	cr_assert_eq(sk_cgroup_signal(&cg, SIGKILL, &err), 0, "%s", err.msg);
	int st = wait_status(a);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	file_is(&cg, "freezer.state", "THAWED");
	destroy_ok(&cg);
	free(p);
}
