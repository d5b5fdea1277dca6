/* Task.Checkpoint's runtime command (ckpt.h). */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/runc_options.pb-c.h"
#include "rtcmd.h"
#include "rtopts.h"
#include "skiff/base/util.h"
#include "ttrpc.h"

#define CKPT_OPTIONS_TYPE "containerd.runc.v1.CheckpointOptions"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* The default work directory and what CRIU left in it. */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Copy the regular file from to a new file to (0600, replaced). */
static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0)
		return -1;
	struct stat st;
	int out = -1, rc = -1;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		goto done;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		goto done;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (sk_write_all(out, buf, (size_t)n) < 0)
			goto done;
	rc = n < 0 ? -1 : 0;
done:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/* A value the runtime takes after a flag: never one that reads as a flag. */
static bool plain_value(const char *v)
{
	return v && *v && *v != '-' && strlen(v) < PATH_MAX;
}

static int check_options(const Containerd__Runc__V1__CheckpointOptions *o, struct sk_err *err)
{
	static const char *const modes[] = { "soft", "full", "strict", "ignore" };
	if (*o->cgroups_mode) {
		size_t i = 0;
		while (i < 4 && strcmp(o->cgroups_mode, modes[i]))
			i++;
		if (i == 4)
			return sk_error(err, EINVAL, "cgroups_mode \"%s\": not soft, full, strict or ignore", o->cgroups_mode);
	}
	if (o->n_empty_namespaces > CTRD_CKPT_EMPTY_NS_MAX)
		return sk_error(err, EINVAL, "empty_namespaces: more than %d", CTRD_CKPT_EMPTY_NS_MAX);
	for (size_t i = 0; i < o->n_empty_namespaces; i++)
		if (!plain_value(o->empty_namespaces[i]))
			return sk_error(err, EINVAL, "empty_namespaces: \"%s\"", o->empty_namespaces[i]);
	if (*o->work_path && (o->work_path[0] != '/' || strlen(o->work_path) >= PATH_MAX - 32))
		return sk_error(err, EINVAL, "work_path \"%s\": not an absolute path", o->work_path);
	if (*o->parent_path && !plain_value(o->parent_path))
		return sk_error(err, EINVAL, "parent_path \"%s\"", o->parent_path);
	return 0;
}

int ctrd_checkpoint(struct ctrd_task *t, const Containerd__Task__V2__CheckpointTaskRequest *r, int *code,
		    struct sk_err *err)
{
	*code = TTRPC_INVALID_ARGUMENT;
	if (!r->path || r->path[0] != '/' || strlen(r->path) >= PATH_MAX)
		return sk_error(err, EINVAL, "the image path \"%s\": not an absolute path", r->path ? r->path : "");
	Containerd__Runc__V1__CheckpointOptions *o = NULL;
	const Google__Protobuf__Any *any = r->options;
	if (any && any->type_url && *any->type_url) {
		if (!ctrd_any_is(any, CKPT_OPTIONS_TYPE))
			return sk_error(err, EINVAL, "options of type %s: not %s", any->type_url, CKPT_OPTIONS_TYPE);
		o = containerd__runc__v1__checkpoint_options__unpack(NULL, any->value.len, any->value.data);
		if (!o)
			return sk_error(err, EINVAL, "malformed %s", CKPT_OPTIONS_TYPE);
		if (check_options(o, err) < 0) {
			containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
			return -1;
		}
	}
	*code = TTRPC_UNKNOWN;
	char work[PATH_MAX];
	bool own_work = !o || !*o->work_path;
	if (snprintf(work, sizeof(work), "%s%s", own_work ? t->bundle : o->work_path,
		     own_work ? "/work/criu-work" : "") >= (int)sizeof(work)) {
		if (o)
			containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
		return sk_error(err, ENAMETOOLONG, "the work path");
	}
	const char *global[] = { "--criu", t->criu_path, NULL };
	const char *args[32];
	size_t n = 0;
	args[n++] = "checkpoint";
	args[n++] = "--image-path";
	args[n++] = r->path;
	args[n++] = "--work-path";
	args[n++] = work;
	if (o && *o->parent_path) {
		args[n++] = "--parent-path";
		args[n++] = o->parent_path;
	}
	if (!o || !o->exit)
		args[n++] = "--leave-running";
	if (o) {
		const struct { bool on; const char *flag; } flags[] = {
			{ o->open_tcp, "--tcp-established" }, { o->external_unix_sockets, "--ext-unix-sk" },
			{ o->terminal, "--shell-job" }, { o->file_locks, "--file-locks" },
		};
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (flags[i].on)
				args[n++] = flags[i].flag;
		if (*o->cgroups_mode) {
			args[n++] = "--manage-cgroups-mode";
			args[n++] = o->cgroups_mode;
		}
		for (size_t i = 0; i < o->n_empty_namespaces; i++) {
			args[n++] = "--empty-ns";
			args[n++] = o->empty_namespaces[i];
		}
	}
	args[n++] = t->id;
	args[n] = NULL;
	char out[4096];
	int rc = ctrd_rtcmd_bounded(&t->rt, t->criu_path ? global : NULL, args, out, sizeof(out), RTCMD_CRIU_TIMEOUT_MS,
				    err);
	if (rc < 0) {
		/* CRIU's own account, where the runc shim leaves it. */
		char log[PATH_MAX + 16], kept[PATH_MAX];
		snprintf(log, sizeof(log), "%s/dump.log", work);
		snprintf(kept, sizeof(kept), "%s/criu-dump.log", t->bundle);
		if (copy_file(log, kept) == 0) {
			char msg[SK_ERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			sk_error(err, 0, "%.300s path= %.200s", msg, kept);
		}
	}
	if (own_work)
		remove_tree(work);
	if (o)
		containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
	return rc;
}
