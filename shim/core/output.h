/* output: what a process writes, read in pieces of at most 8 KiB and sent
 * to its log (k8s-file and/or journald) and to its sink (conmon's attach
 * clients, containerd's FIFOs).  Each process has its own. */
#ifndef SHIM_CORE_OUTPUT_H
#define SHIM_CORE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

/* conmon's sizes: output is read and forwarded in 8 KiB pieces (an attach
 * message is a type byte and at most 8192 bytes, podman's buffer is 8193). */
#define SHIM_READ_MAX 8192

struct shim_proc;

struct shim_log_cfg {
	const char *k8s_path;            /* a k8s-file log (absolute), or NULL */
	int64_t size_max;                /* rotate to PATH.1 before passing it; <= 0: no limit */
	int64_t global_size_max;         /* write nothing more after it; <= 0: no limit */
	bool no_sync;                    /* no fsync at the end */
	bool journald;
	const char *journal_id;          /* CONTAINER_ID_FULL, more than 12 characters */
	const char *journal_name, *journal_tag; /* optional */
};

struct shim_jpartial;

struct shim_output {
	struct shim_log_cfg cfg;
	int k8s_fd;
	int64_t k8s_bytes, total_bytes;
	bool write_failed;
	int journal_fd;
	bool journal_failed;
	struct shim_jpartial *jpart;     /* [2]: a line's head, per stream */
	int hup_timer;                   /* a pty with no slave: look again soon */
	/* Every piece read: msg[0] is the type (2 stdout, 3 stderr), then
	 * len - 1 bytes. */
	void (*sink)(void *ctx, const char *msg, size_t len);
	/* A stream has ended (optional): type 2 or 3. */
	void (*sink_end)(void *ctx, int type);
	void *sink_ctx;
	bool held[2];                    /* stdout, stderr: not read for now */
};

/* Open the log file (mode 0600, O_APPEND) and the journal socket. */
int shim_output_open(struct shim_proc *p, struct sk_err *err);
/* Watch p's stdout and stderr: each is read, logged and forwarded until
 * its end, when it is closed. */
int shim_output_start(struct shim_proc *p, struct sk_err *err);
/* Read what is left (the process has ended) and flush the journal's
 * partial lines. */
void shim_output_drain(struct shim_proc *p);
/* The log file's contents to disk (unless cfg.no_sync). */
void shim_output_sync(struct shim_proc *p);
/* Stop (hold) or go on reading stream type (2 stdout, 3 stderr): a sink
 * whose reader is slow holds it, so that the process blocks on its full
 * pipe rather than the shim buffering without bound.  A held stream is
 * not read by shim_output_drain either. */
void shim_output_hold(struct shim_proc *p, int type, bool hold);
/* Reopen the log file (after logrotate moved it). */
void shim_output_reopen(struct shim_proc *p);

#endif
