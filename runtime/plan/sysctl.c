/* sysctl: which linux.sysctl keys the container's own namespaces allow,
 * and writing them under /proc/sys (sysctl.h). */
#include "skiff/plan/sysctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/plan/process.h"
#include "skiff/plan/inroot.h"
#include "skiff/base/rootless.h"

static const char *const ipc_keys[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
	"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The namespace a key lives in, or -1 when it is not namespaced. */
static int key_namespace(const char *key)
{
	for (size_t i = 0; i < sizeof(ipc_keys) / sizeof(ipc_keys[0]); i++)
		if (strcmp(key, ipc_keys[i]) == 0)
			return SK_NS_IPC;
	if (has_prefix(key, "fs.mqueue."))
		return SK_NS_IPC;
	if (has_prefix(key, "net."))
		return SK_NS_NET;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return SK_NS_UTS;
	if (has_prefix(key, "user."))
		return SK_NS_USER;
	return -1;
}

/* Dotted names only: no "/", no empty component, short enough for a path. */
static bool key_ok(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > PATH_MAX - sizeof("sys/") || key[0] == '.' || key[len - 1] == '.')
		return false;
	return !strchr(key, '/') && !strstr(key, "..");
}

/* The runtime's own namespace: a config that joins it shares it with the host. */
static int ns_is_ours(const struct sk_namespace *ns, bool *ours, struct sk_err *err)
{
	*ours = false;
	if (!ns->path)
		return 0;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/ns/%s", ns->type == SK_NS_NET ? "net" : sk_ns_type_name(ns->type));
	struct stat a, b;
	if (stat(self, &a) < 0)
		return sk_error(err, errno, "stat \"%s\"", self);
	if (stat(ns->path, &b) < 0)
		return sk_error(err, errno, "stat %s namespace \"%s\"", sk_ns_type_name(ns->type), ns->path);
	*ours = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return 0;
}

int sk_sysctl_check(const struct sk_spec *spec, struct sk_err *err)
{
	const struct sk_linux *l = &spec->linux_;
	bool rootless = l->n_sysctl && sk_rootless_auto();
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *key = l->sysctl[i].key;
		if (!key_ok(key))
			return sk_error(err, 0, "config.json: linux.sysctl: \"%s\" is not a valid key "
				       "(dotted names only, without \"/\" or empty components)", key);
		int t = key_namespace(key);
		if (t < 0)
			return sk_error(err, 0, "config.json: linux.sysctl: \"%s\" is not namespaced, refusing to set it",
					key);
		/* /proc/sys gives net and ipc keys to the root of the user
		 * namespace owning those namespaces, uts and user ones to the
		 * host's root only. */
		if (rootless && (t == SK_NS_UTS || t == SK_NS_USER))
			return sk_error(err, 0, "config.json: linux.sysctl: \"%s\" can be set by the host's root only, "
				       "which a rootless caller is not", key);
		const struct sk_namespace *ns = sk_spec_namespace(spec, (enum sk_ns_type)t);
		bool ours = false;
		if (ns && ns_is_ours(ns, &ours, err) < 0)
			return sk_error_wrap(err, "config.json: linux.sysctl: \"%s\"", key);
		if (!ns || ours)
			return sk_error(err, 0, "config.json: linux.sysctl: \"%s\" needs the container to have its "
				       "own %s namespace, refusing to set it on the host", key,
				       sk_ns_type_name((enum sk_ns_type)t));
	}
	return 0;
}

int sk_sysctl_apply(const struct sk_spec *spec, struct sk_err *err)
{
	const struct sk_linux *l = &spec->linux_;
	if (!l->n_sysctl)
		return 0;
	int proc = sk_proc_open(err);
	if (proc < 0)
		return sk_error_wrap(err, "linux.sysctl");
	int r = 0;
	for (size_t i = 0; i < l->n_sysctl && r == 0; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "sys/%s", l->sysctl[i].key);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			r = sk_error(err, ENAMETOOLONG, "linux.sysctl: \"%s\"", l->sysctl[i].key);
			break;
		}
		for (char *c = path; *c; c++)
			if (*c == '.')
				*c = '/';
		const char *v = l->sysctl[i].value;
		if (sk_proc_write(proc, path, v, strlen(v), err) < 0)
			r = sk_error_wrap(err, "linux.sysctl: \"%s\" = \"%s\"", l->sysctl[i].key, v);
	}
	close(proc);
	return r;
}
