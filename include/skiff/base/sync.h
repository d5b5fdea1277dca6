/* sync: the messages between skiff's parent side and the container's init
 * child over a SOCK_SEQPACKET socketpair.  Each message is one packet: a
 * fixed header (type, value, an error for SK_SYNC_ERROR) optionally carrying
 * one fd (SCM_RIGHTS) and followed, when len > 0, by one payload packet.
 * A peer that dies shows up as end-of-file, reported as an error with
 * errnum 0 (every other failure has an errno). */
#ifndef SKIFF_SYNC_H
#define SKIFF_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

enum sk_sync_type {
	SK_SYNC_USERNS_READY = 1, /* child -> parent: write my uid/gid maps */
	SK_SYNC_MAPS_DONE,        /* parent -> child */
	SK_SYNC_INIT_PID,         /* child -> parent: value = the init's pid */
	SK_SYNC_PID_ACK,          /* parent -> init: its pid is known, go on */
	SK_SYNC_HOOKS,            /* child -> parent: rootfs mounted, run prestart/createRuntime */
	SK_SYNC_HOOKS_DONE,       /* parent -> child: payload = state JSON when the child runs hooks */
	SK_SYNC_FD,               /* child -> parent: value = what (SK_SYNC_FD_*), fd attached */
	SK_SYNC_READY,            /* child -> parent: set up, about to wait for start */
	SK_SYNC_GO,               /* parent -> child: state recorded, the parent may go away */
	SK_SYNC_ERROR,            /* child -> parent: errnum + msg */
};

enum { SK_SYNC_FD_SECCOMP = 1 };

struct sk_sync_msg {
	uint32_t type;
	int32_t value;
	uint32_t len;            /* bytes of the payload packet that follows */
	int32_t errnum;
	char msg[SK_ERR_MSG_MAX];
};

/* Send a message; fd >= 0 is passed along; payload may be NULL when len 0. */
int sk_sync_send(int sock, uint32_t type, int32_t value, int fd, const void *payload, uint32_t len, struct sk_err *err);
/* Send SK_SYNC_ERROR carrying e. */
int sk_sync_send_error(int sock, const struct sk_err *e);
/* Receive one message.  *fd (if fd not NULL) gets a passed fd or -1.  A
 * payload, if any, is malloc()ed into *payload (NUL-terminated) when payload
 * is not NULL, else discarded.  A message with more than one fd is an
 * error; on error *fd is -1, *payload NULL and no fd received stays open. */
int sk_sync_recv(int sock, struct sk_sync_msg *m, int *fd, char **payload, struct sk_err *err);
/* Receive and require type `want`; an SK_SYNC_ERROR becomes err.  On error,
 * as above, nothing received is handed out. */
int sk_sync_expect(int sock, uint32_t want, struct sk_sync_msg *m, int *fd, char **payload, struct sk_err *err);

#endif
