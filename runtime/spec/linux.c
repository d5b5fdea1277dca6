/* spec_linux: config.json's "linux" (struct sk_linux): namespaces, id
 * mappings, time offsets, devices, sysctl, seccomp, propagation, masked and
 * read-only paths, personality, memoryPolicy, netDevices, intelRdt (their
 * own files), and the rules between them (a field that
 * needs a namespace of some type).  resources: spec_resources.c. */
#include "skiff/spec/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct sk_namespace *find_ns(const struct sk_linux *l, enum sk_ns_type t)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == t)
			return &l->namespaces[i];
	return NULL;
}

const struct sk_namespace *sk_spec_namespace(const struct sk_spec *s, enum sk_ns_type t)
{
	return find_ns(&s->linux_, t);
}

static int parse_namespace(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_namespace *ns = out;
	int type;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "type", true, sk_spec_ns_type, "namespace type", &type, NULL) ||
	    sk_jget_str(c, v, "path", false, &ns->path))
		return -1;
	ns->type = (enum sk_ns_type)type;
	/* "path": "" means a new namespace, as for runc (omitempty in Go). */
	if (ns->path && !ns->path[0]) {
		free(ns->path);
		ns->path = NULL;
	}
	if (ns->path && ns->path[0] != '/') {
		sk_jenter_key(c, "path");
		return sk_jfail(c, "must be an absolute path");
	}
	return 0;
}

static int parse_namespaces(struct sk_jwalk *c, const struct sk_jv *o, struct sk_linux *l)
{
	if (sk_jget_list(c, o, "namespaces", sizeof(*l->namespaces), &l->namespaces, &l->n_namespaces,
		         parse_namespace))
		return -1;
	for (size_t i = 0; i < l->n_namespaces; i++)
		for (size_t j = 0; j < i; j++)
			if (l->namespaces[j].type == l->namespaces[i].type) {
				sk_jenter_key(c, "namespaces");
				sk_jenter_index(c, i);
				sk_jenter_key(c, "type");
				return sk_jfail(c, "duplicate namespace type \"%s\"",
					        sk_ns_type_name(l->namespaces[i].type));
			}
	return 0;
}

static int parse_time_offsets(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_time_offset *t = out;
	if (sk_jwant_obj(c, v))
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct sk_jv *item = &v->u.items[i];
		size_t mark = sk_jenter_map_key(c, item->key);
		int clock = strcmp(item->key, "monotonic") == 0 ? 0 : strcmp(item->key, "boottime") == 0 ? 1 : -1;
		int64_t secs = 0;
		uint32_t nsecs = 0;
		bool opt;
		if (clock < 0)
			return sk_jfail(c, "unknown clock (must be \"monotonic\" or \"boottime\")");
		if (item->type == SK_JNULL) {
			sk_jleave(c, mark);
			continue;
		}
		if (sk_jwant_obj(c, item) ||
		    sk_jget_i64(c, item, "secs", INT64_MIN, INT64_MAX, &opt, &secs) ||
		    sk_jget_u32(c, item, "nanosecs", 999999999, &opt, &nsecs))
			return -1;
		t[clock] = (struct sk_time_offset){ .present = true, .secs = secs, .nanosecs = nsecs };
		sk_jleave(c, mark);
	}
	return 0;
}

static int parse_device(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_device *d = out;
	d->major = d->minor = -1;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_path(c, v, "path", true, &d->path) ||
	    sk_spec_get_dev_type(c, v, true, "cbup", &d->type))
		return -1;
	/* Pipes have no numbers; the others need both. */
	bool opt, *need = d->type == 'p' ? &opt : NULL;
	if (sk_jget_i64(c, v, "major", 0, UINT32_MAX, need, &d->major) ||
	    sk_jget_i64(c, v, "minor", 0, UINT32_MAX, need, &d->minor) ||
	    sk_jget_u32(c, v, "fileMode", UINT32_MAX, &d->has_file_mode, &d->file_mode) ||
	    sk_jget_u32(c, v, "uid", UINT32_MAX, &d->has_uid, &d->uid) ||
	    sk_jget_u32(c, v, "gid", UINT32_MAX, &d->has_gid, &d->gid))
		return -1;
	return 0;
}

static bool errno_action(const char *action)
{
	return strcmp(action, "SCMP_ACT_ERRNO") == 0 || strcmp(action, "SCMP_ACT_TRACE") == 0;
}

/* runtime-spec: an errno for an action that returns none is an error. */
static int check_errno_ret(struct sk_jwalk *c, const char *key, bool has, const char *action)
{
	if (!has || errno_action(action))
		return 0;
	sk_jenter_key(c, key);
	return sk_jfail(c, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
}

static int parse_seccomp_arg(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_seccomp_arg *a = out;
	bool opt;
	/* Syscalls have six arguments. */
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u32(c, v, "index", 5, NULL, &a->index) ||
	    sk_jget_u64(c, v, "value", UINT64_MAX, NULL, &a->value) ||
	    sk_jget_u64(c, v, "valueTwo", UINT64_MAX, &opt, &a->value_two) ||
	    sk_jget_named(c, v, "op", true, sk_spec_seccomp_op, "seccomp operator", NULL, &a->op))
		return -1;
	return 0;
}

static int parse_syscall(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_seccomp_syscall *s = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_nonempty_strv(c, v, "names", &s->names, &s->n_names) ||
	    sk_jget_named(c, v, "action", true, sk_spec_seccomp_action, "seccomp action", NULL, &s->action) ||
	    sk_jget_u32(c, v, "errnoRet", UINT32_MAX, &s->has_errno_ret, &s->errno_ret) ||
	    check_errno_ret(c, "errnoRet", s->has_errno_ret, s->action) ||
	    sk_jget_list(c, v, "args", sizeof(*s->args), &s->args, &s->n_args, parse_seccomp_arg))
		return -1;
	return 0;
}

static int item_arch(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	char q[SK_JQUOTE_MAX];
	if (v->type == SK_JSTR && sk_spec_seccomp_arch(v->u.s) < 0)
		return sk_jfail(c, "unknown seccomp architecture %s", sk_jquote(q, v->u.s));
	return sk_jto_str(c, v, out);
}

static int item_seccomp_flag(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	char q[SK_JQUOTE_MAX];
	if (v->type == SK_JSTR && sk_spec_seccomp_flag(v->u.s) < 0)
		return sk_jfail(c, "unknown seccomp flag %s", sk_jquote(q, v->u.s));
	return sk_jto_str(c, v, out);
}

static int parse_seccomp(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_seccomp *s = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "defaultAction", true, sk_spec_seccomp_action, "seccomp action", NULL, &s->default_action))
		return -1;
	/* As runc: the runtime's own syscalls after the filter is loaded
	 * would wait on an agent that does not have the fd yet. */
	if (strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0) {
		sk_jenter_key(c, "defaultAction");
		return sk_jfail(c, "SCMP_ACT_NOTIFY cannot be the default action");
	}
	if (sk_jget_u32(c, v, "defaultErrnoRet", UINT32_MAX, &s->has_default_errno_ret, &s->default_errno_ret) ||
	    check_errno_ret(c, "defaultErrnoRet", s->has_default_errno_ret, s->default_action) ||
	    sk_jget_list(c, v, "architectures", sizeof(char *), &s->architectures, &s->n_architectures, item_arch) ||
	    sk_jget_list(c, v, "flags", sizeof(char *), &s->flags, &s->n_flags, item_seccomp_flag) ||
	    sk_jget_str(c, v, "listenerPath", false, &s->listener_path) ||
	    sk_jget_str(c, v, "listenerMetadata", false, &s->listener_metadata) ||
	    sk_jget_list(c, v, "syscalls", sizeof(*s->syscalls), &s->syscalls, &s->n_syscalls, parse_syscall))
		return -1;
	bool listener = s->listener_path && *s->listener_path;
	if (s->listener_metadata && !listener) {
		sk_jenter_key(c, "listenerMetadata");
		return sk_jfail(c, "requires listenerPath");
	}
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0 && !listener) {
			sk_jenter_key(c, "listenerPath");
			return sk_jfail(c, "is required when SCMP_ACT_NOTIFY is used (syscalls[%zu])", i);
		}
	return 0;
}

static int parse_personality(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_personality *p = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "domain", true, sk_spec_personality_domain, "personality domain", NULL, &p->domain) ||
	    sk_jget_strv(c, v, "flags", &p->flags, &p->n_flags))
		return -1;
	return 0;
}

int sk_spec_need_ns(struct sk_jwalk *c, const struct sk_linux *l, bool used, const char *key, enum sk_ns_type t,
		    const char *what)
{
	if (!used || find_ns(l, t))
		return 0;
	sk_jenter_key(c, key);
	return sk_jfail(c, "requires %s namespace in linux.namespaces", what);
}

int sk_spec_read_linux(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_linux *l = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    parse_namespaces(c, v, l) ||
	    sk_jget_list(c, v, "uidMappings", sizeof(*l->uid_mappings), &l->uid_mappings, &l->n_uid_mappings,
		         sk_spec_read_idmap) ||
	    sk_jget_list(c, v, "gidMappings", sizeof(*l->gid_mappings), &l->gid_mappings, &l->n_gid_mappings,
		         sk_spec_read_idmap) ||
	    sk_jget_obj(c, v, "timeOffsets", &opt, parse_time_offsets, l->time_offsets) ||
	    sk_jget_list(c, v, "devices", sizeof(*l->devices), &l->devices, &l->n_devices, parse_device) ||
	    sk_jget_str(c, v, "cgroupsPath", false, &l->cgroups_path) ||
	    sk_jget_obj(c, v, "resources", &l->resources.present, sk_spec_read_resources, &l->resources) ||
	    sk_spec_get_kv(c, v, "sysctl", &l->sysctl, &l->n_sysctl, NULL) ||
	    sk_jget_obj(c, v, "seccomp", &l->seccomp.present, parse_seccomp, &l->seccomp))
		return -1;
	/* "" is runc's "leave it alone". */
	const struct sk_jv *prop = sk_jmember(v, "rootfsPropagation");
	bool empty = prop && prop->type == SK_JSTR && !prop->u.s[0];
	if ((!empty && sk_jget_named(c, v, "rootfsPropagation", false, sk_spec_propagation, "propagation",
				     NULL, &l->rootfs_propagation)) ||
	    sk_jget_list(c, v, "maskedPaths", sizeof(char *), &l->masked_paths, &l->n_masked_paths, sk_jitem_path) ||
	    sk_jget_list(c, v, "readonlyPaths", sizeof(char *), &l->readonly_paths, &l->n_readonly_paths, sk_jitem_path) ||
	    sk_jget_str(c, v, "mountLabel", false, &l->mount_label) ||
	    sk_jget_obj(c, v, "personality", &l->personality.present, parse_personality, &l->personality))
		return -1;
	if (sk_jget_obj(c, v, "memoryPolicy", &l->memory_policy.present, sk_spec_read_memory_policy,
		        &l->memory_policy) ||
	    sk_spec_read_net_devices(c, v, l) ||
	    sk_jget_obj(c, v, "intelRdt", &l->intel_rdt.present, sk_spec_read_intel_rdt, &l->intel_rdt))
		return -1;

	bool offsets = l->time_offsets[0].present || l->time_offsets[1].present;
	if (sk_spec_need_ns(c, l, l->n_uid_mappings, "uidMappings", SK_NS_USER, "a user") ||
	    sk_spec_need_ns(c, l, l->n_gid_mappings, "gidMappings", SK_NS_USER, "a user") ||
	    sk_spec_need_ns(c, l, offsets, "timeOffsets", SK_NS_TIME, "a time") ||
	    sk_spec_need_ns(c, l, l->n_masked_paths, "maskedPaths", SK_NS_MNT, "a mount") ||
	    sk_spec_need_ns(c, l, l->n_readonly_paths, "readonlyPaths", SK_NS_MNT, "a mount") ||
	    sk_spec_need_ns(c, l, l->n_net_devices, "netDevices", SK_NS_NET, "a network"))
		return -1;
	/* Offsets apply to a new time namespace only. */
	const struct sk_namespace *time_ns = find_ns(l, SK_NS_TIME);
	if (offsets && time_ns && time_ns->path) {
		sk_jenter_key(c, "timeOffsets");
		return sk_jfail(c, "cannot be used when joining a time namespace");
	}
	return 0;
}

static void free_seccomp(struct sk_seccomp *s)
{
	free(s->default_action);
	sk_spec_free_strv(s->architectures, s->n_architectures);
	sk_spec_free_strv(s->flags, s->n_flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		struct sk_seccomp_syscall *sc = &s->syscalls[i];
		sk_spec_free_strv(sc->names, sc->n_names);
		free(sc->action);
		for (size_t j = 0; j < sc->n_args; j++)
			free(sc->args[j].op);
		free(sc->args);
	}
	free(s->syscalls);
}

void sk_spec_free_linux(struct sk_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	sk_spec_free_resources(&l->resources);
	sk_spec_free_kv(l->sysctl, l->n_sysctl);
	free_seccomp(&l->seccomp);
	free(l->rootfs_propagation);
	sk_spec_free_strv(l->masked_paths, l->n_masked_paths);
	sk_spec_free_strv(l->readonly_paths, l->n_readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	sk_spec_free_strv(l->personality.flags, l->personality.n_flags);
	free(l->memory_policy.nodes);
	for (size_t i = 0; i < l->n_net_devices; i++) {
		free(l->net_devices[i].host);
		free(l->net_devices[i].name);
	}
	free(l->net_devices);
	free(l->intel_rdt.clos_id);
	free(l->intel_rdt.l3_cache_schema);
	free(l->intel_rdt.mem_bw_schema);
	sk_spec_free_strv(l->intel_rdt.schemata, l->intel_rdt.n_schemata);
}
