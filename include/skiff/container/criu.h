/* criu: libcriu (CRIU's client library, libcriu.so.2 from Debian's criu
 * package), opened with dlopen() by checkpoint and restore only, so that
 * no other command loads it.  Its functions are declared here from its
 * documented C API (criu.h) rather than from the header, which needs
 * protobuf-c's headers to build; the ABI is libcriu's own.
 *
 * Also what checkpoint and restore share: the CRIU options both take
 * (runc's flags), the image and work directories, and the one-line error
 * that points at CRIU's log. */
#ifndef SKIFF_CRIU_H
#define SKIFF_CRIU_H

#include <stdbool.h>
#include <stddef.h>

#include "skiff/base/error.h"

/* libcriu's enum criu_cg_mode. */
enum sk_criu_cg_mode { SK_CRIU_CG_IGNORE = 0, SK_CRIU_CG_SOFT = 3, SK_CRIU_CG_FULL = 4, SK_CRIU_CG_STRICT = 5,
		       SK_CRIU_CG_DEFAULT = 6 };

/* The libcriu functions skiff calls: X(return type, name, parameters). */
#define SK_CRIU_FUNCS(X) \
	X(int, init_opts, (void)) \
	X(int, set_service_binary, (const char *path)) \
	X(int, get_version, (void)) \
	X(void, set_images_dir_fd, (int fd)) \
	X(void, set_work_dir_fd, (int fd)) \
	X(int, set_log_file, (const char *name)) \
	X(void, set_log_level, (int level)) \
	X(void, set_pid, (int pid)) \
	X(int, set_root, (const char *root)) \
	X(void, set_leave_running, (bool v)) \
	X(void, set_tcp_established, (bool v)) \
	X(void, set_ext_unix_sk, (bool v)) \
	X(void, set_shell_job, (bool v)) \
	X(void, set_file_locks, (bool v)) \
	X(void, set_orphan_pts_master, (bool v)) \
	X(void, set_auto_dedup, (bool v)) \
	X(void, set_track_mem, (bool v)) \
	X(void, set_evasive_devices, (bool v)) \
	X(int, set_parent_images, (const char *path)) \
	X(void, set_manage_cgroups, (bool v)) \
	X(void, set_manage_cgroups_mode, (int mode)) \
	X(int, set_freeze_cgroup, (const char *path)) \
	X(int, set_page_server_address_port, (const char *addr, int port)) \
	X(int, set_lsm_profile, (const char *name)) \
	X(int, set_lsm_mount_context, (const char *ctx)) \
	X(int, add_ext_mount, (const char *key, const char *val)) \
	X(int, add_external, (const char *key)) \
	X(int, add_inherit_fd, (int fd, const char *key)) \
	X(int, join_ns_add, (const char *ns, const char *ns_file, const char *extra)) \
	X(int, add_cg_root, (const char *ctrl, const char *path)) \
	X(void, set_notify_cb, (int (*cb)(char *action, void *na))) \
	X(int, notify_pid, (void *na)) \
	X(int, get_orphan_pts_master_fd, (void)) \
	X(int, feature_check, (struct sk_criu_features *f, size_t size)) \
	X(int, dump, (void)) \
	X(int, pre_dump, (void)) \
	X(int, restore_child, (void))

/* libcriu's struct criu_feature_check. */
struct sk_criu_features { bool mem_track, lazy_pages, pidfd_store; };

#define SK_CRIU_FIELD(ret, name, params) ret (*name) params;
struct sk_criu { SK_CRIU_FUNCS(SK_CRIU_FIELD) };
#undef SK_CRIU_FIELD

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
	int status_fd;                 /* -1: none */
};

/* dlopen libcriu, resolve every function, point it at o->criu (which
 * must be an executable file), init its options and check the version.
 * "libcriu.so.2: ... (install Debian's criu)" when missing. */
int sk_criu_load(const struct sk_criu_opts *o, struct sk_criu *c, struct sk_err *err);

/* Check what libcriu cannot express or CRIU refuses, before anything is
 * made: a bad --manage-cgroups-mode or --empty-ns, --lazy-pages and
 * --status-fd (not expressible through libcriu 3.17). */
int sk_criu_opts_check(const struct sk_criu_opts *o, struct sk_err *err);

/* Open (creating 0700 when create) the image and work directories: *img
 * and *work are O_DIRECTORY fds, work_abs the work directory's absolute
 * path for messages (cap bytes). */
int sk_criu_dirs(const struct sk_criu_opts *o, bool create, int *img, int *work, char *work_abs, size_t cap,
		 struct sk_err *err);

/* Apply the shared options (log, leave-nothing flags, cgroups mode). */
void sk_criu_apply(const struct sk_criu *c, const struct sk_criu_opts *o, int img, int work, const char *log);

/* A failed libcriu call rc: "<what> failed (criu <rc>): <first Error line
 * of the log>; log: <work_abs>/<log>". */
int sk_criu_failed(int rc, const char *what, int work, const char *work_abs, const char *log, struct sk_err *err);

#endif
