/* spec_process: config.json's "process" (struct sk_process): user, args,
 * capabilities, rlimits, scheduler, I/O priority, CPU affinity..., also
 * read alone for exec --process. */
#include "skiff/spec/parse.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/sched.h>

static int parse_console(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_process *p = out;
	/* struct winsize holds 16 bits. */
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u32(c, v, "height", UINT16_MAX, NULL, &p->console_height) ||
	    sk_jget_u32(c, v, "width", UINT16_MAX, NULL, &p->console_width))
		return -1;
	return 0;
}

static int item_u32(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	uint64_t x;
	if (sk_jto_u64(c, v, UINT32_MAX, &x))
		return -1;
	*(uint32_t *)out = (uint32_t)x;
	return 0;
}

static int parse_user(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_user *u = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u32(c, v, "uid", UINT32_MAX, NULL, &u->uid) ||
	    sk_jget_u32(c, v, "gid", UINT32_MAX, NULL, &u->gid) ||
	    sk_jget_u32(c, v, "umask", UINT32_MAX, &u->has_umask, &u->umask) ||
	    sk_jget_list(c, v, "additionalGids", sizeof(*u->additional_gids), &u->additional_gids,
		         &u->n_additional_gids, item_u32) ||
	    sk_jget_str(c, v, "username", false, &u->username))
		return -1;
	return 0;
}

static int parse_caps(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_caps *caps = out;
	if (sk_jwant_obj(c, v))
		return -1;
	for (int s = 0; s < SK_CAP_NSETS; s++) {
		size_t mark;
		const struct sk_jv *set = sk_jenter(c, v, sk_spec_cap_set_name(s), &mark);
		if (set && sk_jto_flags(c, set, sk_cap_from_name, "capability", true, &caps->set[s]))
			return -1;
		caps->has[s] = set != NULL;
		sk_jleave(c, mark);
	}
	return 0;
}

static int parse_rlimit(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_rlimit *r = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "type", true, sk_rlimit_from_name, "rlimit type", &r->resource, &r->type) ||
	    sk_jget_u64(c, v, "soft", UINT64_MAX, NULL, &r->soft) ||
	    sk_jget_u64(c, v, "hard", UINT64_MAX, NULL, &r->hard))
		return -1;
	if (r->soft > r->hard)
		return sk_jfail(c, "soft limit must not exceed hard limit");
	return 0;
}

static int parse_ioprio(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_io_priority *io = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "class", true, sk_spec_ioprio_class, "I/O priority class", &io->class_, NULL) ||
	    sk_jget_int(c, v, "priority", 0, 7, &opt, &io->priority))
		return -1;
	return 0;
}

static int parse_scheduler(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_scheduler *s = out;
	uint64_t flags = 0;
	size_t mark;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "policy", true, sk_spec_sched_policy, "scheduling policy", &s->policy, NULL) ||
	    sk_jget_int(c, v, "nice", -20, 19, &opt, &s->nice) ||
	    sk_jget_int(c, v, "priority", 0, 99, &opt, &s->priority) ||
	    sk_jget_u64(c, v, "runtime", UINT64_MAX, &opt, &s->runtime) ||
	    sk_jget_u64(c, v, "deadline", UINT64_MAX, &opt, &s->deadline) ||
	    sk_jget_u64(c, v, "period", UINT64_MAX, &opt, &s->period))
		return -1;
	const struct sk_jv *f = sk_jenter(c, v, "flags", &mark);
	if (f && sk_jto_flags(c, f, sk_spec_sched_flag, "scheduler flag", false, &flags))
		return -1;
	sk_jleave(c, mark);
	s->flags = (uint32_t)flags;
	/* sched_setattr(2) semantics, checked as runc does. */
	if (s->priority && s->policy != SCHED_FIFO && s->policy != SCHED_RR) {
		sk_jenter_key(c, "priority");
		return sk_jfail(c, "only valid with SCHED_FIFO or SCHED_RR");
	}
	if ((s->runtime || s->deadline || s->period) && s->policy != SCHED_DEADLINE)
		return sk_jfail(c, "runtime, deadline and period are only valid with SCHED_DEADLINE");
	return 0;
}

/* "" means unset (runtime-spec), as does an absent field. */
static int get_cpus(struct sk_jwalk *c, const struct sk_jv *o, const char *key, char **out)
{
	if (sk_jget_str(c, o, key, false, out))
		return -1;
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	if (*out && !sk_spec_cpu_list_ok(*out)) {
		char q[SK_JQUOTE_MAX];
		sk_jenter_key(c, key);
		return sk_jfail(c, "invalid CPU list %s (expected e.g. \"0-3,7\", CPUs 0..%d)",
			        sk_jquote(q, *out), SK_SPEC_MAX_CPU);
	}
	return 0;
}

static int parse_affinity(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_process *p = out;
	if (sk_jwant_obj(c, v) ||
	    get_cpus(c, v, "initial", &p->exec_cpu_affinity_initial) ||
	    get_cpus(c, v, "final", &p->exec_cpu_affinity_final))
		return -1;
	return 0;
}

static int check_rlimit_dups(struct sk_jwalk *c, const struct sk_process *p)
{
	for (size_t i = 0; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == p->rlimits[i].resource) {
				char q[SK_JQUOTE_MAX];
				sk_jenter_key(c, "rlimits");
				sk_jenter_index(c, i);
				sk_jenter_key(c, "type");
				return sk_jfail(c, "duplicate rlimit type %s", sk_jquote(q, p->rlimits[i].type));
			}
	return 0;
}

int sk_spec_read_process(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_process *p = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_bool(c, v, "terminal", &opt, &p->terminal) ||
	    sk_jget_obj(c, v, "consoleSize", &p->has_console_size, parse_console, p) ||
	    sk_jget_obj(c, v, "user", &opt, parse_user, &p->user) ||
	    sk_jget_nonempty_strv(c, v, "args", &p->args, &p->n_args) ||
	    sk_jget_str(c, v, "commandLine", false, &p->command_line) ||
	    sk_jget_strv(c, v, "env", &p->env, &p->n_env) ||
	    sk_jget_path(c, v, "cwd", true, &p->cwd) ||
	    sk_jget_obj(c, v, "capabilities", &p->caps.present, parse_caps, &p->caps) ||
	    sk_jget_list(c, v, "rlimits", sizeof(*p->rlimits), &p->rlimits, &p->n_rlimits, parse_rlimit) ||
	    check_rlimit_dups(c, p) ||
	    sk_jget_bool(c, v, "noNewPrivileges", &opt, &p->no_new_privileges) ||
	    sk_jget_str(c, v, "apparmorProfile", false, &p->apparmor_profile) ||
	    sk_jget_int(c, v, "oomScoreAdj", -1000, 1000, &p->has_oom_score_adj, &p->oom_score_adj) ||
	    sk_jget_str(c, v, "selinuxLabel", false, &p->selinux_label) ||
	    sk_jget_obj(c, v, "ioPriority", &p->io_priority.present, parse_ioprio, &p->io_priority) ||
	    sk_jget_obj(c, v, "scheduler", &p->scheduler.present, parse_scheduler, &p->scheduler) ||
	    sk_jget_obj(c, v, "execCPUAffinity", &opt, parse_affinity, p))
		return -1;
	return 0;
}

void sk_spec_process_free(struct sk_process *p)
{
	free(p->user.additional_gids);
	free(p->user.username);
	sk_spec_free_strv(p->args, p->n_args);
	free(p->command_line);
	sk_spec_free_strv(p->env, p->n_env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	memset(p, 0, sizeof(*p));
}
