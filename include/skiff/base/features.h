/* features: what this build implements, the one source of `skiff features`
 * (runtime-spec features.md) and of the version skiff writes.
 *
 * Rule: the change that implements a feature turns it on here in the same
 * commit, never ahead of the code.  Lists are string literals each followed
 * by a comma, so an empty list is an empty macro.  tests/integration/t_cli.sh
 * checks the output against what the binary accepts. */
#ifndef SKIFF_FEATURES_H
#define SKIFF_FEATURES_H

/* The runtime-spec version skiff writes (spec), reports (state, list) and
 * accepts at most; ociVersionMin is the oldest it accepts. */
#define SK_OCI_VERSION "1.3.0"
#define SK_OCI_VERSION_MIN "1.0.0"

/* Hooks that create/start/delete run (config.json "hooks"). */
#define SK_FEAT_HOOKS "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",

/* Mount options (config.json "mounts[].options") the mount code acts on;
 * filesystem data options (size=, mode=, ...) are passed through and are
 * not listed, as features.md asks. */
#define SK_FEAT_MOUNT_OPTIONS "async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "idmap", "iversion", \
	"lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", \
	"nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", \
	"rdiratime", "relatime", "rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnosuid", \
	"rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", \
	"rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", \
	"tmpcopyup", "unbindable",

/* Namespace types create can make or join ("cgroup", "ipc", "mount",
 * "network", "pid", "time", "user", "uts"). */
#define SK_FEAT_NAMESPACES "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",

/* Capabilities: when on, every name the spec parser knows (sk_cap_name);
 * turn on once the capability sets of process.capabilities are applied. */
#define SK_FEAT_CAPABILITIES 1

/* cgroup managers and controllers. */
#define SK_FEAT_CGROUP_V1 1
#define SK_FEAT_CGROUP_V2 1
#define SK_FEAT_CGROUP_SYSTEMD 1
#define SK_FEAT_CGROUP_SYSTEMD_USER 1   /* the user manager on the user bus, its ControlGroup as the root (unit.c) */
#define SK_FEAT_CGROUP_RDMA 1

/* Seccomp: when on, the architectures come from libseccomp at run time and
 * supportedFlags from the kernel API level libseccomp detects. */
#define SK_FEAT_SECCOMP 1
#define SK_FEAT_SECCOMP_ACTIONS "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", \
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
#define SK_FEAT_SECCOMP_OPERATORS "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", \
	"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
#define SK_FEAT_SECCOMP_FLAGS "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", \
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",

#define SK_FEAT_APPARMOR 0
#define SK_FEAT_SELINUX 0
/* linux.intelRdt: enabled, and its schemata and enableMonitoring fields. */
#define SK_FEAT_INTEL_RDT 1
#define SK_FEAT_INTEL_RDT_SCHEMATA 1
#define SK_FEAT_INTEL_RDT_MONITORING 1
/* linux.memoryPolicy: when on, every mode and flag the parser knows
 * (sk_mpol_mode_at, sk_mpol_flag_at). */
#define SK_FEAT_MEMORY_POLICY 1
/* linux.netDevices. */
#define SK_FEAT_NET_DEVICES 1
/* Mounts with uidMappings/gidMappings (idmapped mounts). */
#define SK_FEAT_IDMAP_MOUNTS 1

#endif
