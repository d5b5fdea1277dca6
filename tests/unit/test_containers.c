/* test_containers: listing the containers under a root (containers.c) and
 * ps(1)'s rows of a set of pids (procs.c).  No root needed. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/container/containers.h"
#include "skiff/container/procs.h"

static char tmp[64];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-containers.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(containers, .init = make_tmp, .fini = remove_tmp);

/* <tmp>/<id>/state.json for a container whose init is long gone. */
static void add(int root, const char *id)
{
	struct sk_err err = { 0 };
	cr_assert_eq(mkdirat(root, id, 0700), 0);
	int dir = openat(root, id, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dir, 0);
	struct sk_state st = { .id = (char *)id, .pid = 0, .bundle = "/b", .rootfs = "/b/rootfs",
			       .created = "2026-01-01T00:00:00Z" };
	cr_assert_eq(sk_state_write(dir, &st, &err), 0, "%s", err.msg);
	close(dir);
}

Test(containers, absent_root_is_empty_and_not_made)
{
	char root[128];
	struct sk_err err = { 0 };
	struct sk_container_info *v = (void *)1;
	size_t n = 1;
	snprintf(root, sizeof(root), "%s/nosuch", tmp);
	cr_assert_eq(sk_containers_list(root, &v, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	cr_expect_null(v);
	cr_expect_neq(access(root, F_OK), 0, "the root was made");
}

Test(containers, sorted_creating_unknown_and_skipped)
{
	int root = open(tmp, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(root, 0);
	add(root, "zeta");
	add(root, "alpha");
	/* No state.json: a create under way, listed so it can be deleted. */
	cr_assert_eq(mkdirat(root, "mid", 0700), 0);
	/* Not containers: a file, a name no id can have.  A damaged state
	 * is listed as unknown, never hidden. */
	cr_assert_eq(close(openat(root, "file", O_CREAT | O_WRONLY, 0600)), 0);
	cr_assert_eq(mkdirat(root, ".hidden", 0700), 0);
	cr_assert_eq(mkdirat(root, "broken", 0700), 0);
	int fd = openat(root, "broken/state.json", O_CREAT | O_WRONLY, 0600);
	cr_assert_eq(write(fd, "{", 1), 1);
	close(fd);
	close(root);

	struct sk_err err = { 0 };
	struct sk_container_info *v;
	size_t n;
	cr_assert_eq(sk_containers_list(tmp, &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(v[0].st.id, "alpha");
	cr_expect_eq(v[0].status, SK_STATUS_STOPPED);
	cr_expect_str_eq(v[0].st.bundle, "/b");
	cr_expect_str_eq(v[1].st.id, "broken");
	cr_expect_eq(v[1].status, SK_STATUS_UNKNOWN);
	cr_expect_str_eq(sk_status_name(v[1].status), "unknown");
	cr_expect_str_eq(v[2].st.id, "mid");
	cr_expect_eq(v[2].status, SK_STATUS_CREATING);
	cr_expect_eq(v[2].st.owner, geteuid());
	cr_expect_str_eq(v[3].st.id, "zeta");
	sk_containers_free(v, n);
}

static const char *ps_err(char *const *args, size_t n_args)
{
	static struct sk_err err;
	char *out = NULL;
	pid_t me = getpid();
	memset(&err, 0, sizeof(err));
	cr_assert_eq(sk_procs_ps(&me, 1, args, n_args, &out, &err), -1, "ps succeeded: %s", out);
	cr_assert_null(out);
	return err.msg;
}

Test(procs, ps_keeps_the_header_and_the_rows_of_the_pids)
{
	struct sk_err err = { 0 };
	pid_t pids[] = { getppid(), getpid() };
	char *args[] = { "-e", "-o", "pid,comm" };
	char *out;
	cr_assert_eq(sk_procs_ps(pids, 2, args, 3, &out, &err), 0, "%s", err.msg);
	char want[256];
	FILE *f = fopen("/proc/self/comm", "r");
	char comm[32] = "";
	cr_assert(f && fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(want, sizeof(want), "%d %s\n", (int)getpid(), comm);
	cr_expect(strncmp(out + strspn(out, " "), "PID COMMAND\n", 12) == 0, "header: %s", out);
	cr_expect_not_null(strstr(out, want), "own row missing: %s", out);
	/* Exactly the header and the two rows. */
	size_t lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 3, "%s", out);
	free(out);
}

Test(procs, ps_errors)
{
	char *no_pid[] = { "-o", "comm" };
	cr_expect_str_eq(ps_err(no_pid, 2), "no PID column in the output of ps");
	char *bad[] = { "--no-such-ps-flag" };
	const char *msg = ps_err(bad, 1);
	cr_expect(strncmp(msg, "ps exited with status 1: ", 25) == 0, "%s", msg);
	cr_expect_null(strchr(msg, '\n'), "one line: %s", msg);
}
