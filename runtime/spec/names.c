/* spec_names: the symbolic values config.json may hold (namespace types,
 * hook kinds, capability sets, rlimits, scheduler policies and flags, I/O
 * priority classes, seccomp actions, architectures, flags and operators,
 * propagations, personality domains) as tables, and capability names as
 * libcap knows them; with the lookups the parser checks names with
 * (spec_parse.h) and the public ones (spec.h). */
#include "skiff/spec/parse.h"

#include <ctype.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include <linux/ioprio.h>
#include <linux/sched.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TAB(t) t, LEN(t)

struct named { const char *name; int value; };
#define N(x) { #x, x }

static int find(const struct named *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

/* The index of s in the list l, or -1. */
static int index_of(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return (int)i;
	return -1;
}

static const struct named ns_types[] = {
	{ "pid", SK_NS_PID }, { "network", SK_NS_NET }, { "mount", SK_NS_MNT },
	{ "ipc", SK_NS_IPC }, { "uts", SK_NS_UTS }, { "user", SK_NS_USER },
	{ "cgroup", SK_NS_CGROUP }, { "time", SK_NS_TIME },
};

static const char *const hook_kinds[SK_HOOK_NKINDS] = {
	[SK_HOOK_PRESTART] = "prestart",
	[SK_HOOK_CREATE_RUNTIME] = "createRuntime",
	[SK_HOOK_CREATE_CONTAINER] = "createContainer",
	[SK_HOOK_START_CONTAINER] = "startContainer",
	[SK_HOOK_POSTSTART] = "poststart",
	[SK_HOOK_POSTSTOP] = "poststop",
};

static const char *const cap_sets[SK_CAP_NSETS] = {
	[SK_CAP_BOUNDING] = "bounding",
	[SK_CAP_EFFECTIVE] = "effective",
	[SK_CAP_INHERITABLE] = "inheritable",
	[SK_CAP_PERMITTED] = "permitted",
	[SK_CAP_AMBIENT] = "ambient",
};

static const struct named rlimits[] = {
	N(RLIMIT_CPU), N(RLIMIT_FSIZE), N(RLIMIT_DATA), N(RLIMIT_STACK),
	N(RLIMIT_CORE), N(RLIMIT_RSS), N(RLIMIT_NPROC), N(RLIMIT_NOFILE),
	N(RLIMIT_MEMLOCK), N(RLIMIT_AS), N(RLIMIT_LOCKS), N(RLIMIT_SIGPENDING),
	N(RLIMIT_MSGQUEUE), N(RLIMIT_NICE), N(RLIMIT_RTPRIO), N(RLIMIT_RTTIME),
};

static const struct named sched_policies[] = {
	N(SCHED_OTHER), N(SCHED_FIFO), N(SCHED_RR), N(SCHED_BATCH),
	N(SCHED_ISO), N(SCHED_IDLE), N(SCHED_DEADLINE),
};

static const struct named sched_flags[] = {
	N(SCHED_FLAG_RESET_ON_FORK), N(SCHED_FLAG_RECLAIM), N(SCHED_FLAG_DL_OVERRUN),
	N(SCHED_FLAG_KEEP_POLICY), N(SCHED_FLAG_KEEP_PARAMS),
	N(SCHED_FLAG_UTIL_CLAMP_MIN), N(SCHED_FLAG_UTIL_CLAMP_MAX),
};

static const struct named ioprio_classes[] = {
	N(IOPRIO_CLASS_RT), N(IOPRIO_CLASS_BE), N(IOPRIO_CLASS_IDLE),
};

static const char *const seccomp_actions[] = {
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	"SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
	"SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};

/* runtime-spec's list plus the later libseccomp ones. */
static const char *const seccomp_archs[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
	"SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
	"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",
	"SCMP_ARCH_SHEB",
};

static const char *const seccomp_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static const char *const seccomp_ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

/* The r* forms are runc's: they make the change recursive. */
static const char *const propagations[] = {
	"shared", "slave", "private", "unbindable",
	"rshared", "rslave", "rprivate", "runbindable",
};

static const char *const personality_domains[] = { "LINUX", "LINUX32" };

const char *sk_ns_type_name(enum sk_ns_type t)
{
	for (size_t i = 0; i < LEN(ns_types); i++)
		if (ns_types[i].value == (int)t)
			return ns_types[i].name;
	return NULL;
}

const char *sk_hook_kind_name(enum sk_hook_kind k)
{
	return (unsigned)k < SK_HOOK_NKINDS ? hook_kinds[k] : NULL;
}

const char *sk_spec_cap_set_name(enum sk_cap_set s)
{
	return (unsigned)s < SK_CAP_NSETS ? cap_sets[s] : NULL;
}

/* Capability names are libcap's ("cap_sys_admin"), written as config.json
 * has them: "CAP_SYS_ADMIN", in that case exactly (as runc: libcap itself
 * would take any case, numbers, and ignore what follows a name). */
int sk_cap_from_name(const char *name)
{
	if (strncmp(name, "CAP_", 4) != 0 || name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")] != '\0')
		return -1;
	cap_value_t v;
	if (cap_from_name(name, &v) == 0)
		return v;
	/* cap_from_name() looks no further than the kernel's last capability;
	 * one that libcap knows and this kernel does not is still a name
	 * (sk_caps_apply warns that it is not granted). */
	char buf[SK_CAP_NAME_MAX];
	for (int c = cap_max_bits(); sk_cap_name(c, buf); c++)
		if (strcmp(buf, name) == 0)
			return c;
	return -1;
}

const char *sk_cap_name(int cap, char buf[SK_CAP_NAME_MAX])
{
	if (cap < 0 || cap > 63)
		return NULL;
	char *s = cap_to_name(cap);
	/* Beyond the names it knows, libcap writes the number. */
	bool known = s && s[0] && !isdigit((unsigned char)s[0]) && strlen(s) < SK_CAP_NAME_MAX;
	if (known)
		for (size_t i = 0; (buf[i] = (char)toupper((unsigned char)s[i])); i++)
			;
	cap_free(s);
	return known ? buf : NULL;
}

/* name -> value, or -1 */
#define LOOKUP(fn, how, table) \
	int fn(const char *name) { return how(TAB(table), name); }
LOOKUP(sk_rlimit_from_name, find, rlimits)
LOOKUP(sk_spec_ns_type, find, ns_types)
LOOKUP(sk_spec_sched_policy, find, sched_policies)
LOOKUP(sk_spec_sched_flag, find, sched_flags)
LOOKUP(sk_spec_ioprio_class, find, ioprio_classes)
LOOKUP(sk_spec_seccomp_action, index_of, seccomp_actions)
LOOKUP(sk_spec_seccomp_arch, index_of, seccomp_archs)
LOOKUP(sk_spec_seccomp_flag, index_of, seccomp_flags)
LOOKUP(sk_spec_seccomp_op, index_of, seccomp_ops)
LOOKUP(sk_spec_propagation, index_of, propagations)
LOOKUP(sk_spec_personality_domain, index_of, personality_domains)
