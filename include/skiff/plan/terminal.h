/* terminal: process.terminal, runc's console-socket protocol.
 *
 * With --console-socket PATH the runtime connects to the unix stream socket
 * PATH before cloning the init; the init, inside the container (after
 * pivot_root, with the container's devpts at /dev/pts), makes a pty, makes
 * its slave the process's controlling terminal and stdio, and sends the
 * master over the socket as one message: SCM_RIGHTS with the fd, and the
 * master's file name ("/dev/ptmx") as payload, as runc does.  The receiver
 * (containerd, conmon, the shim) owns the master from then on.
 *
 * `run` without a console socket passes one end of a socketpair instead,
 * gets the master back with sk_fd_recv() and copies between it and its own
 * terminal with sk_console_proxy(). */
#ifndef SKIFF_TERMINAL_H
#define SKIFF_TERMINAL_H

#include <signal.h>
#include <stdbool.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* Parent, before clone: connect to the console socket at path.  Returns a
 * close-on-exec fd or -1. */
int sk_console_socket_open(const char *path, struct sk_err *err);

/* Init child, after pivot_root: open /dev/ptmx (never through a magic
 * link), apply process.consoleSize, with console bind-mount the slave over
 * /dev/console (an empty file is created there first when missing; an exec
 * process passes false: the mounts are the init's), give the slave to
 * process.user.uid, setsid() and make the slave the controlling terminal
 * and fds 0, 1 and 2, send the master over socket_fd and close the master
 * and socket_fd (also on error).  Allocates nothing. */
int sk_terminal_setup(int socket_fd, const struct sk_process *p, bool console, struct sk_err *err);

/* `run` with a terminal: copy fd 0 -> master and master -> fd 1 until the
 * pty hangs up (every slave closed) or, when pidfd >= 0, the process exits
 * (output already in the pty is copied first).  When one of fds 0, 1, 2 is
 * a terminal (the first one), it is put in raw mode for the duration and
 * its window size is given to the pty at once and on every SIGWINCH
 * (blocked meanwhile, read through a signalfd).  The signals in forward
 * (may be NULL) are blocked too and sent on to pidfd.  Sets O_NONBLOCK on
 * master; does not close it. */
int sk_console_proxy(int master, int pidfd, const sigset_t *forward, struct sk_err *err);

#endif
