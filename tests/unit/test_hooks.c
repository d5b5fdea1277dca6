#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skiff/plan/hooks.h"
#include "skiff/base/log.h"

/* This test binary doubles as a hook: run with SK_HOOK_OUT in its
 * environment, it records its argv, environment, open fds, signal mask and
 * stdin in that file and exits before Criterion starts. */
__attribute__((constructor)) static void hook_helper(int argc, char **argv, char **envp)
{
	const char *out = getenv("SK_HOOK_OUT");
	if (!out)
		return;
	int open_fds = 0;
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			open_fds++;
	sigset_t mask;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	FILE *f = fopen(out, "w");
	if (!f)
		_exit(100);
	for (int i = 0; i < argc; i++)
		fprintf(f, "argv=%s\n", argv[i]);
	for (char **e = envp; *e; e++)
		fprintf(f, "env=%s\n", *e);
	fprintf(f, "fds=%d\nusr1=%d\nstdin=", open_fds, sigismember(&mask, SIGUSR1));
	char buf[4096];
	ssize_t n;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	_exit(0);
}

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/skiff-hooks-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(hooks, .init = setup, .fini = teardown);

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "open %s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char self[4096];

static const char *self_exe(void)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	return self;
}

/* A shell hook: sh -c args[2]. */
static struct sk_hook sh_hook(char **args)
{
	args[0] = "sh";
	args[1] = "-c";
	return (struct sk_hook){ .path = "/bin/sh", .args = args, .n_args = 3 };
}

Test(hooks, args_env_and_state_exactly)
{
	char out[128], env_out[160];
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(env_out, sizeof(env_out), "SK_HOOK_OUT=%s", out);
	/* Counted arrays: what follows the last element is not passed. */
	char *args[] = { "first-arg", "a b", "", "c", "not-an-arg" };
	char *env[] = { env_out, "FOO=bar baz", "NOT=passed" };
	struct sk_hook h = { .path = (char *)self_exe(), .args = args, .n_args = 4, .env = env, .n_env = 2 };
	struct sk_hooks hooks = { .list[SK_HOOK_PRESTART] = &h, .n[SK_HOOK_PRESTART] = 1 };

	/* Neither this leaked fd, nor the blocked signal, nor our environment reach the hook. */
	int leak = open("/dev/null", O_RDONLY);
	cr_assert_geq(leak, 3);
	setenv("SKIFF_TEST_LEAK", "1", 1);
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);

	struct sk_err err = { 0 };
	const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"x\",\"status\":\"creating\",\"pid\":42}";
	int r = sk_hooks_run(SK_HOOK_PRESTART, &hooks, state, NULL, &err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(leak);
	cr_assert_eq(r, 0, "%s", err.msg);

	char want[1024];
	snprintf(want, sizeof(want),
		 "argv=first-arg\nargv=a b\nargv=\nargv=c\nenv=%s\nenv=FOO=bar baz\nfds=0\nusr1=0\nstdin=%s", env_out, state);
	cr_assert_str_eq(slurp(out), want);
}

Test(hooks, empty_args_run_the_path_with_an_empty_env)
{
	char out[128], env_out[160];
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(env_out, sizeof(env_out), "SK_HOOK_OUT=%s", out);
	char *env[] = { env_out, "NOT=passed" };
	char *args[] = { "not-an-arg" };
	struct sk_hook h = { .path = (char *)self_exe(), .args = args, .env = env, .n_env = 1 };
	struct sk_hooks hooks = { .list[SK_HOOK_POSTSTART] = &h, .n[SK_HOOK_POSTSTART] = 1 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_POSTSTART, &hooks, NULL, NULL, &err), 0, "%s", err.msg);
	char want[8192];
	snprintf(want, sizeof(want), "argv=%s\nenv=%s\nfds=0\nusr1=0\nstdin=", self, env_out);
	cr_assert_str_eq(slurp(out), want);
}

Test(hooks, exit_status_and_signal_are_reported)
{
	char *a1[3] = { [2] = "exit 3" }, *a2[3] = { [2] = "kill -9 $$" };
	struct sk_hook h[2] = { sh_hook(a1), sh_hook(a2) };
	struct sk_hooks hooks = { .list[SK_HOOK_PRESTART] = &h[0], .n[SK_HOOK_PRESTART] = 1,
				  .list[SK_HOOK_CREATE_CONTAINER] = &h[1], .n[SK_HOOK_CREATE_CONTAINER] = 1 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_PRESTART, &hooks, "{}", NULL, &err), -1);
	cr_assert_str_eq(err.msg, "prestart hook \"/bin/sh\": exited with status 3");
	cr_assert_eq(sk_hooks_run(SK_HOOK_CREATE_CONTAINER, &hooks, "{}", NULL, &err), -1);
	cr_assert_str_eq(err.msg, "createContainer hook \"/bin/sh\": killed by signal 9");
}

Test(hooks, missing_path_is_an_error)
{
	struct sk_hook h = { .path = "/nonexistent/hook" };
	struct sk_hooks hooks = { .list[SK_HOOK_START_CONTAINER] = &h, .n[SK_HOOK_START_CONTAINER] = 1 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_START_CONTAINER, &hooks, "{}", NULL, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);
	cr_assert_str_eq(err.msg, "startContainer hook \"/nonexistent/hook\": ENOENT");
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left behind");
	cr_assert_eq(errno, ECHILD);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(hooks, timeout_kills_and_reaps)
{
	char *args[] = { "sleep", "10" };
	struct sk_hook h = { .path = "/bin/sleep", .args = args, .n_args = 2, .has_timeout = true, .timeout = 1 };
	struct sk_hooks hooks = { .list[SK_HOOK_CREATE_RUNTIME] = &h, .n[SK_HOOK_CREATE_RUNTIME] = 1 };
	struct sk_err err = { 0 };
	double t0 = now_s();
	cr_assert_eq(sk_hooks_run(SK_HOOK_CREATE_RUNTIME, &hooks, "{}", NULL, &err), -1);
	double took = now_s() - t0;
	cr_assert_str_eq(err.msg, "createRuntime hook \"/bin/sleep\" timed out after 1s");
	cr_assert(took >= 0.95 && took < 3, "took %.2fs", took);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "the hook was not reaped");
	cr_assert_eq(errno, ECHILD);
}

Test(hooks, a_hook_that_ignores_a_large_state)
{
	size_t len = 4u << 20;
	char *state = malloc(len + 1);
	cr_assert_not_null(state);
	memset(state, 'x', len);
	state[len] = '\0';
	char *args[] = { "true" };
	struct sk_hook h = { .path = "/bin/true", .args = args, .n_args = 1, .has_timeout = true, .timeout = 10 };
	struct sk_hooks hooks = { .list[SK_HOOK_PRESTART] = &h, .n[SK_HOOK_PRESTART] = 1 };
	struct sk_err err = { 0 };
	/* SIGPIPE must not kill us, and must not stay ignored. */
	cr_assert_eq(sk_hooks_run(SK_HOOK_PRESTART, &hooks, state, NULL, &err), 0, "%s", err.msg);
	struct sigaction sa;
	sigaction(SIGPIPE, NULL, &sa);
	cr_assert_eq(sa.sa_handler, SIG_DFL);
	free(state);
}

Test(hooks, a_hook_that_reads_a_large_state)
{
	size_t len = 1u << 20;
	char *state = malloc(len + 1);
	cr_assert_not_null(state);
	for (size_t i = 0; i < len; i++)
		state[i] = (char)('a' + i % 26);
	state[len] = '\0';
	char out[128], script[256];
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(script, sizeof(script), "exec /bin/cat > %s", out);
	char *args[3] = { [2] = script };
	struct sk_hook h = sh_hook(args);
	struct sk_hooks hooks = { .list[SK_HOOK_PRESTART] = &h, .n[SK_HOOK_PRESTART] = 1 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_PRESTART, &hooks, state, NULL, &err), 0, "%s", err.msg);
	struct stat st;
	cr_assert_eq(stat(out, &st), 0);
	cr_assert_eq((size_t)st.st_size, len);
	free(state);
}

/* Hooks n = 1..3 each append "n" to a file; hook 2 may fail first. */
static void three_hooks(bool second_fails, char scripts[3][256], char *args[3][3],
			struct sk_hook h[3])
{
	for (int i = 0; i < 3; i++) {
		snprintf(scripts[i], 256, "echo %d >> %s/order%s", i + 1, tmp, second_fails && i == 1 ? "; exit 1" : "");
		args[i][2] = scripts[i];
		h[i] = sh_hook(args[i]);
	}
}

Test(hooks, run_in_order)
{
	char scripts[3][256], *args[3][3];
	struct sk_hook h[3];
	three_hooks(false, scripts, args, h);
	struct sk_hooks hooks = { .list[SK_HOOK_PRESTART] = h, .n[SK_HOOK_PRESTART] = 3 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_PRESTART, &hooks, "{}", NULL, &err), 0, "%s", err.msg);
	char path[128];
	snprintf(path, sizeof(path), "%s/order", tmp);
	cr_assert_str_eq(slurp(path), "1\n2\n3\n");
}

Test(hooks, a_failure_stops_the_creation_hooks)
{
	char scripts[3][256], *args[3][3];
	struct sk_hook h[3];
	three_hooks(true, scripts, args, h);
	struct sk_hooks hooks = { .list[SK_HOOK_CREATE_RUNTIME] = h, .n[SK_HOOK_CREATE_RUNTIME] = 3 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_hooks_run(SK_HOOK_CREATE_RUNTIME, &hooks, "{}", NULL, &err), -1);
	cr_assert_str_eq(err.msg, "createRuntime hook \"/bin/sh\": exited with status 1");
	char path[128];
	snprintf(path, sizeof(path), "%s/order", tmp);
	cr_assert_str_eq(slurp(path), "1\n2\n");
}

Test(hooks, poststop_failures_only_warn)
{
	char scripts[3][256], *args[3][3];
	struct sk_hook h[3];
	three_hooks(true, scripts, args, h);
	struct sk_hooks hooks = { .list[SK_HOOK_POSTSTOP] = h, .n[SK_HOOK_POSTSTOP] = 3 };
	struct sk_err err = { 0 };
	char path[128];
	snprintf(path, sizeof(path), "%s/log", tmp);
	cr_assert_eq(sk_log_init(path, 0, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_hooks_run(SK_HOOK_POSTSTOP, &hooks, "{}", NULL, &err), 0);
	cr_assert_not_null(strstr(slurp(path), "level=warning msg=\"poststop hook \\\"/bin/sh\\\": exited with status 1\"\n"),
			   "log: %s", slurp(path));
	snprintf(path, sizeof(path), "%s/order", tmp);
	cr_assert_str_eq(slurp(path), "1\n2\n3\n");
}
