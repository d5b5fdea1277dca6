/* spec: config.json (runtime-spec v1.3, Linux part) as a typed, validated
 * struct.  sk_spec_load() parses with yajl, checks types, ranges and
 * cross-field rules, and reports the first problem as one line naming the
 * file, the JSON path and the problem:
 *     config.json: process.args: must be a non-empty array of strings
 * Unknown properties are accepted.  Absent optional fields are zero/NULL
 * with has_* flags false.  Everything is owned by the struct; sk_spec_free()
 * releases it.  Nothing here touches the system beyond reading the file. */
#ifndef SKIFF_SPEC_H
#define SKIFF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"

/* Upper bound on config.json size: larger files are refused, not read. */
#define SK_SPEC_MAX_BYTES (8u * 1024u * 1024u)
/* Nesting of arrays and objects, and JSON values in all: the parser stops
 * there, so no input can recurse deep or allocate much beyond its size. */
#define SK_SPEC_MAX_DEPTH 64
#define SK_SPEC_MAX_VALUES 1048576u

struct sk_kv { char *key; char *value; };

struct sk_idmap { uint32_t container_id, host_id, size; };

struct sk_mount {
	char *destination;       /* absolute (validated) */
	char *type;              /* may be NULL (bind) */
	char *source;            /* may be NULL */
	char **options; size_t n_options;
	struct sk_idmap *uid_mappings; size_t n_uid_mappings;
	struct sk_idmap *gid_mappings; size_t n_gid_mappings;
};

struct sk_rlimit { int resource; /* RLIMIT_* */ char *type; uint64_t soft, hard; };

enum sk_cap_set { SK_CAP_BOUNDING, SK_CAP_EFFECTIVE, SK_CAP_INHERITABLE, SK_CAP_PERMITTED, SK_CAP_AMBIENT, SK_CAP_NSETS };

struct sk_caps {
	bool present;                 /* process.capabilities given at all */
	bool has[SK_CAP_NSETS];       /* this set given */
	uint64_t set[SK_CAP_NSETS];   /* bit n = capability n (CAP_* numbers) */
};

struct sk_user {
	uint32_t uid, gid;
	bool has_umask; uint32_t umask;
	uint32_t *additional_gids; size_t n_additional_gids;
	char *username;               /* windows only in the spec; kept if present */
};

struct sk_scheduler {
	bool present;
	int policy;                   /* SCHED_* */
	int nice;
	int priority;
	uint32_t flags;               /* SCHED_FLAG_* bits */
	uint64_t runtime, deadline, period;
};

struct sk_io_priority { bool present; int class_; /* IOPRIO_CLASS_* */ int priority; };

struct sk_process {
	bool terminal;
	bool has_console_size; uint32_t console_height, console_width;
	struct sk_user user;
	char **args; size_t n_args;
	char *command_line;           /* windows; kept */
	char **env; size_t n_env;
	char *cwd;                    /* absolute (validated) */
	struct sk_caps caps;
	struct sk_rlimit *rlimits; size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj; int oom_score_adj;
	char *selinux_label;
	struct sk_io_priority io_priority;
	struct sk_scheduler scheduler;
	char *exec_cpu_affinity_initial, *exec_cpu_affinity_final;
};

struct sk_hook {
	char *path;                   /* absolute */
	char **args; size_t n_args;
	char **env; size_t n_env;
	bool has_timeout; int timeout; /* seconds, > 0 */
};

enum sk_hook_kind {
	SK_HOOK_PRESTART, SK_HOOK_CREATE_RUNTIME, SK_HOOK_CREATE_CONTAINER,
	SK_HOOK_START_CONTAINER, SK_HOOK_POSTSTART, SK_HOOK_POSTSTOP, SK_HOOK_NKINDS
};

struct sk_hooks { struct sk_hook *list[SK_HOOK_NKINDS]; size_t n[SK_HOOK_NKINDS]; };

enum sk_ns_type { SK_NS_PID, SK_NS_NET, SK_NS_MNT, SK_NS_IPC, SK_NS_UTS, SK_NS_USER, SK_NS_CGROUP, SK_NS_TIME, SK_NS_NTYPES };

struct sk_namespace { enum sk_ns_type type; char *path; /* NULL: create new */ };

struct sk_time_offset { bool present; int64_t secs; uint32_t nanosecs; };

struct sk_device {
	char *path;                   /* absolute */
	char type;                    /* 'c', 'b', 'u' or 'p' */
	int64_t major, minor;         /* -1 when absent (required for c/b/u) */
	bool has_file_mode; uint32_t file_mode;
	bool has_uid; uint32_t uid;
	bool has_gid; uint32_t gid;
};

struct sk_device_rule {
	bool allow;
	char type;                    /* 'a', 'c' or 'b' ('a' when absent) */
	int64_t major, minor;         /* -1 = wildcard */
	char access[4];               /* subset of "rwm", "" when absent = "rwm" */
};

struct sk_weight_device { int64_t major, minor; bool has_weight; uint16_t weight; bool has_leaf_weight; uint16_t leaf_weight; };
struct sk_throttle_device { int64_t major, minor; uint64_t rate; };
struct sk_hugepage_limit { char *page_size; uint64_t limit; };
struct sk_rdma_limit { char *device; bool has_hca_handles; uint32_t hca_handles; bool has_hca_objects; uint32_t hca_objects; };
struct sk_net_prio { char *name; uint32_t priority; };

struct sk_resources {
	bool present;
	struct sk_device_rule *devices; size_t n_devices;
	struct {
		bool present;
		bool has_limit; int64_t limit;
		bool has_reservation; int64_t reservation;
		bool has_swap; int64_t swap;
		bool has_kernel; int64_t kernel;
		bool has_kernel_tcp; int64_t kernel_tcp;
		bool has_swappiness; uint64_t swappiness;
		bool has_disable_oom_killer; bool disable_oom_killer;
		bool has_use_hierarchy; bool use_hierarchy;
		bool has_check_before_update; bool check_before_update;
	} memory;
	struct {
		bool present;
		bool has_shares; uint64_t shares;
		bool has_quota; int64_t quota;
		bool has_burst; uint64_t burst;
		bool has_period; uint64_t period;
		bool has_realtime_runtime; int64_t realtime_runtime;
		bool has_realtime_period; uint64_t realtime_period;
		char *cpus, *mems;
		bool has_idle; int64_t idle;
	} cpu;
	struct { bool present; bool has_limit; int64_t limit; } pids;
	struct {
		bool present;
		bool has_weight; uint16_t weight;
		bool has_leaf_weight; uint16_t leaf_weight;
		struct sk_weight_device *weight_device; size_t n_weight_device;
		struct sk_throttle_device *throttle_read_bps; size_t n_throttle_read_bps;
		struct sk_throttle_device *throttle_write_bps; size_t n_throttle_write_bps;
		struct sk_throttle_device *throttle_read_iops; size_t n_throttle_read_iops;
		struct sk_throttle_device *throttle_write_iops; size_t n_throttle_write_iops;
	} block_io;
	struct sk_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
	struct sk_rdma_limit *rdma; size_t n_rdma;
	struct { bool present; bool has_class_id; uint32_t class_id; struct sk_net_prio *priorities; size_t n_priorities; } network;
	struct sk_kv *unified; size_t n_unified;
};

/* Seccomp is kept symbolic; seccomp.c resolves names with libseccomp. */
struct sk_seccomp_arg { uint32_t index; uint64_t value, value_two; char *op; };
struct sk_seccomp_syscall {
	char **names; size_t n_names;
	char *action;
	bool has_errno_ret; uint32_t errno_ret;
	struct sk_seccomp_arg *args; size_t n_args;
};
struct sk_seccomp {
	bool present;
	char *default_action;
	bool has_default_errno_ret; uint32_t default_errno_ret;
	char **architectures; size_t n_architectures;
	char **flags; size_t n_flags;
	char *listener_path;
	char *listener_metadata;
	struct sk_seccomp_syscall *syscalls; size_t n_syscalls;
};

struct sk_personality { bool present; char *domain; char **flags; size_t n_flags; };

/* linux.memoryPolicy (set_mempolicy(2)); nodes as a mask of n_nodes bits. */
#define SK_MPOL_MAX_NODES 1024
struct sk_memory_policy {
	bool present;
	int mode;                     /* MPOL_* */
	uint32_t flags;               /* MPOL_F_* bits */
	char *nodes;                  /* as written, or NULL */
	uint64_t nodemask[SK_MPOL_MAX_NODES / 64];
	size_t n_nodes;
};

/* linux.netDevices: one host interface moved into the container's network
 * namespace, under name (NULL: its host name; may end in a %d template). */
struct sk_net_device { char *host; char *name; };

/* linux.intelRdt (resctrl). */
struct sk_intel_rdt {
	bool present;
	char *clos_id;                /* NULL: the container's id */
	char *l3_cache_schema, *mem_bw_schema;
	char **schemata; size_t n_schemata;
	bool enable_monitoring;
};

struct sk_linux {
	struct sk_namespace *namespaces; size_t n_namespaces;
	struct sk_idmap *uid_mappings; size_t n_uid_mappings;
	struct sk_idmap *gid_mappings; size_t n_gid_mappings;
	struct sk_time_offset time_offsets[2];   /* [0] monotonic, [1] boottime */
	struct sk_device *devices; size_t n_devices;
	char *cgroups_path;
	struct sk_resources resources;
	struct sk_kv *sysctl; size_t n_sysctl;
	struct sk_seccomp seccomp;
	char *rootfs_propagation;     /* "shared", "slave", "private", "unbindable", runc's
	                               * recursive "rshared"... forms, or NULL */
	char **masked_paths; size_t n_masked_paths;
	char **readonly_paths; size_t n_readonly_paths;
	char *mount_label;
	struct sk_personality personality;
	struct sk_memory_policy memory_policy;
	struct sk_net_device *net_devices; size_t n_net_devices;
	struct sk_intel_rdt intel_rdt;
};

struct sk_spec {
	char *oci_version;
	struct { char *path; bool readonly; } root;
	struct sk_mount *mounts; size_t n_mounts;
	bool has_process; struct sk_process process;
	char *hostname;
	char *domainname;
	struct sk_hooks hooks;
	struct sk_kv *annotations; size_t n_annotations;
	bool has_linux; struct sk_linux linux_;
};

/* Parse and validate the file at path.  On error, *out is left empty and
 * err->msg is "<display name>: <json path>: <problem>" (display name is the
 * file's base name) or "<name>: line L, column C: <yajl message>". */
int sk_spec_load(const char *path, struct sk_spec *out, struct sk_err *err);
/* Same, from a buffer; name is used in messages. */
int sk_spec_parse(const char *name, const char *buf, size_t len, struct sk_spec *out, struct sk_err *err);
void sk_spec_free(struct sk_spec *s);
/* A lone process object (runc exec --process), checked as config.json's
 * "process" is, with the same JSON paths ("process.cwd").  On error *out
 * is left empty. */
int sk_spec_parse_process(const char *name, const char *buf, size_t len, struct sk_process *out,
			  struct sk_err *err);
void sk_spec_process_free(struct sk_process *p);

/* Lookup helpers. */
const struct sk_namespace *sk_spec_namespace(const struct sk_spec *s, enum sk_ns_type t);
const char *sk_ns_type_name(enum sk_ns_type t);        /* "pid", "network", ... */
const char *sk_hook_kind_name(enum sk_hook_kind k);    /* "prestart", "createRuntime", ... */
/* Capabilities by the names libcap knows, as config.json writes them
 * ("CAP_SYS_ADMIN", exact case): the number, or -1.  sk_cap_name() fills
 * buf and returns it, or NULL for a number libcap has no name for. */
#define SK_CAP_NAME_MAX 32
int sk_cap_from_name(const char *name);
const char *sk_cap_name(int cap, char buf[SK_CAP_NAME_MAX]);
/* linux.memoryPolicy's names, for features and logs: the i-th mode and
 * flag the parser knows (NULL past the last), a mode's name. */
const char *sk_mpol_mode_at(size_t i);
const char *sk_mpol_flag_at(size_t i);
const char *sk_mpol_mode_name(int mode);
/* RLIMIT_* for "RLIMIT_NOFILE", or -1. */
int sk_rlimit_from_name(const char *name);

#endif
