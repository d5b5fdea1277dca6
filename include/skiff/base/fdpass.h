/* fdpass: hand one open file over a unix socket (SCM_RIGHTS), as runc's
 * console-socket protocol does: the pty master goes to --console-socket,
 * and back to `run` or `exec` over a socketpair. */
#ifndef SKIFF_FDPASS_H
#define SKIFF_FDPASS_H

#include <sys/socket.h>

#include "skiff/base/error.h"

/* Send fd over the unix socket sock in one message whose payload is name
 * (one NUL byte when name is NULL or empty: a stream socket carries no
 * ancillary data without a byte). */
int sk_fd_send(int sock, int fd, const char *name, struct sk_err *err);
/* Receive one fd sent as above; *fd gets it close-on-exec.  The payload is
 * read and dropped.  A message without exactly one fd is an error, and
 * leaves none of its fds open. */
int sk_fd_recv(int sock, int *fd, struct sk_err *err);

/* Connect a stream socket to the unix socket at path (close-on-exec fd,
 * or -1 with err naming path). */
int sk_unix_connect(const char *path, struct sk_err *err);

/* The fd a message received with recvmsg(2) carries (SCM_RIGHTS): 1 with
 * *fd set when it holds exactly one and its control data was not cut
 * short; 0 with *fd = -1 when it holds none; otherwise -1 with *fd = -1,
 * every fd it carried closed (a peer cannot leave fds open in us). */
int sk_msg_fd(struct msghdr *mh, int *fd);

#endif
