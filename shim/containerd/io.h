/* io: a process's stdio on containerd's side.  containerd names, per
 * process, where stdin comes from and stdout and stderr go:
 *   an absolute path   a FIFO that containerd (ctr, the CRI plugin) reads
 *                      or writes;
 *   file:///PATH       a file that output is appended to;
 *   ""                 nothing (output is read and dropped).
 * binary:// log URIs are refused (not implemented).  Output comes from the
 * core's reader (core/output.h) through ctrd_io_sink(); a reader that does
 * not keep up gets at most CTRD_IO_QUEUE_MAX bytes queued per stream, the
 * rest is dropped with a warning rather than blocking the shim, which
 * serves every container of the pod.  stdin is copied from its FIFO to the
 * process until CloseIO. */
#ifndef SKIFF_SHIM_CONTAINERD_IO_H
#define SKIFF_SHIM_CONTAINERD_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ctr.h"
#include "skiff/base/error.h"

#define CTRD_IO_QUEUE_MAX (1u << 20)

struct ctrd_wq {
	int fd;
	bool dropped;                /* warned once */
	char *buf;
	size_t len, off;
};

struct ctrd_io {
	struct shim_proc *p;
	struct ctrd_wq out, err;     /* err.fd may be out.fd's dup */
	int in_src;                  /* the stdin FIFO, or -1 */
	char in_buf[32768];
	size_t in_len, in_off;       /* read from in_src, not yet written */
};

/* Open the destinations (before the runtime runs: the FIFOs exist then). */
int ctrd_io_open(struct ctrd_io *io, struct shim_proc *p, const char *in, const char *out, const char *err_uri,
		 struct sk_err *err);
/* The sink for p->out (msg[0] = 2 stdout, 3 stderr). */
void ctrd_io_sink(void *ctx, const char *msg, size_t len);
/* Copy stdin to the process (once p->io.in_fd exists). */
int ctrd_io_start_stdin(struct ctrd_io *io, struct sk_err *err);
/* CloseIO: the process's stdin ends. */
void ctrd_io_close_stdin(struct ctrd_io *io);
/* Flush what is queued (a last try) and close everything. */
void ctrd_io_close(struct ctrd_io *io);

#endif
