/* seccomp: compile linux.seccomp, load it in a forked child (no_new_privs,
 * so no root needed) and check what the child's syscalls get. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "skiff/base/features.h"
#include "skiff/base/log.h"
#include "skiff/seccomp/seccomp.h"

#define NAMES(...) .names = (char *[]){ __VA_ARGS__ }, .n_names = sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)
#define ARGS(...) .args = (struct sk_seccomp_arg[]){ __VA_ARGS__ }, \
	.n_args = sizeof((struct sk_seccomp_arg[]){ __VA_ARGS__ }) / sizeof(struct sk_seccomp_arg)
#define RULES(...) .syscalls = (struct sk_seccomp_syscall[]){ __VA_ARGS__ }, \
	.n_syscalls = sizeof((struct sk_seccomp_syscall[]){ __VA_ARGS__ }) / sizeof(struct sk_seccomp_syscall)
#define STRV(...) (char *[]){ __VA_ARGS__ }

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

/* What a deny-by-default child needs to report and exit. */
#define BASICS "write", "exit_group", "exit"

static void compile_ok(const struct sk_seccomp *sc, struct sk_seccomp_prog *p)
{
	struct sk_err e = { 0 };
	int r = sk_seccomp_compile(sc, p, &e);
	cr_assert_eq(r, 0, "compile: %s", e.msg);
	cr_assert(p->len > 0 && p->insns);
}

static void compile_fails(const struct sk_seccomp *sc, const char *want)
{
	struct sk_seccomp_prog p;
	struct sk_err e = { 0 };
	cr_assert_eq(sk_seccomp_compile(sc, &p, &e), -1, "compile should fail with %s", want);
	cr_assert(strstr(e.msg, want), "error \"%s\" lacks \"%s\"", e.msg, want);
	cr_assert_null(p.insns);
}

/* ---- the child ---- */

static int fail_fd = -1;

/* _exit() would run LeakSanitizer's check, and a call to a noreturn
 * function ASan's stack unpoisoning (sigaltstack): syscalls the filters
 * refuse.  So: the raw syscall, in a function not marked noreturn. */
static void raw_exit(int code)
{
	syscall(SYS_exit_group, code);
}

static void child_fail(int line, const char *what)
{
	/* Not dprintf: it needs fstat, which a filter may refuse. */
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "child, line %d: %s (errno %s)", line, what, strerrorname_np(errno));
	if (write(fail_fd, msg, (size_t)n) < 0)
		raw_exit(2);
	raw_exit(1);
}

#define CHECK(cond) do { if (!(cond)) child_fail(__LINE__, #cond); } while (0)
/* A syscall returning -1 with errno e. */
#define CHECK_ERR(call, e) do { errno = 0; long r_ = (call); CHECK(r_ == -1 && errno == (e)); } while (0)

/* Fork; the child sets no_new_privs, loads p, runs fn and exits 0.  A failed
 * CHECK fails the test with its message.  Returns the wait status. */
static int run_in_child(const struct sk_seccomp_prog *p, void (*fn)(void))
{
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		fail_fd = pfd[1];
		/* SIGSYS dumps core by default. */
		struct rlimit rl = { 0, 0 };
		CHECK(setrlimit(RLIMIT_CORE, &rl) == 0);
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
		struct sk_err e;
		if (sk_seccomp_load(p, NULL, &e) < 0)
			child_fail(__LINE__, e.msg);
		fn();
		raw_exit(0);
	}
	close(pfd[1]);
	char msg[1024];
	ssize_t n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (n > 0) {
		msg[n] = '\0';
		cr_assert_fail("%s", msg);
	}
	return st;
}

static void expect_exit0(int st)
{
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: status %#x", st);
}

static void expect_sigsys(int st)
{
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "child: status %#x, want SIGSYS", st);
}

/* Whether the program returns k somewhere. */
static bool has_ret(const struct sk_seccomp_prog *p, uint32_t k)
{
	for (unsigned i = 0; i < p->len; i++)
		if (p->insns[i].code == (BPF_RET | BPF_K) && p->insns[i].k == k)
			return true;
	return false;
}

/* ---- actions ---- */

static void c_default_errno(void)
{
	CHECK(syscall(SYS_getpid) > 0);
	CHECK_ERR(syscall(SYS_getppid), ENXIO);
	CHECK_ERR(syscall(SYS_mkdir, "/nonexistent/x", 0700), ENXIO);
	CHECK_ERR(syscall(SYS_getuid), EDOM);
}

Test(seccomp, default_errno_with_errno_ret)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 .has_default_errno_ret = true, .default_errno_ret = ENXIO,
				 RULES({ NAMES(BASICS, "getpid"), .action = "SCMP_ACT_ALLOW" },
				       { NAMES("getuid"), .action = "SCMP_ACT_ERRNO", .has_errno_ret = true, .errno_ret = EDOM }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_default_errno));
	sk_seccomp_prog_free(&p);
}

static void c_allow_list(void)
{
	CHECK(syscall(SYS_getpid) > 0);
	CHECK(syscall(SYS_getppid) > 0);
	CHECK_ERR(syscall(SYS_getuid), EPERM);
	CHECK_ERR(syscall(SYS_close, 1000), EPERM);
}

Test(seccomp, allow_list_default_eperm)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 RULES({ NAMES(BASICS, "getpid", "getppid"), .action = "SCMP_ACT_ALLOW" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	cr_assert(has_ret(&p, SECCOMP_RET_ERRNO | EPERM));
	expect_exit0(run_in_child(&p, c_allow_list));
	sk_seccomp_prog_free(&p);
}

static void c_enosys_stub(void)
{
	/* Below the profile's largest syscall (exit_group): the default. */
	CHECK_ERR(syscall(SYS_getppid), EPERM);
	/* Above it: ENOSYS, so that callers fall back. */
	CHECK_ERR(syscall(SYS_pidfd_open, getpid(), 0), ENOSYS);
	CHECK_ERR(syscall(SYS_clone3, NULL, 0), ENOSYS);
	CHECK_ERR(syscall(1000), ENOSYS);
}

Test(seccomp, enosys_above_profile)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 RULES({ NAMES(BASICS, "getpid"), .action = "SCMP_ACT_ALLOW" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	cr_assert(has_ret(&p, SECCOMP_RET_ERRNO | ENOSYS));
	expect_exit0(run_in_child(&p, c_enosys_stub));
	sk_seccomp_prog_free(&p);
}

Test(seccomp, no_enosys_stub_when_default_allows_or_is_enosys)
{
	struct sk_seccomp allow = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				    RULES({ NAMES("getppid"), .action = "SCMP_ACT_ERRNO" }) };
	struct sk_seccomp enosys = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				     .has_default_errno_ret = true, .default_errno_ret = ENOSYS,
				     RULES({ NAMES("getppid"), .action = "SCMP_ACT_ALLOW" }) };
	struct sk_seccomp_prog p;
	compile_ok(&allow, &p);
	cr_assert_not(has_ret(&p, SECCOMP_RET_ERRNO | ENOSYS));
	/* libseccomp's program begins by loading the architecture itself. */
	cr_assert_eq(p.insns[1].k, AUDIT_ARCH_X86_64);
	sk_seccomp_prog_free(&p);
	compile_ok(&enosys, &p);
	cr_assert_eq(p.insns[1].k, AUDIT_ARCH_X86_64);
	sk_seccomp_prog_free(&p);
}

static void c_kill(void)
{
	syscall(SYS_getppid);
	raw_exit(0);
}

Test(seccomp, kill_and_kill_thread_kill_a_lone_thread)
{
	const char *acts[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS" };
	for (size_t i = 0; i < 3; i++) {
		struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
					 RULES({ NAMES("getppid"), .action = (char *)acts[i] }) };
		struct sk_seccomp_prog p;
		compile_ok(&sc, &p);
		expect_sigsys(run_in_child(&p, c_kill));
		sk_seccomp_prog_free(&p);
	}
}

static void *thread_getppid(void *arg)
{
	syscall(SYS_getppid);
	return arg;
}

/* The thread calling getppid dies; the main thread goes on and exits 0
 * unless the whole process went. */
static void c_kill_from_thread(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread_getppid, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
}

Test(seccomp, kill_process_kills_all_threads_kill_thread_one)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_KILL_PROCESS" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_sigsys(run_in_child(&p, c_kill_from_thread));
	sk_seccomp_prog_free(&p);

	sc.syscalls[0].action = "SCMP_ACT_KILL_THREAD";
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_kill_from_thread));
	sk_seccomp_prog_free(&p);
}

static volatile sig_atomic_t trapped_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SYS_SECCOMP)
		trapped_nr = si->si_syscall;
}

static void c_trap(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
	syscall(SYS_getppid);
	CHECK(trapped_nr == SYS_getppid);
	/* Without a handler, SIGSYS kills. */
	signal(SIGSYS, SIG_DFL);
	syscall(SYS_getppid);
	CHECK(!"survived the second trap");
}

Test(seccomp, trap_sends_sigsys)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_TRAP" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_sigsys(run_in_child(&p, c_trap));
	sk_seccomp_prog_free(&p);
}

static void c_log(void)
{
	CHECK(syscall(SYS_getppid) == getppid());
}

Test(seccomp, log_allows)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_LOG" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	cr_assert(has_ret(&p, SECCOMP_RET_LOG));
	expect_exit0(run_in_child(&p, c_log));
	sk_seccomp_prog_free(&p);
}

/* With no tracer attached, the kernel fails a TRACE'd syscall with ENOSYS. */
static void c_trace(void)
{
	CHECK_ERR(syscall(SYS_getppid), ENOSYS);
}

Test(seccomp, trace_errno_ret_is_the_message)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_TRACE", .has_errno_ret = true, .errno_ret = 42 },
				       { NAMES("getuid"), .action = "SCMP_ACT_TRACE" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	cr_assert(has_ret(&p, SECCOMP_RET_TRACE | 42));
	cr_assert(has_ret(&p, SECCOMP_RET_TRACE | EPERM));
	expect_exit0(run_in_child(&p, c_trace));
	sk_seccomp_prog_free(&p);
}

/* ---- arguments ---- */

static void c_args(void)
{
	/* Each of these fd syscalls fails with EBADF on a bad fd, with EDOM
	 * when its rule matches. */
	CHECK_ERR(flock(1234, LOCK_SH), EDOM);                    /* EQ 1234 */
	CHECK_ERR(flock(1235, LOCK_SH), EBADF);
	CHECK_ERR(syscall(SYS_fsync, 1000), EDOM);                /* NE 7777 */
	CHECK_ERR(syscall(SYS_fsync, 7777), EBADF);
	CHECK_ERR(syscall(SYS_fdatasync, 499), EDOM);             /* LT 500 */
	CHECK_ERR(syscall(SYS_fdatasync, 500), EBADF);
	CHECK_ERR(syscall(SYS_fchdir, 500), EDOM);                /* LE 500 */
	CHECK_ERR(syscall(SYS_fchdir, 501), EBADF);
	CHECK_ERR(syscall(SYS_syncfs, 500), EDOM);                /* GE 500 */
	CHECK_ERR(syscall(SYS_syncfs, 499), EBADF);
	CHECK_ERR(syscall(SYS_dup, 501), EDOM);                   /* GT 500 */
	CHECK_ERR(syscall(SYS_dup, 500), EBADF);
	CHECK_ERR(syscall(SYS_close, 0x12ab), EDOM);              /* MASKED_EQ 0xff00 0x1200 */
	CHECK_ERR(syscall(SYS_close, 0x13ab), EBADF);
	CHECK_ERR(syscall(SYS_close, 0x100000005L), EDOM);        /* EQ on all 64 bits */
	CHECK_ERR(syscall(SYS_close, 5000), EBADF);
	/* Two args in one rule: both must match. */
	CHECK_ERR(syscall(SYS_dup3, 1000, 3000, 0), EDOM);
	CHECK_ERR(syscall(SYS_dup3, 1000, 1500, 0), EBADF);
	CHECK_ERR(syscall(SYS_dup3, 999, 3000, 0), EBADF);
	/* Two args on the same index: either matches (runc). */
	CHECK_ERR(syscall(SYS_dup2, 1000, 3000), EDOM);
	CHECK_ERR(syscall(SYS_dup2, 1001, 3000), EDOM);
	CHECK_ERR(syscall(SYS_dup2, 1002, 3000), EBADF);
}

#define EDOM_RULE(name, ...) { NAMES(name), .action = "SCMP_ACT_ERRNO", .has_errno_ret = true, .errno_ret = EDOM, ARGS(__VA_ARGS__) }

Test(seccomp, args_every_operator_and_conditions)
{
	struct sk_seccomp sc = {
		.present = true, .default_action = "SCMP_ACT_ALLOW",
		RULES(EDOM_RULE("flock", { .index = 0, .value = 1234, .op = "SCMP_CMP_EQ" }),
		      EDOM_RULE("fsync", { .index = 0, .value = 7777, .op = "SCMP_CMP_NE" }),
		      EDOM_RULE("fdatasync", { .index = 0, .value = 500, .op = "SCMP_CMP_LT" }),
		      EDOM_RULE("fchdir", { .index = 0, .value = 500, .op = "SCMP_CMP_LE" }),
		      EDOM_RULE("syncfs", { .index = 0, .value = 500, .op = "SCMP_CMP_GE" }),
		      EDOM_RULE("dup", { .index = 0, .value = 500, .op = "SCMP_CMP_GT" }),
		      EDOM_RULE("close", { .index = 0, .value = 0xff00, .value_two = 0x1200, .op = "SCMP_CMP_MASKED_EQ" }),
		      EDOM_RULE("close", { .index = 0, .value = 0x100000005, .op = "SCMP_CMP_EQ" }),
		      EDOM_RULE("dup3", { .index = 0, .value = 1000, .op = "SCMP_CMP_EQ" },
				{ .index = 1, .value = 2000, .op = "SCMP_CMP_GT" }),
		      EDOM_RULE("dup2", { .index = 0, .value = 1000, .op = "SCMP_CMP_EQ" },
				{ .index = 0, .value = 1001, .op = "SCMP_CMP_EQ" })),
	};
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_args));
	sk_seccomp_prog_free(&p);
}

/* Docker's rule: clone is allowed unless it asks for a new namespace. */
static void c_clone_masked(void)
{
	CHECK_ERR(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0), EPERM);
	CHECK_ERR(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0), EPERM);
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		raw_exit(7);
	int st;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

Test(seccomp, masked_eq_clone_namespaces)
{
	struct sk_seccomp sc = {
		.present = true, .default_action = "SCMP_ACT_ERRNO",
		RULES({ NAMES(BASICS, "wait4", "getpid", "gettid", "set_robust_list", "rt_sigprocmask"),
			.action = "SCMP_ACT_ALLOW" },
		      { NAMES("clone"), .action = "SCMP_ACT_ALLOW",
			ARGS({ .index = 0, .value = 0x7E020000, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ" }) }),
	};
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_clone_masked));
	sk_seccomp_prog_free(&p);
}

/* ---- names, architectures, flags ---- */

static void c_unknown_name(void)
{
	CHECK_ERR(syscall(SYS_getppid), EPERM);
}

Test(seccomp, unknown_syscall_name_skipped_with_debug_line)
{
	char log[] = "/tmp/skiff-seccomp-log-XXXXXX";
	int fd = mkstemp(log);
	cr_assert_geq(fd, 0);
	close(fd);
	struct sk_err e;
	cr_assert_eq(sk_log_init(log, 0, 1, &e), 0);
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("no_such_syscall", "getppid"), .action = "SCMP_ACT_ERRNO" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_unknown_name));
	sk_seccomp_prog_free(&p);
	FILE *f = fopen(log, "r");
	cr_assert_not_null(f);
	char buf[4096] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(log);
	cr_assert(strstr(buf, "linux.seccomp.syscalls[0].names[0]: unknown syscall \\\"no_such_syscall\\\" ignored"),
		  "log: %s", buf);
}

static long int80(long nr)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

#define IA32_GETPPID 64
#define X32_BIT 0x40000000L

static void c_compat_arches(void)
{
	CHECK(int80(IA32_GETPPID) == -EDOM);
	CHECK_ERR(syscall(X32_BIT | SYS_getppid), EDOM);
	CHECK_ERR(syscall(SYS_getppid), EDOM);
	/* The ENOSYS stub covers both compat ABIs. */
	CHECK(int80(1000) == -ENOSYS);
	CHECK_ERR(syscall(X32_BIT | 1000), ENOSYS);
	CHECK_ERR(syscall(1000), ENOSYS);
}

static void c_compat_bad_arch(void)
{
	int80(IA32_GETPPID);
	CHECK(!"an i386 syscall outside the filter's architectures survived");
}

Test(seccomp, architectures_x86_and_x32)
{
	/* int $0x80 needs the kernel's ia32 emulation. */
	pid_t pid = fork();
	if (pid == 0)
		raw_exit(int80(IA32_GETPPID) > 0 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cr_skip_test("no ia32 emulation in this kernel");

	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 .architectures = STRV("SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"), .n_architectures = 3,
				 RULES({ NAMES(BASICS, "getpid"), .action = "SCMP_ACT_ALLOW" },
				       { NAMES("getppid"), .action = "SCMP_ACT_ERRNO", .has_errno_ret = true, .errno_ret = EDOM }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	expect_exit0(run_in_child(&p, c_compat_arches));
	sk_seccomp_prog_free(&p);

	/* Without x86 in the list, an i386 syscall hits the bad-arch action. */
	struct sk_seccomp native = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				     RULES({ NAMES("getppid"), .action = "SCMP_ACT_ERRNO" }) };
	compile_ok(&native, &p);
	expect_sigsys(run_in_child(&p, c_compat_bad_arch));
	sk_seccomp_prog_free(&p);
}

static void c_nothing(void)
{
}

Test(seccomp, flags)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_ERRNO" }) };
	struct sk_seccomp_prog p;
	cr_assert(sk_seccomp_flag_supported("SECCOMP_FILTER_FLAG_TSYNC"));
	cr_assert(sk_seccomp_flag_supported("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
	cr_assert_not(sk_seccomp_flag_supported("SECCOMP_FILTER_FLAG_FAST"));
	/* Absent: SPEC_ALLOW, as runc and crun do. */
	compile_ok(&sc, &p);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	cr_assert_not(p.notify);
	sk_seccomp_prog_free(&p);

	sc.flags = STRV("SECCOMP_FILTER_FLAG_LOG");
	sc.n_flags = 1;
	compile_ok(&sc, &p);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_LOG);
	expect_exit0(run_in_child(&p, c_nothing));
	sk_seccomp_prog_free(&p);

	char *all[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
			"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
	sc.flags = all;
	sc.n_flags = 4;
	/* TSYNC is moot for the single-threaded init; WAIT_KILLABLE_RECV
	 * needs a listener. */
	compile_ok(&sc, &p);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	expect_exit0(run_in_child(&p, c_nothing));
	sk_seccomp_prog_free(&p);

	sc.syscalls[0].action = "SCMP_ACT_NOTIFY";
	sc.listener_path = "/run/agent.sock";
	compile_ok(&sc, &p);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
			      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER);
	cr_assert(p.notify);
	sk_seccomp_prog_free(&p);
}

/* ---- bad input ---- */

Test(seccomp, errors_name_the_json_path)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_ERRNO" },
				       { NAMES("getuid"), .action = "SCMP_ACT_ERRNO", ARGS({ .index = 0, .op = "SCMP_CMP_EQ" }) }) };
	struct sk_seccomp_syscall *s = sc.syscalls;

	sc.default_action = "SCMP_ACT_BOGUS";
	compile_fails(&sc, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BOGUS\"");
	sc.default_action = "SCMP_ACT_ALLOW";
	sc.has_default_errno_ret = true;
	compile_fails(&sc, "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno");
	sc.has_default_errno_ret = false;
	sc.default_action = "SCMP_ACT_NOTIFY";
	compile_fails(&sc, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	sc.default_action = "SCMP_ACT_ALLOW";

	s[1].action = "SCMP_ACT_KILL_PROCESS";
	s[1].has_errno_ret = true;
	compile_fails(&sc, "linux.seccomp.syscalls[1].errnoRet: SCMP_ACT_KILL_PROCESS takes no errno");
	s[1].action = "SCMP_ACT_ERRNO";
	s[1].errno_ret = 70000;
	compile_fails(&sc, "linux.seccomp.syscalls[1].errnoRet: 70000 does not fit in 16 bits");
	s[1].has_errno_ret = false;
	s[1].action = "SCMP_ACT_MAYBE";
	compile_fails(&sc, "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_MAYBE\"");
	s[1].action = "SCMP_ACT_ERRNO";

	s[1].args[0].op = "SCMP_CMP_APPROX";
	compile_fails(&sc, "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_APPROX\"");
	s[1].args[0].op = "SCMP_CMP_EQ";
	s[1].args[0].index = 6;
	compile_fails(&sc, "linux.seccomp.syscalls[1].args[0].index: 6 is above 5");
	s[1].args[0].index = 0;

	sc.architectures = STRV("SCMP_ARCH_X86", "SCMP_ARCH_LOONGARCH64");
	sc.n_architectures = 2;
	compile_fails(&sc, "linux.seccomp.architectures[1]: \"SCMP_ARCH_LOONGARCH64\" is unknown to libseccomp");
	sc.architectures = STRV("x86_64");
	sc.n_architectures = 1;
	compile_fails(&sc, "linux.seccomp.architectures[0]: \"x86_64\" is unknown");
	sc.n_architectures = 0;

	sc.flags = STRV("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FAST");
	sc.n_flags = 2;
	compile_fails(&sc, "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
	sc.n_flags = 0;

	s[0].action = "SCMP_ACT_NOTIFY";
	compile_fails(&sc, "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
	sc.listener_path = "/run/agent.sock";
	s[0].names[0] = "sendmsg";
	compile_fails(&sc, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot apply to \"sendmsg\"");
	s[0].names[0] = "getppid";
	char long_path[200];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	sc.listener_path = long_path;
	compile_fails(&sc, "linux.seccomp.listenerPath: longer than 107 bytes");
}

Test(seccomp, rule_with_the_default_action_is_skipped)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 RULES({ NAMES(BASICS), .action = "SCMP_ACT_ALLOW" },
				       { NAMES("getppid"), .action = "SCMP_ACT_ERRNO", .has_errno_ret = true, .errno_ret = EPERM }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	sk_seccomp_prog_free(&p);
}

/* ---- the cache ---- */

static char *read_text(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static size_t count_lines(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void same_prog(const struct sk_seccomp_prog *a, const struct sk_seccomp_prog *b)
{
	cr_assert_eq(a->len, b->len);
	cr_assert_eq(a->flags, b->flags);
	cr_assert_eq(a->notify, b->notify);
	cr_assert_eq(memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)), 0);
}

static int cached(const struct sk_seccomp *sc, int root_fd, struct sk_seccomp_prog *p)
{
	struct sk_err e = { 0 };
	int r = sk_seccomp_compile_cached(sc, root_fd, p, &e);
	cr_assert_eq(r, 0, "compile_cached: %s", e.msg);
	return r;
}

/* The names in <root>/.seccomp. */
static size_t cache_entries(int root_fd, char first[256])
{
	int fd = openat(root_fd, ".seccomp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	DIR *d = fdopendir(fd);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			if (n++ == 0 && first)
				snprintf(first, 256, "%s", de->d_name);
		}
	closedir(d);
	return n;
}

Test(seccomp, cache_hits_misses_and_damage)
{
	char root[] = "/tmp/skiff-seccomp-root-XXXXXX", log[128], path[512], entry[256];
	cr_assert_not_null(mkdtemp(root));
	snprintf(log, sizeof(log), "%s/log", root);
	struct sk_err e;
	cr_assert_eq(sk_log_init(log, 0, 1, &e), 0);
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0);

	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ERRNO",
				 RULES({ NAMES(BASICS, "getpid", "getppid"), .action = "SCMP_ACT_ALLOW" }) };
	struct sk_seccomp_prog fresh, a, b;
	compile_ok(&sc, &fresh);

	/* A profile that does not compile leaves the root as it was. */
	struct sk_seccomp bad = { .present = true, .default_action = "SCMP_ACT_NOPE" };
	cr_assert_eq(sk_seccomp_compile_cached(&bad, root_fd, &a, &e), -1);
	cr_assert_eq(faccessat(root_fd, ".seccomp", F_OK, 0), -1);
	cr_assert_eq(errno, ENOENT);

	cached(&sc, root_fd, &a);                 /* miss: compiled and stored */
	same_prog(&a, &fresh);
	cr_assert_eq(cache_entries(root_fd, entry), 1);
	cached(&sc, root_fd, &b);                 /* hit */
	same_prog(&b, &fresh);
	cr_assert_eq(count_lines(read_text(log), "from the cache"), 1);
	sk_seccomp_prog_free(&a);
	sk_seccomp_prog_free(&b);

	/* A damaged entry is a miss, and is replaced. */
	snprintf(path, sizeof(path), "%s/.seccomp/%s", root, entry);
	cr_assert_eq(truncate(path, 40), 0);
	cached(&sc, root_fd, &a);
	same_prog(&a, &fresh);
	sk_seccomp_prog_free(&a);
	cr_assert_eq(count_lines(read_text(log), "from the cache"), 1);
	cached(&sc, root_fd, &a);
	sk_seccomp_prog_free(&a);
	cr_assert_eq(count_lines(read_text(log), "from the cache"), 2);

	/* An entry under our name but for other inputs (a collision) is a
	 * miss: flip one byte of its stored key. */
	int fd = open(path, O_RDWR | O_CLOEXEC);
	char c;
	cr_assert_eq(pread(fd, &c, 1, 100), 1);
	c ^= 1;
	cr_assert_eq(pwrite(fd, &c, 1, 100), 1);
	close(fd);
	cached(&sc, root_fd, &a);
	same_prog(&a, &fresh);
	sk_seccomp_prog_free(&a);
	cr_assert_eq(count_lines(read_text(log), "from the cache"), 2);

	/* Another profile, another entry. */
	sc.syscalls[0].n_names--;
	cached(&sc, root_fd, &a);
	cr_assert_neq(a.len == fresh.len && memcmp(a.insns, fresh.insns, a.len * sizeof(*a.insns)) == 0, 1);
	sk_seccomp_prog_free(&a);
	cr_assert_eq(cache_entries(root_fd, NULL), 2);

	/* A full cache is emptied before a store. */
	for (int i = 0; i < 70; i++) {
		snprintf(path, sizeof(path), "%s/.seccomp/junk%d", root, i);
		close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	}
	sc.syscalls[0].n_names--;
	cached(&sc, root_fd, &a);
	sk_seccomp_prog_free(&a);
	cr_assert_eq(cache_entries(root_fd, NULL), 1);

	/* No usable root: compiled all the same. */
	sc.syscalls[0].n_names += 2;
	int file_fd = open(log, O_RDONLY | O_CLOEXEC);
	cached(&sc, file_fd, &a);
	same_prog(&a, &fresh);
	sk_seccomp_prog_free(&a);
	close(file_fd);

	sk_seccomp_prog_free(&fresh);
	close(root_fd);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

/* ---- notify ---- */

struct agent {
	char dir[64], path[128];
	int listen_fd;
};

static void agent_listen(struct agent *a)
{
	strcpy(a->dir, "/tmp/skiff-seccomp-XXXXXX");
	cr_assert_not_null(mkdtemp(a->dir));
	snprintf(a->path, sizeof(a->path), "%s/agent.sock", a->dir);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, a->path);
	cr_assert_eq(bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(a->listen_fd, 1), 0);
}

static void agent_close(struct agent *a)
{
	close(a->listen_fd);
	unlink(a->path);
	rmdir(a->dir);
}

/* Accept one connection and read what the runtime sent: the fd and JSON. */
static int agent_receive(struct agent *a, char *json, size_t cap)
{
	int c = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(c, 0);
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = json, .iov_len = cap - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	cr_assert_gt(n, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cr_assert(cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	size_t got = (size_t)n;
	while ((n = read(c, json + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	json[got] = '\0';
	/* One message per connection: the runtime has closed its end. */
	cr_assert_eq(n, 0);
	close(c);
	return fd;
}

static const char *str_at(yajl_val arr, size_t i)
{
	yajl_val v = YAJL_GET_ARRAY(arr)->values[i];
	cr_assert(YAJL_IS_STRING(v));
	return v->u.string;
}

static const char *json_str(yajl_val root, const char **path)
{
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static void check_state_json(const char *json, pid_t pid, const char *metadata)
{
	char ebuf[256];
	yajl_val root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	cr_assert_not_null(root, "bad JSON %s: %s", json, ebuf);
	cr_assert_str_eq(json_str(root, (const char *[]){ "ociVersion", NULL }), SK_OCI_VERSION);
	yajl_val fds = yajl_tree_get(root, (const char *[]){ "fds", NULL }, yajl_t_array);
	cr_assert(fds && YAJL_GET_ARRAY(fds)->len == 1);
	cr_assert_str_eq(str_at(fds, 0), "seccompFd");
	yajl_val p = yajl_tree_get(root, (const char *[]){ "pid", NULL }, yajl_t_number);
	cr_assert(p && YAJL_GET_INTEGER(p) == pid);
	if (metadata)
		cr_assert_str_eq(json_str(root, (const char *[]){ "metadata", NULL }), metadata);
	else
		cr_assert_null(yajl_tree_get(root, (const char *[]){ "metadata", NULL }, yajl_t_any));
	cr_assert_str_eq(json_str(root, (const char *[]){ "state", "status", NULL }), "creating");
	cr_assert_str_eq(json_str(root, (const char *[]){ "state", "id", NULL }), "ctr");
	yajl_tree_free(root);
}

Test(seccomp, send_listener_passes_fd_and_state)
{
	struct agent a;
	agent_listen(&a);
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	struct sk_err e;
	const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"ctr\",\"status\":\"creating\",\"pid\":42,\"bundle\":\"/b\"}";
	/* The backlog takes the connection: the agent can accept afterwards. */
	cr_assert_eq(sk_seccomp_send_listener(a.path, pfd[0], 42, "MKNOD=/dev/null;\"quoted\"\n", state, &e), 0, "%s", e.msg);
	char json[4096];
	int fd = agent_receive(&a, json, sizeof(json));
	check_state_json(json, 42, "MKNOD=/dev/null;\"quoted\"\n");
	struct stat s1, s2;
	cr_assert(fstat(fd, &s1) == 0 && fstat(pfd[0], &s2) == 0);
	cr_assert(s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
	close(fd);

	cr_assert_eq(sk_seccomp_send_listener(a.path, pfd[0], 42, NULL, state, &e), 0, "%s", e.msg);
	fd = agent_receive(&a, json, sizeof(json));
	check_state_json(json, 42, NULL);
	close(fd);
	close(pfd[0]);
	close(pfd[1]);
	agent_close(&a);

	cr_assert_eq(sk_seccomp_send_listener(a.path, 0, 42, NULL, state, &e), -1);
	cr_assert(strstr(e.msg, "connect to the seccomp agent at \"/tmp/skiff-seccomp-") && strstr(e.msg, "ENOENT"), "%s", e.msg);
}

/* The whole path: the child loads a NOTIFY filter and hands its listener
 * over (here: its number through a pipe, taken with pidfd_getfd); the
 * parent sends it to the agent; the agent answers the child's getppid. */
Test(seccomp, notify_agent_answers)
{
	struct sk_seccomp sc = { .present = true, .default_action = "SCMP_ACT_ALLOW", .listener_path = "unused",
				 RULES({ NAMES("getppid"), .action = "SCMP_ACT_NOTIFY" }) };
	struct sk_seccomp_prog p;
	compile_ok(&sc, &p);
	cr_assert(p.notify && (p.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER));
	struct agent a;
	agent_listen(&a);
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		fail_fd = pfd[1];
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
		int lfd = -1;
		struct sk_err e;
		if (sk_seccomp_load(&p, &lfd, &e) < 0)
			child_fail(__LINE__, e.msg);
		CHECK(lfd >= 0 && fcntl(lfd, F_GETFD) == FD_CLOEXEC);
		CHECK(write(pfd[1], &lfd, sizeof(lfd)) == sizeof(lfd));
		CHECK(syscall(SYS_getppid) == 4242);
		raw_exit(0);
	}
	close(pfd[1]);
	int child_fd;
	cr_assert_eq(read(pfd[0], &child_fd, sizeof(child_fd)), sizeof(child_fd));
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0);
	int lfd = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	cr_assert_geq(lfd, 0, "pidfd_getfd: %s", strerror(errno));
	close(pidfd);

	char state[256];
	snprintf(state, sizeof(state), "{\"ociVersion\":\"1.2.0\",\"id\":\"ctr\",\"status\":\"creating\",\"pid\":%d}", pid);
	struct sk_err e;
	cr_assert_eq(sk_seccomp_send_listener(a.path, lfd, pid, "m", state, &e), 0, "%s", e.msg);
	close(lfd);
	char json[4096];
	int agent_fd = agent_receive(&a, json, sizeof(json));
	check_state_json(json, pid, "m");
	agent_close(&a);

	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	cr_assert_eq(ioctl(agent_fd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0, "NOTIF_RECV: %s", strerror(errno));
	cr_assert_eq(req.data.nr, SYS_getppid);
	cr_assert_eq(req.data.arch, AUDIT_ARCH_X86_64);
	cr_assert_eq((pid_t)req.pid, pid);
	struct seccomp_notif_resp resp = { .id = req.id, .val = 4242 };
	cr_assert_eq(ioctl(agent_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0, "NOTIF_SEND: %s", strerror(errno));
	close(agent_fd);

	char msg[1024];
	ssize_t n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (n > 0) {
		msg[n] = '\0';
		cr_assert_fail("%s", msg);
	}
	expect_exit0(st);
	sk_seccomp_prog_free(&p);
}

/* ---- a real profile: podman's default, in Docker's format ---- */

#define PODMAN_PROFILE "/usr/share/containers/seccomp.json"

/* containers.conf's default_capabilities. */
static const char *const podman_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

static bool in_strings(yajl_val arr, const char *s)
{
	for (size_t i = 0; i < YAJL_GET_ARRAY(arr)->len; i++)
		if (strcmp(str_at(arr, i), s) == 0)
			return true;
	return false;
}

static bool has_podman_cap(const char *cap)
{
	for (size_t i = 0; i < sizeof(podman_caps) / sizeof(*podman_caps); i++)
		if (strcmp(podman_caps[i], cap) == 0)
			return true;
	return false;
}

/* Whether the rule applies on amd64 with podman_caps, as podman decides
 * (containers/common pkg/seccomp): excludes first, then includes. */
static bool rule_applies(yajl_val rule)
{
	yajl_val inc = yajl_tree_get(rule, (const char *[]){ "includes", NULL }, yajl_t_object);
	yajl_val exc = yajl_tree_get(rule, (const char *[]){ "excludes", NULL }, yajl_t_object);
	yajl_val v;
	if (exc && (v = yajl_tree_get(exc, (const char *[]){ "arches", NULL }, yajl_t_array)) && in_strings(v, "amd64"))
		return false;
	if (exc && (v = yajl_tree_get(exc, (const char *[]){ "caps", NULL }, yajl_t_array)))
		for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++)
			if (has_podman_cap(str_at(v, i)))
				return false;
	if (inc && (v = yajl_tree_get(inc, (const char *[]){ "arches", NULL }, yajl_t_array)) &&
	    YAJL_GET_ARRAY(v)->len && !in_strings(v, "amd64"))
		return false;
	if (inc && (v = yajl_tree_get(inc, (const char *[]){ "caps", NULL }, yajl_t_array)))
		for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++)
			if (!has_podman_cap(str_at(v, i)))
				return false;
	return true;
}

static char **strings_of(yajl_val arr, size_t *n)
{
	*n = YAJL_GET_ARRAY(arr)->len;
	char **out = calloc(*n ? *n : 1, sizeof(char *));
	for (size_t i = 0; i < *n; i++)
		out[i] = strdup(str_at(arr, i));
	return out;
}

/* Docker's seccomp profile format -> linux.seccomp, for amd64. */
static void convert_docker_profile(const char *path, struct sk_seccomp *sc)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static char buf[1 << 17];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char ebuf[256];
	yajl_val root = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
	cr_assert_not_null(root, "%s: %s", path, ebuf);

	memset(sc, 0, sizeof(*sc));
	sc->present = true;
	sc->default_action = strdup(json_str(root, (const char *[]){ "defaultAction", NULL }));
	yajl_val v = yajl_tree_get(root, (const char *[]){ "defaultErrnoRet", NULL }, yajl_t_number);
	if (v) {
		sc->has_default_errno_ret = true;
		sc->default_errno_ret = (uint32_t)YAJL_GET_INTEGER(v);
	}
	yajl_val archmap = yajl_tree_get(root, (const char *[]){ "archMap", NULL }, yajl_t_array);
	for (size_t i = 0; archmap && i < YAJL_GET_ARRAY(archmap)->len; i++) {
		yajl_val m = YAJL_GET_ARRAY(archmap)->values[i];
		if (strcmp(json_str(m, (const char *[]){ "architecture", NULL }), "SCMP_ARCH_X86_64") != 0)
			continue;
		size_t nsub;
		char **sub = strings_of(yajl_tree_get(m, (const char *[]){ "subArchitectures", NULL }, yajl_t_array), &nsub);
		sc->architectures = calloc(nsub + 1, sizeof(char *));
		sc->architectures[0] = strdup("SCMP_ARCH_X86_64");
		memcpy(sc->architectures + 1, sub, nsub * sizeof(char *));
		sc->n_architectures = nsub + 1;
		free(sub);
	}
	yajl_val rules = yajl_tree_get(root, (const char *[]){ "syscalls", NULL }, yajl_t_array);
	sc->syscalls = calloc(YAJL_GET_ARRAY(rules)->len, sizeof(*sc->syscalls));
	for (size_t i = 0; i < YAJL_GET_ARRAY(rules)->len; i++) {
		yajl_val r = YAJL_GET_ARRAY(rules)->values[i];
		if (!rule_applies(r))
			continue;
		struct sk_seccomp_syscall *s = &sc->syscalls[sc->n_syscalls++];
		yajl_val names = yajl_tree_get(r, (const char *[]){ "names", NULL }, yajl_t_array);
		if (names) {
			s->names = strings_of(names, &s->n_names);
		} else {
			s->names = calloc(1, sizeof(char *));
			s->names[0] = strdup(json_str(r, (const char *[]){ "name", NULL }));
			s->n_names = 1;
		}
		s->action = strdup(json_str(r, (const char *[]){ "action", NULL }));
		if ((v = yajl_tree_get(r, (const char *[]){ "errnoRet", NULL }, yajl_t_number))) {
			s->has_errno_ret = true;
			s->errno_ret = (uint32_t)YAJL_GET_INTEGER(v);
		}
		yajl_val args = yajl_tree_get(r, (const char *[]){ "args", NULL }, yajl_t_array);
		s->n_args = args ? YAJL_GET_ARRAY(args)->len : 0;
		s->args = calloc(s->n_args ? s->n_args : 1, sizeof(*s->args));
		for (size_t j = 0; j < s->n_args; j++) {
			yajl_val a = YAJL_GET_ARRAY(args)->values[j];
			/* uint64 values above INT64_MAX do not fit yajl's integer. */
			s->args[j].index = (uint32_t)YAJL_GET_INTEGER(yajl_tree_get(a, (const char *[]){ "index", NULL }, yajl_t_number));
			s->args[j].value = strtoull(YAJL_GET_NUMBER(yajl_tree_get(a, (const char *[]){ "value", NULL }, yajl_t_number)), NULL, 10);
			v = yajl_tree_get(a, (const char *[]){ "valueTwo", NULL }, yajl_t_number);
			s->args[j].value_two = v ? strtoull(YAJL_GET_NUMBER(v), NULL, 10) : 0;
			s->args[j].op = strdup(json_str(a, (const char *[]){ "op", NULL }));
		}
	}
	yajl_tree_free(root);
}

static void free_converted(struct sk_seccomp *sc)
{
	free(sc->default_action);
	for (size_t i = 0; i < sc->n_architectures; i++)
		free(sc->architectures[i]);
	free(sc->architectures);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct sk_seccomp_syscall *s = &sc->syscalls[i];
		for (size_t j = 0; j < s->n_names; j++)
			free(s->names[j]);
		free(s->names);
		free(s->action);
		for (size_t j = 0; j < s->n_args; j++)
			free(s->args[j].op);
		free(s->args);
	}
	free(sc->syscalls);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void c_podman(void)
{
	/* Ordinary work goes through. */
	CHECK(getpid() > 0 && getppid() > 0);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char b;
	CHECK(fd >= 0 && read(fd, &b, 1) == 0 && close(fd) == 0);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(s >= 0 && close(s) == 0);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
	CHECK(s >= 0 && close(s) == 0);
	struct timespec ts;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	/* This podman profile leaves namespaces, keys and mounts to the
	 * capabilities: seccomp lets them through.  setns is both in the
	 * allow list and in a CAP_SYS_ADMIN-less EPERM rule: libseccomp keeps
	 * the first rule. */
	CHECK_ERR(syscall(SYS_setns, -1, 0), EBADF);
	CHECK(syscall(SYS_unshare, 0) == 0);
	long r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	CHECK(r >= 0 || (errno != EPERM && errno != ENOSYS));
	/* personality: the allowed values go through, others get the
	 * default action (ENOSYS). */
	CHECK(personality(0xffffffff) >= 0);
	CHECK(personality(PER_LINUX) >= 0);
	CHECK_ERR(syscall(SYS_personality, PER_BSD), ENOSYS);
	CHECK_ERR(syscall(SYS_personality, PER_LINUX | ADDR_NO_RANDOMIZE), ENOSYS);
	/* Explicitly refused: EPERM. */
	CHECK_ERR(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
	CHECK_ERR(syscall(SYS_vmsplice, -1, NULL, 0, 0), EPERM);
	CHECK_ERR(syscall(SYS_userfaultfd, 0), EPERM);
	/* Refused for want of a capability podman does not grant. */
	CHECK_ERR(sethostname("x", 1), EPERM);                  /* CAP_SYS_ADMIN */
	CHECK_ERR(syscall(SYS_bpf, 0, NULL, 0), EPERM);         /* CAP_SYS_ADMIN */
	CHECK_ERR(syscall(SYS_acct, NULL), EPERM);             /* CAP_SYS_PACCT */
	CHECK_ERR(syscall(SYS_init_module, NULL, 0, ""), EPERM); /* CAP_SYS_MODULE */
	CHECK_ERR(syscall(SYS_settimeofday, NULL, NULL), EPERM); /* CAP_SYS_TIME */
	/* socket(AF_NETLINK, *, NETLINK_AUDIT) without CAP_AUDIT_WRITE: EINVAL
	 * (two args ANDed in one rule). */
	CHECK_ERR(socket(AF_NETLINK, SOCK_RAW, 9), EINVAL);
	/* chroot is granted with CAP_SYS_CHROOT: the kernel answers. */
	CHECK_ERR(chroot("/nonexistent-skiff"), ENOENT);
	/* Unknown to the profile: ENOSYS. */
	CHECK_ERR(syscall(1000), ENOSYS);
}

Test(seccomp, podman_default_profile)
{
	if (access(PODMAN_PROFILE, R_OK) != 0)
		cr_skip_test(PODMAN_PROFILE " missing (Debian package golang-github-containers-common)");
	struct sk_seccomp sc;
	convert_docker_profile(PODMAN_PROFILE, &sc);
	size_t names = 0;
	for (size_t i = 0; i < sc.n_syscalls; i++)
		names += sc.syscalls[i].n_names;

	enum { RUNS = 20 };
	double ms[RUNS];
	struct sk_seccomp_prog p;
	for (int i = 0; i < RUNS; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		compile_ok(&sc, &p);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (i < RUNS - 1)
			sk_seccomp_prog_free(&p);
	}
	qsort(ms, RUNS, sizeof(double), cmp_double);
	fprintf(stderr, "podman profile: %zu rules, %zu names, %zu architectures -> %u BPF instructions; "
		"compile: median %.3f ms, min %.3f ms, max %.3f ms (%d runs)\n",
		sc.n_syscalls, names, sc.n_architectures, p.len, (ms[RUNS / 2 - 1] + ms[RUNS / 2]) / 2, ms[0],
		ms[RUNS - 1], RUNS);

	char root[] = "/tmp/skiff-seccomp-root-XXXXXX";
	cr_assert_not_null(mkdtemp(root));
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sk_seccomp_prog c;
	cached(&sc, root_fd, &c);
	same_prog(&c, &p);
	sk_seccomp_prog_free(&c);
	for (int i = 0; i < RUNS; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		cached(&sc, root_fd, &c);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		same_prog(&c, &p);
		sk_seccomp_prog_free(&c);
	}
	qsort(ms, RUNS, sizeof(double), cmp_double);
	fprintf(stderr, "podman profile from the cache: median %.3f ms, min %.3f ms, max %.3f ms (%d runs)\n",
		(ms[RUNS / 2 - 1] + ms[RUNS / 2]) / 2, ms[0], ms[RUNS - 1], RUNS);
	close(root_fd);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
	/* podman's profile returns ENOSYS by default already: no stub. */
	cr_assert_eq(p.insns[1].k, AUDIT_ARCH_X86_64);
	expect_exit0(run_in_child(&p, c_podman));
	sk_seccomp_prog_free(&p);
	free_converted(&sc);
}
