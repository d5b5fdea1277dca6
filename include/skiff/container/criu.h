/* criu: CRIU's RPC over `criu swrk`, as runc speaks it, for checkpoint and
 * restore only: no other command loads anything of CRIU.
 *
 * The messages are CRIU's protobufs (rpc.proto), built and parsed by the
 * protobuf-c code libcriu.so.2 carries (Debian's criu package), opened
 * with dlopen(): the message descriptors (criu_req__descriptor, ...) and
 * protobuf-c's generic pack/unpack, reached through libcriu's handle.
 * Fields are set by name through the descriptors of the library that is
 * loaded, never through a compiled-in struct layout, so a libcriu of
 * another CRIU version than the build's cannot be misread, and a field
 * this CRIU lacks is one clear error ("CRIU too old: no option X").
 *
 * One swrk process per request (CRIU serves one dump or restore per
 * connection): fds 0-2 are ours (a restore's stdio), 3 the SEQPACKET
 * socket, 4 and up the fds passed with sk_criu_pass_fd(); every other fd
 * is closed and the signal mask emptied.  Notifications go to a callback
 * with any fd CRIU sent; the final answer ends the request.
 *
 * Also what checkpoint and restore share: the CRIU options both take
 * (runc's flags), the image and work directories, and the one-line error
 * that points at CRIU's log. */
#ifndef SKIFF_CRIU_H
#define SKIFF_CRIU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

struct ProtobufCMessage;

/* rpc.proto's criu_req_type and criu_cg_mode values skiff uses. */
enum sk_criu_req { SK_CRIU_DUMP = 1, SK_CRIU_RESTORE = 2, SK_CRIU_PRE_DUMP = 4, SK_CRIU_NOTIFY = 6,
		   SK_CRIU_FEATURE_CHECK = 9, SK_CRIU_VERSION = 10 };
enum sk_criu_cg_mode { SK_CRIU_CG_IGNORE = 0, SK_CRIU_CG_SOFT = 3, SK_CRIU_CG_FULL = 4, SK_CRIU_CG_STRICT = 5 };

#define SK_CRIU_MAX_PASS 8

struct sk_criu {
	void *lib;
	const void *req_d, *resp_d, *opts_d;   /* ProtobufCMessageDescriptor */
	size_t (*packed_size)(const struct ProtobufCMessage *m);
	size_t (*pack)(const struct ProtobufCMessage *m, uint8_t *out);
	struct ProtobufCMessage *(*unpack)(const void *desc, void *alloc, size_t len, const uint8_t *data);
	void (*free_unpacked)(struct ProtobufCMessage *m, void *alloc);
	void (*init)(const void *desc, void *m);
	const void *(*field)(const void *desc, const char *name);
	const char *bin;               /* the criu binary */
	int version;                   /* major*10000 + minor*100 + sublevel */
	struct ProtobufCMessage *opts; /* the next request's criu_opts */
	void **mem;                    /* what the request's messages own */
	size_t n_mem;
	int pass[SK_CRIU_MAX_PASS];    /* fds criu gets as 4, 5, ... */
	size_t n_pass;
	struct sk_err err;             /* the first failed setter's */
	bool failed;
};

/* In an image directory: the dump left the network namespace out
 * (--empty-ns network), so restore leaves it empty too. */
#define SK_CRIU_EMPTY_NET_MARK "skiff-empty-ns"

/* The oldest CRIU skiff talks to (runc's minimum for what follows:
 * external net namespaces, orphan pts masters, lsm options). */
#define SK_CRIU_MIN_VERSION 31600

/* The options checkpoint and restore both take, with runc's meanings. */
struct sk_criu_opts {
	const char *criu;              /* --criu PATH (global), NULL: criu from PATH */
	const char *image_path;        /* default ./checkpoint */
	const char *work_path;         /* default: the image path */
	bool tcp_established, ext_unix_sk, shell_job, file_locks, auto_dedup, lazy_pages;
	const char *manage_cgroups_mode;   /* soft|full|strict|ignore or NULL */
	const char *const *empty_ns; size_t n_empty_ns;   /* "network" only */
	int status_fd;                 /* checkpoint --lazy-pages: -1 none */
};

/* dlopen libcriu, resolve what is used, check that o->criu is an
 * executable file and ask it its version (a VERSION request); c is then
 * ready for one request's options.  "load libcriu.so.2 (install CRIU:
 * Debian's criu package): ..." when missing. */
int sk_criu_load(const struct sk_criu_opts *o, struct sk_criu *c, struct sk_err *err);
void sk_criu_close(struct sk_criu *c);

/* Setters of the next request's options (m NULL: criu_opts itself, else a
 * message from sk_criu_add_msg/sk_criu_msg).  A failure (no such field in
 * this CRIU, no memory) is kept in c and returned by sk_criu_request. */
void sk_criu_set_bool(struct sk_criu *c, struct ProtobufCMessage *m, const char *name, bool v);
void sk_criu_set_int(struct sk_criu *c, struct ProtobufCMessage *m, const char *name, int64_t v);
void sk_criu_set_str(struct sk_criu *c, struct ProtobufCMessage *m, const char *name, const char *v);
void sk_criu_add_str(struct sk_criu *c, const char *name, const char *v);
/* A new element of a repeated message field of criu_opts (ext_mnt, ...),
 * or the value of a message field (ps); NULL on failure (kept in c). */
struct ProtobufCMessage *sk_criu_add_msg(struct sk_criu *c, const char *name);
struct ProtobufCMessage *sk_criu_msg(struct sk_criu *c, const char *name);
/* The common pairs. */
void sk_criu_ext_mount(struct sk_criu *c, const char *key, const char *val);
void sk_criu_inherit_fd(struct sk_criu *c, const char *key, int fd);
/* fd goes to criu (as 4, 5, ...) and is known there by key (inherit_fd). */
void sk_criu_pass_fd(struct sk_criu *c, const char *key, int fd);

/* CRIU's FEATURE_CHECK for one criu_features field ("mem_track",
 * "lazy_pages"): *has is whether this CRIU on this kernel can. */
int sk_criu_feature(struct sk_criu *c, const char *feature, bool *has, struct sk_err *err);

/* A notification (rpc.proto's criu_notify): script is its name, pid its
 * pid (0 if none), fd what CRIU sent with it (-1 if none; closed after the
 * callback, which dups what it keeps).  -1 with err filled fails the
 * request: CRIU is told and aborts. */
typedef int sk_criu_notify_fn(void *arg, const char *script, int pid, int fd, struct sk_err *err);

/* Run one request with the options set so far: spawn `criu swrk`, send
 * it, answer the notifications, wait for the final answer and for criu.
 * *pid (if not NULL) gets a restore's pid.  On failure err is the
 * callback's error if it failed, else "<what> failed: <CRIU's message or
 * first Error line of its log>; log: <work_abs>/<log>". */
struct sk_criu_req_ctx {
	const char *what, *log, *work_abs;   /* for the message */
	int work;                            /* the work dir fd, to read the log */
	sk_criu_notify_fn *notify;
	void *arg;
};
int sk_criu_request(struct sk_criu *c, enum sk_criu_req type, const struct sk_criu_req_ctx *x, int *pid,
		    struct sk_err *err);

/* Check what CRIU would refuse, before anything is made: a bad
 * --manage-cgroups-mode or --empty-ns, empty paths. */
int sk_criu_opts_check(const struct sk_criu_opts *o, struct sk_err *err);

/* Open (creating 0700 when create) the image and work directories: *img
 * and *work are O_DIRECTORY fds, work_abs the work directory's absolute
 * path for messages (cap bytes). */
int sk_criu_dirs(const struct sk_criu_opts *o, bool create, int *img, int *work, char *work_abs, size_t cap,
		 struct sk_err *err);

/* Set the shared options: the directories, the log, runc's flags, the
 * cgroups mode, empty_ns (empty_net: the network namespace's contents are
 * neither dumped nor restored). */
void sk_criu_apply(struct sk_criu *c, const struct sk_criu_opts *o, int img, int work, const char *log,
		   bool empty_net);

#endif
