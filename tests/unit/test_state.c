/* state.c: ids, state.json round trip, the lock, status derivation, the
 * /proc/<pid>/stat parser and the OCI state JSON.  No root needed. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/container/state.h"

static char tmp[64];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-state.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = make_tmp, .fini = remove_tmp);

static bool id_ok(const char *id)
{
	struct sk_err err = { 0 };
	int rc = sk_state_validate_id(id, &err);
	if (rc < 0)
		cr_assert(err.msg[0], "an invalid id comes with a message");
	return rc == 0;
}

Test(state, id_validation)
{
	cr_assert(id_ok("a"));
	cr_assert(id_ok("abc-1.2_3+x"));
	cr_assert(id_ok("0ab"));
	cr_assert(id_ok("a.."));

	char longest[SK_ID_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	longest[SK_ID_MAX] = '\0';
	cr_assert(id_ok(longest), "1024 bytes is allowed");
	longest[SK_ID_MAX] = 'a';
	longest[SK_ID_MAX + 1] = '\0';
	cr_assert_not(id_ok(longest), "1025 bytes is not");

	const char *bad[] = { "", ".", "..", "a/b", "/a", "-x", "_x", ".x", "+x", "a b", "a\n", "a:b", "é" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(id_ok(bad[i]), "id \"%s\" must be refused", bad[i]);
}

static int open_root(void)
{
	char root[128];
	struct sk_err err = { 0 };
	snprintf(root, sizeof(root), "%s/a/root", tmp);
	int fd = sk_state_open_root(root, &err);
	cr_assert_geq(fd, 0, "open root: %s", err.msg);
	return fd;
}

static void fill_state(struct sk_state *st)
{
	static struct sk_kv ann[] = { { "org.example.a", "1" }, { "b", "two \"quoted\"" } };
	memset(st, 0, sizeof(*st));
	st->id = "c1";
	st->pid = 4242;
	st->start_time = 123456789012345ull;
	st->bundle = "/b/bundle";
	st->rootfs = "/b/bundle/rootfs";
	st->created = "2024-01-02T03:04:05.123456789Z";
	st->cgroup_path = "/sys/fs/cgroup/x/c1";
	st->owner = 1000;
	st->rootfs_mnt_id = 4321;
	st->rootfs_base_mnt_id = 21;
	st->annotations = ann;
	st->n_annotations = 2;
}

Test(state, write_read_round_trip)
{
	struct sk_err err = { 0 };
	int root = open_root();
	int dir = sk_state_lock(root, "c1", true, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);

	struct sk_state in, out;
	fill_state(&in);
	cr_assert_eq(sk_state_write(dir, &in, &err), 0, "%s", err.msg);
	/* A rewrite replaces, and leaves no temporary file behind. */
	in.pid = 4343;
	cr_assert_eq(sk_state_write(dir, &in, &err), 0, "%s", err.msg);
	DIR *d = fdopendir(dup(dir));
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		cr_assert_str_eq(de->d_name, "state.json");
		files++;
	}
	closedir(d);
	cr_assert_eq(files, 1);

	cr_assert_eq(sk_state_read(dir, &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.id, "c1");
	cr_assert_eq(out.pid, 4343);
	cr_assert_eq(out.start_time, 123456789012345ull);
	cr_assert_str_eq(out.bundle, in.bundle);
	cr_assert_str_eq(out.rootfs, in.rootfs);
	cr_assert_str_eq(out.created, in.created);
	cr_assert_str_eq(out.cgroup_path, in.cgroup_path);
	cr_assert_eq(out.owner, 1000);
	cr_assert_eq(out.rootfs_mnt_id, 4321);
	cr_assert_eq(out.rootfs_base_mnt_id, 21);
	cr_assert_eq(out.n_annotations, 2);
	cr_assert_str_eq(out.annotations[1].key, "b");
	cr_assert_str_eq(out.annotations[1].value, "two \"quoted\"");
	sk_state_free(&out);

	/* Optional fields absent. */
	in.cgroup_path = NULL;
	in.rootfs_mnt_id = 0;
	in.n_annotations = 0;
	cr_assert_eq(sk_state_write(dir, &in, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_state_read(dir, &out, &err), 0, "%s", err.msg);
	cr_assert_null(out.cgroup_path);
	cr_assert_eq(out.rootfs_mnt_id, 0);
	cr_assert_eq(out.n_annotations, 0);
	cr_assert_not(out.poststart_hooks);
	cr_assert_not(out.poststop_hooks);
	sk_state_free(&out);

	/* Which hooks the config has: written, and absent (an older skiff's
	 * state.json) read as "look in the config". */
	in.poststop_hooks = true;
	cr_assert_eq(sk_state_write(dir, &in, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_state_read(dir, &out, &err), 0, "%s", err.msg);
	cr_assert_not(out.poststart_hooks);
	cr_assert(out.poststop_hooks);
	sk_state_free(&out);
	const char *old = "{\"id\":\"c1\",\"pid\":1,\"startTime\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\","
			  "\"created\":\"t\",\"owner\":0}";
	int fd = openat(dir, "state.json", O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, old, strlen(old)), (ssize_t)strlen(old));
	close(fd);
	cr_assert_eq(sk_state_read(dir, &out, &err), 0, "%s", err.msg);
	cr_assert(out.poststart_hooks);
	cr_assert(out.poststop_hooks);
	sk_state_free(&out);

	cr_assert_eq(sk_state_remove(root, "c1", &err), 0, "%s", err.msg);
	cr_assert_eq(faccessat(root, "c1", F_OK, 0), -1);
	close(dir);
	close(root);
}

Test(state, read_errors)
{
	struct sk_err err = { 0 };
	int root = open_root();
	int dir = sk_state_lock(root, "c2", true, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);

	cr_assert_eq(sk_state_read(dir, &(struct sk_state){ 0 }, &err), -1);
	cr_assert_eq(err.errnum, ENOENT, "a missing state.json is ENOENT: %s", err.msg);

	const char *bad[] = { "{", "[]", "{\"id\":\"x\"}",
			      "{\"id\":\"x\",\"pid\":-1,\"startTime\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\","
			      "\"created\":\"t\",\"owner\":0}",
			      "{\"id\":\"x\",\"pid\":1,\"startTime\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\","
			      "\"created\":\"t\",\"owner\":0,\"poststopHooks\":1}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = openat(dir, "state.json", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		close(fd);
		struct sk_state st;
		err.msg[0] = '\0';
		cr_assert_eq(sk_state_read(dir, &st, &err), -1, "\"%s\" must be refused", bad[i]);
		cr_assert(strstr(err.msg, "state.json"), "message names the file: %s", err.msg);
	}
	close(dir);
	close(root);
}

static const char good[] = "{\"id\":\"x\",\"pid\":1,\"startTime\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\","
			   "\"created\":\"t\",\"owner\":0}";

/* sk_state_parse's (buf, len): exactly len bytes, no NUL after them, and a
 * NUL among them is refused rather than ending the text there. */
Test(state, parse_a_buffer)
{
	size_t len = strlen(good);
	char *buf = malloc(len + 8);
	cr_assert_not_null(buf);
	memcpy(buf, good, len);
	struct sk_state st;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_state_parse(buf, len, &st, &err), 0, "%s", err.msg);
	cr_assert_str_eq(st.id, "x");
	sk_state_free(&st);

	memcpy(buf + len, "\0junk", 6);
	cr_assert_eq(sk_state_parse(buf, len + 5, &st, &err), -1);
	cr_assert_str_eq(err.msg, "state.json: holds a NUL byte");
	static const struct sk_state zero;
	cr_assert(memcmp(&st, &zero, sizeof(st)) == 0, "struct not left empty");
	free(buf);
}

/* yajl_tree builds and frees values recursively: a 1 MiB state.json of
 * nested arrays crashed every command on the container (stack overflow). */
Test(state, deep_nesting_is_refused)
{
	size_t depth = 500000;
	char *buf = malloc(2 * depth + 16);
	cr_assert_not_null(buf);
	size_t n = (size_t)sprintf(buf, "{\"a\":");
	memset(buf + n, '[', depth);
	memset(buf + n + depth, ']', depth);
	n += 2 * depth;
	buf[n++] = '}';
	struct sk_state st;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_state_parse(buf, n, &st, &err), -1);
	cr_assert_str_eq(err.msg, "state.json: nested deeper than 16 levels");
	/* Brackets inside strings are text, not nesting. */
	n = (size_t)sprintf(buf, "%.*s,\"annotations\":{\"k\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[\"}}",
			    (int)strlen(good) - 1, good);
	cr_assert_eq(sk_state_parse(buf, n, &st, &err), 0, "%s", err.msg);
	cr_assert_str_eq(st.annotations[0].value, "[[[[[[[[[[[[[[[[[[[[\"[[[");
	sk_state_free(&st);
	free(buf);
}

Test(state, lock_create_and_missing)
{
	struct sk_err err = { 0 };
	int root = open_root();
	cr_assert_eq(sk_state_lock(root, "nosuch", false, &err), -1);
	cr_assert_str_eq(err.msg, "container \"nosuch\" does not exist");
	cr_assert_eq(sk_state_lock(root, "../x", true, &err), -1, "bad ids are refused");

	int dir = sk_state_lock(root, "c3", true, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);
	cr_assert_eq(sk_state_lock(root, "c3", true, &err), -1);
	cr_assert_str_eq(err.msg, "container \"c3\" already exists");
	close(dir);
	close(root);
}

/* In a child: try the lock without blocking; exit 0 if it is held by
 * someone else, 1 if it was free. */
static int try_lock_in_child(int root)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = openat(root, "c4", O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			_exit(2);
		_exit(flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(state, lock_is_exclusive)
{
	struct sk_err err = { 0 };
	int root = open_root();
	int dir = sk_state_lock(root, "c4", true, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);
	cr_assert_eq(try_lock_in_child(root), 0, "the lock is held while the fd is open");
	close(dir);
	cr_assert_eq(try_lock_in_child(root), 1, "closing the fd releases it");

	/* A waiter that gets the lock after a delete sees the container gone. */
	dir = sk_state_lock(root, "c4", false, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The inherited fd shares the parent's lock: drop it. */
		close(dir);
		struct sk_err cerr = { 0 };
		int fd = sk_state_lock(root, "c4", false, &cerr);
		_exit(fd < 0 && strcmp(cerr.msg, "container \"c4\" does not exist") == 0 ? 0 : 1);
	}
	usleep(100 * 1000);     /* let the child block on the lock */
	cr_assert_eq(sk_state_remove(root, "c4", &err), 0, "%s", err.msg);
	close(dir);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the waiter reports the container gone");
	close(root);
}

Test(state, parse_stat)
{
	struct sk_err err = { 0 };
	char state = 0;
	uint64_t start = 0;
	/* comm "a) (b c" : parentheses and spaces; starttime is field 22. */
	const char *line = "1234 (a) (b c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 98765 23 24 25\n";
	cr_assert_eq(sk_proc_parse_stat(line, &state, &start, &err), 0, "%s", err.msg);
	cr_assert_eq(state, 'S');
	cr_assert_eq(start, 98765);

	const char *bad[] = {
		"1234 (a S 1 2",                                     /* no ')' */
		"1234 (a)",                                          /* nothing after */
		"1234 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", /* too short */
		"1234 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 23",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sk_proc_parse_stat(bad[i], &state, &start, &err), -1, "\"%s\" must be refused", bad[i]);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Never outlive a test that fails before killing us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

Test(state, status_of_a_real_process)
{
	struct sk_err err = { 0 };
	int root = open_root();
	int dir = sk_state_lock(root, "c5", true, &err);
	cr_assert_geq(dir, 0, "%s", err.msg);

	pid_t pid = spawn_sleeper();
	struct sk_state st;
	fill_state(&st);
	st.pid = pid;
	st.cgroup_path = NULL;
	cr_assert_eq(sk_proc_start_time(pid, &st.start_time, &err), 0, "%s", err.msg);
	cr_assert_neq(st.start_time, 0);

	cr_assert_eq(mkfifoat(dir, "exec.fifo", 0600), 0);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_CREATED);
	cr_assert_eq(unlinkat(dir, "exec.fifo", 0), 0);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_RUNNING);

	/* A fake cgroup directory: only cgroup.freeze is read. */
	char cg[128];
	snprintf(cg, sizeof(cg), "%s/cg", tmp);
	cr_assert_eq(mkdir(cg, 0700), 0);
	st.cgroup_path = cg;
	char freeze[160];
	snprintf(freeze, sizeof(freeze), "%s/cgroup.freeze", cg);
	FILE *f = fopen(freeze, "w");
	fputs("0\n", f);
	fclose(f);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_RUNNING);
	f = fopen(freeze, "w");
	fputs("1\n", f);
	fclose(f);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_PAUSED);
	st.cgroup_path = NULL;

	/* The same pid with another start time is a recycled pid. */
	st.start_time++;
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_STOPPED);
	st.start_time--;

	/* Dead but not reaped: a zombie is stopped. */
	cr_assert_eq(kill(pid, SIGKILL), 0);
	siginfo_t si;
	cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_STOPPED);
	uint64_t t;
	cr_assert_eq(sk_proc_start_time(pid, &t, &err), -1);
	cr_assert_eq(err.errnum, ESRCH);
	cr_assert_eq(t, 0);

	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_STOPPED);
	cr_assert_eq(sk_proc_start_time(pid, &t, &err), -1);
	cr_assert_eq(err.errnum, ESRCH);

	st.pid = 0;
	cr_assert_eq(sk_state_status(dir, &st), SK_STATUS_STOPPED);
	close(dir);
	close(root);
}

Test(state, oci_json)
{
	struct sk_err err = { 0 };
	struct sk_state st;
	fill_state(&st);
	char *json = sk_state_oci_json(&st, SK_STATUS_RUNNING, &err);
	cr_assert_not_null(json, "%s", err.msg);
	const char *want =
		"{\n"
		"  \"ociVersion\": \"1.3.0\",\n"
		"  \"id\": \"c1\",\n"
		"  \"pid\": 4242,\n"
		"  \"status\": \"running\",\n"
		"  \"bundle\": \"/b/bundle\",\n"
		"  \"rootfs\": \"/b/bundle/rootfs\",\n"
		"  \"created\": \"2024-01-02T03:04:05.123456789Z\",\n"
		"  \"owner\": \"\",\n"
		"  \"annotations\": {\n"
		"    \"org.example.a\": \"1\",\n"
		"    \"b\": \"two \\\"quoted\\\"\"\n"
		"  }\n"
		"}\n";
	cr_assert_str_eq(json, want);
	free(json);

	st.n_annotations = 0;
	json = sk_state_oci_json(&st, SK_STATUS_STOPPED, &err);
	cr_assert_not_null(json, "%s", err.msg);
	cr_assert(strstr(json, "\"pid\": 0,"), "a stopped container has pid 0: %s", json);
	cr_assert(strstr(json, "\"status\": \"stopped\""));
	cr_assert_null(strstr(json, "annotations"), "no annotations when there are none");
	free(json);

	cr_assert_str_eq(sk_status_name(SK_STATUS_CREATING), "creating");
	cr_assert_str_eq(sk_status_name(SK_STATUS_CREATED), "created");
	cr_assert_str_eq(sk_status_name(SK_STATUS_PAUSED), "paused");
}
