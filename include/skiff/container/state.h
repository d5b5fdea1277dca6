/* state: what skiff keeps about a container, under <root>/<id>/:
 *   state.json   written atomically (temp file, fsync, rename)
 *   config.json  the config as create read it (hooks and the rest, for
 *                later commands, whatever happens to the bundle)
 *   exec.fifo    present from create until start
 * The directory itself is flock()ed for the duration of any command on the
 * id (a lock on the directory fd, so closing that one fd releases it).
 * Status is derived, never stored: the init's pid together with its start
 * time (field 22 of /proc/<pid>/stat) tells a live init from a recycled pid;
 * a zombie or dead init is "stopped"; a frozen cgroup is "paused"; a live
 * init with exec.fifo present is "created"; otherwise "running". */
#ifndef SKIFF_STATE_H
#define SKIFF_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/json_gen.h"
#include "skiff/spec/spec.h"

#define SK_ID_MAX 1024
#define SK_DEFAULT_ROOT "/run/skiff"

/* UNKNOWN is never derived: it is a container whose state.json exists but
 * cannot be read (list, delete). */
enum sk_status { SK_STATUS_CREATING, SK_STATUS_CREATED, SK_STATUS_RUNNING, SK_STATUS_PAUSED, SK_STATUS_STOPPED,
		 SK_STATUS_UNKNOWN };

struct sk_state {
	char *id;
	pid_t pid;                 /* 0 when the init is gone for good */
	uint64_t start_time;       /* /proc/<pid>/stat starttime of the init */
	char *bundle;              /* absolute */
	char *rootfs;              /* absolute */
	char *created;             /* RFC 3339 with nanoseconds, UTC */
	char *cgroup_path;         /* the cgroup: its cgroup2 directory (or its
				    * first v1 one without cgroup2), or NULL */
	struct sk_kv *cgroup_paths; size_t n_cgroup_paths;   /* its v1 directories,
				    * keyed by hierarchy ("memory", "cpu,cpuacct") */
	char *cgroup_unit;         /* --systemd-cgroup: the systemd unit whose
				    * cgroup it is, else NULL */
	bool cgroup_unit_user;     /* ... under the user manager */
	uid_t owner;
	uint64_t rootfs_mnt_id;    /* no mount namespace of its own: the
				    * mount id of skiff's bind of the rootfs
				    * in the runtime's namespace; else 0 */
	uint64_t rootfs_base_mnt_id; /* ... and of the mount it covers */
	/* Whether the saved config has poststart / poststop hooks: start and
	 * delete parse it only then.  Absent from a state.json (an older
	 * skiff's) reads as true. */
	bool poststart_hooks, poststop_hooks;
	/* linux.intelRdt: the resctrl groups delete removes (the container's
	 * own group, its monitoring group), or NULL. */
	char *resctrl_group, *resctrl_mon;
	struct sk_kv *annotations; size_t n_annotations;
};

/* A container id: non-empty, at most 1024 bytes, runc's character set
 * [a-zA-Z0-9][a-zA-Z0-9_+.-]*, and neither "." nor "..". */
int sk_state_validate_id(const char *id, struct sk_err *err);

/* Open (creating if needed, mode 0700) the root directory; returns a
 * O_DIRECTORY fd or -1.  A root not owned by the caller's euid is refused
 * (another user's state is never read nor written). */
int sk_state_open_root(const char *root, struct sk_err *err);
/* That check alone, on an open root (list opens it without creating it). */
int sk_state_check_root(int fd, const char *root, struct sk_err *err);

/* Lock the container directory <root>/<id>.  With create=true the directory
 * must not exist and is made ("container \"x\" already exists" otherwise);
 * with create=false it must exist ("container \"x\" does not exist", with
 * errnum ENOENT).
 * Returns the directory fd (O_DIRECTORY) with an exclusive flock held until
 * it is closed, or -1. */
int sk_state_lock(int root_fd, const char *id, bool create, struct sk_err *err);
/* Open <root>/<id> without locking it, for readers (state, list) that must
 * not wait for a create under way: its hooks may ask for the state. */
int sk_state_open(int root_fd, const char *id, struct sk_err *err);
/* Another command holds the lock of dir_fd (a create under way). */
bool sk_state_busy(int dir_fd);

/* Read / write <dir>/state.json.  Writing is atomic. */
int sk_state_read(int dir_fd, struct sk_state *out, struct sk_err *err);
/* The parsing half of sk_state_read: the len bytes at buf (not
 * NUL-terminated; a NUL among them is an error) as a state.json.  On error
 * *out is left empty and err names "state.json" and the field. */
int sk_state_parse(const char *buf, size_t len, struct sk_state *out, struct sk_err *err);
int sk_state_write(int dir_fd, const struct sk_state *st, struct sk_err *err);
void sk_state_free(struct sk_state *st);

/* Remove <root>/<id> and all it holds (only regular files, fifos and
 * sockets are expected there).  dir_fd stays valid until closed. */
int sk_state_remove(int root_fd, const char *id, struct sk_err *err);

/* Start time of pid from /proc/<pid>/stat.  When the process is gone or a
 * zombie: *out = 0, -1 with err->errnum == ESRCH. */
int sk_proc_start_time(pid_t pid, uint64_t *out, struct sk_err *err);
/* The parsing half of it, on the text of a stat file (NUL-terminated):
 * the state letter and the start time, found after the last ')' since
 * comm may hold spaces and parentheses. */
int sk_proc_parse_stat(const char *stat, char *state, uint64_t *start_time, struct sk_err *err);

/* Derived status (see above).  dir_fd is the container directory. */
enum sk_status sk_state_status(int dir_fd, const struct sk_state *st);
const char *sk_status_name(enum sk_status s);   /* "created", ... */
/* The same for a reader without the lock (state, list): a state without
 * a pid yet whose directory another command holds is a create under way,
 * "creating". */
enum sk_status sk_state_status_unlocked(int dir_fd, const struct sk_state *st);

/* The state JSON that runc's `state` prints (runtime-spec "state" plus
 * runc's rootfs, created and owner): ociVersion, id, pid (0 when stopped),
 * status, bundle, rootfs, created, owner, annotations.  malloc()ed. */
char *sk_state_oci_json(const struct sk_state *st, enum sk_status status, struct sk_err *err);
/* The same object into a generator, with owner as given: `state` prints ""
 * as runc does, `list` the owner's user name. */
void sk_state_gen_oci(struct sk_json *j, const struct sk_state *st, enum sk_status status, const char *owner);

/* Now, in RFC 3339 in UTC with nanoseconds (state.json's "created"). */
void sk_now_rfc3339(char *buf, size_t cap);

#endif
