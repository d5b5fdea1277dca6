/* checkpoint: a container's process tree into CRIU images (checkpoint.h). */
#include "skiff/container/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/log.h"
#include "skiff/base/util.h"
#include "skiff/container/container.h"
#include "skiff/plan/inroot.h"
#include "skiff/spec/json_gen.h"
#include "skiff/spec/spec.h"

static bool is_bind(const struct sk_mount *m)
{
	if (m->type && !strcmp(m->type, "bind"))
		return true;
	for (size_t i = 0; i < m->n_options; i++)
		if (!strcmp(m->options[i], "bind") || !strcmp(m->options[i], "rbind"))
			return true;
	return false;
}

/* What restore must plug back in: binds, masked files (bound over from
 * /dev/null), devices, and namespaces given by path. */
static int add_externals(struct sk_criu *c, const struct sk_spec *spec, pid_t pid, struct sk_err *err)
{
	char path[PATH_MAX], key[64];
	for (size_t i = 0; i < spec->n_mounts; i++) {
		if (!is_bind(&spec->mounts[i]))
			continue;
		if (sk_path_clean(path, sizeof(path), spec->mounts[i].destination, err) < 0)
			return sk_error_wrap(err, "external mount %s", spec->mounts[i].destination);
		sk_criu_ext_mount(c, path, path);
	}
	const struct sk_linux *l = &spec->linux_;
	for (size_t i = 0; i < l->n_masked_paths; i++) {
		struct stat sb;
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, l->masked_paths[i]);
		if (lstat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
			sk_criu_ext_mount(c, l->masked_paths[i], "/dev/null");
	}
	for (size_t i = 0; i < l->n_devices; i++)
		sk_criu_ext_mount(c, l->devices[i].path, l->devices[i].path);
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct sk_namespace *ns = &l->namespaces[i];
		if (!ns->path || (ns->type != SK_NS_NET && ns->type != SK_NS_PID))
			continue;
		struct stat sb;
		if (stat(ns->path, &sb) < 0)
			return sk_error(err, errno, "namespace %s", ns->path);
		snprintf(key, sizeof(key), "%s[%llu]:%s", ns->type == SK_NS_NET ? "net" : "pid",
			 (unsigned long long)sb.st_ino, ns->type == SK_NS_NET ? "extRootNetNS" : "extRootPidNS");
		sk_criu_add_str(c, "external", key);
	}
	return 0;
}

/* runc's descriptors.json: what the init's fds 0-2 are ("pipe:[123]",
 * "/dev/null"), so that restore can hand it the caller's instead. */
static int write_descriptors(int img, pid_t pid, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return -1;
	sk_json_array_open(&j);
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		sk_json_str(&j, n < 0 ? "/dev/null" : target);
	}
	sk_json_array_close(&j);
	const char *buf;
	size_t len;
	int r = sk_json_buf(&j, &buf, &len, err);
	if (r == 0)
		r = sk_write_file_atomic_at(img, "descriptors.json", buf, len, 0600, err);
	sk_json_free(&j);
	return r;
}

/* The mark of a dump whose network namespace was left out (--empty-ns
 * network), for restore to leave it empty too (restore.h). */
static int mark_empty_net(int img, bool empty_net, struct sk_err *err)
{
	if (empty_net)
		return sk_write_file_atomic_at(img, SK_CRIU_EMPTY_NET_MARK, "network\n", 8, 0600, err);
	if (unlinkat(img, SK_CRIU_EMPTY_NET_MARK, 0) < 0 && errno != ENOENT)
		return sk_error(err, errno, "remove %s", SK_CRIU_EMPTY_NET_MARK);
	return 0;
}

static int parent_and_server(struct sk_criu *c, const struct sk_checkpoint_opts *o, int img, struct sk_err *err)
{
	if (o->parent_path) {
		struct stat sb;
		if (fstatat(img, o->parent_path, &sb, 0) < 0 || !S_ISDIR(sb.st_mode))
			return sk_error(err, errno ? errno : ENOTDIR, "--parent-path \"%s\": not a directory beside the images",
					o->parent_path);
		sk_criu_set_str(c, NULL, "parent_img", o->parent_path);
		sk_criu_set_bool(c, NULL, "track_mem", true);
	}
	if (o->page_server) {
		const char *colon = strrchr(o->page_server, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : -1;
		if (!colon || colon == o->page_server || *end || port <= 0 || port > 65535)
			return sk_error(err, 0, "invalid --page-server \"%s\": must be ADDRESS:PORT", o->page_server);
		char addr[256];
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - o->page_server), o->page_server);
		struct ProtobufCMessage *ps = sk_criu_msg(c, "ps");
		if (ps) {
			sk_criu_set_str(c, ps, "address", addr);
			sk_criu_set_int(c, ps, "port", port);
		}
	}
	bool has;
	if (o->pre_dump) {
		if (sk_criu_feature(c, "mem_track", &has, err) < 0)
			return -1;
		if (!has)
			return sk_error(err, 0, "--pre-dump: CRIU cannot track memory changes on this kernel (mem_track)");
		sk_criu_set_bool(c, NULL, "track_mem", true);
	}
	if (o->criu.lazy_pages) {
		if (sk_criu_feature(c, "lazy_pages", &has, err) < 0)
			return -1;
		if (!has)
			return sk_error(err, 0, "--lazy-pages: CRIU cannot restore memory lazily on this kernel "
						"(lazy_pages: userfaultfd with its non-cooperative events)");
	}
	return 0;
}

/* --status-fd (with --lazy-pages, as runc): CRIU's page server is ready. */
static int notify(void *arg, const char *script, int pid, int fd, struct sk_err *err)
{
	int *status_fd = arg;
	(void)pid, (void)fd, (void)err;
	if (strcmp(script, "status-ready") || *status_fd < 0)
		return 0;
	if (write(*status_fd, "", 1) != 1)
		sk_log(SK_LOG_WARN, "--status-fd %d: %s", *status_fd, sk_errno_name(errno));
	close(*status_fd);
	*status_fd = -1;
	return 0;
}

/* The directory CRIU freezes the tree through: the v1 freezer's, else the
 * cgroup2 one (the path recorded first). */
static const char *freezer_dir(const struct sk_state *st)
{
	for (size_t i = 0; i < st->n_cgroup_paths; i++)
		if (!strcmp(st->cgroup_paths[i].key, "freezer"))
			return st->cgroup_paths[i].value;
	return st->cgroup_path;
}

static int check_status_fd(const struct sk_checkpoint_opts *o, struct sk_err *err)
{
	int fd = o->criu.status_fd;
	if (fd < 0 || !o->criu.lazy_pages)
		return 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return sk_error(err, errno, "--status-fd %d", fd);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return sk_error(err, EBADF, "--status-fd %d: not writable", fd);
	return 0;
}

int sk_container_checkpoint(const struct sk_checkpoint_opts *o, struct sk_err *err)
{
	if (sk_criu_opts_check(&o->criu, err) < 0 || check_status_fd(o, err) < 0)
		return -1;
	if (o->parent_path && (!*o->parent_path || o->parent_path[0] == '/'))
		return sk_error(err, 0, "--parent-path \"%s\": must be relative to the image path", o->parent_path);
	struct sk_held h;
	if (sk_container_hold(o->root, o->id, true, &h, err) < 0)
		return -1;
	int r = -1, img = -1, work = -1, status_fd = o->criu.lazy_pages ? o->criu.status_fd : -1;
	struct sk_spec spec = { 0 };
	bool have_spec = false, have_criu = false, empty_net = o->criu.n_empty_ns > 0;
	char work_abs[PATH_MAX], *cfg = NULL;
	size_t cfg_len;
	struct sk_criu c;
	if (h.status != SK_STATUS_RUNNING && h.status != SK_STATUS_PAUSED) {
		sk_error(err, 0, "container \"%s\" cannot be checkpointed in %s state", o->id, sk_status_name(h.status));
		goto out;
	}
	if (sk_read_file_at(h.dir_fd, "config.json", "config.json", 64u << 20, &cfg, &cfg_len, err) < 0 ||
	    sk_spec_parse("config.json", cfg, cfg_len, &spec, err) < 0)
		goto out;
	have_spec = true;
	if (sk_criu_load(&o->criu, &c, err) < 0)
		goto out;
	have_criu = true;
	if (sk_criu_dirs(&o->criu, true, &img, &work, work_abs, sizeof(work_abs), err) < 0)
		goto out;
	sk_criu_apply(&c, &o->criu, img, work, "dump.log", empty_net);
	sk_criu_set_int(&c, NULL, "pid", h.st.pid);
	sk_criu_set_bool(&c, NULL, "leave_running", o->leave_running || o->pre_dump);
	const char *fz = freezer_dir(&h.st);
	if (h.st.rootfs)
		sk_criu_set_str(&c, NULL, "root", h.st.rootfs);
	if (fz)
		sk_criu_set_str(&c, NULL, "freeze_cgroup", fz);
	if (parent_and_server(&c, o, img, err) < 0)
		goto out;
	if (!o->pre_dump && (add_externals(&c, &spec, h.st.pid, err) < 0 || write_descriptors(img, h.st.pid, err) < 0 ||
			     mark_empty_net(img, empty_net, err) < 0))
		goto out;
	const struct sk_criu_req_ctx x = { .what = o->pre_dump ? "criu pre-dump" : "criu dump", .log = "dump.log",
					   .work_abs = work_abs, .work = work, .notify = notify, .arg = &status_fd };
	if (sk_criu_request(&c, o->pre_dump ? SK_CRIU_PRE_DUMP : SK_CRIU_DUMP, &x, NULL, err) < 0)
		goto out;
	r = 0;
out:
	free(cfg);
	if (have_spec)
		sk_spec_free(&spec);
	if (have_criu)
		sk_criu_close(&c);
	if (img >= 0)
		close(img);
	if (work >= 0)
		close(work);
	sk_container_release(&h);
	/* CRIU killed the tree: the container goes, as with runc. */
	if (r == 0 && !o->leave_running && !o->pre_dump)
		r = sk_container_delete(o->root, o->id, true, err);
	return r;
}
