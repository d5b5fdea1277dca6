/* exitrec.c, exitrec_read.c: exit.json written and read back, the
 * status of each state, refused records, sk_write_file_replace_at, and
 * the wait when the shim and the process are gone.  No root needed. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/container/exitrec.h"
#include "skiff/container/state.h"
#include "skiff/base/util.h"

static char tmp[64];
static int dfd = -1;

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-exitrec.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
}

static void remove_tmp(void)
{
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(exitrec, .init = make_tmp, .fini = remove_tmp);

static void put(const char *text)
{
	struct sk_err err;
	cr_assert_eq(sk_write_file_replace_at(dfd, SK_EXIT_FILE, text, strlen(text), 0644, 0, &err), 0, "%s", err.msg);
}

Test(exitrec, round_trip)
{
	struct sk_exit_rec w = { .state = SK_EXIT_SIGNALED, .signal = 9, .oom_killed = true, .pid = 12, .pid_start = 34,
				 .shim_pid = 56, .shim_start = 78 };
	sk_exit_rec_stamp(&w);
	struct sk_err err;
	cr_assert_eq(sk_exit_rec_write(dfd, &w, true, &err), 0, "%s", err.msg);
	struct sk_exit_rec r;
	cr_assert_eq(sk_exit_rec_read(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_SIGNALED);
	cr_assert_eq(r.signal, 9);
	cr_assert(r.oom_killed);
	cr_assert_not(r.timed_out);
	cr_assert_eq(r.pid, 12);
	cr_assert_eq(r.pid_start, 34);
	cr_assert_eq(r.shim_pid, 56);
	cr_assert_eq(r.shim_start, 78);
	cr_assert_str_eq(r.finished, w.finished);
	cr_assert_eq(sk_exit_status(&r), 137);
	/* No temporary file is left behind. */
	struct stat sb;
	char name[64];
	snprintf(name, sizeof(name), ".%s.tmp-%d", SK_EXIT_FILE, (int)getpid());
	cr_assert_eq(fstatat(dfd, name, &sb, 0), -1);
}

Test(exitrec, statuses)
{
	struct sk_exit_rec r = { .state = SK_EXIT_EXITED, .code = 3 };
	cr_assert_eq(sk_exit_status(&r), 3);
	r.state = SK_EXIT_RUNNING;
	cr_assert_eq(sk_exit_status(&r), -1);
	r.state = SK_EXIT_UNKNOWN;
	cr_assert_eq(sk_exit_status(&r), -1);
	cr_assert_str_eq(sk_exit_state_name(SK_EXIT_UNKNOWN), "unknown");
}

Test(exitrec, running_has_no_status)
{
	struct sk_exit_rec w = { .state = SK_EXIT_RUNNING, .pid = 1, .shim_pid = 2 };
	char buf[512];
	int n = sk_exit_rec_format(&w, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_null(strstr(buf, "status"), "%s", buf);
	cr_assert_null(strstr(buf, "exitCode"), "%s", buf);
	cr_assert_eq(sk_exit_rec_format(&w, buf, 10), -1, "a short buffer is refused");
}

Test(exitrec, missing_is_enoent)
{
	struct sk_exit_rec r;
	struct sk_err err;
	cr_assert_eq(sk_exit_rec_read(dfd, &r, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);
}

Test(exitrec, bad_records_are_refused)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"zombie\",\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"exited\",\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"exited\",\"exitCode\":256,\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"signaled\",\"signal\":0,\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"exited\",\"exitCode\":1,\"pid\":-1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}",
		"{\"state\":\"exited\",\"exitCode\":1,\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1,"
		"\"finished\":\"\\\"injected\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		struct sk_exit_rec r;
		struct sk_err err = { 0 };
		cr_assert_eq(sk_exit_rec_read(dfd, &r, &err), -1, "accepted: %s", bad[i]);
		cr_assert(err.msg[0]);
	}
}

Test(exitrec, wait_final_at_once)
{
	put("{\"state\":\"exited\",\"exitCode\":4,\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1,"
	    "\"finished\":\"2024-01-02T03:04:05.000000001Z\"}");
	struct sk_exit_rec r;
	struct sk_err err;
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_exit_status(&r), 4);
}

Test(exitrec, wait_with_everyone_gone_is_unknown)
{
	/* pid 1's start time is not 1: both "processes" are long gone. */
	put("{\"state\":\"running\",\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}");
	struct sk_exit_rec r;
	struct sk_err err;
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_UNKNOWN);
}

Test(exitrec, replace_without_sync)
{
	struct sk_err err;
	cr_assert_eq(sk_write_file_replace_at(dfd, "f", "a", 1, 0600, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_write_file_replace_at(dfd, "f", "bc", 2, 0600, SK_WRITE_SYNC | SK_WRITE_SYNC_DIR, &err), 0,
		     "%s", err.msg);
	char buf[8];
	cr_assert_eq(sk_read_small_at(dfd, "f", buf, sizeof(buf), &err), 2);
	cr_assert_str_eq(buf, "bc");
	struct stat sb;
	cr_assert_eq(fstatat(dfd, "f", &sb, 0), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
}

Test(exitrec, reserved_space_commits_in_place)
{
	struct sk_err err;
	struct sk_reserved res;
	cr_assert_eq(sk_reserve_open(dfd, SK_EXIT_FINAL, SK_EXIT_REC_MAX, 0644, &res, &err), 0, "%s", err.msg);
	struct stat sb;
	cr_assert_eq(fstatat(dfd, SK_EXIT_FINAL, &sb, 0), 0);
	cr_assert_eq(sb.st_size, SK_EXIT_REC_MAX, "the space is taken at once");
	ino_t ino = sb.st_ino;
	struct sk_exit_rec r = { .state = SK_EXIT_EXITED, .code = 5, .pid = 1, .shim_pid = 1 };
	sk_exit_rec_stamp(&r);
	cr_assert_eq(sk_exit_rec_commit(dfd, &res, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(res.fd, -1, "closed");
	cr_assert_eq(fstatat(dfd, SK_EXIT_FILE, &sb, 0), 0);
	cr_assert_eq(sb.st_ino, ino, "the reserved file itself became exit.json");
	cr_assert_neq(fstatat(dfd, SK_EXIT_FINAL, &sb, 0), 0);
	struct sk_exit_rec back;
	cr_assert_eq(sk_exit_rec_read(dfd, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_exit_status(&back), 5);
}

Test(exitrec, wait_takes_a_whole_final_record_left_reserved)
{
	/* The shim was killed after writing its final record in place,
	 * before the rename: the record, then the reservation's blanks. */
	put("{\"state\":\"running\",\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}");
	const char *final = "{\"state\":\"exited\",\"exitCode\":6,\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,"
			    "\"shimStartTime\":1,\"finished\":\"2024-01-02T03:04:05.000000001Z\"}\n          ";
	struct sk_err err;
	struct sk_exit_rec r;
	/* Torn: not taken. */
	cr_assert_eq(sk_write_file_replace_at(dfd, SK_EXIT_FINAL, final, 50, 0644, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_UNKNOWN);
	/* Another process's: not taken. */
	char other[512];
	snprintf(other, sizeof(other), "%s", final);
	other[strstr(other, "\"pid\":1") - other + 6] = '2';
	cr_assert_eq(sk_write_file_replace_at(dfd, SK_EXIT_FINAL, other, strlen(other), 0644, 0, &err), 0);
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_UNKNOWN);
	cr_assert_eq(sk_write_file_replace_at(dfd, SK_EXIT_FINAL, final, strlen(final), 0644, 0, &err), 0);
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_exit_status(&r), 6);
}

Test(exitrec, wait_names_why_the_status_was_lost)
{
	put("{\"state\":\"running\",\"pid\":1,\"pidStartTime\":1,\"shimPid\":1,\"shimStartTime\":1}");
	int fd = openat(dfd, SK_EXIT_FAILED "ENOSPC", O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	struct sk_exit_rec r;
	struct sk_err err;
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_UNKNOWN);
	cr_assert_eq(r.lost_errno, ENOSPC);
	/* Without even the running record. */
	cr_assert_eq(unlinkat(dfd, SK_EXIT_FILE, 0), 0);
	cr_assert_eq(sk_exit_rec_wait(dfd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.lost_errno, ENOSPC);
}
