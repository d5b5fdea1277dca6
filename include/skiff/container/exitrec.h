/* exitrec: how a container ended, kept in exit.json beside its record by
 * skiff-shim and read by `skiff wait` (docs/shim.md).
 *
 * The shim writes the record twice: "running" once the container's
 * process is known (its pid and start time, and the shim's, so that a
 * reader can tell a dead shim from a live one), then the final state the
 * moment the process is reaped, before anything else, durably (temporary
 * file, fsync, rename, fsync of the directory).  A record still "running"
 * whose shim is gone means the status is unknown: it is never guessed.
 *
 * A full file system must not lose the status: with the running record
 * the shim reserves the final record's space (SK_EXIT_FINAL, blanks of
 * SK_EXIT_REC_MAX bytes, sk_reserve_open) and writes the final record
 * there in place, then renames it over exit.json.  A shim killed before
 * the rename leaves the record whole in SK_EXIT_FINAL: the wait takes it
 * once it parses as the final record of the same process.  A record that
 * could not be written at all leaves an empty file SK_EXIT_FAILED<ERRNO>
 * ("...failed-ENOSPC"), from which the wait names the cause.
 *
 *   {"state":"running","pid":P,"pidStartTime":T,"shimPid":S,"shimStartTime":U}
 *   {"state":"exited","exitCode":3,"status":3,...,"oomKilled":false,
 *    "timedOut":false,"finished":"2024-01-02T03:04:05.123456789Z"}
 *   {"state":"signaled","signal":9,"status":137,...}
 *   {"state":"unknown",...}     the process ended, but not as our child
 *
 * The writer (exitrec.c) needs no JSON library, so that the shim links it
 * alone; the reader and the wait (exitrec_read.c) use yajl. */
#ifndef SKIFF_EXITREC_H
#define SKIFF_EXITREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"

#define SK_EXIT_FILE "exit.json"
#define SK_EXIT_FINAL ".exit.json.final"
#define SK_EXIT_FAILED ".exit.json.failed-"
/* The longest record sk_exit_rec_format writes, and the reserved size. */
#define SK_EXIT_REC_MAX 512

enum sk_exit_state { SK_EXIT_RUNNING, SK_EXIT_EXITED, SK_EXIT_SIGNALED, SK_EXIT_UNKNOWN };

struct sk_exit_rec {
	enum sk_exit_state state;
	int code;                  /* SK_EXIT_EXITED */
	int signal;                /* SK_EXIT_SIGNALED */
	bool oom_killed, timed_out;
	pid_t pid, shim_pid;
	uint64_t pid_start, shim_start;
	char finished[64];         /* RFC 3339, UTC, nanoseconds; "" while running */
	int lost_errno;            /* wait, SK_EXIT_UNKNOWN: the shim could not
				    * record the status, for this reason */
};

/* The status as a shell reports it: the code, 128+signal, or -1 while
 * running or unknown. */
int sk_exit_status(const struct sk_exit_rec *r);
const char *sk_exit_state_name(enum sk_exit_state s);

/* Set r->finished to now. */
void sk_exit_rec_stamp(struct sk_exit_rec *r);

/* The record as exit.json holds it (one line, with its newline) into buf;
 * returns its length, or -1 when cap is too small (512 is enough). */
int sk_exit_rec_format(const struct sk_exit_rec *r, char *buf, size_t cap);

/* exit.json into dir_fd; durable: synced with its directory (then dir_fd
 * must not be O_PATH). */
int sk_exit_rec_write(int dir_fd, const struct sk_exit_rec *r, bool durable, struct sk_err *err);

/* The final record r into the space reserved in res (SK_EXIT_FINAL in
 * dir_fd), else written anew; on failure, an SK_EXIT_FAILED marker names
 * err->errnum for the wait.  res is closed. */
struct sk_reserved;
int sk_exit_rec_commit(int dir_fd, struct sk_reserved *res, const struct sk_exit_rec *r, struct sk_err *err);

/* Read dir_fd/exit.json; ENOENT in err->errnum when there is none. */
int sk_exit_rec_read(int dir_fd, struct sk_exit_rec *r, struct sk_err *err);

/* Block until the record in dir_fd is final, or until its shim and then
 * the process are both gone: then the final record left whole in
 * SK_EXIT_FINAL, else r->state SK_EXIT_UNKNOWN, with r->lost_errno from an
 * SK_EXIT_FAILED marker.  Polls pidfds; never holds a lock. */
int sk_exit_rec_wait(int dir_fd, struct sk_exit_rec *r, struct sk_err *err);

#endif
