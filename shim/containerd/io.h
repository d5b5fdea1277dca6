/* io: a process's stdio on containerd's side.  containerd names, per
 * process, where stdin comes from and stdout and stderr go:
 *   an absolute path   a FIFO that containerd (ctr, the CRI plugin) reads
 *                      or writes;
 *   file:///PATH       a file that output is appended to;
 *   binary:///PATH?..  a logging program that reads both streams from
 *                      pipes (logger.h);
 *   ""                 nothing (output is read and dropped).
 * Output comes from the core's reader (core/output.h) through
 * ctrd_io_sink().  A reader that does not keep up is never dropped from:
 * once CTRD_IO_HOLD bytes of a stream wait for it, the core stops reading
 * that stream until they are written, so the process blocks on its full
 * pipe, as with containerd's own shim, and the shim's memory stays
 * bounded (CTRD_IO_HOLD plus a read, per stream).  A destination is
 * closed when its stream has ended and all of it is written (the reader
 * then sees its end), or when the process is deleted.  stdin is copied
 * from its FIFO to the process until CloseIO. */
#ifndef SKIFF_SHIM_CONTAINERD_IO_H
#define SKIFF_SHIM_CONTAINERD_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ctr.h"
#include "skiff/base/error.h"

#define CTRD_IO_HOLD (64u << 10)

struct ctrd_logger;

struct ctrd_wq {
	int fd;
	int type;                    /* the core's: 2 stdout, 3 stderr */
	bool broken;                 /* a write failed: the rest is dropped */
	bool ended;                  /* the process's stream has ended */
	char *buf;                   /* only while something waits */
	size_t len, off;
};

struct ctrd_io {
	struct shim_proc *p;
	struct ctrd_wq out, err;     /* err.fd may be out.fd's dup */
	struct ctrd_logger *logger;  /* binary:// */
	int in_src;                  /* the stdin FIFO, or -1 */
	char in_buf[32768];
	size_t in_len, in_off;       /* read from in_src, not yet written */
};

/* Open the destinations (before the runtime runs: the FIFOs exist then);
 * id and ns are a logging program's CONTAINER_ID and CONTAINER_NAMESPACE. */
int ctrd_io_open(struct ctrd_io *io, struct shim_proc *p, const char *in, const char *out, const char *err_uri,
		 const char *id, const char *ns, struct sk_err *err);
/* The sink and end for p->out (msg[0] = 2 stdout, 3 stderr). */
void ctrd_io_sink(void *ctx, const char *msg, size_t len);
void ctrd_io_end(void *ctx, int type);
/* Copy stdin to the process (once p->io.in_fd exists). */
int ctrd_io_start_stdin(struct ctrd_io *io, struct sk_err *err);
/* CloseIO: the process's stdin ends. */
void ctrd_io_close_stdin(struct ctrd_io *io);
/* Delete: a last try at what waits, then everything closed (the logging
 * program told to end). */
void ctrd_io_close(struct ctrd_io *io);

#endif
