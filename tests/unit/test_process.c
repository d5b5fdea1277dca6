#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/plan/caps.h"
#include "skiff/plan/process.h"
#include "skiff/plan/sysctl.h"

#define BIT(c) (UINT64_C(1) << (c))

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

/* ---- a config built by hand ---- */

static struct sk_spec spec;
static struct sk_namespace nss[SK_NS_NTYPES];
static struct sk_kv kvs[4];
static char *args[4];

static void reset(void)
{
	memset(&spec, 0, sizeof(spec));
	memset(nss, 0, sizeof(nss));
	memset(kvs, 0, sizeof(kvs));
	spec.has_process = true;
	spec.linux_.namespaces = nss;
	args[0] = "sh";
	args[1] = NULL;
	spec.process.args = args;
	spec.process.n_args = 1;
	spec.process.cwd = "/";
}

static void add_ns(enum sk_ns_type t, char *path)
{
	nss[spec.linux_.n_namespaces++] = (struct sk_namespace){ t, path };
}

static void add_sysctl(char *key, char *value)
{
	kvs[spec.linux_.n_sysctl++] = (struct sk_kv){ key, value };
	spec.linux_.sysctl = kvs;
}

/* ---- child processes: tests that change credentials run in a fork ---- */

/* In a child: report a failure on stderr and exit 1. */
static void check(bool ok, const char *fmt, ...)
{
	if (ok)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void run_child(void (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status 0x%x)", st);
}

/* A field of /proc/self/status: Cap* in hex, the others in decimal. */
static uint64_t status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	check(f != NULL, "open /proc/self/status");
	char line[256];
	size_t len = strlen(name);
	unsigned long long v = ~0ULL;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			v = strtoull(line + len + 1, NULL, strncmp(name, "Cap", 3) == 0 ? 16 : 10);
	fclose(f);
	return v;
}

static void expect_caps(uint64_t bnd, uint64_t eff, uint64_t prm, uint64_t inh, uint64_t amb)
{
	check(status_field("CapBnd") == bnd, "CapBnd %llx != %llx", (unsigned long long)status_field("CapBnd"), (unsigned long long)bnd);
	check(status_field("CapEff") == eff, "CapEff %llx != %llx", (unsigned long long)status_field("CapEff"), (unsigned long long)eff);
	check(status_field("CapPrm") == prm, "CapPrm %llx != %llx", (unsigned long long)status_field("CapPrm"), (unsigned long long)prm);
	check(status_field("CapInh") == inh, "CapInh %llx != %llx", (unsigned long long)status_field("CapInh"), (unsigned long long)inh);
	check(status_field("CapAmb") == amb, "CapAmb %llx != %llx", (unsigned long long)status_field("CapAmb"), (unsigned long long)amb);
}

/* ---- sysctl ---- */

static void sysctl_ok(void)
{
	struct sk_err err = { 0 };
	int r = sk_sysctl_check(&spec, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
}

static void sysctl_refused(const char *msg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sysctl_check(&spec, &err), -1);
	cr_assert_str_eq(err.msg, msg);
}

TestSuite(sysctl, .init = reset);

Test(sysctl, none_is_fine)
{
	sysctl_ok();
}

Test(sysctl, ipc_keys_need_an_ipc_namespace)
{
	add_sysctl("kernel.shmmax", "1000");
	add_sysctl("fs.mqueue.msg_max", "20");
	sysctl_refused("config.json: linux.sysctl: \"kernel.shmmax\" needs the container to have its own ipc "
		       "namespace, refusing to set it on the host");
	add_ns(SK_NS_IPC, NULL);
	sysctl_ok();
}

Test(sysctl, joining_the_hosts_namespace_is_refused)
{
	add_sysctl("net.ipv4.ip_forward", "1");
	add_ns(SK_NS_NET, "/proc/self/ns/net");
	sysctl_refused("config.json: linux.sysctl: \"net.ipv4.ip_forward\" needs the container to have its own "
		       "network namespace, refusing to set it on the host");
}

Test(sysctl, joining_another_namespace_is_fine)
{
	need_root();
	int ready[2], hold[2];
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(hold), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char b;
		close(hold[1]);
		if (unshare(CLONE_NEWNET | CLONE_NEWIPC) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		(void)!read(hold[0], &b, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char b;
	cr_assert_eq(read(ready[0], &b, 1), 1, "the child could not unshare");
	char net[64], ipc[64];
	snprintf(net, sizeof(net), "/proc/%d/ns/net", pid);
	snprintf(ipc, sizeof(ipc), "/proc/%d/ns/ipc", pid);
	add_sysctl("net.ipv4.ip_forward", "1");
	add_sysctl("kernel.msgmax", "1000");
	add_ns(SK_NS_NET, net);
	add_ns(SK_NS_IPC, ipc);
	sysctl_ok();
	close(hold[1]);
	close(ready[0]);
	waitpid(pid, NULL, 0);
}

Test(sysctl, net_keys)
{
	add_sysctl("net.core.somaxconn", "1024");
	sysctl_refused("config.json: linux.sysctl: \"net.core.somaxconn\" needs the container to have its own "
		       "network namespace, refusing to set it on the host");
	add_ns(SK_NS_NET, NULL);
	sysctl_ok();
}

Test(sysctl, uts_and_user_keys)
{
	add_sysctl("kernel.domainname", "example.org");
	add_sysctl("user.max_user_namespaces", "0");
	add_ns(SK_NS_UTS, NULL);
	sysctl_refused("config.json: linux.sysctl: \"user.max_user_namespaces\" needs the container to have its own "
		       "user namespace, refusing to set it on the host");
	add_ns(SK_NS_USER, NULL);
	sysctl_ok();
}

Test(sysctl, host_keys_are_refused)
{
	for (size_t i = 0; i < SK_NS_NTYPES; i++)
		add_ns((enum sk_ns_type)i, NULL);
	add_sysctl("vm.swappiness", "10");
	sysctl_refused("config.json: linux.sysctl: \"vm.swappiness\" is not namespaced, refusing to set it");
	kvs[0].key = "kernel.pid_max";
	sysctl_refused("config.json: linux.sysctl: \"kernel.pid_max\" is not namespaced, refusing to set it");
	kvs[0].key = "kernel.shm_rmid_forcedX";
	sysctl_refused("config.json: linux.sysctl: \"kernel.shm_rmid_forcedX\" is not namespaced, refusing to set it");
}

Test(sysctl, malformed_keys_are_refused)
{
	add_ns(SK_NS_NET, NULL);
	add_sysctl("", "1");
	static char *bad[] = { "", "net/ipv4/ip_forward", "net..ipv4", ".net.ipv4", "net.ipv4.", "net.ipv4/../../vm" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kvs[0].key = bad[i];
		char msg[256];
		snprintf(msg, sizeof(msg), "config.json: linux.sysctl: \"%s\" is not a valid key (dotted names only, "
			 "without \"/\" or empty components)", bad[i]);
		sysctl_refused(msg);
	}
}

Test(sysctl, missing_namespace_path)
{
	add_sysctl("net.ipv4.ip_forward", "1");
	add_ns(SK_NS_NET, "/nonexistent/ns");
	sysctl_refused("config.json: linux.sysctl: \"net.ipv4.ip_forward\": stat network namespace "
		       "\"/nonexistent/ns\": ENOENT");
}

static void apply_in_new_ipc_net(void)
{
	check(unshare(CLONE_NEWIPC | CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	struct sk_err err = { 0 };
	check(sk_sysctl_apply(&spec, &err) == 0, "%s", err.msg);
	char buf[64] = "";
	FILE *f = fopen("/proc/sys/kernel/shmmni", "r");
	check(f && fgets(buf, sizeof(buf), f), "read shmmni");
	fclose(f);
	check(strcmp(buf, "1234\n") == 0, "shmmni is %s", buf);
	f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	check(f && fgets(buf, sizeof(buf), f), "read ip_forward");
	fclose(f);
	check(strcmp(buf, "1\n") == 0, "ip_forward is %s", buf);
}

Test(sysctl, apply_writes_values)
{
	need_root();
	add_sysctl("kernel.shmmni", "1234");
	add_sysctl("net.ipv4.ip_forward", "1");
	run_child(apply_in_new_ipc_net);
}

static void apply_across_a_mount(void)
{
	check(unshare(CLONE_NEWIPC | CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	check(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private");
	check(mount("tmpfs", "/proc/sys/kernel", "tmpfs", 0, NULL) == 0, "mount tmpfs: %s", strerror(errno));
	int fd = open("/proc/sys/kernel/shmmni", O_CREAT | O_WRONLY, 0644);
	check(fd >= 0, "create fake shmmni");
	close(fd);
	struct sk_err err = { 0 };
	check(sk_sysctl_apply(&spec, &err) == -1, "wrote across a mount");
	check(strcmp(err.msg, "linux.sysctl: \"kernel.shmmni\" = \"1234\": open \"/proc/sys/kernel/shmmni\": EXDEV") == 0,
	      "message: %s", err.msg);
}

Test(sysctl, apply_never_crosses_a_mount)
{
	need_root();
	add_sysctl("kernel.shmmni", "1234");
	run_child(apply_across_a_mount);
}

/* ---- CPU lists ---- */

Test(cpuset, valid_lists)
{
	struct sk_err err = { 0 };
	cpu_set_t s;
	cr_assert_eq(sk_cpuset_parse("0-3,7", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&s), 5);
	for (int c = 0; c < 4; c++)
		cr_assert(CPU_ISSET(c, &s));
	cr_assert(CPU_ISSET(7, &s));
	cr_assert_eq(sk_cpuset_parse(" 1 , 3-4 ,, ", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&s), 3);
	cr_assert(CPU_ISSET(1, &s) && CPU_ISSET(3, &s) && CPU_ISSET(4, &s));
	cr_assert_eq(sk_cpuset_parse("0-1023", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&s), 1024);
	cr_assert_eq(sk_cpuset_parse("5-5", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&s), 1);
}

Test(cpuset, invalid_lists)
{
	static const char *bad[] = { "", " , ", "a", "1-", "-1", "3-1", "1;2", "1 2", "0x1", "1-2-3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sk_err err = { 0 };
		cpu_set_t s;
		cr_assert_eq(sk_cpuset_parse(bad[i], &s, &err), -1, "\"%s\" accepted", bad[i]);
		cr_assert(strstr(err.msg, "invalid CPU list"), "%s", err.msg);
	}
}

Test(cpuset, out_of_range)
{
	struct sk_err err = { 0 };
	cpu_set_t s;
	cr_assert_eq(sk_cpuset_parse("1024", &s, &err), -1);
	cr_assert_str_eq(err.msg, "CPU list \"1024\": CPUs above 1023 are not supported");
	cr_assert_eq(sk_cpuset_parse("0-99999999999999999999999", &s, &err), -1);
	cr_assert_str_eq(err.msg, "CPU list \"0-99999999999999999999999\": CPUs above 1023 are not supported");
}

/* ---- the plan ---- */

static struct sk_process_plan pp;

static void plan_reset(void)
{
	reset();
	memset(&pp, 0, sizeof(pp));
}

static void plan_fini(void)
{
	sk_process_plan_free(&pp);
}

static void build(void)
{
	struct sk_err err = { 0 };
	int r = sk_process_plan_build(&spec, &spec.process, false, &pp, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
}

static void build_fails(const char *msg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_process_plan_build(&spec, &spec.process, false, &pp, &err), -1);
	cr_assert_str_eq(err.msg, msg);
}

TestSuite(plan, .init = plan_reset, .fini = plan_fini);

Test(plan, argv_is_null_terminated)
{
	static char *a[] = { "echo", "a", "b" };
	spec.process.args = a;
	spec.process.n_args = 3;
	build();
	cr_assert_str_eq(pp.argv[0], "echo");
	cr_assert_str_eq(pp.argv[2], "b");
	cr_assert_null(pp.argv[3]);
}

Test(plan, env_last_wins_and_home)
{
	static char *env[] = { "A=1", "PATH=/x", "B=2", "HOME=", "A=3", "PATH=/usr/bin:/bin", "AB=4" };
	spec.process.env = env;
	spec.process.n_env = 7;
	build();
	cr_assert_eq(pp.n_env, 4);
	cr_assert_str_eq(pp.envp[0], "B=2");
	cr_assert_str_eq(pp.envp[1], "A=3");
	cr_assert_str_eq(pp.envp[2], "PATH=/usr/bin:/bin");
	cr_assert_str_eq(pp.envp[3], "AB=4");
	cr_assert_null(pp.envp[4]);
	cr_assert_null(pp.envp[5]);
	cr_assert_str_eq(pp.path, "/usr/bin:/bin");
	cr_assert(pp.need_home);
}

Test(plan, env_with_home)
{
	static char *env[] = { "HOME=/home/x" };
	spec.process.env = env;
	spec.process.n_env = 1;
	build();
	cr_assert_not(pp.need_home);
	cr_assert_null(pp.path);
}

Test(plan, env_must_be_name_value)
{
	static char *env[] = { "A=1", "JUSTNAME" };
	spec.process.env = env;
	spec.process.n_env = 2;
	build_fails("process.env[1]: \"JUSTNAME\" is not NAME=VALUE");
	env[1] = "=x";
	build_fails("process.env[1]: \"=x\" is not NAME=VALUE");
}

Test(plan, personality)
{
	spec.linux_.personality = (struct sk_personality){ .present = true, .domain = "LINUX32" };
	build();
	cr_assert(pp.has_personality);
	cr_assert_eq(pp.personality, 0x0008);
	sk_process_plan_free(&pp);
	static char *flags[] = { "SOME_FLAG" };
	spec.linux_.personality.flags = flags;
	spec.linux_.personality.n_flags = 1;
	build_fails("linux.personality.flags: \"SOME_FLAG\" is not supported (the runtime-spec defines "
		    "no flags)");
}

Test(plan, cpu_affinity)
{
	spec.process.exec_cpu_affinity_final = "0-1";
	build();
	cr_assert(pp.has_affinity_final);
	cr_assert_not(pp.has_affinity_initial);
	cr_assert_eq(CPU_COUNT(&pp.affinity_final), 2);
	sk_process_plan_free(&pp);
	spec.process.exec_cpu_affinity_initial = "2000";
	build_fails("process.execCPUAffinity.initial: CPU list \"2000\": CPUs above 1023 are not "
		    "supported");
}

Test(plan, lsm_not_enabled)
{
	if (access("/sys/kernel/security/apparmor", F_OK) == 0)
		cr_skip_test("AppArmor is enabled here");
	spec.process.apparmor_profile = "x";
	build_fails("process.apparmorProfile: apparmor profile \"x\" requested but AppArmor is not "
		    "enabled on this host");
	spec.process.apparmor_profile = NULL;
	if (access("/sys/fs/selinux/enforce", F_OK) == 0)
		cr_skip_test("SELinux is enabled here");
	spec.process.selinux_label = "system_u:system_r:container_t:s0";
	build_fails("process.selinuxLabel: selinux label \"system_u:system_r:container_t:s0\" "
		    "requested but SELinux is not enabled on this host");
}

/* ---- prepare ---- */

/* The root steps of the process, as a plan takes them (plan.c: each only
 * when the config asks for it). */
static int prepare(struct sk_process_plan *p, struct sk_err *err)
{
	const struct sk_process *pr = p->proc;
	if (p->need_home)
		sk_process_home(p);
	if (((pr->apparmor_profile && *pr->apparmor_profile) || (pr->selinux_label && *pr->selinux_label)) &&
	    sk_process_lsm(p, err) < 0)
		return -1;
	if ((p->has_personality && sk_process_personality(p, err) < 0) ||
	    (pr->scheduler.present && sk_process_scheduler(p, err) < 0) ||
	    (pr->io_priority.present && sk_process_io_priority(p, err) < 0) ||
	    (p->exec && p->has_affinity_final && sk_process_cpu_affinity(p, err) < 0) ||
	    (pr->n_rlimits && sk_process_rlimits(p, err) < 0))
		return -1;
	return 0;
}

static void prepare_child(void)
{
	struct sk_err err = { 0 };
	check(prepare(&pp, &err) == 0, "%s", err.msg);
}

static void prepare_and_check_limits(void)
{
	prepare_child();
	struct rlimit r;
	check(getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur == 100 && r.rlim_max == 200, "RLIMIT_NOFILE %lu/%lu",
	      (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);
	check(getrlimit(RLIMIT_CORE, &r) == 0 && r.rlim_cur == 0 && r.rlim_max == 0, "RLIMIT_CORE");
}

Test(prepare, limits_are_applied, .init = plan_reset, .fini = plan_fini)
{
	struct sk_rlimit rl[] = {
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE", 100, 200 },
		{ RLIMIT_CORE, "RLIMIT_CORE", 0, 0 },
	};
	spec.process.rlimits = rl;
	spec.process.n_rlimits = 2;
	build();
	run_child(prepare_and_check_limits);
}

static void set_oom_child(void)
{
	struct sk_err err = { 0 };
	check(sk_process_set_oom_score_adj(&pp, getpid(), &err) == 0, "%s", err.msg);
	FILE *f = fopen("/proc/self/oom_score_adj", "r");
	int v = 0;
	check(f && fscanf(f, "%d", &v) == 1 && v == 500, "oom_score_adj %d", v);
	fclose(f);
}

Test(prepare, oom_score_adj_from_the_parent, .init = plan_reset, .fini = plan_fini)
{
	spec.process.has_oom_score_adj = true;
	spec.process.oom_score_adj = 500;
	build();
	run_child(set_oom_child);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_process_set_oom_score_adj(&pp, 0x7ffffff0, &err), -1);
	cr_assert_str_eq(err.msg, "process.oomScoreAdj: open \"/proc/2147483632/oom_score_adj\": ENOENT");
}

static void prepare_raises_hard_limit(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	check(syscall(SYS_capget, &h, d) == 0, "capget");
	d[0].effective &= ~BIT(CAP_SYS_RESOURCE);
	check(syscall(SYS_capset, &h, d) == 0, "capset");
	struct rlimit r = { 10, 10 };
	check(setrlimit(RLIMIT_NOFILE, &r) == 0, "lower");
	struct sk_err err = { 0 };
	check(prepare(&pp, &err) == -1, "raised a hard limit without privilege");
	check(strcmp(err.msg, "process.rlimits: RLIMIT_NOFILE (soft 100, hard 200): EPERM") == 0, "%s", err.msg);
}

Test(prepare, rlimit_error, .init = plan_reset, .fini = plan_fini)
{
	struct sk_rlimit rl[] = { { RLIMIT_NOFILE, "RLIMIT_NOFILE", 100, 200 } };
	spec.process.rlimits = rl;
	spec.process.n_rlimits = 1;
	build();
	run_child(prepare_raises_hard_limit);
}

static void prepare_sets_home(void)
{
	prepare_child();
	struct passwd *pw = getpwuid(pp.proc->user.uid);
	char want[PATH_MAX + 8];
	snprintf(want, sizeof(want), "HOME=%s", pw && *pw->pw_dir ? pw->pw_dir : "/");
	check(strcmp(pp.home, want) == 0, "home %s, want %s", pp.home, want);
	check(pp.envp[pp.n_env] == pp.home && pp.envp[pp.n_env + 1] == NULL, "HOME not in envp");
}

Test(prepare, home_from_passwd, .init = plan_reset, .fini = plan_fini)
{
	static char *env[] = { "A=1" };
	spec.process.env = env;
	spec.process.n_env = 1;
	spec.process.user.uid = 0;
	build();
	run_child(prepare_sets_home);
}

Test(prepare, home_for_unknown_uid, .init = plan_reset, .fini = plan_fini)
{
	spec.process.user.uid = 54321;
	cr_assert_null(getpwuid(54321));
	build();
	run_child(prepare_sets_home);
}

static void prepare_personality_scheduler(void)
{
	prepare_child();
	check(personality(0xffffffff) == 0x0008, "personality");
	check(sched_getscheduler(0) == SCHED_BATCH, "policy %d", sched_getscheduler(0));
	errno = 0;
	check(getpriority(PRIO_PROCESS, 0) == 5 && errno == 0, "nice");
	long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	check(io == ((2 << 13) | 6), "ioprio 0x%lx", io);
}

Test(prepare, personality_and_scheduler, .init = plan_reset, .fini = plan_fini)
{
	spec.linux_.personality = (struct sk_personality){ .present = true, .domain = "LINUX32" };
	spec.process.scheduler = (struct sk_scheduler){ .present = true, .policy = SCHED_BATCH, .nice = 5 };
	spec.process.io_priority = (struct sk_io_priority){ .present = true, .class_ = 2, .priority = 6 };
	build();
	run_child(prepare_personality_scheduler);
}

/* ---- user ---- */

static void set_user_child(void)
{
	struct sk_err err = { 0 };
	check(prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, "pdeathsig");
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	uid_t r, e, s;
	gid_t gr, ge, gs;
	check(getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 1000, "uids %u %u %u", r, e, s);
	check(getresgid(&gr, &ge, &gs) == 0 && gr == 1000 && ge == 1000 && gs == 1000, "gids");
	gid_t g[8];
	int n = getgroups(8, g);
	check(n == 2 && g[0] == 10 && g[1] == 20, "groups: %d", n);
	mode_t m = umask(0);
	check(m == 077, "umask %o", m);
	char cwd[64];
	check(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/tmp") == 0, "cwd");
	check(prctl(PR_GET_KEEPCAPS) == 0, "keepcaps left on");
	int sig = 0;
	check(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGKILL, "pdeathsig %d", sig);
	/* The permitted set survived the switch, for sk_caps_apply(). */
	check(status_field("CapPrm") != 0, "permitted set lost");
	check(status_field("CapEff") == 0, "effective set kept");
}

static uint32_t gids[] = { 10, 20 };

static void user_1000(void)
{
	spec.process.user = (struct sk_user){
		.uid = 1000, .gid = 1000, .has_umask = true, .umask = 077,
		.additional_gids = gids, .n_additional_gids = 2,
	};
	spec.process.cwd = "/tmp";
}

Test(user, switch, .init = plan_reset, .fini = plan_fini)
{
	need_root();
	user_1000();
	build();
	run_child(set_user_child);
}

static void default_umask_child(void)
{
	struct sk_err err = { 0 };
	umask(0);
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	mode_t m = umask(0);
	check(m == (pp.exec ? 0 : 022), "umask %o", m);
}

Test(user, default_umask, .init = plan_reset, .fini = plan_fini)
{
	need_root();
	build();
	run_child(default_umask_child);
	pp.exec = true;
	run_child(default_umask_child);
}

static void bad_cwd_child(void)
{
	struct sk_err err = { 0 };
	check(sk_process_set_user(&pp, false, &err) == -1, "chdir succeeded");
	check(strcmp(err.msg, "chdir to cwd (\"/nope\") set in config.json failed: ENOENT") == 0, "%s", err.msg);
}

Test(user, missing_cwd, .init = plan_reset, .fini = plan_fini)
{
	spec.process.cwd = "/nope";
	build();
	run_child(bad_cwd_child);
}

static void cwd_after_switch_child(void)
{
	/* Only uid 1000 may enter: root (without CAP_DAC_*) is refused first. */
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	check(syscall(SYS_capget, &h, d) == 0, "capget");
	d[0].effective &= ~(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH));
	check(syscall(SYS_capset, &h, d) == 0, "capset");
	struct sk_err err = { 0 };
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	char cwd[128];
	check(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, pp.proc->cwd) == 0, "cwd");
}

Test(user, cwd_only_the_user_can_enter, .init = plan_reset, .fini = plan_fini)
{
	need_root();
	char dir[] = "/tmp/skiff-cwd-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chown(dir, 1000, 1000), 0);
	cr_assert_eq(chmod(dir, 0700), 0);
	user_1000();
	spec.process.cwd = dir;
	build();
	run_child(cwd_after_switch_child);
	rmdir(dir);
}

/* ---- capabilities ---- */

static struct sk_caps caps;

static void caps_reset(void)
{
	plan_reset();
	memset(&caps, 0, sizeof(caps));
	caps.present = true;
	caps.set[SK_CAP_BOUNDING] = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);
	caps.set[SK_CAP_EFFECTIVE] = BIT(CAP_CHOWN) | BIT(CAP_KILL);
	caps.set[SK_CAP_PERMITTED] = BIT(CAP_CHOWN) | BIT(CAP_KILL);
	caps.set[SK_CAP_INHERITABLE] = BIT(CAP_KILL);
	caps.set[SK_CAP_AMBIENT] = BIT(CAP_KILL);
}

TestSuite(caps, .init = caps_reset, .fini = plan_fini);

static void caps_root_child(void)
{
	struct sk_err err = { 0 };
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	expect_caps(0x421, 0x21, 0x21, 0x20, 0x20);
}

Test(caps, as_root)
{
	need_root();
	run_child(caps_root_child);
}

static void caps_user_child(void)
{
	struct sk_err err = { 0 };
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	check(sk_process_no_new_privs(&pp, &err) == 0, "%s", err.msg);
	expect_caps(0x421, 0x21, 0x21, 0x20, 0x20);
	check(getuid() == 1000, "uid");
	check(status_field("NoNewPrivs") == 1, "NoNewPrivs");
}

Test(caps, after_user_switch)
{
	need_root();
	user_1000();
	spec.process.no_new_privileges = true;
	build();
	run_child(caps_user_child);
}

static void caps_keep_admin_child(void)
{
	struct sk_err err = { 0 };
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	check(sk_caps_apply(&caps, true, &err) == 0, "%s", err.msg);
	uint64_t admin = BIT(CAP_SYS_ADMIN);
	expect_caps(0x421, 0x21 | admin, 0x21 | admin, 0x20, 0x20);
	check(sk_caps_apply_final(&caps, &err) == 0, "%s", err.msg);
	expect_caps(0x421, 0x21, 0x21, 0x20, 0x20);
}

Test(caps, keep_admin_for_seccomp)
{
	need_root();
	user_1000();
	build();
	run_child(caps_keep_admin_child);
}

static void caps_absent_child(void)
{
	uint64_t bnd = status_field("CapBnd"), eff = status_field("CapEff"), prm = status_field("CapPrm");
	uint64_t inh = status_field("CapInh"), amb = status_field("CapAmb");
	struct sk_err err = { 0 };
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	check(sk_caps_apply_final(&caps, &err) == 0, "%s", err.msg);
	expect_caps(bnd, eff, prm, inh, amb);
	/* For a non-root user, keep_admin only makes CAP_SYS_ADMIN effective. */
	check(sk_process_set_user(&pp, false, &err) == 0, "%s", err.msg);
	check(sk_caps_apply(&caps, true, &err) == 0, "%s", err.msg);
	expect_caps(bnd, BIT(CAP_SYS_ADMIN), prm, inh, 0);
}

Test(caps, absent_leaves_sets_alone)
{
	need_root();
	caps.present = false;
	user_1000();
	build();
	run_child(caps_absent_child);
}

static void caps_unknown_child(void)
{
	struct sk_err err = { 0 };
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	/* Bit 62 is beyond any kernel's capabilities: left out, the rest applied. */
	expect_caps(0x421, 0x21, 0x21, 0x20, 0x20);
}

Test(caps, unknown_to_the_kernel_are_skipped)
{
	need_root();
	caps.set[SK_CAP_PERMITTED] |= BIT(62);
	caps.set[SK_CAP_EFFECTIVE] |= BIT(62);
	caps.set[SK_CAP_BOUNDING] |= BIT(62);
	run_child(caps_unknown_child);
}

static void caps_empty_child(void)
{
	struct sk_err err = { 0 };
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	expect_caps(0, 0, 0, 0, 0);
}

Test(caps, empty_object_drops_everything)
{
	need_root();
	memset(caps.set, 0, sizeof(caps.set));
	run_child(caps_empty_child);
}

/* Without CAP_SETPCAP the bounding set cannot shrink: capabilities already
 * gone from it are fine, one still there is an error. */
static void caps_without_setpcap_child(void)
{
	struct sk_err err = { 0 };
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (!(caps.set[SK_CAP_BOUNDING] & BIT(c)) && c != CAP_SETPCAP)
			check(prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0, "drop %d", c);
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	check(syscall(SYS_capget, &h, d) == 0, "capget");
	d[0].effective &= ~BIT(CAP_SETPCAP);
	d[0].permitted &= ~BIT(CAP_SETPCAP);
	check(syscall(SYS_capset, &h, d) == 0, "capset");
	caps.set[SK_CAP_BOUNDING] |= BIT(CAP_SETPCAP);
	caps.set[SK_CAP_INHERITABLE] = caps.set[SK_CAP_AMBIENT] = 0;
	check(sk_caps_apply(&caps, false, &err) == 0, "%s", err.msg);
	expect_caps(0x421 | BIT(CAP_SETPCAP), 0x21, 0x21, 0, 0);
	caps.set[SK_CAP_BOUNDING] &= ~BIT(CAP_SETPCAP);
	check(sk_caps_apply(&caps, false, &err) == -1, "dropped CAP_SETPCAP without it");
	check(strcmp(err.msg, "process.capabilities: set the inheritable, ambient and bounding sets: EPERM") == 0,
	      "%s", err.msg);
}

Test(caps, without_setpcap)
{
	need_root();
	run_child(caps_without_setpcap_child);
}

/* ---- resolve and exec ---- */

static void resolve_fails(const char *msg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_process_resolve(&pp, &err), -1, "resolved to %s", pp.exe);
	cr_assert_str_eq(err.msg, msg);
}

static void resolve_to(const char *exe)
{
	struct sk_err err = { 0 };
	int r = sk_process_resolve(&pp, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert_str_eq(pp.exe, exe);
}

TestSuite(resolve, .init = plan_reset, .fini = plan_fini);

Test(resolve, missing_binary)
{
	static char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin" };
	spec.process.env = env;
	spec.process.n_env = 1;
	args[0] = "skiff-no-such-binary";
	build();
	resolve_fails("exec: \"skiff-no-such-binary\": executable file not found in $PATH");
}

Test(resolve, path_from_process_env)
{
	static char *env[] = { "PATH=/nonexistent", "PATH=relative:/nonexistent::/bin" };
	spec.process.env = env;
	spec.process.n_env = 2;
	build();
	resolve_to("/bin/sh");
}

Test(resolve, no_path_finds_nothing)
{
	cr_assert_not_null(getenv("PATH"));
	build();
	resolve_fails("exec: \"sh\": executable file not found in $PATH");
}

Test(resolve, with_a_slash)
{
	args[0] = "/bin/sh";
	build();
	resolve_to("/bin/sh");
	args[0] = "/nonexistent/sh";
	resolve_fails("exec: \"/nonexistent/sh\": no such file or directory: ENOENT");
	args[0] = "/etc";
	resolve_fails("exec: \"/etc\": is a directory: EISDIR");
	args[0] = "/etc/passwd";
	resolve_fails("exec: \"/etc/passwd\": permission denied: EACCES");
}

Test(resolve, skips_what_is_not_executable)
{
	char dir[] = "/tmp/skiff-path-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char f[64], pathenv[128];
	snprintf(f, sizeof(f), "%s/sh", dir);
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(pathenv, sizeof(pathenv), "PATH=%s:/bin", dir);
	char *env[] = { pathenv };
	spec.process.env = env;
	spec.process.n_env = 1;
	build();
	resolve_to("/bin/sh");
	unlink(f);
	rmdir(dir);
}

static int out_pipe[2];

static void exec_child(void)
{
	struct sk_err err = { 0 };
	dup2(out_pipe[1], STDOUT_FILENO);
	check(prepare(&pp, &err) == 0, "%s", err.msg);
	check(sk_process_resolve(&pp, &err) == 0, "%s", err.msg);
	sk_process_exec(&pp, &err);
	check(false, "%s", err.msg);
}

Test(exec, runs_with_env_and_home, .init = plan_reset, .fini = plan_fini)
{
	static char *a[] = { "sh", "-c", "printf '%s|%s|%s' \"$0\" \"$FOO\" \"$HOME\"" };
	static char *env[] = { "FOO=bar", "PATH=/bin" };
	spec.process.args = a;
	spec.process.n_args = 3;
	spec.process.env = env;
	spec.process.n_env = 2;
	spec.process.user.uid = 54321;
	build();
	cr_assert_eq(pipe(out_pipe), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		exec_child();
	close(out_pipe[1]);
	char buf[128] = "";
	ssize_t n = read(out_pipe[0], buf, sizeof(buf) - 1);
	close(out_pipe[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "sh|bar|/");
}
