/* criu: libcriu through dlopen, and what checkpoint and restore share
 * (see criu.h). */
#include "skiff/container/criu.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/util.h"

#define LIBCRIU_SONAME "libcriu.so.2"

int sk_criu_opts_check(const struct sk_criu_opts *o, struct sk_err *err)
{
	const char *m = o->manage_cgroups_mode;
	if (m && strcmp(m, "soft") && strcmp(m, "full") && strcmp(m, "strict") && strcmp(m, "ignore"))
		return sk_error(err, 0, "invalid --manage-cgroups-mode \"%s\": must be soft, full, strict or ignore", m);
	for (size_t i = 0; i < o->n_empty_ns; i++)
		if (strcmp(o->empty_ns[i], "network"))
			return sk_error(err, 0, "invalid --empty-ns \"%s\": only network is supported", o->empty_ns[i]);
	/* libcriu 3.17 has no setter for these; runc reaches them through
	 * CRIU's RPC (docs/checkpoint.md). */
	if (o->lazy_pages)
		return sk_error(err, 0, "--lazy-pages: not supported (libcriu cannot request lazy pages)");
	if (o->status_fd >= 0)
		return sk_error(err, 0, "--status-fd: not supported (it only serves --lazy-pages)");
	if (!o->image_path || !*o->image_path)
		return sk_error(err, 0, "--image-path must not be empty");
	if (o->work_path && !*o->work_path)
		return sk_error(err, 0, "--work-path must not be empty");
	return 0;
}

int sk_criu_load(const struct sk_criu_opts *o, struct sk_criu *c, struct sk_err *err)
{
	struct stat sb;
	if (o->criu && (stat(o->criu, &sb) < 0 || !S_ISREG(sb.st_mode) || access(o->criu, X_OK) < 0))
		return sk_error(err, errno ? errno : EACCES, "--criu \"%s\": not an executable file", o->criu);
	void *lib = dlopen(LIBCRIU_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return sk_error(err, 0, "load %s (install CRIU: Debian's criu package): %s", LIBCRIU_SONAME, dlerror());
#define SK_CRIU_RESOLVE(ret, name, params) \
	if (!(*(void **)&c->name = dlsym(lib, "criu_" #name))) \
		return sk_error(err, 0, "%s: no criu_%s: CRIU too old", LIBCRIU_SONAME, #name);
	SK_CRIU_FUNCS(SK_CRIU_RESOLVE)
#undef SK_CRIU_RESOLVE
	if (c->init_opts() < 0)
		return sk_error(err, ENOMEM, "libcriu: init options");
	if (c->set_service_binary(o->criu ? o->criu : "criu") < 0)
		return sk_error(err, ENOMEM, "libcriu: service binary");
	int v = c->get_version();
	if (v < 0)
		return sk_error(err, 0, "cannot run %s swrk (criu %d): is CRIU installed and are we root?",
				o->criu ? o->criu : "criu", v);
	if (v < SK_CRIU_MIN_VERSION)
		return sk_error(err, 0, "CRIU %d.%d.%d is too old: %d.%d or later is needed", v / 10000, v / 100 % 100,
				v % 100, SK_CRIU_MIN_VERSION / 10000, SK_CRIU_MIN_VERSION / 100 % 100);
	return 0;
}

static int open_dir(const char *path, bool create, struct sk_err *err)
{
	if (create && sk_mkdir_p(path, 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	return fd;
}

int sk_criu_dirs(const struct sk_criu_opts *o, bool create, int *img, int *work, char *work_abs, size_t cap,
		 struct sk_err *err)
{
	*img = *work = -1;
	*img = open_dir(o->image_path, create, err);
	if (*img < 0)
		return -1;
	const char *w = o->work_path ? o->work_path : o->image_path;
	*work = o->work_path ? open_dir(w, true, err) : fcntl(*img, F_DUPFD_CLOEXEC, 3);
	char buf[PATH_MAX];
	if (*work < 0 || !realpath(w, buf)) {
		if (*work >= 0)
			sk_error(err, errno, "realpath \"%s\"", w);
		close(*img);
		if (*work >= 0)
			close(*work);
		*img = *work = -1;
		return -1;
	}
	snprintf(work_abs, cap, "%s", buf);
	return 0;
}

void sk_criu_apply(const struct sk_criu *c, const struct sk_criu_opts *o, int img, int work, const char *log)
{
	c->set_images_dir_fd(img);
	c->set_work_dir_fd(work);
	c->set_log_file(log);
	c->set_log_level(4);
	c->set_tcp_established(o->tcp_established);
	c->set_ext_unix_sk(o->ext_unix_sk);
	c->set_shell_job(o->shell_job);
	c->set_file_locks(o->file_locks);
	c->set_auto_dedup(o->auto_dedup);
	c->set_orphan_pts_master(true);
	c->set_manage_cgroups(true);
	const char *m = o->manage_cgroups_mode;
	if (m)
		c->set_manage_cgroups_mode(!strcmp(m, "soft") ? SK_CRIU_CG_SOFT : !strcmp(m, "full") ? SK_CRIU_CG_FULL :
					   !strcmp(m, "strict") ? SK_CRIU_CG_STRICT : SK_CRIU_CG_IGNORE);
}

int sk_criu_failed(int rc, const char *what, int work, const char *work_abs, const char *log, struct sk_err *err)
{
	/* The first "Error" line of the log says why, most of the time (the
	 * last one is CRIU's "Dumping FAILED."). */
	char *buf = NULL, last[256] = "";
	size_t len = 0;
	struct sk_err ignored;
	if (sk_read_file_at(work, log, log, 16u << 20, &buf, &len, &ignored) == 0) {
		for (char *line = buf, *nl; line < buf + len; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(buf + len - line));
			if (!nl)
				nl = buf + len;
			char *e = memmem(line, (size_t)(nl - line), "Error", 5);
			if (e && !last[0])
				snprintf(last, sizeof(last), "%.*s", (int)(nl - e), e);
		}
		free(buf);
	}
	return sk_error(err, 0, "%s failed (criu %d)%s%s; log: %s/%s", what, rc, last[0] ? ": " : "", last, work_abs,
			log);
}
