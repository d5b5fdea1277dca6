/* seccomp: linux.seccomp translated to a BPF program with libseccomp (see
 * seccomp.h): actions, architectures, flags, argument conditions, rules;
 * the ENOSYS stub is seccomp_stub.c's, the cache seccomp_cache.c's,
 * loading and the listener seccomp_load.c's. */
#include "skiff/seccomp/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "skiff/base/log.h"
#include "skiff/seccomp/stub.h"

/* The init hands the listener to the parent with this syscall; notifying it
 * would block the init before any agent holds the listener. */
#define HANDOVER_SYSCALL "sendmsg"

struct action_def { const char *name; uint32_t action; bool takes_errno; };

static const struct action_def actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static const struct { const char *name; enum scmp_compare op; } operators[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct { const char *name; unsigned int flag; } flag_defs[] = {
	/* The filter goes into a single-threaded init: nothing to sync. */
	{ "SECCOMP_FILTER_FLAG_TSYNC", 0 },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The action for name with errnoRet (path/errno_path name them in errors). */
static int parse_action(const char *name, bool has_errno, uint32_t errno_ret, const char *path,
			const char *errno_path, uint32_t *out, struct sk_err *err)
{
	for (size_t i = 0; i < N_ELEMS(actions); i++) {
		if (strcmp(name, actions[i].name) != 0)
			continue;
		if (!actions[i].takes_errno) {
			if (has_errno)
				return sk_error(err, 0, "%s: %s takes no errno", errno_path, name);
			*out = actions[i].action;
			return 0;
		}
		if (!has_errno)
			errno_ret = EPERM;
		/* The kernel keeps 16 bits of return data. */
		if (errno_ret > 0xffff)
			return sk_error(err, 0, "%s: %u does not fit in 16 bits", errno_path, errno_ret);
		*out = actions[i].action | errno_ret;
		return 0;
	}
	return sk_error(err, 0, "%s: unknown action \"%s\"", path, name);
}

static int parse_arch(const char *name, size_t i, uint32_t *out, struct sk_err *err)
{
	static const char prefix[] = "SCMP_ARCH_";
	char lower[32];
	size_t n = strlen(name);
	if (strncmp(name, prefix, sizeof(prefix) - 1) == 0 && n - (sizeof(prefix) - 1) < sizeof(lower)) {
		const char *p = name + sizeof(prefix) - 1;
		size_t k = 0;
		for (; p[k]; k++)
			lower[k] = (char)tolower((unsigned char)p[k]);
		lower[k] = '\0';
		*out = seccomp_arch_resolve_name(lower);
		if (*out)
			return 0;
	}
	const struct scmp_version *v = seccomp_version();
	return sk_error(err, 0, "linux.seccomp.architectures[%zu]: \"%s\" is unknown to libseccomp %u.%u.%u", i, name,
			v->major, v->minor, v->micro);
}

/* Whether the kernel takes these seccomp(2) flags: with a NULL program, a
 * kernel that knows them fails on the copy (EFAULT), else with EINVAL. */
static bool flags_supported(unsigned int flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

static int find_flag(const char *name)
{
	for (size_t k = 0; k < N_ELEMS(flag_defs); k++)
		if (strcmp(name, flag_defs[k].name) == 0)
			return (int)k;
	return -1;
}

bool sk_seccomp_flag_supported(const char *name)
{
	int k = find_flag(name);
	if (k < 0)
		return false;
	unsigned int f = flag_defs[k].flag;
	if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	return f == 0 || flags_supported(f);
}

/* Translate syscalls[i].args into conds; *or_args is set when two args test
 * the same index, in which case runc makes one rule per arg. */
static int parse_args(const struct sk_seccomp_syscall *s, size_t i, struct scmp_arg_cmp *conds, bool *or_args,
		      struct sk_err *err)
{
	unsigned int seen = 0;
	*or_args = false;
	for (size_t j = 0; j < s->n_args; j++) {
		const struct sk_seccomp_arg *a = &s->args[j];
		if (a->index > 5)
			return sk_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is above 5", i, j,
					a->index);
		size_t k = 0;
		while (k < N_ELEMS(operators) && strcmp(a->op, operators[k].name) != 0)
			k++;
		if (k == N_ELEMS(operators))
			return sk_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"", i, j,
					a->op);
		if (seen & (1u << a->index))
			*or_args = true;
		seen |= 1u << a->index;
		conds[j] = (struct scmp_arg_cmp){ .arg = a->index, .op = operators[k].op,
						  .datum_a = a->value, .datum_b = a->value_two };
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct sk_seccomp *sc, uint32_t def, bool *notify,
		     struct sk_err *err)
{
	size_t max_args = 1;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (sc->syscalls[i].n_args > max_args)
			max_args = sc->syscalls[i].n_args;
	struct scmp_arg_cmp *conds = calloc(max_args, sizeof(*conds));
	if (!conds)
		return sk_error(err, ENOMEM, "linux.seccomp.syscalls");
	int ret = -1;
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct sk_seccomp_syscall *s = &sc->syscalls[i];
		char path[64], errno_path[64];
		snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu].action", i);
		snprintf(errno_path, sizeof(errno_path), "linux.seccomp.syscalls[%zu].errnoRet", i);
		uint32_t act;
		if (parse_action(s->action, s->has_errno_ret, s->errno_ret, path, errno_path, &act, err) < 0)
			goto out;
		bool or_args;
		if (parse_args(s, i, conds, &or_args, err) < 0)
			goto out;
		/* libseccomp refuses a rule with the default action (EACCES);
		 * it would change nothing anyway. */
		if (act == def)
			continue;
		if (act == SCMP_ACT_NOTIFY)
			*notify = true;
		for (size_t j = 0; j < s->n_names; j++) {
			const char *name = s->names[j];
			if (act == SCMP_ACT_NOTIFY && strcmp(name, HANDOVER_SYSCALL) == 0) {
				sk_error(err, 0, "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot apply to \"%s\": "
					 "the init hands the listener over with it", i, name);
				goto out;
			}
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR) {
				sk_debug("seccomp: linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall \"%s\" ignored",
					 i, j, name);
				continue;
			}
			int rc = 0;
			if (or_args) {
				for (size_t k = 0; k < s->n_args && rc == 0; k++)
					rc = seccomp_rule_add_array(ctx, act, nr, 1, &conds[k]);
			} else {
				rc = seccomp_rule_add_array(ctx, act, nr, (unsigned int)s->n_args, conds);
			}
			if (rc < 0) {
				sk_error(err, -rc, "linux.seccomp.syscalls[%zu].names[%zu]: add rule for \"%s\"", i, j, name);
				goto out;
			}
		}
	}
	ret = 0;
out:
	free(conds);
	return ret;
}

static int parse_flags(const struct sk_seccomp *sc, bool notify, unsigned int *out, struct sk_err *err)
{
	unsigned int flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	/* runc's and crun's default: no speculative store bypass mitigation
	 * forced on the container for having a filter. */
	if (sc->n_flags == 0 && flags_supported(SECCOMP_FILTER_FLAG_SPEC_ALLOW))
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	for (size_t i = 0; i < sc->n_flags; i++) {
		int k = find_flag(sc->flags[i]);
		if (k < 0)
			return sk_error(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i, sc->flags[i]);
		unsigned int f = flag_defs[k].flag;
		/* The flag is about how a listener waits; without one the
		 * kernel refuses it. */
		if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify) {
			sk_debug("seccomp: %s ignored: no SCMP_ACT_NOTIFY rule", sc->flags[i]);
			continue;
		}
		if (!sk_seccomp_flag_supported(sc->flags[i]))
			return sk_error(err, 0, "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i,
					sc->flags[i]);
		flags |= f;
	}
	*out = flags;
	return 0;
}

/* Export ctx's program after the stub into a malloc()ed array. */
static int export_program(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t n_stub,
			  struct sk_seccomp_prog *out, struct sk_err *err)
{
	int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "seccomp: memfd_create");
	int ret = -1;
	struct stat st;
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		sk_error(err, -rc, "seccomp: export the filter");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		sk_error(err, errno, "seccomp: fstat the exported filter");
		goto out;
	}
	size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
	if (n_stub + n > BPF_MAXINSNS) {
		sk_error(err, E2BIG, "linux.seccomp: the filter has %zu instructions, the kernel takes %d",
			 n_stub + n, BPF_MAXINSNS);
		goto out;
	}
	out->insns = malloc((n_stub + n) * sizeof(struct sock_filter));
	if (!out->insns) {
		sk_error(err, ENOMEM, "seccomp: filter of %zu instructions", n_stub + n);
		goto out;
	}
	memcpy(out->insns, stub, n_stub * sizeof(*stub));
	size_t want = n * sizeof(struct sock_filter), got = 0;
	while (got < want) {
		ssize_t r = pread(fd, (char *)(out->insns + n_stub) + got, want - got, (off_t)got);
		if (r <= 0) {
			sk_error(err, r < 0 ? errno : EIO, "seccomp: read the exported filter");
			goto out;
		}
		got += (size_t)r;
	}
	out->len = (unsigned short)(n_stub + n);
	ret = 0;
out:
	close(fd);
	return ret;
}

int sk_seccomp_compile(const struct sk_seccomp *sc, struct sk_seccomp_prog *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	uint32_t def;
	if (parse_action(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
			 "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", &def, err) < 0)
		return -1;
	if (def == SCMP_ACT_NOTIFY)
		return sk_error(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

	uint32_t arches[SK_SECCOMP_MAX_ARCHES];
	size_t n_arches = 0;
	arches[n_arches++] = seccomp_arch_native();
	for (size_t i = 0; i < sc->n_architectures; i++) {
		uint32_t a;
		if (parse_arch(sc->architectures[i], i, &a, err) < 0)
			return -1;
		size_t k = 0;
		while (k < n_arches && arches[k] != a)
			k++;
		if (k == n_arches)
			arches[n_arches++] = a;
	}

	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return sk_error(err, 0, "linux.seccomp.defaultAction: %s is not supported by libseccomp or the kernel",
				sc->default_action);
	int ret = -1, rc;
	for (size_t k = 1; k < n_arches; k++) {
		rc = seccomp_arch_add(ctx, arches[k]);
		if (rc < 0) {
			sk_error(err, -rc, "linux.seccomp.architectures: add architecture %#x", arches[k]);
			goto out;
		}
	}
	/* A binary tree of syscalls for long profiles, as runc does (its
	 * threshold counts names); libseccomp 2.5.4 misbehaves with it on a
	 * filter without rules. */
	size_t n_names = 0;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		n_names += sc->syscalls[i].n_names;
	if (n_names > 32 && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		sk_error(err, -rc, "seccomp: set the binary tree optimization");
		goto out;
	}
	bool notify = false;
	if (add_rules(ctx, sc, def, &notify, err) < 0)
		goto out;
	if (notify) {
		size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
		if (!sc->listener_path || !*sc->listener_path) {
			sk_error(err, 0, "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
			goto out;
		}
		if (strlen(sc->listener_path) > max) {
			sk_error(err, 0, "linux.seccomp.listenerPath: longer than %zu bytes", max);
			goto out;
		}
	}
	if (parse_flags(sc, notify, &out->flags, err) < 0)
		goto out;
	out->notify = notify;

	struct sock_filter stub[SK_SECCOMP_MAX_STUB];
	size_t n_stub = sk_seccomp_stub(sc, def, arches, n_arches, stub);
	ret = export_program(ctx, stub, n_stub, out, err);
out:
	seccomp_release(ctx);
	if (ret < 0)
		sk_seccomp_prog_free(out);
	return ret;
}

void sk_seccomp_prog_free(struct sk_seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}
