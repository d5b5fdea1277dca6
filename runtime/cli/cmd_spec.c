/* skiff spec: write runc's default config.json (libcontainer/specconv's
 * example) into a bundle, with skiff's ociVersion and hostname, and a cgroup
 * namespace on a cgroup v2 host only (/sys/fs/cgroup is cgroup2), as runc.
 * --rootless applies runc's ToRootless: a user namespace mapping the
 * caller's euid/egid to 0, no network namespace, /sys as a read-only rbind of
 * the host's, no uid=/gid= mount options, no resources. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli.h"
#include "skiff/base/features.h"
#include "skiff/spec/json_gen.h"
#include "skiff/base/util.h"

struct mount_def {
	const char *destination, *type, *source;
	const char *options[8];   /* NULL-terminated */
};

static const struct mount_def mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

static const struct mount_def rootless_sys = {
	"/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL }
};

static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL
};

static void gen_mount(struct sk_json *j, const struct mount_def *m, bool rootless)
{
	sk_json_map_open(j);
	sk_json_kstr(j, "destination", m->destination);
	sk_json_kstr(j, "type", m->type);
	sk_json_kstr(j, "source", m->source);
	if (m->options[0]) {
		sk_json_str(j, "options");
		sk_json_array_open(j);
		for (const char *const *o = m->options; *o; o++) {
			if (rootless && (strncmp(*o, "uid=", 4) == 0 || strncmp(*o, "gid=", 4) == 0))
				continue;
			sk_json_str(j, *o);
		}
		sk_json_array_close(j);
	}
	sk_json_map_close(j);
}

static void gen_idmap(struct sk_json *j, const char *key, unsigned id)
{
	sk_json_str(j, key);
	sk_json_array_open(j);
	sk_json_map_open(j);
	sk_json_kint(j, "containerID", 0);
	sk_json_kuint(j, "hostID", id);
	sk_json_kint(j, "size", 1);
	sk_json_map_close(j);
	sk_json_array_close(j);
}

static void gen_spec(struct sk_json *j, bool rootless)
{
	sk_json_map_open(j);
	sk_json_kstr(j, "ociVersion", SK_OCI_VERSION);

	sk_json_str(j, "process");
	sk_json_map_open(j);
	sk_json_kbool(j, "terminal", true);
	sk_json_str(j, "user");
	sk_json_map_open(j);
	sk_json_kint(j, "uid", 0);
	sk_json_kint(j, "gid", 0);
	sk_json_map_close(j);
	sk_json_str(j, "args");
	sk_json_strv(j, (const char *const[]){ "sh" }, 1);
	sk_json_str(j, "env");
	sk_json_strv(j, (const char *const[]){ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
					       "TERM=xterm" }, 2);
	sk_json_kstr(j, "cwd", "/");
	sk_json_str(j, "capabilities");
	sk_json_map_open(j);
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < 3; i++) {
		sk_json_str(j, sets[i]);
		sk_json_strv(j, caps, SIZE_MAX);
	}
	sk_json_map_close(j);
	sk_json_str(j, "rlimits");
	sk_json_array_open(j);
	sk_json_map_open(j);
	sk_json_kstr(j, "type", "RLIMIT_NOFILE");
	sk_json_kint(j, "hard", 1024);
	sk_json_kint(j, "soft", 1024);
	sk_json_map_close(j);
	sk_json_array_close(j);
	sk_json_kbool(j, "noNewPrivileges", true);
	sk_json_map_close(j);

	sk_json_str(j, "root");
	sk_json_map_open(j);
	sk_json_kstr(j, "path", "rootfs");
	sk_json_kbool(j, "readonly", true);
	sk_json_map_close(j);
	sk_json_kstr(j, "hostname", "skiff");

	sk_json_str(j, "mounts");
	sk_json_array_open(j);
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mount_def *m = &mounts[i];
		if (rootless && strcmp(m->destination, "/sys") == 0)
			m = &rootless_sys;
		gen_mount(j, m, rootless);
	}
	sk_json_array_close(j);

	sk_json_str(j, "linux");
	sk_json_map_open(j);
	if (rootless) {
		gen_idmap(j, "uidMappings", geteuid());
		gen_idmap(j, "gidMappings", getegid());
	} else {
		sk_json_str(j, "resources");
		sk_json_map_open(j);
		sk_json_str(j, "devices");
		sk_json_array_open(j);
		sk_json_map_open(j);
		sk_json_kbool(j, "allow", false);
		sk_json_kstr(j, "access", "rwm");
		sk_json_map_close(j);
		sk_json_array_close(j);
		sk_json_map_close(j);
	}
	sk_json_str(j, "namespaces");
	sk_json_array_open(j);
	static const char *const nss[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
		if (rootless && strcmp(nss[i], "network") == 0)
			continue;
		/* runc's IsCgroup2UnifiedMode: a hybrid or v1 host gets none. */
		struct statfs sf;
		if (!strcmp(nss[i], "cgroup") &&
		    (statfs("/sys/fs/cgroup", &sf) < 0 || (unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC))
			continue;
		sk_json_map_open(j);
		sk_json_kstr(j, "type", nss[i]);
		sk_json_map_close(j);
	}
	if (rootless) {
		sk_json_map_open(j);
		sk_json_kstr(j, "type", "user");
		sk_json_map_close(j);
	}
	sk_json_array_close(j);
	sk_json_str(j, "maskedPaths");
	sk_json_strv(j, masked_paths, SIZE_MAX);
	sk_json_str(j, "readonlyPaths");
	sk_json_strv(j, readonly_paths, SIZE_MAX);
	sk_json_map_close(j);

	sk_json_map_close(j);
}

int cmd_spec(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *bundle = ".";
	bool rootless = false;
	struct sk_opt opts[] = {
		{ "bundle", 'b', SK_OPT_STRING, &bundle, "DIR", "bundle directory to write config.json into (default: .)" },
		{ "rootless", 0, SK_OPT_BOOL, &rootless, NULL, "write a spec for a container run by an unprivileged user" },
		{ 0 }
	};
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;

	int dir = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		sk_error(err, errno, "open bundle \"%s\"", bundle);
		return SK_EXIT_ERROR;
	}
	struct sk_json j;
	if (sk_json_init(&j, "\t", err) < 0) {
		close(dir);
		return SK_EXIT_ERROR;
	}
	gen_spec(&j, rootless);
	const char *buf;
	size_t len;
	rc = SK_EXIT_ERROR;
	if (sk_json_buf(&j, &buf, &len, err) < 0)
		goto out;
	/* O_EXCL refuses an existing file without a check-then-create race. */
	int fd = openat(dir, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0) {
		if (errno == EEXIST)
			sk_error(err, 0, "File config.json exists. Remove it first");
		else
			sk_error(err, errno, "create %s/config.json", bundle);
		goto out;
	}
	int wr = sk_write_all(fd, buf, len);
	if (wr < 0)
		sk_error(err, errno, "write %s/config.json", bundle);
	if (close(fd) < 0 && wr == 0)
		wr = sk_error(err, errno, "close %s/config.json", bundle);
	if (wr < 0) {
		unlinkat(dir, "config.json", 0);
		goto out;
	}
	rc = SK_EXIT_OK;
out:
	sk_json_free(&j);
	close(dir);
	return rc;
}
